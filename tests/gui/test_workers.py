"""Workers: progress, outcome signals, cancel, shutdown, and an event loop that never stalls."""

from __future__ import annotations

import functools
import threading
import time

import pytest

from energyopt.appstate.tasks import TaskCallbacks, TaskProgress
from energyopt.data.reader import HistorianReader
from energyopt.errors import CancelledError, DataError
from gui.progress_panel import ProgressPanel, format_remaining
from gui.workers import ProgressInfo, Worker, WorkerManager, running_threads, worker_task_runner

pytestmark = pytest.mark.gui


def count_to(n, *, progress, cancel, pause_s=0.0):
    """Report n steps of progress; stop on cancel."""
    for i in range(1, n + 1):
        cancel.raise_if_cancelled()
        if pause_s:
            time.sleep(pause_s)
        progress(i, n, f"step {i}")
    return n * 10


def wait_for_cancel(started: threading.Event, *, progress, cancel):
    """Run until cancelled (checking every 5 ms)."""
    started.set()
    progress(0, None, "waiting")
    while True:
        cancel.raise_if_cancelled()
        time.sleep(0.005)


def resample_history(path, repeats, *, progress, cancel):
    """CPU-heavy energyopt work: aggregate every tag onto a 1-min grid, several times."""
    total = 0
    for i in range(repeats):
        with HistorianReader(path) as reader:
            series = reader.read_resampled(None, None, None, "1 min", chunk_rows=1 << 12)
        total += len(series.time_ms)
        cancel.raise_if_cancelled()
        progress(i + 1, repeats, "resampling")
    return total


def test_time_left_text():
    assert ProgressInfo is TaskProgress  # the workers report the models' progress record
    assert format_remaining(42.4) == "42 s"
    assert format_remaining(185) == "3 min 5 s"
    assert format_remaining(3720) == "1 h 02 min"


def test_progress_then_result(qtbot):
    manager = WorkerManager()
    reports: list[ProgressInfo] = []
    worker = Worker(count_to, 50, name="count", min_interval_s=0.0, pause_s=0.001)
    worker.progressed.connect(reports.append)
    results: list[object] = []
    worker.finished.connect(results.append)
    manager.add(worker)
    with qtbot.waitSignals([worker.finished, worker.done], order="strict"):
        worker.start()
    assert results == [500]
    assert worker.state == "finished"
    assert not running_threads()
    assert manager.active == []
    assert reports[-1].done == reports[-1].total == 50
    assert reports[-1].message == "step 50"
    assert [r.done for r in reports] == sorted(r.done for r in reports)
    with pytest.raises(RuntimeError, match="already started"):
        worker.start()


def test_progress_is_throttled(qtbot):
    reports: list[ProgressInfo] = []
    worker = Worker(count_to, 20_000, min_interval_s=0.05)
    worker.progressed.connect(reports.append)
    with qtbot.waitSignal(worker.done, timeout=10_000):
        worker.start()
    # 20,000 reports in well under a second: a handful of signals, the last always.
    assert 1 <= len(reports) < 50
    assert reports[-1].done == 20_000


def test_failure_is_reported_not_raised(qtbot):
    def broken(*, progress, cancel):
        raise DataError("history.h5: tag 'X' not found")

    worker = Worker(broken)
    with qtbot.waitSignal(worker.failed) as blocker:
        worker.start()
    assert isinstance(blocker.args[0], DataError)
    assert "tag 'X'" in str(blocker.args[0])
    assert worker.state == "failed"


def test_cancel_through_the_progress_panel(qtbot):
    manager = WorkerManager()
    panel = ProgressPanel(manager)
    qtbot.addWidget(panel)
    started = threading.Event()
    worker = manager.start(wait_for_cancel, started, name="forever")
    assert panel.isVisibleTo(None) or not panel.isHidden()
    qtbot.waitUntil(started.is_set)
    qtbot.waitUntil(lambda: "waiting" in panel.label.text())
    assert "forever" in panel.label.text()
    assert panel.bar.maximum() == 0  # unknown total: busy indicator
    with qtbot.waitSignal(worker.cancelled):
        panel.cancel_button.click()
    assert worker.state == "cancelled"
    assert panel.isHidden()
    assert manager.active == []


def test_panel_shows_fraction_and_time_left(qtbot):
    manager = WorkerManager()
    panel = ProgressPanel(manager)
    qtbot.addWidget(panel)
    gate = threading.Event()

    def half_then_wait(*, progress, cancel):
        progress(1, 2, "first half")
        gate.wait(5.0)
        cancel.raise_if_cancelled()
        return "done"

    worker = manager.start(half_then_wait, name="halves")
    qtbot.waitUntil(lambda: panel.bar.value() == 500)
    assert "left" in panel.label.text()
    assert "first half" in panel.label.text()
    with qtbot.waitSignal(worker.finished):
        gate.set()


