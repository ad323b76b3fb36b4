"""LP and QP targets on the linearised steady-state model (HiGHS through casadi).

Decision vector ``z = (u / scale_u, c / scale_c, s, t)``: the MV targets
``u`` and CV targets ``c`` in units of their scales (HiGHS's QP solver
returned wrong "optimal" points on the unscaled CSTR problem, whose gains
span nine decades), the scaled violations ``s >= 0`` of the soft CV limits
and, for the LP only, ``t >= |v - ideal| / scale`` for each MV or CV ``v``
with an ideal value.  Rows of ``A z`` (each divided by its CV's scale):

- steady-state model: ``c - G u = c_base - G u_base`` (gains at the base point);
- soft limits: ``c_j + scale_j s_k >= low_j`` or ``c_j - scale_j s_k <= high_j``;
- rank sums: ``sum(s_k, k in rank r) <= cap_r``;
- (LP) ideal values: ``v / scale - t <= ideal / scale <= v / scale + t``.

Bounds: ``u`` within its limits and within ``max_move`` of the previous
target.  The economic stage minimises ``(price_u' u + price_c' c) /
objective_scale`` plus, for the QP, ``sum(move_weight ((u - u_prev) /
scale)**2)`` and ``sum(ideal_weight ((v - ideal) / scale)**2)``, for the LP
``sum(ideal_weight t)``.  The sparsity is fixed when the problem is built;
each computation passes the new gains.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import casadi as ca
import numpy as np

from controllers.targets.model import SteadyStateGains
from controllers.targets.settings import TargetSettings
from controllers.targets.staging import SoftLimits, StageOutcome, StageRequest, classify

__all__ = ["LinearTargetProblem"]

#: Constraint tolerance of the feasibility check of a returned point (HiGHS
#: meets rows and bounds to its 1e-7 primal feasibility tolerance).
_FEAS_TOL = 1e-6


def _sparse(mask: np.ndarray) -> ca.Sparsity:
    cols, rows = np.nonzero(mask.T)  # column-major order, as casadi stores nonzeros
    return ca.Sparsity.triplet(mask.shape[0], mask.shape[1], rows.tolist(), cols.tolist())


class LinearTargetProblem:
    """The LP (``quadratic=False``) or QP of the module docstring, built once.

    Parameters
    ----------
    settings : TargetSettings
        MVs, CVs, prices and solver limits.
    limits : SoftLimits
        The soft CV limits of ``settings``.
    quadratic : bool
        Build the QP (move and ideal terms quadratic) instead of the LP.
    """

    def __init__(self, settings: TargetSettings, limits: SoftLimits, quadratic: bool) -> None:
        self.settings = settings
        self.limits = limits
        self.quadratic = quadratic
        n_mv, n_cv, n_s = len(settings.mvs), len(settings.cvs), limits.size
        # Variables with an ideal value: (position in z, ideal, scale, weight).
        ideals: list[tuple[int, float, float, float]] = []
        for i, m in enumerate(settings.mvs):
            if m.ideal is not None and m.ideal_weight > 0.0:
                ideals.append((i, m.ideal, m.scale, m.ideal_weight))
        for j, c in enumerate(settings.cvs):
            if c.ideal is not None and c.ideal_weight > 0.0:
                ideals.append((n_mv + j, c.ideal, c.scale, c.ideal_weight))
        self._ideals = ideals
        self._u_scale = np.array([m.scale for m in settings.mvs])
        self._c_scale = np.array([c.scale for c in settings.cvs])
        n_t = 0 if quadratic else len(ideals)
        self._n = {"u": n_mv, "c": n_cv, "s": n_s, "t": n_t}
        self._off_s = n_mv + n_cv
        self._off_t = self._off_s + n_s
        n_z = self._off_t + n_t
        n_rows = n_cv + n_s + limits.n_ranks + 2 * n_t
        self._row_rank = n_cv + n_s
        self._row_ideal = self._row_rank + limits.n_ranks
        a = self._static_rows(n_rows, n_z)
        mask = a != 0.0
        mask[:n_cv, :n_mv] = True  # the gain block, filled per computation
        self._mask = mask
        self._a_static = a
        self._a_sparsity = _sparse(mask)
        self._a_nz = np.nonzero(mask.T)
        h_mask = np.zeros((n_z, n_z), dtype=bool)
        if quadratic:
            for i, m in enumerate(settings.mvs):
                h_mask[i, i] = m.move_weight > 0.0 or (m.ideal is not None and m.ideal_weight > 0)
            for pos, _, _, _ in ideals:
                h_mask[pos, pos] = True
        self._h_mask = h_mask
        self._h_sparsity = _sparse(h_mask)
        self._h_nz = np.nonzero(h_mask.T)
        opts: dict[str, Any] = {
            "error_on_fail": False,
            "highs": {"output_flag": False, "time_limit": settings.max_wall_time_s},
        }
        name = "targets_qp" if quadratic else "targets_lp"
        self._solver = ca.conic(name, "highs", {"h": self._h_sparsity, "a": self._a_sparsity}, opts)
        self.n_z = n_z
        self.n_rows = n_rows

    def _static_rows(self, n_rows: int, n_z: int) -> np.ndarray:
        """The rows of ``A`` that do not change between computations."""
        n_mv, n_cv = self._n["u"], self._n["c"]
        lim = self.limits
        a = np.zeros((n_rows, n_z))
        a[:n_cv, n_mv : n_mv + n_cv] = np.eye(n_cv)
        for k in range(lim.size):
            row = n_cv + k
            a[row, n_mv + lim.cv_index[k]] = 1.0
            a[row, self._off_s + k] = -1.0 if lim.upper[k] else 1.0
        for k in range(lim.size):
            a[self._row_rank + lim.rank[k], self._off_s + k] = 1.0
        for m, (pos, _, _, _) in enumerate(self._ideals[: self._n["t"]]):
            for side, sign in ((0, -1.0), (1, 1.0)):
                row = self._row_ideal + 2 * m + side
                a[row, pos] = 1.0
                a[row, self._off_t + m] = sign
        return a

    def stage_solver(
        self,
        gains: SteadyStateGains,
        u_low: np.ndarray,
        u_high: np.ndarray,
        u_prev: np.ndarray,
    ) -> Callable[[StageRequest], StageOutcome]:
        """Return the stage solver for one computation.

        Parameters
        ----------
        gains : SteadyStateGains
            Linearised steady-state model at the base point.
        u_low, u_high : numpy.ndarray
            Bounds of the MV targets this computation (limits and moves). [SI]
        u_prev : numpy.ndarray
            Previous MV targets (the move penalty's reference). [SI]
        """
        s = self.settings
        n_mv, n_cv, n_s, n_t = (self._n[k] for k in ("u", "c", "s", "t"))
        lim = self.limits
        su, sc = self._u_scale, self._c_scale
        a = self._a_static.copy()
        a[:n_cv, :n_mv] = -gains.mv_gain * su[np.newaxis, :] / sc[:, np.newaxis]
        a_dm = ca.DM(self._a_sparsity, a[self._a_nz[1], self._a_nz[0]])
        rhs = (gains.cv_base - gains.mv_gain @ gains.u_base) / sc
        lba = np.full(self.n_rows, -np.inf)
        uba = np.full(self.n_rows, np.inf)
        lba[:n_cv] = rhs
        uba[:n_cv] = rhs
        rows = n_cv + np.arange(n_s)
        lba[rows[~lim.upper]] = lim.bound[~lim.upper] / lim.scale[~lim.upper]
        uba[rows[lim.upper]] = lim.bound[lim.upper] / lim.scale[lim.upper]
        for m, (_, ideal, scale, _) in enumerate(self._ideals[:n_t]):
            uba[self._row_ideal + 2 * m] = ideal / scale
            lba[self._row_ideal + 2 * m + 1] = ideal / scale
        lbx = np.concatenate([u_low / su, np.full(n_cv, -np.inf), np.zeros(n_s + n_t)])
        ubx = np.concatenate([u_high / su, np.full(n_cv + n_s + n_t, np.inf)])
        g_econ = np.zeros(self.n_z)
        g_econ[:n_mv] = [m.price * m.scale / s.objective_scale for m in s.mvs]
        g_econ[n_mv : n_mv + n_cv] = [c.price * c.scale / s.objective_scale for c in s.cvs]
        h_econ = np.zeros((self.n_z, self.n_z))
        if self.quadratic:
            for i, mv in enumerate(s.mvs):
                h_econ[i, i] += 2.0 * mv.move_weight
                g_econ[i] -= 2.0 * mv.move_weight * u_prev[i] / mv.scale
            for pos, ideal, scale, weight in self._ideals:
                h_econ[pos, pos] += 2.0 * weight
                g_econ[pos] -= 2.0 * weight * ideal / scale
        else:
            for m, (_, _, _, weight) in enumerate(self._ideals):
                g_econ[self._off_t + m] = weight
        h_econ_dm = ca.DM(self._h_sparsity, h_econ[self._h_nz[1], self._h_nz[0]])
        h_zero = ca.DM(self._h_sparsity, 0.0)

        def solve(req: StageRequest) -> StageOutcome:
            lba_k, uba_k = lba.copy(), uba.copy()
            uba_k[self._row_rank : self._row_ideal] = req.rank_caps
            ubx_k = ubx.copy()
            ubx_k[self._off_s : self._off_t] = req.slack_upper
            if req.economic:
                h, g = h_econ_dm, g_econ
            else:
                h = h_zero
                g = np.zeros(self.n_z)
                g[self._off_s : self._off_t] = req.rank_weights[lim.rank]
            result = self._solver(h=h, g=g, a=a_dm, lba=lba_k, uba=uba_k, lbx=lbx, ubx=ubx_k)
            stats = self._solver.stats()
            message = str(stats.get("return_status", ""))
            z = np.asarray(result["x"], dtype=np.float64).ravel()
            rows_val = a @ z
            feasible = bool(
                np.all(np.isfinite(z))
                and np.all(z >= lbx - _FEAS_TOL)
                and np.all(z <= ubx_k + _FEAS_TOL)
                and np.all(rows_val >= lba_k - _FEAS_TOL * (1.0 + np.abs(lba_k)))
                and np.all(rows_val <= uba_k + _FEAS_TOL * (1.0 + np.abs(uba_k)))
            )
            status = classify(bool(stats.get("success", False)), message, feasible)
            return StageOutcome(status, z, z[self._off_s : self._off_t].copy(), message)

        return solve

    def split(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(u, c)`` of a decision vector [SI]."""
        n_mv, n_cv = self._n["u"], self._n["c"]
        return z[:n_mv] * self._u_scale, z[n_mv : n_mv + n_cv] * self._c_scale
