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

Ten million points pan and zoom smoothly: every curve keeps a min/max
pyramid (:class:`MinMaxPyramid`, built once, levels of :data:`PYRAMID_FACTOR`
samples), and per frame finds the visible samples by binary search on time,
takes the coarsest level that still gives at least one block per pixel
column, and reduces those blocks to one (min, max) pair per column: a
connected min/max envelope of about two points per pixel whatever the
number of samples, exact in its extremes (both ends of the visible range are
resolved exactly through the finer levels).  When fewer than two samples per
pixel are visible the raw samples are drawn.  pyqtgraph's own peak mode
rescans the whole visible slice every frame, O(visible samples);
``benchmarks/bench_gui.py`` measures both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
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

__all__ = [
    "PYRAMID_FACTOR",
    "BandItem",
    "EnvelopeCurve",
    "LimitLine",
    "MinMaxPyramid",
    "TrendPanel",
    "TrendSeries",
]

#: Samples per block from one pyramid level to the next: memory is about
#: ``2 / (factor - 1)`` of the data, a frame reduces at most ``factor`` blocks per pixel.
PYRAMID_FACTOR = 8

#: Width of every plot's left axis (tick labels and unit title). [px]
_LEFT_AXIS_WIDTH_PX = 64

#: Lines of the crosshair readout shown at once (more scroll). [-]
_READOUT_LINES = 3
#: Legend entries per row: a plot of many curves keeps its legend short. [-]
_LEGEND_COLUMNS = 2

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


