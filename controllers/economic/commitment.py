"""On/off decisions and minimum loads: the commitment MILP of the economic MPC.

A boiler is either off (all its fuels at zero) or fired between a minimum
stable load and its maximum; a turbo-generator either off or above a minimum
throttle flow.  Letting the NLP drive a boiler's fuels continuously to zero is
physically wrong (no boiler runs at 1 % load) and numerically nasty (the
efficiency's fuel-mix ratio volume/power has curvature ~1/power^2 near zero).
Settings declare such units as :class:`~controllers.economic.settings.OnOffGroup`
entries.  Each solve then works in three steps, as commercial
energy-management systems do (commitment first, then continuous dispatch):

1. **Commitment MILP** (this module).  The economic NLP is linearised at the
   warm plan (the shifted previous solution, else holding the current MVs,
   with its simulated states): objective gradient ``c`` and row Jacobian
   ``J`` from the NLP's own casadi oracle functions.  Binaries
   ``delta[k, g]`` (unit ``g`` on in interval ``k``) and start/stop
   indicators ``y, w in [0, 1]`` are added::

       min  c' z + sum_{k,g} startup_cost_g * y[k, g]
       s.t. lbg <= g(z0) + J (z - z0) <= ubg          (all other NLP rows)
            off_i + (on_low_i - off_i) d <= u_i <= off_i + (on_high_i - off_i) d
            m_lo + (min_on - m_lo) d <= measure <= m_hi + (max_on - m_hi) d
            |u_i[k] - u_i[k-1]| <= rate_i + y[k] + w[k]  (ramp waived at a switch)
            measure[k] <= R + (min_on - R) y[k],  measure[k-1] <= R + (min_on - R) w[k]
            d[k] - d[k-1] = y[k] - w[k]
            sum_{j=k-U+1..k} y[j] <= d[k],  sum_{j=k-D+1..k} w[j] <= 1 - d[k]

   (``m_lo = -R``, ``m_hi = R`` with ``R`` = :data:`MEASURE_RELAX` times the
   measure's scale: the measure is free while off).  The minimum up/down
   times are the standard unit-commitment inequalities (Rajan and Takriti,
   IBM RC23628, 2005), which with binary ``d`` make ``y``, ``w`` integral.
   Unit ``g``'s state before the horizon is read from the MVs in force and,
   if given, how many intervals it has been in that state.  The MILP is
   solved by HiGHS through :func:`scipy.optimize.milp` with a time limit;
   its status is checked.
2. **NLP with the commitment fixed** (:mod:`controllers.economic.commitment_plan`):
   per-interval MV bounds (off: pinned at the MV's lower limit; a single-MV
   group without a measure: at least ``min_on`` while on), the measure's
   per-interval limits on the otherwise unbounded exact-penalty rows added
   for it, and the ramp limits waived in the intervals where the unit starts
   or stops (a start jumps to the minimum load, a stop from it).
3. **Fallbacks**, each labelled in the solution message: MILP infeasible,
   failed or over its time limit -> the previous commitment shifted, else all
   units on (the continuous problem with minimum loads); NLP with the fixed
   commitment unusable or unable to keep a minimum load -> the continuous
   relaxation (no on/off decisions, no minimum loads), reported SUBOPTIMAL.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.optimize
import scipy.sparse as sp

__all__ = ["MEASURE_RELAX", "CommitmentResult", "GroupRows", "LinearisedNLP", "solve_commitment"]

#: Bound of a unit's measure while it is off, in units of the measure's scale
#: (a big-M: loose enough never to bind, small enough for HiGHS' tolerances).
MEASURE_RELAX = 10.0

#: Big-M of the waived ramp limit: a scaled MV move is at most 1 (its span).
_RAMP_RELAX = 1.0

_MILP_STATUS = {
    0: "optimal",
    1: "time or iteration limit",
    2: "infeasible",
    3: "unbounded",
    4: "failed",
}


@dataclass(frozen=True, eq=False)
class LinearisedNLP:
    """The economic NLP linearised at a point ``z0`` (scaled variables and rows).

    Attributes
    ----------
    z0 : numpy.ndarray
        Linearisation point, shape ``(n_z,)``.
    c : numpy.ndarray
        Gradient of the scaled objective at ``z0``, shape ``(n_z,)``. [1]
    jac : scipy.sparse.csr_matrix
        Jacobian of the rows at ``z0``, shape ``(n_g, n_z)``.
    g0 : numpy.ndarray
        Row values at ``z0``, shape ``(n_g,)``.
    lbz, ubz : numpy.ndarray
        Variable bounds, shape ``(n_z,)``.
    lbg, ubg : numpy.ndarray
        Row bounds, shape ``(n_g,)``; the rows a group replaces are ignored.
    """

    z0: np.ndarray
    c: np.ndarray
    jac: sp.csr_matrix
    g0: np.ndarray
    lbz: np.ndarray
    ubz: np.ndarray
    lbg: np.ndarray
    ubg: np.ndarray


@dataclass(frozen=True, eq=False)
class GroupRows:
    """Where one on/off group lives in the linearised NLP (all scaled).

    Attributes
    ----------
    mv_cols : numpy.ndarray
        Columns of the group's MVs, shape ``(N, m)``.
    off : numpy.ndarray
        Scaled value of each MV while off, shape ``(m,)``.
    on_low, on_high : numpy.ndarray
        Scaled MV limits while on, shape ``(N, m)``.
    rate_rows : numpy.ndarray
        Rows of the MVs' moves, shape ``(N, m)``.
    rate : numpy.ndarray
        Scaled ramp limits, shape ``(N, m)`` (``inf`` for none).
    measure_low_rows, measure_high_rows : numpy.ndarray or None
        Rows ``measure / scale (+ slack)`` per interval, shape ``(N,)``;
        ``None`` for a group without a measure.
    min_on, max_on : float
        Scaled measure limits while on (``max_on`` may be ``inf``).
    startup_cost : float
        Scaled cost of a start (times the objective scale). [1]
    min_up, min_down : int
        Minimum up and down times. [intervals]
    switch_at_min : bool
        Whether a start reaches and a stop leaves from the minimum load.
    on0 : bool
        State before the horizon.
    time_in_state : float
        Intervals spent in that state before the horizon (``inf``: long enough).
    """

    mv_cols: np.ndarray
    off: np.ndarray
    on_low: np.ndarray
    on_high: np.ndarray
    rate_rows: np.ndarray
    rate: np.ndarray
    measure_low_rows: np.ndarray | None
    measure_high_rows: np.ndarray | None
    min_on: float
    max_on: float
    startup_cost: float
    min_up: int
    min_down: int
    switch_at_min: bool
    on0: bool
    time_in_state: float


@dataclass(frozen=True)
class CommitmentResult:
    """Outcome of the commitment MILP.

    Attributes
    ----------
    status : str
        ``"optimal"``, ``"time or iteration limit"``, ``"infeasible"``,
        ``"unbounded"`` or ``"failed"``.
    on : numpy.ndarray or None
        Boolean commitment, shape ``(N, n_groups)``; ``None`` unless optimal.
    objective : float
        MILP objective (scaled, linearised). [1]
    solve_time_s : float
        Wall-clock time of building and solving the MILP. [s]
    message : str
        HiGHS' own message.
    """

    status: str
    on: np.ndarray | None
    objective: float
    solve_time_s: float
    message: str

    @property
    def ok(self) -> bool:
        """Whether the MILP proved an optimal commitment (within its gap)."""
        return self.status == "optimal" and self.on is not None


def solve_commitment(
    lin: LinearisedNLP,
    groups: list[GroupRows],
    horizon: int,
    *,
    time_limit_s: float,
    mip_gap: float,
) -> CommitmentResult:
    """Solve the commitment MILP (see the module docstring).

    Parameters
    ----------
    lin : LinearisedNLP
        The NLP linearised at the warm plan.
    groups : list of GroupRows
        The on/off groups' columns and rows.
    horizon : int
        Number of intervals ``N``.
    time_limit_s : float
        HiGHS wall-clock limit. [s]
    mip_gap : float
        Relative MIP gap at which HiGHS stops. [1]

    Returns
    -------
    CommitmentResult
        Never raises for an infeasible or unfinished MILP: see ``status``.
    """
    start = time.perf_counter()
    N, G, n_z = horizon, len(groups), lin.z0.size
    n_var = n_z + 3 * N * G

    def col(kind: int, k: int, g: int) -> int:  # kind 0: delta, 1: start y, 2: stop w
        return n_z + kind * N * G + k * G + g

    replaced: list[np.ndarray] = []
    for grp in groups:
        replaced.append(grp.rate_rows.ravel())
        replaced.extend(r for r in (grp.measure_low_rows, grp.measure_high_rows) if r is not None)
    keep = np.ones(lin.g0.size, dtype=bool)
    if replaced:
        keep[np.concatenate(replaced)] = False
    # Affine rows: value(z) = J z + b with b = g(z0) - J z0.
    b = lin.g0 - lin.jac @ lin.z0
    jac_kept = lin.jac[keep]
    blocks = [sp.hstack([jac_kept, sp.csr_matrix((jac_kept.shape[0], n_var - n_z))])]
    row_lo = [lin.lbg[keep] - b[keep]]
    row_hi = [lin.ubg[keep] - b[keep]]
    extra_rows: list[dict[int, float]] = []
    extra_lo: list[float] = []
    extra_hi: list[float] = []

    def add(coeffs: dict[int, float], lo: float, hi: float) -> None:
        extra_rows.append(coeffs)
        extra_lo.append(lo)
        extra_hi.append(hi)

    def jac_row(row: int) -> dict[int, float]:
        r = lin.jac.getrow(row)
        return {int(c): float(v) for c, v in zip(r.indices, r.data, strict=True)}

    lb = np.concatenate([lin.lbz, np.zeros(3 * N * G)])
    ub = np.concatenate([lin.ubz, np.ones(3 * N * G)])
    cost = np.concatenate([lin.c, np.zeros(3 * N * G)])
    for g, grp in enumerate(groups):
        prev_on = 1.0 if grp.on0 else 0.0
        for k in range(N):
            d, y, w = col(0, k, g), col(1, k, g), col(2, k, g)
            cost[y] = grp.startup_cost
            # delta[k] - delta[k-1] - y[k] + w[k] = 0
            coeffs = {d: 1.0, y: -1.0, w: 1.0}
            rhs = 0.0
            if k == 0:
                rhs = prev_on
            else:
                coeffs[col(0, k - 1, g)] = -1.0
            add(coeffs, rhs, rhs)
            for i in range(grp.mv_cols.shape[1]):
                u, off = int(grp.mv_cols[k, i]), float(grp.off[i])
                add({u: 1.0, d: -(grp.on_high[k, i] - off)}, -math.inf, off)
                add({u: 1.0, d: -(grp.on_low[k, i] - off)}, off, math.inf)
                rate = float(grp.rate[k, i])
                if math.isfinite(rate):
                    row = int(grp.rate_rows[k, i])
                    base = jac_row(row)
                    up = {**base, y: -_RAMP_RELAX, w: -_RAMP_RELAX}
                    down = {**base, y: _RAMP_RELAX, w: _RAMP_RELAX}
                    add(up, -math.inf, rate - b[row])
                    add(down, -rate - b[row], math.inf)
            if grp.measure_low_rows is not None:
                row = int(grp.measure_low_rows[k])
                add(
                    {**jac_row(row), d: -(grp.min_on + MEASURE_RELAX)},
                    -MEASURE_RELAX - b[row],
                    math.inf,
                )
            if grp.measure_high_rows is not None:
                row = int(grp.measure_high_rows[k])
                if math.isfinite(grp.max_on):
                    add(
                        {**jac_row(row), d: -(grp.max_on - MEASURE_RELAX)},
                        -math.inf,
                        MEASURE_RELAX - b[row],
                    )
            if grp.switch_at_min and grp.measure_high_rows is not None:
                row = int(grp.measure_high_rows[k])
                # A start reaches the minimum load, a stop leaves from it.
                cap = MEASURE_RELAX - grp.min_on
                add({**jac_row(row), y: cap}, -math.inf, MEASURE_RELAX - b[row])
                if k > 0:
                    prev_row = int(grp.measure_high_rows[k - 1])
                    add({**jac_row(prev_row), w: cap}, -math.inf, MEASURE_RELAX - b[prev_row])
            elif grp.switch_at_min and grp.measure_low_rows is None:
                for i in range(grp.mv_cols.shape[1]):
                    top, level = grp.on_high[k, i], grp.on_low[k, i]
                    add({int(grp.mv_cols[k, i]): 1.0, y: top - level}, -math.inf, top)
                    if k > 0:
                        top = grp.on_high[k - 1, i]
                        u_prev = int(grp.mv_cols[k - 1, i])
                        add({u_prev: 1.0, w: top - grp.on_low[k - 1, i]}, -math.inf, top)
            # Minimum up and down times.
            if grp.min_up > 1:
                window = range(max(0, k - grp.min_up + 1), k + 1)
                add({**{col(1, j, g): 1.0 for j in window}, d: -1.0}, -math.inf, 0.0)
            if grp.min_down > 1:
                window = range(max(0, k - grp.min_down + 1), k + 1)
                add({**{col(2, j, g): 1.0 for j in window}, d: 1.0}, -math.inf, 1.0)
        # The state before the horizon binds its first intervals.
        need = (grp.min_up if grp.on0 else grp.min_down) - grp.time_in_state
        for k in range(int(max(0.0, min(need, N)))):
            lb[col(0, k, g)] = ub[col(0, k, g)] = prev_on
    if extra_rows:
        data: list[float] = []
        row_idx: list[int] = []
        col_idx: list[int] = []
        for r, coeffs in enumerate(extra_rows):
            for c, v in coeffs.items():
                row_idx.append(r)
                col_idx.append(c)
                data.append(v)
        shape = (len(extra_rows), n_var)
        blocks.append(sp.csr_matrix((data, (row_idx, col_idx)), shape=shape))
        row_lo.append(np.asarray(extra_lo))
        row_hi.append(np.asarray(extra_hi))
    a_matrix = sp.vstack(blocks, format="csr")
    integrality = np.zeros(n_var)
    integrality[n_z : n_z + N * G] = 1
    res = scipy.optimize.milp(
        cost,
        integrality=integrality,
        bounds=scipy.optimize.Bounds(lb, ub),
        constraints=scipy.optimize.LinearConstraint(
            a_matrix, np.concatenate(row_lo), np.concatenate(row_hi)
        ),
        options={"time_limit": time_limit_s, "mip_rel_gap": mip_gap, "disp": False},
    )
    status = _MILP_STATUS.get(int(res.status), "failed")
    on = None
    if status == "optimal" and res.x is not None:
        on = np.asarray(res.x[n_z : n_z + N * G], dtype=float).reshape(N, G) > 0.5
    objective = float(res.fun) if res.fun is not None else math.nan
    return CommitmentResult(status, on, objective, time.perf_counter() - start, str(res.message))
