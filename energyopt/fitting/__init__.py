"""Calibration of a project's units from its historian: the application side of issue 3.

Public API
----------
:class:`UnitFitSpec` (what to fit in a unit), :func:`calibrate_units`
(read, clean, cut at gaps, fit, validate) returning a
:class:`CalibrationReport`; :func:`read_unit_data` (a unit's model and its
gap-free training and hold-out records); :func:`write_calibrated_project`
(the estimates into a *new* project file next to the input, atomically);
:func:`fit_unit_residual` (a hybrid model: the unit plus a data-driven
residual, compared with the mechanistic model on the hold-out records);
:func:`equation_subset` (fit some state equations, the other states measured).

Whole-project fit (``energyopt fit``): :func:`fit_project` returning a
:class:`ProjectFit` (calibration, hybrid residuals and identification on
explicit training and hold-out windows, the fitted project and its
:class:`FitReport` written beside the input); :func:`default_fit_plan` (what
is fitted by default, as a :class:`FitPlan`); :func:`parse_time_range` and
:func:`resolve_windows` (``START..END`` windows); :func:`load_fit_report`.
"""

from energyopt.fitting.fit_report import FitReport, fit_report_path, load_fit_report
from energyopt.fitting.hybrid import HybridComparison, fit_unit_residual
from energyopt.fitting.output import calibrated_project_path, write_calibrated_project
from energyopt.fitting.plan import CALIBRATED_PARAMETERS, FitPlan, default_fit_plan
from energyopt.fitting.project_fit import ProjectFit, fit_project, fitted_project_path
from energyopt.fitting.submodel import equation_subset, unused_signals
from energyopt.fitting.units import SignalSource, UnitModel, signal_source, unit_model
from energyopt.fitting.windows import FitWindows, parse_time_range, resolve_windows
from energyopt.fitting.workflow import (
    HOLDOUT_FRACTION,
    CalibrationReport,
    UnitCalibration,
    UnitData,
    UnitFitSpec,
    calibrate_units,
    read_unit_data,
)

__all__ = [
    "CALIBRATED_PARAMETERS",
    "HOLDOUT_FRACTION",
    "CalibrationReport",
    "FitPlan",
    "FitReport",
    "FitWindows",
    "HybridComparison",
    "ProjectFit",
    "SignalSource",
    "UnitCalibration",
    "UnitData",
    "UnitFitSpec",
    "UnitModel",
    "calibrate_units",
    "calibrated_project_path",
    "default_fit_plan",
    "equation_subset",
    "fit_project",
    "fit_report_path",
    "fit_unit_residual",
    "fitted_project_path",
    "load_fit_report",
    "parse_time_range",
    "read_unit_data",
    "resolve_windows",
    "signal_source",
    "unit_model",
    "unused_signals",
    "write_calibrated_project",
]
