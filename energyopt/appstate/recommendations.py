"""What the recommendations panel shows: the advisor's current recommendation and the decisions.

:class:`RecommendationsModel` is Qt-free.  It asks a
:class:`RecommendationSource` (the advisor of a project and its history in a
child process, or a test double) for the recommendation at the replay clock's
time, always through the :class:`~energyopt.appstate.tasks.TaskRunner` the
front end provides (the GUI runs the call in a worker thread and delivers the
result on its own thread), and holds the newest one as a
:class:`~energyopt.appstate.advice.RecommendationView` (sources and views are
defined in :mod:`energyopt.appstate.advice`, the requests' plumbing in
:mod:`energyopt.appstate.recommendation_requests`).  Requests
made while one is running are coalesced: only the newest time is asked next.

The mode switch follows :class:`~controllers.advisor.settings.AdvisorMode`:

- ``OFF``: nothing is shown and nothing is asked (in-flight results are dropped);
- ``PREDICT``: the advisor's predicted moves are shown, no decision is possible;
- ``ADVISE``: recommended setpoints, each to be accepted, rejected or held
  (:meth:`RecommendationsModel.decide`), recorded in the project's
  :class:`~energyopt.appstate.decisions.DecisionLog`.

The model starts in ``OFF``: opening a project never starts a solve by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from psygnal import Signal

from controllers.advisor.settings import AdvisorMode
from energyopt.appstate.advice import (
    Describe,
    MVRow,
    Opener,
    RecommendationSource,
    RecommendationView,
    open_advisor_process,
    open_advisor_session,
    view_from_dict,
    view_from_recommendation,
)
from energyopt.appstate.decisions import Decision, DecisionEntry, DecisionLog
from energyopt.appstate.recommendation_requests import RecommendationRequests, RequestEvents
from energyopt.errors import EnergyoptError

if TYPE_CHECKING:
    from energyopt.appstate.replay_clock import ReplayClock
    from energyopt.appstate.session import SessionState
    from energyopt.appstate.tasks import TaskRunner

__all__ = [
    "CLOCK_OWNER",
    "Describe",
    "MVRow",
    "RecommendationSource",
    "RecommendationView",
    "RecommendationsModel",
    "open_advisor_process",
    "open_advisor_session",
    "view_from_dict",
    "view_from_recommendation",
]

CLOCK_OWNER = "recommendations"
"""Name under which the model holds the replay clock while a request runs."""


class RecommendationsModel:
    """The current recommendation, the advisor mode and the project's decision log.

    Parameters
    ----------
    runner : TaskRunner
        Runs source calls off the caller's thread (a call superseded by a new
        source or mode OFF is cancelled, and its outcome dropped).
    decisions : DecisionLog, optional
        Where decisions go; an in-memory log if omitted (replaced per project
        by :meth:`follow_session`).
    currency : str
        Currency of the expected saving when the source does not name one.
    """

    mode_changed = Signal(object)
    """Emitted with the new :class:`AdvisorMode`."""
    recommendation_changed = Signal(object)
    """Emitted with the new :class:`RecommendationView` (``None`` when cleared)."""
    busy_changed = Signal(bool)
    """Whether a request (or opening the source) is running."""
    failed = Signal(object)
    """Emitted with the exception of a failed request or source opening."""
    log_failed = Signal(object)
    """Emitted with the error of a decision log that cannot be loaded or saved."""
    decision_recorded = Signal(object)
    """Emitted with each :class:`DecisionEntry` made through :meth:`decide`."""
    decisions_changed = Signal(object)
    """Emitted with the new :class:`DecisionLog` when the project changed."""
    source_changed = Signal(object)
    """Emitted with the new source (``None`` when dropped)."""

    def __init__(
        self,
        runner: TaskRunner,
        decisions: DecisionLog | None = None,
        *,
        currency: str = "",
    ) -> None:
        self.decisions = decisions if decisions is not None else DecisionLog()
        """The decision log of the open project."""
        self.currency = currency
        """Currency of savings the source does not label."""
        self._mode = AdvisorMode.OFF
        self._view: RecommendationView | None = None
        self._decided: dict[str, Decision] = {}
        self._time_ms: int | None = None
        self._was_busy = False
        self._requests = RecommendationRequests(
            runner,
            RequestEvents(
                delivered=self._delivered,
                failed=self._failed,
                opened=self.set_source,
                busy=self._busy_update,
                wanted=lambda: self._mode != AdvisorMode.OFF,
            ),
        )

    # ------------------------------------------------------------- state
    @property
    def mode(self) -> AdvisorMode:
        """The advisor mode shown (OFF at start)."""
        return self._mode

    @mode.setter
    def mode(self, value: AdvisorMode) -> None:
        mode = AdvisorMode(value)
        if mode == self._mode:
            return
        self._mode = mode
        if mode == AdvisorMode.OFF:
            self._requests.drop()  # results in flight are dropped
            self._set_view(None)
        self.mode_changed.emit(mode)
        self._busy_update()
        if mode != AdvisorMode.OFF:
            self._requests.ensure_open()
            self._request()

    @property
    def source(self) -> RecommendationSource | None:
        """Where recommendations come from, ``None`` if none."""
        return self._requests.source

    @property
    def current(self) -> RecommendationView | None:
        """The newest recommendation, ``None`` if none (or mode OFF)."""
        return self._view

    @property
    def time_ms(self) -> int | None:
        """Time the newest request is for. [ms since epoch]."""
        return self._time_ms

    @property
    def busy(self) -> bool:
        """Whether a request or the opening of the source is running."""
        return self._requests.busy

    def decision(self, mv: str) -> Decision | None:
        """Return the decision taken on an MV of the current recommendation, ``None`` if none.

        Parameters
        ----------
        mv : str
            Name of the manipulated variable.
        """
        return self._decided.get(mv)

    # ------------------------------------------------------------ source
    def set_source(
        self, source: RecommendationSource | None, describe: Describe | None = None
    ) -> None:
        """Use another source (``None``: none); the current recommendation is dropped.

        A request to the old source still running is cancelled and the old
        source closed when it ended (at once if none runs).

        Parameters
        ----------
        source : RecommendationSource or None
            The new source.
        describe : callable, optional
            Turns a :class:`Recommendation` into a ``recommendation_to_dict``
            record (tags, engineering units, limits); without it rows show
            model names in SI.
        """
        self._requests.replace_source(source, describe)
        self._set_view(None)
        self.source_changed.emit(source)
        self._busy_update()
        self._request()

    def close(self) -> None:
        """Drop and close the source (window closed): an advisor process ends, none is opened."""
        self._requests.close()
        self._busy_update()

    def set_time(self, time_ms: int | None) -> None:
        """Ask for the recommendation at a time (in the background, unless mode is OFF).

        Parameters
        ----------
        time_ms : int or None
            Start of the control interval. [ms since epoch]
        """
        self._time_ms = None if time_ms is None else int(time_ms)
        self._request()

    def refresh(self) -> None:
        """Ask again for the current time (after an error, or with a changed source)."""
        if self._view is not None and self._view.time_ms == self._time_ms:
            self._set_view(None)
        self._request()

    def _request(self) -> None:
        wanted = self._time_ms
        if self._mode == AdvisorMode.OFF or wanted is None:
            return
        if self._view is not None and self._view.time_ms == wanted:
            return
        # While a request runs nothing starts: the newest time is asked on delivery.
        self._requests.ask(wanted, self.currency)

    def _delivered(self, view: RecommendationView) -> None:
        self._set_view(view)
        self._request()  # a coalesced newer time keeps the model busy
        self._busy_update()

    def _failed(self, exc: BaseException) -> None:
        self._busy_update()
        self.failed.emit(exc)

    def _set_view(self, view: RecommendationView | None) -> None:
        if view is None and self._view is None:
            return
        self._view = view
        self._decided = {}
        self.recommendation_changed.emit(view)

    def _busy_update(self) -> None:
        busy = self.busy
        if busy != self._was_busy:
            self._was_busy = busy
            self.busy_changed.emit(busy)

    # --------------------------------------------------------- decisions
    def decide(self, mv: str, decision: Decision, note: str = "") -> DecisionEntry:
        """Record the operator's decision on one recommended setpoint.

        Parameters
        ----------
        mv : str
            Manipulated variable of the current recommendation.
        decision : Decision
            Accepted, rejected or held.
        note : str
            Optional free text.

        Returns
        -------
        DecisionEntry
            The logged entry (also in the journal on disk).

        Raises
        ------
        ValueError
            If the mode is not ADVISE, there is no current recommendation, it
            has no such MV, or no recommended setpoint for it.
        OutputError
            If the journal cannot be written (nothing is recorded).
        """
        if self._mode != AdvisorMode.ADVISE:
            raise ValueError(f"decisions are taken in mode ADVISE, not {self._mode.name}")
        view = self._view
        if view is None:
            raise ValueError("there is no current recommendation to decide on")
        try:
            row = view.row(mv)
        except KeyError:
            raise ValueError(f"the current recommendation has no MV {mv!r}") from None
        if row.recommended is None:
            raise ValueError(f"there is no recommended setpoint for {mv!r}")
        entry = self.decisions.record(
            time_ms=view.time_ms,
            tag=row.tag,
            current=row.current,
            recommended=row.recommended,
            decision=Decision(decision),
            saving=view.expected_saving,
            unit=row.unit,
            note=note,
        )
        self._decided[mv] = entry.decision
        self.decision_recorded.emit(entry)
        return entry

    def set_decision_log(self, decisions: DecisionLog) -> None:
        """Use another decision log (emits :attr:`decisions_changed`).

        Parameters
        ----------
        decisions : DecisionLog
            The project's log.
        """
        self.decisions = decisions
        self._decided = {}
        self.decisions_changed.emit(decisions)

    # ------------------------------------------------------- connections
    def follow_clock(self, clock: ReplayClock) -> Callable[[], None]:
        """Ask at the clock's time, hold it while busy, pause it on failure.

        The clock's interval follows the source's, and it moves to the
        source's first decision time if it is earlier.

        Parameters
        ----------
        clock : ReplayClock
            The replay clock.

        Returns
        -------
        callable
            Stops following.
        """

        def on_busy(busy: bool) -> None:
            if busy:
                clock.hold(CLOCK_OWNER)
            else:
                clock.release(CLOCK_OWNER)

        def on_failed(_exc: object) -> None:
            clock.pause()

        def on_source(source: RecommendationSource | None) -> None:
            if source is None:
                return
            clock.set_interval_s(float(source.interval_s))
            span = clock.span_ms
            if span is None:
                return
            # Times without enough history before them cannot be advised:
            # start at the first one that can.
            times = np.asarray(source.decision_times(span[0], span[1] + 1), dtype=np.int64)
            now = clock.time_ms
            if times.size and now is not None and now < times[0]:
                clock.seek(int(times[0]))

        clock.time_changed.connect(self.set_time)
        self.busy_changed.connect(on_busy)
        self.failed.connect(on_failed)
        self.source_changed.connect(on_source)
        self.set_time(clock.time_ms)
        on_busy(self.busy)

        def disconnect() -> None:
            clock.time_changed.disconnect(self.set_time)
            self.busy_changed.disconnect(on_busy)
            self.failed.disconnect(on_failed)
            self.source_changed.disconnect(on_source)
            clock.release(CLOCK_OWNER)

        return disconnect

    def follow_session(
        self, session: SessionState, opener: Opener = open_advisor_process
    ) -> Callable[[], None]:
        """Load the project's decision log, and open the source once a mode needs it.

        When the project or the historian file changes, the decision log of
        the old project is saved (if it has unsaved decisions), the new one
        loaded, and the source dropped (an advisor process ends); it is
        opened with ``opener(project path, historian path)`` in the
        background when the mode is not OFF.  Errors opening the source are
        emitted on :attr:`failed`, those of the decision log on :attr:`log_failed`.

        Parameters
        ----------
        session : SessionState
            The desktop session.
        opener : callable
            ``opener(project_path, historian_path) -> (source, describe)``,
            called in the background (given ``cancel=`` a
            :class:`~energyopt.progress.CancelToken` if it takes one);
            :func:`open_advisor_process` by default (the advisor in a child
            process), :func:`open_advisor_session` in this process.

        Returns
        -------
        callable
            Stops following.
        """
        self._requests.opener = opener

        def on_project(_project: object) -> None:
            self._switch_log(session.project_path)
            if session.project is not None:
                self.currency = session.project.project.currency
            on_files()

        def on_files(*_args: object) -> None:
            historian = session.historian
            paths = (
                None
                if session.project_path is None or historian is None
                else (session.project_path, historian.path)
            )
            if self._requests.set_paths(paths):
                self.set_source(None)
                self._requests.ensure_open()  # if the mode needs it

        session.project_changed.connect(on_project)
        session.historian_changed.connect(on_files)
        on_project(session.project)

        def disconnect() -> None:
            session.project_changed.disconnect(on_project)
            session.historian_changed.disconnect(on_files)
            self._requests.opener = None

        return disconnect

    def _switch_log(self, project_path: Path | None) -> None:
        if self.decisions.project_path == project_path and project_path is not None:
            return
        try:
            self.decisions.save_if_needed()
        except EnergyoptError as exc:
            self.log_failed.emit(exc)  # the journal still holds the decisions
        new_log = DecisionLog(user=self.decisions.user)
        if project_path is not None:
            try:
                new_log = DecisionLog.open(project_path, user=self.decisions.user)
            except EnergyoptError as exc:
                # The broken file is left alone: decisions stay in memory only.
                self.log_failed.emit(exc)
        self.set_decision_log(new_log)
