"""Profile-plus-AR forecaster on synthetic data with a known profile and AR(1) deviation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.errors import ForecastError
from controllers.forecast import ForecastSettings, ProfileARXForecaster, fit_forecaster
from tests.controllers.forecast.conftest import (
    DT_S,
    PER_DAY,
    PHI,
    SIGMA_E,
    make_history,
    true_profile,
)

HORIZON = 24


def holdout(fitted, history, interval="analytic", stride=2):
    """Errors and 90 % hits of forecasts from many hold-out origins, shape (n_origins, H)."""
    errors, hits = [], []
    for o in range(history.n_train, history.y.size - HORIZON, stride):
        sl = slice(o, o + HORIZON)
        fc = fitted.forecast(
            history.y[o - 48 : o], history.tod[sl], history.dow[sl], interval=interval
        )
        lo, up = fc.interval(0.9)
        actual = history.y[sl]
        errors.append(actual - fc.mean)
        hits.append((actual >= lo) & (actual <= up))
    return np.array(errors), np.array(hits)


def test_profile_recovered(fitted):
    prof = fitted.profile
    # 15-min data in 15-min bins: each node is the sampled phase, not the bin centre.
    assert_allclose(prof.nodes_s, np.arange(PER_DAY) * DT_S, atol=1e-9)  # exact arithmetic
    # Per-bin median over 60 days of a deviation with stationary sd
    # 2 / sqrt(1 - 0.64) = 3.3: sd about 1.25 * 3.3 / sqrt(60) = 0.54 before
    # smoothing; 1.5 is about three of those, 5 % of the 30-unit peak-to-peak.
    assert_allclose(prof.values[0], true_profile(prof.nodes_s), atol=1.5)
    rms = np.sqrt(np.mean((prof.values[0] - true_profile(prof.nodes_s)) ** 2))
    assert rms < 0.6


def test_ar_order_and_innovation_variance(fitted, history):
    dev = fitted.deviation
    assert dev.order == 1  # BIC picks the true order
    # Standard error of phi from 5760 samples: sqrt((1 - 0.64) / 5760) = 0.008.
    assert_allclose(dev.a[0], PHI, atol=0.03)
    # Sample variance of 5760 innovations: relative sd sqrt(2 / 5760) = 1.9 %.
    assert_allclose(dev.innovation_var, SIGMA_E**2, rtol=0.08)
    # Hold-out one-step errors (672 origins, relative sd of their variance
    # about 5.5 %, plus the profile error): within 15 % of the true variance.
    errors, _ = holdout(fitted, history)
    assert_allclose(np.var(errors[:, 0]), SIGMA_E**2, rtol=0.15)
    assert_allclose(np.mean(errors[:, 0]), 0.0, atol=0.3)  # 3 sd of a mean of 672: 0.23


@pytest.mark.parametrize("interval", ["analytic", "empirical"])
def test_holdout_coverage_of_90_percent_interval(fitted, history, interval):
    _, hits = holdout(fitted, history, interval)
    assert 0.85 <= hits[:, 0].mean() <= 0.95
    assert 0.85 <= hits.mean() <= 0.95
    assert 0.85 <= hits[:, -1].mean() <= 0.95


def test_multi_step_std_follows_ar_theory(fitted, history):
    n = history.n_train
    fc = fitted.forecast(history.y[n - 10 : n], history.tod[n : n + HORIZON])
    phi, sigma = fitted.deviation.a[0], fitted.deviation.innovation_std
    h = np.arange(1, HORIZON + 1)
    # Closed form for AR(1): var_h = sigma^2 (1 - phi^(2h)) / (1 - phi^2); round-off only.
    assert_allclose(fc.std, sigma * np.sqrt((1 - phi ** (2 * h)) / (1 - phi**2)), rtol=1e-12)
    assert np.all(np.diff(fc.std) > 0.0)
    # Hold-out errors widen the same way: empirical sd per step within 15 %
    # of the true-model sd (672 correlated origins per step).
    errors, _ = holdout(fitted, history)
    theory = SIGMA_E * np.sqrt((1 - PHI ** (2 * h)) / (1 - PHI**2))
    assert_allclose(errors.std(axis=0), theory, rtol=0.15)
    # Mean reverts to the profile: after 24 steps 0.8^24 = 0.5 % of the deviation is left.
    dev_now = history.y[n - 1] - fitted.profile.evaluate(history.tod[n - 1 : n])[0]
    assert_allclose(
        fc.mean[0] - fc.profile[0],
        fitted.deviation.intercept + phi * dev_now,
        rtol=1e-12,  # one step of the recursion, computed independently
    )


def test_gaps_in_training_never_fitted_across():
    h = make_history(seed=5, days=40)
    y = h.y.copy()
    rng = np.random.default_rng(0)
    for start in rng.integers(0, y.size - 200, 30):
        y[start : start + rng.integers(1, 150)] = np.nan
    # A constant offset after every gap would bias any fit across a gap.
    fc = fit_forecaster(y, h.tod, h.dow, dt_s=DT_S, settings=ForecastSettings(max_order=1))
    finite = np.isfinite(y)
    expected_rows = int(np.sum(finite[1:] & finite[:-1]))  # (t-1, t) both present
    assert fc.deviation.n_equations == expected_rows
    assert_allclose(fc.deviation.a[0], PHI, atol=0.04)  # about 3000 equations: se 0.011


def test_gaps_change_nothing_when_the_jumps_are_masked():
    """Data after a NaN gap shifted by +50: the NaN separates the two levels."""
    h = make_history(seed=6, days=30)
    y = h.y.copy()
    half = y.size // 2
    settings = ForecastSettings(max_order=1, penalty=0.0)
    base = fit_forecaster(y, h.tod, h.dow, dt_s=DT_S, settings=settings)
    y_gap = y.copy()
    y_gap[half] = np.nan
    gapped = fit_forecaster(y_gap, h.tod, h.dow, dt_s=DT_S, settings=settings)
    # One sample out of 2880 removed: phi moves by far less than its se (0.011).
    assert_allclose(gapped.deviation.a, base.deviation.a, atol=0.01)
    assert gapped.deviation.n_equations == base.deviation.n_equations - 2


def test_exogenous_input_matches_fit_arx():
    from plant_models.datadriven import fit_arx

    h = make_history(seed=7, days=30)
    rng = np.random.default_rng(3)
    rate = 200.0 + np.repeat(rng.normal(0.0, 20.0, h.y.size // 8 + 1), 8)[: h.y.size]
    y = h.y + 0.5 * (rate - 200.0)
    # y - profile = 0.5 x + r with r AR(1): in ARX form
    # r[t] = 0.8 r[t-1] + 0.5 x[t] - 0.4 x[t-1] + e, so two taps.
    settings = ForecastSettings(max_order=1, penalty=0.0, exog_taps=2)
    fc = fit_forecaster(y, h.tod, h.dow, dt_s=DT_S, exog=rate, settings=settings)
    # se of each tap about 0.004 (2880 equations, rate sd 20, innovation sd 2),
    # but the 30-day profile also soaks up some of the random rate (0.5 * 20 /
    # sqrt(30) per bin), which moves phi and with it the second tap, -phi b0.
    b0, b1 = fc.deviation.b[:, 0]
    assert_allclose(b0, 0.5, atol=0.02)
    assert_allclose(b1, -fc.deviation.a[0] * b0, atol=0.02)
    assert_allclose(fc.deviation.a[0], PHI, atol=0.06)
    dev = y - fc.profile.evaluate(h.tod, h.dow)
    ref = fit_arx(rate, dev, DT_S, na=1, nb=2, nk=0, penalty=0.0)
    # Same least-squares problem solved by fit_arx: agreement to round-off.
    assert_allclose(fc.deviation.a[0], ref.a[0, 0, 0], rtol=1e-8)
    b_phys = ref.b[:, 0, 0] * ref.output_scaling.scale[0] / ref.input_scaling.scale[0]
    assert_allclose(fc.deviation.b[:, 0], b_phys, rtol=1e-8)
    # Forecast uses the planned rate: +10 in the plan moves the mean by 0.5 * 10.
    n = 2000
    sl = slice(n, n + 4)
    kwargs = {"exog_recent": rate[n - 5 : n]}
    low = fc.forecast(y[n - 5 : n], h.tod[sl], exog_future=np.full(4, 200.0), **kwargs)
    high = fc.forecast(y[n - 5 : n], h.tod[sl], exog_future=np.full(4, 210.0), **kwargs)
    # Step 1 sees +10 at lag 0 only; later steps the lagged tap and the AR
    # propagate it: the steady gain is (0.5 - 0.4) / (1 - a) of the +10.
    a = fc.deviation.a[0]
    gains = [b0]
    for _ in range(3):
        gains.append(a * gains[-1] + b0 + b1)
    assert_allclose(high.mean - low.mean, 10.0 * np.array(gains), rtol=1e-10)
    with pytest.raises(ForecastError, match="exogenous input"):
        fc.forecast(y[n - 5 : n], h.tod[sl])


def test_nan_at_end_of_recent_history_shifts_origin(fitted, history):
    n = history.n_train
    recent = history.y[n - 20 : n].copy()
    recent[-3:] = np.nan
    sl = slice(n, n + HORIZON)
    fc = fitted.forecast(recent, history.tod[sl])
    assert (fc.fallback, fc.origin_lag) == ("shifted", 3)
    # Independent: forecast from 3 steps earlier over a 3-step longer horizon.
    ref = fitted.forecast(recent[:-3], history.tod[n - 3 : n + HORIZON])
    assert_allclose(fc.mean, ref.mean[3:], rtol=1e-12)  # same recursion, round-off
    assert_allclose(fc.std, ref.std[3:], rtol=1e-12)
    with pytest.raises(ForecastError, match="must be finite"):
        fitted.forecast(recent, history.tod[sl], missing="raise")


def test_no_usable_history_falls_back_to_profile(fitted, history):
    n = history.n_train
    sl = slice(n, n + HORIZON)
    fc = fitted.forecast(np.full(10, np.nan), history.tod[sl])
    assert fc.fallback == "profile"
    phi, sigma = fitted.deviation.a[0], fitted.deviation.innovation_std
    # Stationary AR(1): sd sigma / sqrt(1 - phi^2), mean c / (1 - phi); the
    # burn-in leaves 1e-10 of the variance, so rtol 1e-9 is ample.
    assert_allclose(fc.std, sigma / np.sqrt(1 - phi**2), rtol=1e-9)
    assert_allclose(fc.mean - fc.profile, fitted.deviation.intercept / (1 - phi), rtol=1e-9)
    empty = fitted.forecast([], history.tod[sl])
    assert empty.fallback == "profile"
    with pytest.raises(ForecastError, match="missing='fallback'"):
        fitted.forecast(np.full(10, np.nan), history.tod[sl], missing="raise")


def test_too_little_data_raises():
    h = make_history(seed=1, days=2)
    with pytest.raises(ForecastError, match="too little history for the every day profile"):
        fit_forecaster(h.y, h.tod, dt_s=DT_S)
    h = make_history(seed=1, days=4)
    with pytest.raises(ForecastError, match="too little gap-free history"):
        fit_forecaster(h.y, h.tod, dt_s=DT_S, settings=ForecastSettings(max_order=80))


def test_bad_inputs_raise(fitted, history):
    tod = history.tod[:4]
    with pytest.raises(ForecastError, match=r"in \[0, 86400\)"):
        fitted.forecast(history.y[:5], [0.0, 86400.0])
    with pytest.raises(ForecastError, match="levels must be"):
        fitted.forecast(history.y[:5], tod, levels=(1.2,))
    with pytest.raises(ForecastError, match="was not computed"):
        fitted.forecast(history.y[:5], tod).interval(0.8)
    with pytest.raises(ForecastError, match="day_of_week must be integers"):
        fitted.forecast(history.y[:5], tod, [0, 1, 7, 1])
    with pytest.raises(ForecastError, match="no exogenous inputs"):
        fitted.forecast(history.y[:5], tod, exog_future=np.ones(4))
    with pytest.raises(ForecastError, match="training time_of_day_s has 3"):
        fit_forecaster(history.y[:4], history.tod[:3], dt_s=DT_S)
    uncalibrated = fit_forecaster(history.y[:2000], history.tod[:2000], dt_s=DT_S)
    with pytest.raises(ForecastError, match="calibration_horizon"):
        uncalibrated.forecast(history.y[:5], tod, interval="empirical")


def test_weekend_profile():
    h = make_history(seed=9, days=56)
    weekend = h.dow >= 5
    y = h.y - 30.0 * weekend
    fc = fit_forecaster(y, h.tod, h.dow, dt_s=DT_S, settings=ForecastSettings(weekend_days=(5, 6)))
    nodes = fc.profile.nodes_s
    # 40 weekdays: median sd about 0.65; 16 weekend days: about 1.0; 3 sd.
    assert_allclose(fc.profile.values[0], true_profile(nodes), atol=2.0)
    assert_allclose(fc.profile.values[1], true_profile(nodes) - 30.0, atol=3.0)
    with pytest.raises(ForecastError, match="pass day_of_week"):
        fc.forecast(y[-5:], h.tod[:3])
    sat = fc.forecast(y[:0], [43200.0], [5])
    mon = fc.forecast(y[:0], [43200.0], [0])
    assert_allclose(mon.profile - sat.profile, 30.0, atol=4.0)  # both rows' errors add


def test_round_trip_through_json(fitted, history):
    copy = ProfileARXForecaster.from_dict(json.loads(json.dumps(fitted.to_dict())))
    n = history.n_train
    args = (history.y[n - 10 : n], history.tod[n : n + 8], history.dow[n : n + 8])
    for interval in ("analytic", "empirical"):
        a = fitted.forecast(*args, interval=interval, levels=(0.5, 0.9))
        b = copy.forecast(*args, interval=interval, levels=(0.5, 0.9))
        assert_allclose(b.lower, a.lower, rtol=0, atol=0)  # floats survive JSON exactly
        assert_allclose(b.upper, a.upper, rtol=0, atol=0)
    broken = fitted.to_dict()
    broken["deviation"] = {**broken["deviation"], "kind": "mlp"}
    with pytest.raises(ForecastError, match="expected a stored 'deviation_arx'"):
        ProfileARXForecaster.from_dict(broken)
    with pytest.raises(ForecastError, match="unknown forecast setting"):
        ProfileARXForecaster.from_dict({**fitted.to_dict(), "settings": {"bins": 3}})
