"""``energyopt fit``: fit a whole project to a historian and write the fitted project.

:func:`fit_project` is the workflow behind the command and the GUI:

1. resolve the training and hold-out windows (:mod:`energyopt.fitting.windows`;
   default: the last 20 % of the file held out);
2. choose what to fit (:func:`~energyopt.fitting.plan.default_fit_plan`, or
   the caller's :class:`~energyopt.fitting.plan.FitPlan`);
3. calibrate the mechanistic units (:func:`~energyopt.fitting.calibrate_units`),
   fit the hybrid residuals on the calibrated models
   (:func:`~energyopt.fitting.fit_unit_residual`) and identify the data-driven
   units (:func:`energyopt.identify.identify_units`), each validated on the
   hold-out window only;
4. write, next to the input and never over it, the fitted project
   (``plant.fitted.toml``: the input with the estimates), the identified
   models and residuals (``plant.fitted.models/<unit>.json``,
   ``<unit>.residual.json``) and the fit report (``plant.fitted.fit.json``,
   :mod:`energyopt.fitting.fit_report`).

All files are prepared in memory first and then published one by one
atomically; if anything fails or is cancelled meanwhile, the files already
published by this call are removed again, so an interrupted fit leaves no
partial output.
"""

from __future__ import annotations

import contextlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from energyopt.errors import OutputError, ProjectError
from energyopt.fitting.fit_report import FitReport, UnitFitReport, fit_report_path
from energyopt.fitting.holdout import (
    identified_series,
    mechanistic_output_fits,
    mechanistic_series,
    output_fits,
    parameter_fits,
)
from energyopt.fitting.plan import FitPlan, default_fit_plan
from energyopt.fitting.windows import FitWindows, resolve_windows
from energyopt.fitting.workflow import CalibrationReport, UnitFitSpec
from energyopt.progress import null_progress

if TYPE_CHECKING:
    from energyopt.data.format import TimeLike
    from energyopt.data.reader import HistorianReader
    from energyopt.fitting.hybrid import HybridComparison
    from energyopt.identify import IdentificationReport
    from energyopt.progress import CancelToken, ProgressCallback
    from energyopt.project import Project
    from plant_models.calibration.hybrid import ResidualSpec

__all__ = ["ProjectFit", "fit_project", "fitted_project_path"]


def fitted_project_path(project_path: str | os.PathLike[str]) -> Path:
    """Return the default fitted project: ``plant.toml`` -> ``plant.fitted.toml``."""
    path = Path(project_path)
    return path.with_name(f"{path.stem}.fitted{path.suffix or '.toml'}")


@dataclass(frozen=True, eq=False)
class ProjectFit:
    """Result of :func:`fit_project`.

    Attributes
    ----------
    report : FitReport
        The fit report (what ``plant.fitted.fit.json`` holds).
    project_path : pathlib.Path
        The fitted project written.
    report_path : pathlib.Path
        The fit report written.
    model_files : tuple of pathlib.Path
        Identified-model and residual files written.
    windows : FitWindows
        Training and hold-out windows. [ms since epoch]
    plan : FitPlan
        What was fitted.
    calibration : CalibrationReport or None
        Details of the calibration (estimates, correlations, records).
    identification : IdentificationReport or None
        Details of the identification.
    hybrids : Mapping[str, HybridComparison]
        Fitted residuals and their hold-out comparison, by unit.
    """

    report: FitReport
    project_path: Path
    report_path: Path
    model_files: tuple[Path, ...]
    windows: FitWindows
    plan: FitPlan
    calibration: CalibrationReport | None = None
    identification: IdentificationReport | None = None
    hybrids: Mapping[str, HybridComparison] = field(default_factory=dict)


class _Steps:
    """Progress over the whole fit: one step per unit plus the writing."""

    def __init__(self, progress: ProgressCallback, total: int) -> None:
        self.progress = progress
        self.total = total
        self.done = 0

    def sub(self) -> ProgressCallback:
        offset = self.done

        def report(done: float, total: float | None, message: str) -> None:
            self.progress(offset + done, self.total, message)

        return report

    def advance(self, n: int, message: str) -> None:
        self.done += n
        self.progress(self.done, self.total, message)


