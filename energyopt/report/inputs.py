"""The files a report is built from: find them in an output folder, read and check them.

An output folder of ``energyopt replay`` holds (each optional):

``results.h5``
    The chosen controller's run (historian format v1, root attributes
    ``energyopt_run``, ``source_project``, ``source_data``).
``compare_baseline.h5``, ``compare_recorded.h5``
    The comparison runs, same layout.
``kpis.json``
    ``{"format": "energyopt-kpis", "version": 1, ..., "report": KpiReport.to_dict()}``.
``shadow.json``
    The shadow-mode record (``"format": "energyopt-shadow"``).

The fit report lives beside the source project: ``<project>.fit.json`` for
``<project>.toml``.  Every file that exists but cannot be used raises
:class:`~energyopt.errors.DataError` naming the file; a missing file only
leaves its sections out.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from energyopt.errors import DataError, EnergyoptError

if TYPE_CHECKING:
    from energyopt.kpis import KpiReport
    from energyopt.project import Project

__all__ = [
    "COMPARE_FILES",
    "KpiDocument",
    "ReportInputs",
    "RunFile",
    "fit_report_path",
    "load_inputs",
    "read_fit_report",
    "read_kpi_document",
    "read_shadow",
]

RESULTS_FILE = "results.h5"
#: Comparison run -> its file in the output folder.
COMPARE_FILES: dict[str, str] = {
    "baseline": "compare_baseline.h5",
    "recorded": "compare_recorded.h5",
}
KPIS_FILE = "kpis.json"
SHADOW_FILE = "shadow.json"


@dataclass(frozen=True)
class KpiDocument:
    """The content of ``kpis.json``.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    plant, timezone, controller : str
        Root fields (``""`` when absent; ``timezone`` defaults to ``UTC``).
    start_ms, end_ms : int or None
        Period of the replay. [ms since epoch]
    source_project, source_data : str
        Absolute paths of the replay's inputs (``""`` when absent).
    report : KpiReport
        The runs and their differences from the reference run.
    """

    path: Path
    plant: str
    timezone: str
    controller: str
    start_ms: int | None
    end_ms: int | None
    source_project: str
    source_data: str
    report: KpiReport


@dataclass(frozen=True)
class RunFile:
    """A run's result file (historian format v1).

    Attributes
    ----------
    run : str
        Run name (``mpc``, ``baseline``, ``recorded``).
    path : pathlib.Path
        The file.
    plant, timezone : str
        Root attributes.
    source_project, source_data : str
        Root attributes of the replay's inputs (``""`` when absent).
    start_ms, end_ms : int
        First and last sample time. [ms since epoch]
    """

    run: str
    path: Path
    plant: str
    timezone: str
    source_project: str
    source_data: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class ReportInputs:
    """Everything found in an output folder for a report.

    Attributes
    ----------
    out_dir : pathlib.Path
        The folder.
    kpis : KpiDocument or None
        ``kpis.json``.
    runs : tuple of RunFile
        Result files, ``results.h5`` first.
    primary : RunFile or None
        ``results.h5``.
    shadow : mapping or None
        ``shadow.json``.
    fit : mapping or None
        The fit report beside the source project.
    fit_path : pathlib.Path or None
        Where the fit report was looked for.
    project : Project or None
        The source project.
    project_path : pathlib.Path or None
        Its file.
    project_problem : str
        Why the project could not be read (``""`` if it was).
    """

    out_dir: Path
    kpis: KpiDocument | None
    runs: tuple[RunFile, ...]
    primary: RunFile | None
    shadow: Mapping[str, Any] | None
    fit: Mapping[str, Any] | None
    fit_path: Path | None
    project: Project | None
    project_path: Path | None
    project_problem: str

    def shown(self, path: Path | None) -> str:
        """Return how the report names a file: relative to the folder when inside it.

        A replay writes its folder under a temporary name and renames it at
        the end, and a folder may be moved or mailed: the folder's own files
        are named by their name in it, other files by their absolute path.

        Parameters
        ----------
        path : pathlib.Path or None
            The file.
        """
        if path is None:
            return "–"
        try:
            return path.resolve().relative_to(self.out_dir.resolve()).as_posix()
        except ValueError:
            return str(path)

    @property
    def plant(self) -> str:
        """Plant name (kpis.json, result file or project)."""
        if self.kpis is not None and self.kpis.plant:
            return self.kpis.plant
        for run in self.runs:
            if run.plant:
                return run.plant
        return self.project.project.name if self.project is not None else ""

    @property
    def timezone(self) -> str:
        """IANA time zone of the plant."""
        if self.kpis is not None:
            return self.kpis.timezone
        if self.runs:
            return self.runs[0].timezone
        return self.project.project.timezone if self.project is not None else "UTC"

    @property
    def period_ms(self) -> tuple[int | None, int | None]:
        """Start and end of the replayed period. [ms since epoch]."""
        if self.kpis is not None and self.kpis.start_ms is not None:
            return self.kpis.start_ms, self.kpis.end_ms
        if self.runs:
            return self.runs[0].start_ms, self.runs[0].end_ms
        return None, None

    @property
    def controller(self) -> str:
        """The chosen controller of the replay."""
        if self.kpis is not None and self.kpis.controller:
            return self.kpis.controller
        return self.primary.run if self.primary is not None else ""

    @property
    def currency(self) -> str:
        """Currency of the project (or of shadow.json), ``"currency"`` if unknown."""
        if self.project is not None:
            return self.project.project.currency
        if self.shadow is not None and isinstance(self.shadow.get("currency"), str):
            return str(self.shadow["currency"])
        return "currency"


def _load_json(path: Path, expected_format: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object, got {type(data).__name__}")
    if data.get("format") != expected_format:
        raise DataError(f"{path}: 'format' must be {expected_format!r}, got {data.get('format')!r}")
    if data.get("version") != 1:
        raise DataError(f"{path}: unsupported version {data.get('version')!r} (this reads 1)")
    return data


def _opt_int(path: Path, where: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DataError(f"{path}: {where} must be a time in ms, got {value!r}")
    return int(value)


def _str(data: Mapping[str, Any], key: str, default: str = "") -> str:
    value = data.get(key)
    return value if isinstance(value, str) else default


def read_kpi_document(path: str | Path) -> KpiDocument:
    """Read and check ``kpis.json``.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    KpiDocument
        Its content, with the KPI report rebuilt from the stored results.

    Raises
    ------
    DataError
        If the file is not readable JSON of format ``energyopt-kpis`` version 1
        or its report is malformed (the message names the file).
    """
    from energyopt.kpis import KpiReport, KpiResult

    file = Path(path)
    data = _load_json(file, "energyopt-kpis")
    report = data.get("report")
    if not isinstance(report, dict) or not isinstance(report.get("runs"), dict):
        raise DataError(f"{file}: 'report' must be an object with 'runs'")
    period = data.get("period") or {}
    if not isinstance(period, dict):
        raise DataError(f"{file}: 'period' must be an object")
    try:
        runs: dict[str, list[KpiResult]] = {}
        for run, results in report["runs"].items():
            if not isinstance(results, dict):
                raise DataError(f"run {run!r}: expected an object of KPI results")
            entries = []
            for key, entry in results.items():
                if not isinstance(entry, dict):
                    raise DataError(f"run {run!r}, KPI {key!r}: expected an object")
                entries.append(KpiResult.from_dict(entry))
            runs[str(run)] = entries
        reference = report.get("reference")
        kpi_report = KpiReport.from_results(
            runs, reference=reference if isinstance(reference, str) else None
        )
    except EnergyoptError as exc:
        raise DataError(f"{file}: {exc}") from None
    return KpiDocument(
        path=file,
        plant=_str(data, "plant"),
        timezone=_str(data, "timezone", "UTC") or "UTC",
        controller=_str(data, "controller"),
        start_ms=_opt_int(file, "period.start_ms", period.get("start_ms")),
        end_ms=_opt_int(file, "period.end_ms", period.get("end_ms")),
        source_project=_str(data, "source_project"),
        source_data=_str(data, "source_data"),
        report=kpi_report,
    )


def read_shadow(path: str | Path) -> dict[str, Any]:
    """Read and check ``shadow.json`` (the fields the report uses).

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    dict
        The record.

    Raises
    ------
    DataError
        If the file is not readable JSON of format ``energyopt-shadow``
        version 1, or ``top_recommendations`` is not a list of objects or
        ``missed_by_cause`` not an object of numbers.
    """
    file = Path(path)
    data = _load_json(file, "energyopt-shadow")
    top = data.get("top_recommendations", [])
    if not isinstance(top, list) or not all(isinstance(item, dict) for item in top):
        raise DataError(f"{file}: 'top_recommendations' must be a list of objects")
    causes = data.get("missed_by_cause", {})
    if not isinstance(causes, dict) or not all(
        value is None or (isinstance(value, int | float) and not isinstance(value, bool))
        for value in causes.values()
    ):
        raise DataError(f"{file}: 'missed_by_cause' must map causes to numbers")
    return data


def fit_report_path(project_path: str | Path) -> Path:
    """Return where the fit report of a project is (``plant.toml`` -> ``plant.fit.json``).

    Parameters
    ----------
    project_path : str or path-like
        The project file.
    """
    path = Path(project_path)
    return (
        path.with_name(f"{path.stem}.fit.json")
        if path.suffix == ".toml"
        else Path(f"{path}.fit.json")
    )


def read_fit_report(path: str | Path) -> dict[str, Any]:
    """Read and check a fit report (``energyopt fit``'s ``.fit.json``).

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    dict
        The record.

    Raises
    ------
    DataError
        If the file is not readable JSON of format ``energyopt-fit`` version 1
        or ``units`` is not a list of objects each with a ``unit`` name.
    """
    file = Path(path)
    data = _load_json(file, "energyopt-fit")
    units = data.get("units")
    if not isinstance(units, list) or not all(
        isinstance(u, dict) and isinstance(u.get("unit"), str) for u in units
    ):
        raise DataError(f"{file}: 'units' must be a list of objects with a 'unit' name")
    for unit in units:
        for key in ("outputs", "parameters"):
            items = unit.get(key, [])
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise DataError(f"{file}: unit {unit['unit']!r}: {key!r} must be a list")
    return data


def _run_file(path: Path, default_run: str) -> RunFile:
    import h5py

    from energyopt.data import HistorianReader

    with HistorianReader(path) as reader:
        start_ms, end_ms = reader.time_span_ms
        timezone, plant = reader.timezone, reader.plant or ""
    try:
        with h5py.File(path, "r") as h5:
            attrs = {
                key: value.decode() if isinstance(value, bytes) else str(value)
                for key, value in h5.attrs.items()
                if key in ("energyopt_run", "source_project", "source_data")
            }
    except OSError as exc:  # pragma: no cover - the reader opened it just before
        raise DataError(f"{path}: cannot read its attributes: {exc}") from None
    return RunFile(
        run=attrs.get("energyopt_run") or default_run,
        path=path,
        plant=plant,
        timezone=timezone,
        source_project=attrs.get("source_project", ""),
        source_data=attrs.get("source_data", ""),
        start_ms=int(start_ms),
        end_ms=int(end_ms),
    )


def _resolve(out_dir: Path, text: str) -> Path:
    path = Path(text)
    return path if path.is_absolute() else out_dir / path


def load_inputs(out_dir: str | os.PathLike[str]) -> ReportInputs:
    """Find and read every report input in an output folder.

    Parameters
    ----------
    out_dir : str or path-like
        The replay's output folder.

    Returns
    -------
    ReportInputs
        What was found; absent files are ``None``.

    Raises
    ------
    DataError
        If the folder does not exist, or a file in it (or the fit report)
        exists but cannot be used; the message names the file.
    """
    folder = Path(out_dir)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    kpis = read_kpi_document(folder / KPIS_FILE) if (folder / KPIS_FILE).exists() else None
    runs: list[RunFile] = []
    primary = None
    if (folder / RESULTS_FILE).exists():
        primary = _run_file(folder / RESULTS_FILE, kpis.controller if kpis else "mpc")
        runs.append(primary)
    for run, name in COMPARE_FILES.items():
        # A comparison of the chosen controller with itself is not drawn twice.
        if (folder / name).exists() and (primary is None or primary.run != run):
            runs.append(_run_file(folder / name, run))
    shadow = read_shadow(folder / SHADOW_FILE) if (folder / SHADOW_FILE).exists() else None

    source = kpis.source_project if kpis is not None else ""
    source = source or next((r.source_project for r in runs if r.source_project), "")
    project = None
    project_path = _resolve(folder, source) if source else None
    problem = "" if source else "no source_project in kpis.json or the result files"
    if project_path is not None:
        from energyopt.project import load_project

        try:
            project = load_project(project_path)
        except EnergyoptError as exc:
            problem = str(exc)
    fit = None
    fit_path = fit_report_path(project_path) if project_path is not None else None
    if fit_path is not None and fit_path.exists():
        fit = read_fit_report(fit_path)
    return ReportInputs(
        out_dir=folder,
        kpis=kpis,
        runs=tuple(runs),
        primary=primary,
        shadow=shadow,
        fit=fit,
        fit_path=fit_path,
        project=project,
        project_path=project_path,
        project_problem=problem,
    )
