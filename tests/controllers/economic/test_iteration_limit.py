"""An iterate at ipopt's iteration limit: kept when its simulated plan keeps the limits."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose
from test_lp_dispatch import DEMAND_W, E_MAX_J, MW, PRICE, STORE, N, _horizon, _settings

from controllers.advisor.contract import SolveStatus
from controllers.economic import EconomicMPC, HorizonInputs


def test_an_iterate_whose_plan_keeps_the_limits_is_a_suboptimal_plan():
    # Half-full store, three ipopt iterations: not converged, but the plan
    # (simulated) keeps the level within [0, 1] as holding does.
    mpc = EconomicMPC(STORE, [E_MAX_J], _settings(max_iter=3))
    x0, mv0 = [0.5 * E_MAX_J], [DEMAND_W, 0.0]
    sol = mpc.plan(x0, mv0, _horizon())
    assert sol.status is SolveStatus.SUBOPTIMAL
    assert sol.message.startswith("Maximum_Iterations_Exceeded (3 iterations")
    assert (
        "plan kept: simulated, it keeps the hard limits (optimality not certified)" in sol.message
    )
    assert "hard limits not kept" not in sol.message  # the iterate's slacks are not reported
    assert sol.mv_plan.shape == (N, 2)
    assert np.all(sol.mv_plan >= 0.0)
    assert np.all(sol.mv_plan[:, 0] <= 30 * MW)
    # The objective is the plan's, simulated (not the unconverged iterate's).
    ev = mpc.evaluate(x0, sol.mv_plan, mv0, _horizon())
    assert ev.hard_violation == 0.0
    assert_allclose(sol.objective, ev.objective, rtol=1e-12)
    # The converged plan is cheaper: the iterate was no optimum.
    full = EconomicMPC(STORE, [E_MAX_J], _settings()).plan(x0, mv0, _horizon())
    assert full.status is SolveStatus.OPTIMAL
    assert full.objective < sol.objective


def test_an_iterate_whose_plan_breaks_a_limit_holding_keeps_fails():
    # Full store: holding (grid = demand) keeps the level at 1; one iteration
    # towards the cheap valley overfills it.  No plan is returned.
    mpc = EconomicMPC(STORE, [E_MAX_J], _settings(max_iter=1))
    sol = mpc.plan([E_MAX_J], [DEMAND_W, 0.0], HorizonInputs(np.full((N, 1), DEMAND_W), PRICE))
    assert sol.status is SolveStatus.FAILED
    assert "its plan, simulated, breaks a hard limit by" in sol.message
    assert sol.mv_plan.shape == (0, 2)
    # The next solve starts cold (the rejected iterate is no warm start).
    again = mpc.plan([E_MAX_J], [DEMAND_W, 0.0], _horizon())
    assert mpc.last_stats["warm_start"] is False
    assert again.status is SolveStatus.FAILED
