"""The background-task contract of the Qt-free models: progress, inline and deferred runners."""

from __future__ import annotations

from typing import Any

import pytest
from numpy.testing import assert_allclose

from energyopt.appstate.tasks import (
    DeferredRunner,
    TaskCallbacks,
    TaskProgress,
    estimate_remaining_s,
    make_progress,
    run_inline,
    single_call,
)
from energyopt.errors import DataError
from energyopt.progress import CancelToken, ProgressCallback


class Outcomes:
    """Records what a runner delivers, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def callbacks(self, *, cancelled: bool = True) -> TaskCallbacks:
        return TaskCallbacks(
            on_result=lambda value: self.events.append(("result", value)),
            on_error=lambda exc: self.events.append(("error", exc)),
            on_progress=lambda info: self.events.append(("progress", info)),
            on_cancelled=(lambda: self.events.append(("cancelled", None))) if cancelled else None,
        )


def two_steps(*, progress: ProgressCallback, cancel: CancelToken) -> str:
    progress(1, 2, "first half")
    cancel.raise_if_cancelled()
    progress(2, 2, "done")
    return "value"


def test_progress_fraction():
    assert TaskProgress(3, None, "").fraction is None
    assert TaskProgress(3, 0, "").fraction is None
    # 3 of 4 steps; binary fractions are exact.
    assert_allclose(TaskProgress(3, 4, "").fraction, 0.75, rtol=0)
    assert TaskProgress(5, 4, "").fraction == 1.0
    assert TaskProgress(-1, 4, "").fraction == 0.0


def test_remaining_time_extrapolates_the_mean_rate():
    # Half done in 10 s: 10 s left (exact arithmetic in binary floating point).
    assert_allclose(estimate_remaining_s(50, 100, 10.0), 10.0, rtol=0)
    assert estimate_remaining_s(0, 100, 1.0) is None
    assert estimate_remaining_s(5, None, 1.0) is None
    assert estimate_remaining_s(120, 100, 1.0) == 0.0
    info = make_progress(1, 4, "a quarter", 2.0)
    # A quarter in 2 s: three quarters take 6 s (exact).
    assert_allclose(info.remaining_s, 6.0, rtol=0)
    assert (info.done, info.total, info.message, info.elapsed_s) == (1.0, 4.0, "a quarter", 2.0)
    assert make_progress(1, None, "", 2.0).total is None


def test_run_inline_delivers_progress_then_the_result_before_returning():
    seen = Outcomes()
    handle = run_inline(two_steps, seen.callbacks())
    kinds = [kind for kind, _ in seen.events]
    assert kinds == ["progress", "progress", "result"]
    assert seen.events[0][1].message == "first half"
    assert seen.events[1][1].fraction == 1.0
    assert seen.events[-1] == ("result", "value")
    assert not handle.cancelled


@pytest.mark.parametrize("with_handler", [True, False])
def test_a_cancelled_task_is_reported_only_to_on_cancelled(with_handler):
    def cancelled_at_once(*, progress: ProgressCallback, cancel: CancelToken) -> None:
        cancel.cancel()
        two_steps(progress=progress, cancel=cancel)

    seen = Outcomes()
    run_inline(cancelled_at_once, seen.callbacks(cancelled=with_handler))
    outcomes = [kind for kind, _ in seen.events if kind != "progress"]
    assert outcomes == (["cancelled"] if with_handler else [])


def test_a_failure_goes_to_on_error_and_progress_is_optional():
    def broken(*, progress: ProgressCallback, cancel: CancelToken) -> None:
        progress(0, 1, "reading")
        raise DataError("history.h5: no such tag 'X'")

    errors: list[BaseException] = []
    run_inline(broken, TaskCallbacks(on_result=pytest.fail, on_error=errors.append))
    assert len(errors) == 1
    assert isinstance(errors[0], DataError)
    assert "no such tag 'X'" in str(errors[0])


def test_the_deferred_runner_runs_only_when_told_and_the_handle_cancels():
    runner = DeferredRunner()
    first, second = Outcomes(), Outcomes()
    a = runner(two_steps, first.callbacks(), name="first")
    b = runner(two_steps, second.callbacks(), name="second")
    assert first.events == []
    assert second.events == []
    assert [task.name for task in runner.pending] == ["first", "second"]
    b.cancel()
    assert runner.run_next(1) is b  # meets its cancelled token after one report
    assert [kind for kind, _ in second.events] == ["progress", "cancelled"]
    runner.run_all()
    assert first.events[-1] == ("result", "value")
    assert runner.pending == []
    assert runner.started == [a, b]
    with pytest.raises(IndexError):
        runner.run_next()


def test_tasks_started_by_a_deferred_task_run_in_the_same_run_all():
    runner = DeferredRunner()
    results: list[Any] = []

    def chain(value: Any) -> None:
        results.append(value)
        if len(results) < 3:
            runner(two_steps, TaskCallbacks(on_result=chain, on_error=pytest.fail))

    runner(two_steps, TaskCallbacks(on_result=chain, on_error=pytest.fail))
    runner.run_all()
    assert results == ["value"] * 3


def test_a_single_call_ignores_progress_and_cancel():
    calls: list[int] = []
    results: list[Any] = []
    task = single_call(lambda: calls.append(1) or "done")
    handle = DeferredRunner()
    pending = handle(task, TaskCallbacks(on_result=results.append, on_error=pytest.fail))
    pending.cancel()  # not a point it stops at: the call runs and delivers
    handle.run_all()
    assert calls == [1]
    assert results == ["done"]
