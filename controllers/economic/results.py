"""Result helpers of the economic MPC: status map, plan evaluation, active constraints."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from controllers.advisor.contract import ControlSolution, SolveStatus
from controllers.economic.formulation import NLPFormulation, ProblemLayout
from controllers.economic.settings import EconomicMPCSettings

__all__ = [
    "PlanEvaluation",
    "active_constraints",
    "band_excess",
    "hard_excess",
    "objective_at",
    "project_plan",
    "solution_slacks",
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


def project_plan(
    plan: np.ndarray, mv: np.ndarray, low: np.ndarray, high: np.ndarray, rate: np.ndarray
) -> np.ndarray:
    """Remove ipopt's round-off beyond MV and rate limits (it meets them to ~1e-8 only)."""
    out = plan.copy()
    prev = mv
    rate = rate * (1.0 - 1e-12)  # so that the move recomputed in floating point stays inside
    for k in range(out.shape[0]):
        out[k] = np.clip(np.clip(out[k], prev - rate, prev + rate), low, high)
        prev = out[k]
    return out


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
    slacks: np.ndarray,
) -> tuple[str, ...]:
    """Names of the MV limits, rate limits, bands and hard limits active or violated in a plan.

    ``slacks`` has shape ``(4, N, n)``: band low, band high, hard low, hard
    high excursions per interval (scaled).  A hard limit the plan cannot keep
    is named ``<variable>.low_violated`` / ``.high_violated``.
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
    for j, b in enumerate(s.soft_bands):
        if np.any(slacks[0, :, j] > _ACTIVE_REL):
            names.append(f"{b.variable}.band_low")
        if np.any(slacks[1, :, j] > _ACTIVE_REL):
            names.append(f"{b.variable}.band_high")
    for j, h in enumerate(s.hard_limits):
        i = vnames.index(h.variable)
        tol = _ACTIVE_REL * vscale[i]
        if np.any(slacks[2, :, j] > _VIOLATION_TOL):
            names.append(f"{h.variable}.low_violated")
        elif np.any(values[:, i] <= h.low + tol):
            names.append(f"{h.variable}.low")
        if np.any(slacks[3, :, j] > _VIOLATION_TOL):
            names.append(f"{h.variable}.high_violated")
        elif np.any(values[:, i] >= h.high - tol):
            names.append(f"{h.variable}.high")
    return tuple(names)


def solution_slacks(z: np.ndarray, layout: ProblemLayout) -> np.ndarray:
    """Band and hard-limit slacks of a solution, shape ``(4, N, n)`` per kind.

    Kinds: band low, band high (``n = n_bands``), hard low, hard high
    (``n = n_hard``); the hard-limit entries are padded to the larger count.
    """
    s, N = layout.settings, layout.settings.horizon
    n_b, n_h = len(s.soft_bands), len(s.hard_limits)
    start = (len(s.mvs) + layout.sizes["x"] * layout.n_nodes) * N
    width = max(n_b, n_h)
    out = np.zeros((4, N, width))
    for k, size in enumerate((n_b, n_b, n_h, n_h)):
        out[k, :, :size] = z[start : start + size * N].reshape(N, size)
        start += size * N
    return out


def objective_at(
    z: np.ndarray, p_val: np.ndarray, layout: ProblemLayout, nlp: NLPFormulation
) -> float:
    """Return the unscaled objective at a solution with its slacks clipped at zero.

    ipopt relaxes the slacks' zero bounds by ~1e-8 (``bound_relax_factor``);
    times the large hard-limit weight that would shift the objective. [currency]
    """
    parts, start, N = [], 0, layout.settings.horizon
    for size in nlp.z_blocks:
        block = z[start : start + size * N].reshape(N, size).T
        parts.append(block)
        start += size * N
    for k in range(2, len(parts)):
        parts[k] = np.maximum(parts[k], 0.0)
    X_s = parts[1].reshape(layout.sizes["x"], N * layout.n_nodes, order="F")
    out = nlp.evaluate_fn(parts[0], X_s, *parts[2:], p_val)
    return float(out[0])


def band_excess(values: np.ndarray, layout: ProblemLayout) -> tuple[np.ndarray, np.ndarray]:
    """Return the excursions below/above each normal band, ``(n_b, N)`` each, scaled [1].

    These are the band slacks at which every band row of the NLP holds.
    """
    s = layout.settings
    lo = np.zeros((len(s.soft_bands), values.shape[1]))
    hi = np.zeros_like(lo)
    for j, b in enumerate(s.soft_bands):
        i = layout.vi(b.variable)
        lo[j] = np.maximum(b.low - values[i], 0.0) / layout.var_scale[i]
        hi[j] = np.maximum(values[i] - b.high, 0.0) / layout.var_scale[i]
    return lo, hi


def hard_excess(values: np.ndarray, layout: ProblemLayout) -> tuple[np.ndarray, np.ndarray]:
    """Return the excursions below/above each hard limit, ``(n_h, N)`` each, scaled [1]."""
    s = layout.settings
    lo = np.zeros((len(s.hard_limits), values.shape[1]))
    hi = np.zeros_like(lo)
    for j, h in enumerate(s.hard_limits):
        i = layout.vi(h.variable)
        lo[j] = np.maximum(h.low - values[i], 0.0) / layout.var_scale[i]
        hi[j] = np.maximum(values[i] - h.high, 0.0) / layout.var_scale[i]
    return lo, hi


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
