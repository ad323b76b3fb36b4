"""The recorded flows replay in a child process: same flows, errors, cancel, protocol checks."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from energyopt.appstate import flow_process
from energyopt.appstate.flow_process import (
    ARRAY_NAMES,
    PROCESS_NAME,
    FlowProcessError,
    recorded_flow_model_in_child,
)
from energyopt.appstate.plant_views import recorded_flow_model
from energyopt.demos import demo_project_file
from energyopt.demos.history import write_demo_history
from energyopt.errors import CancelledError, DataError, EnergyoptError, ModelError
from energyopt.progress import CancelToken
from energyopt.project import load_project


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, Path]:
    """The steelworks demo project and a 1-day history at 60 s."""
    out = tmp_path_factory.mktemp("flow_process")
    project_path = demo_project_file("steelworks")
    history = out / "history.h5"
    write_demo_history(load_project(project_path), "steelworks", history, days=1, seed=4)
    return project_path, history


def flows_children() -> list[multiprocessing.process.BaseProcess]:
    """The flows child processes still alive."""
    return [p for p in multiprocessing.active_children() if p.name == PROCESS_NAME]


def wait_no_children(timeout_s: float = 15.0) -> None:
    """Wait until every flows child ended (they are reaped in the background)."""
    deadline = time.perf_counter() + timeout_s
    while flows_children() and time.perf_counter() < deadline:
        time.sleep(0.05)
    assert not flows_children()


@pytest.mark.slow
def test_the_child_replays_the_same_flows_as_this_process(demo):
    """About 10-20 s: the 1-day recorded replay twice (in a child, then here)."""
    project_path, history = demo
    project = load_project(project_path)
    reports: list[tuple[float, float | None, str]] = []
    remote = recorded_flow_model_in_child(
        project, history, progress=lambda d, t, m: reports.append((d, t, m))
    )
    local = recorded_flow_model(project, history)
    # The same replay on the same project in two interpreters, the arrays sent
    # as raw bytes: bit for bit the same link values (no tolerance).
    np.testing.assert_array_equal(remote.time_ms, local.time_ms)
    for info in local.network.views:
        np.testing.assert_array_equal(
            remote.link_values_si(info.name), local.link_values_si(info.name)
        )
    assert [v.name for v in remote.network.views] == [v.name for v in local.network.views]
    assert reports  # the child's replay progress reached the caller
    done, total, _message = reports[-1]
    assert total is not None
    assert 0.0 < done <= total
    wait_no_children()


def test_the_childs_data_error_is_raised_with_its_class_and_message(demo, tmp_path):
    project_path, _history = demo
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not hdf5")
    with pytest.raises(DataError, match=r"broken\.h5"):
        recorded_flow_model_in_child(load_project(project_path), broken)
    wait_no_children()


def test_a_cancelled_load_terminates_the_child(demo):
    project_path, history = demo
    token = CancelToken()
    outcome: list[BaseException] = []

    def load() -> None:
        try:
            recorded_flow_model_in_child(load_project(project_path), history, cancel=token)
        except BaseException as exc:  # the test inspects it
            outcome.append(exc)

    thread = threading.Thread(target=load)
    thread.start()
    deadline = time.perf_counter() + 30.0
    while not flows_children() and time.perf_counter() < deadline:
        time.sleep(0.02)
    assert flows_children()  # the child started
    token.cancel()
    thread.join(10.0)
    assert not thread.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], CancelledError)
    wait_no_children()


def test_a_load_cancelled_before_it_starts_starts_no_child(demo):
    project_path, history = demo
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        recorded_flow_model_in_child(load_project(project_path), history, cancel=token)
    assert not flows_children()


# ------------------------------------------------------------ the protocol
def test_energyopt_errors_keep_their_class_others_carry_the_traceback():
    record = {"type": "ModelError", "module": "energyopt.errors", "message": "diverged at t = 3 h"}
    with pytest.raises(ModelError, match="diverged at t = 3 h"):
        flow_process._raise_error(record)
    foreign = {
        "type": "ZeroDivisionError",
        "module": "builtins",
        "message": "division by zero",
        "traceback": "Traceback ... line 42",
    }
    with pytest.raises(FlowProcessError, match="division by zero") as info:
        flow_process._raise_error(foreign)
    assert "line 42" in str(info.value)
    # A name of energyopt.errors that is not an EnergyoptError is not trusted.
    with pytest.raises(FlowProcessError):
        flow_process._raise_error({"type": "Path", "module": "energyopt.errors", "message": "x"})


def arrays_sent(headers: list[dict], payloads: list[bytes]) -> dict[str, np.ndarray]:
    """Send headers' payloads through a pipe and read them back with the caller's checks."""
    ours, theirs = multiprocessing.Pipe(duplex=False)
    try:
        for payload in payloads:
            theirs.send_bytes(payload)
        return flow_process._receive_arrays(ours, headers)
    finally:
        ours.close()
        theirs.close()


def good_headers() -> tuple[list[dict], list[bytes]]:
    """Headers and raw bytes of a 2-sample trajectory."""
    values = {
        "time_ms": np.array([0, 60_000], dtype="<i8"),
        "states": np.arange(6.0).reshape(2, 3),
        "inputs": np.ones((2, 2)),
        "disturbances": np.zeros((2, 1)),
        "outputs": np.full((2, 4), 2.5),
        "parameters": np.array([1.5]),
    }
    headers = [
        {"name": n, "dtype": values[n].dtype.str, "shape": list(values[n].shape)}
        for n in ARRAY_NAMES
    ]
    return headers, [values[n].tobytes() for n in ARRAY_NAMES]


def test_arrays_come_back_as_sent():
    headers, payloads = good_headers()
    arrays = arrays_sent(headers, payloads)
    np.testing.assert_array_equal(arrays["states"], np.arange(6.0).reshape(2, 3))
    assert arrays["time_ms"].dtype == np.int64
    assert arrays["time_ms"].tolist() == [0, 60_000]
    assert not arrays["outputs"].flags.writeable  # views of the received bytes


def test_unexpected_arrays_are_refused():
    headers, payloads = good_headers()
    with pytest.raises(FlowProcessError, match="unexpected arrays"):
        arrays_sent(headers[::-1], payloads[::-1])
    bad = [dict(h) for h in headers]
    bad[1]["dtype"] = "|O"  # objects would need pickle: never accepted
    with pytest.raises(FlowProcessError, match="unexpected array header"):
        arrays_sent(bad, payloads)
    short = [dict(h) for h in headers]
    short[1]["shape"] = [3, 3]  # 72 bytes announced, 48 sent
    with pytest.raises(FlowProcessError, match="states has 48 bytes"):
        arrays_sent(short, payloads)


def test_a_child_that_dies_is_an_energyopt_error(monkeypatch, demo):
    project_path, history = demo
    monkeypatch.setattr(flow_process, "serve", _die)
    with pytest.raises(EnergyoptError, match="stopped unexpectedly"):
        recorded_flow_model_in_child(load_project(project_path), history)
    wait_no_children()


def _die(conn, *_args: object) -> None:
    """A child entry that ends at once without a word (as a crash would)."""
    conn.close()
