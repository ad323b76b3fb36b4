"""Standard errors, intervals, priors and the identifiability test.

The statistics are checked against the textbook linear-regression formulas
(ordinary least squares: ``beta = (X^T X)^-1 X^T y``, ``cov = s^2 (X^T X)^-1``
with ``s^2 = RSS / (n - k)``; Gaussian prior: the MAP estimate
``(X^T X / sigma^2 + D)^-1 (X^T y / sigma^2 + D m)``), computed here with
numpy, independently of the calibration code.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import t as student_t

from plant_models.calibration import (
    CalibrationSettings,
    Dataset,
    FitParameter,
    IdentifiabilityError,
    calibrate,
    free_run,
)
from plant_models.calibration.statistics import check_identifiability
from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.mathfuncs import zeros
from plant_models.units import chiller


@equation
def _static_f(x: Any, u: Any, d: Any, p: Any) -> Any:
    return zeros(0)


@equation
def _line_g(x: Any, u: Any, d: Any, p: Any) -> Any:
    y = zeros(1)
    y[0] = p[0] + p[1] * u[0]
    return y


LINE = EquationModel(
    name="line",
    f=_static_f,
    g=_line_g,
    states=(),
    inputs=(Variable("load_w", "W", "Load"),),
    disturbances=(),
    outputs=(Variable("power_w", "W", "Power"),),
    parameters=(
        Variable("offset_w", "W", "Offset", -1e6, 1e6),
        Variable("slope", "dimensionless", "Slope", -10.0, 10.0),
    ),
)


@pytest.fixture(scope="module")
def line_data():
    rng = np.random.default_rng(11)
    load = rng.uniform(0.0, 1000.0, 200)
    power = 50.0 + 1.8 * load + 4.0 * rng.standard_normal(200)
    return load, power, Dataset(1.0, load, outputs={"power_w": power})


def test_linear_fit_matches_ordinary_least_squares(line_data):
    load, power, data = line_data
    result = calibrate(LINE, np.array([0.0, 1.0]), ("offset_w", "slope"), data)
    x = np.column_stack([np.ones_like(load), load])
    beta = np.linalg.lstsq(x, power, rcond=None)[0]
    rss = float(np.sum((power - x @ beta) ** 2))
    cov = rss / (200 - 2) * np.linalg.inv(x.T @ x)
    # The trust-region solver stops at relative steps of 1e-8 on a problem it
    # solves exactly (linear): 1e-7 covers its termination.
    assert_allclose(result.values, beta, rtol=1e-7)
    assert_allclose(result.covariance, cov, rtol=1e-6)
    assert_allclose(result.standard_errors, np.sqrt(np.diag(cov)), rtol=1e-6)
    t975 = student_t.ppf(0.975, 198)
    se = np.sqrt(np.diag(cov))
    assert_allclose(
        result.confidence_95, np.column_stack([beta - t975 * se, beta + t975 * se]), rtol=1e-6
    )
    assert result.dof == 198
    assert result.params is None  # started from a plain vector
    # Static model: the "free run" is the map itself; R2 of this fit ~ 0.9999.
    assert result.train_metrics.r2[0] > 0.999


def test_prior_gives_the_maximum_a_posteriori_estimate(line_data):
    load, power, data = line_data
    sigma, prior_mean, prior_std = 4.0, 1.7, 0.002
    result = calibrate(
        LINE,
        np.array([0.0, 1.0]),
        ("offset_w", FitParameter("slope", prior_mean=prior_mean, prior_std=prior_std)),
        data,
        noise_std={"power_w": sigma},
    )
    x = np.column_stack([np.ones_like(load), load])
    d = np.diag([0.0, 1.0 / prior_std**2])
    info = x.T @ x / sigma**2 + d
    beta = np.linalg.solve(info, x.T @ power / sigma**2 + d @ np.array([0.0, prior_mean]))
    # Linear problem solved exactly up to the solver's 1e-8 termination.
    assert_allclose(result.values, beta, rtol=1e-7)
    # Covariance of the module formula: data information scaled by s^2, plus the prior.
    s2 = float(np.sum(((power - x @ beta) / sigma) ** 2)) / (200 - 2)
    cov = np.linalg.inv(x.T @ x / (sigma**2 * s2) + d)
    assert_allclose(result.covariance, cov, rtol=1e-6)
    # The prior pulls the slope from 1.8 towards 1.7 and narrows it.
    assert result.value("slope") < 1.79
    assert result.standard_error("slope") < prior_std


def test_bounds_are_respected_and_reported(line_data):
    _, _, data = line_data
    result = calibrate(
        LINE, np.array([0.0, 1.0]), ("offset_w", FitParameter("slope", upper=1.5)), data
    )
    assert result.value("slope") == pytest.approx(1.5, abs=1e-9)
    assert result.at_bounds == ("slope",)


# ---------------------------------------------------------------- the SVD test itself


def test_zero_column_named_as_without_effect():
    a = np.random.default_rng(0).standard_normal((50, 3))
    a[:, 2] = 0.0
    with pytest.raises(IdentifiabilityError, match="parameter c has no effect") as info:
        check_identifiability(a, ("a", "b", "c"), 1e-8, 1.0)
    assert info.value.parameters == ("c",)


def test_proportional_columns_named_with_their_correlation():
    a = 100.0 * np.random.default_rng(1).standard_normal((50, 3))
    a[:, 1] = -3.0 * a[:, 0]  # b acts exactly as -3 times a
    with pytest.raises(
        IdentifiabilityError, match=r"parameters a and b cannot be separated .*correlation 1\.0000"
    ) as info:
        check_identifiability(a, ("a", "b", "c"), 1e-8, 1.0)
    assert info.value.parameters == ("a", "b")
    assert info.value.correlation == pytest.approx(1.0, abs=1e-12)


def test_three_way_dependency_names_all_three():
    a = 100.0 * np.random.default_rng(2).standard_normal((50, 4))
    a[:, 3] = a[:, 0] + 2.0 * a[:, 2]
    with pytest.raises(IdentifiabilityError, match="parameters a, c and d cannot be separated"):
        check_identifiability(a, ("a", "b", "c", "d"), 1e-8, 1.0)


def test_weak_parameter_fails_the_practical_test_only_above_threshold():
    a = 100.0 * np.random.default_rng(3).standard_normal((50, 2))
    a[:, 1] *= 1e-4  # its standard error: about 1 / (1e-2 sqrt(50)) = 14, i.e. 1400 %
    with pytest.raises(IdentifiabilityError, match="parameter b is not determined by the data"):
        check_identifiability(a, ("a", "b"), 1e-8, 1.0)
    check_identifiability(a, ("a", "b"), 1e-8, 100.0)  # within a 10000 % allowance


def test_independent_columns_pass():
    a = np.random.default_rng(4).standard_normal((50, 4)) * 100.0
    check_identifiability(a, ("a", "b", "c", "d"), 1e-8, 1.0)


# ---------------------------------------------------------------- a static unit


@pytest.fixture(scope="module")
def chiller_data():
    model = chiller.model()
    truth = replace(chiller.ChillerParams(), cop_nominal=5.9, eir_lift_coefficient_1_k=0.022)
    rng = np.random.default_rng(0)
    n = 300
    duty = rng.uniform(0.2, 1.0, n) * truth.capacity_cooling_w
    temps = np.column_stack([rng.uniform(278.15, 283.15, n), rng.uniform(297.15, 308.15, n)])
    base = Dataset(60.0, duty, temps, outputs={"power_w": np.zeros(n)})
    _, outputs = free_run(model, model.pack_parameters(truth), base)
    power = outputs[:, 0] * (1.0 + 0.01 * rng.standard_normal(n))  # 1 % meter noise
    return model, truth, Dataset(60.0, duty, temps, outputs={"power_w": power})


def test_static_outputs_fit_by_equation_error(chiller_data):
    model, truth, data = chiller_data
    result = calibrate(
        model, chiller.ChillerParams(), ("cop_nominal", "eir_lift_coefficient_1_k"), data
    )
    for name in result.names:
        assert abs(result.value(name) - getattr(truth, name)) < 3.0 * result.standard_error(name)
    assert isinstance(result.params, chiller.ChillerParams)


def test_reference_temperatures_cannot_be_separated(chiller_data):
    # Only the nominal lift (condenser minus chilled-water reference) enters
    # the equations: the two columns are exactly opposite.
    model, _, data = chiller_data
    names = ("chilled_water_temperature_nominal_k", "condenser_water_temperature_nominal_k")
    with pytest.raises(
        IdentifiabilityError,
        match="parameters chilled_water_temperature_nominal_k and "
        r"condenser_water_temperature_nominal_k cannot be separated by the data "
        r"\(correlation 1\.0000",
    ):
        calibrate(model, chiller.ChillerParams(), names, data)


def test_cop_and_part_load_curve_scale_together(chiller_data):
    # Power is proportional to (a, b, c) / COP: four parameters, three combinations.
    model, _, data = chiller_data
    names = ("cop_nominal", "eir_plr_a", "eir_plr_b", "eir_plr_c")
    with pytest.raises(IdentifiabilityError) as info:
        calibrate(model, chiller.ChillerParams(), names, data)
    assert info.value.parameters == names
    assert "cannot be separated by the data" in str(info.value)


def test_inactive_minimum_part_load_has_no_effect(chiller_data):
    # Every duty is above 20 % of capacity, so the 10 % false-loading floor never acts.
    model, _, data = chiller_data
    with pytest.raises(
        IdentifiabilityError,
        match="parameter min_part_load_fraction has no effect on the measured outputs",
    ):
        calibrate(model, chiller.ChillerParams(), ("cop_nominal", "min_part_load_fraction"), data)


def test_settings_thresholds_are_used(chiller_data):
    model, _, data = chiller_data
    names = ("cop_nominal", "eir_lift_coefficient_1_k")
    # A 1e-9 % allowance fails any estimate from noisy data.
    with pytest.raises(IdentifiabilityError, match=r"not determined|cannot be separated"):
        calibrate(
            model,
            chiller.ChillerParams(),
            names,
            data,
            settings=CalibrationSettings(max_relative_se=1e-11),
        )
