"""Move blocking of the economic MPC: block helpers, blocked plans, rejected settings."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import linprog
from test_lp_dispatch import DEMAND_W, DT, E_MAX_J, GEN_PRICE, MW, PRICE, STORE, N, _horizon

from controllers.advisor.contract import SolveStatus
from controllers.economic import (
    CostTerm,
    EconomicMPC,
    EconomicMPCSettings,
    HardLimit,
    HorizonInputs,
    ManipulatedVariable,
    ScenarioEconomicMPC,
    growing_move_blocks,
)
from controllers.economic.blocking import block_of_interval, blocked_limits, mv_blocks
from controllers.economic.settings import OnOffGroup
from controllers.errors import EconomicMPCError

#: Move suppression small against the 7,400 CNY bill, large enough to make the
#: LP's plan unique (which interval fills the store is otherwise free).
SMALL_MOVE_WEIGHT = 1.0


def _settings(move_weight: float = 0.0, **kw: object) -> EconomicMPCSettings:
    base: dict[str, object] = {
        "mvs": (
            ManipulatedVariable("grid_w", 0.0, 30 * MW, move_weight=move_weight),
            ManipulatedVariable("gen_w", 0.0, 5 * MW, move_weight=move_weight),
        ),
        "interval_s": DT,
        "horizon": N,
        "electricity_variable": "grid_w",
        "cost_terms": (CostTerm("gen_w", GEN_PRICE, "fuel"),),
        "hard_limits": (HardLimit("level", 0.0, 1.0),),
        "tolerance": 1e-10,
    }
    base.update(kw)
    return EconomicMPCSettings(**base)  # type: ignore[arg-type]


def test_growing_blocks_and_block_maps():
    # By hand: two of each length 1, 2, 4, the last 4 cut to 2 to end at 12.
    assert growing_move_blocks(12, 2) == (1, 1, 2, 2, 4, 2)
    doubling = (1,) * 4 + (2,) * 4 + (4,) * 4 + (8,) * 4
    assert growing_move_blocks(96, 4) == (*doubling, 16, 16, 4)
    assert sum(growing_move_blocks(7, 1)) == 7
    assert_array_equal(block_of_interval((2, 3), 7), [0, 0, 1, 1, 1, 1, 1])  # last runs on
    assert_array_equal(block_of_interval((), 3), [0, 1, 2])
    blocks = mv_blocks((2, 2), 4, ("a", "b"), ("b",))
    assert_array_equal(blocks, [[0, 0], [0, 1], [1, 2], [1, 3]])  # "b" exempt
    low = np.array([[0.0], [1.0], [0.0]])
    high = np.array([[5.0], [4.0], [3.0]])
    rate = np.full((3, 1), 2.0)
    lo, hi, rt = blocked_limits(low, high, rate, np.array([[0], [0], [1]]))
    assert_array_equal(lo.ravel(), [1.0, 1.0, 0.0])  # intersection inside block 0
    assert_array_equal(hi.ravel(), [4.0, 4.0, 3.0])
    assert_array_equal(rt.ravel(), [2.0, 0.0, 2.0])  # no move inside a block
    with pytest.raises(ValueError, match="repeat >= 1"):
        growing_move_blocks(12, 0)


def test_blocking_inactive_gives_the_unblocked_plan():
    # A tariff falling from 0.30 to 0.27 CNY/kWh, below the generation price,
    # and an empty store: the only optimum buys the 10 MW demand from the grid
    # every interval (storing costs more than buying later, generation is
    # dearer, the level cannot go below 0).  From 6 MW in force the first move
    # to 10 MW is forced, then the plan is held: constant inside the blocks
    # (1, 3, 4), so blocking changes nothing.
    falling = np.linspace(1.0, 0.9, N)
    flat = HorizonInputs(np.full((N, 1), DEMAND_W), PRICE[0] * falling)
    mv_prev = [6 * MW, 0.0]
    free = EconomicMPC(STORE, [E_MAX_J], _settings(SMALL_MOVE_WEIGHT))
    blocked = EconomicMPC(STORE, [E_MAX_J], _settings(SMALL_MOVE_WEIGHT, move_blocks=(1, 3, 4)))
    sol_free = free.plan([0.0], mv_prev, flat)
    sol = blocked.plan([0.0], mv_prev, flat)
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    assert_array_equal(np.ptp(sol.mv_plan[1:4], axis=0), 0.0)  # held exactly
    assert_array_equal(np.ptp(sol.mv_plan[4:], axis=0), 0.0)
    # Interior-point solutions at tol 1e-10 on MVs scaled by their 30 MW and
    # 5 MW spans: 1e-5 of the larger span covers both distances to the optimum.
    assert_allclose(sol.mv_plan[0], sol_free.mv_plan[0], atol=1e-5 * 30 * MW)
    assert_allclose(sol.mv_plan, sol_free.mv_plan, atol=1e-5 * 30 * MW)
    assert_allclose(sol.mv_plan[0], [DEMAND_W, 0.0], atol=1e-5 * 30 * MW)
    # By hand: 2,500 kWh an interval at 0.3 CNY/kWh times the tariff factor,
    # plus the first move of 4 MW over the 30 MW span.
    expected = 2_500 * 0.3 * falling.sum() + SMALL_MOVE_WEIGHT * (4 / 30) ** 2
    # The objective agrees to ipopt's tolerance on the scaled problem.
    assert_allclose(sol.objective, expected, rtol=1e-6)
    assert_allclose(sol.objective, sol_free.objective, rtol=1e-6)


def test_every_mv_exempt_solves_the_unblocked_nlp():
    # With every MV exempt the reduced NLP is the full one through an identity
    # expansion: the same plan from the same ipopt iterations.
    free = EconomicMPC(STORE, [E_MAX_J], _settings(SMALL_MOVE_WEIGHT))
    same = EconomicMPC(
        STORE,
        [E_MAX_J],
        _settings(SMALL_MOVE_WEIGHT, move_blocks=(4, 4), move_blocks_exempt=("grid_w", "gen_w")),
    )
    sol_free = free.plan([0.0], [0.0, 0.0], _horizon())
    sol = same.plan([0.0], [0.0, 0.0], _horizon())
    assert same.last_stats["iterations"] == free.last_stats["iterations"]
    # Same arithmetic up to the order of the expanded expressions: round-off only.
    assert_allclose(sol.mv_plan, sol_free.mv_plan, rtol=1e-9, atol=1e-9 * 30 * MW)
    assert_allclose(sol.objective, sol_free.objective, rtol=1e-12)


def _blocked_lp(blocks: tuple[int, ...]) -> float:
    """The blocked storage LP solved on its own by scipy's HiGHS: optimal cost. [CNY]"""
    block = block_of_interval(blocks, N)
    n_blocks = int(block[-1]) + 1
    expand = np.zeros((N, n_blocks))  # interval k uses the MVs of its block
    expand[np.arange(N), block] = 1.0
    dt_h = DT / 3600.0
    kwh = 3.6e6
    # Variables [MW]: grid then generation per block; costs in CNY per MW held.
    cost = np.concatenate(
        [PRICE * kwh * 1000.0 * dt_h @ expand, GEN_PRICE * kwh * 1000.0 * dt_h * expand.sum(0)]
    )
    cum = np.tril(np.ones((N, N))) @ expand * dt_h  # MWh at each interval end per MW
    supply = np.hstack([cum, cum])
    demand = np.cumsum(np.full(N, DEMAND_W / MW * dt_h))
    capacity = E_MAX_J / kwh / 1000.0  # 6 MWh
    res = linprog(
        cost,
        A_ub=np.vstack([supply, -supply]),
        b_ub=np.concatenate([capacity + demand, -demand]),
        bounds=[(0.0, 30.0)] * n_blocks + [(0.0, 5.0)] * n_blocks,
        method="highs",
    )
    if res.status != 0:
        raise RuntimeError(res.message)
    return float(res.fun)


