"""The advisor in a process of its own: recommendations without holding the caller's GIL.

casadi, IPOPT and h5py hold the GIL for tens of milliseconds at a time, so an
:class:`~energyopt.advise.AdvisorSession` on a thread of the GUI process stalls
the GUI thread while it solves.  :class:`RemoteAdvisor` runs the same session in
a child process (the *spawn* start method on every platform, as the tune's
local workers: a forked child would inherit casadi's and numba's threads and
locks in an undefined state) that opens the project and the historian once,
then answers "recommend at ``t``" requests one at a time.

Messages are plain JSON over a :func:`multiprocessing.Pipe` (``send_bytes``,
:mod:`energyopt.advise.remote_protocol`): the caller only ever receives the
``recommendation_to_dict`` record and the predicted trajectories as numbers
(:class:`RemoteRecommendation`), never a casadi object, and nothing is
pickled but what :mod:`multiprocessing` itself needs to start the child (the
entry function, the pipe and four strings).

- A request waits for its reply polling every :data:`POLL_S`; a
  :class:`~energyopt.progress.CancelToken` set meanwhile abandons it (the
  caller gets :class:`~energyopt.errors.CancelledError` at once; the child's
  late reply is dropped before the next request is answered).
- A child that dies is reported as an :class:`~energyopt.errors.EnergyoptError`
  and started again (project and history reopened) by the next request.
- :meth:`RemoteAdvisor.close` never blocks: an idle child is asked to quit, a
  busy one is terminated (it only reads files).  :func:`running_processes`
  lists the children still alive (for leak checks).

The times a session can be asked at are computed here from what the child
reports when it is ready (:meth:`RemoteAdvisor.decision_times`), so the
caller's thread never waits for a busy child to answer them.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import weakref
from typing import TYPE_CHECKING, Any, Self

from energyopt.advise.remote_protocol import (
    AdvisorProcessError,
    RemoteRecommendation,
    prediction_from_record,
    raise_error,
    receive,
    send,
    serve,
)
from energyopt.errors import CancelledError, EnergyoptError

if TYPE_CHECKING:
    import os
    from collections.abc import Callable
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess
    from types import TracebackType

    import numpy as np

    from energyopt.progress import CancelToken

__all__ = [
    "POLL_S",
    "PROCESS_NAME",
    "AdvisorProcessError",
    "RemoteAdvisor",
    "RemoteRecommendation",
    "running_processes",
]

#: How often a waiting request checks its cancel token and the child. [s]
POLL_S = 0.05
#: Name of the child processes (``multiprocessing.active_children()``).
PROCESS_NAME = "energyopt advisor"
#: How long a child asked to quit may take before it is terminated on the next close. [s]
QUIT_GRACE_S = 5.0

_PROCESSES: weakref.WeakSet[BaseProcess] = weakref.WeakSet()
"""Every advisor child started (for :func:`running_processes`)."""


def running_processes() -> list[BaseProcess]:
    """Return the advisor child processes that are still alive (reaping those that ended)."""
    return [process for process in list(_PROCESSES) if process.is_alive()]


# --------------------------------------------------------------- the caller


class RemoteAdvisor:
    """An advisor session (``AdvisorSession.open``) in a child process.

    Start it with :meth:`open` (or :meth:`start`), off any thread that must
    stay responsive: the child imports the advisor, builds the controller and
    reads the history, which takes seconds.  Requests are made one at a time
    (:meth:`recommend` is not meant to be called from two threads at once);
    :meth:`close` may be called from any thread at any time.

    Parameters
    ----------
    project_path : str or path-like
        Project file.
    data_path : str or path-like
        Historian file.
    mode : str
        Advisor mode of the session (``"OFF"``, ``"PREDICT"``, ``"ADVISE"``).
    preload : bool
        Read the whole file's disturbance record and tag windows once at start.
    target : callable
        The child's entry, called as ``target(conn, project_path, data_path,
        mode, preload)`` in the child (a module-level function: the child
        imports it by name); :func:`~energyopt.advise.remote_protocol.serve`
        by default (tests give one that plays the protocol without a plant).
    """

    def __init__(
        self,
        project_path: str | os.PathLike[str],
        data_path: str | os.PathLike[str],
        *,
        mode: str = "ADVISE",
        preload: bool = True,
        target: Callable[[Connection, str, str, str, bool], None] = serve,
    ) -> None:
        self.project_path = str(project_path)
        """The project file."""
        self.data_path = str(data_path)
        """The historian file."""
        self._mode = str(mode)
        self._preload = bool(preload)
        self._target = target
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._info: dict[str, Any] | None = None
        self._next_id = 0
        self._busy = False
        self._closed = False
        self.starts = 0
        """How many times a child was started (restarts after a death count). [-]"""

    @classmethod
    def open(
        cls,
        project_path: str | os.PathLike[str],
        data_path: str | os.PathLike[str],
        *,
        mode: str = "ADVISE",
        preload: bool = True,
        target: Callable[[Connection, str, str, str, bool], None] = serve,
        cancel: CancelToken | None = None,
    ) -> RemoteAdvisor:
        """Start the child and wait until its session is open.

        Parameters
        ----------
        project_path, data_path : str or path-like
            Project and historian files.
        mode : str
            Advisor mode of the session.
        preload : bool
            Read the history the requests need once at start.
        target : callable
            The child's entry (see the class).
        cancel : CancelToken, optional
            Set to stop waiting (the child is terminated).

        Raises
        ------
        EnergyoptError
            The session's own error (``ProjectError``, ``DataError``, ...), or
            the child ended before it was ready.
        CancelledError
            If ``cancel`` was set.
        """
        remote = cls(project_path, data_path, mode=mode, preload=preload, target=target)
        remote.start(cancel)
        return remote

    # ------------------------------------------------------------ lifecycle

    def start(self, cancel: CancelToken | None = None) -> None:
        """Start the child (if none is running) and wait until it is ready.

        Parameters
        ----------
        cancel : CancelToken, optional
            Set to stop waiting (the child is terminated).

        Raises
        ------
        EnergyoptError
            As :meth:`open`.
        CancelledError
            If ``cancel`` was set or the advisor was closed.
        """
        with self._lock:
            if self._closed:
                raise CancelledError("the advisor process was closed")
            if self._process is not None and self._process.is_alive():
                return
            self._busy = True  # a close() meanwhile terminates what is started
        self._discard_child()  # a child that died
        # Started outside the lock: close() on the GUI thread never waits for a spawn.
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe(duplex=True)
        process = context.Process(
            target=self._target,
            args=(theirs, self.project_path, self.data_path, self._mode, self._preload),
            name=PROCESS_NAME,
            daemon=True,  # terminated at interpreter exit if still alive
        )
        process.start()
        theirs.close()  # the child's end now lives in the child only
        _PROCESSES.add(process)
        with self._lock:
            self._process, self._conn = process, ours
            self.starts += 1
            if self._closed:
                process.terminate()
        try:
            message = self._wait(None, cancel)
        finally:
            self._idle()
        if message.get("op") == "failed":
            self._discard_child()
            raise_error(message.get("error", {}))
        if message.get("op") != "ready":
            self._discard_child()
            raise AdvisorProcessError(f"advisor process: unexpected first message {message!r}")
        self._info = dict(message["info"])

    def close(self) -> None:
        """End the child without waiting: asked to quit if idle, terminated if busy.

        The advisor cannot be used afterwards; a request waiting meanwhile
        ends with :class:`~energyopt.errors.CancelledError`.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            process, busy = self._process, self._busy
            if process is None:
                return
            if busy:
                process.terminate()  # the waiting request closes the pipe
                return
        self._discard_child()

    def _discard_child(self) -> None:
        """Ask the child to quit, close our end of the pipe (no waiting)."""
        process, conn = self._process, self._conn
        self._process, self._conn = None, None
        if conn is not None:
            with contextlib.suppress(OSError):  # already gone
                send(conn, {"op": "quit"})
            conn.close()
        if process is not None:
            process.join(0.0)  # reap it if it already ended; never block
            if process.is_alive():
                _reap_later(process)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------ what it knows

    def _known(self, key: str) -> Any:
        if self._info is None:
            raise EnergyoptError("the advisor process is not started")
        return self._info[key]

    @property
    def pid(self) -> int | None:
        """Process id of the child, ``None`` if none runs."""
        process = self._process
        return None if process is None else process.pid

    @property
    def busy(self) -> bool:
        """Whether a request (or the start) is waiting for the child."""
        return self._busy

    @property
    def is_alive(self) -> bool:
        """Whether a child runs."""
        process = self._process
        return process is not None and process.is_alive()

    @property
    def interval_s(self) -> float:
        """Control interval of the advisor. [s]."""
        return int(self._known("interval_ms")) / 1000.0

    @property
    def currency(self) -> str:
        """The project's currency."""
        return str(self._known("currency"))

    @property
    def timezone(self) -> str:
        """The plant's IANA time zone."""
        return str(self._known("timezone"))

    @property
    def time_span_ms(self) -> tuple[int, int]:
        """First and last time of the historian file. [ms since epoch]."""
        return int(self._known("first_ms")), int(self._known("last_ms"))

    def earliest_ms(self) -> int:
        """First time with enough history before it. [ms since epoch]."""
        return int(self._known("earliest_ms"))

    def decision_times(self, start_ms: int | None = None, end_ms: int | None = None) -> np.ndarray:
        """Control-interval starts in ``[start_ms, end_ms)`` the advisor can be asked at.

        The rule of :meth:`energyopt.advise.SessionBase.decision_times`
        (intervals aligned to whole multiples since the epoch, enough history
        before, data at or after), computed here from what the child reported:
        no round trip to a child that may be solving.

        Parameters
        ----------
        start_ms, end_ms : int or None
            Range; default the file's usable span. [ms since epoch]

        Returns
        -------
        numpy.ndarray of int64
            [ms since epoch]
        """
        import numpy as np

        earliest, (_, last) = self.earliest_ms(), self.time_span_ms
        lo = earliest if start_ms is None else max(earliest, int(start_ms))
        hi = last + 1 if end_ms is None else min(int(end_ms), last + 1)
        step = int(self._known("interval_ms"))
        first = -(-lo // step)
        count = max(0, -(-hi // step) - first)
        return (first + np.arange(count, dtype=np.int64)) * step

    # ------------------------------------------------------------ requests

    def recommend(self, at_ms: int, cancel: CancelToken | None = None) -> RemoteRecommendation:
        """Return the recommendation for the control interval starting at ``at_ms``.

        A child that died since the last request is started again first.

        Parameters
        ----------
        at_ms : int
            Start of the interval. [ms since epoch]
        cancel : CancelToken, optional
            Set to stop waiting; the child's reply is then dropped.

        Raises
        ------
        EnergyoptError
            The session's error (a ``DataError`` for a time it cannot advise),
            or the child died during the request (it is started again next time).
        CancelledError
            If ``cancel`` was set or the advisor was closed meanwhile.
        AdvisorProcessError
            If the child raised an unexpected exception.
        """
        if cancel is not None:
            cancel.raise_if_cancelled()
        if not self.is_alive:
            self.start(cancel)  # the first use, or a restart after a death
        with self._lock:
            if self._closed or self._conn is None:
                raise CancelledError("the advisor process was closed")
            self._next_id += 1
            request_id = self._next_id
            self._busy = True
            conn = self._conn
        try:
            send(conn, {"op": "recommend", "id": request_id, "at_ms": int(at_ms)})
            reply = self._wait(request_id, cancel)
        finally:
            self._idle()
        if "error" in reply:
            raise_error(reply["error"])
        return RemoteRecommendation(
            dict(reply["record"]), prediction_from_record(reply.get("prediction"))
        )

    def _idle(self) -> None:
        """End of a wait: a close that came meanwhile closes the pipe now."""
        with self._lock:
            self._busy = False
            closed = self._closed
        if closed:
            self._discard_child()

    def _wait(self, request_id: int | None, cancel: CancelToken | None) -> dict[str, Any]:
        """Wait for the reply to ``request_id`` (``None``: the start message).

        Replies to abandoned requests are dropped on the way.
        """
        from multiprocessing.connection import wait

        process, conn = self._process, self._conn
        if process is None or conn is None:  # pragma: no cover - set by the caller
            raise CancelledError("the advisor process was closed")
        while True:
            ready = wait([conn, process.sentinel], POLL_S)
            if self._closed:
                raise CancelledError("the advisor process was closed")
            if cancel is not None and cancel.cancelled:
                if request_id is None:  # a half-started child is of no use
                    process.terminate()
                    self._discard_child()
                # Otherwise the child's late reply is dropped by the next request.
                cancel.raise_if_cancelled()
            ended = process.sentinel in ready
            if conn in ready or conn.poll():
                try:
                    message = receive(conn)
                except (EOFError, OSError):  # the child closed its end: it is ending
                    ended = True
                else:
                    if request_id is None or message.get("id") == request_id:
                        return message
                    continue  # the late reply of an abandoned request
            if ended or not process.is_alive():
                process.join(1.0)
                code = process.exitcode
                self._discard_child()
                raise EnergyoptError(
                    f"the advisor process stopped unexpectedly (exit code {code}); "
                    "it is started again with the next request"
                )


def _reap_later(process: BaseProcess) -> None:
    """Join a child that was asked to quit, terminating it after :data:`QUIT_GRACE_S`."""

    def reap() -> None:
        process.join(QUIT_GRACE_S)
        if process.is_alive():
            process.terminate()
            process.join(QUIT_GRACE_S)
        if process.is_alive():  # pragma: no cover - SIGTERM is not ignored by the child
            process.kill()
            process.join()

    threading.Thread(target=reap, name="energyopt advisor reaper", daemon=True).start()
