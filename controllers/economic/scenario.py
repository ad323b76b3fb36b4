"""Scenario-based (multi-stage) economic MPC: one first move that is safe for every scenario.

:class:`ScenarioEconomicMPC` solves the multi-stage NLP of
:mod:`controllers.economic.scenario_formulation` (Lucia, Finkler and Engell
2013, J. Process Control 23:1306, the design do-mpc implements): ``S``
disturbance scenarios from the forecaster's prediction intervals
(:func:`~controllers.economic.scenario_horizon.scenarios_from_forecasts`),
one copy of the states per scenario, the MVs of the first ``robust_horizon``
intervals shared (non-anticipativity), the probability-weighted sum of the
scenario objectives minimised, bands and hard limits in every scenario.  The
plant layout (MV indices, scales, discretisation, selected variables) is the
nominal :class:`~controllers.economic.mpc.EconomicMPC`'s, taken from a
one-interval instance so that both controllers see the same equations.

The NLP is built once for ``S`` scenarios; the scenarios' disturbances and
probabilities, the price, the state and the MVs in force are parameters of
each solve, warm-started from the shifted previous solution.  Every solve's
ipopt return status is checked; a hard limit that some scenario cannot keep
gives a ``SUBOPTIMAL`` plan naming the limit and the scenario.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from controllers.advisor.contract import ControlRequest, ControlSolution, SolveStatus
from controllers.economic.limits import project_plan
from controllers.economic.mpc import EconomicMPC
from controllers.economic.outputs import OutputBounds, output_bounds
from controllers.economic.results import (
    _STATUS,
    _VIOLATION_TOL,
    PlanEvaluation,
    active_constraints,
    reject_request,
)
from controllers.economic.scenario_formulation import (
    BLOCKS_PER_SCENARIO,
    build_scenario_formulation,
    solve_bounds,
    split_blocks,
)
from controllers.economic.scenario_horizon import ScenarioHorizon, ScenarioSource
from controllers.economic.scenario_results import ScenarioPlan, ScenarioSimulator
from controllers.economic.settings import EconomicMPCSettings
from controllers.errors import EconomicMPCError
from plant_models.core.equations import EquationModel

__all__ = ["ScenarioEconomicMPC", "ScenarioPlan"]

#: Hard-limit excursion (scaled) below which holding the MVs counts as feasible,
#: as in the nominal MPC.
_HOLD_TOL = 1e-6


@dataclass(frozen=True, eq=False)
class _Step:
    """Validated inputs of one solve: state, MVs in force, non-MV inputs, limits [SI]."""

    x: np.ndarray
    mv: np.ndarray
    u_base: np.ndarray
    scenarios: ScenarioHorizon
    low: np.ndarray
    high: np.ndarray
    rate: np.ndarray
    outputs: OutputBounds


class ScenarioEconomicMPC:
    """Multi-stage economic MPC (see the module docstring); implements ``Controller``.

    Parameters
    ----------
    model : EquationModel
        The composed plant model.
    parameters : array_like
        Plant parameter vector ``p``. [SI]
    settings : EconomicMPCSettings
        As for :class:`~controllers.economic.mpc.EconomicMPC`.
    n_scenarios : int
        Number of scenarios ``S`` the NLP is built for.
    robust_horizon : int
        Intervals whose MVs all scenarios share, ``1 <= R <= settings.horizon``
        (1: only the move applied now; ``N``: one open-loop plan for all).
    forecast : callable or None
        ``forecast(time_s) -> ScenarioHorizon`` used by :meth:`solve`.
    reference : tuple of array_like or None
        ``(x, u, d)`` for the RK4 sub-step choice (see ``EconomicMPC``).

    Raises
    ------
    EconomicMPCError
        For ``n_scenarios < 1``, a robust horizon outside ``1..N``, settings
        with on/off groups or move blocks, or what ``EconomicMPC`` rejects
        (unknown names, parameters of the wrong length).
    """

    def __init__(
        self,
        model: EquationModel,
        parameters: npt.ArrayLike,
        settings: EconomicMPCSettings,
        *,
        n_scenarios: int,
        robust_horizon: int = 1,
        forecast: ScenarioSource | None = None,
        reference: tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike] | None = None,
    ) -> None:
        if isinstance(n_scenarios, bool) or not isinstance(n_scenarios, int) or n_scenarios < 1:
            raise EconomicMPCError(f"n_scenarios must be a positive integer, got {n_scenarios!r}")
        if not 1 <= robust_horizon <= settings.horizon:
            raise EconomicMPCError(
                f"robust_horizon must be in 1..{settings.horizon}, got {robust_horizon}"
            )
        if getattr(settings, "on_off_groups", ()):
            raise EconomicMPCError(
                "the scenario MPC has no on/off (commitment) decisions: remove on_off_groups "
                "or fix the commitment in the MV limits"
            )
        if settings.move_blocks:
            raise EconomicMPCError(
                "the scenario MPC has no move blocking: remove move_blocks from the settings"
            )
        if settings.grid:
            raise EconomicMPCError(
                "the scenario MPC plans every interval at the control interval: remove grid "
                "from the settings"
            )
        # The nominal MPC over one interval builds the plant layout cheaply; the
        # layout does not depend on the horizon, so it is reused with ours.
        probe = EconomicMPC(
            model,
            parameters,
            dataclasses.replace(settings, horizon=1, warm_start=False),
            reference=reference,
        )
        self.model = model
        self.settings = settings
        self.forecast = forecast
        self.n_scenarios = n_scenarios
        self.robust_horizon = robust_horizon
        self.cv_names = probe.cv_names
        self.substeps = probe.substeps
        self._p = np.asarray(parameters, dtype=float)
        self._n = model.sizes
        self._layout = dataclasses.replace(probe._layout, settings=settings)
        self._mv_high = np.array([mv.high for mv in settings.mvs])
        self._mv_rate = np.array([mv.rate for mv in settings.mvs])
        self._nlp = build_scenario_formulation(self._layout, n_scenarios, robust_horizon)
        self._sim = ScenarioSimulator(self._layout, self._nlp, self._p)
        self._last_z: np.ndarray | None = None
        self._last_lam: tuple[np.ndarray, np.ndarray] | None = None
        self.last_stats: dict[str, object] = {}

    @property
    def mv_names(self) -> tuple[str, ...]:
        """Names of the manipulated variables, in plan column order."""
        return tuple(mv.name for mv in self.settings.mvs)

    # ------------------------------------------------------------ evaluation

    def _check(
        self, x0: npt.ArrayLike, mv_prev: npt.ArrayLike, scenarios: ScenarioHorizon
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Validated ``x0``, ``mv_prev`` and ``u_base``."""
        N, n = self.settings.horizon, self._n
        if not isinstance(scenarios, ScenarioHorizon):
            raise EconomicMPCError(
                f"scenarios must be a ScenarioHorizon, got {type(scenarios).__name__}"
            )
        shape = (self.n_scenarios, N, n["d"])
        if scenarios.d.shape != shape:
            raise EconomicMPCError(f"scenario d must have shape {shape}, got {scenarios.d.shape}")
        x = np.asarray(x0, dtype=float)
        mv = np.asarray(mv_prev, dtype=float)
        u_base = np.zeros(n["u"]) if scenarios.u_base is None else scenarios.u_base
        for label, arr, want in (
            ("x0", x, (n["x"],)),
            ("mv_prev", mv, (len(self.settings.mvs),)),
            ("u_base", u_base, (n["u"],)),
        ):
            if arr.shape != want:
                raise EconomicMPCError(f"{label} must have shape {want}, got {arr.shape}")
            if not np.isfinite(arr).all():
                raise EconomicMPCError(f"{label} must be finite")
        return x, mv, u_base

    def evaluate(
        self,
        x0: npt.ArrayLike,
        mv_plan: npt.ArrayLike,
        mv_prev: npt.ArrayLike,
        scenarios: ScenarioHorizon,
    ) -> tuple[PlanEvaluation, ...]:
        """Simulate MV plans in their scenarios and evaluate the nominal objective on each.

        Parameters
        ----------
        x0 : array_like
            Initial state, shape ``(n_x,)``. [SI]
        mv_plan : array_like
            One plan for all scenarios, shape ``(N, n_mv)``, or one per
            scenario, ``(S, N, n_mv)``. [SI]
        mv_prev : array_like
            MVs in force before the horizon, shape ``(n_mv,)``. [SI]
        scenarios : ScenarioHorizon
            Scenario disturbances, price and non-MV inputs.

        Returns
        -------
        tuple of PlanEvaluation
            One per scenario (objective including its hard-limit penalty).
        """
        x, mv, u_base = self._check(x0, mv_prev, scenarios)
        N, n_mv, S = self.settings.horizon, len(self.settings.mvs), self.n_scenarios
        plans = np.asarray(mv_plan, dtype=float)
        if plans.shape == (N, n_mv):
            plans = np.repeat(plans[None], S, axis=0)
        if plans.shape != (S, N, n_mv):
            raise EconomicMPCError(
                f"mv_plan must have shape ({N}, {n_mv}) or ({S}, {N}, {n_mv}), got {plans.shape}"
            )
        ob = self._output_bounds(scenarios)
        return tuple(
            self._sim.evaluate(x, mv, plans[j], scenarios.d[j], scenarios.price_per_j, u_base, ob)
            for j in range(S)
        )

    def _output_bounds(self, scenarios: ScenarioHorizon) -> OutputBounds:
        """Bands and hard limits in force (the settings' tightened by ``scenarios``)."""
        return output_bounds(
            self.settings,
            band_low=scenarios.band_low,
            band_high=scenarios.band_high,
            limit_low=scenarios.limit_low,
            limit_high=scenarios.limit_high,
        )

    # ------------------------------------------------------------ solving

    def plan_scenarios(
        self,
        x0: npt.ArrayLike,
        mv_prev: npt.ArrayLike,
        scenarios: ScenarioHorizon,
        *,
        mv_lower: npt.ArrayLike | None = None,
        mv_upper: npt.ArrayLike | None = None,
        mv_rate: npt.ArrayLike | None = None,
        mv_guess: npt.ArrayLike | None = None,
    ) -> ScenarioPlan:
        """Solve the multi-stage NLP from state ``x0``; never raises for a failed solve.

        Parameters
        ----------
        x0 : array_like
            Current plant state, shape ``(n_x,)``. [SI]
        mv_prev : array_like
            MVs in force now, shape ``(n_mv,)``. [SI]
        scenarios : ScenarioHorizon
            ``S`` disturbance scenarios with their probabilities, the price
            and the non-MV inputs.
        mv_lower, mv_upper, mv_rate : array_like or None
            Per-solve MV limits and rate limits, intersected with the settings'. [SI]
        mv_guess : array_like or None
            Initial plan guess, shape ``(k, n_mv)``, for every scenario
            (cold start); default the shifted previous solution, else holding.

        Returns
        -------
        ScenarioPlan
            Every scenario's plan; ``solution`` with the status mapped from
            ipopt's return status (``SUBOPTIMAL`` when a scenario cannot keep
            a hard limit) and an empty plan when the solve is not usable.

        Raises
        ------
        EconomicMPCError
            For arrays of the wrong shape or non-finite inputs.
        """
        start = time.perf_counter()
        x, mv, u_base = self._check(x0, mv_prev, scenarios)
        low, high, rate = self._limits(mv_lower, mv_upper, mv_rate)
        if np.any(low > high):
            return self._failed(
                scenarios, SolveStatus.INFEASIBLE, start, "MV lower limit above upper limit"
            )
        step = _Step(x, mv, u_base, scenarios, low, high, rate, self._output_bounds(scenarios))
        nlp, w = self._nlp, scenarios.weights
        p_val = np.concatenate(
            [x, mv, u_base, *(d.ravel() for d in scenarios.d), scenarios.price_per_j, self._p, w]
        )
        args = {"p": p_val, **solve_bounds(nlp, self._layout, low, high, rate, step.outputs)}
        no_guess = mv_guess is None or not np.asarray(mv_guess).size
        solve_start = time.perf_counter()
        try:
            if (
                no_guess
                and nlp.solver_warm is not None
                and self._last_z is not None
                and self._last_lam is not None
            ):
                z0, lam_x0, lam_g0 = self._sim.shifted_start(self._last_z, self._last_lam, w)
                solver = nlp.solver_warm
                result = solver(x0=z0, lam_x0=lam_x0, lam_g0=lam_g0, **args)
                if not _STATUS.get(str(solver.stats()["return_status"]), SolveStatus.FAILED).usable:
                    solver = nlp.solver  # a warm start gone astray: solve cold once
                    result = solver(x0=self._cold_start(step, None), **args)
            else:
                solver = nlp.solver
                result = solver(x0=self._cold_start(step, mv_guess), **args)
            stats = solver.stats()
        except RuntimeError as exc:  # a NaN/inf evaluation inside casadi
            return self._failed(scenarios, SolveStatus.FAILED, start, f"solver error: {exc}")
        return_status = str(stats.get("return_status", "unknown"))
        status = _STATUS.get(return_status, SolveStatus.FAILED)
        iters = int(stats.get("iter_count", -1))
        # casadi reports no total time when print_time is off: measured here.
        wall = time.perf_counter() - solve_start
        self.last_stats = {
            "return_status": return_status,
            "iterations": iters,
            "ipopt_wall_s": wall,
        }
        message = (
            f"{return_status} ({iters} iterations, ipopt {wall:.3f} s, "
            f"{self.n_scenarios} scenarios)"
        )
        z = np.asarray(result["x"], dtype=float).ravel()
        if not status.usable or not np.isfinite(z).all():
            self._last_z = self._last_lam = None
            bad = status if not status.usable else SolveStatus.FAILED
            return self._failed(scenarios, bad, start, message)
        self._last_z = z
        self._last_lam = (
            np.asarray(result["lam_x"], dtype=float).ravel(),
            np.asarray(result["lam_g"], dtype=float).ravel(),
        )
        return self._package(z, step, status, message, start)

    def _limits(
        self,
        mv_lower: npt.ArrayLike | None,
        mv_upper: npt.ArrayLike | None,
        mv_rate: npt.ArrayLike | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """MV limits and rate limits of a solve: the settings' intersected with the request's."""
        out = []
        for value, base, combine in (
            (mv_lower, self._layout.mv_low, np.maximum),
            (mv_upper, self._mv_high, np.minimum),
            (mv_rate, self._mv_rate, np.minimum),
        ):
            arr = base if value is None else combine(base, np.asarray(value, dtype=float))
            if arr.shape != base.shape:
                raise EconomicMPCError(f"MV limits must have shape {base.shape}, got {arr.shape}")
            out.append(arr)
        return out[0], out[1], out[2]

    def _cold_start(self, step: _Step, mv_guess: npt.ArrayLike | None) -> np.ndarray:
        """Initial ``z`` from a plan guess (padded with its last row), else holding the MVs."""
        N = self.settings.horizon
        if mv_guess is not None and np.asarray(mv_guess).size:
            g = np.atleast_2d(np.asarray(mv_guess, dtype=float))
            plan = np.vstack([g, np.repeat(g[-1:], max(N - g.shape[0], 0), axis=0)])[:N]
        else:
            plan = np.tile(step.mv, (N, 1))
        plan = np.clip(np.where(np.isfinite(plan), plan, step.mv), step.low, step.high)
        return self._sim.initial_guess(step.x, step.u_base, step.scenarios, plan, step.outputs)

    def _package(
        self, z: np.ndarray, step: _Step, status: SolveStatus, message: str, start: float
    ) -> ScenarioPlan:
        """Per-scenario plans, evaluations and the advisor's solution from a usable ``z``."""
        s, N, lay, sim = self.settings, self.settings.horizon, self._layout, self._sim
        x, mv, u_base, scen = step.x, step.mv, step.u_base, step.scenarios
        blocks = split_blocks(z, self._nlp.z_blocks)
        cv_idx = [lay.vi(c) for c in self.cv_names]
        plans: list[np.ndarray] = []
        cvs: list[np.ndarray] = []
        objectives: list[float] = []
        costs: list[float] = []
        active: list[str] = []
        violated: list[tuple[str, str]] = []
        for j, label in enumerate(scen.labels):
            own = blocks[1 + BLOCKS_PER_SCENARIO * j : 1 + BLOCKS_PER_SCENARIO * (j + 1)]
            plan_s = np.vstack([blocks[0], own[0]])
            per_interval = [
                np.broadcast_to(a, (N, a.size)) for a in (step.low, step.high, step.rate)
            ]
            plan = project_plan(plan_s * lay.mv_span + lay.mv_low, mv, *per_interval)
            p_single = sim.pvec(x, mv, u_base, scen.d[j], scen.price_per_j)
            obj, cost = sim.objective_at(plan_s, own, p_single)
            objectives.append(obj)
            costs.append(cost)
            ev = sim.evaluate(x, mv, plan, scen.d[j], scen.price_per_j, u_base, step.outputs)
            v0 = sim.values_now(x, mv, u_base, scen.d[j][0])
            plans.append(plan)
            cvs.append(np.vstack([v0[cv_idx], ev.values[:, cv_idx]]))
            slacks = lay.slacks_to_var_scale(np.maximum(own[2].T, 0.0), np.maximum(own[3].T, 0.0))
            active += active_constraints(
                s,
                list(lay.var_names),
                lay.var_scale,
                lay.mv_span,
                plan,
                mv,
                step.low,
                step.high,
                step.rate,
                ev.values,
                slacks,
                step.outputs,
            )
            violated += [
                (label, h.variable)
                for k, h in enumerate(s.hard_limits)
                if np.max(slacks[1][k], initial=0.0) > _VIOLATION_TOL
            ]
        if violated:
            if status is SolveStatus.OPTIMAL:
                status = SolveStatus.SUBOPTIMAL
            message += "; hard limits not kept: " + ", ".join(
                f"{var} (scenario {label})" for label, var in violated
            )
        w = scen.weights
        holds = self.evaluate(x, np.tile(mv, (N, 1)), mv, scen)
        hold_ok = all(h.hard_violation <= _HOLD_TOL for h in holds) and bool(
            np.all(mv >= step.low) and np.all(mv <= step.high)
        )
        hold = float(w @ np.array([h.objective for h in holds])) if hold_ok else math.inf
        reported = int(np.argmax(w))
        solution = ControlSolution(
            status=status,
            mv_plan=plans[reported],
            cv_names=self.cv_names,
            cv_predicted=cvs[reported],
            objective=float(w @ np.array(objectives)),
            objective_hold=hold,
            active_constraints=tuple(dict.fromkeys(active)),
            solve_time_s=time.perf_counter() - start,
            message=message,
        )
        return ScenarioPlan(
            solution=solution,
            labels=scen.labels,
            weights=w.copy(),
            mv_plans=np.array(plans),
            cv_predicted=np.array(cvs),
            objectives=np.array(objectives),
            costs=np.array(costs),
            reported=reported,
            violated=tuple(violated),
        )

    def _failed(
        self, scen: ScenarioHorizon, status: SolveStatus, start: float, message: str
    ) -> ScenarioPlan:
        """A plan-less result for a solve that is not usable."""
        n_mv, S = len(self.settings.mvs), self.n_scenarios
        solution = ControlSolution(
            status, np.zeros((0, n_mv)), solve_time_s=time.perf_counter() - start, message=message
        )
        return ScenarioPlan(
            solution=solution,
            labels=scen.labels,
            weights=scen.weights.copy(),
            mv_plans=np.zeros((S, 0, n_mv)),
            cv_predicted=np.zeros((S, 0, len(self.cv_names))),
            objectives=np.full(S, math.nan),
            costs=np.full(S, math.nan),
            reported=int(np.argmax(scen.weights)),
        )

    def plan(
        self,
        x0: npt.ArrayLike,
        mv_prev: npt.ArrayLike,
        scenarios: ScenarioHorizon,
        *,
        mv_lower: npt.ArrayLike | None = None,
        mv_upper: npt.ArrayLike | None = None,
        mv_rate: npt.ArrayLike | None = None,
        mv_guess: npt.ArrayLike | None = None,
    ) -> ControlSolution:
        """Solve and return the advisor's solution only (see :meth:`plan_scenarios`).

        Parameters
        ----------
        x0, mv_prev, scenarios, mv_lower, mv_upper, mv_rate, mv_guess
            As for :meth:`plan_scenarios`.

        Returns
        -------
        ControlSolution
            The most probable scenario's plan and CVs, the expected objectives.
        """
        return self.plan_scenarios(
            x0,
            mv_prev,
            scenarios,
            mv_lower=mv_lower,
            mv_upper=mv_upper,
            mv_rate=mv_rate,
            mv_guess=mv_guess,
        ).solution

    def solve(self, request: ControlRequest) -> ControlSolution:
        """Solve for an advisor request: ``measurements`` is the plant state.

        The scenarios come from the ``forecast`` given at construction, asked
        at ``request.time_s``.

        Parameters
        ----------
        request : ControlRequest
            State in ``measurements``, MVs in force, per-request MV limits.

        Returns
        -------
        ControlSolution
            ``FAILED`` without solving if the state is invalid, no forecast
            source was given or the forecast is malformed.
        """
        n_mv = len(self.settings.mvs)
        x0 = np.asarray(request.measurements, dtype=float)
        source = self.forecast
        rejected = reject_request(request, self._n["x"], n_mv, source is not None)
        if rejected is not None or source is None:
            return rejected or ControlSolution(SolveStatus.FAILED, np.zeros((0, n_mv)))
        try:
            return self.plan(
                x0,
                request.mv_current,
                source(request.time_s),
                mv_lower=request.mv_lower,
                mv_upper=request.mv_upper,
                mv_rate=request.mv_rate,
                mv_guess=request.previous_plan,
            )
        except EconomicMPCError as exc:
            return ControlSolution(SolveStatus.FAILED, np.zeros((0, n_mv)), message=str(exc))
