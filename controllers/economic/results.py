"""Result helpers of the economic MPC: status map, plan evaluation, active constraints."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from controllers.advisor.contract import ControlSolution, SolveStatus
from controllers.economic.formulation import NLPFormulation, ProblemLayout
from controllers.economic.outputs import OutputBounds, excess
from controllers.economic.settings import EconomicMPCSettings

__all__ = [
    "PlanEvaluation",
    "active_constraints",
    "objective_at",
    "output_slacks",
    "solution_slacks",
    "split_z",
]

#: Relative distance (of the MV span or variable scale) within which a limit counts as active.
_ACTIVE_REL = 1e-5

#: Hard-limit slack (in units of the variable's scale) above which a limit counts as
#: violated: ten times ipopt's default constraint tolerance on the scaled rows.
_VIOLATION_TOL = 1e-5

_STATUS = {
    "Solve_Succeeded": SolveStatus.OPTIMAL,
    "Solved_To_Acceptable_Level": SolveStatus.SUBOPTIMAL,
    "Feasible_Point_Found": SolveStatus.SUBOPTIMAL,
    "Infeasible_Problem_Detected": SolveStatus.INFEASIBLE,
    "Maximum_CpuTime_Exceeded": SolveStatus.TIMEOUT,
    "Maximum_WallTime_Exceeded": SolveStatus.TIMEOUT,
}


class PlanEvaluation:
    """Objective and limit check of a given MV plan (see :meth:`EconomicMPC.evaluate`).

    Attributes
    ----------
    objective : float
        Full objective (costs, band penalties, move suppression, hard-limit
        penalties). [currency]
    cost : float
        Energy, fuel and penalty purchases only. [currency]
    hard_violation : float
        Largest excursion beyond a hard limit or balance, scaled. [1]
    states : numpy.ndarray
        Predicted states, shape ``(N + 1, n_x)``. [SI]
    values : numpy.ndarray
        Referenced variables at each interval end, shape ``(N, n_v)``. [SI]
    """

    def __init__(
        self,
        objective: float,
        cost: float,
        hard_violation: float,
        states: np.ndarray,
        values: np.ndarray,
    ) -> None:
        self.objective = objective
        self.cost = cost
        self.hard_violation = hard_violation
        self.states = states
        self.values = values


def active_constraints(
    settings: EconomicMPCSettings,
    vnames: list[str],
    vscale: np.ndarray,
    mv_span: np.ndarray,
    plan: np.ndarray,
    mv: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    rate: np.ndarray,
    values: np.ndarray,
    slacks: tuple[np.ndarray, np.ndarray],
    bounds: OutputBounds,
) -> tuple[str, ...]:
    """Names of the MV limits, rate limits, bands and hard limits active or violated in a plan.

    ``slacks`` are the band and hard-limit excursions per interval end in
    units of the variable's scale, shapes ``(n_b, N)`` and ``(n_h, N)``; the
    side of an excursion is the side of the bound's midpoint the value is on.
    A hard limit the plan cannot keep is named ``<variable>.low_violated`` /
    ``.high_violated``.  ``bounds`` holds the bands and limits in force.
    """
    s = settings
    names: list[str] = []
    moves = np.diff(np.vstack([mv, plan]), axis=0)
    for i, m in enumerate(s.mvs):
        tol = _ACTIVE_REL * mv_span[i]
        if np.any(plan[:, i] <= low[i] + tol):
            names.append(f"{m.name}.lower")
        if np.any(plan[:, i] >= high[i] - tol):
            names.append(f"{m.name}.upper")
        if math.isfinite(rate[i]) and np.any(np.abs(moves[:, i]) >= rate[i] - tol):
            names.append(f"{m.name}.rate")
    band_s, hard_s = slacks
    for j, b in enumerate(s.soft_bands):
        v = values[:, vnames.index(b.variable)]
        below = v < 0.5 * (bounds.band_low[j] + bounds.band_high[j])
        out = band_s[j] > _ACTIVE_REL
        if np.any(out & below):
            names.append(f"{b.variable}.band_low")
        if np.any(out & ~below):
            names.append(f"{b.variable}.band_high")
    for j, h in enumerate(s.hard_limits):
        i = vnames.index(h.variable)
        lo, hi = bounds.limit_low[j], bounds.limit_high[j]
        v = values[:, i]
        tol = _ACTIVE_REL * vscale[i]
        with np.errstate(invalid="ignore"):  # inf - inf for a limit without either side
            mid = np.where(np.isfinite(lo) & np.isfinite(hi), 0.5 * (lo + hi), 0.0)
        below = np.where(np.isfinite(lo), np.where(np.isfinite(hi), v < mid, True), False)
        bad = hard_s[j] > _VIOLATION_TOL
        if np.any(bad & below):
            names.append(f"{h.variable}.low_violated")
        elif np.any(v <= lo + tol):
            names.append(f"{h.variable}.low")
        if np.any(bad & ~below):
            names.append(f"{h.variable}.high_violated")
        elif np.any(v >= hi - tol):
            names.append(f"{h.variable}.high")
    return tuple(names)


def split_z(z: np.ndarray, layout: ProblemLayout, z_blocks: list[int]) -> list[np.ndarray]:
    """Cut a nominal ``z`` into its blocks, each ``(entries per interval, N)``.

    Parameters
    ----------
    z : numpy.ndarray
        Scaled decision vector.
    layout : ProblemLayout
        Horizon.
    z_blocks : list of int
        Entries per interval of each block.

    Returns
    -------
    list of numpy.ndarray
    """
    parts, start, N = [], 0, layout.settings.horizon
    for size in z_blocks:
        parts.append(z[start : start + size * N].reshape(N, size).T)
        start += size * N
    return parts


def solution_slacks(z: np.ndarray, layout: ProblemLayout) -> tuple[np.ndarray, np.ndarray]:
    """Band and hard-limit excursions of a solution in units of the variable's scale.

    Returns
    -------
    tuple of numpy.ndarray
        ``(n_b, N)`` and ``(n_h, N)`` (``n_h`` counting the on/off measures). [1]
    """
    s, N = layout.settings, layout.settings.horizon
    n_b, n_h = len(s.soft_bands), len(s.hard_limits)
    start = (len(s.mvs) + layout.sizes["x"] * layout.n_nodes) * N
    S = z[start : start + n_b * N].reshape(N, n_b).T
    H = z[start + n_b * N : start + (n_b + n_h) * N].reshape(N, n_h).T
    return layout.slacks_to_var_scale(np.maximum(S, 0.0), np.maximum(H, 0.0))


def objective_at(
    z: np.ndarray, p_val: np.ndarray, layout: ProblemLayout, nlp: NLPFormulation
) -> float:
    """Return the unscaled objective at a solution with its slacks clipped at zero.

    ipopt relaxes the slacks' zero bounds by ~1e-8 (``bound_relax_factor``);
    times the large hard-limit weight that would shift the objective. [currency]
    """
    parts = split_z(z, layout, nlp.z_blocks)
    for k in range(2, len(parts)):
        parts[k] = np.maximum(parts[k], 0.0)
    X_s = parts[1].reshape(layout.sizes["x"], layout.settings.horizon * layout.n_nodes, order="F")
    out = nlp.evaluate_fn(parts[0], X_s, *parts[2:], p_val)
    return float(out[0])


def output_slacks(
    values: np.ndarray, layout: ProblemLayout, bounds: OutputBounds
) -> tuple[np.ndarray, np.ndarray]:
    """Band and hard-limit slacks at which every band and limit row of the NLP holds.

    Parameters
    ----------
    values : numpy.ndarray
        Referenced variables at the interval ends, ``(n_v, N)``. [SI]
    layout : ProblemLayout
        Scales and settings (``layout.settings.hard_limits`` may count the
        on/off measures after the user's limits: their slacks are zero).
    bounds : OutputBounds
        Bands and user hard limits in force. [SI]

    Returns
    -------
    tuple of numpy.ndarray
        ``(n_b, N)`` and ``(n_h, N)`` in units of the row scales. [1]
    """
    S = excess(values[layout.band_index], bounds.band_low, bounds.band_high)
    n_user = bounds.limit_low.shape[0]
    H = np.zeros((len(layout.settings.hard_limits), values.shape[1]))
    idx = layout.limit_index[:n_user]
    H[:n_user] = excess(values[idx], bounds.limit_low, bounds.limit_high)
    return S / layout.band_scale[:, None], H / layout.limit_scale[:, None]


def reject_request(request: Any, n_x: int, n_mv: int, has_forecast: bool) -> ControlSolution | None:
    """Return a ``FAILED`` solution if a request cannot be solved, else ``None``.

    Shared by the nominal and the scenario economic MPC: no forecast source,
    or a state measurement of the wrong shape, non-finite or flagged invalid.

    Parameters
    ----------
    request : ControlRequest
        The advisor's request (``measurements`` is the plant state).
    n_x : int
        Number of plant states.
    n_mv : int
        Number of MVs (width of the empty plan).
    has_forecast : bool
        Whether the controller has a forecast source.

    Returns
    -------
    ControlSolution or None
    """
    if not has_forecast:
        return ControlSolution(
            SolveStatus.FAILED, np.zeros((0, n_mv)), message="no forecast source"
        )
    x0 = np.asarray(request.measurements, dtype=float)
    if x0.shape != (n_x,) or not (np.isfinite(x0).all() and np.all(request.measurement_valid)):
        return ControlSolution(
            SolveStatus.FAILED, np.zeros((0, n_mv)), message="state measurement invalid"
        )
    return None
