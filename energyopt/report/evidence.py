"""Sections from the other workflows' records: top recommendations and model-fit quality.

``shadow.json`` (the advisor in shadow mode) and the fit report
(``energyopt fit``) are read tolerantly: a field the report does not find
is shown as ``–`` rather than failing, since the report is for reading.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np

from energyopt.report.charts import Line, lines_svg
from energyopt.report.page import Section, source_line, table_html
from energyopt.report.strings import fmt_value, tr

if TYPE_CHECKING:
    from energyopt.report.inputs import ReportInputs

__all__ = ["MAX_FIT_PLOTS", "SAVING_KEYS", "fit_section", "recommendations_section"]

#: Most measured-vs-predicted charts in a report. [-]
MAX_FIT_PLOTS = 8


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


#: Saving fields of a recommendation record, in the order the report prefers them:
#: the shadow run's ``predicted_saving`` (acting now against waiting one interval),
#: the record's ``interval_saving`` (the same figure, from the advisor record), then
#: ``expected_saving`` over the horizon (often ``null`` on the steelworks, where
#: holding the current setpoints is infeasible on the model).
SAVING_KEYS: tuple[str, ...] = ("predicted_saving", "interval_saving", "expected_saving")


def _saving(rec: Mapping[str, Any], currency: str) -> tuple[float | None, str, str]:
    """The saving a recommendation row shows, its unit and which field it came from.

    Returns
    -------
    value : float or None
        The first finite number of :data:`SAVING_KEYS` (a number or a
        ``{value, unit}`` object); ``None`` if none. [currency]
    unit : str
        Its currency.
    key : str
        The field shown (``""`` if none).
    """
    fallback_unit = rec.get("expected_saving_unit", rec.get("currency"))
    default_unit = fallback_unit if isinstance(fallback_unit, str) else currency
    for key in SAVING_KEYS:
        raw = rec.get(key)
        unit = default_unit
        if isinstance(raw, Mapping):
            unit = raw["unit"] if isinstance(raw.get("unit"), str) else default_unit
            raw = raw.get("value")
        value = _number(raw)
        if value is not None and math.isfinite(value):
            return value, unit, key
    return None, default_unit, ""


def _plan_reason(rec: Mapping[str, Any]) -> str:
    """The record's top-level reason (what drives the plan, or why it fell back)."""
    for key in ("reason", "fallback_reason"):
        value = rec.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _moves(rec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The per-MV entries (``mvs`` or ``moves``, a list or a mapping by MV)."""
    raw = rec.get("mvs", rec.get("moves", []))
    if isinstance(raw, Mapping):
        return [dict(value, mv=key) for key, value in raw.items() if isinstance(value, Mapping)]
    return [m for m in raw if isinstance(m, Mapping)] if isinstance(raw, list) else []


def _move_text(move: Mapping[str, Any]) -> str:
    name = str(move.get("tag") or move.get("mv") or "?")
    unit = move.get("unit") if isinstance(move.get("unit"), str) else ""
    current = fmt_value(_number(move.get("current")))
    target = fmt_value(_number(move.get("recommended")))
    text = f"{name}: {current} → {target} {unit}".rstrip()
    reason = move.get("reason")
    return f"{text} ({reason})" if isinstance(reason, str) and reason else text


def _constraints(rec: Mapping[str, Any]) -> str:
    raw = rec.get("active_constraints", [])
    if not isinstance(raw, list):
        return ""
    names = [str(c.get("name", c)) if isinstance(c, Mapping) else str(c) for c in raw]
    return ", ".join(names)


def recommendations_section(inputs: ReportInputs, lang: str) -> Section:
    """Top recommendations of the shadow run, missed savings and their causes.

    Parameters
    ----------
    inputs : ReportInputs
        The folder's inputs.
    lang : str
        ``"en"`` or ``"zh"``.
    """
    from energyopt.data.format import format_time_ms

    section = Section("recommendations", tr("sec.recs", lang))
    shadow = inputs.shadow
    if shadow is None:
        section.note(tr("recs.none", lang), lang)
        return section
    section.body.append(source_line([inputs.shown(inputs.out_dir / "shadow.json")], lang))
    currency = shadow.get("currency") if isinstance(shadow.get("currency"), str) else None
    currency = currency or inputs.currency
    hours = shadow.get("missed_savings_per_hour", [])
    if isinstance(hours, list):
        missed = [_number(h.get("missed")) for h in hours if isinstance(h, Mapping)]
        total = sum(m for m in missed if m is not None and math.isfinite(m))
        section.text(tr("recs.missed_total", lang, value=fmt_value(total), unit=currency))
    top = shadow.get("top_recommendations", [])
    if not top:
        section.text(tr("recs.empty", lang))
    else:
        rows = []
        unit = currency
        shown: dict[str, int] = {}
        for rec in top:
            saving, unit, key = _saving(rec, currency)
            shown[key] = shown.get(key, 0) + 1
            time_ms = _number(rec.get("time_ms"))
            when = format_time_ms(int(time_ms), inputs.timezone) if time_ms is not None else "–"
            status = str(rec.get("status", ""))
            fallback = rec.get("fallback", rec.get("fallback_level"))
            if fallback is not None and str(fallback).lower() not in ("", "none", "0"):
                status = f"{status} ({fallback})"
            rows.append(
                [
                    (when, ""),
                    (fmt_value(saving), "num"),
                    (tr(f"recs.basis.{key or 'none'}", lang), ""),
                    ("; ".join(_move_text(m) for m in _moves(rec)), ""),
                    (_plan_reason(rec) or "–", ""),
                    (_constraints(rec), ""),
                    (status, ""),
                ]
            )
        header = [
            tr("recs.time", lang),
            tr("recs.saving", lang, unit=unit),
            tr("recs.basis", lang),
            tr("recs.moves", lang),
            tr("recs.reason", lang),
            tr("recs.constraints", lang),
            tr("recs.status", lang),
        ]
        if len(shown) == 1:
            # One basis for every row: said once above the table, not in a column.
            (key,) = shown
            section.text(tr("recs.basis_note", lang, basis=tr(f"recs.basis.{key or 'none'}", lang)))
            header.pop(2)
            rows = [row[:2] + row[3:] for row in rows]
        section.body.append(table_html(header, rows))
    causes = shadow.get("missed_by_cause", {})
    if causes:
        rows = [
            [(str(cause), ""), (fmt_value(_number(value)), "num")]
            for cause, value in sorted(causes.items(), key=lambda kv: -(_number(kv[1]) or 0.0))
        ]
        header = [tr("recs.cause", lang), tr("recs.missed", lang, unit=currency)]
        section.body.append(table_html(header, rows))
    return section


def _period(data: object, timezone: str) -> str:
    from energyopt.data.format import format_time_ms

    if not isinstance(data, Mapping):
        return "–"
    start, end = _number(data.get("start_ms")), _number(data.get("end_ms"))
    if start is None or end is None:
        return "–"
    return f"{format_time_ms(int(start), timezone)} – {format_time_ms(int(end), timezone)}"


def fit_section(inputs: ReportInputs, lang: str) -> Section:
    """Model-fit quality: hold-out errors, parameters, measured against predicted.

    Parameters
    ----------
    inputs : ReportInputs
        The folder's inputs.
    lang : str
        ``"en"`` or ``"zh"``.
    """
    section = Section("fit", tr("sec.fit", lang))
    fit = inputs.fit
    if fit is None:
        section.note(tr("fit.none", lang, path=str(inputs.fit_path or "*.fit.json")), lang)
        return section
    tz = inputs.timezone
    section.body.append(
        source_line(
            [
                inputs.shown(inputs.fit_path),
                f"{tr('fit.train', lang)}: {_period(fit.get('train'), tz)}",
                f"{tr('fit.validate', lang)}: {_period(fit.get('validate'), tz)}",
            ],
            lang,
        )
    )
    out_rows: list[list[tuple[str, str]]] = []
    par_rows: list[list[tuple[str, str]]] = []
    for unit in fit["units"]:
        samples = unit.get("samples") if isinstance(unit.get("samples"), Mapping) else {}
        counts = f"{samples.get('train', '–')} / {samples.get('validate', '–')}"
        out_rows.extend(
            [
                (unit["unit"], ""),
                (str(unit.get("kind", "")), ""),
                (str(out.get("name", "")), ""),
                (str(out.get("unit", "")), ""),
                (fmt_value(_number(out.get("nrmse"))), "num"),
                (fmt_value(_number(out.get("r2"))), "num"),
                (fmt_value(_number(out.get("bias")), signed=True), "num"),
                (counts, "num"),
            ]
            for out in unit.get("outputs", [])
        )
        par_rows.extend(
            [
                (unit["unit"], ""),
                (str(par.get("name", "")), ""),
                (fmt_value(_number(par.get("value"))), "num"),
                (fmt_value(_number(par.get("std_error"))), "num"),
                (str(par.get("unit", "")), ""),
            ]
            for par in unit.get("parameters", [])
        )
    section.body.append(
        table_html(
            [
                tr("fit.unit", lang),
                tr("fit.kind", lang),
                tr("fit.output", lang),
                tr("kpi.unit", lang),
                "NRMSE",
                "R²",
                tr("fit.bias", lang),
                tr("fit.samples", lang),
            ],
            out_rows,
        )
    )
    if par_rows:
        section.body.append(
            table_html(
                [
                    tr("fit.unit", lang),
                    tr("fit.parameter", lang),
                    tr("fit.value", lang),
                    tr("fit.std_error", lang),
                    tr("kpi.unit", lang),
                ],
                par_rows,
            )
        )
    skipped = fit.get("skipped")
    if isinstance(skipped, list) and skipped:
        items = "; ".join(
            f"{s.get('unit', '?')} ({s.get('reason', '')})"
            for s in skipped
            if isinstance(s, Mapping)
        )
        section.text(tr("fit.skipped", lang, items=items))
    section.body.append(_fit_charts(fit, inputs, lang))
    return section


def _fit_charts(fit: Mapping[str, Any], inputs: ReportInputs, lang: str) -> str:
    charts = []
    shown = total = 0
    for unit in fit["units"]:
        series = unit.get("series")
        if not isinstance(series, Mapping):
            continue
        units = {str(o.get("name")): str(o.get("unit", "")) for o in unit.get("outputs", [])}
        for name, data in series.items():
            if not isinstance(data, Mapping):
                continue
            try:
                t = np.asarray(data["time_ms"], dtype=np.int64)
                measured = np.asarray(data["measured"], dtype=np.float64)
                predicted = np.asarray(data["predicted"], dtype=np.float64)
            except (KeyError, TypeError, ValueError):
                continue
            if not (t.ndim == 1 and t.shape == measured.shape == predicted.shape and t.size):
                continue
            total += 1
            if shown >= MAX_FIT_PLOTS:
                continue
            shown += 1
            lines = [
                Line(tr("fit.measured", lang), t, measured, colour="#7f7f7f"),
                Line(tr("fit.predicted", lang), t, predicted, colour="#1f77b4"),
            ]
            charts.append(
                lines_svg(
                    lines,
                    title=f"{unit['unit']} · {name}",
                    y_label=units.get(str(name), ""),
                    timezone=inputs.timezone,
                    time_label=tr("time.axis", lang, tz=inputs.timezone),
                    salt=f"fit{shown}",
                )
            )
    html = '<div class="charts">' + "".join(f"<div>{c}</div>" for c in charts) + "</div>"
    if total > shown:
        html += f"<p>{escape(tr('fit.plots_limited', lang, n=shown))}</p>"
    return html
