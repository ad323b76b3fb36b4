"""What the KPI dashboard shows of a replay folder: KPI table, cost and energy intensity over time.

:func:`load_dashboard` reads a replay output folder (``kpis.json``,
``results.h5``, ``compare_*.h5``) through
:func:`energyopt.report.inputs.load_inputs` into a :class:`DashboardData`;
:class:`~energyopt.appstate.kpi_dashboard.KpiDashboard` runs it in the
background.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from energyopt.errors import EnergyoptError
from energyopt.progress import CancelToken, ProgressCallback, null_progress

if TYPE_CHECKING:
    from energyopt.kpis import KpiDifference

__all__ = ["DashboardData", "KpiRow", "Series", "load_dashboard", "period_text"]

Series = tuple["npt.NDArray[np.int64]", "npt.NDArray[np.float64]"]
"""Times [ms since epoch] and values of one curve."""


@dataclass(frozen=True)
class KpiRow:
    """One KPI over the runs of a folder.

    Attributes
    ----------
    key : str
        KPI key (:func:`energyopt.kpis.kpi_info`).
    unit : str
        Display unit (the project's currency for cost KPIs).
    values : mapping of str to float
        Run -> value (NaN when not computed). [unit]
    differences : mapping of str to KpiDifference
        Run (not the reference) -> difference from the reference run.
    notes : mapping of str to str
        Run -> note of the result (missing data ...), only where there is one.
    """

    key: str
    unit: str
    values: Mapping[str, float]
    differences: Mapping[str, KpiDifference]
    notes: Mapping[str, str] = field(default_factory=dict)

    def name(self, language: str = "en") -> str:
        """Return the KPI's display name in ``"en"`` or ``"zh"``."""
        from energyopt.kpis import kpi_info

        return kpi_info(self.key).name(language)


@dataclass(frozen=True)
class DashboardData:
    """Everything the dashboard shows of one replay folder.

    Attributes
    ----------
    folder : pathlib.Path
        The replay output folder.
    plant, timezone, controller, currency : str
        From ``kpis.json``, the result files or the project.
    period_ms : tuple of (int or None)
        Start and end of the replay. [ms since epoch]
    runs : tuple of str
        Runs of the KPI table, reference first, the controller last.
    reference : str or None
        The run differences are taken against.
    rows : tuple of KpiRow
        The KPI table (empty without ``kpis.json``).
    kpis_problem : str
        Why there is no KPI table (``""`` if there is one).
    cost : mapping of str to Series
        Run -> cumulative energy cost. [currency]
    cost_problem : str
        Why there is no cost curve (``""`` if there are curves).
    intensity : mapping of str to Series
        Run -> rolling energy intensity. [kgce/t]
    intensity_problem : str
        Why there is no intensity curve (``""`` if there are curves).
    window_s : float
        Window of the rolling intensity. [s]
    source_project, source_data : pathlib.Path or None
        The replay's inputs.
    """

    folder: Path
    plant: str
    timezone: str
    controller: str
    currency: str
    period_ms: tuple[int | None, int | None]
    runs: tuple[str, ...]
    reference: str | None
    rows: tuple[KpiRow, ...]
    kpis_problem: str
    cost: Mapping[str, Series]
    cost_problem: str
    intensity: Mapping[str, Series]
    intensity_problem: str
    window_s: float
    source_project: Path | None
    source_data: Path | None

    def row(self, key: str) -> KpiRow:
        """Return the row of a KPI key.

        Raises
        ------
        KeyError
            If the folder has no such KPI.
        """
        return {row.key: row for row in self.rows}[key]


def period_text(period_ms: tuple[int | None, int | None], timezone: str) -> str:
    """Return a replay period in the plant's wall-clock time, short.

    Parameters
    ----------
    period_ms : tuple of (int or None)
        Start and end. [ms since epoch]
    timezone : str
        The plant's IANA zone (times shown in UTC if unknown).

    Returns
    -------
    str
        ``"2026-01-08 08:00 – 14:00 (UTC+08:00)"`` within one day,
        ``"2026-01-08 08:00 – 2026-01-09 08:00 (UTC+08:00)"`` across days
        (the offset of the start), ``"–"`` when a bound is unknown.
    """
    import datetime as dt

    from energyopt.data.format import load_timezone

    start, end = period_ms
    if start is None or end is None:
        return "–"
    try:
        zone: dt.tzinfo = load_timezone(timezone)
    except EnergyoptError:
        zone = dt.UTC
    first = dt.datetime.fromtimestamp(start / 1000.0, tz=zone)
    last = dt.datetime.fromtimestamp(end / 1000.0, tz=zone)
    end_format = "%H:%M" if last.date() == first.date() else "%Y-%m-%d %H:%M"
    offset = first.strftime("%z")
    return f"{first:%Y-%m-%d %H:%M} – {last.strftime(end_format)} (UTC{offset[:3]}:{offset[3:]})"


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()


def _kpi_rows(report: Any, runs: list[str], currency: str) -> tuple[KpiRow, ...]:
    from energyopt.kpis import kpi_info

    rows = []
    for key in report.keys:
        unit = kpi_info(key).unit
        values = {run: float(report.value(run, key)) for run in runs}
        differences = {run: report.difference(run, key) for run in runs if run != report.reference}
        notes = {
            run: result.note
            for run in runs
            if (result := report.runs[run].get(key)) is not None and result.note
        }
        rows.append(
            KpiRow(
                key=key,
                unit=currency if unit == "currency" else unit,
                values=values,
                differences=differences,
                notes=notes,
            )
        )
    return tuple(rows)


def load_dashboard(
    folder: str | os.PathLike[str],
    *,
    window_s: float | None = None,
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
) -> DashboardData:
    """Read a replay output folder for the dashboard.

    Parameters
    ----------
    folder : str or path-like
        The folder (``kpis.json``, ``results.h5``, ``compare_*.h5``; each optional).
    window_s : float, optional
        Window of the rolling energy intensity; default
        :data:`energyopt.report.intensity.DEFAULT_WINDOW_S`. [s]
    progress : ProgressCallback, optional
        Called with ``(steps done, total, message)``.
    cancel : CancelToken, optional
        Checked between steps.

    Returns
    -------
    DashboardData

    Raises
    ------
    DataError
        If the folder does not exist or a file in it cannot be used (the
        message names the file).
    CancelledError
        If cancelled.
    """
    from energyopt.report.inputs import load_inputs
    from energyopt.report.intensity import DEFAULT_WINDOW_S, run_intensity
    from energyopt.report.sections import ordered_runs
    from energyopt.report.series import cost_series

    window = DEFAULT_WINDOW_S if window_s is None else float(window_s)
    total = 4
    progress(0, total, "reading the folder")
    inputs = load_inputs(folder)
    _check(cancel)
    currency = inputs.currency
    rows: tuple[KpiRow, ...] = ()
    runs: list[str] = []
    reference = None
    kpis_problem = "no kpis.json in this folder"
    if inputs.kpis is not None:
        report = inputs.kpis.report
        runs = ordered_runs(report.run_names)
        reference = report.reference
        rows = _kpi_rows(report, runs, currency)
        kpis_problem = ""
    else:
        runs = ordered_runs([run.run for run in inputs.runs])
    progress(1, total, "building the plant")
    built = None
    problem = inputs.project_problem
    if not inputs.runs:
        problem = "no result file (results.h5, compare_*.h5) in this folder"
    elif inputs.project is not None:
        from energyopt.plantbuild import build_plant

        try:
            built = build_plant(inputs.project, project_path=inputs.project_path)
        except EnergyoptError as exc:
            problem = str(exc)
    _check(cancel)
    progress(2, total, "cost over time")
    cost: dict[str, Series] = {}
    cost_problem = intensity_problem = problem
    intensity: dict[str, Series] = {}
    if built is not None:
        cost, cost_problem = cost_series(built, inputs.runs)
        _check(cancel)
        progress(3, total, "energy intensity over time")
        try:
            for run in inputs.runs:
                intensity[run.run] = run_intensity(built, run, window)
        except EnergyoptError as exc:
            intensity, intensity_problem = {}, str(exc)
        else:
            intensity_problem = ""
    _check(cancel)
    source_data = inputs.kpis.source_data if inputs.kpis is not None else ""
    source_data = source_data or next((r.source_data for r in inputs.runs if r.source_data), "")
    progress(total, total, "done")
    return DashboardData(
        folder=Path(folder),
        plant=inputs.plant,
        timezone=inputs.timezone,
        controller=inputs.controller,
        currency=currency,
        period_ms=inputs.period_ms,
        runs=tuple(runs),
        reference=reference,
        rows=rows,
        kpis_problem=kpis_problem,
        cost={run: cost[run] for run in ordered_runs(list(cost))},
        cost_problem=cost_problem,
        intensity={run: intensity[run] for run in ordered_runs(list(intensity))},
        intensity_problem=intensity_problem,
        window_s=window,
        source_project=inputs.project_path,
        source_data=Path(source_data) if source_data else None,
    )
