"""Calibrate units of a project's plant from a historian file.

:func:`calibrate_units` takes, per unit, a :class:`UnitFitSpec` (parameters to
estimate, the state equations to fit, optional signal overrides), reads the
unit's tags (:mod:`energyopt.fitting.records`), fits with
:func:`plant_models.calibration.calibrate` on the training stretches and
validates by free-run simulation on the hold-out stretches -- both with the
estimates and with the project's nominal values, so the report shows what
calibration gained without knowing any truth.  Calibration failures become
:class:`~energyopt.errors.ModelError` naming the unit and the parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from energyopt.errors import ModelError
from energyopt.fitting.records import SignalGrid, grid_records, read_unit_grid
from energyopt.fitting.submodel import equation_subset, unused_signals
from energyopt.fitting.units import UnitModel, unit_model
from plant_models.calibration import (
    CalibrationError,
    CalibrationResult,
    CalibrationSettings,
    Dataset,
    FitParameter,
    IdentifiabilityError,
    calibrate,
    free_run_metrics,
)

if TYPE_CHECKING:
    from energyopt.data.format import TimeLike
    from energyopt.data.reader import HistorianReader
    from energyopt.progress import CancelToken, ProgressCallback
    from energyopt.project import Project
    from plant_models.core.equations import EquationModel
    from plant_models.datadriven import FitMetrics

__all__ = [
    "HOLDOUT_FRACTION",
    "CalibrationReport",
    "UnitCalibration",
    "UnitData",
    "UnitFitSpec",
    "calibrate_units",
    "read_unit_data",
]

#: Share of the training window held out for validation when no validation window is given.
HOLDOUT_FRACTION = 0.2

Window = tuple["TimeLike | None", "TimeLike | None"]


@dataclass(frozen=True)
class UnitFitSpec:
    """What to calibrate in one unit.

    Attributes
    ----------
    unit : str
        Unit name in the project.
    parameters : tuple of str or FitParameter
        The unit's parameters to estimate (field names), optionally with bounds.
    states : tuple of str or None
        State equations fitted (each state must be measured); the unit's other
        states become measured signals.  ``None``: every state.
    outputs : tuple of str
        Measured outputs added to the fit (and to the validation).
    signals : Mapping[str, str or float]
        Unit variable -> tag, or constant SI value, overriding the bindings.
    settings : CalibrationSettings
        Estimation method and solver settings.
    """

    unit: str
    parameters: tuple[str | FitParameter, ...]
    states: tuple[str, ...] | None = None
    outputs: tuple[str, ...] = ()
    signals: Mapping[str, str | float] = field(default_factory=dict)
    settings: CalibrationSettings = field(default_factory=CalibrationSettings)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Names of the parameters to estimate."""
        return tuple(p if isinstance(p, str) else p.name for p in self.parameters)


@dataclass(frozen=True, eq=False)
class UnitData:
    """A unit's model and its training and hold-out records.

    Attributes
    ----------
    unit : UnitModel
        The unit in the plant.
    model : EquationModel
        The model fitted (the unit's, or the subset of its fitted state equations).
    train, validation : tuple of Dataset
        Gap-free records of the training and hold-out periods.
    grid : SignalGrid
        The signals read (for provenance and plotting).
    notes : tuple of str
        Data findings and the hold-out rule used.
    validation_grid : SignalGrid or None
        The grid the hold-out records were cut from (their ``t0_s`` is
        relative to its first time): ``grid`` itself when the hold-out is
        the end of the training window.
    """

    unit: UnitModel
    model: EquationModel
    train: tuple[Dataset, ...]
    validation: tuple[Dataset, ...]
    grid: SignalGrid
    notes: tuple[str, ...]
    validation_grid: SignalGrid | None = None


