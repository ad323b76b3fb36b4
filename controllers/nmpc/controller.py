"""The process NMPC: tracking and zone control of CVs by moving PID setpoints (MVs).

:class:`NonlinearMPC` implements the advisor's
:class:`~controllers.advisor.contract.Controller` protocol.  The NLP
(:mod:`controllers.nmpc.formulation`) is generated once; each
:meth:`NonlinearMPC.solve` sets its parameters from the request, warm-starts
from the previous solution shifted by one interval, checks the solver's
return status itself and reports failure in the solution's status instead
of raising.  After the first solve, a Gauss-Newton SQP on a structured QP
(hpipm; one real-time iteration by default, :mod:`controllers.nmpc.sqp`)
answers first; when its QP fails or its point violates a constraint, the
same step is solved by the NLP solver.

Measurement layout of a request: ``request.measurements`` is the state
estimate of the application layer's estimator followed by the measured
disturbances, ``(x_hat, w_hat, d)`` (:meth:`NonlinearMPC.pack_measurements`):
``x_hat`` the model states, ``w_hat`` the disturbance states in the order
given to the controller (offset-free prediction), ``d`` the model's
disturbance inputs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from controllers.advisor.contract import ControlRequest, ControlSolution, SolveStatus
from controllers.advisor.diagnosis import InfeasibilityDiagnosis
from controllers.errors import NmpcError
from controllers.estimation.specs import DisturbanceState
from controllers.nmpc.blas import set_casadi_blas_threads
from controllers.nmpc.diagnose import diagnose_problem
from controllers.nmpc.formulation import OcpProblem, build_problem
from controllers.nmpc.settings import NmpcSettings
from controllers.nmpc.sqp import StructuredSqp, build_sqp, run_sqp
from controllers.nmpc.tuning import NmpcTuning
from plant_models.core.equations import EquationModel

__all__ = ["NonlinearMPC", "classify_status"]

#: Solver return statuses (ipopt, fatrop) that mean an infeasible problem.
_INFEASIBLE = ("infeasible", "restoration_failed", "local_infeasibility")
_TIMEOUT = ("maximum_wallTime_exceeded", "maximum_cputime_exceeded")
_SUBOPTIMAL = ("maximum_iterations_exceeded", "solved_to_acceptable_level")
#: Holding the current MVs wins when its objective is within this relative
#: margin of the plan's (the solver's optimality tolerance): no needless moves.
_HOLD_TOL = 1e-7


def classify_status(success: bool, message: str, feasible: bool) -> SolveStatus:
    """Map a solver's return status to a :class:`SolveStatus`.

    Parameters
    ----------
    success : bool
        The solver's own ``success`` flag.
    message : str
        Its ``return_status``.
    feasible : bool
        Whether the returned point meets the constraints (checked by the caller).

    Returns
    -------
    SolveStatus
        ``OPTIMAL`` on success; ``INFEASIBLE`` for an infeasibility status;
        ``TIMEOUT`` for a time limit without a feasible point; ``SUBOPTIMAL``
        for an iteration/time limit or acceptable level with a feasible
        point; ``FAILED`` otherwise.
    """
    lowered = message.lower()
    if success and feasible:
        return SolveStatus.OPTIMAL
    if any(key in lowered for key in _INFEASIBLE):
        return SolveStatus.INFEASIBLE
    if feasible and any(key.lower() in lowered for key in _SUBOPTIMAL + _TIMEOUT):
        return SolveStatus.SUBOPTIMAL
    if any(key.lower() in lowered for key in _TIMEOUT):
        return SolveStatus.TIMEOUT
    return SolveStatus.FAILED


def _shift(vector: np.ndarray, indices: Sequence[np.ndarray]) -> np.ndarray:
    """Move the entries at ``index[k + 1]`` to ``index[k]`` (one index row per stage)."""
    out = vector.copy()
    for index in indices:
        if index.size and index.shape[0] > 1:
            out[index[:-1].ravel()] = vector[index[1:].ravel()]
    return out


def _project_plan(
    plan: np.ndarray, u_prev: np.ndarray, low: np.ndarray, high: np.ndarray, rate: np.ndarray
) -> np.ndarray:
    """Clip a plan sample by sample onto the limits and rate limits.

    Removes the solver's constraint tolerance (ipopt meets bounds and rates
    to about 1e-8), so that the plan honours them exactly.  Only called on a
    feasible plan, where ``[max(low, u - rate), min(high, u + rate)]`` is
    never empty beyond rounding.
    """
    out = plan.copy()
    before = u_prev
    for k in range(out.shape[0]):
        lo = np.maximum(low, before - rate)
        hi = np.minimum(high, before + rate)
        row = np.minimum(np.maximum(out[k], lo), np.maximum(hi, lo))
        # ``before + rate`` rounds: step inwards by ulps until the computed
        # move ``row - before`` is within the rate as a caller computes it.
        for _ in range(4):
            over = np.abs(row - before) > rate
            if not over.any():
                break
            row = np.where(over, np.nextafter(row, before), row)
        out[k] = row
        before = row
    return out


def _run(
    solver: Any, z0: np.ndarray, bounds: Mapping[str, np.ndarray], duals: Mapping[str, np.ndarray]
) -> tuple[Any, SolveStatus, str]:
    """Call an ``nlpsol`` and classify its result by its own status and the point's feasibility."""
    result = solver(x0=z0, **bounds, **duals)
    stats = solver.stats()
    message = str(stats.get("return_status", ""))
    z = np.asarray(result["x"], dtype=np.float64).ravel()
    g = np.asarray(result["g"], dtype=np.float64).ravel()
    tol = 1e-6
    feasible = bool(
        np.all(np.isfinite(z))
        and np.all(g >= bounds["lbg"] - tol)
        and np.all(g <= bounds["ubg"] + tol)
        and np.all(z >= bounds["lbx"] - tol)
        and np.all(z <= bounds["ubx"] + tol)
    )
    return result, classify_status(bool(stats.get("success", False)), message, feasible), message


