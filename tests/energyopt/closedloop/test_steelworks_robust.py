"""Robust causal controllers of the steelworks closed loop: scenario source, band weights."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from controllers.economic import EconomicMPCSettings, ManipulatedVariable, SoftBand
from controllers.economic.horizon import HorizonInputs
from controllers.forecast import Forecast
from energyopt.closedloop.steelworks_robust import IntervalScenarioSource, with_band_weight
from energyopt.controlbuild.forecast import EconomicHorizon
from energyopt.errors import ModelError

Z95 = 1.6448536269514722  # scipy.stats.norm.ppf(0.95)


def _forecast(mean: float, std: float, n: int) -> Forecast:
    m, s = np.full(n, mean), np.full(n, std)
    return Forecast(
        mean=m,
        profile=m,
        std=s,
        levels=np.array([0.9]),
        lower=(m - Z95 * s)[None],
        upper=(m + Z95 * s)[None],
        interval_method="analytic",
        fallback="none",
        origin_lag=0,
        ar_coefficients=np.array([]),
        innovation_std=std,
        dt_s=900.0,
    )


class _Source:
    def __init__(self, horizon: EconomicHorizon) -> None:
        self._h = horizon

    def horizon(self, time_s: float) -> EconomicHorizon:
        return self._h


def test_interval_scenarios_put_gas_made_and_gas_used_in_opposite_branches():
    n = 4
    names = ("converters.production_kg_s", "steelshop_users.demand_fraction", "grid.price_per_j")
    d = np.tile([150.0, 1.0, 7.0], (n, 1))
    horizon = EconomicHorizon(
        time_ms=np.arange(n, dtype=np.int64) * 900_000,
        inputs=HorizonInputs(d, np.full(n, 1e-7), None),
        forecasts={names[0]: _forecast(150.0, 60.0, n), names[1]: _forecast(1.0, 0.05, n)},
        names=names,
        low=np.array([0.0, 0.0, 0.0]),
        high=np.array([240.0, 2.0, 10.0]),
    )
    sh = IntervalScenarioSource(_Source(horizon))(0.0)
    assert sh.labels == ("lower", "mean", "upper")
    assert_allclose(sh.weights.sum(), 1.0, rtol=1e-12)  # probabilities
    # "lower": little gas made (mean - z sigma) and much used (mean + z sigma).
    assert_allclose(sh.d[0, :, 0], 150.0 - Z95 * 60.0, rtol=1e-12)  # round-off
    assert_allclose(sh.d[0, :, 1], 1.0 + Z95 * 0.05, rtol=1e-12)
    # "upper" gas made (248.7 kg/s) is clipped to the model's envelope (240 kg/s).
    assert_allclose(sh.d[2, :, 0], 240.0, rtol=0)
    # Disturbances without a forecast keep the mean horizon's column.
    assert_array_equal(sh.d[:, :, 2], 7.0)


def test_with_band_weight_replaces_one_band_only():
    s = EconomicMPCSettings(
        mvs=(ManipulatedVariable("a", 0.0, 1.0),),
        interval_s=900.0,
        horizon=2,
        soft_bands=(SoftBand("x", 0.3, 0.7, 1e4), SoftBand("y", 0.3, 0.7, 1e4)),
    )
    out = with_band_weight(s, "x", 1e5)
    assert [b.weight_linear for b in out.soft_bands] == [1e5, 1e4]
    with pytest.raises(ModelError, match="no soft band on z"):
        with_band_weight(s, "z", 1e5)