@dataclass(frozen=True, eq=False)
class UnitCalibration:
    """The calibration of one unit.

    Attributes
    ----------
    unit : str
        Unit name.
    result : CalibrationResult
        Estimates, standard errors, correlation, training and hold-out fit.
    nominal : numpy.ndarray
        The project's values of the fitted parameters. [parameter units]
    nominal_validation : FitMetrics or None
        Hold-out fit of the model with the project's values (the baseline).
    data : UnitData
        The records used.
    """

    unit: str
    result: CalibrationResult
    nominal: npt.NDArray[np.float64]
    nominal_validation: FitMetrics | None
    data: UnitData

    @property
    def values(self) -> dict[str, float]:
        """Estimate of each fitted parameter. [parameter unit]."""
        return {n: float(v) for n, v in zip(self.result.names, self.result.values, strict=True)}

    @property
    def standard_errors(self) -> dict[str, float]:
        """Standard error of each estimate. [parameter unit]."""
        return {
            n: float(v) for n, v in zip(self.result.names, self.result.standard_errors, strict=True)
        }

    def rows(self) -> list[dict[str, Any]]:
        """One row per parameter: name, nominal, estimate, standard error, 95 % bounds."""
        rows = self.result.as_rows()
        for row, nominal in zip(rows, self.nominal, strict=True):
            row["nominal"] = float(nominal)
        return rows


@dataclass(frozen=True, eq=False)
class CalibrationReport:
    """Result of :func:`calibrate_units`.

    Attributes
    ----------
    project : Project
        The calibrated project.
    historian : str
        Path of the historian file.
    units : dict of str to UnitCalibration
        Per unit, in the order given.
    """

    project: Project
    historian: str
    units: dict[str, UnitCalibration]

    def summary(self) -> str:
        """Plain-text table: unit, parameter, nominal, estimate, standard error, hold-out NRMSE."""
        lines = [f"{'unit':<16} {'parameter':<34} {'nominal':>12} {'estimate':>12} {'s.e.':>10}"]
        for name, cal in self.units.items():
            lines.extend(
                f"{name:<16} {row['parameter']:<34} {row['nominal']:>12.5g} "
                f"{row['value']:>12.5g} {row['standard_error']:>10.3g}"
                for row in cal.rows()
            )
            for label, metrics in (
                ("nominal", cal.nominal_validation),
                ("calibrated", cal.result.validation_metrics),
            ):
                if metrics is not None:
                    text = ", ".join(f"{r['output']} {r['nrmse']:.4f}" for r in metrics.as_rows())
                    lines.append(f"{'':<16} hold-out NRMSE, {label}: {text}")
        return "\n".join(lines)


def _where(project: Project, unit: str) -> str:
    return f"{project.source or 'project'}: units.{unit}"


def read_unit_data(
    project: Project,
    spec: UnitFitSpec,
    reader: HistorianReader,
    *,
    train: Window = (None, None),
    validate: Window | None = None,
    min_samples: int = 10,
    cancel: CancelToken | None = None,
) -> UnitData:
    """Build a unit's model (or state-equation subset) and its training and hold-out records.

    Parameters
    ----------
    project : Project
        The project.
    spec : UnitFitSpec
        The unit, the state equations and the signal overrides.
    reader : HistorianReader
        The open historian.
    train : (start, end)
        Training window (``None``: the file's first or last time).
    validate : (start, end), optional
        Hold-out window; omitted, the last :data:`HOLDOUT_FRACTION` of the
        training window is held out (and not fitted).
    min_samples : int
        Shortest gap-free stretch used. [samples]
    cancel : CancelToken, optional
        Checked while reading.

    Raises
    ------
    ProjectError, ProjectBindingError, DataQualityError
        From the unit and signal resolution and the reading.
    ModelError
        If a state equation is unknown, or a window has no gap-free stretch
        of ``min_samples``.
    """
    unit = unit_model(project, spec.unit)
    states = spec.states if spec.states is not None else tuple(v.name for v in unit.model.states)
    try:
        model = equation_subset(unit.model, states)
    except ModelError as exc:
        raise ModelError(f"{_where(project, spec.unit)}: {exc}") from None
    overrides: dict[str, str | float] = {}
    for name in unused_signals(model, spec.outputs):
        var = next(v for v in model.inputs + model.disturbances if v.name == name)
        # Never read by the fitted equations: any finite value does.
        mid = 0.5 * (var.low + var.high)
        overrides[name] = mid if np.isfinite(mid) else 0.0
    overrides.update(spec.signals)
    kwargs: dict[str, Any] = {
        "states": states,
        "outputs": spec.outputs,
        "overrides": overrides,
        "cancel": cancel,
    }
    grid = read_unit_grid(project, unit, model, reader, train, **kwargs)
    notes = list(grid.notes)
    if validate is None:
        cut = round((1.0 - HOLDOUT_FRACTION) * grid.n_samples)
        train_records = grid_records(grid, 0, cut, min_samples=min_samples)
        val_records = grid_records(grid, cut, None, min_samples=min_samples)
        val_grid = grid
        notes.append(f"validated on the last {grid.n_samples - cut} samples of the window")
    else:
        train_records = grid_records(grid, min_samples=min_samples)
        val_grid = read_unit_grid(project, unit, model, reader, validate, **kwargs)
        val_records = grid_records(val_grid, min_samples=min_samples)
        notes.extend(val_grid.notes)
    for label, records in (("training", train_records), ("hold-out", val_records)):
        if not records:
            raise ModelError(
                f"{_where(project, spec.unit)}: no gap-free stretch of {min_samples} usable "
                f"samples in the {label} period of '{reader.path}'"
            )
    return UnitData(unit, model, train_records, val_records, grid, tuple(notes), val_grid)


