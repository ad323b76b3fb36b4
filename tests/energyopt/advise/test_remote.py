"""The advisor in a child process: protocol, errors, cancellation, death and restart, closing.

Most tests give :class:`RemoteAdvisor` a child entry of this module
(:func:`fake_serve`) that plays the protocol without a plant: the child
starts in about a second and behaves as told by the asked time (slow, dies,
fails).  The slow test runs the real :class:`~energyopt.advise.AdvisorSession`
in the child and checks it against the same session in this process.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.advise.remote import (
    AdvisorProcessError,
    RemoteAdvisor,
    running_processes,
)
from energyopt.advise.remote_protocol import prediction_from_record, raise_error, receive, send
from energyopt.errors import CancelledError, DataError, EnergyoptError, ProjectError
from energyopt.progress import CancelToken

T0_MS = 1_767_571_200_000
"""First sample of the fake file (2026-01-05T00:00:00Z, on the 15-min grid). [ms since epoch]"""
STEP_MS = 900_000
"""Control interval of the fake advisor. [ms]"""
EARLIEST_MS = T0_MS + 3 * STEP_MS + 60_000
"""First advisable time of the fake advisor (off the grid on purpose). [ms since epoch]"""
LAST_MS = T0_MS + 20 * STEP_MS - 60_000
"""Last sample of the fake file. [ms since epoch]"""
SLOW_MS = T0_MS + 10 * STEP_MS
"""Asked at this time the fake child answers after :data:`SLOW_S`."""
DIE_MS = T0_MS + 11 * STEP_MS
"""Asked at this time the fake child dies (exit code 3)."""
REFUSE_MS = T0_MS + 12 * STEP_MS
"""Asked at this time the fake child answers with a ``DataError``."""
BUG_MS = T0_MS + 13 * STEP_MS
"""Asked at this time the fake child answers with an unexpected ``KeyError``."""
SLOW_S = 1.0
"""How long the fake child takes at :data:`SLOW_MS`. [s]"""
HANG_MS = T0_MS + 14 * STEP_MS
"""Asked at this time the fake child takes a minute (longer than any test waits)."""


def _error(exc: BaseException) -> dict[str, Any]:
    import traceback

    return {
        "type": type(exc).__name__,
        "module": type(exc).__module__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(exc)),
    }


def _fake_record(at_ms: int) -> dict[str, Any]:
    k = (at_ms - T0_MS) // STEP_MS
    return {
        "time_ms": at_ms,
        "mode": "advise",
        "mvs": [
            {"mv": "boiler_1", "tag": "B1.SP", "unit": "t/h", "current": 100.0,
             "recommended": 100.0 + k, "low": 50.0, "high": 200.0, "reason": "cheap gas"},
        ],
        "expected_saving": 12.5,
        "currency": "CNY",
        "active_constraints": ["B1.SP.upper"],
        "fallback": "controller plan",
        "status": "optimal",
    }  # fmt: skip


def fake_serve(conn: Any, project_path: str, data_path: str, mode: str, preload: bool) -> None:
    """Child entry playing the protocol (see the module constants for its behaviour)."""
    if project_path.endswith("broken.toml"):
        send(conn, {"op": "failed", "error": _error(ProjectError(f"{project_path}: broken"))})
        return
    info = {
        "interval_ms": STEP_MS,
        "earliest_ms": EARLIEST_MS,
        "first_ms": T0_MS,
        "last_ms": LAST_MS,
        "currency": "CNY",
        "timezone": "Asia/Shanghai",
    }
    send(conn, {"op": "ready", "info": info})
    while True:
        try:
            message = receive(conn)
        except EOFError:
            return
        if message["op"] != "recommend":
            return
        at_ms, reply = int(message["at_ms"]), {"id": message["id"]}
        if at_ms == SLOW_MS:
            time.sleep(SLOW_S)
        if at_ms == HANG_MS:
            time.sleep(60.0)
        if at_ms == DIE_MS:
            os._exit(3)
        if at_ms == REFUSE_MS:
            reply["error"] = _error(DataError(f"history.h5: no usable sample before {at_ms}"))
        elif at_ms == BUG_MS:
            try:
                {}["nope"]  # the unexpected exception of the test
            except KeyError as exc:
                reply["error"] = _error(exc)
        else:
            reply["record"] = _fake_record(at_ms)
            reply["prediction"] = {
                "time_s": [at_ms / 1000.0, at_ms / 1000.0 + 900.0, at_ms / 1000.0 + 1800.0],
                "mv_names": ["boiler_1"],
                "mv_plan": [[27.5], [28.0]],
                "cv_names": ["holder", "pressure"],
                "cv": [[0.5, 9.8], [0.51, 9.7], [0.52, 9.6]],
            }
        send(conn, reply)


def _fake(project: str = "plant.toml") -> RemoteAdvisor:
    return RemoteAdvisor(project, "history.h5", target=fake_serve)


def _ends(remote: RemoteAdvisor, pid: int | None) -> None:
    """Wait until the child ``pid`` is gone (it was asked to quit or terminated)."""
    deadline = time.perf_counter() + 30.0
    while any(p.pid == pid for p in running_processes()) and time.perf_counter() < deadline:
        time.sleep(0.02)
    assert pid not in [p.pid for p in running_processes()]
    assert not remote.is_alive


@pytest.fixture(scope="module")
def fake():
    """One fake advisor child shared by the tests that leave it serving."""
    remote = RemoteAdvisor.open("plant.toml", "history.h5", target=fake_serve)
    yield remote
    remote.close()


def _in_thread(call: Any) -> tuple[threading.Thread, list[Any]]:
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


# ------------------------------------------------------------------ messages


def test_errors_cross_as_their_class_or_with_the_childs_traceback():
    with pytest.raises(DataError, match="no usable sample"):
        raise_error(_error(DataError("history.h5: no usable sample")))
    # Only classes of energyopt.errors are rebuilt: a same-named class elsewhere is unexpected.
    record = {**_error(KeyError("nope")), "type": "ProjectError", "module": "elsewhere"}
    with pytest.raises(AdvisorProcessError, match="ProjectError: 'nope'") as caught:
        raise_error(record)
    assert "in the advisor process" in str(caught.value)


def test_a_prediction_crosses_as_numbers_with_its_shapes():
    record = {
        "time_s": [0.0, 900.0, 1800.0],
        "mv_names": ["a", "b"],
        "mv_plan": [[1.0, 2.0], [3.0, 4.0]],
        "cv_names": [],
        "cv": [[], [], []],
    }
    prediction = prediction_from_record(record)
    assert prediction is not None
    assert prediction.mv_plan.shape == (2, 2)
    assert prediction.cv.shape == (3, 0)  # no CVs: three rows without columns
    assert prediction_from_record(None) is None
    empty = prediction_from_record({**record, "time_s": [], "mv_plan": [], "cv": []})
    assert empty is not None
    assert empty.mv_plan.shape == (0, 2)


# ------------------------------------------------------------------ fake child


def test_it_answers_in_plain_data_and_knows_its_times_without_asking(fake):
    assert (fake.interval_s, fake.currency, fake.timezone) == (900.0, "CNY", "Asia/Shanghai")
    # Independent: the 15-min grid from the first whole interval at or after the
    # earliest time up to and including the last sample.
    grid = np.arange(T0_MS + 4 * STEP_MS, LAST_MS + 1, STEP_MS)
    assert fake.decision_times().tolist() == grid.tolist()
    assert fake.decision_times(T0_MS, T0_MS + 6 * STEP_MS).tolist() == grid[:2].tolist()
    assert fake.decision_times(LAST_MS + 1, LAST_MS + STEP_MS).size == 0
    at_ms = T0_MS + 5 * STEP_MS
    rec = fake.recommend(at_ms)
    assert rec.record == _fake_record(at_ms)  # JSON there and back: the same numbers
    assert rec.prediction is not None
    assert rec.prediction.mv_names == ("boiler_1",)
    assert_allclose(rec.prediction.cv[:, 1], [9.8, 9.7, 9.6], rtol=0)  # exact: JSON round trip


def test_the_childs_errors_arrive_as_their_class(fake):
    with pytest.raises(DataError, match=f"no usable sample before {REFUSE_MS}"):
        fake.recommend(REFUSE_MS)
    with pytest.raises(AdvisorProcessError, match="KeyError: 'nope'") as caught:
        fake.recommend(BUG_MS)
    assert "fake_serve" in str(caught.value)  # the child's traceback
    assert fake.recommend(T0_MS + 6 * STEP_MS).record["time_ms"] == T0_MS + 6 * STEP_MS
    assert fake.starts == 1  # one child served it all


def test_a_cancelled_request_does_not_wait_for_the_child():
    remote = RemoteAdvisor.open("plant.toml", "history.h5", target=fake_serve)
    try:
        token = CancelToken()
        thread, outcome = _in_thread(lambda: remote.recommend(HANG_MS, token))
        token.cancel()
        thread.join()  # returns: the child would answer only after a minute
        assert isinstance(outcome[0], CancelledError)
    finally:
        remote.close()  # busy: terminated


def test_the_late_reply_of_a_cancelled_request_is_dropped(fake):
    token = CancelToken()
    thread, outcome = _in_thread(lambda: fake.recommend(SLOW_MS, token))
    token.cancel()
    thread.join()
    assert isinstance(outcome[0], CancelledError)
    # The child is still busy with the cancelled request: its reply comes first and is dropped.
    at_ms = T0_MS + 7 * STEP_MS
    assert fake.recommend(at_ms).record["time_ms"] == at_ms
    with pytest.raises(CancelledError):
        fake.recommend(at_ms, token)  # cancelled before it started


def test_a_child_that_dies_is_reported_and_started_again():
    remote = RemoteAdvisor.open("plant.toml", "history.h5", target=fake_serve)
    try:
        first = remote.pid
        with pytest.raises(EnergyoptError, match=r"stopped unexpectedly \(exit code 3\)"):
            remote.recommend(DIE_MS)
        assert not remote.is_alive
        at_ms = T0_MS + 8 * STEP_MS
        assert remote.recommend(at_ms).record["time_ms"] == at_ms  # a new child
        assert remote.starts == 2
        assert remote.pid != first
    finally:
        remote.close()


def test_close_ends_a_busy_child_and_the_waiting_request():
    remote = RemoteAdvisor.open("plant.toml", "history.h5", target=fake_serve)
    pid = remote.pid
    thread, outcome = _in_thread(lambda: remote.recommend(HANG_MS))
    deadline = time.perf_counter() + 10.0
    while not remote.busy and time.perf_counter() < deadline:  # the request was sent
        time.sleep(0.01)
    remote.close()
    thread.join()  # returns: the child was terminated, not waited for
    assert isinstance(outcome[0], CancelledError)
    assert "closed" in str(outcome[0])
    _ends(remote, pid)
    with pytest.raises(CancelledError, match="closed"):
        remote.recommend(T0_MS + 5 * STEP_MS)
    remote.close()  # twice is fine


def test_an_idle_child_quits_when_closed_and_a_failed_start_raises_its_error():
    with RemoteAdvisor.open("plant.toml", "history.h5", target=fake_serve) as remote:
        pid = remote.pid
        assert remote.is_alive
    _ends(remote, pid)
    with pytest.raises(ProjectError, match=r"broken\.toml: broken"):
        RemoteAdvisor.open("broken.toml", "history.h5", target=fake_serve)
    with pytest.raises(EnergyoptError, match="not started"):
        _fake().interval_s  # noqa: B018 - the property raises


def test_a_cancelled_start_ends_the_child():
    token = CancelToken()
    token.cancel()
    remote = _fake()
    with pytest.raises(CancelledError):
        remote.start(token)
    assert not remote.is_alive
    assert remote.starts == 1


# ------------------------------------------------------------------ the real advisor


@pytest.mark.slow
def test_the_real_advisor_in_a_child_gives_what_it_gives_here(advise_demo, session):
    """About 20-40 s: the demo session opened in a child, one solve there and here."""
    from energyopt.advise import recommendation_to_dict

    remote = RemoteAdvisor.open(advise_demo / "plant.toml", advise_demo / "history.h5")
    try:
        assert remote.interval_s == session.interval_s
        assert remote.currency == session.currency == "CNY"
        assert remote.timezone == session.timezone
        # The caller's own rule for the times, against the session's.
        assert remote.decision_times().tolist() == session.decision_times().tolist()
        first, last = session.reader.time_span_ms
        for lo, hi in [(first, last), (first + 3_700_000, last - 1), (last, last + 10**7)]:
            expected = session.decision_times(lo, hi).tolist()
            assert remote.decision_times(lo, hi).tolist() == expected
        at_ms = int(session.decision_times()[28])  # 7 h after the earliest time
        there = remote.recommend(at_ms)
        here = recommendation_to_dict(session.recommend(at_ms), session)
        assert [mv["tag"] for mv in there.record["mvs"]] == [mv["tag"] for mv in here["mvs"]]
        # The same solve on the same data in another process; 1e-6 of each MV's
        # range covers IPOPT stopping a different iteration after a warm start
        # (both sessions here are fresh, so they usually agree to the bit).
        for a, b in zip(there.record["mvs"], here["mvs"], strict=True):
            assert_allclose(a["recommended"], b["recommended"], atol=1e-6 * (b["high"] - b["low"]))
        assert there.prediction is not None
        with pytest.raises(DataError, match="outside the file"):
            remote.recommend(first - 86_400_000)
        pid = remote.pid
    finally:
        remote.close()
    _ends(remote, pid)
