"""The commitment pipeline of the economic MPC: MILP, NLP with the commitment fixed, fallbacks.

See :mod:`controllers.economic.commitment` for the design.  This module holds
what :meth:`EconomicMPC.plan <controllers.economic.mpc.EconomicMPC.plan>`
runs when the settings declare on/off groups, and the small records it
passes to the NLP solve.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from controllers.advisor.contract import ControlSolution, SolveStatus
from controllers.economic.commitment import (
    CommitmentResult,
    GroupRows,
    LinearisedNLP,
    solve_commitment,
)
from controllers.economic.horizon import HorizonInputs
from controllers.economic.outputs import OutputBounds
from controllers.economic.results import _VIOLATION_TOL, solution_slacks
from controllers.economic.settings import EconomicMPCSettings, HardLimit
from controllers.errors import EconomicMPCError

if TYPE_CHECKING:
    from controllers.economic.mpc import EconomicMPC

__all__ = [
    "CommitmentReport",
    "NLPBounds",
    "NLPResult",
    "StepInputs",
    "measure_limits",
    "measure_scales",
    "plan_with_commitment",
]

#: Fraction of an MV's span above its lower limit at which a unit counts as on.
_ON_THRESHOLD = 1e-6


@dataclass(frozen=True, eq=False)
class StepInputs:
    """The checked inputs of one solve (see :meth:`EconomicMPC.plan`). [SI]."""

    x: np.ndarray
    mv: np.ndarray
    d: np.ndarray
    price: np.ndarray
    u_base: np.ndarray
    horizon: HorizonInputs
    outputs: OutputBounds


@dataclass(frozen=True, eq=False)
class NLPBounds:
    """Per-interval bounds of one NLP solve.

    Attributes
    ----------
    low, high, rate : numpy.ndarray
        MV limits and largest moves, shape ``(N, n_mv)``. [SI]
    measure_low, measure_high : numpy.ndarray
        Limits of each on/off measure row, scaled by the measure's scale,
        shape ``(n_measures, N)`` (``-inf``/``inf`` where free). [1]
    names_low, names_high : numpy.ndarray
        MV limits against which active limits are named and holding is
        judged (without the commitment's pins), shape ``(N, n_mv)``. [SI]
    """

    low: np.ndarray
    high: np.ndarray
    rate: np.ndarray
    measure_low: np.ndarray
    measure_high: np.ndarray
    names_low: np.ndarray
    names_high: np.ndarray

    @classmethod
    def free(
        cls, low: np.ndarray, high: np.ndarray, rate: np.ndarray, n_measures: int
    ) -> NLPBounds:
        """Bounds without a commitment: the measure rows unbounded."""
        n = low.shape[0]
        return cls(
            low,
            high,
            rate,
            np.full((n_measures, n), -math.inf),
            np.full((n_measures, n), math.inf),
            low,
            high,
        )


@dataclass(frozen=True, eq=False)
class NLPResult:
    """A solution with its scaled decision vector and the plan's referenced values."""

    solution: ControlSolution
    z: np.ndarray | None = None
    values: np.ndarray | None = None


@dataclass(frozen=True)
class CommitmentReport:
    """How the last plan's commitment was decided (``EconomicMPC.last_commitment``).

    Attributes
    ----------
    on : numpy.ndarray
        Commitment used by the plan, shape ``(N, n_groups)``; ``None`` for the
        continuous relaxation.
    source : str
        ``"milp"``, ``"given"``, ``"previous"``, ``"all_on"`` or ``"continuous"``.
    milp : CommitmentResult or None
        The MILP's outcome, if it ran.
    startups : numpy.ndarray
        Starts per group over the horizon, shape ``(n_groups,)``.
    startup_cost : float
        Their cost, included in the plan's objective. [currency]
    """

    on: np.ndarray | None
    source: str
    milp: CommitmentResult | None
    startups: np.ndarray
    startup_cost: float


def measure_limits(settings: EconomicMPCSettings) -> EconomicMPCSettings:
    """Settings for the NLP: one unbounded hard limit appended per group measure."""
    extra = tuple(HardLimit(g.measure) for g in settings.on_off_groups if g.measure is not None)
    if not extra:
        return settings
    return dataclasses.replace(settings, hard_limits=settings.hard_limits + extra)


def measure_scales(settings: EconomicMPCSettings) -> dict[str, float]:
    """Scales of the measures not otherwise limited: their largest on-limit. [SI].

    Outputs such as a fuel power have no envelope (scale 1); their rows are
    scaled by the group's limits instead, so that they are of order one.
    """
    used = {b.variable for b in settings.soft_bands} | {h.variable for h in settings.hard_limits}
    used |= set(settings.balances)
    out: dict[str, float] = {}
    for g in settings.on_off_groups:
        if g.measure is None or g.measure in used:
            continue
        size = max(abs(g.min_on), abs(g.max_on) if math.isfinite(g.max_on) else 0.0)
        if size > 0.0:
            out[g.measure] = max(out.get(g.measure, 0.0), size)
    return out


def plan_with_commitment(
    mpc: EconomicMPC,
    step: StepInputs,
    base: NLPBounds,
    *,
    mv_guess: npt.ArrayLike | None,
    commitment: npt.ArrayLike | None,
    time_in_state: npt.ArrayLike | None,
    start: float,
) -> ControlSolution:
    """Commitment MILP, NLP with the commitment fixed, and the labelled fallbacks.

    Parameters
    ----------
    mpc : EconomicMPC
        The controller (its NLP, scales and last solution).
    step : StepInputs
        Checked inputs of this solve.
    base : NLPBounds
        MV limits and rate limits of this solve without a commitment.
    mv_guess, commitment, time_in_state
        As in :meth:`EconomicMPC.plan`.
    start : float
        ``time.perf_counter()`` at the start of the solve. [s]

    Returns
    -------
    ControlSolution

    Raises
    ------
    EconomicMPCError
        For a ``commitment`` or ``time_in_state`` of the wrong shape.
    """
    s, N = mpc.settings, mpc.settings.horizon
    groups = s.on_off_groups
    n_g = len(groups)
    cols = [[mpc.mv_names.index(name) for name in g.mvs] for g in groups]
    on0 = np.array(
        [bool(np.any(step.mv[c] > mpc._mv_low[c] + _ON_THRESHOLD * mpc._mv_span[c])) for c in cols]
    )
    t0 = np.full(n_g, math.inf) if time_in_state is None else np.asarray(time_in_state, float)
    if t0.shape != (n_g,) or np.any(np.isnan(t0)) or np.any(t0 < 0.0):
        raise EconomicMPCError(f"time_in_state must be ({n_g},) and >= 0, got {t0.shape}")
    milp: CommitmentResult | None = None
    if commitment is not None:
        on = np.asarray(commitment)
        if on.shape != (N, n_g):
            raise EconomicMPCError(f"commitment must have shape ({N}, {n_g}), got {on.shape}")
        on, source, label = on.astype(bool), "given", "commitment given"
    else:
        milp = _run_milp(mpc, step, base, cols, on0, t0, mv_guess)
        if milp.ok and milp.on is not None:
            on, source = milp.on, "milp"
            label = f"commitment MILP {milp.status} ({milp.solve_time_s:.3f} s)"
        elif mpc._last_on is not None:
            on, source = np.vstack([mpc._last_on[1:], mpc._last_on[-1:]]), "previous"
            label = f"commitment MILP {milp.status}: previous commitment shifted"
        else:
            on, source = np.ones((N, n_g), dtype=bool), "all_on"
            label = f"commitment MILP {milp.status}: all units on (minimum loads)"
    fixed, conflict = _fixed_bounds(mpc, base, on, on0, cols)
    if conflict:
        reason = conflict
    else:
        result = mpc._solve_nlp(step, fixed, mv_guess, start)
        reason = _fixed_failure(mpc, result)
        if not reason:
            starts = _startups(on, on0)
            cost = float(np.dot(starts, [g.startup_cost for g in groups]))
            mpc._last_on = on
            mpc.last_commitment = CommitmentReport(on, source, milp, starts, cost)
            sol = result.solution
            names = _group_names(mpc, on, result.values, sol.mv_plan)
            return dataclasses.replace(
                sol,
                objective=sol.objective + cost,
                active_constraints=sol.active_constraints + names,
                message=f"{sol.message}; {label}",
                solve_time_s=time.perf_counter() - start,
            )
    # The commitment cannot be kept: the continuous problem without on/off decisions.
    mpc._last_on = None
    result = mpc._solve_nlp(step, base, mv_guess, start)
    sol = result.solution
    mpc.last_commitment = CommitmentReport(None, "continuous", milp, np.zeros(n_g, int), 0.0)
    status = SolveStatus.SUBOPTIMAL if sol.status is SolveStatus.OPTIMAL else sol.status
    return dataclasses.replace(
        sol,
        status=status,
        message=f"{sol.message}; {label}; fixed commitment {reason}: continuous relaxation",
        solve_time_s=time.perf_counter() - start,
    )


def _run_milp(
    mpc: EconomicMPC,
    step: StepInputs,
    base: NLPBounds,
    cols: list[list[int]],
    on0: np.ndarray,
    t0: np.ndarray,
    mv_guess: npt.ArrayLike | None,
) -> CommitmentResult:
    """Linearise the NLP at the warm plan and solve the commitment MILP."""
    s, N = mpc.settings, mpc.settings.horizon
    n_mv = len(s.mvs)
    if np.any(base.low > base.high):
        return CommitmentResult("infeasible", None, math.nan, 0.0, "MV lower limit above upper")
    z0 = mpc._initial_guess(
        step.x, step.mv, step.d, step.u_base, base.low, base.high, mv_guess, outputs=step.outputs
    )
    p_val = mpc._pvec(step.x, step.mv, step.d, step.price, step.u_base)
    try:
        c, g0, jac = mpc._linearise(z0, p_val)
    except RuntimeError as exc:  # a NaN/inf evaluation inside casadi
        return CommitmentResult("failed", None, math.nan, 0.0, f"linearisation: {exc}")
    lbz, ubz = mpc._bounds_z(base)
    lbg, ubg = mpc._bounds_g(base, step.outputs)
    # The measures' exact-penalty slacks are fixed at zero: minimum loads are hard here.
    n_h_all = len(mpc._layout.settings.hard_limits)
    n_h = len(s.hard_limits)
    h_start = mpc._nz - n_h_all * N
    for j in range(n_h, n_h_all):
        ubz[h_start + np.arange(N) * n_h_all + j] = 0.0
    lin = LinearisedNLP(
        z0=z0,
        c=np.asarray(c, float).ravel(),
        jac=sp.csr_matrix(jac.sparse()),
        g0=np.asarray(g0, float).ravel(),
        lbz=lbz,
        ubz=ubz,
        lbg=lbg,
        ubg=ubg,
    )
    offsets = np.cumsum([0] + [part.size for part in mpc._nlp.lbg_parts])
    rate_start = int(offsets[mpc._nlp.rate_slot])
    k_idx = np.arange(N)[:, None]
    rows: list[GroupRows] = []
    measure = 0
    for g, c_idx in zip(s.on_off_groups, cols, strict=True):
        ci = np.asarray(c_idx)
        span, lo_set = mpc._mv_span[ci], mpc._mv_low[ci]
        on_low = (base.low[:, ci] - lo_set) / span
        on_high = (base.high[:, ci] - lo_set) / span
        low_rows = high_rows = None
        min_on = max_on = 0.0
        if g.measure is None:
            on_low = np.maximum(on_low, (g.min_on - lo_set) / span)
            on_high = np.minimum(on_high, (g.max_on - lo_set) / span)
        else:
            slot = mpc._measure_slots[measure]
            measure += 1
            low_rows = offsets[slot] + np.arange(N)
            high_rows = offsets[slot + 1] + np.arange(N)
            scale = mpc._vscale[mpc._vi(g.measure)]
            min_on, max_on = g.min_on / scale, g.max_on / scale
        rows.append(
            GroupRows(
                mv_cols=k_idx * n_mv + ci[None, :],
                off=np.zeros(ci.size),  # off: at the settings' lower limit, 0 scaled
                on_low=on_low,
                on_high=on_high,
                rate_rows=rate_start + k_idx * n_mv + ci[None, :],
                rate=base.rate[:, ci] / span,
                measure_low_rows=low_rows,
                measure_high_rows=high_rows,
                min_on=min_on,
                max_on=max_on,
                startup_cost=g.startup_cost * s.objective_scale,
                min_up=g.min_up_intervals,
                min_down=g.min_down_intervals,
                switch_at_min=g.switch_at_min_load,
                on0=bool(on0[len(rows)]),
                time_in_state=float(t0[len(rows)]),
            )
        )
    return solve_commitment(
        lin, rows, N, time_limit_s=s.commitment_time_limit_s, mip_gap=s.commitment_mip_gap
    )


def _fixed_bounds(
    mpc: EconomicMPC, base: NLPBounds, on: np.ndarray, on0: np.ndarray, cols: list[list[int]]
) -> tuple[NLPBounds, str]:
    """Bounds of the NLP with the commitment fixed, and a conflict message (or ``""``)."""
    low, high, rate = base.low.copy(), base.high.copy(), base.rate.copy()
    m_lo, m_hi = base.measure_low.copy(), base.measure_high.copy()
    measure = 0
    for gi, (g, c_idx) in enumerate(zip(mpc.settings.on_off_groups, cols, strict=True)):
        ci = np.asarray(c_idx)
        off, run = ~on[:, gi], on[:, gi]
        off_value = mpc._mv_low[ci]
        if np.any(base.low[np.ix_(off, ci)] > off_value):
            return base, f"conflicts with the MV limits ({g.name} cannot be off)"
        low[np.ix_(off, ci)] = off_value
        high[np.ix_(off, ci)] = off_value
        prev = np.concatenate([[on0[gi]], on[:-1, gi]])
        # A start reaches the minimum load, a stop leaves from it.
        at_min = (on[:, gi] & ~prev) | np.append(on[:-1, gi] & ~on[1:, gi], False)
        at_min &= g.switch_at_min_load
        if g.measure is None:
            low[np.ix_(run, ci)] = np.maximum(low[np.ix_(run, ci)], g.min_on)
            high[np.ix_(run, ci)] = np.minimum(high[np.ix_(run, ci)], g.max_on)
            high[np.ix_(at_min, ci)] = np.minimum(high[np.ix_(at_min, ci)], g.min_on)
        else:
            scale = mpc._vscale[mpc._vi(g.measure)]
            m_lo[measure, run] = g.min_on / scale
            m_hi[measure, run] = g.max_on / scale
            m_hi[measure, at_min] = g.min_on / scale
            measure += 1
        rate[np.ix_(prev != on[:, gi], ci)] = math.inf  # a start or stop waives the ramp
    if np.any(low > high):
        return base, "conflicts with the MV limits (minimum load above the upper limit)"
    return NLPBounds(low, high, rate, m_lo, m_hi, base.names_low, base.names_high), ""


def _fixed_failure(mpc: EconomicMPC, result: NLPResult) -> str:
    """Why the NLP with the commitment fixed is not acceptable (``""`` if it is)."""
    sol = result.solution
    if not sol.status.usable or result.z is None:
        return f"NLP {sol.status.value} ({sol.message})"
    _, hard = solution_slacks(result.z, mpc._layout)
    n_h = len(mpc.settings.hard_limits)
    measured = [g for g in mpc.settings.on_off_groups if g.measure is not None]
    bad = [
        g.name
        for j, g in enumerate(measured)
        if np.max(hard[n_h + j], initial=0.0) > _VIOLATION_TOL
    ]
    if bad:
        return f"cannot keep the load limits of {', '.join(bad)}"
    return ""


def _startups(on: np.ndarray, on0: np.ndarray) -> np.ndarray:
    """Number of starts of each group over the horizon."""
    prev = np.vstack([on0[None, :], on[:-1]])
    return np.sum(on & ~prev, axis=0).astype(int)


def _group_names(
    mpc: EconomicMPC, on: np.ndarray, values: np.ndarray | None, plan: np.ndarray
) -> tuple[str, ...]:
    """``<group>.off`` where a unit is off, ``<group>.min_load`` where it runs at its minimum."""
    names: list[str] = []
    for gi, g in enumerate(mpc.settings.on_off_groups):
        if not np.all(on[:, gi]):
            names.append(f"{g.name}.off")
        if g.measure is not None:
            if values is None:
                continue
            i = mpc._vi(g.measure)
            level, tol = values[on[:, gi], i], 1e-5 * mpc._vscale[i]
        else:
            c = mpc.mv_names.index(g.mvs[0])
            level, tol = plan[on[:, gi], c], 1e-5 * mpc._mv_span[c]
        if level.size and np.any(level <= g.min_on + tol):
            names.append(f"{g.name}.min_load")
    return tuple(names)
