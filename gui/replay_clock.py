"""Replay clock controls: step back, play/pause, step, speed, a slider over the history.

:class:`ReplayClockWidget` shows a Qt-free
:class:`~energyopt.appstate.replay_clock.ReplayClock`.  It owns the only timer
of the replay: while the clock plays, a :class:`~PySide6.QtCore.QTimer` ticks
every :data:`TICK_MS` and hands the measured wall time to
:meth:`ReplayClock.advance`, which decides how many control intervals to step
(speed x1 ... x3600, or one per tick "as fast as the solver allows" while no
consumer holds the clock).  The timer stops when playback stops, and on
:meth:`ReplayClockWidget.stop` / close, so no timer outlives its window.

Other views follow the clock's ``time_changed`` signal (milliseconds since the
epoch): :func:`connect_flows` drives an energy-flow model
(:meth:`~energyopt.flows.FlowModel.set_time_ms`), :func:`connect_trends`
moves the trend crosshair (:meth:`~gui.trends.TrendPanel.set_cursor`) and,
optionally, scrolls the visible window with it.
"""

from __future__ import annotations

import contextlib
import math
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QWidget,
)

from energyopt.appstate.replay_clock import SPEEDS, ReplayClock

if TYPE_CHECKING:
    from psygnal import SignalInstance

    from energyopt.flows import FlowModel
    from gui.trends import TrendPanel

__all__ = [
    "TICK_MS",
    "TREND_LEAD",
    "TREND_WINDOW_S",
    "ReplayClockWidget",
    "connect_flows",
    "connect_trends",
    "connect_while_alive",
    "speed_label",
]

TICK_MS = 40
"""Timer period while playing (25 updates per second). [ms]"""
TREND_WINDOW_S = 12.0 * 3600.0
"""Visible time span of trends that start following the clock from a full view. [s]"""
TREND_LEAD = 0.25
"""Share of a followed trend window that lies after the clock's time. [-]"""

_W = TypeVar("_W", bound=QObject)


def connect_while_alive(
    widget: _W, signal: SignalInstance, slot: Callable[..., None]
) -> Callable[..., None]:
    """Connect a psygnal signal to ``slot(widget, *args)`` while the widget's C++ object lives.

    The model outlives its widgets: the connection holds the widget weakly,
    skips calls once Qt deleted it, and is removed when it is destroyed.

    Parameters
    ----------
    widget : QObject
        The receiver.
    signal : psygnal.SignalInstance
        The model's signal.
    slot : callable
        Called as ``slot(widget, *args)`` (an unbound method, so the
        connection does not keep the widget alive).

    Returns
    -------
    callable
        The connected callback (for an explicit disconnect).
    """
    ref = weakref.ref(widget)

    def call(*args: Any) -> None:
        receiver = ref()
        if receiver is not None and shiboken6.isValid(receiver):
            slot(receiver, *args)

    signal.connect(call)

    def disconnect(*_args: object) -> None:
        with contextlib.suppress(ValueError, RuntimeError):
            signal.disconnect(call)

    widget.destroyed.connect(disconnect)
    return call


def speed_label(speed: float) -> str:
    """Return the label of a replay speed: ``"x60"``, or the translated "as fast as possible".

    Parameters
    ----------
    speed : float
        Simulated seconds per wall second (``inf``: as fast as possible).
    """
    if math.isinf(speed):
        return QCoreApplication.translate("ReplayClockWidget", "As fast as possible")
    return f"x{speed:g}"


def connect_flows(clock: ReplayClock, model: FlowModel) -> Callable[[], None]:
    """Make an energy-flow model show the clock's time; return a function undoing it.

    Parameters
    ----------
    clock : ReplayClock
        The replay clock.
    model : FlowModel
        The energy-flow state (its displayed sample follows the clock).
    """
    clock.time_changed.connect(model.set_time_ms)
    if clock.time_ms is not None:
        model.set_time_ms(clock.time_ms)
    return lambda: clock.time_changed.disconnect(model.set_time_ms)


