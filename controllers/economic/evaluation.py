"""Evaluation of an MV plan by the economic MPC: simulate it, price it, check its limits.

Bound to :class:`~controllers.economic.mpc.EconomicMPC` as its method
``evaluate`` (kept apart so that ``mpc.py`` stays readable).  On a coarse
grid (``settings.grid``) the plan is evaluated on the grid it was made on:
each grid interval's mean inputs and disturbances, bands and hard limits at
its end (see :mod:`controllers.economic.grid`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from controllers.economic.grid import BlockKind, HorizonGrid
from controllers.economic.horizon import HorizonInputs
from controllers.economic.outputs import OutputBounds, excess
from controllers.economic.results import PlanEvaluation, output_slacks
from controllers.errors import EconomicMPCError

if TYPE_CHECKING:
    from controllers.economic.mpc import EconomicMPC

__all__ = ["evaluate"]


def evaluate(
    mpc: EconomicMPC,
    x0: npt.ArrayLike,
    mv_plan: npt.ArrayLike,
    mv_prev: npt.ArrayLike,
    horizon: HorizonInputs,
) -> PlanEvaluation:
    """Simulate an MV plan and evaluate the MPC's objective on it.

    Band slacks are the excursions of the simulated trajectory; hard
    limits and balances are checked, not enforced.  The bands and hard
    limits are the settings' tightened by the horizon's per-interval ones.

    Parameters
    ----------
    mpc : EconomicMPC
        The controller (bound as its method ``evaluate``).
    x0 : array_like
        Initial state, shape ``(n_x,)``. [SI]
    mv_plan : array_like
        MVs per interval, shape ``(N, n_mv)``. [SI]
    mv_prev : array_like
        MVs in force before the horizon, shape ``(n_mv,)``. [SI]
    horizon : HorizonInputs
        Disturbances, price, non-MV inputs and per-interval limits.

    Returns
    -------
    PlanEvaluation

    Raises
    ------
    EconomicMPCError
        For arrays of the wrong shape, non-finite inputs or per-interval
        limits that do not tighten the settings'.
    """
    x, mv, d, price, u_base = mpc._check_inputs(x0, mv_prev, horizon)
    ob = mpc._output_bounds(horizon)
    s, N = mpc.settings, mpc.settings.horizon
    plan = np.asarray(mv_plan, dtype=float).reshape(N, len(s.mvs))
    u_full = np.tile(u_base, (N, 1))
    u_full[:, mpc._mv_index] = plan
    X, X_nodes = mpc._simulate(x, u_full, d)
    V_end = np.asarray(mpc._sel.map(N)(X, u_full.T, d.T, np.tile(mpc._p, (N, 1)).T), float)
    V_end = V_end.reshape(len(mpc._vnames), N)
    p_val = mpc._pvec(x, mv, d, price, u_base)
    if mpc._grid is None:
        V_nlp, ob_nlp = V_end, ob
        S, H = output_slacks(V_end, mpc._layout, ob)
        U_s = ((plan - mpc._mv_low) / mpc._mv_span).T
        X_s = X_nodes / mpc._xscale[:, None]
        obj, cost, _, _ = mpc._nlp.evaluate_fn(U_s, X_s, S, H, p_val)
    else:
        # On the grid the plan was made on (its intervals' means, limits at
        # their ends): the objective and the limits as the NLP saw them.
        obj, cost, V_nlp, ob_nlp = _evaluate_on_grid(
            mpc, mpc._grid, plan, u_full, d, X_nodes, ob, p_val
        )
    violation = 0.0
    for j, h in enumerate(s.hard_limits):
        i = mpc._vi(h.variable)
        over = excess(V_nlp[i], ob_nlp.limit_low[j], ob_nlp.limit_high[j])
        violation = max(violation, float(np.max(over)) / mpc._vscale[i])
    for name in s.balances:
        i = mpc._vi(name)
        violation = max(violation, float(np.max(np.abs(V_nlp[i]))) / mpc._vscale[i])
    states = np.vstack([x, X.T])
    return PlanEvaluation(float(obj), float(cost), violation, states, V_end.T)


def _evaluate_on_grid(  # type: ignore[no-untyped-def]
    mpc: EconomicMPC, g: HorizonGrid, plan, u_full, d, X_nodes, ob: OutputBounds, p_val
) -> tuple[Any, Any, np.ndarray, OutputBounds]:
    """Objective, cost, values at the grid's ends and its bounds (see :meth:`evaluate`)."""
    m, n_x = mpc._n_nodes, mpc._n["x"]
    u_c = g.restrict(u_full, BlockKind.HELD)
    d_c = g.restrict(d, BlockKind.HELD)
    nodes = g.restrict(X_nodes.T.reshape(g.n_full, n_x * m), BlockKind.STATE)
    X_c = nodes.reshape(g.n_coarse * m, n_x).T
    n_c = g.n_coarse
    p_rep = np.tile(mpc._p, (n_c, 1)).T
    V = np.asarray(mpc._sel.map(n_c)(X_c[:, m - 1 :: m], u_c.T, d_c.T, p_rep), float)
    V = V.reshape(len(mpc._vnames), n_c)

    def coarse(a: np.ndarray, lower: bool) -> np.ndarray:
        return g.tightest(a.T, BlockKind.HELD, lower=lower).T

    ob_c = OutputBounds(
        coarse(ob.band_low, True),
        coarse(ob.band_high, False),
        coarse(ob.limit_low, True),
        coarse(ob.limit_high, False),
    )
    S, H = output_slacks(V, mpc._layout, ob_c)
    U_s = ((g.restrict(plan, BlockKind.HELD) - mpc._mv_low) / mpc._mv_span).T
    fn = mpc._nlp.grid_evaluate_fn
    if fn is None:
        raise EconomicMPCError("the NLP was built without a grid")
    obj, cost, _, _ = fn(U_s, X_c / mpc._xscale[:, None], S, H, p_val)
    return obj, cost, V, ob_c
