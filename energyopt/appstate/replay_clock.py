"""The replay clock: stepping through the recorded history at the controller interval.

:class:`ReplayClock` is Qt-free state: the historian's time span, the control
interval, the current time (always a point of the interval grid inside the
span), whether it plays and at which speed.  It does not own a timer: the
front end calls :meth:`ReplayClock.advance` with the wall time elapsed since
its last tick, and the clock turns that into steps:

- at a fixed speed (simulated seconds per wall second, x1 ... x3600) the
  elapsed wall time is converted to simulated time and whole intervals are
  stepped, the remainder carried to the next tick; consumers that are still
  busy with an earlier time are not waited for (they catch up on the newest
  time);
- at :data:`AS_FAST_AS_POSSIBLE` the clock steps one interval per tick while
  no consumer holds it (:meth:`hold` / :meth:`release`): the recommendations
  model holds it while the advisor solves, so replay runs as fast as the
  solver allows.

The grid is aligned to whole intervals since the epoch (as the controller's
decision times), so every step lands on a control-interval boundary.
:meth:`ReplayClock.follow_session` keeps the clock and a
:class:`~energyopt.appstate.SessionState` in step (span from the historian
file, interval and time zone from the project, replay time both ways).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from psygnal import Signal

from energyopt.data.format import format_time_ms

if TYPE_CHECKING:
    from energyopt.appstate.historian import HistorianSummary
    from energyopt.appstate.session import SessionState
    from energyopt.project import Project

__all__ = ["AS_FAST_AS_POSSIBLE", "MAX_TICK_S", "SPEEDS", "ReplayClock"]

AS_FAST_AS_POSSIBLE: Final = math.inf
"""Speed meaning "one interval per tick, as soon as no consumer holds the clock"."""
SPEEDS: Final[tuple[float, ...]] = (1.0, 10.0, 60.0, 360.0, 3600.0, AS_FAST_AS_POSSIBLE)
"""Speeds offered to the user. [simulated s per wall s]"""
MAX_TICK_S: Final = 0.5
"""Longest wall time one :meth:`ReplayClock.advance` call counts (a stalled or
suspended front end does not make the replay jump ahead). [s]"""


class ReplayClock:
    """Current replay time, stepping at the control interval, play/pause and speed.

    Parameters
    ----------
    interval_s : float
        Control interval: the step of the clock. [s]
    speed : float
        Simulated seconds per wall second, or :data:`AS_FAST_AS_POSSIBLE`.
    timezone : str
        IANA time zone the time is shown in.

    Raises
    ------
    ValueError
        If ``interval_s`` is not positive and finite or ``speed`` not positive.
    """

    time_changed = Signal(int)
    """Emitted with the new current time. [ms since epoch]"""
    playing_changed = Signal(bool)
    """Emitted when playback starts or stops."""
    speed_changed = Signal(float)
    """Emitted with the new speed. [simulated s per wall s]"""
    span_changed = Signal()
    """Emitted when the span, the interval or the time zone changed (the grid moved)."""

    def __init__(
        self, interval_s: float = 60.0, speed: float = 60.0, timezone: str = "UTC"
    ) -> None:
        self._interval_ms = _interval_ms(interval_s)
        self._speed = _checked_speed(speed)
        self._timezone = timezone
        self._span: tuple[int, int] | None = None
        self._time_ms: int | None = None
        self._playing = False
        self._carry_s = 0.0
        self._holders: set[str] = set()

    # -------------------------------------------------------------- grid
    @property
    def interval_s(self) -> float:
        """Control interval (the step). [s]."""
        return self._interval_ms / 1000.0

    def set_interval_s(self, interval_s: float) -> None:
        """Change the step; the current time moves to the grid point at or before it.

        Parameters
        ----------
        interval_s : float
            Control interval. [s]

        Raises
        ------
        ValueError
            If ``interval_s`` is not positive and finite, or shorter than 1 ms.
        """
        interval_ms = _interval_ms(interval_s)
        if interval_ms != self._interval_ms:
            self._interval_ms = interval_ms
            self.span_changed.emit()
            if self._time_ms is not None:
                self.seek(self._time_ms)

    @property
    def timezone(self) -> str:
        """IANA time zone the time is shown in."""
        return self._timezone

    def set_timezone(self, timezone: str) -> None:
        """Show times in another time zone.

        Parameters
        ----------
        timezone : str
            IANA name (``"Asia/Shanghai"``).
        """
        if timezone != self._timezone:
            self._timezone = timezone
            self.span_changed.emit()

    @property
    def span_ms(self) -> tuple[int, int] | None:
        """First and last sample time of the history, ``None`` without one. [ms since epoch]."""
        return self._span

    def set_span(self, start_ms: int, end_ms: int) -> None:
        """Set the recorded span; the current time moves into it (its first grid point if unset).

        Parameters
        ----------
        start_ms, end_ms : int
            First and last sample time of the history. [ms since epoch]

        Raises
        ------
        ValueError
            If ``end_ms < start_ms``.
        """
        if end_ms < start_ms:
            raise ValueError(f"replay span ends ({end_ms} ms) before it starts ({start_ms} ms)")
        self._span = (int(start_ms), int(end_ms))
        self.span_changed.emit()
        self.seek(self._time_ms if self._time_ms is not None else start_ms)

    def clear_span(self) -> None:
        """Forget the span (no historian file): pause, no current time."""
        self.pause()
        if self._span is not None:
            self._span = None
            self._time_ms = None
            self.span_changed.emit()

    @property
    def steps(self) -> int:
        """Number of grid points inside the span (0 without one). [-]."""
        grid = self._grid()
        return 0 if grid is None else (grid[1] - grid[0]) // self._interval_ms + 1

    def _grid(self) -> tuple[int, int] | None:
        """First and last grid point inside the span; ``None`` without a span or grid point."""
        if self._span is None:
            return None
        step = self._interval_ms
        first = -(-self._span[0] // step) * step  # ceiling to the grid
        last = self._span[1] // step * step
        if last < first:  # the span is shorter than one interval: its start only
            return (self._span[0], self._span[0])
        return (first, last)

    def time_at(self, index: int) -> int:
        """Return the time of grid point ``index`` (clamped into the grid). [ms since epoch].

        Parameters
        ----------
        index : int
            Grid index (0: the first grid point of the span).

        Raises
        ------
        ValueError
            Without a span.
        """
        grid = self._grid()
        if grid is None:
            raise ValueError("the replay clock has no time span (no historian file)")
        return min(max(grid[0] + int(index) * self._interval_ms, grid[0]), grid[1])

    # -------------------------------------------------------------- time
    @property
    def time_ms(self) -> int | None:
        """Current time, a grid point inside the span; ``None`` without a span. [ms since epoch]."""
        return self._time_ms

    @property
    def index(self) -> int | None:
        """Grid index of the current time, ``None`` without one. [-]."""
        grid = self._grid()
        if grid is None or self._time_ms is None:
            return None
        return (self._time_ms - grid[0]) // self._interval_ms

    def seek(self, time_ms: int) -> int | None:
        """Move to the grid point at or before ``time_ms`` (clamped into the span).

        Parameters
        ----------
        time_ms : int
            Wanted time. [ms since epoch]

        Returns
        -------
        int or None
            The new current time, ``None`` without a span (nothing happens). [ms since epoch]
        """
        grid = self._grid()
        if grid is None:
            return None
        target = int(time_ms) // self._interval_ms * self._interval_ms
        self._set_time(min(max(target, grid[0]), grid[1]))
        return self._time_ms

    def seek_index(self, index: int) -> int | None:
        """Move to grid point ``index`` (clamped); return the new time, ``None`` without a span.

        Parameters
        ----------
        index : int
            Grid index.
        """
        if self._grid() is None:
            return None
        self._set_time(self.time_at(index))
        return self._time_ms

    def step(self, n: int = 1) -> bool:
        """Move ``n`` intervals (negative: back), stopping at the span's ends.

        Playback pauses when the end is reached.

        Parameters
        ----------
        n : int
            Intervals to move.

        Returns
        -------
        bool
            Whether the time moved.
        """
        index = self.index
        if index is None:
            return False
        before = self._time_ms
        self._set_time(self.time_at(index + int(n)))
        if self.at_end:
            self.pause()
        return self._time_ms != before

    @property
    def at_end(self) -> bool:
        """Whether the current time is the last grid point."""
        grid = self._grid()
        return grid is not None and self._time_ms == grid[1]

    def _set_time(self, time_ms: int) -> None:
        if time_ms != self._time_ms:
            self._time_ms = time_ms
            self.time_changed.emit(time_ms)

    def format_time(self, time_ms: int | None = None) -> str:
        """Return a time (the current one by default) in the clock's time zone, ISO 8601.

        Parameters
        ----------
        time_ms : int, optional
            The time [ms since epoch]; the current one if omitted (an empty
            string without a current time).
        """
        moment = self._time_ms if time_ms is None else time_ms
        return "" if moment is None else format_time_ms(moment, self._timezone)

    # ---------------------------------------------------------- playback
    @property
    def playing(self) -> bool:
        """Whether the clock advances on :meth:`advance`."""
        return self._playing

    def play(self) -> None:
        """Start playback (from the start if at the end); nothing happens without a span."""
        if self._playing or self._grid() is None:
            return
        if self.at_end:
            self.seek_index(0)
        self._carry_s = 0.0
        self._playing = True
        self.playing_changed.emit(True)

    def pause(self) -> None:
        """Stop playback."""
        if self._playing:
            self._playing = False
            self._carry_s = 0.0
            self.playing_changed.emit(False)

    def toggle(self) -> None:
        """Play if paused, pause if playing."""
        if self._playing:
            self.pause()
        else:
            self.play()

    @property
    def speed(self) -> float:
        """Simulated seconds per wall second, or :data:`AS_FAST_AS_POSSIBLE` (``inf``)."""
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        speed = _checked_speed(value)
        if speed != self._speed:
            self._speed = speed
            self._carry_s = 0.0
            self.speed_changed.emit(speed)

    @property
    def as_fast_as_possible(self) -> bool:
        """Whether the speed is :data:`AS_FAST_AS_POSSIBLE`."""
        return math.isinf(self._speed)

    def hold(self, owner: str) -> None:
        """Mark a consumer as busy with the current time (fast playback waits for it).

        Parameters
        ----------
        owner : str
            Name of the consumer.
        """
        self._holders.add(owner)

    def release(self, owner: str) -> None:
        """Mark a consumer as done (unknown owners are ignored).

        Parameters
        ----------
        owner : str
            Name of the consumer.
        """
        self._holders.discard(owner)

    @property
    def held(self) -> bool:
        """Whether any consumer holds the clock."""
        return bool(self._holders)

    def advance(self, elapsed_s: float) -> int:
        """Advance playback by a wall time; called by the front end's timer.

        Parameters
        ----------
        elapsed_s : float
            Wall time since the previous call, counted up to :data:`MAX_TICK_S`. [s]

        Returns
        -------
        int
            Intervals stepped (0 when paused, held at full speed, or at the end). [-]
        """
        if not self._playing or self.index is None:
            return 0
        if self.as_fast_as_possible:
            n = 0 if self._holders else 1
        else:
            self._carry_s += min(max(float(elapsed_s), 0.0), MAX_TICK_S) * self._speed
            n = int(self._carry_s // self.interval_s)
            self._carry_s -= n * self.interval_s
        if n == 0:
            return 0
        before = self.index
        self.step(n)
        after = self.index
        return 0 if after is None or before is None else after - before

    # ----------------------------------------------------------- session
    def follow_session(self, session: SessionState) -> Callable[[], None]:
        """Keep this clock and a session in step; return a function that stops it.

        The span follows the session's historian file, the interval and the
        time zone its project (``[controller] interval_s``, ``[project]
        timezone``; the file's time zone without a project), and the replay
        time goes both ways (the session remembers it across restarts).

        Parameters
        ----------
        session : SessionState
            The desktop session.
        """

        def on_historian(summary: HistorianSummary | None) -> None:
            if summary is None:
                self.clear_span()
                return
            if session.project is None:
                self.set_timezone(summary.timezone)
            self.set_span(*summary.time_span_ms)

        def on_project(project: Project | None) -> None:
            if project is None:
                if session.historian is not None:
                    self.set_timezone(session.historian.timezone)
                return
            self.set_timezone(project.project.timezone)
            self.set_interval_s(float(project.controller.interval_s))

        def on_session_time(time_ms: int | None) -> None:
            if time_ms is not None:
                self.seek(time_ms)

        def on_clock_time(time_ms: int) -> None:
            session.replay_time_ms = time_ms

        session.project_changed.connect(on_project)
        session.historian_changed.connect(on_historian)
        session.replay_time_changed.connect(on_session_time)
        self.time_changed.connect(on_clock_time)
        if session.project is not None:
            on_project(session.project)
        if session.historian is not None:
            on_historian(session.historian)

        def disconnect() -> None:
            session.project_changed.disconnect(on_project)
            session.historian_changed.disconnect(on_historian)
            session.replay_time_changed.disconnect(on_session_time)
            self.time_changed.disconnect(on_clock_time)

        return disconnect


def _interval_ms(interval_s: float) -> int:
    if not (math.isfinite(interval_s) and interval_s > 0.0):
        raise ValueError(f"the replay interval must be finite and > 0 s, got {interval_s!r}")
    interval_ms = round(interval_s * 1000.0)
    if interval_ms < 1:
        raise ValueError(f"the replay interval must be at least 1 ms, got {interval_s!r} s")
    return interval_ms


def _checked_speed(speed: float) -> float:
    value = float(speed)
    if math.isnan(value) or value <= 0.0:
        raise ValueError(f"the replay speed must be > 0 (inf: as fast as possible), got {speed!r}")
    return value
