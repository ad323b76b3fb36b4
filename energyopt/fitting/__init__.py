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
"""

from energyopt.fitting.hybrid import HybridComparison, fit_unit_residual
from energyopt.fitting.output import calibrated_project_path, write_calibrated_project
from energyopt.fitting.submodel import equation_subset, unused_signals
from energyopt.fitting.units import SignalSource, UnitModel, signal_source, unit_model
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
    "HOLDOUT_FRACTION",
    "CalibrationReport",
    "HybridComparison",
    "SignalSource",
    "UnitCalibration",
    "UnitData",
    "UnitFitSpec",
    "UnitModel",
    "calibrate_units",
    "calibrated_project_path",
    "equation_subset",
    "fit_unit_residual",
    "read_unit_data",
    "signal_source",
    "unit_model",
    "unused_signals",
    "write_calibrated_project",
]
