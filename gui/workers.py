"""Run energyopt functions off the GUI thread, with progress and cancellation.

One small API for every long operation (quality scan, fitting, replay,
tuning)::

    worker = manager.start(inspect_file, path, name="quality scan")
    worker.progressed.connect(panel.show_progress)
    worker.finished.connect(lambda report: ...)

The function runs in its own :class:`~PySide6.QtCore.QThread` and is called
with two extra keyword arguments, ``progress`` (an
:class:`energyopt.progress.ProgressCallback`) and ``cancel`` (an
:class:`energyopt.progress.CancelToken`), the contract of every energyopt
workflow.  Its outcome arrives on the GUI thread as exactly one of
:attr:`Worker.finished` (return value), :attr:`Worker.failed` (exception) or
:attr:`Worker.cancelled` (the function raised
:class:`~energyopt.errors.CancelledError`), followed by :attr:`Worker.done`.
These signals are emitted only after the thread has ended, so a receiver can
never observe a still-running thread.

Progress is throttled (at most one signal every ``min_interval_s``, and the
final report always) so that a tight loop reporting progress cannot flood the
event loop.  :class:`WorkerManager` keeps the running workers and cancels and
joins them all on shutdown (window close): no thread outlives its window.

The Qt-free models of :mod:`energyopt.appstate` take a
:class:`~energyopt.appstate.tasks.TaskRunner`; :func:`worker_task_runner`
is the one that runs their tasks in workers.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from energyopt.appstate.tasks import (
    Task,
    TaskCallbacks,
    TaskHandle,
    TaskProgress,
    TaskRunner,
    estimate_remaining_s,
    make_progress,
)
from energyopt.errors import CancelledError
from energyopt.progress import CancelToken

__all__ = [
    "ProgressInfo",
    "Worker",
    "WorkerManager",
    "estimate_remaining_s",
    "running_threads",
    "worker_task_runner",
]

_THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()
"""Every worker thread ever started and still alive (for leak checks in tests)."""


def running_threads() -> list[QThread]:
    """Return the worker threads that are still running."""
    return [thread for thread in list(_THREADS) if thread.isRunning()]


ProgressInfo = TaskProgress
"""One progress report of a running worker (with ``elapsed_s`` and ``remaining_s``)."""


class _Thread(QThread):
    """The thread running one worker's function; stores its outcome."""

    def __init__(self, call: Callable[[], Any]) -> None:
        super().__init__()
        self._call = call
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self._call()
        except BaseException as exc:  # every outcome is reported to the GUI thread
            self.error = exc


