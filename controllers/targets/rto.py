"""Real-time optimisation: targets from the full nonlinear steady-state model (ipopt).

Decision vector ``z = (u / scale_u, x / scale_x, s)``: the MV targets, the
steady state (scaled by the span of each state's envelope) and the scaled
violations ``s >= 0`` of the soft CV limits.  Constraints: the steady-state
equations ``r(x, u, d, w) / scale_x = 0`` (``r = f``, or ``f - x`` for a
discrete model), the soft limits ``(c - low) / scale + s >= 0`` and
``(high - c) / scale + s >= 0``, and the rank sums ``sum(s in rank r) <=
cap_r``.  The states are bounded by the model's envelope (where its equations
are valid) and the MVs by their limits and ``max_move``.  The economic stage
minimises ``(price_u' u + price_c' c) / objective_scale`` plus the quadratic
move and ideal terms.  The NLP is built once with the disturbances, the
disturbance states, the previous targets and the stage weights as parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import casadi as ca
import numpy as np

from controllers.targets.model import SteadyStateModel
from controllers.targets.settings import TargetSettings
from controllers.targets.staging import SoftLimits, StageOutcome, StageRequest, classify

__all__ = ["RtoProblem"]

#: Constraint tolerance of the feasibility check of a returned point, on the
#: scaled NLP (ipopt's own constraint tolerance is 1e-8 by default).
_FEAS_TOL = 1e-6


class RtoProblem:
    """The steady-state NLP of the module docstring, built once.

    Parameters
    ----------
    settings : TargetSettings
        MVs, CVs, prices and solver limits.
    limits : SoftLimits
        The soft CV limits of ``settings``.
    steady : SteadyStateModel
        The steady-state model's casadi functions.
    """

    def __init__(
        self, settings: TargetSettings, limits: SoftLimits, steady: SteadyStateModel
    ) -> None:
        self.settings = settings
        self.limits = limits
        self.steady = steady
        n_mv, nx, nd, nw = steady.n_mv, steady.nx, steady.nd, steady.nw
        n_s, n_r = limits.size, limits.n_ranks
        u_scale = np.array([m.scale for m in settings.mvs])
        x_scale = steady.x_scale
        self._u_scale, self._x_scale = u_scale, x_scale
        zu = ca.SX.sym("zu", n_mv)
        zx = ca.SX.sym("zx", nx)
        s = ca.SX.sym("s", n_s)
        par = ca.SX.sym("par", nd + nw + n_mv + 1 + n_r)
        d = par[:nd]
        w = par[nd : nd + nw]
        u_prev = par[nd + nw : nd + nw + n_mv]
        economic = par[nd + nw + n_mv]
        rank_w = par[nd + nw + n_mv + 1 :]
        u = zu * ca.DM(u_scale)
        x = zx * ca.DM(x_scale)
        residual = steady.residual(x, u, d, w) / ca.DM(x_scale)
        cv = steady.cv(x, u, d, w)
        soft = []
        for k in range(n_s):
            j, sc, b = int(limits.cv_index[k]), limits.scale[k], limits.bound[k]
            side = (b - cv[j]) if limits.upper[k] else (cv[j] - b)
            soft.append(side / sc + s[k])
        sums = [
            ca.sum1(ca.vertcat(*[s[k] for k in range(n_s) if limits.rank[k] == r]))
            for r in range(n_r)
        ]
        econ: Any = 0.0
        for i, m in enumerate(settings.mvs):
            econ += m.price * u[i] / settings.objective_scale
            econ += m.move_weight * ((u[i] - u_prev[i]) / m.scale) ** 2
            if m.ideal is not None and m.ideal_weight > 0.0:
                econ += m.ideal_weight * ((u[i] - m.ideal) / m.scale) ** 2
        for j, c in enumerate(settings.cvs):
            econ += c.price * cv[j] / settings.objective_scale
            if c.ideal is not None and c.ideal_weight > 0.0:
                econ += c.ideal_weight * ((cv[j] - c.ideal) / c.scale) ** 2
        violation: Any = 0.0
        for r in range(n_r):
            violation += rank_w[r] * sums[r]
        z = ca.vertcat(zu, zx, s)
        g = ca.vertcat(residual, *soft, *sums)
        nlp = {"x": z, "p": par, "f": economic * econ + violation, "g": g}
        opts: dict[str, Any] = {
            "error_on_fail": False,
            "print_time": False,
            "ipopt": {
                "print_level": 0,
                "sb": "yes",
                "max_iter": settings.max_iter,
                "tol": settings.tolerance,
                "max_wall_time": settings.max_wall_time_s,
            },
        }
        self._solver = ca.nlpsol("targets_rto", "ipopt", nlp, opts)
        self._cv_of = ca.Function("rto_cv", [z, par], [cv])
        self._n = (n_mv, nx, n_s, n_r)
        low, high = steady.model.bounds("x")
        self._x_low, self._x_high = low / x_scale, high / x_scale
        self._lbg = np.concatenate([np.zeros(nx + n_s), np.full(n_r, -np.inf)])
        self._ubg = np.concatenate([np.zeros(nx), np.full(n_s, np.inf), np.full(n_r, np.inf)])

    def stage_solver(
        self,
        d: np.ndarray,
        w: np.ndarray,
        u_low: np.ndarray,
        u_high: np.ndarray,
        u_prev: np.ndarray,
        u_init: np.ndarray,
        x_init: np.ndarray,
    ) -> Callable[[StageRequest], StageOutcome]:
        """Return the stage solver for one computation (warm-started stage to stage).

        Parameters
        ----------
        d, w : numpy.ndarray
            Measured disturbances and disturbance states. [SI]
        u_low, u_high : numpy.ndarray
            Bounds of the MV targets this computation (limits and moves). [SI]
        u_prev : numpy.ndarray
            Previous MV targets (the move penalty's reference). [SI]
        u_init, x_init : numpy.ndarray
            Initial guess of the MVs and of the steady state. [SI]
        """
        n_mv, nx, n_s, _ = self._n
        lbx = np.concatenate([u_low / self._u_scale, self._x_low, np.zeros(n_s)])
        ubx = np.concatenate([u_high / self._u_scale, self._x_high, np.full(n_s, np.inf)])
        z0 = np.concatenate(
            [np.clip(u_init, u_low, u_high) / self._u_scale, x_init / self._x_scale, np.zeros(n_s)]
        )
        z0 = np.clip(z0, lbx, ubx)
        state = {"z": z0}
        base = np.concatenate([d, w, u_prev])

        def solve(req: StageRequest) -> StageOutcome:
            par = np.concatenate([base, [1.0 if req.economic else 0.0], req.rank_weights])
            ubx_k = ubx.copy()
            ubx_k[n_mv + nx :] = req.slack_upper
            ubg = self._ubg.copy()
            ubg[nx + n_s :] = req.rank_caps
            z_init = np.clip(state["z"], lbx, ubx_k)
            result = self._solver(x0=z_init, p=par, lbx=lbx, ubx=ubx_k, lbg=self._lbg, ubg=ubg)
            stats = self._solver.stats()
            message = str(stats.get("return_status", ""))
            z = np.asarray(result["x"], dtype=np.float64).ravel()
            g = np.asarray(result["g"], dtype=np.float64).ravel()
            feasible = bool(
                np.all(np.isfinite(z))
                and np.all(z >= lbx - _FEAS_TOL)
                and np.all(z <= ubx_k + _FEAS_TOL)
                and np.all(g >= self._lbg - _FEAS_TOL)
                and np.all(g <= ubg + _FEAS_TOL)
            )
            status = classify(bool(stats.get("success", False)), message, feasible)
            if status.usable:
                state["z"] = z
            return StageOutcome(status, z, np.maximum(z[n_mv + nx :], 0.0), message)

        return solve

    def split(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(u, x)`` of a decision vector [SI]."""
        n_mv, nx, _, _ = self._n
        return z[:n_mv] * self._u_scale, z[n_mv : n_mv + nx] * self._x_scale
