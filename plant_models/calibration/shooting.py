"""Multiple shooting: output-error fit of simulated trajectories, solved by ipopt.

Each record is cut into segments of ``segment_length`` samples.  The decision
variables are the scaled free parameters and the state at the start of every
segment; within a segment the model is integrated by the RK4 sample step
(:mod:`plant_models.calibration._casadi`), and the end state of each segment
must equal the start state of the next (equality constraints, so the
converged fit is one continuous simulation per record).  The objective is
half the sum of squared weighted residuals of every measured output and
state at every sample, plus the prior terms.

Why ipopt through casadi: the problem is a sparse, equality-constrained NLP
(continuity couples only neighbouring segments) with exact first derivatives
from casadi and a generalised Gauss-Newton Hessian (Bock's choice for
multiple-shooting parameter estimation); ipopt exploits that sparsity, and
the segments keep the fit from being trapped by the poor start values that
make single shooting diverge.  Its return status is checked here (never
trusted implicitly); a failure becomes a
:class:`~plant_models.calibration.errors.CalibrationSolverError`.

The statistics need the sensitivity of the residuals to the parameters of
*the continuous trajectory*: the segment start states are eliminated through
the linearised continuity constraints, leaving the parameters and each
record's initial state (a nuisance estimate) as the only free directions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plant_models.calibration._casadi import model_functions, parameter_expression, to_numpy
from plant_models.calibration.data import BoundRecord
from plant_models.calibration.errors import CalibrationError
from plant_models.calibration.problem import ResidualLayout, SolveOutcome, noise_scale
from plant_models.calibration.spec import CalibrationSettings, FreeParameters
from plant_models.core.equations import EquationModel

__all__ = ["ACCEPTED_STATUSES", "MultipleShootingProblem"]

#: ipopt return statuses accepted as converged.
ACCEPTED_STATUSES = ("Solve_Succeeded", "Solved_To_Acceptable_Level")


def _segments(n: int, length: int) -> list[tuple[int, int]]:
    """``(start, count)`` of each segment of a record of ``n`` samples."""
    return [(k, min(length, n - k)) for k in range(0, n, length)]


def _state_scale(
    model: EquationModel, guesses: Sequence[NDArray[np.float64]]
) -> NDArray[np.float64]:
    low, high = model.bounds("x")
    env = np.maximum(np.abs(low), np.abs(high))
    seen = np.max(np.abs(np.vstack(guesses)), axis=0)
    scale = np.where(np.isfinite(env) & (env > 0.0), env, seen)
    return np.where(scale > 0.0, scale, 1.0)


class MultipleShootingProblem:
    """Multiple-shooting output-error problem of one model on one or more records.

    Parameters
    ----------
    model : EquationModel
        The model (continuous time).
    free : FreeParameters
        Parameters to fit.
    records : sequence of BoundRecord
        Training records.
    settings : CalibrationSettings
        ``substeps``, ``segment_length``, ``max_iter``, ``tol``.
    x0 : array_like, shape (nx,) or (n_records, nx), optional
        Initial-state guess of each record; measured states are taken from
        the data.  Needed for unmeasured states whose envelope is unbounded
        (otherwise the envelope midpoint is used).

    Raises
    ------
    CalibrationError
        For a model without states, or a missing or misshaped ``x0``.
    """

    def __init__(
        self,
        model: EquationModel,
        free: FreeParameters,
        records: Sequence[BoundRecord],
        settings: CalibrationSettings,
        x0: ArrayLike | None = None,
    ) -> None:
        import casadi

        n_x = model.sizes["x"]
        if n_x == 0:
            raise CalibrationError(f"model {model.name} has no states: use method='equation_error'")
        self.model = model
        self.free = free
        self.settings = settings
        self.records = tuple(records)
        dt_s = records[0].record.dt_s
        fns = model_functions(model, dt_s, settings.substeps)
        guesses = self._state_guesses(x0)
        self.x_scale = _state_scale(model, guesses)
        out_labels = [model.outputs[i].name for i in records[0].output_index]
        state_labels = [model.states[i].name for i in records[0].state_index]
        labels = out_labels + state_labels
        n_sig = len(labels)
        n_out = len(out_labels)

        theta = casadi.MX.sym("theta", free.n_free)
        inv_sigma = casadi.MX.sym("inv_sigma", n_sig)
        p = parameter_expression(theta, free)
        x_scale = casadi.DM(self.x_scale)
        shooting: list[Any] = []
        start_values: list[NDArray[np.float64]] = []
        residuals: list[Any] = []
        continuity: list[Any] = []
        rows: list[NDArray[np.int64]] = []
        scales = np.zeros((len(records), n_sig))
        self._segment_counts: list[int] = []
        for r, rec in enumerate(records):
            data = rec.record
            n = data.n_samples
            u = data.inputs.T
            d = data.disturbances.T
            segs = _segments(n, settings.segment_length)
            self._segment_counts.append(len(segs))
            s_var = casadi.MX.sym(f"s{r}", n_x, len(segs))
            shooting.append(s_var)
            starts = self._initial_trajectory(fns, guesses[r], rec, p_value=free.p_base)
            start_values.append(starts[:, [k for k, _ in segs]] / self.x_scale[:, np.newaxis])
            x_samples, link = self._trajectory(fns.step, s_var, u, d, p, x_scale)
            if link is not None:
                continuity.append(link)
            errs = []
            if n_out:
                y = fns.g.map(n)(x_samples, u, d, p)
                errs.append(y[list(rec.output_index), :] - rec.output_values)
                scales[r, :n_out] = [noise_scale(v) for v in rec.output_values]
            if rec.state_index.size:
                errs.append(x_samples[list(rec.state_index), :] - rec.state_values)
                scales[r, n_out:] = [noise_scale(v) for v in rec.state_values]
            err = casadi.vertcat(*errs)
            residuals.append(casadi.vec(casadi.mtimes(casadi.diag(inv_sigma), err).T))
            rows.append(np.repeat(np.arange(n_sig), n))

        self.layout = ResidualLayout(
            labels=tuple(labels),
            signal_of_row=np.concatenate(rows).astype(np.int64),
            initial_sigma=scales.max(axis=0),
        )
        w = casadi.vertcat(theta, *[casadi.vec(s) for s in shooting])
        r_all = casadi.vertcat(*residuals)
        c_all = casadi.vertcat(*continuity) if continuity else casadi.MX.zeros(0, 1)
        prior = free.has_prior
        if prior.any():
            target = casadi.DM(free.prior_mean[prior] / free.scale[prior])
            weight = casadi.DM(free.scale[prior] / free.prior_std[prior])
            prior_r = (theta[[int(i) for i in np.flatnonzero(prior)]] - target) * weight
        else:
            prior_r = casadi.MX.zeros(0, 1)
        objective = 0.5 * casadi.sumsqr(r_all) + 0.5 * casadi.sumsqr(prior_r)
        self._n_w = int(w.numel())
        self._w0_states = np.concatenate([v.ravel(order="F") for v in start_values])
        self._solver = casadi.nlpsol(
            "calibration",
            "ipopt",
            {"x": w, "p": inv_sigma, "f": objective, "g": c_all},
            {
                "ipopt.print_level": 0,
                "ipopt.sb": "yes",
                "print_time": False,
                "ipopt.max_iter": settings.max_iter,
                "ipopt.tol": settings.tol,
                "hess_lag": self._gauss_newton_hessian(w, inv_sigma, r_all, prior_r, c_all),
                # A trial step into a region where the model gives NaN is
                # handled by ipopt (it shortens the step); the final status is
                # checked below, so casadi need not print each occurrence.
                "show_eval_warnings": False,
            },
        )
        self._jacobians = casadi.Function(
            "shooting_jacobians",
            [w, inv_sigma],
            [r_all, casadi.jacobian(r_all, w), casadi.jacobian(c_all, w)],
        )
        self._n_g = int(c_all.numel())

    def _trajectory(
        self,
        step: Any,
        s_var: Any,
        u: NDArray[np.float64],
        d: NDArray[np.float64],
        p: Any,
        x_scale: Any,
    ) -> tuple[Any, Any]:
        """States at every sample of a record, and the scaled continuity defects.

        The full-length segments are integrated by one mapped ``mapaccum``
        of the sample step (one casadi function for all of them, which keeps
        the derivative evaluations fast); a shorter last segment by another.
        """
        import casadi

        n_x = self.model.sizes["x"]
        n = u.shape[1]
        length = self.settings.segment_length
        n_full, rest = divmod(n, length)
        starts = s_var * casadi.repmat(x_scale, 1, s_var.shape[1])
        pieces, ends = [], []
        if n_full:
            k = n_full * length
            traj = step.mapaccum(length).map(n_full)(starts[:, :n_full], u[:, :k], d[:, :k], p)
            block = casadi.reshape(traj, n_x * length, n_full)
            samples = casadi.vertcat(starts[:, :n_full], block[: n_x * (length - 1), :])
            pieces.append(casadi.reshape(samples, n_x, k))
            ends.append(block[n_x * (length - 1) :, :])
        if rest:
            k = n_full * length
            traj = step.mapaccum(rest)(starts[:, n_full], u[:, k:], d[:, k:], p)
            pieces.append(casadi.horzcat(starts[:, n_full], traj[:, : rest - 1]))
            ends.append(traj[:, rest - 1])
        end_states = casadi.horzcat(*ends)
        if s_var.shape[1] < 2:
            return casadi.horzcat(*pieces), None
        defects = end_states[:, :-1] - starts[:, 1:]
        defects = defects / casadi.repmat(x_scale, 1, s_var.shape[1] - 1)
        return casadi.horzcat(*pieces), casadi.vec(defects)

    @staticmethod
    def _gauss_newton_hessian(w: Any, inv_sigma: Any, r_all: Any, prior_r: Any, c_all: Any) -> Any:
        """Generalised Gauss-Newton Hessian of the Lagrangian (Bock 1983).

        ``lam_f (J^T J)`` with ``J`` the Jacobian of all residuals (data and
        prior): it drops the residual and constraint curvature, which vanish
        at a good fit, is always positive semidefinite, and costs first
        derivatives only -- the exact Hessian of the shooting graph took
        about twice as long per iteration and longer to build.
        """
        import casadi

        lam_f = casadi.MX.sym("lam_f")
        lam_g = casadi.MX.sym("lam_g", c_all.numel())
        jac = casadi.jacobian(casadi.vertcat(r_all, prior_r), w)
        hess = lam_f * casadi.triu(casadi.mtimes(jac.T, jac))
        return casadi.Function(
            "gauss_newton_hessian",
            [w, inv_sigma, lam_f, lam_g],
            [hess],
            ["x", "p", "lam_f", "lam_g"],
            ["hess_gamma_x_x"],
        )

    # ------------------------------------------------------------ start values
    def _state_guesses(self, x0: ArrayLike | None) -> list[NDArray[np.float64]]:
        """Initial-state guess of each record (measured entries from the data)."""
        model = self.model
        n_x = model.sizes["x"]
        n_rec = len(self.records)
        if x0 is not None:
            arr = np.asarray(x0, dtype=np.float64)
            if arr.shape == (n_x,):
                arr = np.broadcast_to(arr, (n_rec, n_x))
            if arr.shape != (n_rec, n_x) or not np.all(np.isfinite(arr)):
                raise CalibrationError(
                    f"x0 must be finite with shape ({n_x},) or ({n_rec}, {n_x}), got {np.shape(x0)}"
                )
        else:
            low, high = model.bounds("x")
            mid = 0.5 * (low + high)
            measured = set(self.records[0].state_index.tolist())
            missing = [
                v.name
                for i, v in enumerate(model.states)
                if i not in measured and not np.isfinite(mid[i])
            ]
            if missing:
                raise CalibrationError(
                    f"give x0: unmeasured state(s) {', '.join(missing)} have no bounded envelope "
                    "to start from"
                )
            arr = np.broadcast_to(np.where(np.isfinite(mid), mid, 0.0), (n_rec, n_x))
        guesses = []
        for r, rec in enumerate(self.records):
            guess = np.array(arr[r], dtype=np.float64)
            guess[rec.state_index] = rec.state_values[:, 0]
            guesses.append(guess)
        return guesses

    @staticmethod
    def _initial_trajectory(
        fns: Any, x_start: NDArray[np.float64], rec: BoundRecord, p_value: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Simulate with the start parameters; measured states replace simulated ones."""
        data = rec.record
        n = data.n_samples
        sim = to_numpy(
            fns.step.mapaccum(n - 1)(x_start, data.inputs[:-1].T, data.disturbances[:-1].T, p_value)
        )
        traj = np.hstack([x_start[:, np.newaxis], sim])
        # A start far from the truth can make the simulation diverge: hold the
        # start state instead, the shooting states will be moved by ipopt.
        bad = ~np.isfinite(traj)
        traj[bad] = np.broadcast_to(x_start[:, np.newaxis], traj.shape)[bad]
        traj[rec.state_index] = rec.state_values
        return traj

    # ------------------------------------------------------------ solve
    def solve(self, inv_sigma: NDArray[np.float64], start: NDArray[np.float64]) -> SolveOutcome:
        """Solve the shooting NLP from ``start`` (parameters) and the stored state guesses.

        ipopt's return status is checked against :data:`ACCEPTED_STATUSES`;
        any other status (iteration limit, restoration failure, invalid
        numbers, ...) gives an outcome with ``converged=False`` and the
        status, which :func:`~plant_models.calibration.calibrate` turns into a
        :class:`~plant_models.calibration.errors.CalibrationSolverError` (or an
        identifiability error when that explains the failure).
        """
        free = self.free
        w0 = np.concatenate([start / free.scale, self._w0_states])
        lbx = np.full(self._n_w, -np.inf)
        ubx = np.full(self._n_w, np.inf)
        lbx[: free.n_free] = free.lower / free.scale
        ubx[: free.n_free] = free.upper / free.scale
        sol = self._solver(x0=w0, p=inv_sigma, lbx=lbx, ubx=ubx, lbg=0.0, ubg=0.0)
        stats = self._solver.stats()
        status = str(stats.get("return_status", "unknown"))
        iterations = int(stats.get("iter_count", -1))
        converged = status in ACCEPTED_STATUSES
        w = to_numpy(sol["x"]).ravel()
        if converged:
            self._w0_states = w[free.n_free :]  # warm start of a reweighted second pass
        return self._outcome(w, inv_sigma, converged, status, iterations)

    def sensitivity(
        self, inv_sigma: NDArray[np.float64], theta: NDArray[np.float64]
    ) -> SolveOutcome:
        """Residuals and sensitivities at ``theta`` and the stored state guesses (no solve)."""
        w = np.concatenate([theta / self.free.scale, self._w0_states])
        return self._outcome(w, inv_sigma, False, "not solved", 0)

    def _outcome(
        self,
        w: NDArray[np.float64],
        inv_sigma: NDArray[np.float64],
        converged: bool,
        status: str,
        iterations: int,
    ) -> SolveOutcome:
        free = self.free
        r, jr, jc = self._jacobians(w, inv_sigma)
        try:
            jacobian, nuisance = self._eliminate(jr.sparse(), jc.sparse())
        except RuntimeError:
            # Singular continuity Jacobian: only possible at a non-finite
            # last iterate of a failed solve; nothing left to diagnose.
            if converged:
                raise
            n_r = int(r.numel())
            jacobian = np.full((n_r, free.n_free), np.nan)
            nuisance = np.zeros((n_r, 0))
        return SolveOutcome(
            theta=w[: free.n_free] * free.scale,
            residuals=to_numpy(r).ravel(),
            jacobian=jacobian,
            nuisance=nuisance,
            initial_states=self._record_initial_states(w),
            iterations=iterations,
            status=status,
            converged=converged,
            message=(
                f"ipopt did not converge for model {self.model.name}: {status} after "
                f"{iterations} iterations; check the start values and bounds, raise max_iter, "
                "shorten segment_length or add substeps"
            ),
        )

    def _record_initial_states(self, w: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
        n_x = self.model.sizes["x"]
        pos = self.free.n_free
        out = []
        for count in self._segment_counts:
            out.append(w[pos : pos + n_x] * self.x_scale)
            pos += n_x * count
        return tuple(out)

    def _eliminate(self, jr: Any, jc: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Residual sensitivities to (parameters, record initial states) along the constraints.

        With ``w = (theta, s_0, s_rest)`` and continuity ``c(w) = 0``, the
        later segment states follow from ``dc/ds_rest ds_rest = -dc/dq dq``
        for ``q = (theta, s_0)``; ``dc/ds_rest`` is block bidiagonal with
        ``-I`` on its diagonal, hence invertible.
        """
        from scipy.sparse.linalg import splu

        n_x = self.model.sizes["x"]
        n_t = self.free.n_free
        q_cols = list(range(n_t))
        z_cols: list[int] = []
        pos = n_t
        for count in self._segment_counts:
            q_cols.extend(range(pos, pos + n_x))
            z_cols.extend(range(pos + n_x, pos + n_x * count))
            pos += n_x * count
        jr_q = jr[:, q_cols].toarray()
        if z_cols:
            jc = jc.tocsc()
            dz_dq = -splu(jc[:, z_cols].tocsc()).solve(jc[:, q_cols].toarray())
            jr_q = jr_q + jr[:, z_cols] @ dz_dq
        return np.asarray(jr_q[:, :n_t]), np.asarray(jr_q[:, n_t:])
