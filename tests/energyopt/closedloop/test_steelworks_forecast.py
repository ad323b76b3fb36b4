"""The causal forecast of the steelworks comparison: causality, horizon, record, closed loop."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from energyopt.closedloop.forecast import (
    ScenarioForecastSource,
    forecast_source_from_record,
    steelworks_forecast_source,
    steelworks_sensor_record,
)
from energyopt.closedloop.steelworks import (
    build_steelworks_scenario,
    perfect_foresight,
    run_steelworks,
    steelworks_kpis,
)
from energyopt.controlbuild import DisturbanceRecord, economic_settings, local_phases
from energyopt.demos.history import DEMO_START_MS
from energyopt.errors import ModelError
from energyopt.plantbuild import nominal_disturbances

_WEEK_MS = 7 * 86_400_000
#: One week of training history: the shortest the factory builds (whole
#: weeks), enough for the daily profiles (7 samples a bin) and fast.
_TRAINING_S = 7 * 86_400.0


@pytest.fixture(scope="module")
def scenario():
    """The steelworks scenario over 6 h (its record runs 30 h)."""
    return build_steelworks_scenario(days=0.25, seed=0)


@pytest.fixture(scope="module")
def settings(scenario):
    """The project's economic MPC settings (15 min, 24 h)."""
    return economic_settings(scenario.project, scenario.built)


@pytest.fixture(scope="module")
def recorded(scenario):
    """The sensor record (one week of training history, then the scenario) and the start."""
    return steelworks_sensor_record(scenario, seed=0, training_s=_TRAINING_S)


def _source(scenario, settings, record, start_ms) -> ScenarioForecastSource:
    return forecast_source_from_record(scenario, settings, record, start_ms)


def _altered(record: DisturbanceRecord, mask: np.ndarray) -> DisturbanceRecord:
    """The record with every binding tripled where ``mask`` holds."""
    return DisturbanceRecord(
        record.time_ms, {name: np.where(mask, 3.0 * v, v) for name, v in record.values.items()}
    )


def test_record_lines_up_with_the_scenario(scenario, recorded):
    record, start_ms = recorded
    assert start_ms == DEMO_START_MS
    t = record.time_ms
    before = t < start_ms
    # Whole weeks of history, ending one sample before the start, then one
    # sample per scenario row.
    assert int(t[0]) == start_ms - _WEEK_MS
    assert int(t[before][-1]) == start_ms - round(scenario.step_s * 1000.0)
    assert np.count_nonzero(~before) == scenario.truth.disturbances.shape[0]
    # The history's profiles were made for the demo start and shifted by a
    # whole week: local time of day and weekday of every sample are those the
    # profiles were generated for.
    tz = scenario.project.project.timezone
    tod, dow = local_phases(t[before], tz)
    tod_gen, dow_gen = local_phases(t[before] + _WEEK_MS, tz)
    assert_array_equal(tod, tod_gen)
    assert_array_equal(dow, dow_gen)
    assert dow[0] == 0  # the demo starts on a Monday
    # The scenario part is the scenario's truth seen through noisy sensors:
    # the bound heating values differ from the truth disturbances by the
    # history's noise, 2e-3 of the tag's span (LHV tags span a few MJ/Nm3),
    # so 2 % of the value bounds five standard deviations.
    built = scenario.built
    entry = built.bindings["bfg_lhv"]
    measured = record.values["bfg_lhv"][~before]
    truth = scenario.truth.disturbances[:, entry.index]
    assert_allclose(measured, truth, rtol=2e-2)
    assert not np.array_equal(measured, truth)  # noise was added


