"""Calibration of mechanistic models from data, and hybrid (mechanistic + data-driven) models.

Parameter estimation
    :func:`calibrate` fits chosen parameters of a unit or plant model to
    measured records (:class:`Dataset`, arrays only: the application reads
    the historian) by equation-error least squares (scipy) or multiple
    shooting (casadi/ipopt), with bounds and optional Gaussian priors
    (:class:`FitParameter`, :class:`CalibrationSettings`).
Statistics
    Gauss-Newton standard errors, correlation and 95 % intervals in the
    :class:`CalibrationResult`; an :class:`IdentifiabilityError` naming the
    parameters when the data cannot determine them
    (:mod:`plant_models.calibration.statistics`).
Validation
    Free-run simulation metrics (NRMSE, R2, bias per signal) on the
    training and hold-out records (:func:`free_run_metrics`).
Hybrid models
    :func:`fit_residual` fits a static data-driven map to what the
    mechanistic model misses (on chosen outputs or state rates);
    :func:`hybrid_model` composes both into one
    :class:`~plant_models.core.equations.EquationModel` that compiles to
    casadi and numba like any unit.
"""

from plant_models.calibration.calibrate import calibrate, parameter_vector
from plant_models.calibration.data import Dataset
from plant_models.calibration.errors import (
    CalibrationDataError,
    CalibrationError,
    CalibrationSolverError,
    IdentifiabilityError,
)
from plant_models.calibration.result import CalibrationResult, free_run, free_run_metrics
from plant_models.calibration.spec import CalibrationSettings, FitParameter

__all__ = [
    "CalibrationDataError",
    "CalibrationError",
    "CalibrationResult",
    "CalibrationSettings",
    "CalibrationSolverError",
    "Dataset",
    "FitParameter",
    "IdentifiabilityError",
    "calibrate",
    "free_run",
    "free_run_metrics",
    "parameter_vector",
]
