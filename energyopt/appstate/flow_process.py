"""The recorded flows replay in a child process: the energy-flow model without holding the GIL.

:func:`~energyopt.appstate.plant_views.recorded_flow_model` replays the
whole historian file on the project's plant.  Most of that is casadi graph
work (the disturbance read-back builds and calls casadi functions of the
plant's equations, 20-50 ms each without releasing the GIL) and a Python
loop over every plant step.  On a worker thread of the desktop app it held
the GIL for up to 49 ms at a time, and the GUI thread, which needs the GIL
between every pair of Qt calls, stalled for 150-230 ms while it built a
trend plot meanwhile.

:func:`recorded_flow_model_in_child` runs the same replay in a child process
(the *spawn* start method, as :mod:`energyopt.advise.remote`: a forked child
would inherit casadi's and numba's threads and locks in an undefined state)
and builds the :class:`~energyopt.flows.FlowModel` from the arrays it sends
back.  What crosses the pipe is plain: the project as TOML text, the file's
path, JSON messages (progress, the outcome, an error's class and message)
and the trajectory's arrays as raw little-endian bytes with their dtype and
shape in the JSON header; nothing is pickled but what
:mod:`multiprocessing` itself needs to start the child (the entry function,
the pipe and three strings).

- Progress reports of the child (at most every :data:`PROGRESS_EVERY_S`)
  reach the caller's progress callback.
- A set :class:`~energyopt.progress.CancelToken` terminates the child (it
  only reads the file) and raises :class:`~energyopt.errors.CancelledError`.
- The child's :class:`~energyopt.errors.EnergyoptError` is raised again with
  its class and message; any other exception as :class:`FlowProcessError`
  with the child's traceback; a child that dies as an ``EnergyoptError``.
- The call returns without waiting for the child's interpreter to finish
  (it is reaped by a daemon thread).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from energyopt import childproc
from energyopt.errors import EnergyoptError
from energyopt.progress import CancelToken, ProgressCallback, null_progress

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from energyopt.flows import FlowModel
    from energyopt.project import Project

__all__ = [
    "ARRAY_NAMES",
    "POLL_S",
    "PROCESS_NAME",
    "PROGRESS_EVERY_S",
    "FlowProcessError",
    "recorded_flow_model_in_child",
]

#: How often the caller checks its cancel token while it waits. [s]
POLL_S = 0.05
#: Shortest time between two progress messages of the child. [s]
PROGRESS_EVERY_S = 0.2
#: Name of the child processes (``multiprocessing.active_children()``).
PROCESS_NAME = "energyopt flows"
#: How long a finished child may take to exit before it is terminated. [s]
EXIT_GRACE_S = 10.0
#: The trajectory arrays the child sends, in this order.
ARRAY_NAMES: tuple[str, ...] = (
    "time_ms",
    "states",
    "inputs",
    "disturbances",
    "outputs",
    "parameters",
)
#: The only dtypes accepted from the child (little-endian int64 and float64).
_DTYPES: dict[str, np.dtype[Any]] = {"<i8": np.dtype("<i8"), "<f8": np.dtype("<f8")}


class FlowProcessError(RuntimeError):
    """An unexpected exception (a bug, not an ``EnergyoptError``) in the flows process.

    Its message holds the child's traceback, so the GUI's error log keeps it.
    """


def recorded_flow_model_in_child(
    project: Project,
    historian_path: str | Path,
    *,
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
) -> FlowModel:
    """Energy flows of the recorded period, replayed in a child process.

    The result equals :func:`~energyopt.appstate.plant_views.recorded_flow_model`'s
    (the same replay on the same project, its arrays sent back bit for bit);
    only the plant's composition (milliseconds, numpy) and the flow network
    are built in the caller's process.

    Parameters
    ----------
    project : Project
        The validated project (sent to the child as TOML text).
    historian_path : str or path-like
        Historian file (format v1), read-only.
    progress : ProgressCallback
        ``progress(done_s, total_s, message)`` of the replay, from the child.
    cancel : CancelToken, optional
        Set to stop: the child is terminated.

    Returns
    -------
    FlowModel
        Link values at every plant step of the replay, showing the first sample.

    Raises
    ------
    DataError
        If the file cannot drive the replay (missing tag, long gap).
    ModelError
        If the simulation diverges.
    CancelledError
        If ``cancel`` is set.
    EnergyoptError
        If the child process died.
    FlowProcessError
        If the child raised an unexpected exception.
    """
    import multiprocessing

    import tomli_w

    from energyopt.flows import FlowModel, FlowTrajectory
    from energyopt.plantbuild import build_plant

    if cancel is not None:
        cancel.raise_if_cancelled()
    text = tomli_w.dumps(project.to_toml_dict())
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe(duplex=False)
    process = context.Process(
        target=serve,
        args=(theirs, text, project.source or "project", str(historian_path)),
        name=PROCESS_NAME,
        daemon=True,  # terminated at interpreter exit if still alive
    )
    process.start()
    theirs.close()  # the child's end now lives in the child only
    try:
        arrays = _receive_result(ours, process, progress, cancel)
    except BaseException:
        process.terminate()
        raise
    finally:
        ours.close()
        _reap_later(process)
    # The plant's composition is cheap (about 10 ms of numpy and dataclasses);
    # the casadi work that needs it stayed in the child.
    built = build_plant(project)
    trajectory = FlowTrajectory(
        time_ms=arrays["time_ms"],
        states=arrays["states"],
        inputs=arrays["inputs"],
        disturbances=arrays["disturbances"],
        outputs=arrays["outputs"],
        # The child sends no parameters as an empty vector: the project's nominal ones.
        parameters=arrays["parameters"] if arrays["parameters"].size else None,
    )
    return FlowModel.from_built(built, trajectory)


def _receive_result(
    conn: Connection,
    process: BaseProcess,
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> dict[str, np.ndarray]:
    """Wait for the child's result, passing its progress on; return the arrays."""
    from multiprocessing.connection import wait

    while True:
        ready = wait([conn, process.sentinel], POLL_S)
        if cancel is not None and cancel.cancelled:
            cancel.raise_if_cancelled()
        ended = process.sentinel in ready
        if conn in ready or conn.poll():
            try:
                message = _receive(conn)
            except (EOFError, OSError):  # the child closed its end: it is ending
                message, ended = None, True
            if message is not None:
                op = message.get("op")
                if op == "progress":
                    total = message.get("total")
                    progress(
                        float(message["done"]),
                        None if total is None else float(total),
                        str(message.get("message", "")),
                    )
                    continue
                if op == "failed":
                    _raise_error(message.get("error", {}))
                if op == "result":
                    return _receive_arrays(conn, message.get("arrays", []))
                raise FlowProcessError(f"flows process: unexpected message {message!r}")
        if ended or not process.is_alive():
            process.join(EXIT_GRACE_S)
            raise EnergyoptError(
                f"the energy-flow replay process stopped unexpectedly "
                f"(exit code {process.exitcode})"
            )


