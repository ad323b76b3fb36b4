"""The advisor: turns a controller's solution into checked setpoint recommendations.

Each call of :meth:`Advisor.recommend`:

1. sanitises the measurements and current MV values
   (:mod:`controllers.advisor.sanitise`);
2. in mode PREDICT or ADVISE calls the controller, unless a critical
   measurement or an MV's current value is unusable, and checks its solution:
   status, time budget, shapes, finiteness, limits and rate limits;
3. if the solution is not usable, falls back to the last accepted plan
   shifted to now, then to holding the current setpoints, and says why; for
   an infeasible problem it asks the controller which constraints conflict;
4. projects the plan onto the limits and rate limits
   (:mod:`controllers.advisor.safety`), whatever its source;
5. for an accepted controller plan, prices it against the baseline "the
   operators change nothing" when one is configured
   (``AdvisorSettings.baseline_held``; :mod:`controllers.advisor.baseline`):
   the expected saving, or why it is unknown.

A controller that raises is treated as a failed solve, never propagated:
the advisor must always answer.  The time budget is checked after the call
returns (a Python call cannot be interrupted safely); a late result is
discarded.  Controllers should honour ``request.time_budget_s`` themselves.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from controllers.advisor.baseline import SavingBaseline, solve_baseline
from controllers.advisor.contract import (
    Controller,
    ControlRequest,
    ControlSolution,
    DiagnosingController,
    SolveStatus,
)
from controllers.advisor.recommendation import (
    FallbackLevel,
    MVRecommendation,
    Prediction,
    Recommendation,
)
from controllers.advisor.safety import MoveLimitation, project_plan, safe_setpoints
from controllers.advisor.sanitise import sanitise_measurements
from controllers.advisor.settings import AdvisorMode, AdvisorSettings
from controllers.errors import AdvisorError

__all__ = ["Advisor"]


@dataclass(frozen=True)
class _Plan:
    """An accepted (safe) plan and its predictions, kept for the fallback."""

    time_s: float
    mv_plan: np.ndarray
    cv_names: tuple[str, ...]
    cv: np.ndarray


class Advisor:
    """Setpoint advisor with modes, fallback chain and safety projection.

    Parameters
    ----------
    controller : Controller
        The controller to drive; its ``mv_names`` must equal the settings'.
    settings : AdvisorSettings
        MVs with limits, measurement names, budget and policies.
    clock : callable, optional
        Monotonic clock in seconds (default :func:`time.perf_counter`);
        tests inject a fake one to simulate slow solves.
    """

    def __init__(
        self,
        controller: Controller,
        settings: AdvisorSettings,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if tuple(controller.mv_names) != settings.mv_names:
            raise AdvisorError(
                f"controller MVs {tuple(controller.mv_names)} differ from the "
                f"advisor's {settings.mv_names}"
            )
        self._controller = controller
        self._settings = settings
        self._clock = clock
        self._mode = settings.mode
        self._lower = np.array([mv.lower for mv in settings.mvs])
        self._upper = np.array([mv.upper for mv in settings.mvs])
        self._rate = np.array([mv.rate_per_interval for mv in settings.mvs])
        self._critical = np.array(settings.critical_mask, dtype=bool)
        self._plan: _Plan | None = None
        self._last_mv = np.full(len(settings.mvs), np.nan)
        self._last_mv_age = np.zeros(len(settings.mvs), dtype=int)

    @property
    def settings(self) -> AdvisorSettings:
        """The advisor's settings."""
        return self._settings

    @property
    def mode(self) -> AdvisorMode:
        """Current mode (settable; switching to OFF forgets the previous plan)."""
        return self._mode

    @mode.setter
    def mode(self, mode: AdvisorMode) -> None:
        if not isinstance(mode, AdvisorMode):
            raise AdvisorError(f"mode must be an AdvisorMode, got {mode!r}")
        if mode is AdvisorMode.OFF:
            self._plan = None
        self._mode = mode

    def reset(self) -> None:
        """Forget the previous plan and remembered MV values."""
        self._plan = None
        self._last_mv[:] = np.nan
        self._last_mv_age[:] = 0

    # ------------------------------------------------------------ inputs
    def _sanitise_mvs(self, mv_current: npt.ArrayLike) -> tuple[np.ndarray, list[str]]:
        names = self._settings.mv_names
        u = np.asarray(mv_current, dtype=float).reshape(-1)
        if u.shape != (len(names),):
            raise AdvisorError(f"expected {len(names)} current MV values {names}, got {u.shape}")
        issues = []
        out = u.copy()
        for i in range(u.size):
            if math.isfinite(u[i]):
                self._last_mv[i] = u[i]
                self._last_mv_age[i] = 0
                continue
            self._last_mv_age[i] += 1
            remembered = self._last_mv[i]
            fresh = self._last_mv_age[i] <= self._settings.max_stale_samples
            if math.isfinite(remembered) and fresh:
                out[i] = remembered
                issues.append(
                    f"current value of MV {names[i]!r} is missing: last value "
                    f"{remembered:.6g} is used"
                )
            else:
                out[i] = np.nan
                issues.append(f"current value of MV {names[i]!r} is unknown")
        return out, issues

    # ------------------------------------------------------------ checking
    def _check_solution(
        self, sol: object, mv_current: np.ndarray, elapsed_s: float
    ) -> tuple[ControlSolution | None, str]:
        """Return the solution if usable, else ``None`` and the reason."""
        if not isinstance(sol, ControlSolution):
            return None, f"controller returned {type(sol).__name__}, not a ControlSolution"
        if elapsed_s > self._settings.time_budget_s:
            return None, (
                f"solve took {elapsed_s:.3g} s, over the time budget "
                f"{self._settings.time_budget_s:.3g} s (status {sol.status.value})"
            )
        if not sol.status.usable:
            return None, f"controller status {sol.status.value}: {sol.message}".rstrip(": ")
        plan = np.asarray(sol.mv_plan, dtype=float)
        n_mv = mv_current.size
        if plan.ndim != 2 or plan.shape[0] < 1 or plan.shape[1] != n_mv:
            return None, f"controller plan has shape {plan.shape}, expected (n_horizon, {n_mv})"
        if not np.isfinite(plan).all():
            return None, "controller plan contains NaN or inf"
        cv = np.asarray(sol.cv_predicted, dtype=float)
        if cv.size and (cv.ndim != 2 or cv.shape != (plan.shape[0] + 1, len(sol.cv_names))):
            return None, f"controller predictions have shape {cv.shape}, inconsistent with its plan"
        if not np.isfinite(cv).all():
            return None, "controller predictions contain NaN or inf"
        if not math.isfinite(sol.objective):
            return None, "controller objective is not finite"
        span = np.where(self._upper > self._lower, self._upper - self._lower, 1.0)
        tol = self._settings.plan_tolerance * span
        if np.any(plan < self._lower - tol) or np.any(plan > self._upper + tol):
            return None, "controller plan violates the MV limits"
        steps = np.diff(np.vstack([mv_current, plan]), axis=0)
        inside = (mv_current >= self._lower) & (mv_current <= self._upper)
        # The first move from an out-of-limits current value may exceed the rate
        # limit in the plan (the controller may not know our recovery rule); the
        # projection fixes it, so only later moves and in-limit starts are checked.
        steps[0] = np.where(inside, steps[0], 0.0)
        if np.any(np.abs(steps) > self._rate + tol):
            return None, "controller plan violates the MV rate limits"
        return sol, ""

    def _shifted_plan(self, time_s: float) -> _Plan | None:
        plan = self._plan
        if plan is None:
            return None
        shift = round((time_s - plan.time_s) / self._settings.interval_s)
        if shift < 0 or shift > self._settings.max_plan_age_intervals:
            return None
        if shift >= plan.mv_plan.shape[0]:
            return None
        cv = plan.cv[shift:] if plan.cv.size else plan.cv
        return _Plan(time_s, plan.mv_plan[shift:], plan.cv_names, cv)

    # ------------------------------------------------------------ main
    def recommend(
        self,
        time_s: float,
        mv_current: npt.ArrayLike,
        measurements: npt.ArrayLike,
        history: npt.ArrayLike | None = None,
        plant_mode: str | None = None,
    ) -> Recommendation:
        """Recommend setpoints for the control interval starting at ``time_s``.

        Parameters
        ----------
        time_s : float
            Start of the control interval. [s]
        mv_current : array_like
            Current value of each MV (its setpoint in force), shape
            ``(n_mv,)``; NaN if unknown (bridged by the last known value for
            up to ``max_stale_samples`` calls). [SI]
        measurements : array_like
            Current measurements, shape ``(n_meas,)``, NaN where missing. [SI]
        history : array_like, optional
            Recent measurements, shape ``(n_samples, n_meas)``, oldest first,
            without the current sample. [SI]
        plant_mode : str, optional
            Recognised plant operating mode, passed to the controller.

        Returns
        -------
        Recommendation
            Never NaN; every setpoint inside its limits and rate limit (see
            :mod:`controllers.advisor.safety` for a current value outside the limits).

        Raises
        ------
        AdvisorError
            Only for arrays of the wrong shape or a non-finite ``time_s``
            (programming errors); never for a failing controller.
        """
        if not math.isfinite(time_s):
            raise AdvisorError("time_s must be finite")
        cfg = self._settings
        meas = sanitise_measurements(
            measurements,
            history,
            cfg.measurement_names,
            max_stale_samples=cfg.max_stale_samples,
            frozen_samples=cfg.frozen_samples,
            frozen_tolerance=cfg.frozen_tolerance,
        )
        u_now, mv_issues = self._sanitise_mvs(mv_current)
        issues = (*mv_issues, *meas.issues)
        known = np.isfinite(u_now)
        if self._mode is AdvisorMode.OFF:
            mvs = tuple(
                MVRecommendation(
                    name,
                    float(u_now[i]) if known[i] else None,
                    None,
                    MoveLimitation.NONE,
                    "advisor is OFF",
                )
                for i, name in enumerate(cfg.mv_names)
            )
            return Recommendation(
                time_s, self._mode, mvs, None, None, (), FallbackLevel.NONE, "", None, 0.0, (),
                issues, plant_mode,
            )  # fmt: skip

        blockers = [f"current value of MV {cfg.mv_names[i]!r} is unknown" for i in
                    np.flatnonzero(~known)]  # fmt: skip
        blockers += [
            f"critical measurement {cfg.measurement_names[j]!r} is invalid"
            for j in np.flatnonzero(self._critical & ~meas.valid)
        ]
        shifted = self._shifted_plan(time_s)
        status: SolveStatus | None = None
        solve_time_s = 0.0
        infeasible: tuple[str, ...] = ()
        accepted: ControlSolution | None = None
        baseline: SavingBaseline | None = None
        reason = "; ".join(blockers)
        if not blockers:
            request = ControlRequest(
                time_s=time_s,
                mv_current=u_now.copy(),
                mv_lower=self._lower.copy(),
                mv_upper=self._upper.copy(),
                mv_rate=self._rate.copy(),
                measurements=meas.values.copy(),
                measurement_valid=meas.valid.copy(),
                history=meas.history,
                time_budget_s=cfg.time_budget_s,
                previous_plan=None if shifted is None else shifted.mv_plan.copy(),
                plant_mode=plant_mode,
            )
            start = self._clock()
            try:
                raw: object = self._controller.solve(request)
            except Exception as exc:
                raw = None
                reason = f"controller raised {type(exc).__name__}: {exc}"
            solve_time_s = self._clock() - start
            if raw is not None:
                if isinstance(raw, ControlSolution):
                    status = raw.status
                accepted, reason = self._check_solution(raw, u_now, solve_time_s)
            if isinstance(raw, ControlSolution) and raw.status is SolveStatus.INFEASIBLE:
                infeasible, note = self._diagnose(raw, request)
                reason += note
            if accepted is not None and cfg.baseline_held is not None:
                baseline = solve_baseline(
                    self._controller,
                    request,
                    np.asarray(accepted.mv_plan, dtype=float),
                    cfg.baseline_held,
                    cfg.baseline_hold_intervals,
                    plan_constraints=accepted.active_constraints,
                    interval_s=cfg.interval_s,
                    trim=cfg.baseline_trim,
                    tolerance=cfg.plan_tolerance,
                    diagnose=cfg.diagnose_infeasibility,
                    clock=self._clock,
                )

        return self._build(
            time_s, u_now, known, accepted, shifted, reason, status, solve_time_s,
            infeasible, issues, plant_mode, baseline,
        )  # fmt: skip

    def _diagnose(
        self, sol: ControlSolution, request: ControlRequest
    ) -> tuple[tuple[str, ...], str]:
        if sol.diagnosis is not None:
            found = sol.diagnosis.conflicting
        elif self._settings.diagnose_infeasibility and isinstance(
            self._controller, DiagnosingController
        ):
            try:
                found = self._controller.diagnose(request).conflicting
            except Exception as exc:
                return (), f" (diagnosis failed: {type(exc).__name__}: {exc})"
        else:
            return (), ""
        if not found:
            return (), " (no conflicting constraint found)"
        return tuple(found), f" (conflicting constraints: {', '.join(found)})"

    def _build(
        self,
        time_s: float,
        u_now: np.ndarray,
        known: np.ndarray,
        accepted: ControlSolution | None,
        shifted: _Plan | None,
        reason: str,
        status: SolveStatus | None,
        solve_time_s: float,
        infeasible: tuple[str, ...],
        issues: tuple[str, ...],
        plant_mode: str | None,
        baseline: SavingBaseline | None = None,
    ) -> Recommendation:
        cfg = self._settings
        # Unknown MVs are projected from their mid-range only to keep arrays
        # finite; they get no recommendation below.
        u_safe = np.where(known, u_now, 0.5 * (self._lower + self._upper))
        saving: float | None = None
        active: list[str] = []
        plan: _Plan | None
        if accepted is not None:
            level = FallbackLevel.NONE
            safe = project_plan(u_safe, accepted.mv_plan, self._lower, self._upper, self._rate)
            cv = np.asarray(accepted.cv_predicted, dtype=float)
            plan = _Plan(time_s, safe, tuple(accepted.cv_names), cv)
            self._plan = plan
            if baseline is not None:
                # Operators change nothing: their setpoints held, balancing MVs re-optimised.
                comparable = baseline.comparable
                saving = baseline.objective - accepted.objective if comparable else None
            else:
                hold = accepted.objective_hold
                saving = hold - accepted.objective if math.isfinite(hold) else None
            active += list(accepted.active_constraints)
            source = "controller plan"
        elif shifted is not None and np.isfinite(shifted.mv_plan).all():
            level = FallbackLevel.SHIFTED_PLAN
            safe = project_plan(u_safe, shifted.mv_plan, self._lower, self._upper, self._rate)
            plan = _Plan(time_s, safe, shifted.cv_names, shifted.cv)
            source = "shifted previous plan"
        else:
            level = FallbackLevel.HOLD
            plan = None
            saving = 0.0
            source = "hold current setpoints"
        if level is not FallbackLevel.NONE and not reason:
            reason = "controller not called"
        target = plan.mv_plan[0] if plan is not None else u_safe
        setpoints, limits = safe_setpoints(u_safe, target, self._lower, self._upper, self._rate)
        advise = self._mode is AdvisorMode.ADVISE
        mvs = []
        for i, mv in enumerate(cfg.mvs):
            if not known[i]:
                mvs.append(MVRecommendation(
                    mv.name, None, None, MoveLimitation.NONE,
                    "current value unknown: no recommendation, leave the MV as it is",
                ))  # fmt: skip
                continue
            sp = float(setpoints[i])
            text = _describe(mv.name, float(u_now[i]), sp, limits[i], mv.rate_per_interval, source)
            if level is not FallbackLevel.NONE:
                text += f"; fallback because {reason}"
            if not advise:
                text = f"mode PREDICT, not advised: {text}"
            mvs.append(MVRecommendation(
                mv.name, float(u_now[i]), sp if advise else None, limits[i], text
            ))  # fmt: skip
            if limits[i] is MoveLimitation.LOWER or (advise and sp == mv.lower):
                active.append(f"{mv.name}.lower")
            if limits[i] is MoveLimitation.UPPER or (advise and sp == mv.upper):
                active.append(f"{mv.name}.upper")
            if limits[i] in (MoveLimitation.RATE, MoveLimitation.RECOVERING):
                active.append(f"{mv.name}.rate")
        prediction = None
        if plan is not None:
            n = plan.mv_plan.shape[0]
            prediction = Prediction(
                time_s=time_s + cfg.interval_s * np.arange(n + 1),
                mv_names=cfg.mv_names,
                mv_plan=plan.mv_plan.copy(),
                cv_names=plan.cv_names,
                cv=plan.cv.copy(),
            )
        return Recommendation(
            time_s=time_s,
            mode=self._mode,
            mvs=tuple(mvs),
            prediction=prediction,
            expected_saving=saving,
            active_constraints=tuple(dict.fromkeys(active)),
            fallback=level,
            fallback_reason="" if level is FallbackLevel.NONE else reason,
            solve_status=status,
            solve_time_s=solve_time_s,
            infeasible_constraints=infeasible,
            measurement_issues=issues,
            plant_mode=plant_mode,
            baseline=baseline if accepted is not None else None,
        )


def _describe(
    name: str, current: float, setpoint: float, limit: MoveLimitation, rate: float, source: str
) -> str:
    """One sentence on a recommended move."""
    if setpoint > current:
        verb = f"raise {name} from {current:.6g} to {setpoint:.6g}"
    elif setpoint < current:
        verb = f"lower {name} from {current:.6g} to {setpoint:.6g}"
    else:
        verb = f"hold {name} at {current:.6g}"
    notes = {
        MoveLimitation.NONE: "",
        MoveLimitation.LOWER: "; limited by its lower limit",
        MoveLimitation.UPPER: "; limited by its upper limit",
        MoveLimitation.RATE: f"; limited by its rate limit {rate:.6g} per interval",
        MoveLimitation.RECOVERING: (
            f"; the current value is outside the limits: full rate step {rate:.6g} toward them"
        ),
    }
    return f"{verb} ({source}){notes[limit]}"
