"""The yardstick of the expected saving: the plan when the operators change nothing.

"What happens if the operators change nothing" is not "every MV frozen": a
plant's balancing loops (a mixed-gas network's make-up flow, flare and
pressure-reducing-station commands) keep acting without an operator.  The
*baseline* therefore holds only the MVs the operators move
(:attr:`AdvisorSettings.baseline_held`, the setpoints bound to a tag) at
their current values over a hold window of the first intervals, and lets the
controller re-optimise everything else.  It is solved by the same controller,
from the same request (state, forecast, limits, rate limits): only the held
MVs' limits become ``lower == upper == current`` over the window (or a trim
band ``current +/- trim * span`` around it: the plant's automatic loops, such
as a steam header's pressure controller acting on a turbine's extraction,
still move an operator's setpoint a little).  Both plans
are scored by the same objective, so

    expected saving = objective(baseline) - objective(recommended plan)

over the controller's horizon.  The recommended plan is optimal over a
superset of the baseline's plans, so the saving is >= 0 up to the solver's
tolerance (or a local optimum of a non-convex problem).

Hold windows (:attr:`AdvisorSettings.baseline_hold_intervals`) are tried in
order, longest first as configured; the first whose baseline is *comparable*
is used.  A baseline is not comparable when its solve fails, is infeasible,
comes back late or malformed, does not hold the held MVs, or breaks a hard
limit the recommended plan keeps (a constraint named ``*_violated`` among
its active constraints, the convention of controllers that soften hard
limits by an exact penalty: its objective is then dominated by the penalty
weight, not by money).  When no
window gives a comparable baseline the saving is unknown and
:attr:`SavingBaseline.reason` says why, naming the violated constraints.

A window's baseline request carries per-interval MV limits, shape
``(n_horizon, n_mv)``; a window covering the whole horizon uses the usual
``(n_mv,)`` limits.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from controllers.advisor.contract import (
    Controller,
    ControlRequest,
    ControlSolution,
    DiagnosingController,
    SolveStatus,
)

__all__ = ["SavingBaseline", "describe_duration", "solve_baseline"]

#: Suffix of a hard limit the plan does not keep, in a controller's active constraints.
VIOLATED_SUFFIX = "_violated"


@dataclass(frozen=True)
class SavingBaseline:
    """The plan when the operators change nothing, and whether it can be compared.

    Attributes
    ----------
    held_mvs : tuple of str
        MVs held at their current values (the operators' setpoints).
    trim : float
        Share of each held MV's span it could still move by during the hold. [-]
    hold_intervals : int
        Intervals they were held for (the window used, or the last one tried). [-]
    horizon_intervals : int
        Intervals of the horizon both plans cover. [-]
    interval_s : float
        Control interval. [s]
    status : SolveStatus or None
        The controller's status for the baseline (``None`` if not solved).
    objective : float
        Objective of the baseline plan; NaN when not comparable. [objective unit]
    mv_plan : numpy.ndarray
        The baseline plan, shape ``(n_horizon, n_mv)`` (``(0, n_mv)`` when
        there is none). [SI]
    violated_constraints : tuple of str
        Constraints the baseline breaks (hard limits ``*_violated``, or the
        conflicting constraints of an infeasible baseline).
    reason : str
        Why the baseline cannot be compared (empty when it can); one clause
        per hold window tried.
    attempts : tuple of str
        Hold windows tried before the one used, each with why it was rejected.
    solve_time_s : float
        Wall-clock time of the baseline solves. [s]
    """

    held_mvs: tuple[str, ...]
    trim: float
    hold_intervals: int
    horizon_intervals: int
    interval_s: float
    status: SolveStatus | None
    objective: float
    mv_plan: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    violated_constraints: tuple[str, ...] = ()
    reason: str = ""
    attempts: tuple[str, ...] = ()
    solve_time_s: float = 0.0

    @property
    def comparable(self) -> bool:
        """Whether the baseline's objective can be compared with the plan's."""
        return not self.reason and math.isfinite(self.objective)

    @property
    def hold_s(self) -> float:
        """Duration the held MVs are held. [s]."""
        return self.hold_intervals * self.interval_s

    @property
    def horizon_s(self) -> float:
        """Duration both plans cover. [s]."""
        return self.horizon_intervals * self.interval_s

    def describe(self) -> str:
        """The baseline in words (what was held, for how long, over which horizon)."""
        held = f"{len(self.held_mvs)} operator setpoint(s)" if self.held_mvs else "no setpoint"
        whole = self.hold_intervals >= self.horizon_intervals
        window = "over the whole horizon" if whole else f"for {describe_duration(self.hold_s)}"
        trim = f" (within +/-{100 * self.trim:.3g} % of their range)" if self.trim > 0.0 else ""
        return (
            f"{held} held at their current values{trim} {window}, the other MVs "
            f"re-optimised; horizon {describe_duration(self.horizon_s)}"
        )


def describe_duration(seconds: float) -> str:
    """A duration in words: ``"45 s"``, ``"15 min"``, ``"1.5 h"``, ``"2 d"``.

    Parameters
    ----------
    seconds : float
        Duration. [s]

    Returns
    -------
    str
    """
    for unit, size in (("d", 86_400.0), ("h", 3_600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def _windows(configured: Sequence[int], horizon: int) -> list[int]:
    """Hold windows in intervals, each clipped to the horizon, duplicates dropped."""
    if not configured:
        return [horizon]
    return list(dict.fromkeys(min(int(k), horizon) for k in configured))


def solve_baseline(
    controller: Controller,
    request: ControlRequest,
    plan: np.ndarray,
    held: Sequence[str],
    windows: Sequence[int],
    *,
    plan_constraints: Sequence[str] = (),
    interval_s: float,
    trim: float = 0.0,
    tolerance: float,
    diagnose: bool,
    clock: Callable[[], float] = time.perf_counter,
) -> SavingBaseline:
    """Solve the baseline of an accepted plan (see the module docstring).

    Parameters
    ----------
    controller : Controller
        The controller that made ``plan``.
    request : ControlRequest
        The request it answered (same state, forecast time, limits).
    plan : numpy.ndarray
        The accepted plan, shape ``(n_horizon, n_mv)``; a baseline initial
        guess after the hold. [SI]
    held : sequence of str
        Names of the MVs held (a subset of ``controller.mv_names``).
    windows : sequence of int
        Hold windows in intervals, tried in order; empty: the whole horizon. [-]
    plan_constraints : sequence of str
        The accepted plan's active constraints: hard limits it breaks itself
        (``*_violated``, unavoidable from the current state) may be broken by
        the baseline too, their exact penalties then mostly cancel.
    interval_s : float
        Control interval. [s]
    trim : float
        Share of each held MV's span (or of 1 for a zero span) it may move by
        either way during the hold, >= 0. [-]
    tolerance : float
        Relative tolerance (of each MV's span, or 1) within which a held MV
        counts as held. [-]
    diagnose : bool
        Whether to ask a :class:`DiagnosingController` which constraints make
        an infeasible baseline infeasible.
    clock : callable
        Monotonic clock in seconds.

    Returns
    -------
    SavingBaseline
        Comparable, or with the reason it is not; never raises for a failing
        controller.
    """
    names = tuple(controller.mv_names)
    mask = np.array([n in set(held) for n in names], dtype=bool)
    held_names = tuple(n for n in names if n in set(held))
    n_horizon = int(plan.shape[0])
    u_now = np.asarray(request.mv_current, dtype=float)
    lower = np.asarray(request.mv_lower, dtype=float)
    upper = np.asarray(request.mv_upper, dtype=float)
    span = np.where(upper > lower, upper - lower, 1.0)
    tol = tolerance * span
    base = SavingBaseline(
        held_mvs=held_names,
        trim=trim,
        hold_intervals=0,
        horizon_intervals=n_horizon,
        interval_s=interval_s,
        status=None,
        objective=math.nan,
        mv_plan=np.zeros((0, len(names))),
    )
    inside = np.clip(u_now, lower, upper)
    # Held band: current +/- trim, inside the limits (a current value within the
    # solver's tolerance outside them is taken at the limit).
    band = (np.maximum(lower, inside - trim * span), np.minimum(upper, inside + trim * span))
    outside = [
        f"{names[i]}.{'lower' if u_now[i] < lower[i] else 'upper'}"
        for i in np.flatnonzero(mask & (np.abs(u_now - inside) > tol + trim * span))
    ]
    if outside:
        return replace(
            base,
            violated_constraints=tuple(outside),
            reason="a held setpoint is outside its limits now: holding it breaks "
            + ", ".join(outside),
        )
    plan_violated = frozenset(c for c in plan_constraints if c.endswith(VIOLATED_SUFFIX))
    job = _Job(controller, request.time_budget_s, band, mask, tol, diagnose, n_horizon,
               plan_violated)  # fmt: skip
    attempts: list[str] = []
    total_s = 0.0
    last_status: SolveStatus | None = None
    last_violated: tuple[str, ...] = ()
    k = n_horizon
    for k in _windows(windows, n_horizon):
        sub = _window_request(request, plan, mask, band, k)
        start = clock()
        try:
            raw: object = controller.solve(sub)
        except Exception as exc:
            raw = exc
        elapsed = clock() - start
        total_s += elapsed
        last_status = raw.status if isinstance(raw, ControlSolution) else None
        what = f"holding the operators' setpoints for {describe_duration(k * interval_s)}"
        if k >= n_horizon:
            what = "holding the operators' setpoints over the whole horizon"
        problem, violated = _check(raw, job, sub, k, elapsed)
        last_violated = violated
        if not problem and isinstance(raw, ControlSolution):
            return replace(
                base,
                hold_intervals=k,
                status=raw.status,
                objective=float(raw.objective),
                mv_plan=np.asarray(raw.mv_plan, dtype=float).copy(),
                attempts=tuple(attempts),
                solve_time_s=total_s,
            )
        attempts.append(f"{what} {problem}")
    return replace(
        base,
        hold_intervals=k,
        status=last_status,
        violated_constraints=last_violated,
        reason="; ".join(attempts),
        attempts=tuple(attempts),
        solve_time_s=total_s,
    )


def _window_request(
    request: ControlRequest,
    plan: np.ndarray,
    mask: np.ndarray,
    band: tuple[np.ndarray, np.ndarray],
    k: int,
) -> ControlRequest:
    """The request with the held MVs inside their held band over ``k`` intervals."""
    n_horizon = plan.shape[0]
    lower = np.tile(np.asarray(request.mv_lower, dtype=float), (n_horizon, 1))
    upper = np.tile(np.asarray(request.mv_upper, dtype=float), (n_horizon, 1))
    lower[:k, mask] = band[0][mask]
    upper[:k, mask] = band[1][mask]
    guess = np.clip(np.asarray(plan, dtype=float), lower, upper)
    whole = k >= n_horizon
    return replace(
        request,
        mv_lower=lower[0] if whole else lower,
        mv_upper=upper[0] if whole else upper,
        previous_plan=guess,
    )


@dataclass(frozen=True)
class _Job:
    """What every hold window's check needs."""

    controller: Controller
    time_budget_s: float
    band: tuple[np.ndarray, np.ndarray]
    mask: np.ndarray
    tol: np.ndarray
    diagnose: bool
    n_horizon: int
    plan_violated: frozenset[str]


def _check(
    raw: object, job: _Job, sub: ControlRequest, k: int, elapsed_s: float
) -> tuple[str, tuple[str, ...]]:
    """Why a baseline solution cannot be compared (``""`` if it can) and what it breaks."""
    if isinstance(raw, Exception):
        return f"failed: the controller raised {type(raw).__name__}: {raw}", ()
    if not isinstance(raw, ControlSolution):
        return f"failed: the controller returned {type(raw).__name__}", ()
    if elapsed_s > job.time_budget_s:
        return f"was not solved in time ({elapsed_s:.3g} s, budget {job.time_budget_s:.3g} s)", ()
    if raw.status is SolveStatus.INFEASIBLE:
        found: tuple[str, ...] = ()
        if raw.diagnosis is not None:
            found = tuple(raw.diagnosis.conflicting)
        elif job.diagnose and isinstance(job.controller, DiagnosingController):
            try:
                found = tuple(job.controller.diagnose(sub).conflicting)
            except Exception:  # the diagnosis is evidence only; the advisor must answer
                found = ()
        named = f" (conflicting constraints: {', '.join(found)})" if found else ""
        return f"is infeasible{named}", found
    if not raw.status.usable:
        return f"failed (status {raw.status.value}: {raw.message})".replace(": )", ")"), ()
    mv_plan = np.asarray(raw.mv_plan, dtype=float)
    if mv_plan.shape != (job.n_horizon, job.mask.size):
        return f"failed: the baseline plan has shape {mv_plan.shape}", ()
    if not (np.isfinite(mv_plan).all() and math.isfinite(raw.objective)):
        return "failed: the baseline plan or its objective is not finite", ()
    low, high = job.band[0] - job.tol, job.band[1] + job.tol
    held = mv_plan[:k, job.mask]
    if np.any(held < low[job.mask]) or np.any(held > high[job.mask]):
        return "failed: the controller did not hold the held MVs", ()
    violated = tuple(
        c
        for c in raw.active_constraints
        if c.endswith(VIOLATED_SUFFIX) and c not in job.plan_violated
    )
    if violated:
        return f"breaks hard limits the plan keeps: {', '.join(violated)}", violated
    return "", ()