def test_source_never_reads_the_future(scenario, settings, recorded):
    record, start_ms = recorded
    times_s = (0.0, 900.0, 2.0 * 3600.0, 3.25 * 3600.0)
    cut_s = times_s[-1]
    future = record.time_ms >= start_ms + round(cut_s * 1000.0)
    honest = _source(scenario, settings, record, start_ms)
    tampered = _source(scenario, settings, _altered(record, future), start_ms)
    for t_s in times_s:
        a, b = honest(t_s), tampered(t_s)
        # Exact equality: a causal source computes the same numbers from the
        # same past, whatever the record holds from the decision time on.
        assert_array_equal(a.d, b.d)
        assert_array_equal(a.price_per_j, b.price_per_j)
    # Control: the same change one sample earlier does change the forecast.
    past = record.time_ms >= start_ms + round(cut_s * 1000.0) - 60_000
    seen = _source(scenario, settings, _altered(record, past), start_ms)
    for t_s in times_s[:-1]:
        assert_array_equal(honest(t_s).d, seen(t_s).d)
    assert not np.array_equal(honest(cut_s).d, seen(cut_s).d)


def test_horizon_shape_prices_and_inputs(scenario, settings, recorded):
    source = _source(scenario, settings, *recorded)
    truth = perfect_foresight(scenario, settings)
    built = scenario.built
    names = [v.name for v in built.model.disturbances]
    low, high = built.model.bounds("d")
    nominal = nominal_disturbances(built)
    forecast = [j for j, kind in enumerate(source.causal.forecast.plan.kinds) if kind == "forecast"]
    assert len(forecast) == 11  # every disturbance with a bound sensor but the heating values
    shift_profiles = [
        names.index(n) for n in ("works_load.demand_fraction", "mp_steam_users.demand_fraction")
    ]
    for t_s in (0.0, 5400.0, 4.0 * 3600.0):
        h, p = source(t_s), truth(t_s)
        assert h.d.shape == (settings.horizon, len(names))
        # The tariff is known ahead: the interval means of the fine price
        # record (computed independently by the perfect-foresight source's
        # zero-order-hold integral); both average the same per-minute
        # prices, so only rounding separates them.
        assert_allclose(h.price_per_j, p.price_per_j, rtol=1e-12)
        assert_allclose(h.d[:, names.index("grid.price_per_j")], p.price_per_j, rtol=1e-12)
        assert_array_equal(h.u_base, scenario.u0)
        assert np.all(np.isfinite(h.d))
        # Forecasts stay in the model's envelope (held heating values are
        # the measured ones, as in the true record).
        assert np.all((h.d[:, forecast] >= low[forecast]) & (h.d[:, forecast] <= high[forecast]))
        # The fitted shift profiles carry information: over the day ahead the
        # forecast is closer to the truth than the nominal value the MPC
        # would otherwise assume.
        for j in shift_profiles:
            err = np.mean(np.abs(h.d[:, j] - p.d[:, j]))
            err_nominal = np.mean(np.abs(nominal[j] - p.d[:, j]))
            assert err < err_nominal, names[j]


def test_factory_checks_seed_settings_and_training(scenario, settings):
    with pytest.raises(ModelError, match="does not reproduce the scenario"):
        steelworks_sensor_record(scenario, seed=1, training_s=_TRAINING_S)
    with pytest.raises(ModelError, match="training_s must be positive"):
        steelworks_sensor_record(scenario, seed=0, training_s=0.0)
    other = dataclasses.replace(settings, horizon=settings.horizon // 2, grid=())
    with pytest.raises(ModelError, match="the project's forecast 96 of 900 s"):
        steelworks_forecast_source(scenario, other, seed=0, training_s=_TRAINING_S)


@pytest.mark.slow  # about 10 s: 12 economic MPC solves on a 96-interval horizon
def test_closed_loop_with_forecast_runs_3_h(scenario, recorded):
    record, start_ms = recorded
    made = []

    def factory(sc, st):
        made.append(_source(sc, st, record, start_ms))
        return made[-1]

    result = run_steelworks(scenario, "mpc_forecast", days=0.125, forecast_factory=factory)
    # One decision every 15 min, each a usable plan (a suboptimal plan is
    # applied too: ipopt's acceptable level, or a plan that foresees a hard
    # limit it cannot keep); the air rule fills the minutes in between.
    counts = result.status_counts()
    assert counts.pop("none") == 180 - 12
    assert set(counts) <= {"optimal", "suboptimal"}
    assert sum(counts.values()) == 12
    assert made[0].causal.refits == 1  # a 3-h run needs no daily refit
    kpis = steelworks_kpis(scenario, result)
    assert kpis["holder_outside_hard_min"] == 0.0
