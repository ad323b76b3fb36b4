"""Trend panel: stacked pyqtgraph plots of tags and model outputs on linked time axes.

:class:`TrendPanel` shows :class:`TrendSeries` (numpy arrays with a name and
a unit) in several stacked plots sharing one time axis
(:class:`~gui.time_axis.PlantTimeAxis`, x linked, in the plant's time zone
like the replay clock), with limit lines and bands (plain ``QGraphicsLineItem`` /
``QGraphicsRectItem`` over the series' time span: pyqtgraph's
``InfiniteLine`` and ``LinearRegionItem`` recompute their extent in Python on
every repaint, which made scrolling five plots along a replay cost 80 ms a
frame instead of about 20), and a crosshair whose readout gives every curve's
value at the cursor (the sample at or before it: historian values hold until
the next sample).

Plots added one per event-loop turn to a shown panel are not painted one by
one: painting is held while they come (each new row re-laid out and repainted
every plot already there, 8-20 ms a plot), then each plot is auto-ranged and
its axes drawn in a turn of its own, and all are painted once
(:meth:`TrendPanel.release_painting` does it at once).

Ten million points pan and zoom smoothly: every curve is an
:class:`~gui.trend_envelope.EnvelopeCurve`, which draws the min/max envelope
of the visible samples from a pyramid built once (:mod:`gui.trend_envelope`;
:class:`MinMaxPyramid`, :class:`EnvelopeCurve` and :data:`PYRAMID_FACTOR` are
re-exported here).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsLineItem,
    QGraphicsRectItem,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from gui.time_axis import PlantTimeAxis, format_plant_time
from gui.trend_envelope import PYRAMID_FACTOR, EnvelopeCurve, MinMaxPyramid

__all__ = [
    "PYRAMID_FACTOR",
    "BandItem",
    "EnvelopeCurve",
    "LimitLine",
    "MinMaxPyramid",
    "TrendPanel",
    "TrendSeries",
]

#: Width of every plot's left axis (tick labels and unit title). [px]
_LEFT_AXIS_WIDTH_PX = 64

#: Lines of the crosshair readout shown at once (more scroll). [-]
_READOUT_LINES = 3
#: Legend entries per row: a plot of many curves keeps its legend short. [-]
_LEGEND_COLUMNS = 2

#: Painting resumes this long after the last :meth:`TrendPanel.add_plot` (or at
#: :meth:`TrendPanel.release_painting`): plots added one per event-loop turn
#: are laid out and painted once, not each of them again at every new one. [ms]
_BUILD_PAINT_DELAY_MS = 80

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


def _opaque_grid(base: type[pg.AxisItem]) -> type[pg.AxisItem]:
    """An axis class whose grid lines are opaque, pre-blended with the background, behind the data.

    Translucent one-pixel vertical lines take the raster engine's slow path
    (about 70 ns a pixel, measured: the default 30 % grid cost 8 ms of a 12 ms
    frame); the same colours blended with the background beforehand look the
    same on the empty plot and draw four times faster.
    """

    class OpaqueGridAxis(base):
        def generateDrawSpecs(self, p: QPainter) -> Any:  # noqa: N802 - pyqtgraph hook
            specs = super().generateDrawSpecs(p)
            if specs is None or self.grid is False:
                return specs
            axis_spec, tick_specs, text_specs = specs
            bg = pg.mkColor(pg.getConfigOption("background"))
            opaque = []
            for pen, p1, p2 in tick_specs:
                c, alpha = pen.color(), pen.color().alphaF()
                solid = QPen(pen)
                solid.setColor(
                    QColor.fromRgbF(
                        alpha * c.redF() + (1.0 - alpha) * bg.redF(),
                        alpha * c.greenF() + (1.0 - alpha) * bg.greenF(),
                        alpha * c.blueF() + (1.0 - alpha) * bg.blueF(),
                    )
                )
                opaque.append((solid, p1, p2))
            return axis_spec, opaque, text_specs

    OpaqueGridAxis.__name__ = f"OpaqueGrid{base.__name__}"
    return OpaqueGridAxis


_GridAxis = _opaque_grid(pg.AxisItem)
_GridDateAxis = _opaque_grid(PlantTimeAxis)


class LimitLine(QGraphicsLineItem):
    """A horizontal dashed line at a hard limit, across the series' time span.

    Parameters
    ----------
    value : float
        The limit. [unit]
    span_s : tuple of float
        ``(first, last)`` sample time of the series. [s since epoch]
    """

    def __init__(self, value: float, span_s: tuple[float, float]) -> None:
        super().__init__(span_s[0], value, span_s[1], value)
        pen = QPen(QColor("#c0392b"), 1.0, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)  # one pixel whatever the view's scale
        self.setPen(pen)
        self._value = value

    def value(self) -> float:
        """Return the limit. [unit]."""
        return self._value


class BandItem(QGraphicsRectItem):
    """The shaded normal operating band, across the series' time span, behind the curves.

    Parameters
    ----------
    band : tuple of float
        ``(low, high)``. [unit]
    span_s : tuple of float
        ``(first, last)`` sample time of the series. [s since epoch]
    """

    def __init__(self, band: tuple[float, float], span_s: tuple[float, float]) -> None:
        low, high = sorted((float(band[0]), float(band[1])))
        super().__init__(QRectF(span_s[0], low, span_s[1] - span_s[0], high - low))
        self.setPen(QPen(Qt.PenStyle.NoPen))
        self.setBrush(QBrush(QColor(46, 204, 113, 40)))
        self.setZValue(-10)
        self._band = (low, high)

    def getRegion(self) -> tuple[float, float]:  # noqa: N802 - LinearRegionItem's name
        """Return ``(low, high)``. [unit]."""
        return self._band


def _prepare_plot(plot: pg.PlotItem) -> None:
    """Do a plot's share of its first paint ahead of it: auto-range and axis tick pictures.

    pyqtgraph auto-ranges a view just before painting it
    (``ViewBox.prepareForPaint``) and draws each axis into a cached
    ``QPicture`` at its first paint; both are done here, on a throwaway
    1-pixel image, so that the paint of all the plots together only replays
    them.  A later range or size change redraws them as usual.

    Parameters
    ----------
    plot : pyqtgraph.PlotItem
        The plot (shown or not).
    """
    plot.vb.prepareForPaint()
    image = QImage(1, 1, QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    try:
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            if axis.isVisible():
                axis.paint(painter, None, None)
    finally:
        painter.end()


class TrendPanel(QWidget):
    """Stacked trend plots with linked time axes, limits, bands and a crosshair readout.

    Times are shown in the plant's zone (:meth:`set_timezone`), as the replay clock shows them.

    Parameters
    ----------
    parent : QWidget, optional
        Parent widget.
    timezone : str
        IANA name of the zone times are shown in (UTC if unknown).
    """

    def __init__(self, parent: QWidget | None = None, *, timezone: str = "UTC") -> None:
        super().__init__(parent)
        self._timezone = timezone
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.readout_label = QLabel()
        self.readout_label.setWordWrap(True)
        self.readout_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # The readout of many curves runs to ten lines: at most _READOUT_LINES of
        # them take the plots' height, the rest scroll.
        self.readout_area = QScrollArea()
        self.readout_area.setWidgetResizable(True)
        self.readout_area.setFrameShape(QFrame.Shape.NoFrame)
        self.readout_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.readout_area.setWidget(self.readout_label)
        self.readout_area.setMaximumHeight(
            _READOUT_LINES * self.readout_label.fontMetrics().lineSpacing() + 6
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.layout_widget, 1)
        layout.addWidget(self.readout_area)
        self.plots: list[pg.PlotItem] = []
        self.curves: dict[str, EnvelopeCurve] = {}
        self.series: dict[str, TrendSeries] = {}
        self.limit_lines: dict[str, list[LimitLine]] = {}
        self.bands: dict[str, BandItem] = {}
        self._cursors: list[pg.InfiniteLine] = []
        self._cursor_x: float | None = None
        self.layout_widget.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._hold_generation = 0

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
        # Each new row re-lays out and repaints every plot already there (8-20 ms
        # a plot): while the panel is shown, hold painting back while plots are
        # being added (one per event-loop turn) and paint once.
        if self.isVisible():
            self._hold_painting()
        row = len(self.plots)
        plot = self.layout_widget.addPlot(
            row=row,
            col=0,
            axisItems={
                "bottom": _GridDateAxis(orientation="bottom", timezone=self._timezone),
                "left": _GridAxis(orientation="left"),
            },
        )
        plot.showGrid(x=True, y=True, alpha=0.3)
        for name in ("bottom", "left"):
            plot.getAxis(name).setZValue(-1)  # opaque grid lines behind the curves
        # One left-axis width for every stacked plot: x-linked views are aligned by
        # pixel, so axes of different widths (tick labels, fonts) would give the
        # plots different time ranges.
        plot.getAxis("left").setWidth(_LEFT_AXIS_WIDTH_PX)
        # A translucent plate: the curves stay visible under a legend of many entries.
        plot.addLegend(offset=(10, 5), colCount=_LEGEND_COLUMNS, brush=pg.mkBrush(0, 0, 0, 150))
        units = sorted({s.unit for s in series})
        plot.setLabel("left", ", ".join(units))
        if self.plots:
            plot.setXLink(self.plots[0])
        for s in series:
            colour = _PALETTE[len(self.curves) % len(_PALETTE)]
            curve = EnvelopeCurve(s, pen=pg.mkPen(colour, width=1))
            plot.addItem(curve)
            self.curves[s.name] = curve
            self.series[s.name] = s
            span = (float(s.time_s[0]), float(s.time_s[-1])) if s.time_s.size else (0.0, 0.0)
            lines = []
            for value in s.limits:
                line = LimitLine(float(value), span)
                plot.addItem(line, ignoreBounds=True)
                lines.append(line)
            self.limit_lines[s.name] = lines
            if s.band is not None:
                region = BandItem(s.band, span)
                plot.addItem(region, ignoreBounds=True)
                self.bands[s.name] = region
        cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888888"))
        cursor.setVisible(False)
        plot.addItem(cursor, ignoreBounds=True)
        self._cursors.append(cursor)
        self.plots.append(plot)
        return plot

    def _hold_painting(self) -> None:
        """Hold painting back until no plot was added for :data:`_BUILD_PAINT_DELAY_MS`.

        Then the plots are prepared one per event-loop turn (:meth:`_prepare_plot`)
        and painted together in a last turn: the first paint of five plots in
        one turn (auto-range, axis tick pictures) took 20-30 ms of the GUI
        thread, on top of whatever a worker thread holding the GIL did then.
        """
        self.layout_widget.setUpdatesEnabled(False)
        self._hold_generation += 1
        generation = self._hold_generation
        panel_ref = weakref.ref(self)
        queue: list[pg.PlotItem] = []

        def step() -> None:
            panel = panel_ref()
            if panel is None or not shiboken6.isValid(panel):
                return
            if panel._hold_generation != generation:
                return  # a plot was added, or painting was released, since
            if queue:
                plot = queue.pop(0)
                if shiboken6.isValid(plot):
                    _prepare_plot(plot)
                QTimer.singleShot(0, step)
            else:
                panel.release_painting()

        def start() -> None:
            panel = panel_ref()
            if panel is None or not shiboken6.isValid(panel):
                return
            if panel._hold_generation == generation:
                queue.extend(panel.plots)
                step()

        # Single shots, not a member QTimer: a panel dropped while one is pending
        # is not kept alive or called.
        QTimer.singleShot(_BUILD_PAINT_DELAY_MS, start)

    @property
    def painting_held(self) -> bool:
        """Whether painting is held back while plots are being added."""
        return not self.layout_widget.updatesEnabled()

    def release_painting(self) -> None:
        """Paint the plots now (else done :data:`_BUILD_PAINT_DELAY_MS` after the last add).

        The repaint also runs the views' auto-range (pyqtgraph updates it
        before painting), so ranges are never left at their initial ``[0, 1]``.
        """
        self._hold_generation += 1  # a pending delayed release does nothing
        if not self.layout_widget.updatesEnabled():
            self.layout_widget.setUpdatesEnabled(True)
            self.layout_widget.viewport().update()

    @property
    def timezone(self) -> str:
        """IANA name of the zone the time axes and the readout show."""
        return self._timezone

    def set_timezone(self, timezone: str) -> None:
        """Show the time axes and the readout in another zone.

        Parameters
        ----------
        timezone : str
            IANA name (``"Asia/Shanghai"``; UTC if unknown).
        """
        if timezone == self._timezone:
            return
        self._timezone = timezone
        for plot in self.plots:
            axis = plot.getAxis("bottom")
            if isinstance(axis, PlantTimeAxis):
                axis.set_timezone(timezone)
        if self._cursor_x is not None:
            self.set_cursor(self._cursor_x)

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
        when = format_plant_time(self._cursor_x, self._timezone)
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
