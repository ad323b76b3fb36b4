"""How a Qt-free model asks its front end to run work in the background.

Every model in :mod:`energyopt.appstate` that does slow work (fitting,
loading files, replays, advisor calls) takes a :class:`TaskRunner`.  The
runner calls the task as ``fn(progress=..., cancel=...)`` -- the contract of
every energyopt workflow (:mod:`energyopt.progress`) -- off the caller's
thread, and delivers what happens on the caller's thread:

- any number of :class:`TaskProgress` reports to ``on_progress``, then
- exactly one outcome: ``on_result(value)``, ``on_error(exception)``, or
  ``on_cancelled()`` when the task raised
  :class:`~energyopt.errors.CancelledError` (without ``on_cancelled``
  nothing is delivered then),

to the :class:`TaskCallbacks` given with the task::

    handle = runner(fn, TaskCallbacks(on_result=show, on_error=report), name="load")

It returns a :class:`TaskHandle` whose :meth:`~TaskHandle.cancel` sets the
task's cancel token.  A runner may deliver the outcome before it returns
(:func:`run_inline` does), so a model must be ready for that.

The GUI's runner is :func:`gui.workers.worker_task_runner` (a worker thread
per task).  :func:`run_inline` runs the task at once, for scripts and tests;
:class:`DeferredRunner` keeps tasks until the caller runs them, for tests that
need to see a model while its task is still running.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from energyopt.errors import CancelledError
from energyopt.progress import CancelToken, ProgressCallback

__all__ = [
    "DeferredRunner",
    "PendingTask",
    "Task",
    "TaskCallbacks",
    "TaskHandle",
    "TaskProgress",
    "TaskRunner",
    "estimate_remaining_s",
    "make_progress",
    "run_inline",
    "single_call",
]


@dataclass(frozen=True)
class TaskProgress:
    """One progress report of a running task.

    Attributes
    ----------
    done : float
        Units of work finished. [-]
    total : float or None
        Units of work in all; ``None`` if unknown. [-]
    message : str
        What is being done.
    remaining_s : float or None
        Estimated time left; ``None`` while unknown. [s]
    elapsed_s : float or None
        Time since the task started; ``None`` if not measured. [s]
    """

    done: float
    total: float | None
    message: str
    remaining_s: float | None = None
    elapsed_s: float | None = None

    @property
    def fraction(self) -> float | None:
        """Share of the work done in [0, 1], ``None`` if the total is unknown."""
        if not self.total:
            return None
        return min(max(self.done / self.total, 0.0), 1.0)


def estimate_remaining_s(done: float, total: float | None, elapsed_s: float) -> float | None:
    """Estimate the time left from the mean rate so far.

    Parameters
    ----------
    done : float
        Units of work finished. [-]
    total : float or None
        Units of work in all. [-]
    elapsed_s : float
        Time spent so far. [s]

    Returns
    -------
    float or None
        ``elapsed_s * (total - done) / done`` [s]; ``None`` without a total or
        before any work is done.
    """
    if total is None or done <= 0 or elapsed_s <= 0:
        return None
    return max(elapsed_s * (total - done) / done, 0.0)


def make_progress(done: float, total: float | None, message: str, elapsed_s: float) -> TaskProgress:
    """Build the report of a progress callback's arguments, with the time-left estimate.

    Parameters
    ----------
    done, total : float
        Units of work finished and in all (``total`` may be ``None``). [-]
    message : str
        What is being done.
    elapsed_s : float
        Time since the task started. [s]
    """
    return TaskProgress(
        done=float(done),
        total=None if total is None else float(total),
        message=message,
        remaining_s=estimate_remaining_s(done, total, elapsed_s),
        elapsed_s=elapsed_s,
    )


class Task(Protocol):
    """A background call: ``fn(progress=..., cancel=...) -> result``."""

    def __call__(self, *, progress: ProgressCallback, cancel: CancelToken) -> Any:
        """Do the work, reporting progress and checking the token."""


def single_call(fn: Callable[[], Any]) -> Task:
    """Make a :class:`Task` of a call that neither reports progress nor can be cancelled.

    Parameters
    ----------
    fn : callable
        Called without arguments, off the caller's thread.
    """

    def task(*, progress: ProgressCallback, cancel: CancelToken) -> Any:
        del progress, cancel  # one call: nothing to report, no point to stop at
        return fn()

    return task


class TaskHandle(Protocol):
    """A started task: it can be asked to stop."""

    def cancel(self) -> None:
        """Ask the task to stop at its next cancellation point."""


@dataclass(frozen=True)
class TaskCallbacks:
    """Where a runner delivers a task's progress and outcome (on the caller's thread).

    Attributes
    ----------
    on_result : callable
        Receives the task's return value.
    on_error : callable
        Receives the exception the task raised (not a cancellation).
    on_progress : callable or None
        Receives each :class:`TaskProgress`; ``None``: reports are dropped.
    on_cancelled : callable or None
        Called when the task raised :class:`~energyopt.errors.CancelledError`;
        ``None``: a cancelled task delivers nothing.
    """

    on_result: Callable[[Any], None]
    on_error: Callable[[BaseException], None]
    on_progress: Callable[[TaskProgress], None] | None = None
    on_cancelled: Callable[[], None] | None = None


class TaskRunner(Protocol):
    """Runs a :class:`Task` off the caller's thread; delivers to the caller's thread.

    See the module documentation for the contract.
    """

    def __call__(self, fn: Task, callbacks: TaskCallbacks, *, name: str = "") -> TaskHandle:
        """Start ``fn``; return its handle.

        Parameters
        ----------
        fn : Task
            The work.
        callbacks : TaskCallbacks
            Where its progress and outcome go.
        name : str
            What the work is, for a progress display (the runner's own name if empty).
        """


def _run(fn: Task, token: CancelToken, callbacks: TaskCallbacks) -> None:
    """Run ``fn`` on this thread and deliver its progress and outcome."""
    started = time.perf_counter()
    on_progress = callbacks.on_progress

    def progress(done: float, total: float | None, message: str) -> None:
        if on_progress is not None:
            on_progress(make_progress(done, total, message, time.perf_counter() - started))

    try:
        value = fn(progress=progress, cancel=token)
    except CancelledError:
        if callbacks.on_cancelled is not None:
            callbacks.on_cancelled()
    except Exception as exc:  # every failure is the caller's to report
        callbacks.on_error(exc)
    else:
        callbacks.on_result(value)


def run_inline(fn: Task, callbacks: TaskCallbacks, *, name: str = "") -> CancelToken:
    """A :class:`TaskRunner` that runs ``fn`` at once on the caller's thread.

    For scripts and tests without an event loop; a front end must not use it
    (the caller blocks for the whole task).  Every callback is called before
    this function returns.  Arguments as :meth:`TaskRunner.__call__`.

    Returns
    -------
    CancelToken
        The token ``fn`` was given (its ``cancel`` method is the handle's).
    """
    del name  # nothing displays it
    token = CancelToken()
    _run(fn, token, callbacks)
    return token


@dataclass(eq=False)
class PendingTask:
    """A task handed to a :class:`DeferredRunner`, run when the caller says.

    Attributes
    ----------
    fn, callbacks, name
        As given to :meth:`DeferredRunner.__call__`.
    token : CancelToken
        The token ``fn`` gets; :meth:`cancel` sets it.
    """

    fn: Task
    callbacks: TaskCallbacks
    name: str = ""
    token: CancelToken = field(default_factory=CancelToken)

    def cancel(self) -> None:
        """Ask the task to stop (it still runs, and meets the cancelled token)."""
        self.token.cancel()

    def run(self) -> None:
        """Run the task now and deliver its progress and outcome."""
        _run(self.fn, self.token, self.callbacks)


class DeferredRunner:
    """A :class:`TaskRunner` that keeps each task until the caller runs it.

    For tests (and scripts stepping a model): the model sees its task
    running, as with a worker thread, until :meth:`run_next` or
    :meth:`run_all`.  Tasks run on the calling thread.
    """

    def __init__(self) -> None:
        self.pending: list[PendingTask] = []
        """Tasks handed over and not run yet, oldest first."""
        self.started: list[PendingTask] = []
        """Every task handed over, oldest first."""

    def __call__(self, fn: Task, callbacks: TaskCallbacks, *, name: str = "") -> PendingTask:
        """Keep ``fn`` (arguments as :meth:`TaskRunner.__call__`); return its handle."""
        task = PendingTask(fn, callbacks, name)
        self.pending.append(task)
        self.started.append(task)
        return task

    def run_next(self, index: int = 0) -> PendingTask:
        """Run one pending task (the oldest by default) and return it.

        Raises
        ------
        IndexError
            If there is no such pending task.
        """
        task = self.pending.pop(index)
        task.run()
        return task

    def run_all(self) -> None:
        """Run pending tasks until none is left (including those they start)."""
        while self.pending:
            self.run_next()
