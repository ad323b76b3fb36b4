"""The decision log as a Qt table: time, tag, recommended setpoint, decision, note.

:class:`DecisionLogTableModel` shows a Qt-free
:class:`~energyopt.appstate.decisions.DecisionLog` newest first; a new
decision is inserted as one row (no reset), so a long log stays cheap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtWidgets import QWidget

from energyopt.appstate.decisions import Decision, DecisionEntry, DecisionLog
from gui.replay_clock import connect_while_alive

__all__ = ["LOG_COLUMNS", "DecisionLogTableModel", "format_value", "utc_text"]

LOG_COLUMNS: tuple[str, ...] = ("time", "tag", "recommended", "decision", "note")
"""Columns of the decision log."""

_Index = QModelIndex | QPersistentModelIndex


def _decision_text(decision: Decision) -> str:
    texts = {
        Decision.ACCEPTED: QCoreApplication.translate("DecisionLogTableModel", "Accepted"),
        Decision.REJECTED: QCoreApplication.translate("DecisionLogTableModel", "Rejected"),
        Decision.HELD: QCoreApplication.translate("DecisionLogTableModel", "Held"),
    }
    return texts[decision]


def format_value(value: float | None, *, signed: bool = False) -> str:
    """Format a value with about five significant digits; empty when unknown.

    Parameters
    ----------
    value : float or None
        The value. [any unit]
    signed : bool
        Always show the sign (for moves).
    """
    if value is None:
        return ""
    return f"{value:+.5g}" if signed else f"{value:.5g}"


def utc_text(time_ms: int) -> str:
    """Format a time as ISO 8601 in UTC (seconds).

    Parameters
    ----------
    time_ms : int
        The time. [ms since epoch]
    """
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=time_ms)
    return moment.isoformat(timespec="seconds")


class DecisionLogTableModel(QAbstractTableModel):
    """Qt item model of a :class:`DecisionLog`, newest decision first.

    Parameters
    ----------
    decisions : DecisionLog
        The log shown (:meth:`set_log` changes it).
    format_time : callable
        Formats a plant time [ms since epoch] for display.
    """

    def __init__(
        self,
        decisions: DecisionLog,
        format_time: Callable[[int], str] = utc_text,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._format_time = format_time
        self._entries: list[DecisionEntry] = []
        self._log: DecisionLog | None = None
        self._callbacks: tuple[Callable[..., None], Callable[..., None]] | None = None
        self.set_log(decisions)

    def set_log(self, decisions: DecisionLog) -> None:
        """Show another log.

        Parameters
        ----------
        decisions : DecisionLog
            The project's decision log.
        """
        if self._log is not None and self._callbacks is not None:
            self._log.entry_added.disconnect(self._callbacks[0])
            self._log.reset.disconnect(self._callbacks[1])
        self._log = decisions
        self._callbacks = (
            connect_while_alive(self, decisions.entry_added, DecisionLogTableModel._on_added),
            connect_while_alive(self, decisions.reset, DecisionLogTableModel._on_reset),
        )
        self._on_reset()

    def _on_added(self, entry: DecisionEntry) -> None:
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._entries.insert(0, entry)
        self.endInsertRows()

    def _on_reset(self) -> None:
        self.beginResetModel()
        self._entries = [] if self._log is None else list(reversed(self._log.entries))
        self.endResetModel()

    def entry(self, row: int) -> DecisionEntry:
        """Return the decision shown in a row.

        Parameters
        ----------
        row : int
            Table row (0: the newest decision).
        """
        return self._entries[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt override
        """Number of decisions (0 under a valid parent: a flat table)."""
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt override
        """Number of columns."""
        return 0 if parent.isValid() else len(LOG_COLUMNS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text (display) or tooltip (the user and the wall time)."""
        if not index.isValid():
            return None
        entry = self._entries[index.row()]
        column = LOG_COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            if column == "time":
                return self._format_time(entry.time_ms)
            if column == "tag":
                return entry.tag
            if column == "recommended":
                value = format_value(entry.recommended)
                return f"{value} {entry.unit}".strip()
            if column == "decision":
                return _decision_text(entry.decision)
            return entry.note
        if role == Qt.ItemDataRole.ToolTipRole:
            return (
                self.tr("Decided by %1 at %2")
                .replace("%1", entry.user or "?")
                .replace("%2", utc_text(entry.wall_time_ms))
            )
        return None

    def headerData(  # noqa: N802 - Qt override
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles (translated)."""
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        titles = {
            "time": self.tr("Time"),
            "tag": self.tr("Tag"),
            "recommended": self.tr("Recommended"),
            "decision": self.tr("Decision"),
            "note": self.tr("Note"),
        }
        return titles[LOG_COLUMNS[section]]

    def retranslate(self) -> None:
        """Refresh the header and the decision texts after a language change."""
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(LOG_COLUMNS) - 1)
        if self._entries:
            last = self.index(len(self._entries) - 1, len(LOG_COLUMNS) - 1)
            self.dataChanged.emit(self.index(0, 0), last)
