"""Scenario sets for multi-stage MPC and the phase helpers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import norm

from controllers.errors import ForecastError
from controllers.forecast import Forecast, ScenarioSet, psi_weights, step_phases

H = 12


@pytest.fixture
def forecast(fitted, history):
    n = history.n_train
    return fitted.forecast(
        history.y[n - 10 : n], history.tod[n : n + H], history.dow[n : n + H], levels=(0.9, 0.95)
    )


def test_interval_scenarios_match_mean_and_variance(forecast):
    sc = forecast.scenarios("interval", level=0.9)
    assert sc.labels == ("lower", "mean", "upper")
    z = norm.ppf(0.95)
    assert_allclose(sc.weights, [0.5 / z**2, 1 - 1 / z**2, 0.5 / z**2], rtol=1e-12)
    mean = sc.weights @ sc.values
    var = sc.weights @ (sc.values - forecast.mean) ** 2
    assert_allclose(mean, forecast.mean, rtol=1e-12)  # symmetric bounds: round-off only
    assert_allclose(var, forecast.std**2, rtol=1e-12)
    with pytest.raises(ForecastError, match="was not computed"):
        forecast.scenarios("interval", level=0.5)


def test_quadrature_scenarios_are_gauss_hermite(forecast):
    sc = forecast.scenarios("quadrature", n=5)
    assert_allclose(sc.weights.sum(), 1.0, rtol=1e-12)
    # Gauss-Hermite with 5 nodes integrates polynomials up to degree 9
    # exactly: mean, variance and kurtosis 3 of the Gaussian, to round-off.
    dev = (sc.values - forecast.mean) / forecast.std
    assert_allclose(sc.weights @ dev, 0.0, atol=1e-12)
    assert_allclose(sc.weights @ dev**2, 1.0, rtol=1e-12)
    assert_allclose(sc.weights @ dev**4, 3.0, rtol=1e-12)


def test_sampled_paths_have_forecast_spread_and_ar_correlation(forecast):
    sc = forecast.scenarios("sampled", n=4000, seed=1)
    assert_allclose(sc.weights, 1 / 4000)
    # Sample sd of 4000 draws: relative se 1.1 %; 5 % is > 4 se.
    assert_allclose(sc.values.std(axis=0), forecast.std, rtol=0.05)
    # Correlation of steps 1 and 2 of an AR(1) forecast error: phi / sqrt(1 + phi^2).
    phi = forecast.ar_coefficients[0]
    corr = np.corrcoef(sc.values[:, 0], sc.values[:, 1])[0, 1]
    assert_allclose(corr, phi / np.sqrt(1 + phi**2), atol=0.03)  # se about 0.006
    again = forecast.scenarios("sampled", n=4000, seed=1)
    assert_allclose(again.values, sc.values, rtol=0, atol=0)  # seeded
    with pytest.raises(ForecastError, match="positive integer"):
        forecast.scenarios("sampled", n=0)
    with pytest.raises(ForecastError, match="kind must be"):
        forecast.scenarios("robust")  # type: ignore[arg-type]


def test_forecast_and_scenarios_round_trip(forecast):
    copy = Forecast.from_dict(json.loads(json.dumps(forecast.to_dict())))
    assert_allclose(copy.upper, forecast.upper, rtol=0, atol=0)
    sc = forecast.scenarios()
    sc2 = ScenarioSet.from_dict(json.loads(json.dumps(sc.to_dict())))
    assert_allclose(sc2.values, sc.values, rtol=0, atol=0)
    with pytest.raises(ForecastError, match="sum to 1"):
        ScenarioSet(sc.values, np.array([0.5, 0.5, 0.5]), sc.labels, sc.dt_s)


def test_psi_weights_of_ar2():
    # AR(2) a = (0.5, 0.3): psi = 1, 0.5, 0.55, 0.425, 0.3775 by the recursion
    # psi_j = 0.5 psi_{j-1} + 0.3 psi_{j-2}, worked by hand.
    assert_allclose(psi_weights(np.array([0.5, 0.3]), 5), [1, 0.5, 0.55, 0.425, 0.3775])


def test_step_phases_wrap_midnight_and_week():
    tod, dow = step_phases(900.0, 0, 900.0, np.array([-2, -1, 0, 1]))
    assert_allclose(tod, [85500.0, 0.0, 900.0, 1800.0])  # exact multiples of 900 s
    assert dow is not None
    assert dow.tolist() == [6, 0, 0, 0]  # Monday minus 15 min is Sunday