def _receive_arrays(conn: Connection, headers: list[Any]) -> dict[str, np.ndarray]:
    """Read the arrays announced by ``headers`` (one raw message each), checking each."""
    names = [str(h.get("name")) if isinstance(h, dict) else "" for h in headers]
    if tuple(names) != ARRAY_NAMES:
        raise FlowProcessError(f"flows process: unexpected arrays {names}")
    arrays: dict[str, np.ndarray] = {}
    for header in headers:
        dtype = _DTYPES.get(str(header.get("dtype")))
        shape = tuple(int(n) for n in header.get("shape", ()))
        if dtype is None or any(n < 0 for n in shape):
            raise FlowProcessError(f"flows process: unexpected array header {header!r}")
        data = conn.recv_bytes()
        if len(data) != dtype.itemsize * int(np.prod(shape, dtype=np.int64)):
            raise FlowProcessError(
                f"flows process: {header['name']} has {len(data)} bytes, not {dtype} {shape}"
            )
        # Read-only views of the received bytes: the flow model never writes them.
        arrays[str(header["name"])] = np.frombuffer(data, dtype=dtype).reshape(shape)
    return arrays


def _raise_error(record: dict[str, Any]) -> None:
    """Raise the caller's side of the child's exception (see the module notes)."""
    childproc.raise_child_error(record, FlowProcessError, "energy-flow replay process")


def _reap_later(process: BaseProcess) -> None:
    """Join the child in a daemon thread (terminated after :data:`EXIT_GRACE_S`): no waiting."""
    process.join(0.0)
    if not process.is_alive():
        return

    def reap() -> None:
        process.join(EXIT_GRACE_S)
        if process.is_alive():
            process.terminate()
            process.join(EXIT_GRACE_S)

    threading.Thread(target=reap, name="energyopt flows reaper", daemon=True).start()


def _receive(conn: Connection) -> dict[str, Any]:
    return childproc.receive(conn, FlowProcessError, "energy-flow replay process")


# --------------------------------------------------------------- the child


def serve(conn: Connection, project_toml: str, source: str, historian_path: str) -> None:
    """Entry of the child: replay the record, send progress, then the arrays or the error.

    Parameters
    ----------
    conn : multiprocessing.connection.Connection
        The child's (sending) end of the pipe.
    project_toml : str
        The project as TOML text.
    source : str
        The project's source (its file name), for messages.
    historian_path : str
        Historian file.
    """
    import signal

    # Ctrl+C in a terminal reaches the whole process group: the parent decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        try:
            arrays = _replay(conn, project_toml, source, historian_path)
        except BaseException as exc:  # every failure is the caller's to report
            childproc.send(conn, {"op": "failed", "error": childproc.error_record(exc)})
            return
        headers = [
            {"name": name, "dtype": array.dtype.str, "shape": list(array.shape)}
            for name, array in arrays.items()
        ]
        childproc.send(conn, {"op": "result", "arrays": headers})
        for array in arrays.values():
            conn.send_bytes(array.tobytes())  # a copy of a few MB: simpler than buffers
    except (EOFError, OSError):  # the caller went away
        return
    finally:
        conn.close()


def _replay(
    conn: Connection, project_toml: str, source: str, historian_path: str
) -> dict[str, np.ndarray]:
    """Run the recorded replay; return its trajectory as contiguous little-endian arrays."""
    import tomllib

    from energyopt.appstate.plant_views import recorded_trajectory
    from energyopt.project.loader import project_from_mapping

    project = project_from_mapping(tomllib.loads(project_toml), source=source)
    last = [0.0]

    def report(done: float, total: float | None, message: str) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            childproc.send(
                conn, {"op": "progress", "done": done, "total": total, "message": message}
            )

    trajectory = recorded_trajectory(project, historian_path, progress=report)
    parameters = trajectory.parameters
    values = {
        "time_ms": np.asarray(trajectory.time_ms, dtype="<i8"),
        "states": np.asarray(trajectory.states, dtype="<f8"),
        "inputs": np.asarray(trajectory.inputs, dtype="<f8"),
        "disturbances": np.asarray(trajectory.disturbances, dtype="<f8"),
        "outputs": np.asarray(trajectory.outputs, dtype="<f8"),
        "parameters": np.asarray(
            parameters if parameters is not None else np.zeros(0), dtype="<f8"
        ),
    }
    return {name: np.ascontiguousarray(values[name]) for name in ARRAY_NAMES}
