"""Tag browser: every historian tag with unit, kind, sampling and quality flags.

Model/view: :class:`TagTableModel` (a ``QAbstractTableModel`` over
:class:`~energyopt.appstate.TagRow`) behind :class:`TagFilterProxy` (search in
tag, description and unit, case-insensitive, in any order of the words) in a
``QTableView`` that only paints the visible rows, so ten thousand tags cost
nothing.  :class:`TagBrowser` observes a :class:`~energyopt.appstate.SessionState`:
the rows appear when a historian file opens and the quality column fills in
when the scan (run in a worker by the main window) finishes.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import QHeaderView, QLineEdit, QTableView, QVBoxLayout, QWidget

from energyopt.appstate import HistorianSummary, SessionState, TagRow

__all__ = ["COLUMNS", "TagBrowser", "TagFilterProxy", "TagTableModel"]

COLUMNS: tuple[str, ...] = ("tag", "unit", "kind", "description", "sampling", "quality")
"""Column keys, in display order."""
SEARCH_COLUMNS: tuple[int, ...] = (
    COLUMNS.index("tag"),
    COLUMNS.index("unit"),
    COLUMNS.index("description"),
)
"""Columns the search looks in."""

_Index = QModelIndex | QPersistentModelIndex


class TagTableModel(QAbstractTableModel):
    """Table of :class:`~energyopt.appstate.TagRow` objects.

    Parameters
    ----------
    parent : QObject, optional
        Qt parent.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[TagRow] = []
        self._scanned = False
        self._headers = self._header_texts()

    def _header_texts(self) -> list[str]:
        return [
            self.tr("Tag"),
            self.tr("Unit"),
            self.tr("Kind"),
            self.tr("Description"),
            self.tr("Sampling"),
            self.tr("Quality"),
        ]

    def retranslate(self) -> None:
        """Re-read the translated header texts."""
        self._headers = self._header_texts()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(COLUMNS) - 1)
        if self._rows:
            column = COLUMNS.index("quality")
            self.dataChanged.emit(self.index(0, column), self.index(len(self._rows) - 1, column))

    def set_summary(self, summary: HistorianSummary | None) -> None:
        """Show the tags of a historian file (``None`` empties the table)."""
        self.beginResetModel()
        self._rows = [] if summary is None else summary.rows()
        self._scanned = summary is not None and summary.scanned
        self.endResetModel()

    def update_quality(self, summary: HistorianSummary) -> None:
        """Fill in the quality column, keeping the selection and sort order."""
        rows = summary.rows()
        if [r.tag for r in rows] != [r.tag for r in self._rows]:
            self.set_summary(summary)
            return
        self._rows = rows
        self._scanned = summary.scanned
        if rows:
            column = COLUMNS.index("quality")
            self.dataChanged.emit(self.index(0, column), self.index(len(rows) - 1, column))

    def row_at(self, row: int) -> TagRow:
        """The tag of a source row."""
        return self._rows[row]

    # ----------------------------------------------------- Qt interface
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        """Number of tags (0 under any parent: a flat table)."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        """Number of columns."""
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Translated column titles."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text, tooltips (quality details) and the sort key of the sampling column."""
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        key = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            if key == "quality":
                if not self._scanned:
                    return self.tr("scanning...")
                return row.flags_text or self.tr("ok")
            if key == "sampling":
                return row.sampling_text
            return getattr(row, key)
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "quality" and row.details:
                return "\n".join(row.details)
            if key in ("tag", "description"):
                return row.description or None
        if role == Qt.ItemDataRole.UserRole:
            # Sort key: numbers sort as numbers.
            if key == "sampling":
                return row.sampling_ms if row.sampling_ms is not None else -1.0
            if key == "quality":
                return len(row.details)
            return str(getattr(row, key)).lower()
        return None


class TagFilterProxy(QSortFilterProxyModel):
    """Filters tags by search words and sorts by column.

    A row matches when every whitespace-separated word of the search text
    occurs, case-insensitively, in its tag, unit or description (each word in
    any of them).
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._words: list[str] = []
        self.setSortRole(Qt.ItemDataRole.UserRole)

    def set_search(self, text: str) -> None:
        """Set the search text (empty shows everything)."""
        self.beginFilterChange()
        self._words = text.casefold().split()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:  # noqa: N802
        """Whether a source row matches every search word."""
        if not self._words:
            return True
        model = self.sourceModel()
        if not isinstance(model, TagTableModel):
            return True
        row = model.row_at(source_row)
        haystack = f"{row.tag}\n{row.unit}\n{row.description}".casefold()
        return all(word in haystack for word in self._words)


class TagBrowser(QWidget):
    """Search box over a sortable tag table, following a session.

    Parameters
    ----------
    session : SessionState
        The model observed (``historian_changed``, ``quality_changed``).
    parent : QWidget, optional
        Qt parent.
    """

    def __init__(self, session: SessionState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = TagTableModel(self)
        self.proxy = TagFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.search = QLineEdit()
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.set_search)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # file order until a click
        self.view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.view)
        session.historian_changed.connect(self.model.set_summary)
        session.quality_changed.connect(self.model.update_quality)
        self.model.set_summary(session.historian)
        self._retranslate()

    def visible_tags(self) -> list[str]:
        """Tags shown after filtering, in view order."""
        column = COLUMNS.index("tag")
        return [str(self.proxy.index(row, column).data()) for row in range(self.proxy.rowCount())]

    def _retranslate(self) -> None:
        self.search.setPlaceholderText(self.tr("Search tag, description or unit"))
        self.model.retranslate()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        """Retranslate on a language change."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)
