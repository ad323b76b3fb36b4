"""Back-off of the holder limits from the forecast intervals: margins and a short closed loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.economic import (
    CostTerm,
    EconomicMPC,
    EconomicMPCSettings,
    HardLimit,
    HorizonInputs,
    ManipulatedVariable,
    SoftBand,
)
from controllers.forecast import Forecast
from energyopt.closedloop import (
    ControllerPolicy,
    RawMeasurements,
    TruthPlant,
    run_closed_loop,
)
from energyopt.closedloop.backoff import (
    BackoffForecastSource,
    HolderBackoff,
    cumulative_error_margin,
    holder_inflow_gains,
    holder_margin,
    holder_volume_per_unit,
    psi_weights,
)
from energyopt.controlbuild.forecast import EconomicHorizon
from energyopt.errors import ModelError
from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.mathfuncs import zeros

Z95 = 1.6448536269514722  # one-sided 95 % Gaussian quantile (scipy.stats.norm.ppf(0.95))


# ------------------------------------------------------------------ margins by hand


def test_psi_weights_of_an_ar1_are_its_powers():
    # x_t = 0.5 x_{t-1} + eps_t has psi_j = 0.5**j (Box and Jenkins).
    assert_allclose(psi_weights([0.5], 5), 0.5 ** np.arange(5), rtol=1e-15)
    # exact up to round-off of lfilter's recursion
    assert_allclose(psi_weights([], 3), [1.0, 0.0, 0.0], rtol=0, atol=0)


def test_cumulative_margin_of_an_ar1_against_a_hand_computation():
    # AR(1), phi = 0.5, sigma = 1: e_1 = eps1, e_2 = 0.5 eps1 + eps2,
    # e_3 = 0.25 eps1 + 0.5 eps2 + eps3.  Cumulative errors:
    # E_1 = eps1 (var 1), E_2 = 1.5 eps1 + eps2 (var 3.25),
    # E_3 = 1.75 eps1 + 1.5 eps2 + eps3 (var 3.0625 + 2.25 + 1 = 6.3125).
    # Gaussian half-widths w_h = z s_h with s_h^2 = 1, 1.25, 1.3125.
    z, dt = 2.0, 10.0
    w = z * np.sqrt([1.0, 1.25, 1.3125])
    got = cumulative_error_margin(w, [0.5], dt)
    want = z * dt * np.sqrt([1.0, 3.25, 6.3125])
    # same sums in another order: round-off only
    assert_allclose(got, want, rtol=1e-12)
    # Recourse after 2 intervals: the margin is held at its 2nd value.
    held = cumulative_error_margin(w, [0.5], dt, recourse_intervals=2)
    assert_allclose(held, [want[0], want[1], want[1]], rtol=1e-12)


def test_cumulative_margin_lies_between_independent_and_comonotone():
    w = np.array([3.0, 1.0, 2.0, 4.0])
    dt = 900.0
    # White noise (no AR part): independent errors add in quadrature.
    assert_allclose(
        cumulative_error_margin(w, [], dt), dt * np.sqrt(np.cumsum(w**2)), rtol=1e-12
    )  # round-off only
    # Positively correlated AR errors: strictly between the two bounds from step 2.
    m = cumulative_error_margin(w, [0.6, 0.2], dt)
    assert np.all(m[1:] > dt * np.sqrt(np.cumsum(w**2))[1:])
    assert np.all(m[1:] < dt * np.cumsum(w)[1:])


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"half_width": [1.0, -1.0]}, "half-widths must be finite and >= 0"),
        ({"half_width": [1.0, math.nan]}, "half-widths must be finite and >= 0"),
        ({"interval_s": 0.0}, "interval_s must be positive"),
        ({"recourse_intervals": 0}, "recourse_intervals must be >= 1"),
    ],
)
def test_cumulative_margin_rejects_bad_inputs(kwargs, fragment):
    args = {"half_width": [1.0, 2.0], "ar_coefficients": [0.3], "interval_s": 900.0} | kwargs
    with pytest.raises(ModelError, match=fragment):
        cumulative_error_margin(
            args.pop("half_width"),
            args.pop("ar_coefficients"),
            args.pop("interval_s"),
            **args,
        )


def _forecast(mean, std, ar, *, level=0.9, dt=900.0, skew=1.0) -> Forecast:
    """A Gaussian forecast; ``skew`` scales the upper half-width only."""
    mean, std = np.asarray(mean, float), np.asarray(std, float)
    z = Z95 if level == 0.9 else float(level)
    return Forecast(
        mean=mean,
        profile=mean,
        std=std,
        levels=np.array([0.9]),
        lower=(mean - z * std)[None],
        upper=(mean + skew * z * std)[None],
        interval_method="analytic",
        fallback="none",
        origin_lag=0,
        ar_coefficients=np.asarray(ar, float),
        innovation_std=float(std[0]),
        dt_s=dt,
    )


def _horizon(forecasts: dict[str, Forecast], d: np.ndarray) -> EconomicHorizon:
    n = d.shape[0]
    names = tuple(forecasts)
    return EconomicHorizon(
        time_ms=np.arange(n, dtype=np.int64) * 900_000,
        inputs=HorizonInputs(d, np.full(n, 1e-7), None),
        forecasts=forecasts,
        names=names,
        low=np.full(len(names), -1e9),
        high=np.full(len(names), 1e9),
    )


def test_holder_margin_combines_a_producer_and_a_consumer_in_quadrature():
    # Producer (gain 0.09 m3/kg): its *lower* half-width counts; consumer
    # (gain -4 m3/s per unit demand): its *upper* half-width, made twice the
    # lower one by skew=2 to see that the right side is used.
    dt = 900.0
    prod = _forecast([150.0] * 3, [60.0] * 3, [])
    users = _forecast([1.0] * 3, [0.05] * 3, [], skew=2.0)
    horizon = _horizon({"prod": prod, "users": users}, np.array([[150.0, 1.0]] * 3))
    got = holder_margin(horizon, {"prod": 0.09, "users": -4.0}, dt)
    # White-noise errors: M_k = dt sqrt(k) sqrt((0.09 z 60)^2 + (4 * 2 z 0.05)^2).
    per_step = math.hypot(0.09 * Z95 * 60.0, 4.0 * 2.0 * Z95 * 0.05)
    assert_allclose(got, dt * per_step * np.sqrt([1.0, 2.0, 3.0]), rtol=1e-12)  # round-off
    # At the 99 % one-sided quantile the Gaussian margins scale by z99 / z95.
    z99 = 2.3263478740408408  # scipy.stats.norm.ppf(0.99)
    got99 = holder_margin(horizon, {"prod": 0.09, "users": -4.0}, dt, quantile=0.99)
    assert_allclose(got99, got * z99 / Z95, rtol=1e-12)  # round-off
    with pytest.raises(ModelError, match="quantile must be in"):
        holder_margin(horizon, {"prod": 0.09}, dt, quantile=0.4)


class _Source:
    """Stands for the causal forecast source: a fixed horizon."""

    def __init__(self, horizon: EconomicHorizon) -> None:
        self._h = horizon

    def horizon(self, time_s: float) -> EconomicHorizon:
        return self._h


def test_backoff_source_moves_both_hard_limits_by_the_margins_and_keeps_the_mean():
    dt = 900.0
    # Skewed intervals: the upper half-width is twice the lower one, so the
    # upper limit's margin (more gas made) is twice the lower limit's.
    prod = _forecast([150.0] * 4, [60.0] * 4, [0.5], skew=2.0)
    d = np.array([[150.0, 7.0]] * 4)
    horizon = _horizon({"prod": prod}, d)
    volume = 200_000.0  # m3 per unit of level fraction (margins stay apart)
    source = BackoffForecastSource(
        _Source(horizon),
        (HolderBackoff("ldg_holder", {"prod": 0.09}, "ldg.level", volume, 0.15, 0.9),),
        dt,
        recourse_intervals=2,
    )
    out = source(0.0)
    low_m3 = source.last_margins_m3["ldg_holder"]
    high_m3 = source.last_margins_high_m3["ldg_holder"]
    # The lower margin is the gain times the cumulative error margin of the
    # lower half-widths z * 60 (checked by hand above), held after 2 intervals.
    want = 0.09 * cumulative_error_margin(np.full(4, Z95 * 60.0), [0.5], dt, recourse_intervals=2)
    assert_allclose(low_m3, want, rtol=1e-12)  # round-off
    assert_allclose(low_m3[2:], low_m3[1], rtol=0)  # held after the recourse window
    assert_allclose(high_m3, 2.0 * low_m3, rtol=1e-12)  # skew 2, round-off
    assert_allclose(out.limit_low["ldg.level"], 0.15 + low_m3 / volume, rtol=1e-12)
    assert_allclose(out.limit_high["ldg.level"], 0.9 - high_m3 / volume, rtol=1e-12)
    # The forecast is the mean: nothing shifted, no band given.
    assert_allclose(out.d, d, rtol=0)
    assert out.band_low is None
    assert out.band_high is None


def test_backoff_limits_meet_in_the_middle_when_the_margins_cross():
    # The one-step margin, 1.645 x 60 kg/s x 900 s x 0.09 m3/kg = 8,000 m3,
    # is 0.8 of a 10,000 m3 holder: both margins exceed half the limits' distance.
    prod = _forecast([150.0] * 2, [60.0] * 2, [])
    horizon = _horizon({"prod": prod}, np.array([[150.0]] * 2))
    source = BackoffForecastSource(
        _Source(horizon),
        (HolderBackoff("h", {"prod": 0.09}, "h.level", 10_000.0, 0.1, 0.9),),
        900.0,
    )
    out = source(0.0)
    assert_allclose(out.limit_low["h.level"], 0.5, rtol=0)  # exact: clipped at the middle
    assert_allclose(out.limit_high["h.level"], 0.5, rtol=0)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("h", {"p": 1.0}, "h.level", 0.0, 0.1, 0.9), "volume_per_unit_m3 must be positive"),
        (("h", {"p": 1.0}, "h.level", 1.0, 0.9, 0.1), "need finite hard limits low < high"),
        (("h", {"p": 1.0}, "h.level", 1.0, -math.inf, 0.9), "need finite hard limits"),
    ],
)
def test_holder_backoff_rejects_bad_fields(args, fragment):
    with pytest.raises(ModelError, match=fragment):
        HolderBackoff(*args)


def test_holder_margin_rejects_an_unknown_side():
    prod = _forecast([150.0] * 2, [60.0] * 2, [])
    horizon = _horizon({"prod": prod}, np.array([[150.0]] * 2))
    with pytest.raises(ModelError, match="side must be 'low' or 'high'"):
        holder_margin(horizon, {"prod": 0.09}, 900.0, side="middle")


# ------------------------------------------------------------------ a short closed loop

VOLUME_M3 = 50_000.0
HARD_LOW = 0.15
DT = 900.0
N = 8  # 2-h horizon


@equation
def _f(x, u, d, p):
    dxdt = zeros(1)
    dxdt[0] = d[0] - u[0]
    return dxdt


@equation
def _g(x, u, d, p):
    y = zeros(3)
    y[0] = x[0]
    y[1] = x[0] / p[0]
    y[2] = p[1] - u[0]  # make-up fuel the holder's gas saves
    return y


HOLDER = EquationModel(
    name="holder",
    f=_f,
    g=_g,
    states=(Variable("volume_m3", "m^3", "Stored gas", -1e6, 1e6),),
    inputs=(Variable("draw_m3_s", "m^3/s", "Boiler draw", 0.0, 20.0),),
    disturbances=(Variable("inflow_m3_s", "m^3/s", "Converter gas", 0.0, 40.0),),
    outputs=(
        Variable("volume_m3", "m^3", "Stored gas"),
        Variable("level", "1", "Fill level", -20.0, 20.0),
        Variable("makeup_m3_s", "m^3/s", "Make-up fuel", -20.0, 40.0),
    ),
    parameters=(
        Variable("capacity_m3", "m^3", "Holder volume", 1.0, 1e9),
        Variable("fuel_need_m3_s", "m^3/s", "Boiler fuel need", 0.0, 100.0),
    ),
)
P = np.array([VOLUME_M3, 20.0])


def _settings() -> EconomicMPCSettings:
    return EconomicMPCSettings(
        mvs=(ManipulatedVariable("draw_m3_s", 0.0, 20.0),),
        interval_s=DT,
        horizon=N,
        cost_terms=(CostTerm("makeup_m3_s", 1.0),),
        hard_limits=(HardLimit("level", HARD_LOW, 0.95),),
        # Stands for the gas's value against the alternatives: the holder is
        # run down to its limit as fast as the draw allows (the linear cost
        # alone leaves *when* to draw undetermined within the horizon).
        soft_bands=(SoftBand("level", 0.0, HARD_LOW, weight_linear=1.0e4),),
        collocation_degree=1,
        tolerance=1e-8,
    )


def _run(backoff: bool) -> np.ndarray:
    """3 h at 1 min: 10 m3/s of gas with a 30-min pause at 1 h the forecast does not see."""
    step = 60.0
    t = np.arange(180) * step
    inflow = np.where((t >= 3600.0) & (t < 5400.0), 0.0, 10.0)
    mean = np.full(N, 10.0)
    # Forecast: 10 m3/s +- 1.645 * 6 m3/s (90 % interval), white-noise errors.
    fc = _forecast(mean, np.full(N, 6.0), [])
    horizon = _horizon({"inflow_m3_s": fc}, mean[:, None])
    mpc = EconomicMPC(HOLDER, P, _settings())
    if backoff:
        x0, mv0 = [0.5 * VOLUME_M3], [10.0]
        gains = holder_inflow_gains(mpc, "volume_m3", ("inflow_m3_s",), x0, mv0, horizon.inputs)
        per_unit = holder_volume_per_unit(mpc, "volume_m3", "level", x0, mv0, horizon.inputs)
        # The level is the volume over the working volume: exact up to round-off.
        assert_allclose(per_unit, VOLUME_M3, rtol=1e-9)
        mpc.forecast = BackoffForecastSource(
            _Source(horizon),
            (HolderBackoff("holder", gains, "level", per_unit, HARD_LOW, 0.95),),
            DT,
            quantile=0.99,
            recourse_intervals=2,
        )
    else:
        mpc.forecast = lambda time_s: horizon.inputs
    policy = ControllerPolicy(
        mpc,
        HOLDER,
        ("draw_m3_s",),
        [0.0],
        [20.0],
        [math.inf],
        interval_s=DT,
        measurements=RawMeasurements([0]),
    )
    plant = TruthPlant(HOLDER, P, np.array([0.5 * VOLUME_M3]), inflow[:, None], step)
    result = run_closed_loop(plant, policy, np.array([10.0]))
    return result.series("level")


@pytest.mark.slow  # ~5 s CPU: two closed loops of 12 NLP solves
def test_backoff_keeps_the_holder_inside_its_hard_limit_through_a_pause():
    nominal = _run(backoff=False)
    backed = _run(backoff=True)
    # The nominal MPC parks the holder at its limit (gas is "coming") and a
    # 15-min interval of draw without gas (18 % of the holder) takes it below.
    assert nominal.min() < HARD_LOW - 0.1
    # The MPC re-plans every interval, so the margin it keeps at each decision
    # is the 1-step one: 900 s * 2.326 * 6 m3/s / 50,000 m3 = 25 % at the 99 %
    # quantile (the per-interval lower limit), more than the 18 % a pause
    # interval takes.
    assert backed.min() > HARD_LOW + 0.05
    # ...while it still uses the gas (it does not just keep the holder full).
    assert backed.max() < 0.6