def test_active_blocking_holds_the_plan_and_matches_the_blocked_lp():
    # Block (2, 6) joins two valley and four peak intervals: the plan cannot
    # follow the tariff and costs more than the unblocked optimum.
    blocks = (2, 6)
    mpc = EconomicMPC(STORE, [E_MAX_J], _settings(move_blocks=blocks))
    sol = mpc.plan([0.0], [0.0, 0.0], _horizon())
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    assert_array_equal(np.ptp(sol.mv_plan[:2], axis=0), 0.0)
    assert_array_equal(np.ptp(sol.mv_plan[2:], axis=0), 0.0)
    expected = _blocked_lp(blocks)
    # Independent LP (HiGHS simplex) against ipopt at tol 1e-10: ~1e-7 relative.
    assert_allclose(sol.objective, expected, rtol=1e-6)
    assert sol.objective > 0.3 * 16_000 + 0.65 * 4_000 + 1.0  # the unblocked optimum


def test_conflicting_limits_inside_a_block_are_infeasible():
    mpc = EconomicMPC(STORE, [E_MAX_J], _settings(move_blocks=(2, 6)))
    lower = np.zeros((N, 2))
    upper = np.tile([30 * MW, 5 * MW], (N, 1))
    lower[0, 0] = 20 * MW  # interval 0 needs >= 20 MW, interval 1 <= 10 MW: one value cannot
    upper[1, 0] = 10 * MW
    sol = mpc.plan([0.0], [0.0, 0.0], _horizon(), mv_lower=lower, mv_upper=upper)
    assert sol.status is SolveStatus.INFEASIBLE
    assert "inside a move block" in sol.message


