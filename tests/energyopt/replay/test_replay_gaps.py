"""Replays across a historian outage: the gap-filling policy and the demo's 2-h outage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from energyopt.data.reader import HistorianReader
from energyopt.demos.history import DEMO_START_MS
from energyopt.errors import DataError
from energyopt.project import Project, load_project
from energyopt.replay import PreparedReplay, prepare_replay, run_prepared
from energyopt.replay.gaps import HOLD_MEAN_S, check_gap, fill_gaps, gap_runs

HOUR_MS = 3_600_000
#: Six hours around the 4-day demo's third outage (rows removed for 2 h from 76.8 h).
WINDOW = (DEMO_START_MS + 75 * HOUR_MS, DEMO_START_MS + 81 * HOUR_MS)


# ---------------------------------------------------------------- the policy


def test_gap_runs_finds_every_run() -> None:
    values = [np.nan, 1.0, np.nan, np.nan, 2.0, np.nan]
    assert gap_runs(values) == [(0, 1), (2, 4), (5, 6)]
    assert gap_runs([1.0, 2.0]) == []


def test_short_run_interpolated_long_run_held_at_recent_mean() -> None:
    nan = np.nan
    values = np.array([1.0, 3.0, nan, nan, 9.0, 5.0, 7.0, nan, nan, nan, 2.0])
    filled, runs = fill_gaps(values, 60.0, interpolate_max_s=120.0, hold_mean_s=180.0)
    # Two missing minutes: a straight line from 3 to 9 at thirds.  Three missing
    # minutes: held at the mean of the three usable minutes before, (9+5+7)/3.
    expected = [1.0, 3.0, 5.0, 7.0, 9.0, 5.0, 7.0, 7.0, 7.0, 7.0, 2.0]
    assert_allclose(filled, expected, rtol=1e-15)  # exact arithmetic up to rounding
    assert [(r.start, r.stop, r.how) for r in runs] == [(2, 4, "interpolated"), (7, 10, "held")]


def test_hold_mean_uses_usable_samples_only_and_ends_are_held() -> None:
    nan = np.nan
    values = np.array([nan, 4.0, nan, 8.0, nan, nan])
    # The run at row 2 has one usable sample before it (4).  The 4 min before
    # the last run hold 4 (usable), row 2's filled 4 (not data: with it the
    # mean would be 16/3) and 8: the mean of the usable ones is 6.  The first
    # run takes the first usable value; hold_mean_s = 0 holds the last value.
    filled, runs = fill_gaps(values, 60.0, interpolate_max_s=0.0, hold_mean_s=240.0)
    assert_allclose(filled, [4.0, 4.0, 4.0, 8.0, 6.0, 6.0], rtol=1e-15)
    assert all(r.how == "held" for r in runs)
    last, _ = fill_gaps(values, 60.0, interpolate_max_s=0.0)
    assert_array_equal(last, [4.0, 4.0, 4.0, 8.0, 8.0, 8.0])


def test_all_missing_series_is_left_alone() -> None:
    filled, runs = fill_gaps([np.nan, np.nan], 60.0)
    assert np.isnan(filled).all()
    assert runs == ()


def test_long_run_is_refused_with_tag_and_times(steelworks_demo: tuple[Path, Path]) -> None:
    _, data = steelworks_demo
    values = np.ones(300)
    values[10:200] = np.nan  # 190 min
    time_ms = DEMO_START_MS + 60_000 * np.arange(300, dtype=np.int64)
    with HistorianReader(data) as reader:
        check_gap(values[:180], time_ms[:180], 60_000, 3 * 3600.0, "tag 'X'", reader)
        with pytest.raises(DataError, match=r"tag 'X' has no usable data from .* longer than"):
            check_gap(values, time_ms, 60_000, 3 * 3600.0, "tag 'X'", reader)


# ---------------------------------------------------------------- the demo outage


@pytest.fixture(scope="module")
def outage(steelworks_demo: tuple[Path, Path]) -> PreparedReplay:
    """Six hours of the 4-day demo around its 2-h historian outage (day 3, 12:48-14:48)."""
    project, data = steelworks_demo
    return prepare_replay(load_project(project), data, start_ms=WINDOW[0], end_ms=WINDOW[1])


def _outage_rows(prepared: PreparedReplay) -> np.ndarray:
    case = prepared.case
    return np.flatnonzero(~np.isfinite(case.tags["BFG.PROD.FLOW"]))


def test_outage_rebuilds_held_disturbances(outage: PreparedReplay) -> None:
    case = outage.case
    rows = _outage_rows(outage)
    assert rows.size == 120  # the 2-h outage, on the 1-min grid
    names = [v.name for v in case.built.model.disturbances]
    before = slice(rows[0] - round(HOLD_MEAN_S / case.step_s), rows[0])
    for name in ("reheating_furnaces.demand_fraction", "hot_stoves.demand_fraction"):
        column = case.disturbances[:, names.index(name)]
        # Held at the mean of the hour before (the fault: the mixed gas's heating
        # value fell back to mid-envelope, 25.5 MJ/m3, and the demand rose 3.4x).
        assert_allclose(column[rows], np.mean(column[before]), rtol=1e-12)
    # The held recorded setpoints are ramped: they stay between their neighbours.
    u = case.inputs[:, [v.name for v in case.built.model.inputs].index("boiler_3.fuel_2_m3_s")]
    ends = sorted((u[rows[0] - 1], u[rows[-1] + 1]))
    assert ends[0] - 1e-12 <= u[rows].min()
    assert u[rows].max() <= ends[1] + 1e-12
    # The state read back after the outage is offered for a re-sync.
    assert [row for row, _ in case.resync] == [int(rows[-1]) + 1]
    assert any("outage" in note for note in case.notes)


@pytest.mark.parametrize("controller", ["recorded", "baseline"])
def test_outage_keeps_holders_and_headers_physical(outage: PreparedReplay, controller: str) -> None:
    run = run_prepared(outage, controller)
    model = outage.case.built.model
    low, high = model.bounds("x")
    names = [v.name for v in model.states]
    for unit in ("bfg_holder", "cog_holder", "ldg_holder"):
        level = run.result.series(f"{unit}.level_fraction")
        assert level.min() >= 0.0, unit
        assert level.max() <= 1.0, unit
    for header in ("hp_header", "mp_header", "lp_header"):
        k = names.index(f"{header}.pressure_pa")
        pressure = run.result.series(f"{header}.pressure_pa")
        # Inside the model's pressure envelope (HP 8.3-11.3 MPa): the fault
        # drove the baseline's HP header to -6.7e7 Pa.
        assert low[k] <= pressure.min(), header
        assert pressure.max() <= high[k], header


def _plain_quality(project: Project) -> Project:
    """The project with frozen-sensor and spike detection off.

    A held outage is not a frozen sensor; and the spike detector's window,
    cut short at the outage's edge in the gapped file, flags 7 samples of the
    turbine inlet setpoints' ramp before it that the filled file keeps (the
    comparison is of the replay's filling, not of the detectors).
    """
    data = project.to_toml_dict()
    data.setdefault("data_quality", {}).update(frozen=False, spike=False)
    return Project.model_validate(data)


def _filled_by_holding(project: Project, data: Path, dest: Path) -> Path:
    """Copy the window with the outage's rows put back, filled by the replay's policy.

    Computed on the raw file, before the data-quality layer and the replay's
    own filling: measured tags held at the mean of their samples over the
    hour before the outage, recorded setpoints ramped between their
    neighbours.
    """
    from energyopt.data.writer import write_historian
    from energyopt.plantbuild import build_plant

    built = build_plant(project)
    with HistorianReader(data) as reader:
        series = reader.read(None, WINDOW[0] - HOUR_MS, WINDOW[1])
        units = {t: reader.tag(t).unit for t in series.values}
    time_ms = np.arange(series.time_ms[0], series.time_ms[-1] + 1, 60_000, dtype=np.int64)
    rows = np.searchsorted(time_ms, series.time_ms)
    lost = np.setdiff1d(np.arange(time_ms.size), rows)
    assert lost.size == 120  # one 2-h outage
    assert np.all(np.diff(lost) == 1)
    first, after = int(lost[0]), int(lost[-1]) + 1
    values = {}
    for tag, recorded in series.values.items():
        v = np.full(time_ms.size, np.nan)
        v[rows] = recorded
        if built.bindings.by_tag(tag).vector == "u":
            ramp = np.arange(1, lost.size + 1) / (lost.size + 1)
            v[lost] = v[first - 1] + ramp * (v[after] - v[first - 1])
        else:
            hour = v[first - 60 : first]
            v[lost] = np.mean(hour[np.isfinite(hour)])
        values[tag] = v
    write_historian(dest, time_ms, values, units, timezone="Asia/Shanghai")
    return dest


def test_outage_replay_matches_replay_of_held_record(
    steelworks_demo: tuple[Path, Path], tmp_path: Path
) -> None:
    project_path, data = steelworks_demo
    project = _plain_quality(load_project(project_path))
    gapped = prepare_replay(project, data, start_ms=WINDOW[0], end_ms=WINDOW[1])
    held_file = _filled_by_holding(project, data, tmp_path / "held.h5")
    held = prepare_replay(project, held_file, start_ms=WINDOW[0], end_ms=WINDOW[1])
    assert not any("outage" in note for note in held.case.notes)
    a, b = run_prepared(gapped, "recorded").result, run_prepared(held, "recorded").result
    for unit in ("bfg_holder", "cog_holder", "ldg_holder"):
        # Two honest differences, largest on the smallest holder (LDG, 80,000 m3):
        # (1) the replay holds the hour mean of the rebuilt *production*, the
        # file the hour mean of the lagged *flow*; they differ by
        # tau x (flow change over the hour) / 1 h: 30 s x 22 m3/s / 3600 s =
        # 0.18 m3/s of LDG (the hour ends inside a blow), 1300 m3 over the 2-h
        # outage, 1.7 % of the holder; (2) the replay lets the lagged flow settle
        # at each edge, the file steps it: 30 s x ~7 m3/s per edge, 0.5 %.
        # Together 2.2 % (2.5 % measured): 3 % of a holder.
        assert_allclose(
            a.series(f"{unit}.level_fraction"),
            b.series(f"{unit}.level_fraction"),
            rtol=0.0,
            atol=0.03,
            err_msg=unit,
        )
    for header in ("hp_header", "mp_header", "lp_header"):
        # The steam side sees the same setpoints and steam demands in both (the
        # demands are output inversions, held alike): equal to rounding, 1 Pa
        # against pressures of 0.5-10 MPa.
        assert_allclose(
            a.series(f"{header}.pressure_pa"),
            b.series(f"{header}.pressure_pa"),
            rtol=0.0,
            atol=1.0,
            err_msg=header,
        )
