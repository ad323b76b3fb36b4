"""Requests to a recommendation source: opening it, one call at a time, superseded calls dropped.

:class:`RecommendationRequests` is the plumbing behind
:class:`~energyopt.appstate.recommendations.RecommendationsModel`: it holds
the :class:`~energyopt.appstate.advice.RecommendationSource`, opens it in the
background with an :data:`~energyopt.appstate.advice.Opener`, and runs each
"recommend at ``t``" call through the front end's
:class:`~energyopt.appstate.tasks.TaskRunner`, delivering a
:class:`~energyopt.appstate.advice.RecommendationView` to the model.

- One request at a time: :meth:`RecommendationRequests.ask` while one runs
  does nothing (the model asks its newest time again when one is delivered).
- A request is superseded when the source is replaced or dropped
  (:meth:`~RecommendationRequests.drop`): its outcome is ignored (by
  generation) and its task cancelled; a
  :class:`~energyopt.appstate.advice.CancellableSource` (the advisor process)
  stops waiting for the reply at once.
- A source replaced while a request to it runs is closed when that request
  ends; a source opened for files that are no longer wanted is closed at once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controllers.advisor.recommendation import Recommendation
from energyopt.appstate.advice import (
    CancellableSource,
    Describe,
    Opener,
    RecommendationSource,
    RecommendationView,
    close_source,
    view_from_dict,
    view_from_recommendation,
)
from energyopt.appstate.tasks import TaskCallbacks, TaskHandle, TaskRunner
from energyopt.progress import CancelToken, ProgressCallback

__all__ = ["RecommendationRequests", "RequestEvents", "fetch_view"]


@dataclass(frozen=True)
class RequestEvents:
    """What :class:`RecommendationRequests` tells its owner (on the owner's thread).

    Attributes
    ----------
    delivered : callable
        Receives the :class:`RecommendationView` of the request in flight.
    failed : callable
        Receives the exception of a failed request or source opening.
    opened : callable
        Receives ``(source, describe)`` opened for the wanted files.
    busy : callable
        Called when :attr:`RecommendationRequests.busy` may have changed.
    wanted : callable
        Whether a source is wanted now (the model: its mode is not OFF).
    """

    delivered: Callable[[RecommendationView], None]
    failed: Callable[[BaseException], None]
    opened: Callable[[RecommendationSource, Describe | None], None]
    busy: Callable[[], None]
    wanted: Callable[[], bool]


def fetch_view(
    source: RecommendationSource,
    at_ms: int,
    *,
    describe: Describe | None = None,
    currency: str = "",
    cancel: CancelToken | None = None,
) -> RecommendationView:
    """Ask a source for one control interval and return what the panel shows.

    Parameters
    ----------
    source : RecommendationSource
        Where recommendations come from; a :class:`CancellableSource` gets ``cancel``.
    at_ms : int
        Start of the control interval. [ms since epoch]
    describe : callable, optional
        Turns a :class:`Recommendation` into a ``recommendation_to_dict`` record.
    currency : str
        Currency of the saving where the source names none.
    cancel : CancelToken, optional
        Set to stop waiting (only a :class:`CancellableSource` can).

    Raises
    ------
    TypeError
        If the source returns something else than a :class:`Recommendation`,
        a record or a :class:`RecommendationView`.
    """
    if cancel is not None and isinstance(source, CancellableSource):
        result: object = source.recommend_cancellable(at_ms, cancel)
    else:
        result = source.recommend(at_ms)
    if isinstance(result, RecommendationView):
        return result
    if isinstance(result, Recommendation):
        if describe is None:
            return view_from_recommendation(result, at_ms, currency=currency)
        record = describe(result)
        return view_from_dict(record, at_ms, currency=currency, prediction=result.prediction)
    if isinstance(result, Mapping):
        return view_from_dict(result, at_ms, currency=currency)
    raise TypeError(f"recommend() returned {type(result).__name__}")


def _takes_cancel(opener: Opener) -> bool:
    """Whether ``opener`` accepts a ``cancel`` keyword (the advisor process's does)."""
    try:
        return "cancel" in inspect.signature(opener).parameters
    except (TypeError, ValueError):  # a callable without a signature
        return False


class RecommendationRequests:
    """The source of recommendations and the one request to it at a time.

    Parameters
    ----------
    runner : TaskRunner
        Runs the source calls and the opening off the caller's thread.
    events : RequestEvents
        Where outcomes go.
    """

    def __init__(self, runner: TaskRunner, events: RequestEvents) -> None:
        self._runner = runner
        self._events = events
        self._source: RecommendationSource | None = None
        self._describe: Describe | None = None
        self._inflight_ms: int | None = None
        self._handle: TaskHandle | None = None
        self._requests = 0
        self._generation = 0
        self._opening = False
        self._open_handle: TaskHandle | None = None
        self._opens = 0
        self._opener: Opener | None = None
        self._paths: tuple[Path, Path] | None = None
        self._closed = False

    # ------------------------------------------------------------- state
    @property
    def source(self) -> RecommendationSource | None:
        """Where recommendations come from, ``None`` if none."""
        return self._source

    @property
    def describe(self) -> Describe | None:
        """The source's record function, ``None`` if none."""
        return self._describe

    @property
    def inflight_ms(self) -> int | None:
        """Time of the request running, ``None`` if none. [ms since epoch]."""
        return self._inflight_ms

    @property
    def busy(self) -> bool:
        """Whether a request or the opening of the source is running."""
        return self._inflight_ms is not None or self._opening

    @property
    def opener(self) -> Opener | None:
        """Opens a source on ``(project path, historian path)``, ``None`` if none."""
        return self._opener

    @opener.setter
    def opener(self, opener: Opener | None) -> None:
        self._opener = opener

    @property
    def paths(self) -> tuple[Path, Path] | None:
        """The project and historian files a source is wanted for, ``None`` if none."""
        return self._paths

    # ------------------------------------------------------------ source
    def drop(self) -> None:
        """Supersede the request in flight: its outcome is ignored, its task cancelled."""
        self._generation += 1
        self._inflight_ms = None
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.cancel()

    def replace_source(
        self, source: RecommendationSource | None, describe: Describe | None
    ) -> None:
        """Use another source; the old one is closed (once its request ended, if one runs).

        Parameters
        ----------
        source : RecommendationSource or None
            The new source.
        describe : callable or None
            Its record function.
        """
        busy = self._inflight_ms is not None
        self.drop()
        old, self._source, self._describe = self._source, source, describe
        if old is not None and old is not source and not busy:
            close_source(old)

    def close(self) -> None:
        """Drop the request, close the source; later openings are closed as they arrive."""
        self._closed = True
        self.drop()
        self._opening = False
        handle, self._open_handle = self._open_handle, None
        if handle is not None:
            handle.cancel()
        source, self._source = self._source, None
        if source is not None:
            close_source(source)

    def set_paths(self, paths: tuple[Path, Path] | None) -> bool:
        """Want a source for other files; return whether they changed.

        Parameters
        ----------
        paths : tuple of pathlib.Path or None
            ``(project path, historian path)``; ``None``: no source wanted.
        """
        if paths == self._paths:
            return False
        self._paths = paths
        return True

    def ensure_open(self) -> None:
        """Open the source for the files in the background if one is wanted and there is none."""
        if (
            not self._events.wanted()
            or self._closed
            or self._source is not None
            or self._opening
            or self._paths is None
            or self._opener is None
        ):
            return
        opener, paths = self._opener, self._paths
        with_cancel = _takes_cancel(opener)
        self._opening = True
        self._opens += 1
        attempt = self._opens
        self._events.busy()

        def task(*, progress: ProgressCallback, cancel: CancelToken) -> Any:
            del progress  # opening reports no steps
            if with_cancel:
                return opener(*paths, cancel=cancel)  # type: ignore[call-arg]
            return opener(*paths)

        def finish() -> bool:
            """End of the opening; whether it is still wanted."""
            self._opening, self._open_handle = False, None
            return not self._closed and paths == self._paths and self._source is None

        def opened(result: tuple[RecommendationSource, Describe | None]) -> None:
            if finish():
                self._events.opened(*result)
                return
            close_source(result[0])  # opened for files no longer wanted
            self._events.busy()
            self.ensure_open()

        def errored(exc: BaseException) -> None:
            wanted = finish()
            self._events.busy()
            if wanted:
                self._events.failed(exc)

        def cancelled() -> None:
            finish()
            self._events.busy()

        handle = self._runner(task, TaskCallbacks(opened, errored, on_cancelled=cancelled))
        if self._opens == attempt and self._opening:  # a runner may deliver before it returns
            self._open_handle = handle

    # ------------------------------------------------------------ requests
    def ask(self, at_ms: int, currency: str = "") -> bool:
        """Ask the source for a time in the background; return whether a request started.

        Nothing starts without a source or while a request runs.

        Parameters
        ----------
        at_ms : int
            Start of the control interval. [ms since epoch]
        currency : str
            Currency of the saving where the source names none.
        """
        source = self._source
        if source is None or self._inflight_ms is not None:
            return False
        describe, generation = self._describe, self._generation
        self._requests += 1
        request = self._requests
        self._inflight_ms = at_ms

        def fetch(*, progress: ProgressCallback, cancel: CancelToken) -> RecommendationView:
            del progress  # one solve: nothing to report
            return fetch_view(source, at_ms, describe=describe, currency=currency, cancel=cancel)

        def current() -> bool:
            """End of the request; whether its outcome is still wanted."""
            if generation != self._generation:
                if source is not self._source:
                    close_source(source)  # replaced while the request ran
                return False
            self._inflight_ms, self._handle = None, None
            return True

        def delivered(view: RecommendationView) -> None:
            if current():
                self._events.delivered(view)

        def errored(exc: BaseException) -> None:
            if current():
                self._events.busy()
                self._events.failed(exc)

        def cancelled() -> None:
            if current():  # cancelled by someone else than drop(): nothing to show
                self._events.busy()

        self._events.busy()
        handle = self._runner(fetch, TaskCallbacks(delivered, errored, on_cancelled=cancelled))
        if self._requests == request and self._inflight_ms is not None:
            self._handle = handle  # still running: drop() can cancel it
        return True
