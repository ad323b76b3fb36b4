"""Start point and bound vectors of the economic MPC's NLP.

The functions take the :class:`~controllers.economic.mpc.EconomicMPC` whose
NLP they fill (its layout, scales and previous solution) and are bound to it
as its methods ``_bounds_z``, ``_bounds_g``, ``_simulate`` and
``_initial_guess`` (kept apart so that ``mpc.py`` stays readable).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from controllers.economic.grid import BlockKind, HorizonGrid
from controllers.economic.outputs import OutputBounds, output_bounds
from controllers.economic.results import output_slacks

if TYPE_CHECKING:
    from controllers.economic.commitment_plan import NLPBounds
    from controllers.economic.mpc import EconomicMPC

__all__ = ["bounds_g", "bounds_z", "initial_guess", "simulate"]


def bounds_z(mpc: EconomicMPC, bounds: NLPBounds) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of the scaled decision vector ``z`` for per-interval MV limits.

    Parameters
    ----------
    mpc : EconomicMPC
        The controller whose NLP is bounded.
    bounds : NLPBounds
        Per-interval MV limits. [SI]

    Returns
    -------
    tuple of numpy.ndarray
        ``(lbz, ubz)``, scaled.
    """
    n_x_all = mpc._n["x"] * mpc._n_nodes * mpc.settings.horizon
    n_slack = mpc._nz - bounds.low.size - n_x_all
    lbz = np.concatenate(
        [
            ((bounds.low - mpc._mv_low) / mpc._mv_span).ravel(),
            np.full(n_x_all, -math.inf),
            np.zeros(n_slack),
        ]
    )
    ubz = np.concatenate(
        [
            ((bounds.high - mpc._mv_low) / mpc._mv_span).ravel(),
            np.full(n_x_all, math.inf),
            np.full(n_slack, math.inf),
        ]
    )
    return lbz, ubz