def test_bad_blocking_settings_raise_named_errors():
    with pytest.raises(EconomicMPCError, match="move_blocks must be integers >= 1"):
        _settings(move_blocks=(2, 0))
    with pytest.raises(EconomicMPCError, match=r"\['ghost'\] are not MVs"):
        _settings(move_blocks=(2,), move_blocks_exempt=("ghost",))
    group = OnOffGroup("gen", ("gen_w",), min_on=1 * MW)
    with pytest.raises(EconomicMPCError, match="cannot be combined with on/off groups"):
        _settings(move_blocks=(2,), on_off_groups=(group,))
    with pytest.raises(EconomicMPCError, match="no move blocking"):
        ScenarioEconomicMPC(STORE, [E_MAX_J], _settings(move_blocks=(2,)), n_scenarios=2)


def test_steelworks_blocked_plan(steelworks_case):
    built, mpc, x0, mv0, horizon, first = steelworks_case
    exempt = "gas_mixing.flow_mixed_m3_s"  # keeps the mixed-gas balance every interval
    blocks = growing_move_blocks(mpc.settings.horizon, 2)
    settings = dataclasses.replace(mpc.settings, move_blocks=blocks, move_blocks_exempt=(exempt,))
    blocked = EconomicMPC(built.model, built.parameters(), settings)
    sol = blocked.plan(x0, mv0, horizon)
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    block = block_of_interval(blocks, mpc.settings.horizon)
    held = [i for i, name in enumerate(mpc.mv_names) if name != exempt]
    for b in np.unique(block):
        assert_array_equal(np.ptp(sol.mv_plan[block == b][:, held], axis=0), 0.0)
    # Fewer decisions cannot do better than the unblocked optimum (to ipopt's
    # tolerance on the objective scaled by 1e-6: 1e-5 relative).
    assert sol.objective >= first.objective * (1 - 1e-5)
    # A zero move inside a block is no rate limit: an MV without one is not named.
    assert "prds_hp_mp.flow_in_command_kg_s.rate" not in sol.active_constraints
    low = np.array([m.low for m in mpc.settings.mvs])
    high = np.array([m.high for m in mpc.settings.mvs])
    assert np.all(sol.mv_plan >= low)
    assert np.all(sol.mv_plan <= high)