class _TrendFollower(QObject):
    """Scrolls a trend panel to a time one plot per event-loop turn, then moves the crosshair.

    A view-range change of one stacked plot (new envelope, date-axis ticks,
    repaint) takes about 20 ms; all plots at once took 80-100 ms on the
    steelworks trends, more than the 50 ms the event loop may block.  The
    plots' x-links are blocked while they are scrolled one by one (so one
    change does not drag the others along in the same turn), and restored
    when the last one is done.  A newer time restarts the sequence.
    """

    def __init__(self, panel: TrendPanel, window_s: float) -> None:
        super().__init__(panel)
        self._panel = panel
        self._window_s = window_s
        self._time_s: float | None = None
        self._range = (0.0, 1.0)
        self._queue: list[int] = []
        self._blocked: list[Any] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._next)

    def request(self, time_s: float) -> None:
        """Scroll to ``time_s`` [s since epoch] in the next event-loop turns."""
        panel = self._panel
        if not panel.plots:
            panel.set_cursor(time_s)
            return
        view = panel.plots[0].vb
        if view.autoRangeEnabled()[0]:
            width = self._window_s
        else:
            low, high = view.viewRange()[0]
            width = high - low
        lead = TREND_LEAD * width
        self._range = (time_s - (width - lead), time_s + lead)
        self._time_s = time_s
        self._unblock()
        self._blocked = [plot.vb for plot in panel.plots]
        for box in self._blocked:
            box.blockLink(True)
        self._queue = list(range(len(panel.plots)))
        self._timer.start()

    def _next(self) -> None:
        panel = self._panel
        if self._queue and self._queue[0] < len(panel.plots):
            index = self._queue.pop(0)
            panel.plots[index].vb.setXRange(*self._range, padding=0.0)
        else:
            self._queue = []
        if self._queue:
            self._timer.start()
            return
        self._unblock()
        if self._time_s is not None:
            panel.set_cursor(self._time_s)

    def stop(self) -> None:
        """Stop scrolling and restore the x-links."""
        self._timer.stop()
        self._queue = []
        self._unblock()

    def _unblock(self) -> None:
        for box in self._blocked:
            if shiboken6.isValid(box):
                box.blockLink(False)
        self._blocked = []


def connect_trends(
    clock: ReplayClock,
    panel: TrendPanel,
    *,
    follow_window: bool = False,
    window_s: float = TREND_WINDOW_S,
) -> Callable[[], None]:
    """Move a trend panel's crosshair (and visible window) with the clock; return an undo.

    Parameters
    ----------
    clock : ReplayClock
        The replay clock.
    panel : TrendPanel
        The trends (the connection ends when the panel is deleted).
    follow_window : bool
        Also scroll the (linked) time axes so the clock's time stays at
        :data:`TREND_LEAD` from the right edge, keeping the user's zoom (a
        view still showing everything, auto-ranged, is narrowed to
        ``window_s``).  The plots then scroll one per event-loop turn and the
        crosshair follows in the turn after the last (each turn about 20 ms),
        so the move is complete a few turns after the clock's signal.
    window_s : float
        Width of the followed window from an auto-ranged view. [s]
    """
    follower = _TrendFollower(panel, window_s) if follow_window else None

    def follow(panel: TrendPanel, time_ms: int) -> None:
        if follower is not None and shiboken6.isValid(follower):
            follower.request(time_ms / 1000.0)
        else:
            panel.set_cursor(time_ms / 1000.0)

    call = connect_while_alive(panel, clock.time_changed, follow)
    if clock.time_ms is not None:
        follow(panel, clock.time_ms)

    def undo() -> None:
        clock.time_changed.disconnect(call)
        if follower is not None and shiboken6.isValid(follower):
            follower.stop()
            follower.deleteLater()

    return undo