def bounds_g(
    mpc: EconomicMPC, bounds: NLPBounds, outputs: OutputBounds | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Row bounds: per-interval rate limits, bands, hard limits and measure limits.

    Rows ``k`` of each band/limit block are interval end ``k + 1``.

    Parameters
    ----------
    mpc : EconomicMPC
        The controller whose NLP is bounded.
    bounds : NLPBounds
        Per-interval rate limits and measure limits. [SI]
    outputs : OutputBounds, optional
        The per-interval bands and hard limits (default the settings').

    Returns
    -------
    tuple of numpy.ndarray
        ``(lbg, ubg)``.
    """
    lbg_parts = list(mpc._nlp.lbg_parts)
    ubg_parts = list(mpc._nlp.ubg_parts)
    rate_s = (bounds.rate / mpc._mv_span).ravel()
    lbg_parts[mpc._nlp.rate_slot], ubg_parts[mpc._nlp.rate_slot] = -rate_s, rate_s
    if outputs is not None:
        slot = mpc._nlp.rate_slot + 1
        for lo, hi in zip(*mpc._layout.band_rows(outputs), strict=True):
            lbg_parts[slot], ubg_parts[slot + 1] = lo, hi
            slot += 2
        for lo, hi in zip(*mpc._layout.limit_rows(outputs), strict=True):
            lbg_parts[slot], ubg_parts[slot + 1] = lo, hi
            slot += 2
    for a, slot in enumerate(mpc._measure_slots):
        lbg_parts[slot] = bounds.measure_low[a]
        ubg_parts[slot + 1] = bounds.measure_high[a]
    return np.concatenate(lbg_parts), np.concatenate(ubg_parts)


def simulate(
    mpc: EconomicMPC, x: np.ndarray, u_full: np.ndarray, d: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """States at the interval ends ``(n_x, N)`` and at all nodes ``(n_x, N * s)``.

    Parameters
    ----------
    mpc : EconomicMPC
        The controller whose discretisation is used.
    x : numpy.ndarray
        Initial state, shape ``(n_x,)``. [SI]
    u_full : numpy.ndarray
        Every input per interval, shape ``(N, n_u)``. [SI]
    d : numpy.ndarray
        Disturbances per interval, shape ``(N, n_d)``. [SI]

    Returns
    -------
    tuple of numpy.ndarray
        States at the interval ends and at every node. [SI]
    """
    N = mpc.settings.horizon
    grid = mpc._grid
    if grid is not None:
        return _simulate_grid(mpc, grid, x, u_full, d)
    out = mpc._rollout(x, u_full.T, d.T, np.tile(mpc._p, (N, 1)).T)
    if mpc._colloc is None:
        ends = np.asarray(out, dtype=float)
        return ends, ends
    return np.asarray(out[0], dtype=float), np.asarray(out[1], dtype=float)


def _simulate_grid(
    mpc: EconomicMPC, grid: HorizonGrid, x: np.ndarray, u_full: np.ndarray, d: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`simulate` on the NLP's coarse grid, the states interpolated to every interval.

    Each grid interval holds its mean inputs and disturbances, as the NLP
    does: a plan held over an hour then meets the hour's mean steam and gas
    balances, where stepping it every control interval against the varying
    demand would drift the headers (integrators) that the DCS trims.
    """
    m, n_x = mpc._n_nodes, mpc._n["x"]
    u_c = grid.restrict(u_full, BlockKind.HELD)
    d_c = grid.restrict(d, BlockKind.HELD)
    nodes = np.empty((grid.n_coarse, n_x * m))
    xk = x
    # One accumulated roll-out per run of equal lengths (two on the demo's
    # grid) instead of a casadi call per interval: 36 calls cost 1.4x the
    # uniform 96-interval roll-out.
    for k0, k1, rollout in mpc._grid_rollouts():
        count = k1 - k0
        p_rep = np.tile(mpc._p, (count, 1)).T
        out = rollout(xk, u_c[k0:k1].T, d_c[k0:k1].T, p_rep)
        if mpc._colloc is None:
            ends = np.asarray(out, dtype=float)
            nodes[k0:k1] = ends.T
        else:
            ends = np.asarray(out[0], dtype=float)
            stages = np.asarray(out[1], dtype=float)  # (n_x, count * m), interval by interval
            nodes[k0:k1] = stages.T.reshape(count, m * n_x)
        xk = ends[:, -1]
    full = grid.expand(nodes, BlockKind.STATE)  # (N, n_x * m), nodes interval by interval
    X = full.reshape(grid.n_full * m, mpc._n["x"]).T
    return X[:, m - 1 :: m], X


def initial_guess(
    mpc: EconomicMPC,
    x: np.ndarray,
    mv: np.ndarray,
    d: np.ndarray,
    u_base: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    mv_guess: Any,
    *,
    shifted_states: bool = False,
    outputs: OutputBounds | None = None,
) -> np.ndarray:
    """Primal start: plan and states, every band and hard-limit row met.

    The plan is ``mv_guess``, else the shifted previous solution, else
    ``mv`` held, and the states are the plan simulated from ``x``.  The
    slacks start at the excursions of those states, so every band and
    hard-limit row holds (measured on the demo steelworks at 24 h /
    15 min: band slacks started at zero left the pressure-band rows
    violated by up to 1e6 Pa and cost ipopt ~13 short steps per warm
    solve).

    With ``shifted_states`` (a warm solve from the previous solution) the
    states are the previous solution's, shifted by one interval (its last
    interval repeated), not simulated: the dynamics rows are violated in
    the first interval only, by the gap between the state now and the one
    the previous plan predicted, which one Newton step undoes together
    with the MVs' answer to it.  Simulating the shifted plan instead lets
    that gap run open loop through the horizon: in the demo replay (DCS
    trims between decisions, a causal forecast, the read-back state) the
    steam headers -- integrators -- drifted far beyond their hard limits,
    the exact penalty of the guess was ~1e8 times the optimum, and warm
    solves from it took 45 iterations median (up to 121) against 13 (up
    to 58) from the shifted states, to the same optimum (48 replay states,
    ``benchmarks/wf_replay.py``).  Simulating the last interval's copied MVs under
    the new interval's disturbances did the same on the rolling benchmark.

    Parameters
    ----------
    mpc : EconomicMPC
        The controller (its previous solution, scales and layout).
    x : numpy.ndarray
        State now, shape ``(n_x,)``. [SI]
    mv : numpy.ndarray
        Current MVs, shape ``(n_mv,)``. [SI]
    d : numpy.ndarray
        Disturbances per interval, shape ``(N, n_d)``. [SI]
    u_base : numpy.ndarray
        Every input with the non-MV ones at their values, shape ``(n_u,)``. [SI]
    low, high : numpy.ndarray
        Per-interval MV limits, shape ``(N, n_mv)``. [SI]
    mv_guess : array_like or None
        A plan to start from, shape ``(k, n_mv)``, the last row held. [SI]
    shifted_states : bool
        Take the previous solution's states, shifted, instead of simulating.
    outputs : OutputBounds, optional
        The bands and hard limits in force (default the settings').

    Returns
    -------
    numpy.ndarray
        The scaled start point ``z0``.
    """
    ob = outputs if outputs is not None else output_bounds(mpc.settings)
    s, N = mpc._layout.settings, mpc.settings.horizon
    n_mv, m = len(s.mvs), mpc._n_nodes
    prev_nodes = None
    if mv_guess is not None and np.asarray(mv_guess).size:
        g = np.atleast_2d(np.asarray(mv_guess, dtype=float))
        plan = np.vstack([g, np.repeat(g[-1:], max(N - g.shape[0], 0), axis=0)])[:N]
    elif mpc._last_z is not None:
        prev = mpc._last_z[: n_mv * N].reshape(N, n_mv) * mpc._mv_span + mpc._mv_low
        plan = np.vstack([prev[1:], prev[-1:]])  # the shifted previous solution
        nodes = mpc._last_z[n_mv * N : (n_mv + mpc._n["x"] * m) * N]
        prev_nodes = nodes.reshape(N * m, mpc._n["x"]).T * mpc._xscale[:, None]
    else:
        plan = np.tile(mv, (N, 1))
    plan = np.clip(np.where(np.isfinite(plan), plan, mv), low, high)
    u_full = np.tile(u_base, (N, 1))
    u_full[:, mpc._mv_index] = plan
    if shifted_states and prev_nodes is not None:
        X = np.hstack([prev_nodes[:, m:], prev_nodes[:, -m:]])
        ends = X[:, m - 1 :: m]
    else:
        ends, X = mpc._simulate(x, u_full, d)
    n_v = len(mpc._vnames)
    slacks = [np.zeros((len(s.soft_bands), N)), np.zeros((len(s.hard_limits), N))]
    if np.isfinite(X).all():
        V = np.asarray(mpc._sel.map(N)(ends, u_full.T, d.T, np.tile(mpc._p, (N, 1)).T))
        V = V.reshape(n_v, N)
        slacks = list(output_slacks(V, mpc._layout, ob))
    else:
        X = np.tile(x[:, None], (1, N * m))
    return np.concatenate(
        [((plan - mpc._mv_low) / mpc._mv_span).ravel(), (X.T / mpc._xscale).ravel()]
        + [part.T.ravel() for part in slacks]
    )
