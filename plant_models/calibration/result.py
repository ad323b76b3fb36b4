"""Calibration result and free-run validation metrics.

Validation is by *simulation*: the model runs free over the whole record
from its initial state, driven only by the recorded inputs and
disturbances, and its outputs and states are compared with the
measurements (:func:`free_run_metrics`).  That is the use the controllers
and replay make of the model; one-step-ahead predictions would flatter a
model whose errors accumulate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plant_models.calibration._casadi import model_functions, to_numpy
from plant_models.calibration.data import Dataset, as_records, bind_records
from plant_models.calibration.errors import CalibrationDataError
from plant_models.core.equations import EquationModel
from plant_models.datadriven.metrics import FitMetrics, fit_metrics
from plant_models.parameters import UnitParams

__all__ = ["CalibrationResult", "free_run", "free_run_metrics"]


def free_run(
    model: EquationModel,
    p: ArrayLike,
    record: Dataset,
    x0: ArrayLike | None = None,
    substeps: int = 1,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Simulate ``model`` over a record from ``x0`` (RK4, zero-order-hold inputs).

    The scheme is that of the numba simulator
    (:func:`plant_models.core.simulate.simulate` with ``method="rk4"``),
    evaluated through casadi like the fit itself: no kernel compilation per
    model, and the trajectories agree with the numba ones to round-off.

    Parameters
    ----------
    model : EquationModel
        A continuous-time model.
    p : array_like, shape (n_p,)
        Parameter vector. [SI]
    record : Dataset
        Supplies ``dt_s``, ``u`` and ``d``.
    x0 : array_like, shape (nx,), optional
        Initial state (not needed for a static model). [SI]
    substeps : int
        RK4 steps per sample (use the calibration's value).

    Returns
    -------
    states : numpy.ndarray, shape (N + 1, nx)
        States at the sample times and one sample after the last. [SI]
    outputs : numpy.ndarray, shape (N, ny)
        Outputs at the sample times. [SI]

    Raises
    ------
    CalibrationDataError
        If ``x0`` is missing or misshaped, or the simulation diverges.
    """
    n_x = model.sizes["x"]
    n = record.n_samples
    u = record.inputs.T
    d = record.disturbances.T
    p_arr = np.asarray(p, dtype=np.float64)
    if p_arr.shape != (model.sizes["p"],):
        raise CalibrationDataError(f"p must have shape ({model.sizes['p']},), got {p_arr.shape}")
    fns = model_functions(model, record.dt_s, substeps)
    if n_x:
        if x0 is None:
            raise CalibrationDataError(f"model {model.name} has states: x0 is required")
        start = np.asarray(x0, dtype=np.float64)
        if start.shape != (n_x,) or not np.all(np.isfinite(start)):
            raise CalibrationDataError(f"x0 must be finite with shape ({n_x},), got {start.shape}")
        traj = to_numpy(fns.step.mapaccum(n)(start, u, d, p_arr))
        states = np.hstack([start[:, np.newaxis], traj]).T
    else:
        states = np.zeros((n + 1, 0))
    outputs = to_numpy(fns.g.map(n)(states[:-1].T, u, d, p_arr)).T.reshape(n, model.sizes["y"])
    if not (np.all(np.isfinite(states)) and np.all(np.isfinite(outputs))):
        raise CalibrationDataError(
            f"model {model.name} diverges in the free-run simulation over the record starting "
            f"at t = {record.t0_s:g} s: check the parameters, or add substeps"
        )
    return states, outputs


def free_run_metrics(
    model: EquationModel,
    p: ArrayLike,
    data: Dataset | Sequence[Dataset],
    x0: ArrayLike | Sequence[ArrayLike] | None = None,
    substeps: int = 1,
) -> FitMetrics:
    """NRMSE, R2 and bias of a free-run simulation against every measured signal.

    Parameters
    ----------
    model : EquationModel
        The model.
    p : array_like
        Parameter vector. [SI]
    data : Dataset or sequence of Dataset
        Records; the metrics pool all samples of all records.
    x0 : array_like, shape (nx,) or (n_records, nx), optional
        Initial state of each record (required for a dynamic model). [SI]
    substeps : int
        RK4 steps per sample.

    Returns
    -------
    FitMetrics
        One entry per measured signal: outputs, then states, by name.
    """
    records = as_records(data)
    bound = bind_records(model, records)
    n_x = model.sizes["x"]
    starts: list[Any]
    if n_x == 0:
        starts = [None] * len(records)
    elif x0 is None:
        raise CalibrationDataError(f"model {model.name} has states: x0 is required")
    else:
        arr = np.asarray(x0, dtype=np.float64)
        arr = np.broadcast_to(arr, (len(records), n_x)) if arr.ndim == 1 else arr
        if arr.shape != (len(records), n_x):
            raise CalibrationDataError(f"x0 must have shape ({n_x},) or ({len(records)}, {n_x})")
        starts = list(arr)
    meas, pred = [], []
    for rec, start in zip(bound, starts, strict=True):
        states, outputs = free_run(model, p, rec.record, start, substeps)
        states = states[:-1]
        meas.append(np.vstack([rec.output_values, rec.state_values]).T)
        pred.append(np.hstack([outputs[:, rec.output_index], states[:, rec.state_index]]))
    names = [model.outputs[i].name for i in bound[0].output_index]
    names += [model.states[i].name for i in bound[0].state_index]
    return fit_metrics(np.vstack(meas), np.vstack(pred), names)


