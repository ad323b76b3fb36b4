"""The report's sections, each built from the inputs it needs and stating its data source.

A section whose input is missing is still present, with a note saying what
is missing, so the reader knows the report did not silently drop it.
"""

from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING

from energyopt.errors import CancelledError, EnergyoptError
from energyopt.report.charts import Line, Panel, lines_svg, panel_svg, run_colour
from energyopt.report.page import Section, source_line, table_html
from energyopt.report.series import MAX_TRENDS, bound_series, holder_bindings, key_bindings
from energyopt.report.strings import fmt_value, medium_label, run_label, tr

if TYPE_CHECKING:
    from energyopt.plantbuild import BuiltPlant
    from energyopt.progress import CancelToken, ProgressCallback
    from energyopt.project import Project
    from energyopt.report.inputs import ReportInputs

__all__ = [
    "RUN_ORDER",
    "cost_section",
    "flows_section",
    "kpi_section",
    "ordered_runs",
    "trend_sections",
]

#: Display order of runs: the reference first, the controller last.
RUN_ORDER: tuple[str, ...] = ("recorded", "baseline", "mpc")


def ordered_runs(names: list[str] | tuple[str, ...]) -> list[str]:
    """Return run names in :data:`RUN_ORDER`, unknown names after, in their order.

    Parameters
    ----------
    names : list or tuple of str
        Run names.
    """
    known = [n for n in RUN_ORDER if n in names]
    return known + [n for n in names if n not in RUN_ORDER]


def _unit(unit: str, currency: str) -> str:
    return currency if unit == "currency" else unit


def kpi_section(inputs: ReportInputs, lang: str) -> Section:
    """KPI table: every run side by side, differences from the reference in units and %.

    Parameters
    ----------
    inputs : ReportInputs
        The folder's inputs.
    lang : str
        ``"en"`` or ``"zh"``.
    """
    section = Section("kpis", tr("sec.kpis", lang))
    if inputs.kpis is None:
        section.note(tr("kpi.missing", lang), lang)
        return section
    from energyopt.kpis import kpi_info

    report = inputs.kpis.report
    section.body.append(source_line([inputs.shown(inputs.kpis.path)], lang))
    ref = report.reference
    runs = ordered_runs(report.run_names)
    header = [tr("kpi.name", lang), tr("kpi.unit", lang)]
    for run in runs:
        header.append(run_label(run, lang))
        if run != ref:
            header += [tr("kpi.diff", lang, ref=run_label(ref, lang)), tr("kpi.diff_pct", lang)]
    rows = []
    notes = []
    for key in report.keys:
        info = kpi_info(key)
        row = [(info.name(lang), ""), (_unit(info.unit, inputs.currency), "")]
        for run in runs:
            row.append((fmt_value(report.value(run, key)), "num"))
            if run != ref:
                diff = report.difference(run, key)
                verdict = {True: " better", False: " worse", None: ""}[diff.improved]
                pct = f"{diff.relative_pct:+.1f} %" if math.isfinite(diff.relative_pct) else "–"
                row += [
                    (fmt_value(diff.absolute, signed=True), "num" + verdict),
                    (pct, "num" + verdict),
                ]
            result = report.runs[run].get(key)
            if result is not None and result.note:
                notes.append(f"{run_label(run, lang)} · {info.name(lang)}: {result.note}")
        rows.append(row)
    section.body.append(table_html(header, rows, css_class="kpis"))
    section.text(tr("kpi.legend", lang, ref=run_label(ref, lang)))
    if notes:
        items = "".join(f"<li>{escape(n)}</li>" for n in notes)
        section.body.append(f"<ul>{items}</ul>")
    return section


