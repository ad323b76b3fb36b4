"""Time axes in the plant's zone, daylight-saving correct (gui.time_axis)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pyqtgraph as pg
import pytest

from gui.time_axis import PlantTimeAxis, format_plant_time
from gui.trends import TrendPanel, TrendSeries

pytestmark = pytest.mark.gui

BERLIN = ZoneInfo("Europe/Berlin")


def _utc_s(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _ticks(axis: PlantTimeAxis, start: str, end: str, size_px: float) -> dict[float, list]:
    levels = axis.tickValues(_utc_s(start), _utc_s(end), size_px)
    return {spacing: list(ticks) for spacing, ticks in levels}


def test_ticks_stay_on_round_local_times_across_the_spring_change(qapp):
    # Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00Z.
    axis = PlantTimeAxis(timezone="Europe/Berlin")
    levels = axis.tickValues(_utc_s("2026-03-29T00:30"), _utc_s("2026-03-29T01:30"), 600.0)
    spacing, ticks = levels[-1]
    labels = axis.tickStrings(ticks, 1.0, spacing)
    # Independently, with zoneinfo: the wall-clock time of each tick.
    walls = [datetime.fromtimestamp(t, BERLIN) for t in ticks]
    assert labels == [w.strftime("%H:%M") for w in walls]
    assert all(w.minute % 15 == 0 and w.second == 0 for w in walls)
    assert labels == ["01:30", "01:45", "03:00", "03:15", "03:30"]


def test_hour_ticks_after_the_change_are_local_not_a_fixed_offset(qapp):
    axis = PlantTimeAxis(timezone="Europe/Berlin")
    ticks = _ticks(axis, "2026-03-28T18:00", "2026-03-29T12:00", 600.0)
    day = ticks[86_400]
    # Local midnight of the 29th is 23:00Z on the 28th (still CET).
    assert day == [_utc_s("2026-03-28T23:00")]
    assert axis.tickStrings(day, 1.0, 86_400) == ["Sun 29"]
    hours = ticks[3600]
    labels = axis.tickStrings(hours, 1.0, 3600)
    assert labels == [datetime.fromtimestamp(t, BERLIN).strftime("%H:%M") for t in hours]
    assert labels == ["06:00", "12:00"]  # 04:00Z and 10:00Z in summer time
    # pyqtgraph's own axis with the winter offset labels 04:00Z as 05:00: the defect.
    fixed = pg.DateAxisItem(utcOffset=-3600)
    fixed.fontMetrics = axis.fontMetrics  # set by pyqtgraph when it first draws
    fixed.tickValues(hours[0] - 3600.0, hours[-1] + 3600.0, 600.0)
    assert fixed.tickStrings(hours, 1.0, 3600) == ["05:00", "11:00"]


def test_the_repeated_autumn_hour_gets_both_ticks(qapp):
    # 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00Z; 02:00-03:00 is shown twice.
    axis = PlantTimeAxis(timezone="Europe/Berlin")
    levels = axis.tickValues(_utc_s("2026-10-25T00:00"), _utc_s("2026-10-25T02:00"), 700.0)
    spacing, ticks = levels[-1]
    assert np.all(np.diff(ticks) > 0)
    assert axis.tickStrings(ticks, 1.0, spacing) == [
        "02:00", "02:15", "02:30", "02:45",  # summer time
        "02:00", "02:15", "02:30", "02:45",  # winter time
        "03:00",
    ]  # fmt: skip


def test_trend_panel_axes_and_readout_in_the_plant_zone(qapp):
    panel = TrendPanel(timezone="Asia/Shanghai")
    t0 = _utc_s("2026-01-05T00:00")
    time_s = t0 + 60.0 * np.arange(24 * 60)
    panel.add_plot([TrendSeries("LEVEL", "%", time_s, np.linspace(0.0, 1.0, time_s.size))])
    axis = panel.plots[0].getAxis("bottom")
    assert isinstance(axis, PlantTimeAxis)
    assert axis.timezone == "Asia/Shanghai"
    ticks = dict(axis.tickValues(t0, t0 + 86_400.0, 800.0))
    # 2026-01-05T16:00Z is midnight of the 6th in Shanghai (UTC+8).
    assert ticks[86_400] == [t0 + 16 * 3600.0]
    panel.set_cursor(t0 + 90.5)
    assert panel.readout_label.text().startswith("At 2026-01-05T08:01:30+08:00: LEVEL = ")
    panel.set_timezone("Europe/Berlin")
    assert axis.timezone == "Europe/Berlin"
    assert panel.readout_label.text().startswith("At 2026-01-05T01:01:30+01:00: ")
    panel.deleteLater()


def test_unknown_zone_shows_utc(qapp):
    axis = PlantTimeAxis(timezone="Nowhere/Else")
    assert axis.tickStrings([_utc_s("2026-01-05T06:00")], 1.0, 3600) == ["06:00"]
    assert format_plant_time(_utc_s("2026-01-05T06:00") + 0.9, "Nowhere/Else") == (
        "2026-01-05T06:00:00+00:00"
    )


def _tick_cpu_s(axis: PlantTimeAxis, lo_s: float, hi_s: float, size_px: float) -> float:
    """Least CPU time of a few tickValues calls (the least is the one least disturbed). [s]."""
    times = []
    for _ in range(5):
        start = time.process_time()
        axis.tickValues(lo_s, hi_s, size_px)
        times.append(time.process_time() - start)
    return min(times)


def test_ticks_of_a_far_zoom_in_are_cheap_and_round(qapp, monkeypatch):
    # Plots before their first auto-range sit on [0, 1] s: this once stepped through
    # two hours of millisecond ticks (470 ms of CPU on the GUI thread).
    axis = PlantTimeAxis(timezone="Europe/Berlin")
    steps = []
    spec = axis.zoomLevels[min(axis.zoomLevels)].tickSpecs[-1]  # the millisecond level
    stepper = spec.step
    monkeypatch.setattr(spec, "step", lambda *a, **k: steps.append(a) or stepper(*a, **k))
    levels = axis.tickValues(0.0, 1.0, 800.0)
    assert 0 < len(steps) <= 2002  # bounded candidates (the cap is 2000 plus the ends)
    monkeypatch.undo()
    assert levels[0] == (60, [0.0])  # the whole minute, labelled by the coarser level
    spacing, ticks = levels[-1]
    # A tenth of a second apart at 800 px; round (to the microsecond the zone rounds to).
    np.testing.assert_allclose(ticks, np.arange(1, 11) / 10.0, rtol=0.0, atol=1e-6)
    labels = axis.tickStrings(ticks, 1.0, spacing)
    # Independently: 1970-01-01 in Berlin is UTC+1, so only the seconds field shows.
    assert labels == [datetime.fromtimestamp(t, BERLIN).strftime("%S.%f")[:-3] for t in ticks]
    assert labels[0] == "00.100"
    # A coarse bound, far from the 470 ms the old placement took and from load noise.
    assert _tick_cpu_s(axis, 0.0, 1.0, 800.0) < 5e-3
    assert _tick_cpu_s(axis, 1.7e9, 1.7e9 + 1e-3, 800.0) < 5e-3


def test_ticks_of_ten_years_are_cheap_and_on_local_new_years(qapp):
    axis = PlantTimeAxis(timezone="Asia/Shanghai")
    lo_s, hi_s = _utc_s("2020-06-01T00:00"), _utc_s("2030-06-01T00:00")
    levels = dict(axis.tickValues(lo_s, hi_s, 800.0))
    years = levels[365 * 86_400]
    shanghai = ZoneInfo("Asia/Shanghai")
    walls = [datetime.fromtimestamp(t, shanghai) for t in years]
    assert [(w.month, w.day, w.hour, w.minute) for w in walls] == [(1, 1, 0, 0)] * 10
    assert axis.tickStrings(years, 1.0, 365 * 86_400) == [str(y) for y in range(2021, 2031)]
    assert _tick_cpu_s(axis, lo_s, hi_s, 800.0) < 5e-3