class ReplayClockWidget(QWidget):
    """Play, pause, step and seek a :class:`ReplayClock`; shows its time in the project's zone.

    Parameters
    ----------
    clock : ReplayClock
        The clock (shared with the views that follow it).
    parent : QWidget, optional
        Qt parent.
    tick_ms : int
        Timer period while playing. [ms]
    """

    def __init__(
        self, clock: ReplayClock, parent: QWidget | None = None, *, tick_ms: int = TICK_MS
    ) -> None:
        super().__init__(parent)
        self.clock = clock
        """The clock shown."""
        self.timer = QTimer(self)
        """Drives playback; active only while the clock plays."""
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self._tick)
        self._last_tick = 0.0

        self.back_button = QToolButton()
        self.play_button = QToolButton()
        self.step_button = QToolButton()
        self.speed_label = QLabel()
        self.speed_box = QComboBox()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("replay_slider")
        self.slider.setTracking(True)
        self.time_label = QLabel()
        self.time_label.setObjectName("replay_time")
        self.time_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QHBoxLayout(self)
        for widget in (self.back_button, self.play_button, self.step_button):
            layout.addWidget(widget)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.time_label)
        layout.addWidget(self.speed_label)
        layout.addWidget(self.speed_box)

        self.back_button.clicked.connect(lambda: self.clock.step(-1))
        self.step_button.clicked.connect(lambda: self.clock.step(1))
        self.play_button.clicked.connect(self.clock.toggle)
        self.slider.valueChanged.connect(self._on_slider)
        self.speed_box.currentIndexChanged.connect(self._on_speed_box)

        connect_while_alive(self, clock.time_changed, ReplayClockWidget._show_time)
        connect_while_alive(self, clock.span_changed, ReplayClockWidget._show_span)
        connect_while_alive(self, clock.playing_changed, ReplayClockWidget._on_playing)
        connect_while_alive(self, clock.speed_changed, ReplayClockWidget._show_speed)
        self._retranslate()
        self._show_span()
        self._on_playing(clock.playing)

    # ------------------------------------------------------------ display
    def _retranslate(self) -> None:
        self.back_button.setText(self.tr("Step back"))
        self.back_button.setToolTip(self.tr("Go back one control interval"))
        self.step_button.setText(self.tr("Step"))
        self.step_button.setToolTip(self.tr("Go forward one control interval"))
        self.speed_label.setText(self.tr("Speed:"))
        self.speed_box.setToolTip(self.tr("Simulated seconds per second"))
        self.slider.setToolTip(self.tr("Replay time within the recorded history"))
        self.speed_box.blockSignals(True)
        self.speed_box.clear()
        for speed in SPEEDS:
            self.speed_box.addItem(speed_label(speed), speed)
        self.speed_box.blockSignals(False)
        self._show_speed(self.clock.speed)
        self._show_playing(self.clock.playing)
        self._show_time()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        """Retranslate on a language change."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _show_span(self) -> None:
        steps = self.clock.steps
        enabled = steps > 0
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(steps - 1, 0))
        self.slider.blockSignals(False)
        for widget in (self.back_button, self.play_button, self.step_button, self.slider):
            widget.setEnabled(enabled)
        self._show_time()

    def _show_time(self, _time_ms: int | None = None) -> None:
        index = self.clock.index
        self.slider.blockSignals(True)
        self.slider.setValue(0 if index is None else index)
        self.slider.blockSignals(False)
        if self.clock.time_ms is None:
            self.time_label.setText(self.tr("No history open"))
        else:
            self.time_label.setText(self.clock.format_time())

    def _show_speed(self, speed: float) -> None:
        index = self.speed_box.findData(speed)
        if index < 0:  # a speed not offered: shown as an extra entry
            self.speed_box.addItem(speed_label(speed), speed)
            index = self.speed_box.count() - 1
        self.speed_box.blockSignals(True)
        self.speed_box.setCurrentIndex(index)
        self.speed_box.blockSignals(False)

    def _show_playing(self, playing: bool) -> None:
        self.play_button.setText(self.tr("Pause") if playing else self.tr("Play"))
        self.play_button.setToolTip(
            self.tr("Pause the replay") if playing else self.tr("Replay the recorded history")
        )

    # ------------------------------------------------------------ control
    def _on_slider(self, value: int) -> None:
        self.clock.seek_index(value)

    def _on_speed_box(self, index: int) -> None:
        speed = self.speed_box.itemData(index)
        if speed is not None:
            self.clock.speed = float(speed)

    def _on_playing(self, playing: bool) -> None:
        if playing:
            self._last_tick = time.perf_counter()
            self.timer.start()
        else:
            self.timer.stop()
        self._show_playing(playing)

    def _tick(self) -> None:
        now = time.perf_counter()
        elapsed, self._last_tick = now - self._last_tick, now
        self.clock.advance(elapsed)

    def stop(self) -> None:
        """Pause the clock and stop the timer (the window is closing)."""
        self.clock.pause()
        self.timer.stop()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Stop playback before closing."""
        self.stop()
        super().closeEvent(event)
