"""Identify a project's data-driven units from a historian and store the models.

:func:`identify_units` reads each data-driven unit's tags over a training
window (:mod:`energyopt.identify.history`), identifies the declared model on
the usable samples without fitting across gaps, validates it by free-run
simulation on a hold-out window (NRMSE, R2, bias per output) and returns an
:class:`IdentificationReport`.  :func:`save_identified` writes one plain JSON
file per unit next to the project (``<project>.models/<unit>.json``),
atomically; the project file itself is never written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from energyopt.errors import ModelError, OutputError, ProjectError
from energyopt.identify.history import UnitData, read_unit_data
from plant_models.datadriven import DataDrivenUnit, FitMetrics, IdentificationError, SpecError
from plant_models.datadriven.segments import segments

if TYPE_CHECKING:
    from energyopt.data.format import TimeLike
    from energyopt.data.reader import HistorianReader
    from energyopt.progress import CancelToken, ProgressCallback
    from energyopt.project.model import Project

__all__ = [
    "HOLDOUT_FRACTION",
    "IdentificationReport",
    "UnitIdentification",
    "identify_units",
    "save_identified",
]

#: Share of the training window held out for validation when no validation window is given.
HOLDOUT_FRACTION = 0.2

Window = tuple["TimeLike | None", "TimeLike | None"]


@dataclass(frozen=True, eq=False)
class UnitIdentification:
    """The identification of one data-driven unit.

    Attributes
    ----------
    unit : DataDrivenUnit
        The identified unit (:attr:`~DataDrivenUnit.equation_model` for
        simulators and controllers).
    metrics : FitMetrics
        Hold-out fit: free-run simulation per gap-free segment (dynamic
        models), sample by sample (static maps).
    n_train : int
        Grid samples in the training data. [-]
    n_train_usable : int
        Of these, usable after the data-quality policy. [-]
    n_segments : int
        Gap-free stretches of usable training samples. [-]
    n_validation : int
        Samples compared in the validation. [-]
    notes : tuple of str
        Data findings (signals that lost samples, the hold-out rule used).
    """

    unit: DataDrivenUnit
    metrics: FitMetrics
    n_train: int
    n_train_usable: int
    n_segments: int
    n_validation: int
    notes: tuple[str, ...]

    def info(self) -> dict[str, Any]:
        """Plain provenance data stored with the model (sample counts, hold-out fit)."""
        return {
            "n_train": self.n_train,
            "n_train_usable": self.n_train_usable,
            "n_segments": self.n_segments,
            "validation": {
                "n_samples": self.metrics.n_samples,
                "outputs": self.metrics.as_rows(),
            },
            "notes": list(self.notes),
        }


@dataclass(frozen=True, eq=False)
class IdentificationReport:
    """Result of :func:`identify_units`.

    Attributes
    ----------
    project : Project
        The project whose units were identified.
    historian : str
        Path of the historian file used.
    train, validate : (str, str) or None
        The windows as given (``validate`` ``None``: the last
        :data:`HOLDOUT_FRACTION` of the training window was held out).
    units : dict of str to UnitIdentification
        Per unit, in project order.
    """

    project: Project
    historian: str
    train: tuple[str, str]
    validate: tuple[str, str] | None
    units: dict[str, UnitIdentification]

    def summary(self) -> str:
        """Return a plain-text table: unit, output, NRMSE, R2, bias, samples."""
        lines = [f"{'unit':<20} {'output':<20} {'NRMSE':>8} {'R2':>8} {'bias':>12} {'n':>7}"]
        for name, result in self.units.items():
            lines.extend(
                f"{name:<20} {row['output']!s:<20} {row['nrmse']:>8.4f} {row['r2']:>8.4f} "
                f"{row['bias']:>12.4g} {result.metrics.n_samples:>7d}"
                for row in result.metrics.as_rows()
            )
        return "\n".join(lines)


def _window_text(window: Window) -> tuple[str, str]:
    return (str(window[0]), str(window[1]))


def _model_error(project: Project, name: str, exc: Exception) -> ModelError:
    return ModelError(f"{project.source or 'project'}: units.{name}: {exc}")


def _identify_one(
    project: Project,
    name: str,
    train: UnitData,
    holdout: UnitData | None,
) -> UnitIdentification:
    unit_spec = project.units[name]
    table = unit_spec.model
    if table is None:  # pragma: no cover - callers select data-driven units
        raise ProjectError(f"units.{name} is not data-driven")
    spec = table.spec
    dt_s = table.sample_time_s if spec.is_dynamic else None
    notes = list(train.notes)
    try:
        if holdout is None:
            unit = DataDrivenUnit.identify(
                name,
                spec,
                train.u if spec.inputs else None,
                train.y,
                dt_s,
                train.d if spec.disturbances else None,
                validation_fraction=HOLDOUT_FRACTION,
                valid=train.valid,
            )
            n_held = round(HOLDOUT_FRACTION * train.n_samples)
            notes.append(f"validated on the last {n_held} samples of the training window")
            metrics = unit.metrics
        else:
            unit = DataDrivenUnit.identify(
                name,
                spec,
                train.u if spec.inputs else None,
                train.y,
                dt_s,
                train.d if spec.disturbances else None,
                validation_fraction=0.0,
                valid=train.valid,
            )
            notes.extend(holdout.notes)
            metrics = unit.validate(
                holdout.u if spec.inputs else None,
                holdout.y,
                holdout.d if spec.disturbances else None,
                valid=holdout.valid,
            )
    except (IdentificationError, SpecError) as exc:
        raise _model_error(project, name, exc) from None
    if metrics is None:  # pragma: no cover - identify always validates
        raise _model_error(project, name, ValueError("no validation metrics"))
    return UnitIdentification(
        unit=unit,
        metrics=metrics,
        n_train=train.n_samples,
        n_train_usable=train.n_valid,
        n_segments=len(segments(train.valid)),
        n_validation=metrics.n_samples,
        notes=tuple(notes),
    )


def identify_units(
    project: Project,
    reader: HistorianReader,
    *,
    train: Window = (None, None),
    validate: Window | None = None,
    units: list[str] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> IdentificationReport:
    """Identify the data-driven units of a project from a historian.

    Parameters
    ----------
    project : Project
        The project; its ``[data_quality]`` policy cleans the data.
    reader : HistorianReader
        The open historian file.
    train : (start, end)
        Training window, end exclusive (naive times in the historian's time
        zone; ``None`` for the file's first or last time).
    validate : (start, end), optional
        Hold-out window.  Omitted: the last :data:`HOLDOUT_FRACTION` of the
        training window is held out (and not fitted).
    units : list of str, optional
        Units to identify (default: every data-driven unit in service).
    progress : ProgressCallback, optional
        Called as ``progress(done_units, n_units, message)``.
    cancel : CancelToken, optional
        Checked between units and while reading.

    Returns
    -------
    IdentificationReport

    Raises
    ------
    ProjectError
        If the project has no data-driven unit or a named unit is not one.
    ProjectBindingError
        If a signal's tag is missing from the historian or its unit is not compatible.
    DataQualityError
        If a signal has no usable sample in a window.
    ModelError
        If a model cannot be identified from the data (too few gap-free
        samples for the orders, constant or collinear inputs...); the
        message names the unit.
    CancelledError
        If cancelled.
    """
    source = project.source or "project"
    data_driven = [n for n, u in project.units.items() if u.is_data_driven and u.in_service]
    if units is None:
        names = data_driven
        if not names:
            raise ProjectError(f"{source}: no data_driven unit to identify")
    else:
        names = list(units)
        wrong = [n for n in names if n not in data_driven]
        if wrong:
            raise ProjectError(
                f"{source}: not a data_driven unit in service: {', '.join(wrong)}; "
                f"data-driven units: {', '.join(data_driven) or '(none)'}"
            )
    results: dict[str, UnitIdentification] = {}
    for k, name in enumerate(names):
        if cancel is not None:
            cancel.raise_if_cancelled()
        if progress is not None:
            progress(k, len(names), f"identifying {name}")
        train_data = read_unit_data(project, name, reader, train, cancel=cancel)
        holdout = (
            None
            if validate is None
            else read_unit_data(project, name, reader, validate, cancel=cancel)
        )
        results[name] = _identify_one(project, name, train_data, holdout)
    if progress is not None:
        progress(len(names), len(names), "identification done")
    return IdentificationReport(
        project=project,
        historian=str(reader.path),
        train=_window_text(train),
        validate=None if validate is None else _window_text(validate),
        units=results,
    )


def save_identified(
    project_path: str | os.PathLike[str],
    report: IdentificationReport,
    *,
    overwrite: bool = False,
) -> list[Path]:
    """Write each identified unit to its JSON model file next to the project.

    Parameters
    ----------
    project_path : str or path-like
        The project file the models belong to (it is never written).
    report : IdentificationReport
        Result of :func:`identify_units`.
    overwrite : bool
        Replace existing model files (re-identification).

    Returns
    -------
    list of pathlib.Path
        The files written, in unit order.

    Raises
    ------
    OutputError
        If a model file exists and ``overwrite`` is false, would be the
        project file itself, or cannot be written; files are written
        atomically, so a failure leaves no partial file.
    """
    from energyopt.fileio import atomic_output
    from energyopt.project.datadriven import model_file_path, model_file_payload

    project_file = Path(project_path).resolve()
    written: list[Path] = []
    for name, result in report.units.items():
        path = model_file_path(report.project, name, project_path)
        if path.resolve() == project_file:
            raise OutputError(f"{path}: the model file of unit '{name}' would replace the project")
        info = {
            "historian": report.historian,
            "train": list(report.train),
            "validate": None if report.validate is None else list(report.validate),
            **result.info(),
        }
        text = model_file_payload(result.unit, info)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{path.parent}: cannot create the model folder: {exc}") from None
        with atomic_output(path, overwrite=overwrite) as tmp:
            tmp.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written