def _check_cancel(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()


def _calibrated_entries(
    calibration: CalibrationReport, specs: Mapping[str, UnitFitSpec], residuals: Mapping[str, Any]
) -> list[UnitFitReport]:
    entries = []
    for name, cal in calibration.units.items():
        if name in residuals:
            continue  # reported once, as a hybrid unit
        metrics = cal.result.validation_metrics
        if metrics is None:  # pragma: no cover - fit_project always gives hold-out records
            raise ProjectError(f"units.{name}: calibration has no hold-out metrics")
        model = cal.data.model
        entries.append(
            UnitFitReport(
                unit=name,
                kind="calibrated",
                outputs=mechanistic_output_fits(model, metrics),
                parameters=parameter_fits(model, cal.rows()),
                samples_train=sum(r.n_samples for r in cal.data.train),
                samples_validate=metrics.n_samples,
                series=mechanistic_series(
                    cal.data, model, cal.result.p, metrics.names, specs[name].settings.substeps
                ),
                notes=cal.data.notes,
            )
        )
    return entries


def _fit_hybrids(
    project: Project,
    reader: HistorianReader,
    plan: FitPlan,
    calibration: CalibrationReport | None,
    windows: FitWindows,
    steps: _Steps,
    cancel: CancelToken | None,
) -> tuple[dict[str, HybridComparison], list[UnitFitReport]]:
    from energyopt.fitting.hybrid import fit_unit_residual
    from energyopt.fitting.workflow import read_unit_data

    specs = {s.unit: s for s in plan.calibrate}
    comparisons: dict[str, HybridComparison] = {}
    entries: list[UnitFitReport] = []
    for name, residual in plan.residuals.items():
        _check_cancel(cancel)
        steps.progress(steps.done, steps.total, f"fitting the residual of {name}")
        cal = calibration.units.get(name) if calibration is not None else None
        spec = specs.get(name, UnitFitSpec(name, ()))
        data = (
            cal.data
            if cal is not None
            else read_unit_data(
                project, spec, reader, train=windows.train, validate=windows.validate, cancel=cancel
            )
        )
        substeps = spec.settings.substeps
        comparison = fit_unit_residual(
            data, residual, p=None if cal is None else cal.result.p, substeps=substeps
        )
        comparisons[name] = comparison
        metrics = comparison.hybrid
        entries.append(
            UnitFitReport(
                unit=name,
                kind="hybrid",
                outputs=mechanistic_output_fits(data.model, metrics),
                parameters=() if cal is None else parameter_fits(data.model, cal.rows()),
                samples_train=sum(r.n_samples for r in data.train),
                samples_validate=metrics.n_samples,
                series=mechanistic_series(
                    data, comparison.model, comparison.p, metrics.names, substeps
                ),
                notes=data.notes,
            )
        )
        steps.advance(1, f"residual of {name} fitted")
    return comparisons, entries


def _identify(
    project: Project,
    reader: HistorianReader,
    plan: FitPlan,
    windows: FitWindows,
    steps: _Steps,
    cancel: CancelToken | None,
) -> tuple[IdentificationReport, list[UnitFitReport]]:
    from energyopt.identify import identify_units, read_unit_data

    report = identify_units(
        project,
        reader,
        train=windows.train,
        validate=windows.validate,
        units=list(plan.identify),
        progress=steps.sub(),
        cancel=cancel,
    )
    entries = []
    for name, result in report.units.items():
        _check_cancel(cancel)
        holdout = read_unit_data(project, name, reader, windows.validate, cancel=cancel)
        units = {v.name: v.unit for v in result.unit.outputs}
        entries.append(
            UnitFitReport(
                unit=name,
                kind="identified",
                outputs=output_fits(result.metrics, units),
                parameters=(),
                samples_train=result.n_train_usable,
                samples_validate=result.metrics.n_samples,
                series=identified_series(result, holdout),
                notes=result.notes,
            )
        )
    steps.advance(len(plan.identify), "identification done")
    return report, entries


def _output_files(
    source: Path,
    target: Path,
    project: Project,
    calibration: CalibrationReport | None,
    identification: IdentificationReport | None,
    hybrids: Mapping[str, HybridComparison],
    historian: str,
    windows: FitWindows,
) -> tuple[str, list[tuple[Path, str]]]:
    """Return the fitted project's text and the model files ``(path, text)`` to write."""
    import json

    from energyopt.fitting.output import apply_calibration
    from energyopt.project.datadriven import model_file_path, model_file_payload
    from energyopt.project.loader import dumps_project, project_from_mapping

    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ProjectError(f"{source}: cannot read the project: {exc}") from None
    header = [
        f"# Fitted from '{historian}' by energyopt fit (evidence: {fit_report_path(target).name}):"
    ]
    if calibration is not None:
        header.extend(apply_calibration(data, calibration, target))
    models_dir = target.with_suffix(".models")
    files: list[tuple[Path, str]] = []
    if identification is not None:
        for name, result in identification.units.items():
            table = project.units[name].model
            if table is not None and table.file is not None:
                # The input names its model file: the fitted project gets its own.
                data["units"][name]["model"]["file"] = f"{models_dir.name}/{name}.json"
            header.append(f"#   units.{name}: identified, model in {models_dir.name}/{name}.json")
            info = {
                "historian": historian,
                "train": list(windows.train),
                "validate": list(windows.validate),
                **result.info(),
            }
            files.append((models_dir / f"{name}.json", model_file_payload(result.unit, info)))
    for name, comparison in hybrids.items():
        path = models_dir / f"{name}.residual.json"
        header.append(f"#   units.{name}: hybrid residual in {models_dir.name}/{path.name}")
        text = json.dumps(comparison.residual.to_dict(), indent=1, allow_nan=False) + "\n"
        files.append((path, text))
    fitted = project_from_mapping(data, source=str(target))
    for name in identification.units if identification is not None else ():
        expected = model_file_path(fitted, name, target)
        if expected.resolve() != (models_dir / f"{name}.json").resolve():  # pragma: no cover
            raise OutputError(f"{target}: units.{name}: model file would be '{expected}'")
    return "\n".join(header) + "\n" + dumps_project(fitted), files


def _publish(files: list[tuple[Path, str]], *, overwrite: bool) -> None:
    """Write every file atomically; on any failure remove those this call published.

    With ``overwrite`` a file replaced before the failure is removed too (its
    former content is not restored): a forced re-fit that fails leaves no
    fitted project rather than a mix of old and new files.
    """
    from energyopt.fileio import atomic_output, check_destination

    for path, _ in files:
        if path.parent.is_dir():  # a new folder holds nothing to clash with
            check_destination(path, overwrite=overwrite)
    created_dirs: list[Path] = []
    published: list[Path] = []
    try:
        for path, text in files:
            if not path.parent.is_dir():
                try:
                    path.parent.mkdir(parents=False)
                except OSError as exc:
                    raise OutputError(f"{path.parent}: cannot create the folder: {exc}") from None
                created_dirs.append(path.parent)
            with atomic_output(path, overwrite=overwrite) as tmp:
                tmp.write_text(text, encoding="utf-8", newline="\n")
            published.append(path)
    except BaseException:
        for path in reversed(published):
            with contextlib.suppress(OSError):
                path.unlink()
        for folder in reversed(created_dirs):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def fit_project(
    project_path: str | os.PathLike[str],
    data_path: str | os.PathLike[str],
    *,
    train: tuple[TimeLike | None, TimeLike | None] | str | None = None,
    validate: tuple[TimeLike | None, TimeLike | None] | str | None = None,
    out_path: str | os.PathLike[str] | None = None,
    plan: FitPlan | None = None,
    residuals: Mapping[str, ResidualSpec] | None = None,
    overwrite: bool = False,
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
) -> ProjectFit:
    """Calibrate, identify and validate a project's units; write the fitted project.

    Parameters
    ----------
    project_path : str or path-like
        The project file (read, never written).
    data_path : str or path-like
        The historian file (read, never written).
    train : (start, end) or str, optional
        Training window, end exclusive: a pair of times (naive ones in the
        historian's time zone, ``None`` for the file's first or last time) or
        ``"START..END"``.  Default: the whole file, or the longer part beside
        ``validate``.
    validate : (start, end) or str, optional
        Hold-out window; default the last 20 % of the training window (not fitted).
    out_path : str or path-like, optional
        Fitted project file; default ``<project>.fitted.toml`` beside the input.
    plan : FitPlan, optional
        What to fit; default :func:`~energyopt.fitting.plan.default_fit_plan`.
    residuals : Mapping[str, ResidualSpec], optional
        Hybrid residuals to fit (unit -> declaration), added to the default plan.
    overwrite : bool
        Replace existing output files (never the inputs).
    progress : ProgressCallback
        Called as ``progress(done, total, message)``, one step per unit.
    cancel : CancelToken, optional
        Checked between units and while reading.

    Returns
    -------
    ProjectFit

    Raises
    ------
    ProjectError
        If the project cannot be read, has nothing to fit, or the estimates
        break its validation.
    DataError
        If a window cannot be read, reaches outside the file, is empty or the
        windows overlap.
    ProjectBindingError, DataQualityError
        If a unit's tags are missing or unusable.
    ModelError
        If the data cannot identify a parameter (the message names the unit
        and the parameter), or a fit or hold-out simulation fails.
    OutputError
        If an output would replace an input or an existing file.
    CancelledError
        If cancelled; no output file is left.
    """
    from energyopt.data.reader import HistorianReader
    from energyopt.fileio import check_destination
    from energyopt.fitting.workflow import calibrate_units
    from energyopt.project.loader import load_project

    source = Path(project_path)
    target = Path(out_path) if out_path is not None else fitted_project_path(source)
    report_path = fit_report_path(target)
    if target.resolve() == source.resolve() or report_path.resolve() == source.resolve():
        raise OutputError(f"{target}: the fitted project would replace its input '{source}'")
    project = load_project(source)
    if plan is None:
        plan = default_fit_plan(project, residuals)
    elif residuals:
        plan = FitPlan(plan.calibrate, {**plan.residuals, **residuals}, plan.identify, plan.skipped)
    # Fail before the work, not after it, when an output may not be written.
    models_dir = target.with_suffix(".models")
    outputs = [target, report_path]
    outputs += [models_dir / f"{name}.json" for name in plan.identify]
    outputs += [models_dir / f"{name}.residual.json" for name in plan.residuals]
    for path in outputs:
        if path.parent != models_dir or models_dir.is_dir():  # the model folder is made
            check_destination(path, overwrite=overwrite)
    if plan.is_empty:
        skipped = "".join(f"\n  {unit}: {reason}" for unit, reason in plan.skipped)
        raise ProjectError(
            f"{source}: nothing to fit: no unit with calibrated parameters bound to tags, "
            f"no hybrid residual and no data-driven unit{skipped}"
        )
    steps = _Steps(progress, len(plan.calibrate) + len(plan.residuals) + len(plan.identify) + 1)
    with HistorianReader(data_path) as reader:
        historian = str(Path(reader.path).resolve())
        windows = resolve_windows(reader, train, validate, timezone=project.project.timezone)
        _check_cancel(cancel)
        calibration = None
        entries: list[UnitFitReport] = []
        if plan.calibrate:
            calibration = calibrate_units(
                project,
                reader,
                plan.calibrate,
                train=windows.train,
                validate=windows.validate,
                progress=steps.sub(),
                cancel=cancel,
            )
            specs = {s.unit: s for s in plan.calibrate}
            entries.extend(_calibrated_entries(calibration, specs, plan.residuals))
            steps.advance(len(plan.calibrate), "calibration done")
        hybrids, hybrid_entries = _fit_hybrids(
            project, reader, plan, calibration, windows, steps, cancel
        )
        entries.extend(hybrid_entries)
        identification = None
        if plan.identify:
            identification, identified = _identify(project, reader, plan, windows, steps, cancel)
            entries.extend(identified)
    _check_cancel(cancel)
    text, model_files = _output_files(
        source, target, project, calibration, identification, hybrids, historian, windows
    )
    report = FitReport(
        project=str(source.resolve()),
        data=historian,
        train=windows.train,
        validate=windows.validate,
        units=tuple(entries),
        skipped=plan.skipped,
        fitted_project=str(target.resolve()),
    )
    _check_cancel(cancel)
    # The report goes last: its presence means the fitted project is complete.
    _publish([*model_files, (target, text), (report_path, report.to_json())], overwrite=overwrite)
    steps.advance(1, f"wrote {target.name}")
    return ProjectFit(
        report=report,
        project_path=target,
        report_path=report_path,
        model_files=tuple(p for p, _ in model_files),
        windows=windows,
        plan=plan,
        calibration=calibration,
        identification=identification,
        hybrids=hybrids,
    )
