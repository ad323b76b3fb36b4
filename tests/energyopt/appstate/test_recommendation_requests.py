"""The requests behind the recommendations model: cancelled when superseded, sources closed.

A superseded request (new source, mode OFF, model closed) has its task
cancelled, so a source that can stop waiting (the advisor process) does; an
opening that is no longer wanted is cancelled, and a source it still
delivers is closed rather than adopted.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from controllers.advisor.settings import AdvisorMode
from energyopt.appstate.advice import (
    CancellableSource,
    ProcessSource,
    RecommendationSource,
    RecommendationView,
    open_advisor_process,
    view_from_dict,
)
from energyopt.appstate.recommendation_requests import (
    RecommendationRequests,
    RequestEvents,
    fetch_view,
)
from energyopt.appstate.recommendations import RecommendationsModel
from energyopt.appstate.tasks import DeferredRunner, run_inline
from energyopt.errors import CancelledError, ProjectError
from energyopt.progress import CancelToken

T_MS = 1_700_001_000_000
"""On the 15-min grid. [ms since epoch]"""
RECORD = {
    "mode": "advise",
    "mvs": [{"mv": "b1", "tag": "B1.SP", "unit": "t/h", "current": 100.0, "recommended": 104.0}],
    "expected_saving": 12.5,
    "currency": "CNY",
}
"""A ``recommendation_to_dict``-like record."""


class WaitingSource:
    """A source that stops waiting once its token is set, as the advisor process does."""

    interval_s = 900.0

    def __init__(self) -> None:
        self.tokens: list[CancelToken] = []
        self.closed = False

    def decision_times(self, start_ms: int, end_ms: int) -> np.ndarray:
        step = round(self.interval_s * 1000)
        return np.arange(-(-start_ms // step) * step, end_ms, step, dtype=np.int64)

    def recommend(self, at_ms: int) -> Any:
        return view_from_dict(RECORD, at_ms)

    def recommend_cancellable(self, at_ms: int, cancel: CancelToken) -> RecommendationView:
        self.tokens.append(cancel)
        cancel.raise_if_cancelled()  # "the reply did not come before the cancellation"
        return view_from_dict(RECORD, at_ms)

    def close(self) -> None:
        self.closed = True


def test_a_ready_view_passes_through_and_a_cancellable_source_gets_the_token():
    source = WaitingSource()
    assert isinstance(source, RecommendationSource)
    assert isinstance(source, CancellableSource)
    token = CancelToken()
    view = fetch_view(source, T_MS, cancel=token)
    assert (view.time_ms, view.saving_unit, view.rows[0].move) == (T_MS, "CNY", 4.0)
    assert source.tokens == [token]
    token.cancel()
    with pytest.raises(CancelledError):
        fetch_view(source, T_MS, cancel=token)

    class Odd(WaitingSource):
        def recommend(self, at_ms: int) -> Any:
            return 42

    with pytest.raises(TypeError, match="recommend\\(\\) returned int"):
        fetch_view(Odd(), T_MS)  # no token: the plain call


def test_a_new_source_cancels_the_request_to_the_old_one_and_closes_it():
    runner = DeferredRunner()
    model = RecommendationsModel(runner)
    model.mode = AdvisorMode.ADVISE
    model.set_time(T_MS)
    first = WaitingSource()
    model.set_source(first)
    assert model.busy
    (task,) = runner.pending
    second = WaitingSource()
    model.set_source(second)
    assert task.token.cancelled  # superseded: the source stops waiting at once
    assert not first.closed  # ... and is closed once its request ended
    runner.run_next(0)  # raises CancelledError in the source: delivered as cancelled
    assert first.closed
    assert model.current is None
    runner.run_next(0)
    assert model.current is not None
    assert model.current.time_ms == T_MS
    assert not second.closed
    assert not model.busy


def test_mode_off_and_close_cancel_the_request_in_flight():
    runner = DeferredRunner()
    model = RecommendationsModel(runner)
    source = WaitingSource()
    model.set_source(source)
    model.set_time(T_MS)
    model.mode = AdvisorMode.PREDICT
    model.mode = AdvisorMode.OFF
    assert runner.pending[0].token.cancelled
    runner.run_all()
    assert model.current is None
    assert not source.closed  # still the source: only the request was dropped
    model.mode = AdvisorMode.ADVISE  # asks again
    model.close()
    assert runner.pending[0].token.cancelled
    assert source.closed
    runner.run_all()
    assert model.current is None
    assert not model.busy


class Events:
    """Records what the requests tell their owner (the model in the app)."""

    def __init__(self) -> None:
        self.opened: list[Any] = []
        self.failed: list[BaseException] = []
        self.delivered: list[RecommendationView] = []
        self.busy = 0
        self.wanted = True

    def events(self, requests_box: list[RecommendationRequests]) -> RequestEvents:
        def opened(source: Any, describe: Any) -> None:
            self.opened.append(source)
            requests_box[0].replace_source(source, describe)  # as the model's set_source

        def busy() -> None:
            self.busy += 1

        return RequestEvents(
            self.delivered.append, self.failed.append, opened, busy, lambda: self.wanted
        )


def _requests(runner: Any) -> tuple[RecommendationRequests, Events]:
    box: list[RecommendationRequests] = []
    seen = Events()
    box.append(RecommendationRequests(runner, seen.events(box)))
    return box[0], seen


def test_an_opening_no_longer_wanted_is_cancelled_and_its_source_closed(tmp_path):
    runner = DeferredRunner()
    requests, seen = _requests(runner)
    opened: list[WaitingSource] = []
    tokens: list[CancelToken] = []

    def opener(project: Path, data: Path, *, cancel: CancelToken) -> tuple[Any, None]:
        tokens.append(cancel)
        opened.append(WaitingSource())  # ignores the token: the late source must be closed
        return opened[-1], None

    requests.opener = opener
    requests.ensure_open()  # no files: nothing to open
    assert not runner.pending
    requests.set_paths((tmp_path / "a.toml", tmp_path / "a.h5"))
    requests.ensure_open()
    requests.ensure_open()  # already opening: once
    assert len(runner.pending) == 1
    assert requests.busy
    assert requests.set_paths((tmp_path / "b.toml", tmp_path / "b.h5"))
    assert not requests.set_paths((tmp_path / "b.toml", tmp_path / "b.h5"))
    runner.run_next(0)  # the opening for a: not adopted, closed; b is opened next
    assert opened[0].closed
    assert seen.opened == []
    runner.run_next(0)
    assert seen.opened == [opened[1]]
    assert requests.source is opened[1]
    assert requests.ask(T_MS)
    assert not requests.ask(T_MS + 900_000)  # one at a time
    runner.run_next(0)
    assert [view.time_ms for view in seen.delivered] == [T_MS]
    requests.replace_source(None, None)  # idle: closed at once
    assert opened[1].closed
    requests.ensure_open()  # wanted again: a third opening ...
    requests.close()  # ... cancelled by the close, and closed when it arrives
    assert runner.pending[0].token.cancelled
    runner.run_all()
    assert len(tokens) == 3
    assert tokens[-1].cancelled  # the opener was given the cancelled token
    assert opened[-1].closed
    assert len(seen.opened) == 1
    assert requests.source is None
    assert not requests.busy
    assert seen.failed == []


def test_an_opener_without_cancel_and_a_failing_opening():
    requests, seen = _requests(run_inline)

    def broken(project: Path, data: Path) -> Any:
        raise ProjectError(f"{project}: no [controller.economic]")

    requests.opener = broken
    requests.set_paths((Path("p.toml"), Path("h.h5")))
    seen.wanted = False  # mode OFF: nothing is opened
    requests.ensure_open()
    assert not requests.busy
    assert seen.failed == []
    seen.wanted = True
    requests.ensure_open()
    assert [str(e) for e in seen.failed] == ["p.toml: no [controller.economic]"]
    assert not requests.busy
    assert requests.ask(T_MS) is False  # no source


def test_the_app_opens_the_advisor_in_a_process_by_default():
    default = inspect.signature(RecommendationsModel.follow_session).parameters["opener"].default
    assert default is open_advisor_process
    assert "cancel" in inspect.signature(open_advisor_process).parameters


def test_a_process_source_builds_views_from_the_childs_records():
    from controllers.advisor.recommendation import Prediction
    from energyopt.advise.remote import RemoteRecommendation

    prediction = Prediction(
        np.array([0.0, 900.0]), ("b1",), np.array([[27.5]]), ("h",), np.array([[0.5], [0.6]])
    )

    class Remote:
        """Stands for a started RemoteAdvisor."""

        interval_s, currency = 900.0, "EUR"

        def __init__(self) -> None:
            self.asked: list[tuple[int, Any]] = []
            self.closed = False

        def decision_times(self, start_ms: int, end_ms: int) -> np.ndarray:
            return np.array([start_ms], dtype=np.int64)

        def recommend(self, at_ms: int, cancel: Any = None) -> RemoteRecommendation:
            self.asked.append((at_ms, cancel))
            record = {key: value for key, value in RECORD.items() if key != "currency"}
            return RemoteRecommendation(record, prediction)

        def close(self) -> None:
            self.closed = True

    remote = Remote()
    source = ProcessSource(remote)  # type: ignore[arg-type]
    assert isinstance(source, CancellableSource)
    assert source.interval_s == 900.0
    assert source.decision_times(T_MS, T_MS + 1).tolist() == [T_MS]
    token = CancelToken()
    view = source.recommend_cancellable(T_MS, token)
    assert view.saving_unit == "EUR"  # the record names none: the project's
    assert view.prediction is prediction
    assert source.recommend(T_MS).rows[0].recommended == 104.0
    assert remote.asked == [(T_MS, token), (T_MS, None)]
    source.close()
    assert remote.closed
