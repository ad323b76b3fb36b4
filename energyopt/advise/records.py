"""A recommendation as a JSON-ready record and as a table for the operator (en/zh).

Values are in each MV's engineering unit (its binding's tag unit; the model's
SI unit for an MV without a tag).  Reasons say which limit bounds a move,
which constraints are active and what drives the plan.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from controllers.advisor import Recommendation
    from energyopt.advise.base import SessionBase

__all__ = ["recommendation_table", "recommendation_to_dict"]

_TITLES = {
    "en": {
        "title": "Recommendation at {time} (mode {mode})",
        "mv": "MV",
        "tag": "tag",
        "unit": "unit",
        "now": "now",
        "recommended": "recommended",
        "limits": "limits",
        "reason": "reason",
        "saving": "expected saving over {horizon}",
        "horizon": "the horizon",
        "basis": "against",
        "purchases": "of which purchases (energy, fuel, flare)",
        "interval": "saving of acting now (first interval)",
        "unknown": "unknown",
        "active": "active constraints",
        "fallback": "plan source",
        "driver": "what drives the plan",
        "none": "none",
        "NONE": "controller plan",
        "SHIFTED_PLAN": "shifted previous plan",
        "HOLD": "hold the current setpoints",
    },
    "zh": {
        "title": "{time} 的建议（模式 {mode}）",
        "mv": "操纵变量",
        "tag": "位号",
        "unit": "单位",
        "now": "当前值",
        "recommended": "建议值",
        "limits": "限值",
        "reason": "原因",
        "saving": "{horizon}内预期节省",
        "horizon": "预测期",
        "basis": "对比基准",
        "purchases": "其中购入（电、燃料、放散）",
        "interval": "立即调整的节省（首个控制周期）",
        "unknown": "未知",
        "active": "起作用的约束",
        "fallback": "方案来源",
        "driver": "主要驱动因素",
        "none": "无",
        "NONE": "控制器方案",
        "SHIFTED_PLAN": "上一方案顺延",
        "HOLD": "保持当前设定值",
    },
}


def _num(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


#: A recommended move below this share of the MV's range is worded as a hold. [-]
NEGLIGIBLE_MOVE = 1e-3


def _reason(mv: Any, info: Any, spec: Any) -> str:
    """The move in words, in the tag's unit: direction and what limits it."""
    current, setpoint = info.to_tag(mv.current), info.to_tag(mv.setpoint)
    if current is None or setpoint is None:
        return str(mv.reason)
    unit = info.unit
    span = abs(info.to_tag(spec.upper) - info.to_tag(spec.lower))
    if abs(setpoint - current) <= NEGLIGIBLE_MOVE * span:
        text = f"hold at {_fmt(current)} {unit}"
        if setpoint != current:
            text += " (the plan's change is below 0.1 % of its range)"
    elif setpoint > current:
        text = f"raise from {_fmt(current)} to {_fmt(setpoint)} {unit}"
    else:
        text = f"lower from {_fmt(current)} to {_fmt(setpoint)} {unit}"
    notes = {
        "lower": "at its lower limit",
        "upper": "at its upper limit",
        "rate": "limited by its rate limit",
        "recovering": "outside its limits: full rate step toward them",
    }
    if mv.limitation.value in notes:
        text += f"; {notes[mv.limitation.value]}"
    return text


def recommendation_to_dict(
    rec: Recommendation,
    session: SessionBase,
    *,
    interval_saving: float | None = None,
    driver: str | None = None,
    purchase_saving: float | None = None,
) -> dict[str, Any]:
    """Return a JSON-ready record of a recommendation (tag names, engineering units).

    Parameters
    ----------
    rec : Recommendation
        From :meth:`AdvisorSession.recommend`.
    session : SessionBase
        The session that made it (bindings, limits, currency): an
        :class:`~energyopt.advise.AdvisorSession` or a process
        :class:`~energyopt.advise.process.ProcessAdvisorSession` (whose NMPC
        objective is not in money: ``expected_saving`` is ``null`` with the reason).
    interval_saving : float, optional
        Saving of acting now rather than one interval later
        (:func:`energyopt.advise.comparison.compare_first_interval`). [currency]
    driver : str, optional
        What drives the plan (the cause of ``interval_saving``), in words.
    purchase_saving : float, optional
        The part of the expected saving that is purchases (energy, fuel,
        flare, emissions). [currency]

    Returns
    -------
    dict
        ``time_ms``, ``time`` (ISO 8601, plant time zone), ``mode``, ``mvs``
        (per MV: ``mv``, ``variable``, ``tag``, ``unit``, ``current``,
        ``recommended``, ``low``, ``high``, ``rate_per_interval``,
        ``limitation``, ``reason``), ``expected_saving`` (``null`` when
        unknown), ``interval_saving``, ``driver``, ``reason`` (what drives
        the plan, or why it fell back), ``expected_saving_horizon_s`` (the
        horizon the saving covers), ``expected_saving_basis`` (its baseline
        in words), ``expected_saving_reason`` (why it is unknown, ``null``
        when known), ``expected_saving_purchases`` (its part that is
        purchases), ``baseline`` (``null``, or ``held`` MV names, ``hold_s``,
        ``trim``, ``status``, ``violated_constraints``, ``attempts``,
        ``solve_time_s``), ``currency``, ``active_constraints``,
        ``infeasible_constraints``, ``fallback``, ``fallback_reason``,
        ``status``, ``solve_time_s``, ``measurement_issues``, ``plant_mode``.
    """
    from energyopt.data.format import format_time_ms

    time_ms = round(rec.time_s * 1000.0)
    mvs = []
    for mv, info, spec in zip(rec.mvs, session.mvs, session.advisor.settings.mvs, strict=True):
        ends = sorted([info.to_tag(spec.lower) or 0.0, info.to_tag(spec.upper) or 0.0])
        rate = spec.rate_per_interval
        mvs.append(
            {
                "mv": info.name,
                "variable": info.variable,
                "tag": info.tag,
                "unit": info.unit,
                "current": _num(info.to_tag(mv.current)),
                "recommended": _num(info.to_tag(mv.setpoint)),
                "low": ends[0],
                "high": ends[1],
                "rate_per_interval": _num(rate * abs(info.scale)) if math.isfinite(rate) else None,
                "limitation": mv.limitation.value,
                "reason": _reason(mv, info, spec),
            }
        )
    saving, saving_reason = rec.expected_saving, rec.saving_note or None
    if not session.prices_saving:
        saving = None
        saving_reason = (
            f"the process NMPC's objective (CV bands, plan tracking, moves) is not priced "
            f"in {session.currency}"
        )
    return {
        "time_ms": time_ms,
        "time": format_time_ms(time_ms, session.timezone),
        "mode": rec.mode.name,
        "mvs": mvs,
        "expected_saving": _num(saving),
        "expected_saving_horizon_s": _num(rec.saving_horizon_s),
        "expected_saving_basis": None if rec.baseline is None else rec.baseline.describe(),
        "expected_saving_reason": saving_reason,
        "expected_saving_purchases": _num(purchase_saving),
        "baseline": _baseline(rec, session),
        "interval_saving": _num(interval_saving),
        "driver": driver,
        "reason": f"plan driven by {driver}" if driver else rec.fallback_reason,
        "currency": session.currency,
        "active_constraints": list(rec.active_constraints),
        "infeasible_constraints": list(rec.infeasible_constraints),
        "fallback": rec.fallback.name,
        "fallback_reason": rec.fallback_reason,
        "status": None if rec.solve_status is None else rec.solve_status.value,
        "solve_time_s": float(rec.solve_time_s),
        "measurement_issues": list(rec.measurement_issues),
        "plant_mode": rec.plant_mode,
    }