class NonlinearMPC:
    """Nonlinear MPC on the plant model's casadi equations (see the module docstring).

    Parameters
    ----------
    model : EquationModel
        The plant model (for a flowsheet, its composed model; the MVs are
        its PID loops' ``<loop>.setpoint`` inputs).
    parameters : array_like, shape (np,)
        Model parameter vector. [SI]
    settings : NmpcSettings
        MVs, CVs, horizon, weights and solver.
    disturbance_states : sequence of DisturbanceState
        The estimator's disturbance states, in the order of ``w_hat``: each is
        held constant over the horizon and added to its input, measured
        disturbance or CV (``kind="output"``, target a CV name).

    Raises
    ------
    NmpcError
        For unknown names, a wrong parameter length or an NLP that cannot be built.
    """

    def __init__(
        self,
        model: EquationModel,
        parameters: npt.ArrayLike,
        settings: NmpcSettings,
        disturbance_states: Sequence[DisturbanceState] = (),
    ) -> None:
        p = np.asarray(parameters, dtype=np.float64).reshape(-1)
        if p.shape != (model.sizes["p"],) or not np.all(np.isfinite(p)):
            raise NmpcError(f"parameters must be a finite vector of length {model.sizes['p']}")
        self.model = model
        self.settings = settings
        self.disturbance_states = tuple(disturbance_states)
        start = time.perf_counter()
        self._problem: OcpProblem = build_problem(model, p, settings, self.disturbance_states)
        #: Wall-clock time of the NLP generation. [s]
        self.build_time_s = time.perf_counter() - start
        if settings.blas_threads is not None:
            # After build_problem: its ipopt has loaded casadi's OpenBLAS.
            set_casadi_blas_threads(settings.blas_threads)
        #: How many times the NLP was generated (1: tuning never rebuilds it).
        self.n_builds = 1
        #: What produced the last result: ``"sqp"`` (the fast path),
        #: ``settings.solver`` or its ``"ipopt"`` fallback.
        self.last_solver = settings.solver
        #: How many solves fell back to ipopt (:attr:`NmpcSettings.ipopt_fallback`).
        self.n_fallbacks = 0
        #: The fast path (:attr:`NmpcSettings.sqp_iterations`), ``None`` when off.
        self._sqp: StructuredSqp | None = None
        #: Why the fast path is off although requested ("" when on or not requested).
        self.sqp_unavailable = ""
        if settings.sqp_iterations > 0:
            try:
                self._sqp = build_sqp(self._problem)
            except RuntimeError as exc:
                # A layout casadi's hpipm interface rejects: every solve by ``solver``.
                self.sqp_unavailable = str(exc)
        #: How many solves the fast path answered, and how many it handed to ``solver``.
        self.n_sqp_solves = 0
        self.n_sqp_fallbacks = 0
        lay = self._problem.layout
        self._z_prev: np.ndarray | None = None
        self._lam_x_prev: np.ndarray | None = None
        self._lam_g_prev: np.ndarray | None = None
        fixed = np.zeros(len(model.inputs))
        for name, value in settings.fixed_inputs.items():
            fixed[model.index("u", name)] = value
        self._u_fixed = fixed[list(self._problem.fixed_index)]
        self._tuning = NmpcTuning.from_settings(settings)
        self._tuning_p = self._tuning.parameters(lay.slack_cv, lay.slack_names, settings.cv_names)
        self._lbz = np.full(lay.n_z, -math.inf)
        self._ubz = np.full(lay.n_z, math.inf)
        self._lbz[lay.s_index.ravel()] = 0.0
        self._lbg = np.zeros(lay.n_g)
        self._ubg = np.zeros(lay.n_g)
        self._ubg[lay.band_index.ravel()] = math.inf

    # ------------------------------------------------------------ protocol

    @property
    def mv_names(self) -> tuple[str, ...]:
        """Names of the manipulated variables, in plan column order."""
        return self.settings.mv_names

    @property
    def cv_names(self) -> tuple[str, ...]:
        """Names of the controlled variables, in prediction column order."""
        return self.settings.cv_names

    @property
    def n_measurements(self) -> int:
        """Length of a request's measurement vector: ``nx + nw + nd``."""
        return self._problem.nx + self._problem.nw + self._problem.nd

    def pack_measurements(
        self, x: npt.ArrayLike, w: npt.ArrayLike | None = None, d: npt.ArrayLike | None = None
    ) -> np.ndarray:
        """Return the request measurement vector ``(x_hat, w_hat, d)``.

        Parameters
        ----------
        x : array_like, shape (nx,)
            State estimate. [SI]
        w : array_like, shape (nw,), optional
            Disturbance-state estimate (zeros if omitted). [unit of each target]
        d : array_like, shape (nd,), optional
            Measured disturbances (zeros if omitted). [SI]

        Raises
        ------
        NmpcError
            If a part has the wrong length.
        """
        prob = self._problem
        parts = []
        for value, n, what in ((x, prob.nx, "x"), (w, prob.nw, "w"), (d, prob.nd, "d")):
            arr = np.zeros(n) if value is None else np.asarray(value, dtype=np.float64).ravel()
            if arr.shape != (n,):
                raise NmpcError(f"{what} must have length {n}, got shape {arr.shape}")
            parts.append(arr)
        return np.concatenate(parts)

    def set_setpoints(self, setpoints: Mapping[str, float]) -> None:
        """Change the setpoints of tracked CVs (the NLP is not rebuilt).

        Raises
        ------
        NmpcError
            For a CV that is unknown or has no setpoint, or a non-finite value.
        """
        vector = self._tuning.setpoint.copy()
        for name, value in setpoints.items():
            if name not in self.cv_names:
                raise NmpcError(f"unknown CV {name!r}; known: {', '.join(self.cv_names)}")
            j = self.cv_names.index(name)
            if not math.isfinite(vector[j]):
                raise NmpcError(f"CV {name} is zone-controlled: it has no setpoint to change")
            if not math.isfinite(value):
                raise NmpcError(f"setpoint of {name} must be finite, got {value}")
            vector[j] = float(value)
        self.set_tuning({"setpoint": vector})

    @property
    def tuning(self) -> NmpcTuning:
        """The tuning in force (weights, setpoints, bands, MV targets)."""
        return self._tuning

    def set_tuning(self, values: Mapping[str, npt.ArrayLike] | NmpcTuning) -> None:
        """Replace part or all of the tuning without rebuilding the NLP.

        Weights, setpoints, band limits and MV targets are parameters of the
        generated NLP, so a switch costs nothing and keeps the warm start: the
        next plan differs from the one the old tuning would give only as the
        new tuning implies.  The keys are those of :class:`NmpcTuning`, so a
        :class:`~controllers.modes.ModeScheduler`'s ``state.values`` (one
        vector per key per mode, ramped between modes) can be passed as is.

        Parameters
        ----------
        values : mapping of str to array_like, or NmpcTuning
            Any of ``cv_weight``, ``band_weight`` (per CV, shape
            ``(n_cv,)``), ``setpoint``, ``band_low``, ``band_high``
            ``(n_cv,)``, ``move_weight``, ``target_weight``, ``mv_target``
            ``(n_mv,)``; missing keys keep their values.

        Raises
        ------
        NmpcError
            For an unknown key, a wrong shape, a negative or non-finite weight,
            a tracked CV without a finite setpoint, or a band side that the
            NLP was not built with (bands can move, not appear or vanish).
        """
        new = self._tuning.replace(values)
        lay = self._problem.layout
        self._tuning_p = new.parameters(lay.slack_cv, lay.slack_names, self.cv_names)
        self._tuning = new

    def reset(self) -> None:
        """Forget the previous solution (the next solve starts cold)."""
        self._forget()

    def _forget(self) -> None:
        self._problem.hold.reset()
        self._z_prev = None
        self._lam_x_prev = None
        self._lam_g_prev = None

    @property
    def discretisation(self) -> str:
        """Discretisation in use: ``"rk4"``, ``"collocation"`` or ``"discrete"``."""
        return self._problem.method

    # ------------------------------------------------------------ solve

    def _parameters(self, request: ControlRequest) -> np.ndarray:
        meas = np.asarray(request.measurements, dtype=np.float64)
        return np.concatenate(
            [
                meas,
                np.asarray(request.mv_current, dtype=np.float64),
                self._u_fixed,
                self._tuning_p,
            ]
        )

    def _mv_limits(self, request: ControlRequest) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mvs = self.settings.mvs
        low = np.maximum(np.asarray(request.mv_lower, float), [m.low for m in mvs])
        high = np.minimum(np.asarray(request.mv_upper, float), [m.high for m in mvs])
        rate = np.minimum(np.asarray(request.mv_rate, float), [m.rate for m in mvs])
        return low, high, rate

    def _initial_guess(self, p: np.ndarray, u_prev: np.ndarray) -> np.ndarray:
        prob, lay = self._problem, self._problem.layout
        x0s = (p[lay.param_slices["x0"]] - prob.x_offset) / prob.x_scale
        if self._z_prev is not None:
            # Shift the previous solution by one interval, repeating the last stage.
            z = _shift(self._z_prev, lay.stage_indices)
        else:
            z = np.zeros(lay.n_z)
            z[lay.x_index] = x0s
            z[lay.v_index] = u_prev / prob.u_scale
            z[lay.u_index] = u_prev / prob.u_scale
            z[lay.c_index] = np.tile(x0s, lay.c_index.shape[1] // max(prob.nx, 1))
        z[lay.x_index[0]] = x0s
        z[lay.v_index[0]] = u_prev / prob.u_scale
        return z

    def _initial_duals(self) -> tuple[np.ndarray, np.ndarray]:
        """Multipliers of the previous solution shifted by one interval (zeros cold)."""
        lay = self._problem.layout
        if self._lam_x_prev is None or self._lam_g_prev is None:
            return np.zeros(lay.n_z), np.zeros(lay.n_g)
        return (
            _shift(self._lam_x_prev, lay.stage_indices),
            _shift(self._lam_g_prev, lay.stage_rows),
        )

    def _invalid(self, request: ControlRequest, message: str, start: float) -> ControlSolution:
        return ControlSolution(
            SolveStatus.FAILED,
            np.zeros((0, len(self.mv_names))),
            cv_names=self.cv_names,
            solve_time_s=time.perf_counter() - start,
            message=message,
        )

    def solve(self, request: ControlRequest) -> ControlSolution:
        """Solve the NLP for the request (never raises for a failed solve).

        Parameters
        ----------
        request : ControlRequest
            ``measurements`` laid out as ``(x_hat, w_hat, d)``
            (:meth:`pack_measurements`), all valid; ``mv_current`` the MVs
            applied now (``u_{-1}``); MV limits and rate limits.

        Returns
        -------
        ControlSolution
            The plan (exactly inside the limits and rate limits), predicted
            CVs, objective of the plan and of holding the current MVs, active
            constraints by name, the solve time and the solver's status.
        """
        start = time.perf_counter()
        n_mv = len(self.mv_names)
        meas = np.asarray(request.measurements, dtype=np.float64).ravel()
        if meas.shape != (self.n_measurements,):
            return self._invalid(
                request,
                f"measurements must have length {self.n_measurements} (x_hat, w_hat, d), "
                f"got {meas.shape[0]}",
                start,
            )
        valid = np.asarray(request.measurement_valid, dtype=bool).ravel()
        u_prev = np.asarray(request.mv_current, dtype=np.float64).ravel()
        if not (np.all(np.isfinite(meas)) and valid.shape == meas.shape and valid.all()):
            return self._invalid(request, "state estimate or disturbance invalid", start)
        if u_prev.shape != (n_mv,) or not np.all(np.isfinite(u_prev)):
            return self._invalid(request, f"mv_current must be {n_mv} finite values", start)
        low, high, rate = self._mv_limits(request)
        if low.shape != (n_mv,) or high.shape != (n_mv,) or rate.shape != (n_mv,):
            return self._invalid(request, f"MV limits must have length {n_mv}", start)
        prob, lay = self._problem, self._problem.layout
        p = self._parameters(request)
        # Preallocated bound vectors, updated in place (rows broadcast per interval).
        lbz, ubz, lbg, ubg = self._lbz, self._ubz, self._lbg, self._ubg
        lbz[lay.u_index] = low / prob.u_scale
        ubz[lay.u_index] = high / prob.u_scale
        lbg[lay.move_index] = -rate / prob.u_scale
        ubg[lay.move_index] = rate / prob.u_scale
        z0 = np.clip(self._initial_guess(p, u_prev), lbz, ubz)
        bounds = {"p": p, "lbx": lbz, "ubx": ubz, "lbg": lbg, "ubg": ubg}
        fast_message = ""
        cv_pred: np.ndarray | None = None
        if self._sqp is not None and self._z_prev is not None:
            fast = run_sqp(self._sqp, z0, p, bounds, self.settings.sqp_iterations,
                           self.settings.sqp_max_residual)  # fmt: skip
            if fast.ok:
                z, objective, status, message = fast.z, fast.f, SolveStatus.OPTIMAL, fast.message
                cv_pred = fast.cv
                self.last_solver = "sqp"
                self.n_sqp_solves += 1
                # The NLP solver's multipliers no longer belong to this point.
                self._lam_x_prev = self._lam_g_prev = None
            else:
                fast_message = f"{fast.message}; "
                self.n_sqp_fallbacks += 1
        if self._sqp is None or self._z_prev is None or fast_message:
            z, objective, status, message = self._solve_nlp(z0, bounds)
            message = fast_message + message
        if not status.usable:
            self._forget()
            return ControlSolution(
                status,
                np.zeros((0, n_mv)),
                cv_names=self.cv_names,
                solve_time_s=time.perf_counter() - start,
                message=message,
            )
        self._z_prev = z
        plan = _project_plan(z[lay.u_index] * prob.u_scale, u_prev, low, high, rate)
        if cv_pred is None:
            cv_pred = np.asarray(prob.cv_of(z, p), dtype=np.float64).T
        try:
            hold_cost, hold_cvs = prob.hold(p)
            hold_value = float(hold_cost)
        except RuntimeError as exc:
            # Simulating the held MVs can fail where the plan does not (the
            # collocation Newton of a stiff plant far from its operating
            # point): the plan stands, the saving against holding is unknown.
            hold_value, hold_cvs = math.inf, None
            message = f"{message}; holding the current MVs not evaluated: {exc}".lstrip("; ")
        slacks = z[lay.s_index] if lay.s_index.size else np.zeros((0, 0))
        hold_ok = hold_cvs is not None and bool(np.all(u_prev >= low) and np.all(u_prev <= high))
        if hold_ok and hold_value <= objective + _HOLD_TOL * (1.0 + abs(objective)):
            # Holding the current MVs is as good as the plan (to the solver's
            # tolerance, e.g. every CV inside its band): do not move at all.
            plan = np.tile(u_prev, (lay.u_index.shape[0], 1))
            cv_pred = np.asarray(hold_cvs, dtype=np.float64).T
            objective = hold_value
            slacks = np.zeros_like(slacks)
        return ControlSolution(
            status=status,
            mv_plan=plan,
            cv_names=self.cv_names,
            cv_predicted=cv_pred,
            objective=objective,
            objective_hold=hold_value if math.isfinite(hold_value) else math.inf,
            active_constraints=self._active(plan, u_prev, low, high, rate, cv_pred, slacks),
            solve_time_s=time.perf_counter() - start,
            message=message,
        )

    def _solve_nlp(
        self, z0: np.ndarray, bounds: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, float, SolveStatus, str]:
        """Solve the NLP with ``settings.solver`` (and its ipopt fallback) from ``z0``.

        Keeps the multipliers for the next warm start when the result is usable.
        """
        prob = self._problem
        solver = prob.solver
        duals: dict[str, np.ndarray] = {}
        if prob.warm_solver is not None and self._lam_g_prev is not None:
            solver = prob.warm_solver
            duals["lam_x0"], duals["lam_g0"] = self._initial_duals()
        result, status, message = _run(solver, z0, bounds, duals)
        self.last_solver = self.settings.solver
        if not status.usable and prob.fallback_solver is not None:
            # The fast solver failed: the same NLP with ipopt, from the same guess.
            result, status, fallback_message = _run(prob.fallback_solver, z0, bounds, {})
            message = f"{self.settings.solver}: {message}; ipopt fallback: {fallback_message}"
            self.last_solver = "ipopt"
            self.n_fallbacks += 1
        if status.usable and prob.warm_solver is not None:
            self._lam_x_prev = np.asarray(result["lam_x"], dtype=np.float64).ravel()
            self._lam_g_prev = np.asarray(result["lam_g"], dtype=np.float64).ravel()
        z = np.asarray(result["x"], dtype=np.float64).ravel()
        return z, float(result["f"]), status, message

    def diagnose(self, request: ControlRequest) -> InfeasibilityDiagnosis:
        """Name the hard constraints (MV limits, rate limits) that make ``request`` infeasible.

        CV bands are soft and never reported; see :mod:`controllers.nmpc.diagnose`.

        Raises
        ------
        NmpcError
            For a request with invalid measurements or arrays of the wrong length.
        AdvisorError
            When even the relaxation fails.
        """
        meas = np.asarray(request.measurements, dtype=np.float64).ravel()
        u_prev = np.asarray(request.mv_current, dtype=np.float64).ravel()
        n_mv = len(self.mv_names)
        if meas.shape != (self.n_measurements,) or not np.all(np.isfinite(meas)):
            raise NmpcError(f"measurements must be {self.n_measurements} finite values")
        if u_prev.shape != (n_mv,) or not np.all(np.isfinite(u_prev)):
            raise NmpcError(f"mv_current must be {n_mv} finite values")
        low, high, rate = self._mv_limits(request)
        if low.shape != (n_mv,) or high.shape != (n_mv,) or rate.shape != (n_mv,):
            raise NmpcError(f"MV limits must have length {n_mv}")
        p = self._parameters(request)
        saved = self._z_prev
        self._z_prev = None
        try:
            z0 = self._initial_guess(p, u_prev)
        finally:
            self._z_prev = saved
        return diagnose_problem(self._problem, self.settings, p, low, high, rate, z0)

    def _active(
        self,
        plan: np.ndarray,
        u_prev: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
        rate: np.ndarray,
        cv_pred: np.ndarray,
        slacks: np.ndarray,
    ) -> tuple[str, ...]:
        """Names of the MV limits, rate limits and CV bands active at the plan."""
        tol = self.settings.active_tol
        names: list[str] = []
        moves = np.diff(np.vstack([u_prev, plan]), axis=0)
        for i, m in enumerate(self.settings.mvs):
            if np.any(plan[:, i] <= low[i] + tol * m.scale):
                names.append(f"{m.name}.lower")
            if np.any(plan[:, i] >= high[i] - tol * m.scale):
                names.append(f"{m.name}.upper")
            if math.isfinite(rate[i]) and np.any(np.abs(moves[:, i]) >= rate[i] - tol * m.scale):
                names.append(f"{m.name}.rate")
        lay = self._problem.layout
        for col, name in enumerate(lay.slack_names):
            j = lay.slack_cv[col]
            cv = self.settings.cvs[j]
            tuning = self._tuning
            bound = tuning.band_low[j] if name.endswith(".lower") else tuning.band_high[j]
            at_edge = np.abs(cv_pred[1:, j] - bound) <= tol * cv.scale
            if np.any(slacks[:, col] > tol) or np.any(at_edge):
                names.append(name)
        _: Any = None
        return tuple(names)
