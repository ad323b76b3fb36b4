"""Rolling-horizon economic MPC for a composed plant, on casadi and ipopt.

:class:`EconomicMPC` builds its NLP once (:mod:`controllers.economic.formulation`)
over ``N`` intervals with the inputs held in each
(:mod:`controllers.economic.discretise`).  By default it is a direct
collocation: the states at the ``s`` Radau IIA points of every interval are
NLP variables tied by the collocation equations.  Radau IIA is L-stable, so
the steelworks' 5-20 s lags (pressure-reducing stations, turbines) relax to
their quasi-steady values inside a 15-min interval with 2 stages, where
explicit RK4 needed 72 sub-steps.  ``discretisation="rk4"`` keeps multiple
shooting with ``x_{k+1} = F(x_k, u_k, d_k, p)`` integrated by RK4.  The
graph is expanded to ``SX`` for ipopt (``expand=True``).  Initial state, previous MVs, the
non-MV inputs, the disturbances, the electricity price and the plant
parameters are NLP parameters, so each step only re-solves it, warm-started
from the shifted previous solution.

The objective sums energy, fuel, flare and emission costs, normal-band
penalties and move suppression (see :mod:`controllers.economic.formulation`).
MV limits and rate limits are constraints.  Hard limits on outputs/states are
exact-penalty soft constraints (``W = settings.hard_limit_weight`` above every
economic term): the NLP is always feasible, and a plan that cannot keep a
limit comes back ``SUBOPTIMAL`` with ``<variable>.low_violated`` (or
``.high_violated``) in its active constraints.  The objective handed to ipopt
is multiplied by ``settings.objective_scale``.
Decision variables are scaled by the plant's envelopes and the MV spans.
"""

from __future__ import annotations

import math
import time
from typing import Any

import casadi as ca
import numpy as np
import numpy.typing as npt

from controllers.advisor.contract import ControlRequest, ControlSolution, SolveStatus
from controllers.economic import evaluation, nlp_start
from controllers.economic.blocking import blocked_limits, mv_blocks
from controllers.economic.commitment_plan import (
    CommitmentReport,
    NLPBounds,
    NLPResult,
    StepInputs,
    measure_limits,
    measure_scales,
    plan_with_commitment,
)
from controllers.economic.discretise import (
    interval_function,
    radau_collocation,
    stable_substeps,
)
from controllers.economic.formulation import ProblemLayout, build_formulation
from controllers.economic.grid import HorizonGrid
from controllers.economic.horizon import ForecastSource, HorizonInputs
from controllers.economic.limits import project_plan, rate_limit_names, shift_blocks
from controllers.economic.outputs import OutputBounds, output_bounds
from controllers.economic.results import (
    _STATUS,
    _VIOLATION_TOL,
    PlanEvaluation,
    active_constraints,
    objective_at,
    output_slacks,
    reject_request,
    solution_slacks,
)
from controllers.economic.settings import EconomicMPCSettings
from controllers.errors import EconomicMPCError
from plant_models.core.equations import EquationModel, to_casadi

__all__ = ["EconomicMPC", "PlanEvaluation"]

#: Hard-limit excursion (in units of the variable's scale) up to which a plan
#: simulated from an iterate at ipopt's iteration limit counts as keeping the
#: limits (as holding does within round-off).
_LIMIT_KEPT_TOL = 1e-6