@dataclass(frozen=True, eq=False)
class CalibrationResult:
    """Estimated parameters, their uncertainty and the fit quality.

    Attributes
    ----------
    model : EquationModel
        The calibrated model.
    names : tuple of str
        Fitted parameters.
    values : numpy.ndarray
        Estimates. [parameter units]
    initial_values : numpy.ndarray
        Start values. [parameter units]
    standard_errors : numpy.ndarray
        Gauss-Newton standard errors. [parameter units]
    covariance, correlation : numpy.ndarray
        Covariance [parameter units squared] and correlation [-] matrices.
    confidence_95 : numpy.ndarray, shape (n, 2)
        Lower and upper 95 % bounds (Student's t). [parameter units]
    p : numpy.ndarray
        The full parameter vector with the estimates. [SI]
    params : UnitParams or None
        The unit's parameters with the estimates (``dataclasses.replace``);
        ``None`` when the calibration started from a plain vector.
    noise_std : Mapping[str, float]
        Residual scale of each signal used as its weight. [signal unit]
    residual_variance : float
        Weighted residual variance ``s^2``; near 1 when the weights match
        the noise. [-]
    dof : int
        Degrees of freedom of ``s^2``.
    initial_states : tuple of numpy.ndarray
        Initial state of each training record (estimated by multiple
        shooting, measured for equation error). [SI]
    at_bounds : tuple of str
        Parameters that ended on a bound (their standard error is not
        meaningful there).
    method : str
        ``"equation_error"`` or ``"multiple_shooting"``.
    solver_status : str
        The optimiser's final status.
    iterations : int
        Iterations (ipopt) or evaluations (scipy) of the final pass.
    train_metrics : FitMetrics
        Free-run fit on the training records.
    validation_metrics : FitMetrics or None
        Free-run fit on the validation records, if given.
    """

    model: EquationModel
    names: tuple[str, ...]
    values: NDArray[np.float64]
    initial_values: NDArray[np.float64]
    standard_errors: NDArray[np.float64]
    covariance: NDArray[np.float64]
    correlation: NDArray[np.float64]
    confidence_95: NDArray[np.float64]
    p: NDArray[np.float64]
    params: UnitParams | None
    noise_std: Mapping[str, float]
    residual_variance: float
    dof: int
    initial_states: tuple[NDArray[np.float64], ...]
    at_bounds: tuple[str, ...]
    method: str
    solver_status: str
    iterations: int
    train_metrics: FitMetrics
    validation_metrics: FitMetrics | None

    def _pos(self, name: str) -> int:
        if name not in self.names:
            raise KeyError(f"{name!r} was not fitted; fitted: {', '.join(self.names)}")
        return self.names.index(name)

    def value(self, name: str) -> float:
        """Return the estimate of parameter ``name`` [parameter unit]."""
        return float(self.values[self._pos(name)])

    def standard_error(self, name: str) -> float:
        """Return the standard error of parameter ``name`` [parameter unit]."""
        return float(self.standard_errors[self._pos(name)])

    def interval(self, name: str) -> tuple[float, float]:
        """Return the 95 % confidence interval of parameter ``name`` [parameter unit]."""
        low, high = self.confidence_95[self._pos(name)]
        return float(low), float(high)

    def as_rows(self) -> list[dict[str, float | str | bool]]:
        """One dict per parameter: name, initial, value, standard error, 95 % bounds, at bound."""
        return [
            {
                "parameter": name,
                "initial": float(self.initial_values[i]),
                "value": float(self.values[i]),
                "standard_error": float(self.standard_errors[i]),
                "ci95_low": float(self.confidence_95[i, 0]),
                "ci95_high": float(self.confidence_95[i, 1]),
                "at_bound": name in self.at_bounds,
            }
            for i, name in enumerate(self.names)
        ]
