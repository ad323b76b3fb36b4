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

from gui.time_axis import PlantTimeAxis

__all__ = ["TimePlot", "curve", "fill_table", "read_only_table", "stack"]


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


class TimePlot(pg.PlotWidget):
    """A plot over time, labelled in the plant's zone, with a grid and an empty state.

    The x values are true instants (seconds since the epoch); the bottom axis
    (:class:`~gui.time_axis.PlantTimeAxis`) shows them as the plant's
    wall-clock time, daylight-saving changes included, as the trends and the
    replay clock do.  Without data (:meth:`show_empty`) the axes, grid and
    legend are hidden and a note is shown instead: an empty pyqtgraph plot
    would label its default range 0..1 with meaningless ticks.

    Parameters
    ----------
    timezone : str
        IANA name of the zone times are shown in (UTC if unknown).
    zero_line : bool
        Draw a horizontal line at zero while there is data (residual plots).
    """

    def __init__(self, timezone: str = "UTC", *, zero_line: bool = False) -> None:
        super().__init__(axisItems={"bottom": PlantTimeAxis("bottom", timezone=timezone)})
        self.showGrid(x=True, y=True, alpha=0.3)
        # The unit is in the axis title: a "(x0.001)" scale beside it would contradict it.
        self.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
        self.zero_line: pg.InfiniteLine | None = None
        if zero_line:
            self.zero_line = pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen("#888888"))
            self.addItem(self.zero_line)
        self.empty_note = pg.TextItem(anchor=(0.5, 0.5), color="#888888")
        self.addItem(self.empty_note, ignoreBounds=True)
        self.empty_note.hide()
        self._empty = False

    @property
    def time_axis(self) -> PlantTimeAxis:
        """The bottom axis."""
        axis = self.getPlotItem().getAxis("bottom")
        if not isinstance(axis, PlantTimeAxis):  # pragma: no cover - set in __init__
            raise TypeError("the bottom axis of a time plot is not a PlantTimeAxis")
        return axis

    @property
    def is_empty(self) -> bool:
        """Whether the empty note is shown instead of the data."""
        return self._empty

    def set_timezone(self, timezone: str) -> None:
        """Label the time axis in another zone.

        Parameters
        ----------
        timezone : str
            IANA name (UTC if unknown).
        """
        self.time_axis.set_timezone(timezone)

    def show_empty(self, text: str) -> None:
        """Hide the axes, grid and legend and show a note in the middle of the plot.

        Parameters
        ----------
        text : str
            The note (translated by the caller), for example "No fit yet".
        """
        item = self.getPlotItem()
        for name in ("bottom", "left"):
            item.hideAxis(name)  # the grid is drawn by the axes: hidden with them
        if item.legend is not None:
            item.legend.hide()
        if self.zero_line is not None:
            self.zero_line.hide()
        self.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        self.setRange(xRange=(0.0, 1.0), yRange=(0.0, 1.0), padding=0.0)
        self.empty_note.setText(text)
        self.empty_note.setPos(0.5, 0.5)
        self.empty_note.show()
        self._empty = True

    def show_data(self) -> None:
        """Show the axes, grid and legend again and fit the view to the data."""
        item = self.getPlotItem()
        self.empty_note.hide()
        self._empty = False
        for name in ("bottom", "left"):
            item.showAxis(name)
        if item.legend is not None:
            item.legend.show()
        if self.zero_line is not None:
            self.zero_line.show()
        self.setMouseEnabled(x=True, y=True)
        item.showButtons()
        self.enableAutoRange()


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
