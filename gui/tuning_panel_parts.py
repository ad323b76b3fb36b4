"""Tables and texts of the tuning panel (:mod:`gui.tuning_panel`): columns, rows, stored result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

from energyopt.appstate.tuning_parts import display_unit, format_value
from energyopt.kpis.registry import kpi_info

if TYPE_CHECKING:
    from collections.abc import Sequence

    from energyopt.appstate.tuning_parts import KpiRow, SettingRow
    from energyopt.appstate.tuning_stored import StoredChange, StoredTune
    from energyopt.tune import ParamSpec, TrialRecord

__all__ = [
    "KPI_COLUMNS",
    "SETTING_COLUMNS",
    "TRIAL_COLUMNS",
    "column_title",
    "fill_kpi_table",
    "fill_setting_table",
    "fill_trial_table",
    "range_text",
    "stored_text",
    "time_text",
]

SETTING_COLUMNS: tuple[str, ...] = ("parameter", "range", "current", "best")
"""Columns of the searched-parameter table."""
KPI_COLUMNS: tuple[str, ...] = ("kpi", "window", "current", "best")
"""Columns of the KPI table (current settings vs best settings)."""
TRIAL_COLUMNS: tuple[str, ...] = ("trial", "status", "score", "feasible")
"""Columns of the trial table."""

#: Colour of a KPI of the best settings outside its constraint bounds.
_BROKEN_COLOUR = "#b00020"


def column_title(column: str) -> str:
    """Translated title of a column of the panel's tables."""
    titles = {
        "parameter": QCoreApplication.translate("TuningPanel", "Parameter"),
        "range": QCoreApplication.translate("TuningPanel", "Searched range"),
        "current": QCoreApplication.translate("TuningPanel", "Project value"),
        "best": QCoreApplication.translate("TuningPanel", "Best value"),
        "kpi": QCoreApplication.translate("TuningPanel", "KPI"),
        "window": QCoreApplication.translate("TuningPanel", "Window"),
        "trial": QCoreApplication.translate("TuningPanel", "Trial"),
        "status": QCoreApplication.translate("TuningPanel", "Status"),
        "score": QCoreApplication.translate("TuningPanel", "Score"),
        "feasible": QCoreApplication.translate("TuningPanel", "Feasible"),
    }
    return titles[column]


def range_text(spec: ParamSpec) -> str:
    """The range searched for a parameter, in words (``"10 to 1000 (log)"``)."""
    if spec.kind == "categorical":
        return " | ".join(format_value(c) for c in spec.choices)
    low, high = format_value(spec.low), format_value(spec.high)
    if spec.log:
        text = QCoreApplication.translate("TuningPanel", "%1 to %2 (log)")
    elif spec.step is not None:
        text = QCoreApplication.translate("TuningPanel", "%1 to %2, step %3").replace(
            "%3", format_value(spec.step)
        )
    else:
        text = QCoreApplication.translate("TuningPanel", "%1 to %2")
    return text.replace("%1", low).replace("%2", high)