class MinMaxPyramid:
    """Block minima and maxima of a series at every power of a factor: exact range extremes fast.

    Level 0 is the samples themselves; level ``j`` holds the minimum and the
    maximum of every block of ``factor**j`` consecutive samples (the last
    block may be shorter).  Built once in O(N); a range query or a frame's
    envelope then touches at most about ``2 * factor`` blocks per level.
    NaN samples (gaps) are ignored (``numpy.fmin``/``fmax``); a block of NaN
    only is NaN.

    Parameters
    ----------
    values : numpy.ndarray
        Samples, shape ``(N,)``. [unit]
    factor : int
        Samples per block from one level to the next, at least 2.

    Raises
    ------
    ValueError
        If ``values`` is not 1-D or ``factor`` is below 2.
    """

    def __init__(self, values: npt.ArrayLike, factor: int = PYRAMID_FACTOR) -> None:
        if factor < 2:
            raise ValueError(f"min/max pyramid: factor must be at least 2, got {factor}")
        data = np.asarray(values, dtype=np.float64)
        if data.ndim != 1:
            raise ValueError(f"min/max pyramid: values must be 1-D, got shape {data.shape}")
        self.factor = int(factor)
        self.size = int(data.size)
        self.minima: list[npt.NDArray[np.float64]] = [data]
        self.maxima: list[npt.NDArray[np.float64]] = [data]
        while self.minima[-1].size > self.factor:
            self.minima.append(_reduce_blocks(self.minima[-1], np.fmin, self.factor))
            self.maxima.append(_reduce_blocks(self.maxima[-1], np.fmax, self.factor))

    @property
    def levels(self) -> int:
        """Number of levels, the samples included."""
        return len(self.minima)

    def range_minmax(self, start: int, stop: int) -> tuple[float, float]:
        """Return the exact minimum and maximum of ``values[start:stop]`` (NaN ignored).

        Like a segment tree: the range is covered by whole blocks, fine ones
        at its ends and coarse ones in between.

        Parameters
        ----------
        start, stop : int
            Sample range, ``0 <= start < stop <= N``.

        Returns
        -------
        tuple of float
            ``(min, max)``, NaN if every sample in the range is NaN. [unit]

        Raises
        ------
        ValueError
            If the range is empty or outside the series.
        """
        if not 0 <= start < stop <= self.size:
            raise ValueError(
                f"min/max pyramid: range {start}:{stop} is empty or outside 0:{self.size}"
            )
        lows: list[npt.NDArray[np.float64]] = []
        highs: list[npt.NDArray[np.float64]] = []
        level, block = 0, 1
        # Invariant: start is a multiple of block; stop is one too, or the end of the series.
        while True:
            upper = block * self.factor
            left_end = min(-(-start // upper) * upper, stop)
            right_start = max((stop // upper) * upper, left_end)
            if level == self.levels - 1 or left_end >= right_start:
                lows.append(self.minima[level][start // block : -(-stop // block)])
                highs.append(self.maxima[level][start // block : -(-stop // block)])
                break
            for lo_edge, hi_edge in ((start, left_end), (right_start, stop)):
                lows.append(self.minima[level][lo_edge // block : -(-hi_edge // block)])
                highs.append(self.maxima[level][lo_edge // block : -(-hi_edge // block)])
            start, stop = left_end, right_start
            level, block = level + 1, upper
        return (
            float(np.fmin.reduce(np.concatenate(lows))),
            float(np.fmax.reduce(np.concatenate(highs))),
        )

    def envelope(
        self, start: int, stop: int, columns: int
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Split ``values[start:stop]`` into about ``columns`` buckets with their exact extremes.

        The coarsest level with at least ``columns`` whole blocks in the range
        is reduced, ``g`` blocks a bucket (``g`` the nearest integer to
        blocks / columns); the partial blocks at both ends become one bucket
        each, resolved exactly by :meth:`range_minmax`.  Between
        ``2/3 * columns`` and ``1.5 * columns + 3`` buckets result.

        Parameters
        ----------
        start, stop : int
            Sample range, ``0 <= start < stop <= N``.
        columns : int
            Wanted number of buckets (pixel columns), at least 1.

        Returns
        -------
        first : numpy.ndarray
            Index of each bucket's first sample, increasing.
        low, high : numpy.ndarray
            Each bucket's minimum and maximum (NaN ignored). [unit]

        Raises
        ------
        ValueError
            If the range is empty or outside the series, or ``columns < 1``.
        """
        if not 0 <= start < stop <= self.size:
            raise ValueError(
                f"min/max pyramid: range {start}:{stop} is empty or outside 0:{self.size}"
            )
        if columns < 1:
            raise ValueError(f"min/max pyramid: columns must be at least 1, got {columns}")
        level = 0
        while level + 1 < self.levels and (stop - start) // self.factor ** (level + 1) >= columns:
            level += 1
        block = self.factor**level
        aligned_start = -(-start // block) * block
        aligned_stop = max((stop // block) * block, aligned_start)
        n_blocks = (aligned_stop - aligned_start) // block
        group = max(1, (2 * n_blocks + columns) // (2 * columns))  # round(n_blocks / columns)
        n_full, rest = divmod(n_blocks, group)
        first_block = aligned_start // block
        parts_first = []
        parts_low = []
        parts_high = []
        if start < aligned_start:
            lo, hi = self.range_minmax(start, aligned_start)
            parts_first.append(np.array([start]))
            parts_low.append(np.array([lo]))
            parts_high.append(np.array([hi]))
        if n_full:
            blocks = slice(first_block, first_block + n_full * group)
            parts_first.append(aligned_start + block * group * np.arange(n_full))
            parts_low.append(np.fmin.reduce(self.minima[level][blocks].reshape(n_full, group), 1))
            parts_high.append(np.fmax.reduce(self.maxima[level][blocks].reshape(n_full, group), 1))
        if rest:
            blocks = slice(first_block + n_full * group, first_block + n_blocks)
            parts_first.append(np.array([aligned_start + block * group * n_full]))
            parts_low.append(np.array([np.fmin.reduce(self.minima[level][blocks])]))
            parts_high.append(np.array([np.fmax.reduce(self.maxima[level][blocks])]))
        if aligned_stop < stop:
            lo, hi = self.range_minmax(aligned_stop, stop)
            parts_first.append(np.array([aligned_stop]))
            parts_low.append(np.array([lo]))
            parts_high.append(np.array([hi]))
        return (
            np.concatenate(parts_first).astype(np.intp),
            np.concatenate(parts_low),
            np.concatenate(parts_high),
        )


def _reduce_blocks(
    values: npt.NDArray[np.float64], ufunc: np.ufunc, factor: int
) -> npt.NDArray[np.float64]:
    """Reduce each block of ``factor`` consecutive values with ``ufunc`` (the last may be short)."""
    n_full = values.size // factor * factor
    out = ufunc.reduce(values[:n_full].reshape(-1, factor), axis=1)
    if n_full < values.size:
        out = np.append(out, ufunc.reduce(values[n_full:]))
    return np.asarray(out, dtype=np.float64)


class EnvelopeCurve(pg.PlotCurveItem):
    """A curve that draws, at every view change, the min/max envelope of the visible samples.

    About two points per pixel column whatever the zoom (see
    :meth:`MinMaxPyramid.envelope`), the raw samples when fewer than two per
    pixel are visible, and one sample beyond each edge of the view so the
    line runs off the plot.  Bounds for auto-range are those of the whole
    series (exact, from the pyramid), not of what is drawn.

    Parameters
    ----------
    series : TrendSeries
        The samples.
    pen : QPen or str
        Pen of the line.
    """

    def __init__(self, series: TrendSeries, pen: object) -> None:
        finite = bool(np.isfinite(series.values).all())
        super().__init__(
            pen=pen,
            name=series.name,
            connect="all" if finite else "finite",
            skipFiniteCheck=finite,
        )
        self.series = series
        self.pyramid = MinMaxPyramid(series.values)
        self._full_bounds = (
            self.pyramid.range_minmax(0, series.values.size) if series.values.size else None
        )
        self._drawn_key: tuple[int, int, int] | None = None

    def drawn_range(self) -> tuple[int, int]:
        """Return the sample range ``start:stop`` inside the view at the last update."""
        if self._drawn_key is None:
            return (0, 0)
        return self._drawn_key[0], self._drawn_key[1]

    def viewRangeChanged(self, *_args: object) -> None:  # noqa: N802 - pyqtgraph hook
        """Recompute the drawn points for the view's new time range."""
        self._update_drawn()

    def viewTransformChanged(self) -> None:  # noqa: N802 - pyqtgraph hook
        """Recompute the drawn points if the plot's pixel width changed."""
        super().viewTransformChanged()
        self._update_drawn()

    def _update_drawn(self) -> None:
        view = self.getViewBox()
        time_s, values = self.series.time_s, self.series.values
        if not isinstance(view, pg.ViewBox) or time_s.size == 0:
            return  # not (yet) in a plot
        (x_min, x_max), _ = view.viewRange()
        # Before the first layout a view box has no width: assume a typical plot.
        columns = max(int(view.width()), 16) if view.width() > 0 else 640
        if view.autoRangeEnabled()[0]:
            start, stop = 0, time_s.size  # the view is about to show everything
        else:
            start = int(np.searchsorted(time_s, x_min, side="left"))
            stop = int(np.searchsorted(time_s, x_max, side="right"))
        key = (start, stop, columns)
        if key == self._drawn_key:
            return
        self._drawn_key = key
        before, after = max(start - 1, 0), min(stop + 1, time_s.size)
        if stop - start <= 2 * columns:
            self.setData(time_s[before:after], values[before:after])
            return
        first, low, high = self.pyramid.envelope(start, stop, columns)
        x = np.concatenate((time_s[before:start], np.repeat(time_s[first], 2), time_s[stop:after]))
        y = np.concatenate(
            (values[before:start], np.column_stack((low, high)).ravel(), values[stop:after])
        )
        self.setData(x, y)

    def dataBounds(  # noqa: N802 - pyqtgraph hook
        self,
        ax: int,
        frac: float = 1.0,
        orthoRange: tuple[float, float] | None = None,
    ) -> tuple[float | None, float | None]:
        """Return the whole series' extent along an axis (within ``orthoRange`` of the other)."""
        time_s = self.series.time_s
        if self._full_bounds is None:
            return (None, None)
        if ax == 0:
            return (float(time_s[0]), float(time_s[-1]))
        bounds = self._full_bounds
        if orthoRange is not None:
            start = int(np.searchsorted(time_s, orthoRange[0], side="left"))
            stop = int(np.searchsorted(time_s, orthoRange[1], side="right"))
            if start >= stop:
                return (None, None)
            bounds = self.pyramid.range_minmax(start, stop)
        if not np.isfinite(bounds).all():
            return (None, None)
        return bounds


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