def _baseline(rec: Recommendation, session: SessionBase) -> dict[str, Any] | None:
    """The saving's baseline as a record (MV names as the operator knows them)."""
    base = rec.baseline
    if base is None:
        return None
    names = {info.variable: info.name for info in session.mvs}
    return {
        "held": [names.get(v, v) for v in base.held_mvs],
        "hold_s": float(base.hold_s),
        "trim": float(base.trim),
        "status": None if base.status is None else base.status.value,
        "violated_constraints": list(base.violated_constraints),
        "attempts": list(base.attempts),
        "solve_time_s": float(base.solve_time_s),
    }


def _fmt(value: float | None) -> str:
    """A value for operators: thousands grouped, four significant digits below 1000."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 1000.0 else f"{value:.4g}"


def _duration(seconds: float) -> str:
    from controllers.advisor.baseline import describe_duration

    return describe_duration(float(seconds))


def recommendation_table(record: dict[str, Any], *, lang: str = "en") -> Any:
    """Render a :func:`recommendation_to_dict` record as rich renderables.

    Parameters
    ----------
    record : dict
        The record.
    lang : {"en", "zh"}
        Language of titles and labels.

    Returns
    -------
    rich.console.Group
        The MV table (setpoint now -> recommended, limits, reason) and the
        summary lines (saving with currency, active constraints, plan source).
    """
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table

    words = _TITLES.get(lang, _TITLES["en"])
    table = Table(
        title=words["title"].format(time=record["time"], mode=record["mode"]),
        title_justify="left",
    )
    for key in ("mv", "tag", "unit", "now", "recommended", "limits", "reason"):
        table.add_column(words[key], overflow="fold")
    for mv in record["mvs"]:
        table.add_row(
            escape(mv["mv"]),
            escape(mv["tag"] or "-"),
            escape(mv["unit"]),
            _fmt(mv["current"]),
            _fmt(mv["recommended"]),
            f"{_fmt(mv['low'])} .. {_fmt(mv['high'])}",
            escape(mv["reason"]),
        )
    currency = record["currency"]
    saving = record["expected_saving"]
    horizon_s = record.get("expected_saving_horizon_s")
    horizon = words["horizon"] if horizon_s is None else _duration(horizon_s)
    if saving is None:
        why = record.get("expected_saving_reason")
        amount = words["unknown"] + (f" ({why})" if why else "")
    else:
        amount = f"{saving:,.0f} {currency}"
    lines = [f"{words['saving'].format(horizon=horizon)}: {amount}"]
    purchases = record.get("expected_saving_purchases")
    if saving is not None and purchases is not None:
        lines.append(f"{words['purchases']}: {purchases:,.0f} {currency}")
    if saving is not None and record.get("expected_saving_basis"):
        lines.append(f"{words['basis']}: {record['expected_saving_basis']}")
    if record.get("interval_saving") is not None:
        lines.append(f"{words['interval']}: {record['interval_saving']:,.0f} {currency}")
    if record.get("driver"):
        lines.append(f"{words['driver']}: {record['driver']}")
    active = ", ".join(record["active_constraints"]) or words["none"]
    lines.append(f"{words['active']}: {active}")
    source = words.get(record["fallback"], record["fallback"])
    if record["fallback_reason"]:
        source += f" ({record['fallback_reason']})"
    lines.append(f"{words['fallback']}: {source}")
    return Group(table, *(escape(line) for line in lines))
