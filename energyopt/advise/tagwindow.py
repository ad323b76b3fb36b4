"""The bound tags of the window before a time, cleaned, read once per preloaded span.

:class:`TagWindows` gives the advisor, at a time ``t``, the bound tags over
``[t - window, t]`` resampled to the file's sampling step and cleaned by
each binding's data-quality policy (:func:`energyopt.tagdata.read_clean_tags`).

Without a preload every call reads the HDF5 file (h5py holds the GIL for
tens of milliseconds, which stalls a GUI's event loop when the advisor runs
in a worker thread).  After :meth:`TagWindows.preload` the span's tags are
resampled once into arrays; a window on the preloaded grid is then sliced
from them and cleaned by the very same function (the cleaning runs on the
slice, so a spike or a frozen run is judged on the same samples as without
the preload), without touching the file.  Windows off the preloaded grid or
outside the span take the file path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from energyopt.data.reader import HistorianReader
    from energyopt.data.series import RegularSeries
    from energyopt.project import Project
    from energyopt.tagdata import CleanTags

__all__ = ["TagWindows"]


class _SlicedReader:
    """A historian reader whose resampled reads of the preloaded grid come from memory.

    Everything but :meth:`read_resampled` (metadata: tags, units, time
    formatting, sampling step) is the wrapped reader's; those are held in
    memory by :class:`~energyopt.data.reader.HistorianReader` and do not
    touch the file.
    """

    def __init__(self, reader: HistorianReader, series: RegularSeries) -> None:
        self._reader = reader
        self._series = series

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)

    def read_resampled(self, tags: Any, start: Any, end: Any, step: Any, **kwargs: Any) -> Any:
        series = self._series
        first = int((int(start) - int(series.time_ms[0])) // series.step_ms)
        # Bins starting before ``end`` (the last one may hold data up to ``end`` only).
        count = -(-(int(end) - int(start)) // series.step_ms)
        rows = slice(first, first + count)
        names = list(tags)
        return dataclasses.replace(
            series,
            time_ms=series.time_ms[rows],
            values={t: series.values[t][rows] for t in names},
            units={t: series.units[t] for t in names},
            quality={t: series.quality[t][rows] for t in names if t in series.quality},
            aggregation={t: series.aggregation[t] for t in names if t in series.aggregation},
        )


class TagWindows:
    """Cleaned bound tags over the window before a time (module docstring).

    Parameters
    ----------
    project : Project
        Project whose bindings and ``[data_quality]`` apply.
    reader : HistorianReader
        The open historian file (read-only).
    tags : mapping of str to str
        Historian tag -> binding name, the tags to read.
    step_ms : int
        Grid step (the file's sampling step). [ms]
    window_ms : int
        Length of the window before the asked time. [ms]
    """

    def __init__(
        self,
        project: Project,
        reader: HistorianReader,
        tags: Mapping[str, str],
        step_ms: int,
        window_ms: int,
    ) -> None:
        self.project = project
        self.reader = reader
        self.tags = dict(tags)
        self.step_ms = int(step_ms)
        self.window_ms = int(window_ms)
        self._preloaded: _SlicedReader | None = None
        self._span: tuple[int, int] = (0, 0)

    def preload(self, start_ms: int, end_ms: int) -> None:
        """Resample the tags the windows of asked times in ``[start_ms, end_ms]`` need, once.

        The grid starts at a whole multiple of the step, so every asked time
        on that grid (the advisor's decision times) is sliced from memory.
        """
        first, last = self.reader.time_span_ms
        lo = max(int(start_ms) - self.window_ms, first - self.step_ms)
        lo -= lo % self.step_ms
        hi = min(int(end_ms), last) + 1
        if self._preloaded is not None and self._span[0] <= lo and hi <= self._span[1]:
            return
        hi = lo + (-(-(hi - lo) // self.step_ms)) * self.step_ms
        series = self.reader.read_resampled(
            list(self.tags),
            lo,
            hi,
            self.step_ms,
            si=False,
            max_gap=self._hold_ms(),
        )
        self._preloaded = _SlicedReader(self.reader, series)
        self._span = (lo, hi)

    def _hold_ms(self) -> int:
        from energyopt.tagdata import resample_hold_ms

        return resample_hold_ms(self.project, self.reader, self.step_ms)

    def _source(self, start_ms: int, end_ms: int) -> HistorianReader:
        """The preloaded slicer when the window lies on its grid, else the file."""
        lo, hi = self._span
        on_grid = (start_ms - lo) % self.step_ms == 0
        if self._preloaded is not None and on_grid and lo <= start_ms and end_ms <= hi:
            # Duck-typed: read_clean_tags only uses the reader's metadata and read_resampled.
            return cast("HistorianReader", self._preloaded)
        return self.reader

    def read(self, at_ms: int) -> CleanTags:
        """The cleaned tags over ``[at_ms - window, at_ms]`` (tag unit, file sampling grid).

        Raises
        ------
        DataQualityError
            If a tag has no usable sample in the window.
        """
        from energyopt.tagdata import read_clean_tags

        window = (int(at_ms) - self.window_ms, int(at_ms) + 1)
        tags = self.tags
        return read_clean_tags(
            self.project,
            self._source(*window),
            list(tags),
            window,
            self.step_ms,
            owner="advisor",
            describe=lambda tag: f"bindings.{tags[tag]} (tag '{tag}')",
        )
