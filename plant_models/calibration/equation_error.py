"""Equation-error least squares: the model equations evaluated at the measured states.

Residuals (each divided by its signal's noise scale):

- every measured output: ``g(x_k, u_k, d_k, p)[j] - y_meas[j, k]`` for all
  samples (static outputs; for a dynamic model ``x_k`` are the measured
  states);
- every state of a dynamic model, with ``dynamics="one_step"``: the one-sample
  RK4 prediction ``step(x_k, u_k, d_k, p) - x_{k+1}``, exact for the
  zero-order-hold inputs of a sampled record; with ``"derivative"``:
  ``f(xs_k, u_k, d_k, p) - xdot_k`` with ``xs`` and ``xdot`` the
  Savitzky-Golay smoothed states and derivatives (cheaper for long records,
  but blurred at input steps).

Either needs every state measured.  Noise on the measured states enters the
regressors (errors in variables), which biases the estimates by a fraction of
the noise-to-signal ratio; :mod:`plant_models.calibration.shooting` has no
such bias.

The problem is solved by ``scipy.optimize.least_squares`` (trust-region
reflective): it handles the parameter bounds, uses the exact casadi
Jacobian, and is robust for these small dense problems (a handful of
parameters, some thousand residuals) where ipopt's sparse machinery buys
nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plant_models.calibration._casadi import model_functions, parameter_expression, to_numpy
from plant_models.calibration.data import BoundRecord
from plant_models.calibration.errors import (
    CalibrationDataError,
    CalibrationError,
    CalibrationSolverError,
)
from plant_models.calibration.problem import ResidualLayout, SolveOutcome, noise_scale
from plant_models.calibration.spec import CalibrationSettings, FreeParameters
from plant_models.core.equations import EquationModel

__all__ = ["EquationErrorProblem"]


def _signal_labels(model: EquationModel, rec: BoundRecord) -> tuple[list[str], list[str]]:
    outputs = [model.outputs[i].name for i in rec.output_index]
    states = [v.name for v in model.states]
    return outputs, states


class EquationErrorProblem:
    """Equation-error least-squares problem of one model on one or more records.

    Parameters
    ----------
    model : EquationModel
        The model.
    free : FreeParameters
        Parameters to fit.
    records : sequence of BoundRecord
        Training records (every state measured for a dynamic model).
    settings : CalibrationSettings
        ``dynamics``, ``substeps``, ``derivative_window``, ``max_iter``, ``tol``.

    Raises
    ------
    CalibrationError
        If a dynamic model's states are not all measured.
    CalibrationDataError
        If a record is shorter than the derivative window.
    """

    def __init__(
        self,
        model: EquationModel,
        free: FreeParameters,
        records: Sequence[BoundRecord],
        settings: CalibrationSettings,
    ) -> None:
        import casadi
        from scipy.signal import savgol_filter

        n_x = model.sizes["x"]
        for rec in records:
            if n_x and not rec.all_states_measured:
                missing = [
                    v.name for i, v in enumerate(model.states) if i not in set(rec.state_index)
                ]
                raise CalibrationError(
                    f"equation error needs every state of model {model.name} measured; missing: "
                    f"{', '.join(missing)}; use method='multiple_shooting'"
                )
        self.model = model
        self.free = free
        self.settings = settings
        self.records = tuple(records)
        dt_s = records[0].record.dt_s
        fns = model_functions(model, dt_s, settings.substeps)
        out_labels, state_labels = _signal_labels(model, records[0])
        labels = out_labels + (state_labels if n_x else [])
        n_sig = len(labels)
        theta = casadi.MX.sym("theta", free.n_free)
        inv_sigma = casadi.MX.sym("inv_sigma", n_sig)
        p = parameter_expression(theta, free)
        blocks: list[Any] = []
        rows: list[NDArray[np.int64]] = []
        scales = np.zeros((len(records), n_sig))
        for r, rec in enumerate(records):
            data = rec.record
            n = data.n_samples
            x = rec.full_states() if n_x else np.zeros((0, n))
            u = data.inputs.T
            d = data.disturbances.T
            n_out = rec.output_index.size
            if settings.dynamics == "derivative" and n_x:
                window = settings.derivative_window
                if n < window:
                    raise CalibrationDataError(
                        f"a record of {n} samples is shorter than derivative_window {window}"
                    )
                xdot = savgol_filter(x, window, 2, deriv=1, delta=dt_s, axis=1)
                x = savgol_filter(x, window, 2, axis=1)
            if n_out:
                y = fns.g.map(n)(x, u, d, p)
                err = y[list(rec.output_index), :] - rec.output_values
                blocks.append(self._weighted(err, inv_sigma, 0, n_out))
                rows.append(np.repeat(np.arange(n_out), n))
                scales[r, :n_out] = [noise_scale(v) for v in rec.output_values]
            if n_x:
                if settings.dynamics == "one_step":
                    pred = fns.step.map(n - 1)(x[:, :-1], u[:, :-1], d[:, :-1], p)
                    err = pred - x[:, 1:]
                    m = n - 1
                    scales[r, n_out:] = [noise_scale(v) * np.sqrt(2.0) for v in x]
                else:
                    err = fns.f.map(n)(x, u, d, p) - xdot
                    m = n
                    scales[r, n_out:] = [max(noise_scale(v), 1e-300) for v in xdot]
                blocks.append(self._weighted(err, inv_sigma, n_out, n_x))
                rows.append(n_out + np.repeat(np.arange(n_x), m))
        residuals = casadi.vertcat(*blocks)
        self._fn = casadi.Function(
            "equation_error",
            [theta, inv_sigma],
            [residuals, casadi.jacobian(residuals, theta)],
        )
        self.layout = ResidualLayout(
            labels=tuple(labels),
            signal_of_row=np.concatenate(rows).astype(np.int64),
            initial_sigma=scales.max(axis=0),
        )
        self._initial_states = tuple(
            rec.full_states()[:, 0] if n_x else np.zeros(0) for rec in records
        )

    def sensitivity(
        self, inv_sigma: NDArray[np.float64], theta: NDArray[np.float64]
    ) -> SolveOutcome:
        """Weighted residuals and their Jacobian at ``theta`` (no solve)."""
        r, jac = self._fn(theta / self.free.scale, inv_sigma)
        residuals = to_numpy(r).ravel()
        return SolveOutcome(
            theta=np.asarray(theta, dtype=np.float64),
            residuals=residuals,
            jacobian=to_numpy(jac),
            nuisance=np.zeros((residuals.size, 0)),
            initial_states=self._initial_states,
            iterations=0,
            status="not solved",
            converged=False,
        )

    @staticmethod
    def _weighted(err: Any, inv_sigma: Any, first: int, count: int) -> Any:
        """Weight each row of ``err`` by its signal's inverse scale; flatten signal by signal."""
        import casadi

        weights = casadi.diag(inv_sigma[first : first + count])
        return casadi.vec(casadi.mtimes(weights, err).T)

    def solve(self, inv_sigma: NDArray[np.float64], start: NDArray[np.float64]) -> SolveOutcome:
        """Minimise the weighted residuals (plus prior terms) from ``start``.

        Parameters
        ----------
        inv_sigma : numpy.ndarray
            Weight (inverse residual scale) of each signal of :attr:`layout`.
        start : numpy.ndarray
            Start values of the free parameters. [parameter units]

        Raises
        ------
        CalibrationSolverError
            If the residuals are not finite at the start.  Non-convergence is
            reported in the outcome (``converged``), for diagnosis by the caller.
        """
        from scipy.optimize import least_squares

        free = self.free
        cache: dict[bytes, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}

        def evaluate(z: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
            key = z.tobytes()
            if key not in cache:
                cache.clear()
                r, jac = self._fn(z, inv_sigma)
                cache[key] = (to_numpy(r).ravel(), to_numpy(jac))
            return cache[key]

        prior = free.has_prior
        prior_weight = free.scale[prior] / free.prior_std[prior]
        prior_target = free.prior_mean[prior] / free.scale[prior]
        prior_jac = np.zeros((int(prior.sum()), free.n_free))
        prior_jac[np.arange(prior_jac.shape[0]), np.flatnonzero(prior)] = prior_weight

        def fun(z: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.concatenate([evaluate(z)[0], prior_weight * (z[prior] - prior_target)])

        def jac(z: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.vstack([evaluate(z)[1], prior_jac])

        z0 = start / free.scale
        r0 = evaluate(z0)[0]
        bad = np.flatnonzero(~np.isfinite(r0))
        if bad.size:
            signal = self.layout.labels[int(self.layout.signal_of_row[bad[0]])]
            raise CalibrationSolverError(
                f"model {self.model.name} gives NaN or infinite residuals of {signal} at the "
                "start values: check the initial parameters and the data ranges",
                "invalid_start",
            )
        fit = least_squares(
            fun,
            z0,
            jac=jac,
            bounds=(free.lower / free.scale, free.upper / free.scale),
            method="trf",
            ftol=self.settings.tol,
            xtol=self.settings.tol,
            gtol=self.settings.tol,
            max_nfev=self.settings.max_iter,
        )
        r, j = evaluate(fit.x)
        return SolveOutcome(
            theta=fit.x * free.scale,
            residuals=r,
            jacobian=j,
            nuisance=np.zeros((r.size, 0)),
            initial_states=self._initial_states,
            iterations=int(fit.nfev),
            status=str(fit.message),
            converged=fit.status > 0,
            message=(
                f"least squares did not converge for model {self.model.name}: {fit.message} "
                f"({fit.nfev} evaluations); raise max_iter, narrow the bounds or check the "
                "start values"
            ),
        )
