"""The multi-stage (scenario-tree) NLP of the economic MPC, built once on casadi.

Lucia, Finkler and Engell (2013, J. Process Control 23:1306): the uncertain
disturbance is represented by ``S`` scenarios, each with its own copy of the
states, bands and hard-limit slacks; the MVs of the first ``R`` intervals
(the robust horizon) are one set of variables shared by every scenario
(non-anticipativity: the move applied now cannot know which scenario will
come), after that each scenario has its own MVs (recourse).  The objective is
the probability-weighted sum of the scenario objectives of the nominal
formulation (:func:`controllers.economic.formulation._expressions`, the same
expressions), plus the exact hard-limit penalty of *every* scenario unweighted,
so a hard limit is kept in each scenario that can keep it whatever its
probability.  Sharing the variables (instead of adding equality rows between
scenario copies) keeps the KKT system free of duplicated rows.

Decision vector (scaled as the nominal NLP)::

    z = [vec(U_sh), for each scenario j: vec(U_j), vec(X_j), vec(S_j), vec(H_j)]

with ``U_sh`` of ``R`` intervals and ``U_j`` of ``N - R``.  Rows: the rate
rows of the shared moves once, then per scenario its dynamics, the rate rows
of its own moves, its band and hard-limit rows and its balances.
Band and hard-limit slacks as in the nominal NLP (one per band and limit,
:mod:`controllers.economic.outputs`); their row bounds are filled per solve.
Parameters: ``[x0, mv_prev, u_base, vec(D_0), ..., vec(D_{S-1}), price, p, w]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import casadi as ca
import numpy as np

from controllers.economic.formulation import (
    ProblemLayout,
    _expressions,
    _solvers,
    hard_penalty,
    output_rows,
)
from controllers.economic.outputs import OutputBounds

__all__ = [
    "ScenarioFormulation",
    "build_scenario_formulation",
    "shift_blocks",
    "solve_bounds",
    "split_blocks",
]

#: Blocks of ``z`` per scenario: own MVs, states, band slacks, hard-limit slacks.
BLOCKS_PER_SCENARIO = 4

#: A block of ``z`` or ``g``: ``(entries per interval, number of intervals)``.
Block = tuple[int, int]


@dataclass(frozen=True, eq=False)
class ScenarioFormulation:
    """The built multi-stage NLP: solvers, row bounds and the layout of ``z`` and ``g``.

    Attributes
    ----------
    n_scenarios : int
        Number of scenarios ``S``.
    robust_horizon : int
        Intervals ``R`` whose MVs all scenarios share.
    n_z : int
        Number of decision variables.
    z_blocks, g_blocks : list of (int, int)
        Entries per interval and intervals of each block of ``z`` and ``g``
        (in order; ``z``: the shared MVs, then six blocks per scenario).
    lbg_parts, ubg_parts : list of numpy.ndarray
        Row bounds per block of ``g`` (the rate-limit blocks are replaced per solve).
    rate_slots : tuple of int
        Indices in ``lbg_parts`` of the rate blocks: the shared moves, then
        each scenario's own moves.  Each scenario's band and hard-limit
        blocks (low, high per band, then per limit) follow its rate block.
    solver : casadi.Function
        ipopt, cold start.
    solver_warm : LazySolver or None
        ipopt with ``warm_start_init_point``, built on first use (``None`` unless
        ``settings.warm_start``).
    evaluate_fn : casadi.Function
        One scenario as the nominal NLP's:
        ``(U_s, X_s, S, H, P) -> (objective, cost, X, V_end)``
        with ``P = [x0, mv_prev, u_base, vec(D), price, p]``. [currency]
    rollout : casadi.Function
        The layout's ``step`` accumulated over the ``N`` intervals.
    """

    n_scenarios: int
    robust_horizon: int
    n_z: int
    z_blocks: list[Block]
    g_blocks: list[Block]
    lbg_parts: list[np.ndarray]
    ubg_parts: list[np.ndarray]
    rate_slots: tuple[int, ...]
    solver: ca.Function
    solver_warm: Any
    evaluate_fn: ca.Function
    rollout: ca.Function


def split_blocks(values: np.ndarray, blocks: list[Block]) -> list[np.ndarray]:
    """Cut a vector into its blocks, each shaped ``(intervals, entries per interval)``."""
    out, start = [], 0
    for size, count in blocks:
        out.append(values[start : start + size * count].reshape(count, size))
        start += size * count
    return out


def shift_blocks(values: np.ndarray, blocks: list[Block]) -> np.ndarray:
    """Shift every block one interval ahead, repeating its last interval."""
    parts = [
        np.vstack([part[1:], part[-1:]]).ravel() if part.shape[0] else part.ravel()
        for part in split_blocks(values, blocks)
    ]
    return np.concatenate(parts) if parts else values.copy()


def solve_bounds(
    nlp: ScenarioFormulation,
    layout: ProblemLayout,
    low: np.ndarray,
    high: np.ndarray,
    rate: np.ndarray,
    outputs: OutputBounds | None = None,
) -> dict[str, np.ndarray]:
    """Bounds of the scaled ``z`` and of the rows for one solve's MV, rate and output limits.

    Parameters
    ----------
    nlp : ScenarioFormulation
        The built NLP (block layout and fixed row bounds).
    layout : ProblemLayout
        MV offsets and spans of the scaling.
    low, high, rate : numpy.ndarray
        MV limits and largest move per interval, shape ``(n_mv,)``. [SI]
    outputs : OutputBounds or None
        Bands and hard limits at the interval ends, the same in every
        scenario (default the settings'). [SI]

    Returns
    -------
    dict of str to numpy.ndarray
        ``lbx``, ``ubx``, ``lbg``, ``ubg`` for the ipopt call.
    """
    u_lo, u_hi = (low - layout.mv_low) / layout.mv_span, (high - layout.mv_low) / layout.mv_span
    lbz, ubz = [], []
    for k, (size, count) in enumerate(nlp.z_blocks):
        kind = 0 if k == 0 else (k - 1) % BLOCKS_PER_SCENARIO  # 0 MVs, 1 states, else slacks
        if kind == 0:
            lbz.append(np.tile(u_lo, count))
            ubz.append(np.tile(u_hi, count))
        else:
            lbz.append(np.full(size * count, -math.inf if kind == 1 else 0.0))
            ubz.append(np.full(size * count, math.inf))
    lbg, ubg = list(nlp.lbg_parts), list(nlp.ubg_parts)
    rate_s = rate / layout.mv_span
    for slot in nlp.rate_slots:
        count = nlp.g_blocks[slot][1]
        lbg[slot], ubg[slot] = np.tile(-rate_s, count), np.tile(rate_s, count)
    if outputs is not None:
        rows = [*zip(*layout.band_rows(outputs), strict=True)]
        rows += [*zip(*layout.limit_rows(outputs), strict=True)]
        for slot in nlp.rate_slots[1:]:
            for j, (lo, hi) in enumerate(rows):
                lbg[slot + 1 + 2 * j], ubg[slot + 2 + 2 * j] = lo, hi
    return {
        "lbx": np.concatenate(lbz),
        "ubx": np.concatenate(ubz),
        "lbg": np.concatenate(lbg),
        "ubg": np.concatenate(ubg),
    }


def build_scenario_formulation(
    layout: ProblemLayout, n_scenarios: int, robust_horizon: int
) -> ScenarioFormulation:
    """Build the multi-stage NLP and its ipopt solvers (see the module docstring).

    Parameters
    ----------
    layout : ProblemLayout
        Settings, sizes, scales and casadi functions of the plant (as the
        nominal MPC's).
    n_scenarios : int
        Number of scenarios ``S`` (at least 1).
    robust_horizon : int
        Intervals whose MVs are shared, ``1 <= R <= N``.

    Returns
    -------
    ScenarioFormulation
    """
    s = layout.settings
    N, n, m = s.horizon, layout.sizes, layout.n_nodes
    S, R = n_scenarios, robust_horizon
    n_mv, n_b, n_h = len(s.mvs), len(s.soft_bands), len(s.hard_limits)
    span = ca.DM(layout.mv_span)
    x0, mv_prev, u_base = (
        ca.MX.sym("x0", n["x"]),
        ca.MX.sym("mv_prev", n_mv),
        ca.MX.sym("u_base", n["u"]),
    )
    price, p, w = ca.MX.sym("price", 1, N), ca.MX.sym("p", n["p"]), ca.MX.sym("w", S)
    U_sh = ca.MX.sym("U_sh", n_mv, R)
    z_parts: list[Any] = [ca.vec(U_sh)]
    z_blocks: list[Block] = [(n_mv, R)]
    D_all: list[Any] = []
    g_shared: Any = None
    g_parts: list[Any] = []
    lbg: list[np.ndarray] = []
    ubg: list[np.ndarray] = []
    g_blocks: list[Block] = []
    rate_slots: list[int] = []

    def add_rows(expr: Any, low: np.ndarray, high: np.ndarray, block: Block) -> None:
        g_parts.append(ca.vec(expr))
        lbg.append(low)
        ubg.append(high)
        g_blocks.append(block)

    objective: Any = 0
    for j in range(S):
        U_own = ca.MX.sym(f"U_{j}", n_mv, N - R)
        X_s = ca.MX.sym(f"X_{j}", n["x"], N * m)
        S_j, H_j = ca.MX.sym(f"S_{j}", n_b, N), ca.MX.sym(f"H_{j}", n_h, N)
        D = ca.MX.sym(f"D_{j}", n["d"], N)
        D_all.append(ca.vec(D))
        z_parts.extend(ca.vec(sym) for sym in (U_own, X_s, S_j, H_j))
        z_blocks += [(n_mv, N - R), (n["x"] * m, N), (n_b, N), (n_h, N)]
        U = ca.diag(span) @ ca.horzcat(U_sh, U_own) + ca.repmat(ca.DM(layout.mv_low), 1, N)
        X = ca.diag(ca.DM(layout.x_scale)) @ X_s
        obj, _, g_dyn, V_end, moves = _expressions(
            layout, None, U, X, S_j, x0, mv_prev, u_base, D, price, p
        )
        # Probability-weighted economics; every scenario's hard limits at the
        # full exact-penalty weight (see the module docstring).
        objective += w[j] * obj
        objective += hard_penalty(layout, H_j)
        scaled_moves = moves / ca.repmat(span, 1, N)
        if j == 0:
            g_shared = scaled_moves[:, :R]  # identical in every scenario: once
        size = n["x"] * m
        add_rows(g_dyn, np.zeros(size * N), np.zeros(size * N), (size, N))
        rate_slots.append(len(lbg) + 1)  # +1: the shared block is put first below
        add_rows(
            scaled_moves[:, R:], np.zeros(n_mv * (N - R)), np.zeros(n_mv * (N - R)), (n_mv, N - R)
        )
        for expr, low, high in output_rows(layout, V_end, S_j, H_j):
            add_rows(expr, low, high, (1, N))
        for name in s.balances:
            i, sc = layout.vi(name), layout.var_scale[layout.vi(name)]
            add_rows(V_end[i, :] / sc, np.zeros(N), np.zeros(N), (1, N))
    g_parts.insert(0, ca.vec(g_shared))
    lbg.insert(0, np.zeros(n_mv * R))
    ubg.insert(0, np.zeros(n_mv * R))
    g_blocks.insert(0, (n_mv, R))
    z = ca.vertcat(*z_parts)
    P = ca.vertcat(x0, mv_prev, u_base, *D_all, ca.vec(price), p, w)
    nlp = {"x": z, "p": P, "f": objective * s.objective_scale, "g": ca.vertcat(*g_parts)}
    solver, solver_warm = _solvers(s, nlp)
    return ScenarioFormulation(
        n_scenarios=S,
        robust_horizon=R,
        n_z=int(z.numel()),
        z_blocks=z_blocks,
        g_blocks=g_blocks,
        lbg_parts=lbg,
        ubg_parts=ubg,
        rate_slots=(0, *rate_slots),
        solver=solver,
        solver_warm=solver_warm,
        evaluate_fn=_single_scenario_evaluation(layout),
        rollout=layout.step.mapaccum("rollout", N),
    )


def _single_scenario_evaluation(layout: ProblemLayout) -> ca.Function:
    """The nominal NLP's plan evaluation (objective with hard penalty, cost, states, end values)."""
    s = layout.settings
    N, n, m = s.horizon, layout.sizes, layout.n_nodes
    n_mv, n_b, n_h = len(s.mvs), len(s.soft_bands), len(s.hard_limits)
    U_s, X_s = ca.MX.sym("U", n_mv, N), ca.MX.sym("X", n["x"], N * m)
    S, H = ca.MX.sym("S", n_b, N), ca.MX.sym("H", n_h, N)
    x0, mv_prev, u_base = (
        ca.MX.sym("x0", n["x"]),
        ca.MX.sym("mv_prev", n_mv),
        ca.MX.sym("u_base", n["u"]),
    )
    D, price, p = ca.MX.sym("D", n["d"], N), ca.MX.sym("price", 1, N), ca.MX.sym("p", n["p"])
    U = ca.diag(ca.DM(layout.mv_span)) @ U_s + ca.repmat(ca.DM(layout.mv_low), 1, N)
    X = ca.diag(ca.DM(layout.x_scale)) @ X_s
    obj, cost, _, V_end, _ = _expressions(layout, None, U, X, S, x0, mv_prev, u_base, D, price, p)
    obj += hard_penalty(layout, H)
    P = ca.vertcat(x0, mv_prev, u_base, ca.vec(D), ca.vec(price), p)
    return ca.Function("evaluate_scenario", [U_s, X_s, S, H, P], [obj, cost, X, V_end])
