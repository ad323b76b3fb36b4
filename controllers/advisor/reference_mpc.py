"""A small linear MPC on casadi: the reference controller the advisor is tested with.

Regulates ``x_{k+1} = A x_k + B u_k`` to the origin (deviation variables) by
minimising ``sum_k x_k' Q x_k + u_k' R u_k + x_N' P x_N`` over ``N`` steps,
subject to the request's MV limits and rate limits and optional hard state
limits.  The QP is built once (casadi ``qpsol`` with HiGHS, bundled in the
casadi wheel) with the initial state and previous input as parameters, and
implements :class:`~controllers.advisor.contract.DiagnosingController`.
The measurement vector is the state.  With ``P`` the discrete algebraic
Riccati solution and no active constraint, its first move is the LQR
feedback ``u_0 = -K x_0``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import casadi as ca
import numpy as np
import numpy.typing as npt
import scipy.linalg

from controllers.advisor.contract import ControlRequest, ControlSolution, SolveStatus
from controllers.advisor.diagnosis import (
    ConstraintGroup,
    InfeasibilityDiagnosis,
    find_conflicting_constraints,
)
from controllers.errors import AdvisorError

__all__ = ["LinearMPC", "LinearMPCSettings"]

_ACTIVE_TOL = 1e-7


def _matrix(value: npt.ArrayLike, shape: tuple[int, int], name: str) -> np.ndarray:
    arr = np.atleast_2d(np.asarray(value, dtype=float))
    if arr.shape != shape or not np.isfinite(arr).all():
        raise AdvisorError(f"{name} must be a finite {shape} matrix, got {arr.shape}")
    return arr


@dataclass(frozen=True)
class LinearMPCSettings:
    """Model, weights and limits of a :class:`LinearMPC`.

    Parameters
    ----------
    A : array_like
        State matrix, shape ``(n_x, n_x)``.
    B : array_like
        Input matrix, shape ``(n_x, n_u)``.
    Q : array_like
        State weight, symmetric positive semidefinite, ``(n_x, n_x)``.
    R : array_like
        Input weight, symmetric positive definite, ``(n_u, n_u)``.
    horizon : int
        Number of control intervals ``N``, >= 1.
    mv_names : tuple of str
        Input names.
    cv_names : tuple of str
        State names (the measurement vector).
    P : array_like or None
        Terminal weight; ``None`` uses the discrete algebraic Riccati solution.
    x_lower, x_upper : array_like or None
        Hard state limits on ``x_1 .. x_N`` (``None``: unbounded). [SI]
    """

    A: npt.ArrayLike
    B: npt.ArrayLike
    Q: npt.ArrayLike
    R: npt.ArrayLike
    horizon: int
    mv_names: tuple[str, ...]
    cv_names: tuple[str, ...]
    P: npt.ArrayLike | None = None
    x_lower: npt.ArrayLike | None = None
    x_upper: npt.ArrayLike | None = None


class LinearMPC:
    """Linear-quadratic MPC with input, rate and state limits (see the module docstring).

    Parameters
    ----------
    settings : LinearMPCSettings
        Model, weights, horizon and names.
    """

    def __init__(self, settings: LinearMPCSettings) -> None:
        n_u = len(settings.mv_names)
        n_x = len(settings.cv_names)
        self.A = _matrix(settings.A, (n_x, n_x), "A")
        self.B = _matrix(settings.B, (n_x, n_u), "B")
        self.Q = _matrix(settings.Q, (n_x, n_x), "Q")
        self.R = _matrix(settings.R, (n_u, n_u), "R")
        if settings.horizon < 1:
            raise AdvisorError("horizon must be >= 1")
        self.P = (
            scipy.linalg.solve_discrete_are(self.A, self.B, self.Q, self.R)
            if settings.P is None
            else _matrix(settings.P, (n_x, n_x), "P")
        )
        self.settings = settings
        self.x_lower = np.broadcast_to(
            np.asarray(-math.inf if settings.x_lower is None else settings.x_lower, float), (n_x,)
        )
        self.x_upper = np.broadcast_to(
            np.asarray(math.inf if settings.x_upper is None else settings.x_upper, float), (n_x,)
        )
        N = settings.horizon
        self._U = ca.SX.sym("U", n_u, N)
        self._X = ca.SX.sym("X", n_x, N + 1)
        self._x0 = ca.SX.sym("x0", n_x)
        self._u_prev = ca.SX.sym("u_prev", n_u)
        U, X = self._U, self._X
        cost: Any = 0
        for k in range(N):
            cost += ca.bilin(self.Q, X[:, k]) + ca.bilin(self.R, U[:, k])
        cost += ca.bilin(self.P, X[:, N])
        self._cost = cost
        self._dynamics = ca.vertcat(
            X[:, 0] - self._x0,
            *[X[:, k + 1] - self.A @ X[:, k] - self.B @ U[:, k] for k in range(N)],
        )
        self._moves = ca.horzcat(U[:, 0] - self._u_prev, ca.diff(U, 1, 1))
        self._z = ca.vertcat(ca.vec(U), ca.vec(X))
        self._p = ca.vertcat(self._x0, self._u_prev)
        g = ca.vertcat(self._dynamics, ca.vec(self._moves))
        self._solver = ca.qpsol(
            "reference_mpc",
            "highs",
            {"x": self._z, "p": self._p, "f": cost, "g": g},
            {"error_on_fail": False, "highs": {"output_flag": False}},
        )

    @property
    def mv_names(self) -> tuple[str, ...]:
        """Names of the manipulated variables."""
        return tuple(self.settings.mv_names)

    def hold_objective(self, x0: npt.ArrayLike, u_hold: npt.ArrayLike) -> float:
        """Objective of holding ``u_hold`` over the horizon; ``inf`` if a state limit breaks.

        Parameters
        ----------
        x0 : array_like
            Initial state, shape ``(n_x,)``. [SI]
        u_hold : array_like
            Input held constant, shape ``(n_u,)``. [SI]

        Returns
        -------
        float
            The objective value. [objective unit]
        """
        x = np.asarray(x0, float)
        u = np.asarray(u_hold, float)
        total = 0.0
        for k in range(self.settings.horizon):
            total += float(x @ self.Q @ x + u @ self.R @ u)
            x = self.A @ x + self.B @ u
            if np.any(x < self.x_lower) or np.any(x > self.x_upper):
                return math.inf
            _ = k
        return total + float(x @ self.P @ x)

    def _mv_limits(self, request: ControlRequest) -> tuple[np.ndarray, np.ndarray]:
        """MV limits per interval, shape ``(N, n_u)`` (the request's may be per MV)."""
        shape = (self.settings.horizon, len(self.settings.mv_names))
        try:
            low = np.broadcast_to(np.asarray(request.mv_lower, float), shape)
            high = np.broadcast_to(np.asarray(request.mv_upper, float), shape)
        except ValueError:
            raise AdvisorError(f"MV limits must have shape {shape[1:]} or {shape}") from None
        return low, high

    def _bounds(self, request: ControlRequest) -> tuple[np.ndarray, ...]:
        N = self.settings.horizon
        n_x = len(self.settings.cv_names)
        low, high = self._mv_limits(request)
        lbz = np.concatenate([low.ravel(), np.full(n_x, -math.inf), np.tile(self.x_lower, N)])
        ubz = np.concatenate([high.ravel(), np.full(n_x, math.inf), np.tile(self.x_upper, N)])
        n_dyn = n_x * (N + 1)
        rate = np.tile(request.mv_rate, N)
        lbg = np.concatenate([np.zeros(n_dyn), -rate])
        ubg = np.concatenate([np.zeros(n_dyn), rate])
        return lbz, ubz, lbg, ubg

    def solve(self, request: ControlRequest) -> ControlSolution:
        """Solve the QP for the request's state (its measurements) and MV limits.

        Parameters
        ----------
        request : ControlRequest
            Measurements are the state ``x_0``; ``mv_current`` is ``u_{-1}``;
            MV limits per MV or per interval.

        Returns
        -------
        ControlSolution
            Plan, predicted states, objectives, active constraints and status.
        """
        N = self.settings.horizon
        n_u = len(self.settings.mv_names)
        n_x = len(self.settings.cv_names)
        start = time.perf_counter()
        x0 = np.asarray(request.measurements, float)
        if x0.shape != (n_x,) or not (np.isfinite(x0).all() and request.measurement_valid.all()):
            return ControlSolution(
                SolveStatus.FAILED, np.zeros((0, n_u)), message="state measurement invalid"
            )
        try:
            lbz, ubz, lbg, ubg = self._bounds(request)
        except AdvisorError as exc:
            return ControlSolution(SolveStatus.FAILED, np.zeros((0, n_u)), message=str(exc))
        p = np.concatenate([x0, request.mv_current])
        z0 = np.zeros(self._z.numel())
        result = self._solver(x0=z0, p=p, lbx=lbz, ubx=ubz, lbg=lbg, ubg=ubg)
        stats = self._solver.stats()
        message = str(stats.get("return_status", ""))
        elapsed = time.perf_counter() - start
        if not bool(stats.get("success", False)):
            lowered = message.lower()
            if "infeasible" in lowered:
                status = SolveStatus.INFEASIBLE
            elif "time limit" in lowered:
                status = SolveStatus.TIMEOUT
            else:
                status = SolveStatus.FAILED
            return ControlSolution(
                status, np.zeros((0, n_u)), solve_time_s=elapsed, message=message
            )
        z = np.asarray(result["x"], float).ravel()
        plan = z[: n_u * N].reshape(N, n_u)
        states = z[n_u * N :].reshape(N + 1, n_x)
        return ControlSolution(
            status=SolveStatus.OPTIMAL,
            mv_plan=plan,
            cv_names=tuple(self.settings.cv_names),
            cv_predicted=states,
            objective=float(result["f"]),
            objective_hold=self.hold_objective(x0, request.mv_current),
            active_constraints=self._active(plan, states, request),
            solve_time_s=elapsed,
            message=message,
        )

    def _active(
        self, plan: np.ndarray, states: np.ndarray, request: ControlRequest
    ) -> tuple[str, ...]:
        names: list[str] = []
        moves = np.diff(np.vstack([request.mv_current, plan]), axis=0)
        low, high = self._mv_limits(request)
        for i, name in enumerate(self.settings.mv_names):
            if np.any(plan[:, i] <= low[:, i] + _ACTIVE_TOL):
                names.append(f"{name}.lower")
            if np.any(plan[:, i] >= high[:, i] - _ACTIVE_TOL):
                names.append(f"{name}.upper")
            if np.any(np.abs(moves[:, i]) >= request.mv_rate[i] - _ACTIVE_TOL):
                names.append(f"{name}.rate")
        for j, name in enumerate(self.settings.cv_names):
            if np.any(states[1:, j] <= self.x_lower[j] + _ACTIVE_TOL):
                names.append(f"{name}.lower")
            if np.any(states[1:, j] >= self.x_upper[j] - _ACTIVE_TOL):
                names.append(f"{name}.upper")
        return tuple(names)

    def diagnose(self, request: ControlRequest) -> InfeasibilityDiagnosis:
        """Name the limit groups that make the request infeasible (elastic relaxation).

        Parameters
        ----------
        request : ControlRequest
            The request that was infeasible.

        Returns
        -------
        InfeasibilityDiagnosis
            Conflicting groups named ``"<mv>.lower|upper|rate"`` and
            ``"<cv>.lower|upper"``; the dynamics stay hard.
        """
        U, X = self._U, self._X
        low, high = self._mv_limits(request)
        groups: list[ConstraintGroup] = [
            ConstraintGroup("dynamics", self._dynamics, 0.0, 0.0, relax=False)
        ]
        for i, name in enumerate(self.settings.mv_names):
            groups += [
                ConstraintGroup(f"{name}.lower", U[i, :].T, lower=low[:, i]),
                ConstraintGroup(f"{name}.upper", U[i, :].T, upper=high[:, i]),
            ]
            if math.isfinite(request.mv_rate[i]):
                rate = request.mv_rate[i]
                groups.append(
                    ConstraintGroup(f"{name}.rate", self._moves[i, :].T, lower=-rate, upper=rate)
                )
        for j, name in enumerate(self.settings.cv_names):
            if math.isfinite(self.x_lower[j]):
                groups.append(ConstraintGroup(f"{name}.lower", X[j, 1:].T, lower=self.x_lower[j]))
            if math.isfinite(self.x_upper[j]):
                groups.append(ConstraintGroup(f"{name}.upper", X[j, 1:].T, upper=self.x_upper[j]))
        p_val: Any = np.concatenate([request.measurements, request.mv_current])
        return find_conflicting_constraints(
            self._z, groups, parameters=self._p, parameter_values=p_val
        )
