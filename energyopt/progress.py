"""Progress reporting and cooperative cancellation for long operations.

Workflows take an optional ``progress`` callback and a :class:`CancelToken`.
The CLI passes a rich progress bar, the GUI a Qt signal emitter; library code
never knows which.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from energyopt.errors import CancelledError

__all__ = ["CancelToken", "ProgressCallback", "cli_progress", "null_progress"]


class ProgressCallback(Protocol):
    """Called as ``progress(done, total, message)``; ``total`` may be ``None``."""

    def __call__(self, done: float, total: float | None, message: str) -> None:
        """Report that ``done`` of ``total`` units of work are finished."""


def null_progress(done: float, total: float | None, message: str) -> None:
    """A progress callback that does nothing."""


class CancelToken:
    """Thread-safe flag a user interface sets to ask a workflow to stop.

    Workflows call :meth:`raise_if_cancelled` between units of work; it raises
    :class:`~energyopt.errors.CancelledError`, and the workflow's atomic writes
    guarantee no partial output is left behind.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Request cancellation."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether cancellation was requested."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`CancelledError` if cancellation was requested."""
        if self._event.is_set():
            raise CancelledError("operation cancelled by the user")


@contextmanager
def cli_progress(description: str, *, enabled: bool = True) -> Iterator[ProgressCallback]:
    """Yield a progress callback drawing a rich progress bar with time left on stderr.

    Parameters
    ----------
    description : str
        Text shown left of the bar.
    enabled : bool
        ``False`` yields :func:`null_progress` (for ``--json`` output or non-TTY use).
    """
    if not enabled:
        yield null_progress
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    lock = threading.Lock()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[message]}"),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None, message="")

        def update(done: float, total: float | None, message: str) -> None:
            with lock:
                bar.update(task, completed=done, total=total, message=message)

        yield update
