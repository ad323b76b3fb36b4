"""Replay clock widget: play, pause, step, seek, speed, followers, and its place in the window."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.appstate.replay_clock import AS_FAST_AS_POSSIBLE, SPEEDS, ReplayClock
from gui.replay_clock import ReplayClockWidget, connect_flows, connect_trends
from gui.trends import TrendPanel, TrendSeries

pytestmark = pytest.mark.gui

#: 2026-01-05T00:00:00Z. [ms since epoch]
T0_MS = int(dt.datetime(2026, 1, 5, tzinfo=dt.UTC).timestamp() * 1000)
HOUR_MS = 3_600_000


@pytest.fixture
def clock() -> ReplayClock:
    """Six hours at 1-min steps, shown in Shanghai time."""
    replay = ReplayClock(interval_s=60.0, speed=3600.0, timezone="Asia/Shanghai")
    replay.set_span(T0_MS, T0_MS + 6 * HOUR_MS)
    return replay


@pytest.fixture
def widget(qtbot, clock) -> ReplayClockWidget:
    view = ReplayClockWidget(clock)
    qtbot.addWidget(view)
    return view


def test_play_pause_and_step_with_the_buttons(qtbot, widget, clock):
    assert widget.time_label.text() == "2026-01-05T08:00:00+08:00"  # UTC+8
    assert widget.slider.maximum() == 6 * 60
    widget.step_button.click()
    assert clock.index == 1
    assert widget.slider.value() == 1
    assert widget.time_label.text() == "2026-01-05T08:01:00+08:00"
    widget.back_button.click()
    assert clock.index == 0
    widget.play_button.click()
    assert clock.playing
    assert widget.timer.isActive()
    assert widget.play_button.text() == "Pause"
    # x3600 at 1-min steps: 60 intervals per wall second.
    qtbot.waitUntil(lambda: clock.index >= 10, timeout=5000)
    widget.play_button.click()
    assert not clock.playing
    assert not widget.timer.isActive()
    assert widget.play_button.text() == "Play"
    stopped_at = clock.index
    qtbot.wait(3 * widget.timer.interval())  # no tick while paused
    assert clock.index == stopped_at
    assert widget.slider.value() == stopped_at


def test_slider_and_speed_box_drive_the_clock(widget, clock):
    widget.slider.setValue(120)
    assert clock.time_ms == T0_MS + 2 * HOUR_MS
    assert widget.time_label.text() == "2026-01-05T10:00:00+08:00"
    assert [widget.speed_box.itemData(k) for k in range(widget.speed_box.count())] == list(SPEEDS)
    widget.speed_box.setCurrentIndex(SPEEDS.index(10.0))
    assert clock.speed == 10.0
    assert widget.speed_box.itemText(SPEEDS.index(AS_FAST_AS_POSSIBLE)) == "As fast as possible"
    clock.speed = 7.0  # a speed set elsewhere is shown too
    assert widget.speed_box.currentText() == "x7"
    clock.clear_span()
    assert not widget.play_button.isEnabled()
    assert widget.time_label.text() == "No history open"


def test_as_fast_as_possible_steps_once_per_tick_while_not_held(qtbot, widget, clock):
    clock.speed = AS_FAST_AS_POSSIBLE
    clock.hold("solver")
    widget.play_button.click()
    qtbot.wait(4 * widget.timer.interval())
    assert clock.index == 0  # held: waits for the consumer
    clock.release("solver")
    qtbot.waitUntil(lambda: clock.index >= 3, timeout=5000)
    widget.stop()
    assert not clock.playing
    assert not widget.timer.isActive()


def test_close_stops_the_timer(qtbot, clock):
    view = ReplayClockWidget(clock)
    qtbot.addWidget(view)
    clock.play()
    assert view.timer.isActive()
    view.close()
    assert not view.timer.isActive()
    assert not clock.playing


def test_trends_and_flows_follow_the_clock(qtbot, clock):
    time_s = (T0_MS + np.arange(0, 6 * HOUR_MS, 60_000)) / 1000.0
    panel = TrendPanel()
    qtbot.addWidget(panel)
    panel.add_plot([TrendSeries("holder", "%", time_s, np.linspace(30.0, 66.0, time_s.size))])

    class FlowRecorder:
        """Stands in for a FlowModel: only ``set_time_ms`` is used."""

        def __init__(self) -> None:
            self.times: list[int] = []

        def set_time_ms(self, time_ms: int) -> None:
            self.times.append(time_ms)

    flows = FlowRecorder()
    stop_flows = connect_flows(clock, flows)  # type: ignore[arg-type]
    stop_trends = connect_trends(clock, panel)
    clock.seek(T0_MS + HOUR_MS)
    assert flows.times == [T0_MS, T0_MS + HOUR_MS]
    # Sample 60 of a linear ramp 30 -> 66 % over 359 samples.
    assert_allclose(panel.readout()["holder"], 30.0 + 36.0 * 60 / 359, rtol=1e-12)  # float ramp
    stop_flows()
    stop_trends()
    clock.step(1)
    assert flows.times[-1] == T0_MS + HOUR_MS
    assert_allclose(panel.readout()["holder"], 30.0 + 36.0 * 60 / 359, rtol=1e-12)  # unchanged


def test_the_window_has_a_replay_clock_following_the_session(make_window, demo_files, qtbot):
    project, history = demo_files
    window = make_window(project=project, historian=history)
    qtbot.waitUntil(lambda: not window.workers.active, timeout=20_000)
    clock = window.replay_clock
    assert window.docks["replay"].widget() is window.replay_widget
    assert window.docks["replay"].windowTitle() == "Replay"
    assert clock.span_ms == window.session.historian.time_span_ms
    assert clock.timezone == "Asia/Shanghai"
    assert clock.interval_s == 60.0  # the project's [controller] interval_s
    window.replay_widget.step_button.click()
    assert window.session.replay_time_ms == clock.time_ms == clock.time_at(1)
    assert window.replay_widget.time_label.text().endswith("+08:00")
    clock.play()
    window.close()  # stops the clock's timer (the leak check would fail otherwise)
    assert not clock.playing
