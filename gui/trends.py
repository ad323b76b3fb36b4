"""Trend panel: stacked pyqtgraph plots of tags and model outputs on linked time axes.

:class:`TrendPanel` shows :class:`TrendSeries` (numpy arrays with a name and
a unit) in several stacked plots sharing one time axis (``DateAxisItem``,
x linked), with limit lines (``InfiniteLine``) and bands
(``LinearRegionItem``), and a crosshair whose readout gives every curve's
value at the cursor (the sample at or before it: historian values hold until
the next sample).

Ten million points pan and zoom smoothly with pyqtgraph's own peak
(min/max) downsampling and clip-to-view: per frame it touches only the
visible slice, found by binary search, and draws about two points per pixel
column (``benchmarks/bench_gui.py`` measures the frame rate).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

__all__ = ["TrendPanel", "TrendSeries"]

_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")


@dataclass(frozen=True)
class TrendSeries:
    """One curve: samples, name, unit, limits and band.

    Attributes
    ----------
    name : str
        Tag or model-output name.
    unit : str
        Unit of ``values`` (shown in the axis label and readout).
    time_s : numpy.ndarray
        Sample times, increasing, shape ``(N,)``. [s since epoch, UTC]
    values : numpy.ndarray
        Samples, shape ``(N,)``; NaN is a gap. [unit]
    limits : tuple of float
        Values drawn as horizontal lines (hard limits). [unit]
    band : tuple of float or None
        ``(low, high)`` normal operating band, drawn shaded. [unit]
    """

    name: str
    unit: str
    time_s: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]
    limits: tuple[float, ...] = field(default=())
    band: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        time_s = np.asarray(self.time_s, dtype=np.float64)
        values = np.asarray(self.values, dtype=np.float64)
        if time_s.ndim != 1 or time_s.shape != values.shape:
            raise ValueError(
                f"trend {self.name}: time_s and values must be 1-D of one length, "
                f"got {time_s.shape} and {values.shape}"
            )
        object.__setattr__(self, "time_s", time_s)
        object.__setattr__(self, "values", values)


class TrendPanel(QWidget):
    """Stacked trend plots with linked time axes, limits, bands and a crosshair readout.

    Parameters
    ----------
    parent : QWidget, optional
        Parent widget.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.readout_label = QLabel()
        self.readout_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.layout_widget, 1)
        layout.addWidget(self.readout_label)
        self.plots: list[pg.PlotItem] = []
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.series: dict[str, TrendSeries] = {}
        self.limit_lines: dict[str, list[pg.InfiniteLine]] = {}
        self.bands: dict[str, pg.LinearRegionItem] = {}
        self._cursors: list[pg.InfiniteLine] = []
        self._cursor_x: float | None = None
        self.layout_widget.scene().sigMouseMoved.connect(self._on_mouse_moved)

    # ------------------------------------------------------------ building

    def add_plot(self, series: list[TrendSeries]) -> pg.PlotItem:
        """Add a plot below the others with these curves; its time axis follows the first plot.

        Parameters
        ----------
        series : list of TrendSeries
            Curves of this plot (one unit per plot reads best).

        Returns
        -------
        pyqtgraph.PlotItem

        Raises
        ------
        ValueError
            If a curve name is already shown.
        """
        for s in series:
            if s.name in self.series:
                raise ValueError(f"trend {s.name} is already shown")
        row = len(self.plots)
        plot = self.layout_widget.addPlot(
            row=row, col=0, axisItems={"bottom": pg.DateAxisItem(utcOffset=0)}
        )
        plot.showGrid(x=True, y=True, alpha=0.3)
        plot.addLegend(offset=(10, 5))
        units = sorted({s.unit for s in series})
        plot.setLabel("left", ", ".join(units))
        if self.plots:
            plot.setXLink(self.plots[0])
        for s in series:
            colour = _PALETTE[len(self.curves) % len(_PALETTE)]
            curve = plot.plot(s.time_s, s.values, pen=pg.mkPen(colour, width=1), name=s.name)
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            curve.setSkipFiniteCheck(True)
            self.curves[s.name] = curve
            self.series[s.name] = s
            lines = []
            for value in s.limits:
                line = pg.InfiniteLine(
                    pos=value,
                    angle=0,
                    pen=pg.mkPen("#c0392b", style=pg.QtCore.Qt.PenStyle.DashLine),
                )
                plot.addItem(line, ignoreBounds=True)
                lines.append(line)
            self.limit_lines[s.name] = lines
            if s.band is not None:
                region = pg.LinearRegionItem(
                    values=s.band, orientation="horizontal", movable=False, brush=(46, 204, 113, 40)
                )
                region.setZValue(-10)
                plot.addItem(region, ignoreBounds=True)
                self.bands[s.name] = region
        cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888888"))
        cursor.setVisible(False)
        plot.addItem(cursor, ignoreBounds=True)
        self._cursors.append(cursor)
        self.plots.append(plot)
        return plot

    def clear(self) -> None:
        """Remove every plot and curve."""
        self.layout_widget.clear()
        self.plots.clear()
        self.curves.clear()
        self.series.clear()
        self.limit_lines.clear()
        self.bands.clear()
        self._cursors.clear()
        self._cursor_x = None
        self.readout_label.clear()

    # ------------------------------------------------------------ crosshair

    def set_cursor(self, time_s: float) -> dict[str, float]:
        """Place the crosshair at a time and return every curve's value there.

        Parameters
        ----------
        time_s : float
            Cursor time. [s since epoch]

        Returns
        -------
        dict of str to float
            Curve name -> value of the sample at or before ``time_s`` (NaN
            before the first sample). [curve unit]
        """
        self._cursor_x = float(time_s)
        for cursor in self._cursors:
            cursor.setPos(self._cursor_x)
            cursor.setVisible(True)
        values = self.readout()
        parts = [f"{name} = {value:.6g} {self.series[name].unit}" for name, value in values.items()]
        when = np.datetime64(round(self._cursor_x * 1000.0), "ms")
        self.readout_label.setText(self.tr("At {0}: ").format(when) + "; ".join(parts))
        return values

    def readout(self) -> dict[str, float]:
        """Return every curve's value at the crosshair (empty if it was never placed). [unit]."""
        if self._cursor_x is None:
            return {}
        out = {}
        for name, s in self.series.items():
            k = int(np.searchsorted(s.time_s, self._cursor_x, side="right")) - 1
            out[name] = float(s.values[k]) if k >= 0 else float("nan")
        return out

    def _on_mouse_moved(self, position: QPointF) -> None:
        for plot in self.plots:
            if plot.sceneBoundingRect().contains(position):
                x = plot.vb.mapSceneToView(position).x()
                self.set_cursor(float(x))
                return

    # ------------------------------------------------------------ inspection

    def drawn_points(self, name: str) -> int:
        """Return how many points of a curve the last update handed to the painter."""
        x, _ = self.curves[name].getData()
        return 0 if x is None else int(np.asarray(x).size)
