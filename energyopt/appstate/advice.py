"""Where recommendations come from: the sources, how they are opened, what they give.

A :class:`RecommendationSource` (``energyopt.advise.AdvisorSession``, or a
test double) returns a :class:`~controllers.advisor.recommendation.Recommendation`,
a ``recommendation_to_dict`` record or a ready :class:`RecommendationView`
for a control interval; :func:`view_from_recommendation` and
:func:`view_from_dict` (defined in :mod:`energyopt.appstate.advice_views`,
importable from here) turn the first two into a view (one :class:`MVRow` per
manipulated variable, in engineering units where the record gives them).

Two ways to open the advisor of a project: :func:`open_advisor_process` (what
the desktop app uses) runs the session in a child process
(:class:`energyopt.advise.remote.RemoteAdvisor`) whose solves never hold this
process's GIL, behind a :class:`ProcessSource` that returns ready views;
:func:`open_advisor_session` opens it in the calling process (scripts, tests).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy.typing as npt

from controllers.advisor.recommendation import Recommendation
from controllers.advisor.settings import AdvisorMode
from energyopt.appstate.advice_views import (
    MVRow,
    RecommendationView,
    view_from_dict,
    view_from_recommendation,
)
from energyopt.errors import ProjectError

if TYPE_CHECKING:
    import numpy as np

    from energyopt.advise.remote import RemoteAdvisor
    from energyopt.progress import CancelToken

__all__ = [
    "CancellableSource",
    "Describe",
    "MVRow",
    "Opener",
    "ProcessSource",
    "RecommendationSource",
    "RecommendationView",
    "close_source",
    "open_advisor_process",
    "open_advisor_session",
    "view_from_dict",
    "view_from_recommendation",
]


@runtime_checkable
class RecommendationSource(Protocol):
    """What the model asks for recommendations (``energyopt.advise.AdvisorSession``).

    ``recommend`` is called on a worker thread, one call at a time.
    """

    @property
    def interval_s(self) -> float:
        """Control interval. [s]."""

    def decision_times(self, start_ms: int, end_ms: int) -> npt.ArrayLike:
        """Return the interval starts in ``[start_ms, end_ms)`` it can be asked at.

        Parameters
        ----------
        start_ms, end_ms : int
            Range. [ms since epoch]
        """

    def recommend(self, at_ms: int) -> Recommendation | Mapping[str, Any] | RecommendationView:
        """Return the recommendation for one control interval.

        Parameters
        ----------
        at_ms : int
            Start of the interval. [ms since epoch]
        """


Describe = Callable[[Recommendation], Mapping[str, Any]]
"""Turns a :class:`Recommendation` into the JSON-ready record of ``recommendation_to_dict``."""


def open_advisor_session(
    project_path: Path, data_path: Path
) -> tuple[RecommendationSource, Describe | None]:
    """Open ``energyopt.advise.AdvisorSession`` on a project and its history.

    It builds the controller and reads the disturbance record of the whole
    file (the forecasts of every later time use it): slow, run it off the
    GUI thread.

    Parameters
    ----------
    project_path : pathlib.Path
        Project file.
    data_path : pathlib.Path
        Historian file.

    Returns
    -------
    tuple
        The session and a function giving its ``recommendation_to_dict`` record.

    Raises
    ------
    ProjectError
        If this installation has no advisor session, or the project cannot be advised.
    """
    try:
        # Imported by name: the advisor workflow is optional for the panel.
        advise = importlib.import_module("energyopt.advise")
    except ImportError as exc:
        raise ProjectError(f"the advisor is not available in this installation ({exc})") from None
    # Always computed in full: the panel's mode switch decides what is shown.
    session = advise.AdvisorSession.open(project_path, data_path, mode=AdvisorMode.ADVISE)
    # The disturbance record of the whole file, read once: otherwise every
    # later time re-reads it and rebuilds the forecast (its casadi symbolic
    # model, 25-90 ms calls holding the GIL and stalling the GUI thread).
    try:
        session.preload(*session.reader.time_span_ms)
    except BaseException:
        session.close()
        raise
    to_dict = advise.recommendation_to_dict

    def describe(rec: Recommendation) -> Mapping[str, Any]:
        return dict(to_dict(rec, session))

    return session, describe


Opener = Callable[[Path, Path], tuple[RecommendationSource, "Describe | None"]]
"""Opens a recommendation source on a project file and a historian file."""


def close_source(source: RecommendationSource) -> None:
    """Close a source that holds files (the advisor session keeps the historian open).

    Parameters
    ----------
    source : RecommendationSource
        The source; one without a ``close`` method is left as it is.
    """
    close = getattr(source, "close", None)  # optional: not part of the protocol
    if callable(close):
        close()


@runtime_checkable
class CancellableSource(Protocol):
    """A source whose requests can stop waiting (:class:`ProcessSource`)."""

    def recommend_cancellable(self, at_ms: int, cancel: CancelToken) -> RecommendationView:
        """Return the view for one control interval, or raise ``CancelledError`` once cancelled.

        Parameters
        ----------
        at_ms : int
            Start of the interval. [ms since epoch]
        cancel : CancelToken
            Set to stop waiting.
        """


class ProcessSource:
    """The advisor of a project in a child process, as a :class:`RecommendationSource`.

    It returns plain-data :class:`RecommendationView` objects built from the
    child's records (tags and engineering units); its times are answered
    without asking the child.

    Parameters
    ----------
    remote : RemoteAdvisor
        The started advisor process (closed with this source).
    """

    def __init__(self, remote: RemoteAdvisor) -> None:
        self.remote = remote
        """The advisor process."""

    @property
    def interval_s(self) -> float:
        """Control interval. [s]."""
        return self.remote.interval_s

    def decision_times(self, start_ms: int, end_ms: int) -> np.ndarray:
        """Return the interval starts in ``[start_ms, end_ms)`` it can be asked at.

        Parameters
        ----------
        start_ms, end_ms : int
            Range. [ms since epoch]
        """
        return self.remote.decision_times(start_ms, end_ms)

    def recommend(self, at_ms: int) -> RecommendationView:
        """Return the view of the recommendation for one control interval.

        Parameters
        ----------
        at_ms : int
            Start of the interval. [ms since epoch]
        """
        return self._view(self.remote.recommend(at_ms), at_ms)

    def recommend_cancellable(self, at_ms: int, cancel: CancelToken) -> RecommendationView:
        """As :meth:`recommend`; raises ``CancelledError`` soon after ``cancel`` is set.

        Parameters
        ----------
        at_ms : int
            Start of the interval. [ms since epoch]
        cancel : CancelToken
            Set to stop waiting (the child's late reply is dropped).
        """
        return self._view(self.remote.recommend(at_ms, cancel), at_ms)

    def _view(self, rec: Any, at_ms: int) -> RecommendationView:
        return view_from_dict(
            rec.record, at_ms, currency=self.remote.currency, prediction=rec.prediction
        )

    def close(self) -> None:
        """End the advisor process (never blocks)."""
        self.remote.close()


def open_advisor_process(
    project_path: Path, data_path: Path, *, cancel: CancelToken | None = None
) -> tuple[RecommendationSource, Describe | None]:
    """Start the advisor of a project and its history in a child process.

    As :func:`open_advisor_session` (the session is opened in ADVISE mode and
    the whole file's history read once), but in a process of its own: its
    solves and file reads never hold this process's GIL.  Slow (seconds):
    run it off the GUI thread.

    Parameters
    ----------
    project_path : pathlib.Path
        Project file.
    data_path : pathlib.Path
        Historian file.
    cancel : CancelToken, optional
        Set to stop waiting (the child is terminated).

    Returns
    -------
    tuple
        A :class:`ProcessSource` and ``None`` (its views are ready-made).

    Raises
    ------
    EnergyoptError
        The session's own error (``ProjectError``, ``DataError``), or the
        child ended before it was ready.
    CancelledError
        If ``cancel`` was set.
    """
    from energyopt.advise.remote import RemoteAdvisor

    remote = RemoteAdvisor.open(
        project_path, data_path, mode=AdvisorMode.ADVISE.name, preload=True, cancel=cancel
    )
    return ProcessSource(remote), None