def flows_section(
    inputs: ReportInputs,
    built: BuiltPlant | None,
    built_problem: str,
    lang: str,
    *,
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> Section:
    """Energy-flow Sankey diagrams of the chosen run, site view and one per medium.

    Parameters
    ----------
    inputs : ReportInputs
        The folder's inputs.
    built : BuiltPlant or None
        The source project's plant, ``None`` if it could not be built.
    built_problem : str
        Why the plant could not be built.
    lang : str
        ``"en"`` or ``"zh"``.
    progress : ProgressCallback
        Rows read from the result file.
    cancel : CancelToken or None
        Checked while reading.
    """
    from energyopt.report.flows import mean_flows
    from energyopt.report.sankey import sankey_svg

    section = Section("flows", tr("sec.flows", lang))
    if inputs.primary is None:
        section.note(tr("flows.missing", lang), lang)
        return section
    if built is None:
        section.note(tr("flows.unavailable", lang, reason=built_problem), lang)
        return section
    section.body.append(
        source_line(
            [
                (
                    f"{inputs.shown(inputs.primary.path)} "
                    f"({run_label(inputs.primary.run, lang)}, model.*)"
                ),
                inputs.shown(inputs.project_path),
            ],
            lang,
        )
    )
    try:
        views, excluded = mean_flows(built, inputs.primary.path, progress=progress, cancel=cancel)
    except CancelledError:
        raise
    except EnergyoptError as exc:
        section.note(tr("flows.unavailable", lang, reason=str(exc)), lang)
        return section
    section.text(tr("flows.intro", lang))
    for view in views:
        if view.info.name == "site":
            name = tr("flows.site", lang)
        else:
            name = f"{view.info.name} ({medium_label(view.info.medium_kind, lang)})"
        heading = f"{name} [{view.info.unit_display}]"
        section.body.append(f"<h3>{escape(heading)}</h3>")
        svg = sankey_svg(view, title=heading)
        if svg:
            section.body.append(svg)
        else:
            section.text(tr("flows.empty", lang))
        if view.info.name == "site" and excluded:
            section.text(tr("flows.excluded", lang, items="; ".join(excluded)))
    return section


def _panels(project: Project, inputs: ReportInputs, names: list[str], lang: str) -> list[Panel]:
    panels = []
    for series in bound_series(project, inputs.runs, names):
        binding = series.binding
        lines = [
            Line(run_label(run, lang), *series.runs[run], colour=run_colour(run, i))
            for i, run in enumerate(ordered_runs(list(series.runs)))
        ]
        hard = binding.hard if binding.role == "controlled" else binding.limits
        panels.append(
            Panel(
                title=f"{series.name} · {binding.tag}",
                unit=binding.unit,
                lines=lines,
                normal=None if binding.normal is None else _band(binding.normal),
                hard=None if hard is None else _band(hard),
            )
        )
    return panels


def _band(band: tuple[float, float]) -> tuple[float, float]:
    return float(band[0]), float(band[1])


def _chart_grid(panels: list[Panel], inputs: ReportInputs, lang: str, prefix: str) -> str:
    time_label = tr("time.axis", lang, tz=inputs.timezone)
    charts = [
        panel_svg(p, timezone=inputs.timezone, time_label=time_label, salt=f"{prefix}{i}")
        for i, p in enumerate(panels)
    ]
    return '<div class="charts">' + "".join(f"<div>{c}</div>" for c in charts) + "</div>"


def _run_sources(inputs: ReportInputs, lang: str) -> list[str]:
    return [f"{inputs.shown(r.path)} ({run_label(r.run, lang)})" for r in inputs.runs]


def trend_sections(inputs: ReportInputs, lang: str) -> list[Section]:
    """Key variables with their bands, and gas-holder levels, for every run.

    Parameters
    ----------
    inputs : ReportInputs
        The folder's inputs.
    lang : str
        ``"en"`` or ``"zh"``.

    Returns
    -------
    list of Section
        The key-variable section and the holder-level section.
    """
    trends = Section("trends", tr("sec.trends", lang))
    holders = Section("holders", tr("sec.holders", lang))
    if not inputs.runs:
        for section in (trends, holders):
            section.note(tr("runs.missing", lang), lang)
        return [trends, holders]
    if inputs.project is None:
        for section in (trends, holders):
            section.note(tr("project.missing", lang, reason=inputs.project_problem), lang)
        return [trends, holders]
    project = inputs.project
    sources = [*_run_sources(inputs, lang), inputs.shown(inputs.project_path)]
    for section, names, empty, prefix in (
        (trends, key_bindings(project)[:MAX_TRENDS], "trends.none", "trend"),
        (holders, holder_bindings(project), "holders.none", "holder"),
    ):
        panels = _panels(project, inputs, names, lang)
        section.body.append(source_line(sources, lang))
        if not panels:
            section.note(tr(empty, lang), lang)
            continue
        section.text(tr("trends.intro", lang))
        section.body.append(_chart_grid(panels, inputs, lang, prefix))
    return [trends, holders]


def cost_section(
    inputs: ReportInputs, built: BuiltPlant | None, built_problem: str, lang: str
) -> Section:
    """Cumulative energy cost of every run over the period.

    Parameters
    ----------
    inputs : ReportInputs
        The folder's inputs.
    built : BuiltPlant or None
        The source project's plant.
    built_problem : str
        Why the plant could not be built.
    lang : str
        ``"en"`` or ``"zh"``.
    """
    from energyopt.report.series import cost_series

    section = Section("cost", tr("sec.cost", lang))
    if not inputs.runs:
        section.note(tr("runs.missing", lang), lang)
        return section
    if built is None:
        section.note(tr("cost.unavailable", lang, reason=built_problem), lang)
        return section
    series, problem = cost_series(built, inputs.runs)
    if problem:
        section.note(tr("cost.unavailable", lang, reason=problem), lang)
        return section
    sources = [*_run_sources(inputs, lang), inputs.shown(inputs.project_path)]
    section.body.append(source_line(sources, lang))
    section.text(tr("cost.intro", lang))
    lines = [
        Line(run_label(run, lang), *series[run], colour=run_colour(run, i))
        for i, run in enumerate(ordered_runs(list(series)))
    ]
    section.body.append(
        lines_svg(
            lines,
            title=tr("sec.cost", lang),
            y_label=tr("cost.axis", lang, unit=inputs.currency),
            timezone=inputs.timezone,
            time_label=tr("time.axis", lang, tz=inputs.timezone),
            salt="cost",
        )
    )
    return section
