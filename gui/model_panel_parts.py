"""Table and plot building blocks of the model panel (:mod:`gui.model_panel`)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

__all__ = ["curve", "fill_table", "read_only_table", "stack", "time_plot"]


def read_only_table(columns: int) -> QTableWidget:
    """A table of whole rows, selected one at a time, not editable."""
    table = QTableWidget(0, columns)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return table


def stack(*items: tuple[QWidget, int]) -> QWidget:
    """A widget holding ``(widget, stretch)`` items one above the other."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget, stretch in items:
        layout.addWidget(widget, stretch)
    return box


def time_plot() -> pg.PlotWidget:
    """A plot over wall-clock time, with a grid."""
    # The axis shows seconds since the epoch as UTC; x values are shifted to wall-clock time.
    plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(utcOffset=0)})
    plot.showGrid(x=True, y=True, alpha=0.3)
    return plot


def curve(plot: pg.PlotWidget, colour: str) -> pg.PlotDataItem:
    """A thin curve of one colour, broken at NaN."""
    return plot.plot(pen=pg.mkPen(colour, width=1), connect="finite")


def fill_table(table: QTableWidget, rows: list[list[str]]) -> None:
    """Replace a table's rows by these texts and size its columns to them."""
    # Sized once after filling: resize-to-contents mode re-measures on every setItem.
    table.setUpdatesEnabled(False)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    table.resizeColumnsToContents()
    table.setUpdatesEnabled(True)
