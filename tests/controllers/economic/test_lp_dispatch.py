"""Economic MPC on a storage plant whose LP optimum is known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.advisor.contract import SolveStatus
from controllers.economic import (
    CostTerm,
    EconomicMPC,
    EconomicMPCSettings,
    HardLimit,
    HorizonInputs,
    ManipulatedVariable,
    RecordedHorizon,
)
from controllers.errors import EconomicMPCError
from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.mathfuncs import zeros

MW = 1e6
KWH = 3.6e6
E_MAX_J = 6.0 * 1000 * KWH  # 6 MWh store
DEMAND_W = 10.0 * MW
N = 8  # 4 valley then 4 peak intervals of 15 min
DT = 900.0


@equation
def _f(x, u, d, p):
    dxdt = zeros(1)
    dxdt[0] = u[0] + u[1] - d[0]
    return dxdt


@equation
def _g(x, u, d, p):
    y = zeros(3)
    y[0] = u[0]
    y[1] = u[1]
    y[2] = x[0] / p[0]
    return y


STORE = EquationModel(
    name="store",
    f=_f,
    g=_g,
    states=(Variable("energy_j", "J", "Stored energy", 0.0, E_MAX_J),),
    inputs=(
        Variable("grid_w", "W", "Grid purchase", 0.0, 30 * MW),
        Variable("gen_w", "W", "Own generation", 0.0, 5 * MW),
    ),
    disturbances=(Variable("demand_w", "W", "Demand", 0.0, 20 * MW),),
    outputs=(
        Variable("grid_w", "W", "Grid purchase"),
        Variable("gen_w", "W", "Own generation"),
        Variable("level", "1", "Fill level"),
    ),
    parameters=(Variable("capacity_j", "J", "Store capacity", 1.0, 1e12),),
)

PRICE = np.array([0.3] * 4 + [1.1] * 4) / KWH  # CNY/J
GEN_PRICE = 0.65 / KWH  # own generation's fuel, CNY/J


def _settings(**kw):
    base = {
        "mvs": (
            ManipulatedVariable("grid_w", 0.0, 30 * MW),
            ManipulatedVariable("gen_w", 0.0, 5 * MW),
        ),
        "interval_s": DT,
        "horizon": N,
        "electricity_variable": "grid_w",
        "cost_terms": (CostTerm("gen_w", GEN_PRICE, "fuel"),),
        "hard_limits": (HardLimit("level", 0.0, 1.0),),
        "tolerance": 1e-10,
    }
    base.update(kw)
    return EconomicMPCSettings(**base)


def _horizon(demand=DEMAND_W):
    return HorizonInputs(np.full((N, 1), demand), PRICE)


def test_storage_lp_matches_the_merit_order_solution():
    mpc = EconomicMPC(STORE, [E_MAX_J], _settings())
    # dE/dt is constant over an interval: one RK4 step is exact.
    assert mpc.substeps == 1
    sol = mpc.plan([0.0], [0.0, 0.0], _horizon())
    assert sol.status is SolveStatus.OPTIMAL
    # By hand: valley grid (0.3) covers the valley demand (10 MWh) and fills
    # the store (6 MWh); in the peak the store gives 6 MWh, own generation
    # (0.65 < 1.1) the rest, 4 MWh (within its 5 MWh); no peak grid purchase.
    expected = 0.3 * 16_000 + 0.65 * 4_000
    # Interior-point LP solution at tol 1e-10: the objective agrees to ~1e-7.
    assert_allclose(sol.objective, expected, rtol=1e-6)
    level = sol.cv_predicted[:, 0]
    # The store is full at the end of the valley and empty at the end.
    assert_allclose(level[4], 1.0, atol=1e-6)  # ipopt's complementarity tolerance
    assert_allclose(level[-1], 0.0, atol=1e-6)
    assert_allclose(sol.mv_plan[4:, 0], 0.0, atol=1e-3 * MW)  # no grid at peak price
    # 4 MWh over the peak hour; how it splits over the intervals is not unique
    # (the store may discharge in any order), only the total is.
    assert_allclose(sol.mv_plan[4:, 1].mean(), 4.0 * MW, rtol=1e-6)
    assert_allclose(sol.mv_plan[:4, 1], 0.0, atol=1e-3 * MW)
    # Holding zero purchase empties nothing and breaks the lower limit: inf.
    assert sol.objective_hold == math.inf
    assert "level.high" in sol.active_constraints
    assert "level.low" in sol.active_constraints
    assert "grid_w.lower" in sol.active_constraints


def test_hold_objective_is_the_same_objective_on_the_hold_trajectory():
    mpc = EconomicMPC(STORE, [E_MAX_J], _settings())
    # Hold 10 MW grid, 0 generation: store stays at half, cost by hand.
    sol = mpc.plan([0.5 * E_MAX_J], [DEMAND_W, 0.0], _horizon())
    expected_hold = (0.3 * 10_000 * 0.25 * 4) + (1.1 * 10_000 * 0.25 * 4)
    assert_allclose(sol.objective_hold, expected_hold, rtol=1e-12)  # sums of exact products
    assert sol.objective <= sol.objective_hold
    ev = mpc.evaluate([0.5 * E_MAX_J], sol.mv_plan, [DEMAND_W, 0.0], _horizon())
    # The evaluation of the plan reproduces the solver's objective (same expressions).
    assert_allclose(ev.objective, sol.objective, rtol=1e-6)


def test_rate_limit_and_perfect_foresight_source():
    rate = 2.0 * MW
    settings = _settings(
        mvs=(
            ManipulatedVariable("grid_w", 0.0, 30 * MW, rate=rate),
            ManipulatedVariable("gen_w", 0.0, 5 * MW),
        )
    )
    src = RecordedHorizon(np.arange(N) * DT, np.full((N, 1), DEMAND_W), PRICE, N)
    mpc = EconomicMPC(STORE, [E_MAX_J], settings, forecast=src)
    sol = mpc.plan([0.0], [DEMAND_W, 0.0], src(0.0))
    assert sol.status is SolveStatus.OPTIMAL
    moves = np.diff(np.vstack([[DEMAND_W, 0.0], sol.mv_plan]), axis=0)[:, 0]
    assert np.all(np.abs(moves) <= rate * (1 + 1e-8))
    assert "grid_w.rate" in sol.active_constraints
    # Ramping up by 2 MW per interval can store less in the valley: cost rises.
    assert sol.objective > 0.3 * 16_000 + 0.65 * 4_000 + 1.0


def test_unreachable_hard_limit_gives_a_plan_reported_suboptimal():
    mpc = EconomicMPC(STORE, [E_MAX_J], _settings())
    # 40 MW demand exceeds 35 MW of supply and the empty store cannot help:
    # the level must go below 0 (exact-penalty soft limit), never silently.
    sol = mpc.plan([0.0], [0.0, 0.0], _horizon(demand=40 * MW))
    assert sol.status is SolveStatus.SUBOPTIMAL, sol.message
    assert sol.mv_plan.shape == (N, 2)
    assert "level.low_violated" in sol.active_constraints
    assert "hard limits not kept: level" in sol.message
    # The penalty dominates the economics: both sources at full output (the
    # least violation), to ipopt's tolerance on the scaled MVs (1e-6 of 30 MW).
    assert_allclose(sol.mv_plan, np.tile([30 * MW, 5 * MW], (N, 1)), rtol=1e-5)


def test_bad_inputs_raise_named_errors():
    with pytest.raises(EconomicMPCError, match="not an input"):
        EconomicMPC(STORE, [E_MAX_J], _settings(mvs=(ManipulatedVariable("nope", 0.0, 1.0),)))
    with pytest.raises(EconomicMPCError, match="no output or state 'ghost'"):
        EconomicMPC(STORE, [E_MAX_J], _settings(hard_limits=(HardLimit("ghost", 0.0, 1.0),)))
    with pytest.raises(EconomicMPCError, match=r"low 2\.0 above high 1\.0"):
        HardLimit("level", 2.0, 1.0)
    mpc = EconomicMPC(STORE, [E_MAX_J], _settings())
    with pytest.raises(EconomicMPCError, match=r"d must have shape \(8, 1\)"):
        mpc.plan([0.0], [0.0, 0.0], HorizonInputs(np.zeros((3, 1)), PRICE))