def _item(text: str, *, bold: bool = False, colour: str | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if bold:
        font = QFont(item.font())
        font.setBold(True)
        item.setFont(font)
    if colour is not None:
        item.setForeground(QBrush(QColor(colour)))
    return item


def _fill(table: QTableWidget, rows: Sequence[Sequence[QTableWidgetItem]]) -> None:
    # Sized once after filling: resize-to-contents mode re-measures on every setItem.
    table.setUpdatesEnabled(False)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, item in enumerate(row):
            table.setItem(r, c, item)
    table.resizeColumnsToContents()
    table.setUpdatesEnabled(True)


def fill_setting_table(table: QTableWidget, rows: Sequence[SettingRow]) -> None:
    """Show the searched parameters: key, range, project value, best value (bold if changed).

    Parameters
    ----------
    table : QTableWidget
        A table with the :data:`SETTING_COLUMNS`.
    rows : sequence of SettingRow
        From :func:`energyopt.appstate.tuning_parts.setting_rows`.
    """
    _fill(
        table,
        [
            [
                _item(row.spec.key),
                _item(range_text(row.spec)),
                _item(format_value(row.current)),
                _item("" if row.best is None else format_value(row.best), bold=row.changed),
            ]
            for row in rows
        ],
    )


def time_text(time_ms: int, timezone: str) -> str:
    """A time as ``YYYY-MM-DD HH:MM`` in an IANA zone.

    Parameters
    ----------
    time_ms : int
        The time. [ms since epoch]
    timezone : str
        IANA zone it is shown in (the project's).
    """
    moment = datetime.fromtimestamp(time_ms / 1000.0, tz=UTC).astimezone(ZoneInfo(timezone))
    return f"{moment:%Y-%m-%d %H:%M}"


def _window_text(row: KpiRow, timezone: str) -> str:
    if row.window is None or row.start_ms is None:
        return QCoreApplication.translate("TuningPanel", "Score (all windows)")
    return f"{row.window + 1}: {time_text(row.start_ms, timezone)}"


def _change_text(change: StoredChange, timezone: str) -> str:
    templates = {
        "project_path": QCoreApplication.translate("TuningPanel", "it was made for %1"),
        "data_path": QCoreApplication.translate("TuningPanel", "it replayed %1"),
        "settings": QCoreApplication.translate("TuningPanel", "a tuned setting changed (%1)"),
        "space": QCoreApplication.translate("TuningPanel", "the [tune] section changed (%1)"),
        "project_modified": QCoreApplication.translate(
            "TuningPanel", "the project file was saved after it (%1)"
        ),
        "data_modified": QCoreApplication.translate(
            "TuningPanel", "the historian file was modified after it (%1)"
        ),
        "tuned_missing": QCoreApplication.translate("TuningPanel", "its tuned project %1 is gone"),
    }
    detail = change.detail if change.at_ms is None else time_text(change.at_ms, timezone)
    return templates.get(change.code, change.code).replace("%1", detail)


def stored_text(stored: StoredTune | None, error: str | None, timezone: str) -> tuple[str, bool]:
    """Say where the result shown comes from and whether it still holds.

    Parameters
    ----------
    stored : StoredTune or None
        The earlier tune's result shown, ``None`` if none.
    error : str or None
        Why the stored result could not be read, ``None`` if it could.
    timezone : str
        IANA zone the times are shown in (the project's).

    Returns
    -------
    text : str
        ``""`` if there is nothing to say.
    ok : bool
        Whether the result holds for the project and historian file open now
        (``False`` also for an unreadable result).
    """
    if error is not None:
        text = QCoreApplication.translate(
            "TuningPanel", "The stored tune result cannot be read: %1"
        )
        return text.replace("%1", error), False
    if stored is None:
        return "", True
    made = time_text(stored.made_ms, timezone)
    if stored.valid:
        text = QCoreApplication.translate(
            "TuningPanel",
            "Stored result of %1: still valid, the project and the historian file are "
            "as the tune recorded them.",
        )
        return text.replace("%1", made), True
    reasons = "; ".join(_change_text(change, timezone) for change in stored.changes)
    text = QCoreApplication.translate(
        "TuningPanel", "Stored result of %1: it may no longer hold: %2."
    )
    return text.replace("%1", made).replace("%2", reasons), False


def fill_kpi_table(
    table: QTableWidget,
    rows: Sequence[KpiRow],
    language: str,
    timezone: str,
    currency: str = "",
) -> None:
    """Show the KPIs of the current and the best settings per window, then the score.

    A value of the best settings outside its constraint bounds is red.

    Parameters
    ----------
    table : QTableWidget
        A table with the :data:`KPI_COLUMNS`.
    rows : sequence of KpiRow
        From :func:`energyopt.appstate.tuning_parts.kpi_rows`.
    language : str
        UI language of the KPI names (``"en"``, ``"zh_CN"``).
    timezone : str
        IANA zone the window starts are shown in.
    currency : str
        ISO 4217 code of the project: the unit of cost KPIs (``"currency"`` if empty).
    """
    items = []
    for row in rows:
        info = kpi_info(row.key)
        broken = row.best_within_bounds is False
        items.append(
            [
                _item(
                    f"{info.name(language)} [{display_unit(info.unit, currency)}]",
                    bold=row.window is None,
                ),
                _item(_window_text(row, timezone), bold=row.window is None),
                _item(format_value(row.current)),
                _item(format_value(row.best), colour=_BROKEN_COLOUR if broken else None),
            ]
        )
    _fill(table, items)


def fill_trial_table(
    table: QTableWidget,
    trials: Sequence[TrialRecord],
    best: int | None,
    *,
    final: bool,
) -> None:
    """Show the trials: number, status (the error as tooltip), score, feasible.

    Parameters
    ----------
    table : QTableWidget
        A table with the :data:`TRIAL_COLUMNS`.
    trials : sequence of TrialRecord
        The trials known.
    best : int or None
        Number of the best trial (its row is bold), ``None`` if none.
    final : bool
        The tune has finished: rows by trial number (else by finishing order).
    """
    ordered = sorted(trials, key=lambda r: r.number or 0) if final else list(trials)
    statuses = {
        "complete": QCoreApplication.translate("TuningPanel", "complete"),
        "failed": QCoreApplication.translate("TuningPanel", "failed"),
    }
    rows = []
    for record in ordered:
        bold = best is not None and record.number == best
        status = _item(statuses.get(record.status, record.status), bold=bold)
        if record.error:
            status.setToolTip(record.error)
        rows.append(
            [
                _item(str(record.number), bold=bold),
                status,
                _item(format_value(record.score.value), bold=bold),
                _item(
                    QCoreApplication.translate("TuningPanel", "yes")
                    if record.score.feasible
                    else QCoreApplication.translate("TuningPanel", "no"),
                    bold=bold,
                ),
            ]
        )
    _fill(table, rows)
