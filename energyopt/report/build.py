"""Build ``report.html`` from a replay output folder (:func:`write_report`)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from energyopt.errors import EnergyoptError
from energyopt.progress import CancelToken, ProgressCallback, null_progress
from energyopt.report.strings import check_language, run_label, tr

if TYPE_CHECKING:
    from energyopt.report.inputs import ReportInputs

__all__ = ["REPORT_FILE", "render_report", "write_report"]

#: Name of the report in the output folder.
REPORT_FILE = "report.html"


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()


def _period_text(inputs: ReportInputs, lang: str) -> str:
    from energyopt.data.format import format_time_ms

    start, end = inputs.period_ms
    if start is None:
        return tr("unknown", lang)
    tz = inputs.timezone
    end_text = format_time_ms(end, tz) if end is not None else "?"
    return f"{format_time_ms(start, tz)} {tr('to', lang)} {end_text}"


def render_report(
    out_dir: str | os.PathLike[str],
    *,
    lang: str = "en",
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
) -> str:
    """Return the HTML text of the report of an output folder (nothing is written).

    Parameters
    ----------
    out_dir : str or path-like
        The replay's output folder.
    lang : {"en", "zh"}
        Language of the labels.
    progress : ProgressCallback, optional
        Called with ``(sections done, total, message)``.
    cancel : CancelToken, optional
        Checked between sections.

    Returns
    -------
    str
        The self-contained HTML page.

    Raises
    ------
    DataError
        If a file of the folder exists but cannot be used (named in the message).
    OutputError
        If ``lang`` is not supported.
    CancelledError
        If cancelled.
    """
    from energyopt import __version__
    from energyopt.data.format import format_time_ms
    from energyopt.report.evidence import fit_section, recommendations_section
    from energyopt.report.inputs import load_inputs
    from energyopt.report.page import page_html
    from energyopt.report.sections import cost_section, flows_section, kpi_section, trend_sections

    check_language(lang)
    total = 7
    progress(0, total, "reading inputs")
    inputs = load_inputs(out_dir)
    _check(cancel)
    built, built_problem = None, inputs.project_problem
    if inputs.project is not None and inputs.runs:
        from energyopt.plantbuild import build_plant

        try:
            built = build_plant(inputs.project, project_path=inputs.project_path)
        except EnergyoptError as exc:
            built_problem = str(exc)
    progress(1, total, "KPIs")
    sections = [kpi_section(inputs, lang)]
    _check(cancel)
    progress(2, total, "energy flows")
    sections.append(
        flows_section(inputs, built, built_problem, lang, progress=null_progress, cancel=cancel)
    )
    _check(cancel)
    progress(3, total, "trends")
    sections += trend_sections(inputs, lang)
    _check(cancel)
    progress(4, total, "cost")
    sections.append(cost_section(inputs, built, built_problem, lang))
    _check(cancel)
    progress(5, total, "recommendations")
    sections.append(recommendations_section(inputs, lang))
    progress(6, total, "model fit")
    sections.append(fit_section(inputs, lang))
    _check(cancel)
    unknown = tr("unknown", lang)
    meta = [
        (tr("plant", lang), inputs.plant or unknown),
        (tr("period", lang), _period_text(inputs, lang)),
        (tr("timezone", lang), inputs.timezone),
        (
            tr("controller", lang),
            run_label(inputs.controller, lang) if inputs.controller else unknown,
        ),
        (tr("source_project", lang), str(inputs.project_path or unknown)),
        (
            tr("source_data", lang),
            (inputs.kpis.source_data if inputs.kpis else "")
            or next((r.source_data for r in inputs.runs if r.source_data), unknown),
        ),
        (tr("generated", lang), format_time_ms(int(time.time()) * 1000, inputs.timezone)),
    ]
    html = page_html(
        lang=lang,
        title=f"{tr('title', lang)} – {inputs.plant}" if inputs.plant else tr("title", lang),
        meta=meta,
        sections=sections,
        footer=tr("footer", lang, version=__version__),
    )
    progress(total, total, "done")
    return html


def write_report(
    out_dir: str | os.PathLike[str],
    *,
    lang: str = "en",
    out_path: str | os.PathLike[str] | None = None,
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
) -> Path:
    """Build the self-contained HTML report of a replay output folder.

    Reads whichever of ``results.h5``, ``compare_baseline.h5``,
    ``compare_recorded.h5``, ``kpis.json``, ``shadow.json`` and the fit report
    beside the source project exist (:mod:`energyopt.report.inputs`); a
    missing one leaves its section with a note.  The page embeds its charts
    as SVG and its stylesheet inline, has no script and references no file or
    URL.  It is written atomically and replaces an earlier report.

    Parameters
    ----------
    out_dir : str or path-like
        The replay's output folder.
    lang : {"en", "zh"}
        Language of the labels.
    out_path : str or path-like, optional
        Where to write (default ``out_dir/report.html``).
    progress : ProgressCallback, optional
        Called with ``(sections done, total, message)``.
    cancel : CancelToken, optional
        Checked between sections; a cancelled report writes nothing.

    Returns
    -------
    pathlib.Path
        The written report.

    Raises
    ------
    DataError
        If a file of the folder exists but cannot be used (named in the message).
    OutputError
        If ``lang`` is not supported or the report cannot be written (for
        example over an input file).
    CancelledError
        If cancelled; nothing is written.
    """
    from energyopt.fileio import atomic_output, check_destination

    check_language(lang)
    target = Path(out_path) if out_path is not None else Path(out_dir) / REPORT_FILE
    check_destination(target, overwrite=True)
    html = render_report(out_dir, lang=lang, progress=progress, cancel=cancel)
    with atomic_output(target, overwrite=True) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return target
