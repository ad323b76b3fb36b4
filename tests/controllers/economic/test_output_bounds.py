"""Per-interval hard limits and bands of the economic MPC (``HorizonInputs.limit_low`` ...).

The storage plant of ``test_lp_dispatch.py`` (6 MWh store, 10 MW demand, 4
valley then 4 peak intervals of 15 min): its LP optimum is known by hand, and
so is the optimum with a limit tightened at some interval ends.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.advisor.contract import SolveStatus
from controllers.economic import (
    EconomicMPC,
    HorizonInputs,
    ScenarioEconomicMPC,
    ScenarioHorizon,
    SoftBand,
)
from controllers.economic.outputs import output_bounds
from controllers.errors import EconomicMPCError
from tests.controllers.economic.test_lp_dispatch import (
    DEMAND_W,
    E_MAX_J,
    MW,
    PRICE,
    STORE,
    N,
    _settings,
)

#: The untightened optimum (test_lp_dispatch): valley grid 16 MWh, own generation 4 MWh. [CNY]
FREE_COST = 0.3 * 16_000 + 0.65 * 4_000


def _inputs(**fields) -> HorizonInputs:
    return HorizonInputs(np.full((N, 1), DEMAND_W), PRICE, None, **fields)


def _last_end_low(value: float) -> dict[str, np.ndarray]:
    low = np.zeros(N)
    low[-1] = value
    return {"level": low}


def test_a_tightened_final_lower_limit_keeps_energy_in_the_store():
    mpc = EconomicMPC(STORE, [E_MAX_J], _settings())
    free = mpc.plan([0.0], [0.0, 0.0], _inputs())
    assert_allclose(free.objective, FREE_COST, rtol=1e-6)  # ipopt at tol 1e-10
    sol = mpc.plan([0.0], [0.0, 0.0], _inputs(limit_low=_last_end_low(0.25)))
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    # By hand: the valley still fills the store (16 MWh at 0.3); the peak's
    # 10 MWh now come from 4.5 MWh of the store (a quarter of 6 MWh stays),
    # 5 MWh of own generation (its maximum, 0.65 < 1.1) and 0.5 MWh of grid.
    expected = 0.3 * 16_000 + 0.65 * 5_000 + 1.1 * 500
    assert_allclose(sol.objective, expected, rtol=1e-6)  # interior point at tol 1e-10
    assert_allclose(sol.cv_predicted[-1, 0], 0.25, atol=1e-6)  # the limit, to ipopt's tol
    assert_allclose(sol.cv_predicted[4, 0], 1.0, atol=1e-6)  # full after the valley
    assert_allclose(sol.mv_plan[4:, 1], 5.0 * MW, rtol=1e-6)  # own generation at its limit
    assert "level.low" in sol.active_constraints
    # Holding 10 MW of grid keeps the store at its start level 0, below the
    # final 0.25: holding is infeasible under the tightened limit.
    assert sol.objective_hold == math.inf


def test_a_tightened_upper_limit_in_the_valley_caps_what_the_store_takes():
    mpc = EconomicMPC(STORE, [E_MAX_J], _settings())
    high = np.ones(N)
    high[:4] = 0.5
    sol = mpc.plan([0.0], [0.0, 0.0], _inputs(limit_high={"level": high}))
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    # By hand: the store takes 3 MWh in the valley (13 MWh of grid at 0.3);
    # the peak needs 7 MWh more: 5 MWh own generation, 2 MWh grid at 1.1.
    expected = 0.3 * 13_000 + 0.65 * 5_000 + 1.1 * 2_000
    assert_allclose(sol.objective, expected, rtol=1e-6)  # interior point at tol 1e-10
    assert np.all(sol.cv_predicted[1:5, 0] <= 0.5 + 1e-6)  # ipopt's constraint tolerance


def test_a_tightened_band_acts_as_the_limit_when_its_weight_dominates():
    # A band penalty of 1e6 CNY per unit of level per interval is far above
    # the store's value (0.8 CNY/kWh x 6 MWh = 4,800 CNY per unit): the band
    # is kept and the plan is the one under the equivalent hard limit.
    band = SoftBand("level", 0.0, 1.0, weight_linear=1.0e6)
    mpc = EconomicMPC(STORE, [E_MAX_J], _settings(soft_bands=(band,)))
    high = np.ones(N)
    high[:4] = 0.5
    sol = mpc.plan([0.0], [0.0, 0.0], _inputs(band_high={"level": high}))
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    expected = 0.3 * 13_000 + 0.65 * 5_000 + 1.1 * 2_000
    # ipopt at tol 1e-10; the band slack is ~1e-9 at the optimum
    assert_allclose(sol.objective, expected, rtol=1e-6)
    assert "level.band_high" not in sol.active_constraints


def test_evaluate_checks_a_plan_against_the_tightened_limits():
    mpc = EconomicMPC(STORE, [E_MAX_J], _settings())
    free = mpc.plan([0.0], [0.0, 0.0], _inputs())
    ev = mpc.evaluate([0.0], free.mv_plan, [0.0, 0.0], _inputs(limit_low=_last_end_low(0.25)))
    # The free plan ends empty (level 0), a quarter below the tightened limit;
    # the level's scale is 1 (no envelope), so the scaled violation is 0.25.
    assert_allclose(ev.hard_violation, 0.25, atol=1e-6)  # ipopt's tolerance on the level


def test_the_scenario_mpc_takes_the_same_per_interval_limits():
    settings = dataclasses.replace(_settings(), discretisation="rk4", substeps=1)
    mpc = ScenarioEconomicMPC(STORE, [E_MAX_J], settings, n_scenarios=2)
    scen = ScenarioHorizon.from_nominal(_inputs(limit_low=_last_end_low(0.25)), 2)
    assert scen.limit_low is not None
    assert scen.scenario(1).limit_low is not None
    sol = mpc.plan([0.0], [0.0, 0.0], scen)
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    expected = 0.3 * 16_000 + 0.65 * 5_000 + 1.1 * 500  # as the nominal case above
    assert_allclose(sol.objective, expected, rtol=1e-6)  # interior point at tol 1e-10


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"limit_low": {"ghost": np.zeros(N)}}, "'ghost' has no hard limit"),
        ({"band_high": {"level": np.ones(N)}}, "'level' has no band"),
        ({"limit_low": {"level": np.zeros(3)}}, r"must have shape \(8,\), got \(3,\)"),
        ({"limit_high": {"level": np.full(N, math.nan)}}, "must not contain NaN"),
        (
            {"limit_low": {"level": np.full(N, -0.1)}},
            r"may only tighten: -0\.1 at interval end 1 is below the settings' low 0",
        ),
        (
            {"limit_high": {"level": np.r_[np.ones(N - 1), 1.5]}},
            r"may only tighten: 1\.5 at interval end 8 is above the settings' high 1",
        ),
        (
            {"limit_low": {"level": np.full(N, 0.6)}, "limit_high": {"level": np.full(N, 0.4)}},
            r"hard limit of 'level': low 0\.6 above high 0\.4 at interval end 1",
        ),
        ({"limit_low": [np.zeros(N)]}, "must be a mapping"),
    ],
)
def test_per_interval_bounds_that_do_not_tighten_are_rejected(fields, fragment):
    mpc = EconomicMPC(STORE, [E_MAX_J], _settings())
    with pytest.raises(EconomicMPCError, match=fragment):
        mpc.plan([0.0], [0.0, 0.0], _inputs(**fields))


def test_a_band_may_only_narrow():
    s = _settings(soft_bands=(SoftBand("level", 0.2, 0.8),))
    ok = output_bounds(s, band_low={"level": np.full(N, 0.3)})
    assert_allclose(ok.band_low, 0.3, rtol=0)  # taken as given
    assert_allclose(ok.band_high, 0.8, rtol=0)  # the settings' where none is given
    with pytest.raises(EconomicMPCError, match=r"band_high.*may only tighten"):
        output_bounds(s, band_high={"level": np.full(N, 0.9)})
