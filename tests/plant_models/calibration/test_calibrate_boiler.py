"""Calibration of the multi-fuel boiler's efficiency curve from its steam output.

The truth's efficiency curve differs from the defaults in all four
coefficients (peak 0.905 instead of 0.92, best load 0.78 instead of 0.85,
load coefficient 0.05 instead of 0.03, lean-fuel drop 0.04 instead of
0.03).  Only the steam flow is measured (flow meter noise 0.1 kg/s, about
0.2 % of the 61 kg/s rating); fuel flows and calorimeter readings are inputs.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plant_models.calibration import (
    CalibrationSettings,
    Dataset,
    IdentifiabilityError,
    calibrate,
)
from plant_models.core.simulate import simulate
from plant_models.units.boiler import BoilerParams

FITTED = (
    "efficiency_nominal",
    "load_best_fraction",
    "efficiency_load_coefficient",
    "efficiency_drop_lean_fuel",
)
MS = CalibrationSettings(method="multiple_shooting")


@pytest.fixture(scope="module")
def result(boiler_model, boiler_data):
    train, validation = boiler_data.split(0.7)
    return calibrate(boiler_model, BoilerParams(), FITTED, train, validation, settings=MS)


def test_efficiency_curve_recovered_within_standard_errors(result, boiler_truth):
    for name in FITTED:
        true = getattr(boiler_truth, name)
        low, high = result.interval(name)
        assert low <= true <= high, f"{name}: {true} outside [{low}, {high}]"
        assert abs(result.value(name) - true) < 3.0 * result.standard_error(name)
    # The peak efficiency is pinned to better than 0.1 percentage point.
    assert result.standard_error("efficiency_nominal") < 1e-3
    # Hold-out free run of the steam flow: NRMSE of a few percent, the noise
    # (0.1 kg/s) over the steam spread (about 10 kg/s) being 1 %.
    assert result.validation_metrics.nrmse[0] < 0.03


def test_fitted_parameters_are_a_valid_dataclass(result, boiler_truth):
    fitted = result.params
    assert fitted.capacity_steam_kg_s == boiler_truth.capacity_steam_kg_s
    assert fitted.efficiency_nominal == result.value("efficiency_nominal")


def test_parameter_without_effect_is_named(boiler_model, boiler_data):
    # Auxiliary power per kg of steam enters only the aux_power_w output,
    # which is not measured: its sensitivity column is exactly zero.
    with pytest.raises(
        IdentifiabilityError,
        match="parameter aux_energy_j_kg has no effect on the measured outputs",
    ) as info:
        calibrate(
            boiler_model,
            BoilerParams(),
            ("efficiency_nominal", "aux_energy_j_kg"),
            boiler_data,
            settings=MS,
        )
    assert info.value.parameters == ("aux_energy_j_kg",)


def test_time_constant_not_identified_from_steady_operation(boiler_model):
    # Four hours at constant firing: the steam flow sits at its steady value,
    # which the efficiency sets; the lag time constant shows in no sample.
    params = BoilerParams()
    p = boiler_model.pack_parameters(params)
    n = 480
    fuel = np.tile([18.9, 2.07, 0.67], (n, 1))  # 50/30/20 % of ~120 MW from BFG/COG/NG
    lhv = np.tile([3.2e6, 17.6e6, 36.0e6], (n, 1))
    steady = simulate(boiler_model, [30.0], fuel[:60], lhv[:60], p, 60.0, substeps=4).states[-1]
    sim = simulate(boiler_model, steady, fuel, lhv, p, 30.0)
    assert_allclose(sim.states, steady[0], rtol=1e-9)  # steady to round-off
    rng = np.random.default_rng(5)
    steam = sim.states[:-1, 0] + 0.1 * rng.standard_normal(n)
    data = Dataset(30.0, fuel, lhv, states={"steam_kg_s": steam})
    with pytest.raises(IdentifiabilityError, match="parameter time_constant_s is not determined"):
        calibrate(
            boiler_model, params, ("efficiency_nominal", "time_constant_s"), data, settings=MS
        )
