"""Parameter estimation from data arrays: the entry point :func:`calibrate`.

Workflow: resolve the free parameters, build the estimation problem
(:mod:`~plant_models.calibration.equation_error` or
:mod:`~plant_models.calibration.shooting`), solve it with first-pass weights,
re-weight each signal by its residual RMS and solve again (unless noise
levels are given), test identifiability and compute the statistics
(:mod:`~plant_models.calibration.statistics`), then validate by free-run
simulation on the training and hold-out records.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plant_models.calibration.data import Dataset, as_records, bind_records
from plant_models.calibration.equation_error import EquationErrorProblem
from plant_models.calibration.errors import (
    CalibrationDataError,
    CalibrationError,
    CalibrationSolverError,
    IdentifiabilityError,
)
from plant_models.calibration.problem import SolveOutcome
from plant_models.calibration.result import CalibrationResult, free_run, free_run_metrics
from plant_models.calibration.shooting import MultipleShootingProblem
from plant_models.calibration.spec import (
    CalibrationSettings,
    FitParameter,
    FreeParameters,
    resolve_parameters,
)
from plant_models.calibration.statistics import parameter_statistics
from plant_models.core.equations import EquationModel
from plant_models.parameters import ParameterError, UnitParams

__all__ = ["calibrate", "parameter_vector"]

#: Relative distance to a bound (in parameter scales) at which an estimate counts as on it.
_AT_BOUND = 1e-6


def parameter_vector(model: EquationModel, params: UnitParams | ArrayLike) -> NDArray[np.float64]:
    """Return the model's full parameter vector from unit parameters or a plain vector.

    Raises
    ------
    CalibrationError
        For a vector of the wrong length or with non-finite entries.
    """
    if isinstance(params, UnitParams):
        return model.pack_parameters(params)
    p = np.asarray(params, dtype=np.float64)
    n_p = model.sizes["p"]
    if p.shape != (n_p,) or not np.all(np.isfinite(p)):
        raise CalibrationError(
            f"parameter vector must be finite with shape ({n_p},), got shape {p.shape}"
        )
    return p


def _weights(
    labels: tuple[str, ...], initial: NDArray[np.float64], noise_std: Mapping[str, float] | None
) -> NDArray[np.float64]:
    if noise_std is None:
        return 1.0 / initial
    unknown = sorted(set(noise_std) - set(labels))
    missing = [k for k in labels if k not in noise_std]
    if unknown or missing:
        raise CalibrationError(
            f"noise_std must give every measured signal ({', '.join(labels)}); "
            f"missing: {', '.join(missing) or '-'}; unknown: {', '.join(unknown) or '-'}"
        )
    sigma = np.array([float(noise_std[k]) for k in labels])
    if not np.all(np.isfinite(sigma) & (sigma > 0.0)):
        raise CalibrationError("noise_std values must be positive and finite")
    return 1.0 / sigma


def _solve(
    problem: EquationErrorProblem | MultipleShootingProblem,
    inv_sigma: NDArray[np.float64],
    start: NDArray[np.float64],
    free: FreeParameters,
    settings: CalibrationSettings,
) -> SolveOutcome:
    """Solve; on failure, report an identifiability defect at the last iterate if there is one.

    An optimiser that wanders along a flat valley of the objective fails to
    converge *because* the data do not determine a parameter combination;
    naming it helps the user more than the solver status does.
    """
    outcome = problem.solve(inv_sigma, start)
    if outcome.converged:
        return outcome
    for where, probe in (
        ("where the optimiser stopped", outcome),
        ("at the start values", problem.sensitivity(inv_sigma, start)),
    ):
        if not (np.all(np.isfinite(probe.jacobian)) and np.all(np.isfinite(probe.residuals))):
            continue
        try:
            parameter_statistics(
                free.names,
                probe.theta,
                free.scale,
                probe.jacobian,
                probe.residuals,
                probe.nuisance,
                free.prior_std,
                rcond=settings.rcond,
                max_relative_se=settings.max_relative_se,
            )
        except IdentifiabilityError as exc:
            raise IdentifiabilityError(
                f"{exc} (found {where}; the optimiser did not converge: {outcome.status})",
                exc.parameters,
                exc.correlation,
            ) from None
        except CalibrationDataError:
            pass
    raise CalibrationSolverError(outcome.message, outcome.status)


def _replace_fields(
    params: UnitParams | ArrayLike, names: Sequence[str], theta: NDArray[np.float64]
) -> UnitParams | None:
    """The unit's dataclass with the estimates, or ``None`` (vector start, or non-field names).

    Raises
    ------
    CalibrationError
        If the estimates break a rule of the dataclass's own validation.
    """
    if not isinstance(params, UnitParams):
        return None
    fields = {f.name for f in dataclasses.fields(params)}
    if not set(names) <= fields:
        return None  # e.g. the map coefficients of a hybrid model
    try:
        return dataclasses.replace(params, **dict(zip(names, theta.tolist(), strict=True)))
    except ParameterError as exc:
        raise CalibrationError(
            f"the estimates break a rule of {type(params).__name__} ({exc}): bound the "
            "parameters to its admissible values"
        ) from exc


def _validation_starts(
    model: EquationModel,
    p: NDArray[np.float64],
    train: Sequence[Dataset],
    train_x0: Sequence[NDArray[np.float64]],
    validation: Sequence[Dataset],
    substeps: int,
) -> list[NDArray[np.float64]]:
    """Initial state of each validation record, chaining from the end of the training run.

    Measured states start at their first measurement; unmeasured ones at the
    simulated state at the end of the preceding record (records assumed
    consecutive, as produced by :meth:`Dataset.split`).
    """

    def end_state(rec: Dataset, x0: NDArray[np.float64]) -> NDArray[np.float64]:
        return free_run(model, p, rec, x0, substeps)[0][-1]

    state = end_state(train[-1], train_x0[-1])
    starts = []
    for rec, bound in zip(validation, bind_records(model, validation), strict=True):
        x0 = state.copy()
        x0[bound.state_index] = bound.state_values[:, 0]
        starts.append(x0)
        state = end_state(rec, x0)
    return starts


def calibrate(
    model: EquationModel,
    params: UnitParams | ArrayLike,
    fit: Sequence[str | FitParameter],
    train: Dataset | Sequence[Dataset],
    validation: Dataset | Sequence[Dataset] | None = None,
    *,
    settings: CalibrationSettings | None = None,
    noise_std: Mapping[str, float] | None = None,
    x0: ArrayLike | None = None,
    validation_x0: ArrayLike | None = None,
) -> CalibrationResult:
    """Estimate parameters of ``model`` from measured records.

    Parameters
    ----------
    model : EquationModel
        A continuous-time model (unit or composed plant).
    params : UnitParams or array_like
        Current parameters: the unit's dataclass, or a full parameter vector
        (for example :meth:`Plant.pack_parameters`). [SI]
    fit : sequence of str or FitParameter
        Parameters to estimate, by name, optionally with bounds and priors.
    train : Dataset or sequence of Dataset
        Training records.
    validation : Dataset or sequence of Dataset, optional
        Hold-out records for the free-run validation metrics.
    settings : CalibrationSettings, optional
        Method and solver settings.
    noise_std : Mapping[str, float], optional
        Residual standard deviation of every measured signal (fixed weights;
        disables re-weighting).  For measured outputs and for multiple
        shooting this is the sensor noise; the one-step equation error of a
        state has about sqrt(2) times its sensor noise. [signal unit]
    x0 : array_like, shape (nx,) or (n_records, nx), optional
        Initial-state guess for multiple shooting (unmeasured states). [SI]
    validation_x0 : array_like, shape (nx,) or (n_records, nx), optional
        Initial states of the validation records; by default measured states
        start at their measurement and unmeasured ones continue from the
        simulated end of the preceding record. [SI]

    Returns
    -------
    CalibrationResult

    Raises
    ------
    CalibrationError
        For unknown names, unsuitable settings or a discrete-time model.
    CalibrationDataError
        For malformed or non-finite data, or too few samples.
    CalibrationSolverError
        If the optimiser does not converge.
    IdentifiabilityError
        If the data cannot identify a parameter (the message names it).
    """
    settings = settings if settings is not None else CalibrationSettings()
    # getattr: the discrete-time flag ``dt_s`` is recent in the model core.
    if getattr(model, "dt_s", None) is not None:
        raise CalibrationError(
            f"model {model.name} is discrete-time: identify it with DataDrivenUnit.identify"
        )
    p0 = parameter_vector(model, params)
    free = resolve_parameters(model, p0, fit)
    records = as_records(train, "train")
    bound = bind_records(model, records)
    problem: EquationErrorProblem | MultipleShootingProblem
    if settings.method == "equation_error":
        problem = EquationErrorProblem(model, free, bound, settings)
    else:
        problem = MultipleShootingProblem(model, free, bound, settings, x0)
    layout = problem.layout
    n_rows = layout.signal_of_row.size
    n_initial = model.sizes["x"] * len(records) if settings.method == "multiple_shooting" else 0
    if n_rows <= free.n_free + n_initial:
        raise CalibrationDataError(
            f"{n_rows} residuals cannot determine {free.n_free} parameters and {n_initial} "
            "initial states: use longer records or fit fewer parameters"
        )
    inv_sigma = _weights(layout.labels, layout.initial_sigma, noise_std)
    outcome = _solve(problem, inv_sigma, free.initial, free, settings)
    if noise_std is None and settings.reweight:
        rms = layout.rms_per_signal(outcome.residuals, inv_sigma)
        # A noise-free signal fits to round-off: keep its weight finite.
        inv_sigma = 1.0 / np.maximum(rms, 1e-12 * layout.initial_sigma)
        outcome = _solve(problem, inv_sigma, outcome.theta, free, settings)
    stats = parameter_statistics(
        free.names,
        outcome.theta,
        free.scale,
        outcome.jacobian,
        outcome.residuals,
        outcome.nuisance,
        free.prior_std,
        rcond=settings.rcond,
        max_relative_se=settings.max_relative_se,
    )
    theta = outcome.theta
    p = free.full(theta)
    new_params = _replace_fields(params, free.names, theta)
    margin = _AT_BOUND * free.scale
    at_bounds = tuple(
        name
        for i, name in enumerate(free.names)
        if theta[i] - free.lower[i] <= margin[i] or free.upper[i] - theta[i] <= margin[i]
    )
    half = stats.t_quantile * stats.standard_errors
    train_metrics = free_run_metrics(
        model, p, records, list(outcome.initial_states) or None, settings.substeps
    )
    validation_metrics = None
    if validation is not None:
        val_records = as_records(validation, "validation")
        if val_records[0].dt_s != records[0].dt_s:
            raise CalibrationDataError("validation and training records differ in dt_s")
        starts: ArrayLike | None = validation_x0
        if starts is None and model.sizes["x"]:
            starts = _validation_starts(
                model, p, records, outcome.initial_states, val_records, settings.substeps
            )
        validation_metrics = free_run_metrics(model, p, val_records, starts, settings.substeps)
    return CalibrationResult(
        model=model,
        names=free.names,
        values=theta,
        initial_values=free.initial,
        standard_errors=stats.standard_errors,
        covariance=stats.covariance,
        correlation=stats.correlation,
        confidence_95=np.column_stack([theta - half, theta + half]),
        p=p,
        params=new_params,
        noise_std=dict(zip(layout.labels, (1.0 / inv_sigma).tolist(), strict=True)),
        residual_variance=stats.residual_variance,
        dof=stats.dof,
        initial_states=outcome.initial_states,
        at_bounds=at_bounds,
        method=settings.method,
        solver_status=outcome.status,
        iterations=outcome.iterations,
        train_metrics=train_metrics,
        validation_metrics=validation_metrics,
    )
