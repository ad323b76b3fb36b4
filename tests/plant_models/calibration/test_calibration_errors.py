"""Failure paths: bad data, bad requests and solver failures raise clear errors."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from plant_models.calibration import (
    CalibrationDataError,
    CalibrationError,
    CalibrationSettings,
    CalibrationSolverError,
    Dataset,
    FitParameter,
    calibrate,
    free_run,
)
from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.mathfuncs import log, zeros
from plant_models.units import chiller

FITTED = ("k10_1_s", "k20_1_s")


def test_nan_in_a_measurement_names_signal_and_sample(cstr_data):
    states = {k: np.array(v) for k, v in cstr_data.states.items()}
    states["c_b_mol_m3"][17] = np.nan
    with pytest.raises(
        CalibrationDataError, match=r"state c_b_mol_m3 contains 1 NaN or infinite value.*sample 17"
    ):
        Dataset(cstr_data.dt_s, cstr_data.inputs, cstr_data.disturbances, states=states)


def test_infinite_input_names_column(cstr_data):
    u = np.array(cstr_data.inputs)
    u[5, 1] = np.inf
    with pytest.raises(CalibrationDataError, match=r"u contains 1 NaN .*column 1 at sample 5"):
        Dataset(cstr_data.dt_s, u, cstr_data.disturbances, states=dict(cstr_data.states))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dt_s": 0.0}, "dt_s must be a positive"),
        ({"states": {}}, "no measured outputs or states"),
        ({"u": np.zeros((10, 2))}, "signals differ in length"),
        ({"outputs": {"c_b_mol_m3": np.zeros(600)}}, "given both as output and as state"),
    ],
)
def test_malformed_records_are_rejected(cstr_data, kwargs, message):
    args: dict[str, Any] = {
        "dt_s": cstr_data.dt_s,
        "u": cstr_data.inputs,
        "d": cstr_data.disturbances,
        "states": dict(cstr_data.states),
    }
    args.update(kwargs)
    with pytest.raises(CalibrationDataError, match=message):
        Dataset(**args)


def test_unknown_parameter_and_signal_names(cstr_model, cstr_nominal, cstr_data):
    with pytest.raises(CalibrationError, match="has no parameter 'k99_1_s'; known: k10_1_s"):
        calibrate(cstr_model, cstr_nominal, ("k99_1_s",), cstr_data)
    bad = Dataset(
        cstr_data.dt_s, cstr_data.inputs, cstr_data.disturbances, states={"c_x": np.ones(600)}
    )
    with pytest.raises(CalibrationDataError, match="no state 'c_x'; known: c_a_mol_m3"):
        calibrate(cstr_model, cstr_nominal, FITTED, bad)


def test_wrong_input_columns(cstr_model, cstr_nominal, cstr_data):
    bad = Dataset(
        cstr_data.dt_s,
        cstr_data.inputs[:, :1],
        cstr_data.disturbances,
        states=dict(cstr_data.states),
    )
    with pytest.raises(CalibrationDataError, match="u has 1 columns; model cstr_vdv has 2"):
        calibrate(cstr_model, cstr_nominal, FITTED, bad)


def test_bad_requests(cstr_model, cstr_nominal, cstr_data):
    with pytest.raises(CalibrationError, match="listed more than once"):
        calibrate(cstr_model, cstr_nominal, ("k10_1_s", "k10_1_s"), cstr_data)
    with pytest.raises(CalibrationError, match="no parameters to fit"):
        calibrate(cstr_model, cstr_nominal, (), cstr_data)
    with pytest.raises(CalibrationError, match=r"initial value .* outside"):
        calibrate(cstr_model, cstr_nominal, (FitParameter("k10_1_s", upper=1.0),), cstr_data)
    with pytest.raises(CalibrationError, match="noise_std must give every measured signal"):
        calibrate(cstr_model, cstr_nominal, FITTED, cstr_data, noise_std={"c_a_mol_m3": 1.0})
    with pytest.raises(CalibrationError, match="give both prior_mean and prior_std"):
        FitParameter("k10_1_s", prior_mean=1.0)
    with pytest.raises(CalibrationError, match="method must be"):
        CalibrationSettings(method="gradient_descent")  # type: ignore[arg-type]
    with pytest.raises(CalibrationError, match="derivative_window must be an odd integer"):
        CalibrationSettings(derivative_window=6)
    with pytest.raises(CalibrationError, match="x0 must be finite with shape"):
        calibrate(
            cstr_model,
            cstr_nominal,
            FITTED,
            cstr_data,
            settings=CalibrationSettings(method="multiple_shooting"),
            x0=np.zeros(3),
        )


def test_ipopt_failure_is_reported_with_its_status(cstr_model, cstr_nominal, cstr_data):
    settings = CalibrationSettings(method="multiple_shooting", substeps=2, max_iter=2)
    with pytest.raises(CalibrationSolverError, match="ipopt did not converge") as info:
        calibrate(cstr_model, cstr_nominal, FITTED, cstr_data, settings=settings)
    assert info.value.status == "Maximum_Iterations_Exceeded"


def test_least_squares_failure_is_reported(cstr_model, cstr_nominal, cstr_data):
    settings = CalibrationSettings(substeps=2, max_iter=1)
    with pytest.raises(CalibrationSolverError, match="least squares did not converge"):
        calibrate(cstr_model, cstr_nominal, FITTED, cstr_data, settings=settings)


@equation
def _static_f(x: Any, u: Any, d: Any, p: Any) -> Any:
    return zeros(0)


@equation
def _log_g(x: Any, u: Any, d: Any, p: Any) -> Any:
    y = zeros(1)
    y[0] = log(p[0] * u[0])
    return y


def test_nan_model_output_at_start_is_reported():
    model = EquationModel(
        name="log_map",
        f=_static_f,
        g=_log_g,
        states=(),
        inputs=(Variable("u", "dimensionless", "Input"),),
        disturbances=(),
        outputs=(Variable("y", "dimensionless", "Output"),),
        parameters=(Variable("gain", "dimensionless", "Gain", -10.0, 10.0),),
    )
    u = np.linspace(1.0, 2.0, 50)
    data = Dataset(1.0, u, outputs={"y": np.log(2.0 * u)})
    with pytest.raises(CalibrationSolverError, match="NaN or infinite residuals of y") as info:
        calibrate(model, np.array([-1.0]), ("gain",), data)
    assert info.value.status == "invalid_start"
    # From a valid start the same fit recovers the gain of 2 (noise-free data:
    # to the solver's 1e-8 termination).
    result = calibrate(model, np.array([1.0]), ("gain",), data)
    assert result.value("gain") == pytest.approx(2.0, rel=1e-7)


def test_too_short_record_for_the_parameters(cstr_model, cstr_nominal, cstr_data):
    short = cstr_data.window(0, 2)
    with pytest.raises(CalibrationDataError, match="residuals cannot determine"):
        calibrate(
            cstr_model,
            cstr_nominal,
            (
                "k10_1_s",
                "k20_1_s",
                "k30_m3_mol_s",
                "heat_transfer_coefficient_w_m2_k",
                "activation_temperature1_k",
            ),
            short,
            settings=CalibrationSettings(substeps=2),
        )


def test_discrete_time_models_are_refused(cstr_model, cstr_nominal, cstr_data):
    if "dt_s" not in EquationModel.__dataclass_fields__:
        pytest.skip("the model core has no discrete-time flag")
    discrete = EquationModel(
        name="step_map",
        f=_static_f,
        g=_log_g,
        states=(),
        inputs=(Variable("u", "dimensionless", "Input"),),
        disturbances=(),
        outputs=(Variable("y", "dimensionless", "Output"),),
        parameters=(Variable("gain", "dimensionless", "Gain"),),
        dt_s=1.0,
    )
    data = Dataset(1.0, np.ones(5), outputs={"y": np.zeros(5)})
    with pytest.raises(CalibrationError, match="discrete-time"):
        calibrate(discrete, np.array([1.0]), ("gain",), data)


def test_estimates_breaking_a_unit_rule_are_reported():
    # The chiller's part-load curve must be 1 at full load (a + b + c = 1 to
    # within 0.02); fitting b alone to data of a 7 % better COP moves it by
    # about -0.1, which the dataclass refuses.
    model = chiller.model()
    truth = dataclasses.replace(chiller.ChillerParams(), cop_nominal=5.9)
    rng = np.random.default_rng(0)
    duty = rng.uniform(0.2, 1.0, 200) * truth.capacity_cooling_w
    temps = np.column_stack([rng.uniform(278.15, 283.15, 200), rng.uniform(297.15, 308.15, 200)])
    base = Dataset(60.0, duty, temps, outputs={"power_w": np.zeros(200)})
    _, outputs = free_run(model, model.pack_parameters(truth), base)
    data = Dataset(
        60.0,
        duty,
        temps,
        outputs={"power_w": outputs[:, 0] * (1 + 0.01 * rng.standard_normal(200))},
    )
    with pytest.raises(CalibrationError, match="the estimates break a rule of ChillerParams"):
        calibrate(model, chiller.ChillerParams(), ("eir_plr_b",), data)
