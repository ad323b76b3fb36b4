"""A coarse NLP grid late in the economic MPC's horizon: maps, plans against references, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from test_lp_dispatch import DEMAND_W, DT, E_MAX_J, KWH, MW, STORE, N
from test_lp_dispatch import _settings as lp_settings

from controllers.advisor.contract import SolveStatus
from controllers.economic import (
    EconomicMPC,
    EconomicMPCSettings,
    HorizonInputs,
    ManipulatedVariable,
    ScenarioEconomicMPC,
)
from controllers.economic.grid import BlockKind, HorizonGrid, coarse_grid
from controllers.economic.settings import OnOffGroup
from controllers.errors import EconomicMPCError

#: Two leading intervals at the control interval, then 30 min and 1 h.
GRID = (1, 1, 2, 4)
#: A tariff that changes inside the coarse intervals (CNY/kWh): valley, shoulder, peak.
TARIFF = np.array([0.30, 0.25, 0.40, 0.35, 1.10, 0.90, 1.20, 1.00]) / KWH


#: The storage plant's MVs with a rate limit on the purchase and a small move weight.
MVS = (
    ManipulatedVariable("grid_w", 0.0, 30 * MW, rate=8 * MW, move_weight=1.0),
    ManipulatedVariable("gen_w", 0.0, 5 * MW, move_weight=1.0),
)


def _settings(**kw: object) -> EconomicMPCSettings:
    return lp_settings(**{"mvs": MVS, **kw})


def _horizon(demand: np.ndarray | None = None) -> HorizonInputs:
    # Demand constant inside each coarse interval (the level is then linear in it).
    if demand is None:
        demand = DEMAND_W * np.array([1.0, 0.9, 1.1, 1.1, 0.8, 0.8, 0.8, 0.8])
    return HorizonInputs(demand[:, None], TARIFF)


def test_coarse_grid_lengths():
    # By hand: 4 h at 15 min then 1 h intervals over 24 h -> 16 + 20 = 36 intervals.
    assert coarse_grid(96, 16, 4) == (1,) * 16 + (4,) * 20
    assert coarse_grid(10, 3, 4) == (1, 1, 1, 4, 3)  # the last cut to end the horizon
    assert coarse_grid(3, 5, 4) == (1, 1, 1)
    with pytest.raises(ValueError, match="factor >= 1"):
        coarse_grid(96, 16, 0)


@pytest.mark.parametrize("kind", list(BlockKind))
def test_mapping_a_coarse_vector_out_and_back_is_exact(kind):
    grid = HorizonGrid((1, 3, 2, 4))
    rng = np.random.default_rng(5)
    coarse = rng.normal(size=(grid.n_coarse, 3))
    full = grid.expand(coarse, kind)
    assert full.shape == (10, 3)
    # Exact: repeats, a mean of repeats, interpolations ending at the coarse value.
    assert_allclose(grid.restrict(full, kind), coarse, rtol=0, atol=1e-15)
    assert_allclose(grid.restrict(full, kind, multiplier=True), coarse, rtol=0, atol=1e-15)
    assert_allclose(grid.tightest(full, kind, lower=True), coarse, rtol=0, atol=1e-15)
    empty = grid.expand(np.zeros((grid.n_coarse, 0)), kind)
    assert grid.restrict(empty, kind).shape == (4, 0)


def test_mappings_by_hand():
    grid = HorizonGrid((1, 2, 3))
    assert_array_equal(grid.owner, [0, 1, 1, 2, 2, 2])
    assert_array_equal(grid.first, [0, 1, 3])
    full = np.arange(6.0)[:, None]
    assert_allclose(grid.restrict(full, BlockKind.HELD).ravel(), [0.0, 1.5, 4.0])
    assert_allclose(grid.restrict(full, BlockKind.STATE).ravel(), [0.0, 2.0, 5.0])  # at ends
    assert_allclose(grid.restrict(full, BlockKind.MOVE).ravel(), [0.0, 1.0, 3.0])  # at starts
    assert_allclose(grid.restrict(full, BlockKind.MOVE, multiplier=True).ravel(), [0, 3, 12])
    assert_allclose(grid.tightest(full, BlockKind.HELD, lower=True).ravel(), [0, 2, 5])
    assert_allclose(grid.tightest(full, BlockKind.HELD, lower=False).ravel(), [0, 1, 3])
    # A state linear in time, known at the coarse ends, is exact at every end.
    ends = np.array([[1.0], [3.0], [6.0]])  # x(t) = t at t = 1, 3, 6
    assert_allclose(grid.expand(ends, BlockKind.STATE).ravel(), [1, 2, 3, 4, 5, 6])
    # The disturbance means: each row of the matrix averages one coarse interval.
    assert_allclose(full.T @ grid.mean_matrix, [[0.0, 1.5, 4.0]])


def test_grid_of_single_intervals_is_the_uniform_plan():
    uniform = EconomicMPC(STORE, [E_MAX_J], _settings())
    single = EconomicMPC(STORE, [E_MAX_J], _settings(grid=(1,) * N))
    a = uniform.plan([0.2 * E_MAX_J], [DEMAND_W, 0.0], _horizon())
    b = single.plan([0.2 * E_MAX_J], [DEMAND_W, 0.0], _horizon())
    assert a.status is SolveStatus.OPTIMAL
    assert b.status is SolveStatus.OPTIMAL
    # Same NLP, same solver: the plans agree to ipopt's tolerance on the scaled
    # MVs (1e-10 of 30 MW, with margin for the different summation order).
    assert_allclose(b.mv_plan, a.mv_plan, atol=1e-6 * MW)
    assert_allclose(b.objective, a.objective, rtol=1e-9)


def test_grid_plan_is_the_move_blocked_plan_on_a_linear_store():
    # On the linear store a plan held over a block moves the level linearly, so
    # the limits at the block's end are the limits over the block, the block's
    # mean tariff and demand give its exact cost, and the grid NLP is the
    # move-blocked NLP with the same blocks (an independent formulation: every
    # interval integrated, limits at every interval end).
    blocked = EconomicMPC(STORE, [E_MAX_J], _settings(move_blocks=GRID))
    grid = EconomicMPC(STORE, [E_MAX_J], _settings(grid=GRID))
    x0, mv0 = [0.3 * E_MAX_J], [DEMAND_W, 0.0]
    a = blocked.plan(x0, mv0, _horizon())
    b = grid.plan(x0, mv0, _horizon())
    assert a.status is SolveStatus.OPTIMAL, a.message
    assert b.status is SolveStatus.OPTIMAL, b.message
    # Own generation costs the same at any time, so when it runs is degenerate
    # (only the small move weight picks a plan): compare the objective (ipopt
    # tol 1e-10 on the objective scaled by 1e-6, ~1e-6 CNY on a 6,400 CNY bill,
    # measured 3e-7 relative apart), the grid purchase (unique: the tariff
    # differs every block) and the energy generated over the horizon.
    assert_allclose(b.objective, a.objective, rtol=1e-6)
    assert_allclose(b.mv_plan[:, 0], a.mv_plan[:, 0], atol=1e-3 * MW)
    assert_allclose(b.mv_plan[:, 1].sum(), a.mv_plan[:, 1].sum(), rtol=1e-3)
    # Held inside each coarse interval; the rate limit holds at every move.
    assert_allclose(b.mv_plan[2], b.mv_plan[3], rtol=0, atol=1e-9 * MW)
    assert np.ptp(b.mv_plan[4:], axis=0).max() <= 1e-9 * MW
    moves = np.diff(np.vstack([mv0, b.mv_plan]), axis=0)[:, 0]
    assert np.all(np.abs(moves) <= 8 * MW * (1 + 1e-9))
    # The reported objective is the plan evaluated over the control intervals.
    ev = grid.evaluate(x0, b.mv_plan, mv0, _horizon())
    assert_allclose(b.objective, ev.objective, rtol=1e-12)
    # Holding the MVs is a plan of the grid NLP (no move, every rate limit
    # kept, the level within [0, 1] from 0.3): the plan costs no more, to
    # ipopt's tolerance (1e-10 on the objective scaled by 1e-6).
    assert math.isfinite(b.objective_hold)
    assert b.objective <= b.objective_hold + 1e-3


def test_warm_started_rolling_solves_on_a_grid():
    mpc = EconomicMPC(STORE, [E_MAX_J], _settings(grid=GRID))
    x, mv = np.array([0.3 * E_MAX_J]), np.array([DEMAND_W, 0.0])
    horizon = _horizon()
    first = mpc.plan(x, mv, horizon)
    assert first.status is SolveStatus.OPTIMAL
    # One interval later, the plan followed exactly, the tariff rolled on.
    d = horizon.d
    x1 = x + DT * (first.mv_plan[0].sum() - d[0, 0])
    rolled = HorizonInputs(np.roll(d, -1, axis=0), np.roll(TARIFF, -1))
    second = mpc.plan(x1, first.mv_plan[0], rolled)
    assert second.status is SolveStatus.OPTIMAL, second.message
    assert mpc.last_stats["warm_start"] is True
    cold = EconomicMPC(STORE, [E_MAX_J], _settings(grid=GRID))
    ref = cold.plan(x1, first.mv_plan[0], rolled)
    # The warm start (shifted, mapped onto the grid) reaches the cold optimum.
    assert_allclose(second.objective, ref.objective, rtol=1e-6)  # degenerate as above


def test_bad_grids_raise_named_errors():
    with pytest.raises(EconomicMPCError, match="summing to the horizon"):
        _settings(grid=(1, 1, 2))
    with pytest.raises(EconomicMPCError, match="summing to the horizon"):
        _settings(grid=(1, 0, 3, 4))
    with pytest.raises(EconomicMPCError, match="move_blocks"):
        _settings(grid=GRID, move_blocks=(2, 6))
    group = OnOffGroup("gen", ("gen_w",))
    with pytest.raises(EconomicMPCError, match="on/off groups"):
        _settings(grid=GRID, on_off_groups=(group,))
    with pytest.raises(EconomicMPCError, match="grid"):
        ScenarioEconomicMPC(STORE, [E_MAX_J], _settings(grid=GRID), n_scenarios=2)
    with pytest.raises(ValueError, match="integers >= 1"):
        HorizonGrid((2, 0))


def test_evaluation_on_the_grid_matches_the_control_intervals_on_a_linear_store():
    # A plan held over each coarse interval against a demand that varies inside
    # it: on the linear store the grid's means give the same level at each
    # coarse end and the same bill (sum of price x purchase = mean price x held
    # purchase x duration), so the two evaluations agree to round-off.
    uniform = EconomicMPC(STORE, [E_MAX_J], _settings())
    grid = EconomicMPC(STORE, [E_MAX_J], _settings(grid=GRID))
    demand = DEMAND_W * np.array([1.0, 0.9, 1.2, 0.8, 0.7, 1.3, 0.9, 1.1])
    horizon = _horizon(demand)
    plan = np.array([[12, 1], [11, 0], [9, 2], [9, 2], [6, 4], [6, 4], [6, 4], [6, 4]]) * MW
    x0, mv0 = [0.5 * E_MAX_J], [DEMAND_W, 0.0]
    a = uniform.evaluate(x0, plan, mv0, horizon)
    b = grid.evaluate(x0, plan, mv0, horizon)
    assert_allclose(b.objective, a.objective, rtol=1e-12)
    ends = [1, 2, 4, 8]  # the coarse ends, rows of ``states`` (row 0 is x0)
    assert_allclose(b.states[ends], a.states[ends], rtol=1e-12)
    assert a.hard_violation == 0.0
    assert b.hard_violation == 0.0
