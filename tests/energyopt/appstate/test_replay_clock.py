"""The Qt-free replay clock: grid, seek, step, playback speeds, holds, session binding."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from energyopt.appstate import SessionState
from energyopt.appstate.replay_clock import AS_FAST_AS_POSSIBLE, MAX_TICK_S, ReplayClock
from energyopt.demos import demo_project_file
from energyopt.demos.history import write_demo_history
from energyopt.project import load_project

MIN_MS = 60_000
#: 2024-03-01T00:00:00Z, a whole minute and hour. [ms since epoch]
T0_MS = int(dt.datetime(2024, 3, 1, tzinfo=dt.UTC).timestamp() * 1000)


class Recorder:
    def __init__(self, signal):
        self.values: list[object] = []
        signal.connect(self.values.append)


@pytest.fixture
def clock() -> ReplayClock:
    """One hour of history starting 30 s past a minute, 1-min interval, x60."""
    replay = ReplayClock(interval_s=60.0, speed=60.0, timezone="Asia/Shanghai")
    replay.set_span(T0_MS + 30_000, T0_MS + 60 * MIN_MS)
    return replay


def test_grid_is_aligned_to_whole_intervals_inside_the_span(clock):
    # Grid points 00:01 ... 01:00: the first at or after the start (00:00:30).
    assert clock.time_ms == T0_MS + MIN_MS
    assert clock.steps == 60
    assert clock.index == 0
    assert clock.time_at(59) == T0_MS + 60 * MIN_MS
    assert clock.time_at(500) == T0_MS + 60 * MIN_MS  # clamped
    assert clock.seek(T0_MS + 10 * MIN_MS + 59_999) == T0_MS + 10 * MIN_MS  # floor to the grid
    assert clock.seek(T0_MS - 5 * MIN_MS) == T0_MS + MIN_MS  # clamped to the first point
    assert clock.seek_index(3) == T0_MS + 4 * MIN_MS
    # The project's zone: 2024-03-01T00:04Z is 08:04 in Shanghai (UTC+8, no DST).
    assert clock.format_time() == "2024-03-01T08:04:00+08:00"


def test_step_stops_at_the_ends_and_pauses_at_the_last_point(clock):
    times = Recorder(clock.time_changed)
    assert not clock.step(-1)  # at the first point already
    assert clock.step(2)
    assert times.values == [T0_MS + 3 * MIN_MS]
    clock.play()
    assert clock.step(1000)
    assert clock.at_end
    assert not clock.playing
    assert not clock.step(1)
    assert times.values[-1] == T0_MS + 60 * MIN_MS


def test_fixed_speed_turns_wall_time_into_whole_intervals(clock):
    clock.speed = 60.0  # 60 simulated s per wall s: one 1-min interval per wall second
    assert clock.advance(1.0) == 0  # paused
    clock.play()
    assert clock.advance(0.5) == 0  # 30 s simulated: not a whole interval yet
    assert clock.advance(0.5) == 1  # carried 30 s + 30 s
    assert clock.index == 1
    clock.speed = 3600.0  # one hour per wall second: 60 intervals per wall s
    assert clock.advance(0.25) == 15
    # A long stall counts as MAX_TICK_S only: 0.5 s x 3600 = 30 min = 30 intervals,
    # but only 59 - 16 = 43 remain, so 30 are stepped.
    assert clock.advance(100.0) == round(MAX_TICK_S * 3600.0 / 60.0)
    assert clock.index == 46
    assert clock.advance(1.0) == 13  # to the end, then it pauses
    assert clock.at_end
    assert not clock.playing


def test_as_fast_as_possible_waits_for_every_holder(clock):
    speeds = Recorder(clock.speed_changed)
    clock.speed = AS_FAST_AS_POSSIBLE
    assert speeds.values == [math.inf]
    assert clock.as_fast_as_possible
    clock.play()
    assert clock.advance(0.0) == 1  # one interval per tick, whatever the wall time
    clock.hold("recommendations")
    clock.hold("trends")
    assert clock.held
    assert clock.advance(1.0) == 0
    clock.release("recommendations")
    assert clock.advance(1.0) == 0  # still held by the trends
    clock.release("trends")
    clock.release("unknown")  # ignored
    assert clock.advance(0.01) == 1
    assert clock.index == 2


def test_play_restarts_at_the_end_and_needs_a_span(clock):
    playing = Recorder(clock.playing_changed)
    clock.seek_index(59)
    clock.play()
    assert clock.index == 0
    assert clock.playing
    clock.toggle()
    assert playing.values == [True, False]
    empty = ReplayClock()
    empty.play()
    assert not empty.playing
    assert empty.time_ms is None
    assert empty.steps == 0
    assert empty.seek(T0_MS) is None
    assert empty.seek_index(2) is None
    assert not empty.step()
    assert empty.format_time() == ""
    clock.play()
    clock.clear_span()
    assert not clock.playing
    assert clock.time_ms is None
    assert clock.index is None


def test_interval_change_snaps_the_time_and_short_spans_have_one_point():
    clock = ReplayClock(interval_s=60.0)
    clock.set_span(T0_MS, T0_MS + 60 * MIN_MS)
    clock.seek(T0_MS + 37 * MIN_MS)
    clock.set_interval_s(900.0)  # 15 min: 00:37 -> 00:30
    assert clock.time_ms == T0_MS + 30 * MIN_MS
    assert clock.steps == 5  # 00:00, 00:15, ..., 01:00
    short = ReplayClock(interval_s=900.0)
    short.set_span(T0_MS + MIN_MS, T0_MS + 2 * MIN_MS)  # no 15-min boundary inside
    assert short.steps == 1
    assert short.time_ms == T0_MS + MIN_MS


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"interval_s": 0.0}, "finite and > 0"),
        ({"interval_s": math.nan}, "finite and > 0"),
        ({"interval_s": 1e-4}, "at least 1 ms"),
        ({"speed": 0.0}, "speed must be > 0"),
        ({"speed": math.nan}, "speed must be > 0"),
    ],
)
def test_invalid_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ReplayClock(**kwargs)


def test_invalid_span_and_time_lookup_without_span_are_refused():
    clock = ReplayClock()
    with pytest.raises(ValueError, match=r"ends .* before it starts"):
        clock.set_span(T0_MS, T0_MS - 1)
    with pytest.raises(ValueError, match="no time span"):
        clock.time_at(0)
    with pytest.raises(ValueError, match="speed must be > 0"):
        clock.speed = -1.0


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("replay_clock") / "history.h5"
    project = load_project(demo_project_file("steelworks"))
    write_demo_history(project, "steelworks", path, days=0.25, seed=3)
    return path


def test_follows_the_session_both_ways(history):
    session = SessionState()
    clock = ReplayClock(interval_s=900.0)
    stop = clock.follow_session(session)
    summary = session.open_historian(history)
    assert clock.span_ms == summary.time_span_ms
    assert clock.timezone == summary.timezone
    assert session.replay_time_ms == clock.time_ms == clock.time_at(0)
    project = session.open_project(demo_project_file("steelworks"))
    # The project's control interval and time zone take over.
    assert clock.interval_s == project.controller.interval_s
    assert clock.timezone == project.project.timezone
    clock.step(5)
    assert session.replay_time_ms == clock.time_ms
    session.replay_time_ms = clock.time_at(20) + 1234  # snapped to the grid and written back
    assert clock.index == 20
    assert session.replay_time_ms == clock.time_ms
    stop()
    clock.step(1)
    assert session.replay_time_ms != clock.time_ms
    session.close_historian()
    assert clock.span_ms is not None  # no longer following