def test_shutdown_cancels_and_joins_every_thread(qtbot):
    manager = WorkerManager()
    events = [threading.Event() for _ in range(3)]
    workers = [manager.start(wait_for_cancel, e, name=f"w{i}") for i, e in enumerate(events)]
    qtbot.waitUntil(lambda: all(e.is_set() for e in events))
    assert len(running_threads()) == 3
    t0 = time.perf_counter()
    assert manager.shutdown(timeout_ms=5_000)
    # Each thread polls its token every 5 ms: joined in far less than the timeout.
    assert time.perf_counter() - t0 < 2.0
    assert running_threads() == []
    qtbot.waitUntil(lambda: all(w.state == "cancelled" for w in workers))


def test_a_function_without_progress_arguments(qtbot):
    worker = Worker(sum, [1, 2, 3], pass_progress=False)
    with qtbot.waitSignal(worker.finished) as blocker:
        worker.start()
    assert blocker.args == [6]


def test_cancelled_error_from_the_function_is_a_cancel(qtbot):
    def refuse(*, progress, cancel):
        raise CancelledError("operation cancelled by the user")

    worker = Worker(refuse)
    with qtbot.waitSignal(worker.cancelled):
        worker.start()


def test_the_task_runner_delivers_progress_and_result_on_the_gui_thread(qtbot):
    manager = WorkerManager()
    run = worker_task_runner(manager, "default name")
    reports: list[TaskProgress] = []
    results: list[object] = []
    threads: set[int] = set()

    def on_progress(info: TaskProgress) -> None:
        threads.add(threading.get_ident())
        reports.append(info)

    errors: list[BaseException] = []
    three = functools.partial(count_to, 3)
    callbacks = TaskCallbacks(results.append, errors.append, on_progress)
    handle = run(three, callbacks)
    assert isinstance(handle, Worker)
    assert handle.name == "default name"
    qtbot.waitUntil(lambda: results == [30])
    assert threads == {threading.get_ident()}
    assert reports[-1].fraction == 1.0  # the final report is never throttled away
    assert reports[-1].elapsed_s is not None
    named = run(three, TaskCallbacks(results.append, errors.append), name="own name")
    assert named.name == "own name"
    qtbot.waitUntil(lambda: not manager.active)
    assert results == [30, 30]
    assert errors == []


@pytest.mark.parametrize("with_handler", [True, False])
def test_a_cancelled_task_reaches_only_on_cancelled(qtbot, with_handler):
    manager = WorkerManager()
    started = threading.Event()
    outcomes: list[str] = []

    def task(*, progress, cancel):
        return wait_for_cancel(started, progress=progress, cancel=cancel)

    callbacks = TaskCallbacks(
        on_result=lambda _v: outcomes.append("result"),
        on_error=lambda _e: outcomes.append("error"),
        on_cancelled=(lambda: outcomes.append("cancelled")) if with_handler else None,
    )
    handle = worker_task_runner(manager)(task, callbacks)
    qtbot.waitUntil(started.is_set)
    handle.cancel()
    qtbot.waitUntil(lambda: not manager.active)
    assert outcomes == (["cancelled"] if with_handler else [])


def test_event_loop_never_stalls_while_a_worker_resamples(qtbot, demo_files, stall_recorder):
    _, history = demo_files
    # Warm-up run (not measured): the first call in a process imports modules
    # and builds pint's unit cache in the worker, which holds the import lock
    # and the GIL for up to ~100 ms (measured). That is start-up cost, not the
    # steady state the 50 ms rule is about.
    warm = Worker(resample_history, history, 1)
    with qtbot.waitSignal(warm.done, timeout=30_000):
        warm.start()
    worker = Worker(resample_history, history, 10, name="resample")
    errors: list[BaseException] = []
    worker.failed.connect(errors.append)
    with stall_recorder() as recorder, qtbot.waitSignal(worker.done, timeout=30_000):
        worker.start()
    assert errors == []
    assert worker.state == "finished"
    # The GUI thread kept ticking while the worker ran (about a second of
    # reading and aggregating); the design limit is 50 ms.
    print(f"max event-loop gap {recorder.max_gap_ms:.1f} ms over {recorder.n_ticks} ticks")
    assert recorder.n_ticks > 10
    # This process's own part of each gap (StallRecorder.busy_gaps_ms; the wall gap also
    # holds the time other jobs on the machine had the CPU).
    busy = recorder.max_busy_gap_ms
    assert busy < 50.0, f"event loop busy {busy:.1f} ms (wall {recorder.max_gap_ms:.1f} ms)"