class EconomicMPC:
    """Economic MPC (see the module docstring); implements the advisor's ``Controller``.

    Parameters
    ----------
    model : EquationModel
        The composed plant model.
    parameters : array_like
        Plant parameter vector ``p`` (nominal or calibrated). [SI]
    settings : EconomicMPCSettings
        MVs, costs, bands, limits, horizon and interval.
    forecast : callable or None
        ``forecast(time_s) -> HorizonInputs`` used by :meth:`solve`; a
        :class:`~controllers.economic.horizon.RecordedHorizon` of the true
        disturbances gives the perfect-foresight controller.
    reference : tuple of array_like or None
        ``(x, u, d)`` at which the RK4 sub-steps are chosen when
        ``settings.substeps`` is ``None`` (default: envelope midpoints).

    Raises
    ------
    EconomicMPCError
        For an unknown variable name or a parameter vector of the wrong length.
    """

    def __init__(
        self,
        model: EquationModel,
        parameters: npt.ArrayLike,
        settings: EconomicMPCSettings,
        *,
        forecast: ForecastSource | None = None,
        reference: tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike] | None = None,
    ) -> None:
        self.model = model
        self.settings = settings
        self.forecast = forecast
        n = model.sizes
        self._n = n
        self._p = np.asarray(parameters, dtype=float)
        if self._p.shape != (n["p"],):
            raise EconomicMPCError(f"parameters must have shape ({n['p']},), got {self._p.shape}")
        s = settings
        u_names = [v.name for v in model.inputs]
        self._mv_index = []
        for mv in s.mvs:
            if mv.name not in u_names:
                raise EconomicMPCError(f"MV {mv.name!r} is not an input of plant {model.name}")
            self._mv_index.append(u_names.index(mv.name))
        self._mv_low = np.array([mv.low for mv in s.mvs])
        self._mv_high = np.array([mv.high for mv in s.mvs])
        self._mv_rate = np.array([mv.rate for mv in s.mvs])
        self._mv_span = np.maximum(self._mv_high - self._mv_low, 1e-9)
        cv_default = [b.variable for b in s.soft_bands] + [h.variable for h in s.hard_limits]
        self.cv_names = tuple(s.cv_names) if s.cv_names else tuple(dict.fromkeys(cv_default))
        # On/off groups with a measure get an exact-penalty hard-limit row each,
        # unbounded unless a commitment sets it (appended after the user's limits).
        nlp_settings = measure_limits(s)
        names = list(
            dict.fromkeys(
                ([s.electricity_variable] if s.electricity_variable else [])
                + [c.variable for c in s.cost_terms]
                + [b.variable for b in s.soft_bands]
                + [h.variable for h in nlp_settings.hard_limits]
                + list(s.balances)
                + list(self.cv_names)
            )
        )
        self._vnames = names
        self._vscale = np.array([self._scale_of(name) for name in names])
        for name, scale in measure_scales(s).items():
            self._vscale[names.index(name)] = scale
        n_b, n_h = len(s.soft_bands), len(s.hard_limits)
        # Row blocks of formulation.build_formulation: dynamics, moves (rate_slot),
        # two per band, two per hard limit (low, high), balances.
        first_hard = 2 + 2 * n_b
        self._measure_slots = [
            first_hard + 2 * j for j in range(n_h, len(nlp_settings.hard_limits))
        ]
        self._oracles: tuple[ca.Function, ca.Function] | None = None
        self.last_commitment: CommitmentReport | None = None
        self._last_on: np.ndarray | None = None
        cm = to_casadi(model)
        self.substeps = 1
        self._colloc = None
        x_low, x_high = model.bounds("x")
        big = np.maximum(np.abs(x_low), np.abs(x_high))
        self._xscale = np.where(np.isfinite(big) & (big > 0.0), big, 1.0)
        if s.discretisation == "radau" and model.dt_s is None:
            self._colloc = radau_collocation(
                cm, s.interval_s, s.collocation_degree, self._xscale.copy()
            )
            self._F = self._colloc.step
            self._n_nodes = s.collocation_degree
        elif s.substeps is None:
            x_ref, u_ref, d_ref = (
                [np.asarray(a, float) for a in reference]
                if reference is not None
                else [self._midpoint(k) for k in ("x", "u", "d")]
            )
            self.substeps = stable_substeps(cm, s.interval_s, x_ref, u_ref, d_ref, self._p)
        else:
            self.substeps = s.substeps
        if self._colloc is None:
            self._F = interval_function(cm, s.interval_s, self.substeps)
            self._n_nodes = 1
        self._sel = self._selector(cm)
        coarse: dict[int, tuple[ca.Function, Any]] = {}
        for m in sorted(set(s.grid) - {1}):
            if self._colloc is not None:
                colloc = radau_collocation(
                    cm, m * s.interval_s, s.collocation_degree, self._xscale.copy()
                )
                coarse[m] = (colloc.step, colloc)
            else:
                coarse[m] = (interval_function(cm, m * s.interval_s, m * self.substeps), None)
        self._layout = ProblemLayout(
            settings=nlp_settings,
            sizes=n,
            mv_index=tuple(self._mv_index),
            mv_low=self._mv_low,
            mv_span=self._mv_span,
            var_names=tuple(self._vnames),
            var_scale=self._vscale,
            x_scale=self._xscale,
            n_nodes=self._n_nodes,
            step=self._F,
            collocation=self._colloc,
            selector=self._sel,
            coarse=coarse,
        )
        self._nlp = build_formulation(self._layout)
        self._grid = HorizonGrid(tuple(s.grid)) if s.grid else None
        self._grid_rollout_cache: list[tuple[int, int, ca.Function]] | None = None
        if self._nlp.rate_slot != 1:
            raise EconomicMPCError("unexpected row layout of the economic NLP")
        self._block = mv_blocks(s.move_blocks, s.horizon, self.mv_names, s.move_blocks_exempt)
        self._nz = self._nlp.n_z
        self._rollout = self._nlp.rollout
        self._last_z: np.ndarray | None = None
        self._last_lam: tuple[np.ndarray, np.ndarray] | None = None
        # The plan last returned: a guess equal to its shifted tail is the caller
        # handing back this controller's own plan (see _own_shifted_plan).
        self._last_plan: np.ndarray | None = None
        #: The last NLP solve: ipopt return status, iterations, ipopt wall time,
        #: whether it was warm-started and whether a failed warm start was re-solved cold.
        self.last_stats: dict[str, Any] = {}

    # ------------------------------------------------------------ structure

    def _midpoint(self, kind: str) -> np.ndarray:
        low, high = self.model.bounds(kind)
        mid = 0.5 * (low + high)
        return np.where(np.isfinite(mid), mid, 0.0)

    def _scale_of(self, name: str) -> float:
        for kind in ("y", "x"):
            for v in self.model.variables(kind):
                if v.name == name:
                    big = max(abs(v.low), abs(v.high))
                    return big if math.isfinite(big) and big > 0.0 else 1.0
        raise EconomicMPCError(f"plant {self.model.name} has no output or state {name!r}")

    def _selector(self, cm: Any) -> ca.Function:
        sizes = self._n
        x, u, d, p = (ca.SX.sym(k, sizes[k]) for k in ("x", "u", "d", "p"))
        y = cm.g(x, u, d, p)
        y_names = [v.name for v in self.model.outputs]
        x_names = [v.name for v in self.model.states]
        parts = [
            y[y_names.index(nm)] if nm in y_names else x[x_names.index(nm)] for nm in self._vnames
        ]
        out = ca.vertcat(*parts) if parts else ca.SX(0, 1)
        return ca.Function("selected", [x, u, d, p], [out], ["x", "u", "d", "p"], ["v"])

    def _vi(self, name: str) -> int:
        return self._vnames.index(name)

    # ------------------------------------------------------------ public API

    def reset(self) -> None:
        """Forget the previous solution: the next solve starts cold (a new run)."""
        self._last_z = None
        self._last_lam = None
        self._last_plan = None

    def _own_shifted_plan(self, mv_guess: npt.ArrayLike | None) -> bool:
        """Whether ``mv_guess`` is the tail of the plan this controller last returned.

        A closed loop (:class:`energyopt.closedloop.ControllerPolicy`) or the
        advisor hands the previous plan, shifted by one interval, back as
        ``previous_plan``.  That guess is the warm start's own primal start,
        so the solve keeps the warm start (shifted primal *and* multipliers,
        warm barrier) instead of going cold for having been given a guess
        (measured in the demo steelworks replay: every decision was a cold
        solve, 45 ipopt iterations median against 17 warm in the rolling
        benchmark).
        """
        last = self._last_plan
        if mv_guess is None or last is None or self._last_lam is None:
            return False
        g = np.asarray(mv_guess, dtype=float)
        if g.ndim != 2 or not 1 <= g.shape[0] <= last.shape[0] - 1 or g.shape[1] != last.shape[1]:
            return False
        # Round-off of a copy only: anything else is a different guess.
        return bool(np.all(np.abs(g - last[1 : 1 + g.shape[0]]) <= 1e-9 * self._mv_span))

    @property
    def mv_names(self) -> tuple[str, ...]:
        """Names of the manipulated variables, in plan column order."""
        return tuple(mv.name for mv in self.settings.mvs)

    @property
    def variable_names(self) -> tuple[str, ...]:
        """Names of the referenced outputs/states, in ``PlanEvaluation.values`` column order."""
        return tuple(self._vnames)

    def _check_inputs(
        self, x0: npt.ArrayLike, mv_prev: npt.ArrayLike, horizon: HorizonInputs
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        N, n = self.settings.horizon, self._n
        x = np.asarray(x0, dtype=float)
        mv = np.asarray(mv_prev, dtype=float)
        d = np.asarray(horizon.d, dtype=float)
        price = np.asarray(horizon.price_per_j, dtype=float)
        u_base = np.zeros(n["u"]) if horizon.u_base is None else np.asarray(horizon.u_base, float)
        for label, arr, shape in (
            ("x0", x, (n["x"],)),
            ("mv_prev", mv, (len(self.settings.mvs),)),
            ("d", d, (N, n["d"])),
            ("price_per_j", price, (N,)),
            ("u_base", u_base, (n["u"],)),
        ):
            if arr.shape != shape:
                raise EconomicMPCError(f"{label} must have shape {shape}, got {arr.shape}")
            if not np.isfinite(arr).all():
                raise EconomicMPCError(f"{label} must be finite")
        return x, mv, d, price, u_base

    def _output_bounds(self, horizon: HorizonInputs) -> OutputBounds:
        """Bands and hard limits at the interval ends: the settings' tightened by ``horizon``."""
        return output_bounds(
            self.settings,
            band_low=getattr(horizon, "band_low", None),
            band_high=getattr(horizon, "band_high", None),
            limit_low=getattr(horizon, "limit_low", None),
            limit_high=getattr(horizon, "limit_high", None),
        )

    def _pvec(self, x, mv, d, price, u_base) -> np.ndarray:  # type: ignore[no-untyped-def]
        return np.concatenate([x, mv, u_base, d.T.ravel(order="F"), price, self._p])

    def plan(
        self,
        x0: npt.ArrayLike,
        mv_prev: npt.ArrayLike,
        horizon: HorizonInputs,
        *,
        mv_lower: npt.ArrayLike | None = None,
        mv_upper: npt.ArrayLike | None = None,
        mv_rate: npt.ArrayLike | None = None,
        mv_guess: npt.ArrayLike | None = None,
        commitment: npt.ArrayLike | None = None,
        time_in_state: npt.ArrayLike | None = None,
    ) -> ControlSolution:
        """Solve the economic NLP from state ``x0``; never raises for a failed solve.

        With on/off groups in the settings the commitment is decided first
        (see :mod:`controllers.economic.commitment`).

        Parameters
        ----------
        x0 : array_like
            Current plant state, shape ``(n_x,)``. [SI]
        mv_prev : array_like
            MVs in force now (the rate limit applies to the first move),
            shape ``(n_mv,)``. [SI]
        horizon : HorizonInputs
            Disturbance forecast (or the true ones: perfect foresight),
            electricity price, non-MV inputs, and optionally per-interval
            hard limits and bands that tighten the settings' (row bounds of
            the NLP: no rebuild).
        mv_lower, mv_upper, mv_rate : array_like or None
            Per-solve MV limits and rate limits, intersected with the
            settings', shape ``(n_mv,)`` or per interval ``(N, n_mv)``. [SI]
        mv_guess : array_like or None
            Initial guess of the plan, shape ``(k, n_mv)`` (padded with its
            last row); default the shifted previous solution, else holding.
            The tail of the plan this controller last returned (what a
            closed loop or the advisor hands back) counts as no guess: the
            solve stays warm-started.
        commitment : array_like of bool or None
            Imposed on/off state of each on/off group per interval, shape
            ``(N, n_groups)``: the commitment MILP is skipped.
        time_in_state : array_like or None
            Intervals each on/off group has spent in its present state (on
            if any of its MVs in force is above its lower limit), shape
            ``(n_groups,)``; default long enough for any minimum up/down time.

        Returns
        -------
        ControlSolution
            Plan, predicted CVs, plan and hold objectives (the plan's includes
            start-up costs), active constraints (``<group>.off`` and
            ``<group>.min_load`` for on/off groups), status mapped from
            ipopt's return status; ``message`` holds the return status, the
            iteration count and how the commitment was decided.

        Raises
        ------
        EconomicMPCError
            For arrays of the wrong shape or non-finite inputs, or
            per-interval limits and bands that do not tighten the settings'.
        """
        start = time.perf_counter()
        x, mv, d, price, u_base = self._check_inputs(x0, mv_prev, horizon)
        if self._own_shifted_plan(mv_guess):
            mv_guess = None  # the warm start's own guess: keep the warm start
        step = StepInputs(x, mv, d, price, u_base, horizon, self._output_bounds(horizon))
        low, high, rate = self._limits(mv_lower, mv_upper, mv_rate)
        if self.settings.on_off_groups:
            return plan_with_commitment(
                self,
                step,
                NLPBounds.free(low, high, rate, len(self._measure_slots)),
                mv_guess=mv_guess,
                commitment=commitment,
                time_in_state=time_in_state,
                start=start,
            )
        if commitment is not None or time_in_state is not None:
            raise EconomicMPCError(
                "commitment and time_in_state need on/off groups in the settings"
            )
        where = ""
        if self.settings.move_blocks:
            # One value per block: the intersection of its intervals' limits, no move inside.
            low, high, rate = blocked_limits(low, high, rate, self._block)
            where = " inside a move block"
        if np.any(low > high):
            return ControlSolution(
                SolveStatus.INFEASIBLE,
                np.zeros((0, len(self.settings.mvs))),
                message=f"MV lower limit above upper limit{where}",
            )
        bounds = NLPBounds.free(low, high, rate, 0)
        return self._solve_nlp(step, bounds, mv_guess, start).solution

    def _limits(
        self,
        mv_lower: npt.ArrayLike | None,
        mv_upper: npt.ArrayLike | None,
        mv_rate: npt.ArrayLike | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-interval MV limits and rate limits ``(N, n_mv)`` (settings' and per-solve)."""
        N, n_mv = self.settings.horizon, len(self.settings.mvs)
        out = []
        for value, base, combine in (
            (mv_lower, self._mv_low, np.maximum),
            (mv_upper, self._mv_high, np.minimum),
            (mv_rate, self._mv_rate, np.minimum),
        ):
            if value is None:
                out.append(np.tile(base, (N, 1)))
                continue
            arr = np.asarray(value, dtype=float)
            if arr.shape not in ((n_mv,), (N, n_mv)):
                raise EconomicMPCError(
                    f"MV limits must have shape ({n_mv},) or ({N}, {n_mv}), got {arr.shape}"
                )
            out.append(combine(base, np.broadcast_to(arr, (N, n_mv))))
        return out[0], out[1], out[2]

    def _linearise(self, z0: np.ndarray, p_val: np.ndarray) -> tuple[Any, Any, Any]:
        """Objective gradient, row values and row Jacobian of the NLP at ``z0`` (casadi DM)."""
        if self._oracles is None:
            self._oracles = (
                self._nlp.solver.get_function("nlp_grad_f"),
                self._nlp.solver.get_function("nlp_jac_g"),
            )
        grad_f, jac_g = self._oracles
        _, c = grad_f(z0, p_val)
        g0, jac = jac_g(z0, p_val)
        return c, g0, jac

    def _solve_nlp(
        self,
        step: StepInputs,
        bounds: NLPBounds,
        mv_guess: npt.ArrayLike | None,
        start: float,
    ) -> NLPResult:
        """Solve the NLP with given per-interval bounds; the solution, ``z`` and plan values."""
        x, mv, d, price, u_base = step.x, step.mv, step.d, step.price, step.u_base
        s, N = self.settings, self.settings.horizon
        n_mv = len(s.mvs)
        low, high, rate = bounds.low, bounds.high, bounds.rate
        p_val = self._pvec(x, mv, d, price, u_base)
        lbz, ubz = self._bounds_z(bounds)
        lbg, ubg = self._bounds_g(bounds, step.outputs)
        warm = (
            self._nlp.solver_warm is not None
            and self._last_lam is not None
            and (mv_guess is None or not np.asarray(mv_guess).size)
        )
        z0 = self._initial_guess(
            x, mv, d, u_base, low, high, mv_guess, shifted_states=warm, outputs=step.outputs
        )
        args = {"x0": z0, "p": p_val, "lbx": lbz, "ubx": ubz, "lbg": lbg, "ubg": ubg}
        solve_start = time.perf_counter()
        retried = False
        try:
            if warm and self._last_lam is not None and self._nlp.solver_warm is not None:
                lam_x, lam_g = self._last_lam
                solver = self._nlp.solver_warm
                result = solver(
                    **args,
                    lam_x0=shift_blocks(lam_x, self._nlp.z_blocks, N),
                    lam_g0=shift_blocks(lam_g, self._nlp.g_blocks, N),
                )
                if not _STATUS.get(str(solver.stats()["return_status"]), SolveStatus.FAILED).usable:
                    solver = self._nlp.solver  # a warm start gone astray: solve cold once
                    result = solver(**args)
                    retried = True
            else:
                solver = self._nlp.solver
                result = solver(**args)
            stats = solver.stats()
        except RuntimeError as exc:  # a NaN/inf evaluation inside casadi
            return NLPResult(
                ControlSolution(
                    SolveStatus.FAILED,
                    np.zeros((0, n_mv)),
                    solve_time_s=time.perf_counter() - start,
                    message=f"solver error: {exc}",
                )
            )
        return_status = str(stats.get("return_status", "unknown"))
        status = _STATUS.get(return_status, SolveStatus.FAILED)
        # An iterate at the iteration limit is kept (SUBOPTIMAL) only if its
        # plan, simulated, keeps the hard limits as well as holding does (checked
        # below).  Measured on the demo steelworks (30-day replay, 2026-11-21):
        # such stalls zigzag at the kink of a boiler's fuel-mix efficiency
        # (an exact clip) late in the horizon, the objective settled to ~1e-5;
        # on the 3 captured stalls for which ipopt converged another way
        # (a gentler barrier schedule, or up to 3,000 iterations) the kept
        # iterate's first move was 2.4e-6 to 9.0e-4 of an MV's span from it.
        iteration_limit = return_status == "Maximum_Iterations_Exceeded"
        if iteration_limit:
            status = SolveStatus.SUBOPTIMAL
        iters = int(stats.get("iter_count", -1))
        # Measured here: casadi reports no total time when print_time is off.
        wall = time.perf_counter() - solve_start
        message = f"{return_status} ({iters} iterations, ipopt {wall:.3f} s)"
        self.last_stats = {
            "return_status": return_status,
            "iterations": iters,
            "ipopt_wall_s": wall,
            "warm_start": warm,
            "cold_retry": retried,
        }
        z = np.asarray(result["x"], dtype=float).ravel()
        if not status.usable or not np.isfinite(z).all():
            self._last_z = None
            self._last_lam = None
            self._last_plan = None
            return NLPResult(
                ControlSolution(
                    status if status.usable is False else SolveStatus.FAILED,
                    np.zeros((0, n_mv)),
                    solve_time_s=time.perf_counter() - start,
                    message=message,
                )
            )
        band_s, hard_s = solution_slacks(z, self._layout)
        violated = [
            h.variable
            for j, h in enumerate(s.hard_limits)
            if np.max(hard_s[j], initial=0.0) > _VIOLATION_TOL
        ]
        if violated and status is SolveStatus.OPTIMAL:
            status = SolveStatus.SUBOPTIMAL
        if violated and not iteration_limit:  # an unconverged iterate's slacks say little
            message += f"; hard limits not kept: {', '.join(violated)}"
        # ipopt relaxes the slacks' zero bounds by ~1e-8 (bound_relax_factor);
        # times the large hard-limit weight that would shift the objective.
        # Evaluated at the solution with the slacks clipped at zero.  On a
        # coarse grid the plan's objective is its evaluation over the control
        # intervals (below), as the hold's: the saving compares like with like.
        objective = None if s.grid else objective_at(z, p_val, self._layout, self._nlp)
        self._last_z = z
        self._last_lam = (
            np.asarray(result["lam_x"], dtype=float).ravel(),
            np.asarray(result["lam_g"], dtype=float).ravel(),
        )
        plan = z[: n_mv * N].reshape(N, n_mv) * self._mv_span + self._mv_low
        plan = project_plan(plan, mv, low, high, rate)
        self._last_plan = plan.copy()
        plan_eval = self.evaluate(x, plan, mv, step.horizon)
        if objective is None or iteration_limit:  # the plan's, not an unconverged iterate's
            objective = plan_eval.objective
        hold = self.evaluate(x, np.tile(mv, (N, 1)), mv, step.horizon)
        if iteration_limit:
            if plan_eval.hard_violation > max(hold.hard_violation, _LIMIT_KEPT_TOL):
                self._last_z = None
                self._last_lam = None
                self._last_plan = None
                return NLPResult(
                    ControlSolution(
                        SolveStatus.FAILED,
                        np.zeros((0, n_mv)),
                        solve_time_s=time.perf_counter() - start,
                        message=f"{message}; its plan, simulated, breaks a hard limit by "
                        f"{plan_eval.hard_violation:.3g} of the variable's scale",
                    )
                )
            # Its excursions are the simulated plan's, not the iterate's slacks.
            band_s, hard_s = self._layout.slacks_to_var_scale(
                *output_slacks(plan_eval.values.T, self._layout, step.outputs)
            )
            kept = "keeps the hard limits"
            if plan_eval.hard_violation > _LIMIT_KEPT_TOL:
                kept = (
                    f"breaks a hard limit by {plan_eval.hard_violation:.3g} of the variable's "
                    f"scale, holding by {hold.hard_violation:.3g}"
                )
            message += f"; plan kept: simulated, it {kept} (optimality not certified)"
        hold_feasible = (
            hold.hard_violation <= 1e-6
            and np.all(mv >= bounds.names_low)
            and np.all(mv <= bounds.names_high)
        )
        cv_idx = [self._vi(c) for c in self.cv_names]
        v0 = np.asarray(self._sel(x, self._u_full(u_base, mv), d[0], self._p), float).ravel()
        cv_pred = np.vstack([v0[cv_idx], plan_eval.values[:, cv_idx]])
        names = active_constraints(
            self.settings,
            self._vnames,
            self._vscale,
            self._mv_span,
            plan,
            mv,
            bounds.names_low.T,  # per interval: row i of the transpose is MV i
            bounds.names_high.T,
            np.full(n_mv, math.inf),  # rate limits vary per interval: named below
            plan_eval.values,
            (band_s, hard_s[: len(s.hard_limits)]),
            step.outputs,
        )
        solution = ControlSolution(
            status=status,
            mv_plan=plan,
            cv_names=self.cv_names,
            cv_predicted=cv_pred,
            objective=objective,
            objective_hold=hold.objective if hold_feasible else math.inf,
            active_constraints=(*names, *rate_limit_names(s, plan, mv, rate, self._mv_span)),
            solve_time_s=time.perf_counter() - start,
            message=message,
        )
        return NLPResult(solution, z, plan_eval.values)

    def solve(self, request: ControlRequest) -> ControlSolution:
        """Solve for an advisor request: ``measurements`` is the plant state.

        The horizon inputs come from the ``forecast`` given at construction,
        asked at ``request.time_s``.

        Parameters
        ----------
        request : ControlRequest
            State in ``measurements``, MVs in force, per-request MV limits.

        Returns
        -------
        ControlSolution
            ``FAILED`` without solving if the state is invalid or no forecast
            source was given.
        """
        n_mv = len(self.settings.mvs)
        x0 = np.asarray(request.measurements, dtype=float)
        source = self.forecast
        rejected = reject_request(request, self._n["x"], n_mv, source is not None)
        if rejected is not None or source is None:
            return rejected or ControlSolution(SolveStatus.FAILED, np.zeros((0, n_mv)))
        try:
            horizon = source(request.time_s)
            return self.plan(
                x0,
                request.mv_current,
                horizon,
                mv_lower=request.mv_lower,
                mv_upper=request.mv_upper,
                mv_rate=request.mv_rate,
                mv_guess=request.previous_plan,
            )
        except EconomicMPCError as exc:
            return ControlSolution(SolveStatus.FAILED, np.zeros((0, n_mv)), message=str(exc))

    # ------------------------------------------------------------ helpers

    # The NLP's start point and bound vectors (controllers.economic.nlp_start).
    _bounds_z = nlp_start.bounds_z
    _bounds_g = nlp_start.bounds_g
    _simulate = nlp_start.simulate
    _initial_guess = nlp_start.initial_guess
    # Plan evaluation, public (controllers.economic.evaluation).
    evaluate = evaluation.evaluate

    def _grid_rollouts(self) -> list[tuple[int, int, ca.Function]]:
        """``(first, end, roll-out)`` per run of equal NLP interval lengths (built once)."""
        if self._grid_rollout_cache is None:
            runs: list[tuple[int, int, ca.Function]] = []
            lengths = self.settings.grid
            k0 = 0
            while k0 < len(lengths):
                k1 = k0
                while k1 < len(lengths) and lengths[k1] == lengths[k0]:
                    k1 += 1
                m = lengths[k0]
                step = self._F if m == 1 else self._layout.coarse[m][0]
                runs.append((k0, k1, step.mapaccum(f"grid_rollout_{k0}", k1 - k0)))
                k0 = k1
            self._grid_rollout_cache = runs
        return self._grid_rollout_cache

    def _u_full(self, u_base: np.ndarray, mv: np.ndarray) -> np.ndarray:
        u = u_base.copy()
        u[self._mv_index] = mv
        return u