def _calibrate_one(project: Project, spec: UnitFitSpec, data: UnitData) -> UnitCalibration:
    where = _where(project, spec.unit)
    names = spec.parameter_names
    known = [v.name for v in data.model.parameters]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ModelError(
            f"{where}: no parameter {', '.join(unknown)}; parameters: {', '.join(known)}"
        )
    nominal = np.array([data.unit.p[known.index(n)] for n in names])
    try:
        result = calibrate(
            data.model,
            data.unit.p,
            spec.parameters,
            data.train,
            data.validation,
            settings=spec.settings,
        )
    except IdentifiabilityError as exc:
        raise ModelError(
            f"{where}: the data cannot identify {', '.join(exc.parameters)}: {exc}"
        ) from None
    except CalibrationError as exc:
        raise ModelError(f"{where}: calibration of {', '.join(names)} failed: {exc}") from None
    baseline = None
    if result.validation_metrics is not None:
        try:
            baseline = free_run_metrics(
                data.model,
                data.unit.p,
                data.validation,
                [_first_state(data.model, rec) for rec in data.validation]
                if data.model.sizes["x"]
                else None,
                spec.settings.substeps,
            )
        except CalibrationError as exc:
            raise ModelError(f"{where}: nominal model fails on the hold-out data: {exc}") from None
    return UnitCalibration(spec.unit, result, nominal, baseline, data)


def _first_state(model: EquationModel, record: Dataset) -> npt.NDArray[np.float64]:
    """Initial state of a record: its first measurement of each (measured) state."""
    return np.array([float(np.asarray(record.states[v.name])[0]) for v in model.states])


def calibrate_units(
    project: Project,
    reader: HistorianReader,
    specs: Sequence[UnitFitSpec],
    *,
    train: Window = (None, None),
    validate: Window | None = None,
    min_samples: int = 10,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> CalibrationReport:
    """Calibrate units of a project from a historian file.

    Parameters
    ----------
    project : Project
        The project; its ``[data_quality]`` policy cleans the data.
    reader : HistorianReader
        The open historian file (never written).
    specs : sequence of UnitFitSpec
        One per unit to calibrate.
    train : (start, end)
        Training window, end exclusive.
    validate : (start, end), optional
        Hold-out window (default: the last :data:`HOLDOUT_FRACTION` of ``train``).
    min_samples : int
        Shortest gap-free stretch used. [samples]
    progress : ProgressCallback, optional
        Called as ``progress(done_units, n_units, message)``.
    cancel : CancelToken, optional
        Checked between units and while reading.

    Returns
    -------
    CalibrationReport

    Raises
    ------
    ProjectError
        For an unknown unit.
    ProjectBindingError
        If a signal has no bound tag or its tag is not in the historian.
    DataQualityError
        If a signal has no usable sample.
    ModelError
        If the data cannot identify a parameter (the message names the unit
        and the parameters), the optimiser fails, or no gap-free stretch is long enough.
    CancelledError
        If cancelled.
    """
    results: dict[str, UnitCalibration] = {}
    for k, spec in enumerate(specs):
        if cancel is not None:
            cancel.raise_if_cancelled()
        if progress is not None:
            progress(k, len(specs), f"calibrating {spec.unit}")
        data = read_unit_data(
            project,
            spec,
            reader,
            train=train,
            validate=validate,
            min_samples=min_samples,
            cancel=cancel,
        )
        results[spec.unit] = _calibrate_one(project, spec, data)
    if progress is not None:
        progress(len(specs), len(specs), "calibration done")
    return CalibrationReport(project=project, historian=str(reader.path), units=results)
