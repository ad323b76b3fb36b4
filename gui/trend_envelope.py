"""Min/max envelope of a trend curve: ten million points panned and zoomed smoothly.

Every trend curve (:class:`EnvelopeCurve`, drawn by :class:`~gui.trends.TrendPanel`)
keeps a min/max pyramid (:class:`MinMaxPyramid`, built once, levels of
:data:`PYRAMID_FACTOR` samples), and per frame finds the visible samples by
binary search on time, takes the coarsest level that still gives at least
one block per pixel column, and reduces those blocks to one (min, max) pair
per column: a connected min/max envelope of about two points per pixel
whatever the number of samples, exact in its extremes (both ends of the
visible range are resolved exactly through the finer levels).  When fewer
than two samples per pixel are visible the raw samples are drawn.
pyqtgraph's own peak mode rescans the whole visible slice every frame,
O(visible samples); ``benchmarks/bench_gui.py`` measures both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg

if TYPE_CHECKING:
    from gui.trends import TrendSeries

__all__ = ["PYRAMID_FACTOR", "EnvelopeCurve", "MinMaxPyramid"]

#: Samples per block from one pyramid level to the next: memory is about
#: ``2 / (factor - 1)`` of the data, a frame reduces at most ``factor`` blocks per pixel.
PYRAMID_FACTOR = 8


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