class Worker(QObject):
    """One function call on its own thread, with progress, cancel and outcome signals.

    Parameters
    ----------
    fn : callable
        The function; called as ``fn(*args, progress=..., cancel=..., **kwargs)``.
    *args
        Positional arguments of ``fn``.
    name : str
        What the work is, for the progress display (already translated).
    pass_progress : bool
        ``False`` calls ``fn(*args, **kwargs)`` without ``progress`` and
        ``cancel`` (for functions that do not take them; they cannot be cancelled).
    min_interval_s : float
        Shortest time between two :attr:`progressed` signals. [s]
    parent : QObject, optional
        Qt parent.
    **kwargs
        Keyword arguments of ``fn``.
    """

    progressed = Signal(object)
    """A :class:`ProgressInfo` (throttled)."""
    finished = Signal(object)
    """The function's return value."""
    failed = Signal(object)
    """The exception the function raised (not a cancellation)."""
    cancelled = Signal()
    """The function stopped on :class:`~energyopt.errors.CancelledError`."""
    done = Signal()
    """Emitted last, after any of the three outcomes."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *args: Any,
        name: str = "",
        pass_progress: bool = True,
        min_interval_s: float = 0.05,
        parent: QObject | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(parent)
        self.name = name
        self.token = CancelToken()
        """The cancel token handed to the function."""
        self._min_interval_s = min_interval_s
        self._lock = threading.Lock()
        self._last_emit = 0.0
        self._started_at = 0.0
        if pass_progress:
            kwargs = {**kwargs, "progress": self._report, "cancel": self.token}
        self._thread = _Thread(lambda: fn(*args, **kwargs))
        self._thread.setObjectName(f"energyopt worker: {name}")
        self._thread.finished.connect(self._on_thread_finished)
        self._state = "new"

    # ---------------------------------------------------------- control
    def start(self) -> None:
        """Start the thread (once).

        Raises
        ------
        RuntimeError
            If the worker was already started.
        """
        if self._state != "new":
            raise RuntimeError(f"worker {self.name!r} was already started")
        self._state = "running"
        self._started_at = time.perf_counter()
        _THREADS.add(self._thread)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the function to stop at its next cancellation point."""
        self.token.cancel()

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Block until the thread ended; return whether it did within the time.

        Use only where blocking is acceptable (shutdown, tests): the outcome
        signals still need the event loop to be delivered.
        """
        return self._thread.wait(timeout_ms)

    @property
    def is_running(self) -> bool:
        """Whether the outcome is not known yet (started and not reported)."""
        return self._state == "running"

    @property
    def state(self) -> str:
        """``"new"``, ``"running"``, ``"finished"``, ``"failed"`` or ``"cancelled"``."""
        return self._state

    # ------------------------------------------------------- internals
    def _report(self, done: float, total: float | None, message: str) -> None:
        """Progress callback, called on the worker thread."""
        now = time.perf_counter()
        final = total is not None and done >= total
        with self._lock:
            if not final and now - self._last_emit < self._min_interval_s:
                return
            self._last_emit = now
        info = make_progress(done, total, message, now - self._started_at)
        # A signal of a QObject living on the GUI thread, emitted from the
        # worker thread: Qt queues it to the receivers' thread.
        self.progressed.emit(info)

    def _on_thread_finished(self) -> None:
        """Deliver the outcome on the GUI thread, once the thread has ended."""
        self._thread.wait()  # finished is emitted just before run() returns
        error = self._thread.error
        if error is None:
            self._state = "finished"
            self.finished.emit(self._thread.result)
        elif isinstance(error, CancelledError):
            self._state = "cancelled"
            self.cancelled.emit()
        else:
            self._state = "failed"
            self.failed.emit(error)
        self._thread.result = None
        self._thread.error = None
        self.done.emit()


class WorkerManager(QObject):
    """Starts workers, keeps the running ones, cancels and joins them on shutdown.

    Parameters
    ----------
    parent : QObject, optional
        Qt parent (the main window).
    """

    started = Signal(object)
    """A :class:`Worker` was started."""
    busy_changed = Signal(bool)
    """Whether any worker is running, emitted when that changes."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._active: list[Worker] = []

    @property
    def active(self) -> list[Worker]:
        """The workers whose outcome is not delivered yet."""
        return list(self._active)

    def start(self, fn: Callable[..., Any], *args: Any, name: str = "", **kwargs: Any) -> Worker:
        """Create and start a :class:`Worker` (same arguments); return it."""
        worker = Worker(fn, *args, name=name, **kwargs)
        self.add(worker)
        worker.start()
        return worker

    def add(self, worker: Worker) -> None:
        """Track a worker created elsewhere (before starting it)."""
        was_busy = bool(self._active)
        self._active.append(worker)
        worker.done.connect(lambda: self._forget(worker))
        self.started.emit(worker)
        if not was_busy:
            self.busy_changed.emit(True)

    def cancel_all(self) -> None:
        """Ask every running worker to stop."""
        for worker in self._active:
            worker.cancel()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel every worker and wait for its thread to end.

        Parameters
        ----------
        timeout_ms : int
            Longest wait for all threads together. [ms]

        Returns
        -------
        bool
            Whether every thread ended in time (a function that never checks
            its cancel token may outlive the timeout).
        """
        self.cancel_all()
        deadline = time.perf_counter() + timeout_ms / 1000.0
        ok = True
        for worker in list(self._active):
            left_ms = max(int((deadline - time.perf_counter()) * 1000.0), 0)
            ok = worker.wait(left_ms) and ok
        return ok

    def _forget(self, worker: Worker) -> None:
        if worker in self._active:
            self._active.remove(worker)
            if not self._active:
                self.busy_changed.emit(False)


def worker_task_runner(manager: WorkerManager, name: str = "") -> TaskRunner:
    """Return the :class:`~energyopt.appstate.tasks.TaskRunner` of the GUI: a worker per task.

    Each task runs in a :class:`Worker` of ``manager`` (shown by the progress
    panel; cancelled and joined when the window closes).  Its progress and
    outcome are delivered on the GUI thread (the worker's signals); the handle
    returned is the worker (:meth:`Worker.cancel` sets the task's token).

    Parameters
    ----------
    manager : WorkerManager
        Tracks the workers.
    name : str
        What the work is, for the progress display (translated), where a task
        brings no name of its own.
    """
    default_name = name  # the task's ``name`` argument below shadows it

    def run(fn: Task, callbacks: TaskCallbacks, *, name: str = "") -> TaskHandle:
        worker = manager.start(fn, name=name or default_name)
        if callbacks.on_progress is not None:
            worker.progressed.connect(callbacks.on_progress)
        worker.finished.connect(callbacks.on_result)
        worker.failed.connect(callbacks.on_error)
        if callbacks.on_cancelled is not None:
            worker.cancelled.connect(callbacks.on_cancelled)
        return worker

    return run
