"""Economic MPC on the demo steelworks: limits, ramps, holders, cost against holding."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.advisor.contract import Controller, ControlRequest, SolveStatus
from controllers.economic import RecordedHorizon

HORIZON = 12  # as in conftest.steelworks_case
INTERVAL_S = 60.0


@pytest.fixture
def case(steelworks_case):
    return steelworks_case


def test_plan_respects_limits_ramps_and_hard_holder_limits(case):
    _, mpc, x0, mv0, horizon, sol = case
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    assert sol.mv_plan.shape == (HORIZON, len(mpc.mv_names))
    low = np.array([m.low for m in mpc.settings.mvs])
    high = np.array([m.high for m in mpc.settings.mvs])
    rate = np.array([m.rate for m in mpc.settings.mvs])
    assert np.all(sol.mv_plan >= low)
    assert np.all(sol.mv_plan <= high)
    moves = np.abs(np.diff(np.vstack([mv0, sol.mv_plan]), axis=0))
    assert np.all(moves <= rate)
    # Simulate the plan independently of the NLP's states (same RK4 map) and
    # check every hard limit on the whole horizon.
    ev = mpc.evaluate(x0, sol.mv_plan, mv0, horizon)
    names = list(sol.cv_names)
    for lim in mpc.settings.hard_limits:
        col = ev.values[:, mpc._vnames.index(lim.variable)]
        # ipopt meets constraints to its tolerance (1e-6 of the scaled value, ~0.3 %
        # of a holder -- far less in practice); allow that much.
        span = lim.high - lim.low
        assert np.all(col >= lim.low - 1e-6 * span * 10), lim.variable
        assert np.all(col <= lim.high + 1e-6 * span * 10), lim.variable
    # The NLP's predicted CVs agree with the independent simulation.
    i = names.index("bfg_holder.level_fraction")
    # Same expressions, different evaluation path: round-off plus ipopt's
    # dynamics-constraint tolerance (1e-6 scaled).
    assert_allclose(sol.cv_predicted[1:, i], ev.values[:, mpc._vnames.index(names[i])], atol=1e-4)


def test_plan_cost_not_above_holding_the_current_mvs(case):
    _, mpc, x0, mv0, horizon, sol = case
    hold = mpc.evaluate(x0, np.tile(mv0, (HORIZON, 1)), mv0, horizon)
    # The hold is feasible for the NLP except for hard limits; its objective
    # (same costs and band penalties) cannot beat the optimum.
    assert sol.objective <= hold.objective
    assert sol.objective_hold == np.inf or sol.objective <= sol.objective_hold
    plan = mpc.evaluate(x0, sol.mv_plan, mv0, horizon)
    # Solver objective vs re-simulated plan: relative 1e-4 covers the rate
    # projection of round-off and the dynamics tolerance.
    assert_allclose(plan.objective, sol.objective, rtol=1e-4)


def test_controller_contract_and_warm_start(case):
    _, mpc, x0, mv0, horizon, first = case
    assert isinstance(mpc, Controller)
    source = RecordedHorizon(
        np.arange(HORIZON) * INTERVAL_S, horizon.d, horizon.price_per_j, HORIZON, horizon.u_base
    )
    mpc.forecast = source
    n = len(mpc.mv_names)
    request = ControlRequest(
        time_s=0.0,
        mv_current=mv0,
        mv_lower=np.full(n, -np.inf),
        mv_upper=np.full(n, np.inf),
        mv_rate=np.full(n, np.inf),
        measurements=x0,
        measurement_valid=np.ones(x0.size, bool),
        history=np.zeros((0, x0.size)),
        time_budget_s=30.0,
    )
    sol = mpc.solve(request)
    assert sol.status is SolveStatus.OPTIMAL
    # Same problem, warm-started from the previous solution: same optimum.
    # (Objective of order 6e4 CNY, ipopt tol 1e-6 on the scaled problem.)
    assert_allclose(sol.objective, first.objective, rtol=1e-5)
    bad = ControlRequest(**{**request.__dict__, "measurements": np.full(x0.size, np.nan)})
    assert mpc.solve(bad).status is SolveStatus.FAILED


def test_holder_beyond_its_hard_limit_gives_a_plan_naming_the_violation(case):
    built, mpc, x0, mv0, horizon, _ = case
    x = x0.copy()
    # BFG holder at 99 %: one minute cannot bring it under the 90 % hard limit.
    i = built.index("x", "bfg_holder.volume_m3")
    x[i] = 0.99 * 200000.0
    sol = mpc.plan(x, mv0, horizon)
    # Exact-penalty soft limit: a usable plan, never silently: SUBOPTIMAL and named.
    assert sol.status is SolveStatus.SUBOPTIMAL, sol.message
    assert sol.mv_plan.shape == (HORIZON, len(mpc.mv_names))
    assert "bfg_holder.level_fraction.high_violated" in sol.active_constraints
    assert "hard limits not kept: bfg_holder.level_fraction" in sol.message
    ev = mpc.evaluate(x, sol.mv_plan, mv0, horizon)
    level = ev.values[:, mpc._vnames.index("bfg_holder.level_fraction")]
    # The penalty dominates the economics: the plan drains the holder, so the
    # level falls over the horizon (strictly, well beyond round-off).
    assert level[-1] < level[0] - 1e-3
    # Independent check of the reported excursion: the first interval end is above 90 %.
    assert level[0] > 0.9
