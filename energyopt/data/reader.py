"""Reading historian files (format v1): validated on open, read by time range.

:class:`HistorianReader` opens a file read-only, checks its layout (see
``docs/h5-format.md``) and then reads tags by time range, in chunks, or
aggregated onto a regular grid, without ever loading more than the request
needs.  Broken files raise :class:`~energyopt.errors.HistorianFormatError`
naming the file and the problem, never a bare h5py error.

Tolerance
---------
- A missing root ``format`` or ``version`` attribute is noted
  (:attr:`HistorianReader.findings`) when the layout is otherwise valid v1; a
  different ``format`` or ``version`` is refused.
- An unknown unit string is noted; only a conversion to SI then fails.
- Non-monotonic or duplicated timestamps are refused, naming the offending
  rows, unless ``repair_time=True``: then rows are sorted (stable) and of
  equal timestamps the row stored last is kept.  Without repair the axis is
  checked lazily (:mod:`energyopt.data.time_axis`): its first and last blocks
  on open, every other row when it is read.
- Integer tag datasets are read as float64.

Opening is cheap
----------------
A time-window read of a large file should not pay for the whole file.  Apart
from the lazy time axis, the layout check (attributes and shape of every tag,
about 0.15 ms a tag) is remembered in memory for the files opened last
(:func:`energyopt.data.layout.checked_layout`): reopening an unchanged file
skips it, while any change to the file (or a new file at the same path) is
checked again.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from energyopt.data.format import (
    QUALITY_GROUP,
    TAGS_GROUP,
    TIME_DATASET,
    TagInfo,
    TimeLike,
    format_time_ms,
    load_timezone,
    to_epoch_ms,
)
from energyopt.data.layout import FormatFinding, checked_layout, clear_layout_cache, open_hdf5
from energyopt.data.series import RegularSeries, TimeSeries
from energyopt.data.time_axis import TimeAxis
from energyopt.data.units import to_si
from energyopt.errors import (
    DataError,
    DataQualityError,
    EnergyoptError,
    TagNotFoundError,
)
from energyopt.fileio import register_input, unregister_input

if TYPE_CHECKING:
    import os

    import h5py

    from energyopt.data.resample import Aggregation
    from energyopt.progress import CancelToken, ProgressCallback

__all__ = ["DEFAULT_CHUNK_ROWS", "FormatFinding", "HistorianReader", "clear_layout_cache"]

#: Rows per chunk of :meth:`HistorianReader.iter_chunks` (2 MiB of float64 a tag).
DEFAULT_CHUNK_ROWS = 1 << 18


class HistorianReader:
    """Read a historian file (format v1); use it as a context manager.

    Parameters
    ----------
    path : str or path-like
        The ``.h5`` file, opened read-only.
    repair_time : bool
        Sort a non-monotonic time axis and drop duplicated timestamps
        (keeping the row stored last) instead of refusing the file.  The time
        axis is then held in memory (8 bytes a row).

    Raises
    ------
    DataError
        If the file does not exist or cannot be opened.
    HistorianFormatError
        If it is not HDF5, is truncated, or breaks format v1 (message names
        the file and the problem).

    Notes
    -----
    While open, the file is registered with :func:`energyopt.fileio.register_input`,
    so no energyopt output can replace it.

    Examples
    --------
    >>> with HistorianReader("history.h5") as reader:  # doctest: +SKIP
    ...     week = reader.read(["FI101"], "2024-03-01", "2024-03-08")
    ...     quarter_hours = reader.read_resampled(None, None, None, "15 min")
    """

    def __init__(self, path: str | os.PathLike[str], *, repair_time: bool = False) -> None:
        self.path = Path(path)
        self._file: h5py.File | None = open_hdf5(self.path)
        try:
            layout = checked_layout(self._file, self.path)
            self._axis = TimeAxis(self._file[TIME_DATASET], self.path, repair=repair_time)
        except BaseException:
            self._file.close()
            self._file = None
            raise
        self._tags = layout.tags
        self.timezone: str = layout.timezone
        """IANA time zone of the plant (root attribute ``timezone``, default ``UTC``)."""
        self.plant: str | None = layout.plant
        """Root attribute ``plant``, ``None`` if absent."""
        self.findings: list[FormatFinding] = layout.findings
        """Tolerated deviations from format v1 noticed on open."""
        if self._axis.repaired:
            self.findings.append(
                FormatFinding(
                    "time_repaired",
                    f"time axis not strictly increasing (first at {self._axis.raw_problem}); "
                    f"rows sorted by time ({self._axis.n_backward_steps} steps back) and "
                    f"{self._axis.n_dropped_duplicates} rows with a repeated timestamp "
                    "dropped (the row stored last kept)",
                )
            )
        self._sampling_ms: float | None = None
        self._sampling_known = False
        self._groups: dict[str, h5py.Group] = {}
        register_input(self.path)

    # ----------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Close the file (further reads raise ``RuntimeError``)."""
        if self._file is not None:
            self._groups.clear()
            self._file.close()
            self._file = None
            unregister_input(self.path)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _h5(self) -> h5py.File:
        if self._file is None:
            raise RuntimeError(f"HistorianReader of '{self.path}' is closed")
        return self._file

    # ----------------------------------------------------------- metadata

    @property
    def tags(self) -> dict[str, TagInfo]:
        """Tag name -> :class:`~energyopt.data.format.TagInfo`, in file order."""
        return dict(self._tags)

    @property
    def n_samples(self) -> int:
        """Number of rows, after repair if any."""
        return self._axis.n

    @property
    def time_span_ms(self) -> tuple[int, int]:
        """First and last sample time [ms since epoch]."""
        return self._axis.first_ms, self._axis.last_ms

    @property
    def sampling_ms(self) -> float | None:
        """Median time step of samples at the start, middle and end [ms]; ``None`` for one row."""
        if not self._sampling_known:
            self._sampling_ms = self._axis.sampling_ms()
            self._sampling_known = True
        return self._sampling_ms

    @property
    def tzinfo(self) -> ZoneInfo:
        """The plant's time zone (root attribute ``timezone``)."""
        return load_timezone(self.timezone)

    @property
    def repaired(self) -> bool:
        """Whether the time axis was sorted or de-duplicated on open."""
        return self._axis.repaired

    def tag(self, name: str) -> TagInfo:
        """Return one tag's metadata.

        Raises
        ------
        TagNotFoundError
            If the file has no such tag; the message suggests close names.
        """
        try:
            return self._tags[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._tags), n=3)
            suggestion = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise TagNotFoundError(f"{self.path}: no tag {name!r}{suggestion}") from None

    def format_time(self, time_ms: int) -> str:
        """Format a time as ISO 8601 in the file's time zone."""
        return format_time_ms(time_ms, self.tzinfo)

    # ----------------------------------------------------------- reading

    def _resolve_tags(self, tags: str | Sequence[str] | None) -> list[str]:
        self._h5()  # raises if closed
        if tags is None:
            return list(self._tags)
        names = [tags] if isinstance(tags, str) else list(tags)
        for name in names:
            self.tag(name)
        return list(dict.fromkeys(names))

    def resolve_range(self, start: TimeLike | None, end: TimeLike | None) -> tuple[int, int]:
        """Convert a requested ``[start, end)`` to ms; ``None`` means the file's first/last time.

        Parameters
        ----------
        start, end : time or None
            As for :meth:`read`; naive times are in the file's time zone.

        Returns
        -------
        tuple of int
            ``(start_ms, end_ms)``; an omitted end is just after the last sample.
            [ms since epoch]

        Raises
        ------
        DataError
            If a time cannot be read or ``end`` is before ``start``.
        """
        first, last = self.time_span_ms
        start_ms = first if start is None else to_epoch_ms(start, self.tzinfo)
        end_ms = last + 1 if end is None else to_epoch_ms(end, self.tzinfo)
        if end_ms < start_ms:
            raise DataError(
                f"{self.path}: end {self.format_time(end_ms)} is before start "
                f"{self.format_time(start_ms)}"
            )
        return start_ms, end_ms

    def _dataset(self, group: str, tag: str) -> h5py.Dataset:
        # The group handles are kept (a lookup from the file root costs tens of
        # microseconds), the dataset handles not: an open dataset keeps its
        # HDF5 chunk cache (megabytes) alive.
        parent = self._groups.get(group)
        if parent is None:
            parent = self._groups[group] = self._h5()[group]
        return parent[tag]

    def _read_block(
        self, names: list[str], lo: int, hi: int, *, si: bool
    ) -> tuple[
        npt.NDArray[np.int64], dict[str, npt.NDArray[np.float64]], dict[str, str], dict[str, Any]
    ]:
        times = self._axis.read_times(lo, hi)
        values: dict[str, npt.NDArray[np.float64]] = {}
        units: dict[str, str] = {}
        quality: dict[str, npt.NDArray[np.uint8]] = {}
        for name in names:
            info = self._tags[name]
            column = self._axis.read_rows(self._dataset(TAGS_GROUP, name), lo, hi, np.float64)
            units[name] = info.unit
            if si:
                column, units[name] = self._to_si(column, info)
            values[name] = column
            if info.has_quality:
                quality[name] = self._axis.read_rows(
                    self._dataset(QUALITY_GROUP, name), lo, hi, np.uint8
                )
            else:
                quality[name] = np.zeros(times.size, dtype=np.uint8)
        return times, values, units, quality

    def _to_si(
        self, column: npt.NDArray[np.float64], info: TagInfo
    ) -> tuple[npt.NDArray[np.float64], str]:
        try:
            return to_si(column, info.unit, tag=info.name)
        except EnergyoptError as exc:
            raise type(exc)(f"{self.path}: {exc}") from None

    def read(
        self,
        tags: str | Sequence[str] | None = None,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        si: bool = False,
        require_data: bool = False,
    ) -> TimeSeries:
        """Read the samples of some tags in ``[start, end)``.

        Parameters
        ----------
        tags : str or sequence of str, optional
            Tags to read; all if omitted.
        start, end : int, numpy.datetime64, datetime, date or str, optional
            Time range, end exclusive (see :mod:`energyopt.data.format` for the
            accepted forms; naive times are in the file's time zone).  The
            whole file if omitted.
        si : bool
            Convert the values to coherent SI units.
        require_data : bool
            Raise :class:`~energyopt.errors.DataQualityError` if a tag has no
            finite value in the range.

        Returns
        -------
        TimeSeries
            The samples, in the file's units unless ``si``.

        Raises
        ------
        TagNotFoundError
            If a tag is not in the file.
        UnitConversionError
            If ``si`` and a tag's unit is unknown.
        DataQualityError
            If ``require_data`` and a tag has no finite value.
        HistorianFormatError
            If the file cannot be read (truncated or corrupt).
        """
        names = self._resolve_tags(tags)
        start_ms, end_ms = self.resolve_range(start, end)
        lo, hi = self._axis.searchsorted(start_ms), self._axis.searchsorted(end_ms)
        times, values, units, quality = self._read_block(names, lo, hi, si=si)
        if require_data:
            self._require_finite(values, start_ms, end_ms)
        return TimeSeries(times, values, units, quality, self.timezone)

    def iter_chunks(
        self,
        tags: str | Sequence[str] | None = None,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        si: bool = False,
    ) -> Iterator[TimeSeries]:
        """Yield the samples of ``[start, end)`` in consecutive chunks of rows.

        Parameters
        ----------
        tags : str or sequence of str, optional
            Tags to read; all if omitted.
        start, end : time, optional
            Time range, end exclusive, as in :meth:`read`.
        chunk_rows : int
            Rows per chunk (the last one may be shorter). [-]
        si : bool
            Convert the values to coherent SI units.

        Yields
        ------
        TimeSeries
            Chunks whose concatenation equals :meth:`read` of the same range.
        """
        if chunk_rows < 1:
            raise DataError(f"chunk_rows must be positive, got {chunk_rows}")
        names = self._resolve_tags(tags)
        start_ms, end_ms = self.resolve_range(start, end)
        lo, hi = self._axis.searchsorted(start_ms), self._axis.searchsorted(end_ms)
        for row in range(lo, hi, chunk_rows):
            times, values, units, quality = self._read_block(
                names, row, min(row + chunk_rows, hi), si=si
            )
            yield TimeSeries(times, values, units, quality, self.timezone)

    def _require_finite(
        self, values: Mapping[str, npt.NDArray[np.float64]], start_ms: int, end_ms: int
    ) -> None:
        empty = [name for name, column in values.items() if not np.isfinite(column).any()]
        if empty:
            raise DataQualityError(
                f"{self.path}: no finite value of {', '.join(map(repr, empty))} between "
                f"{self.format_time(start_ms)} and {self.format_time(end_ms)}"
            )

    def read_resampled(
        self,
        tags: str | Sequence[str] | None,
        start: TimeLike | None,
        end: TimeLike | None,
        step: Any,
        *,
        aggregation: Aggregation | str | Mapping[str, Aggregation | str] | None = None,
        si: bool = False,
        max_gap: Any = None,
        require_data: bool = False,
        chunk_rows: int = 1 << 16,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> RegularSeries:
        """Aggregate tags onto a regular grid, streaming the file in bin-aligned chunks.

        Memory use is about the size of the result plus one chunk of
        ``chunk_rows`` rows of one tag: the file is read chunk by chunk, each
        chunk covering whole bins, and the chunks give exactly the values a
        single call of :func:`energyopt.data.resample.resample` on the whole
        range would give.

        Parameters
        ----------
        tags : str or sequence of str or None
            Tags to read; ``None`` for all.
        start : time or None
            Start of the first bin; ``None``: the first sample's time floored to
            a multiple of ``step`` in the file's local time.
        end : time or None
            End of the range, exclusive; ``None``: just after the last sample.
            The last bin may extend beyond it; it holds data before ``end`` only.
        step : int, timedelta, numpy.timedelta64 or str
            Bin width: ms, or a duration such as ``"15 min"``. [ms]
        aggregation : Aggregation, str or mapping, optional
            One aggregation for every tag, or a mapping tag -> aggregation;
            tags not given use the default of their ``kind`` attribute
            (:func:`energyopt.data.resample.aggregation_for_kind`).
        si : bool
            Convert to coherent SI units (before aggregating, so sums of
            offset units stay meaningful).
        max_gap : duration, optional
            Longest time a sample is held by ``time_weighted_mean`` and
            ``last``; ``None`` holds until the next sample. [ms]
        require_data : bool
            Raise :class:`~energyopt.errors.DataQualityError` if a tag has no
            finite bin value.
        chunk_rows : int
            Approximate rows read per chunk. [-]
        progress : ProgressCallback, optional
            Called with ``(bins done, n_bins, message)``.
        cancel : CancelToken, optional
            Checked between chunks.

        Returns
        -------
        RegularSeries
            Bin values; samples with quality code 1 (bad) are left out, and a
            bin's code is 1 when it has no value, 2 when a substituted sample
            went into it, else 0.

        Raises
        ------
        DataError
            If the grid or an aggregation is invalid.
        TagNotFoundError, UnitConversionError, DataQualityError, HistorianFormatError
            As for :meth:`read`.
        """
        from energyopt.data.resample_stream import resample_tags

        names = self._resolve_tags(tags)
        return resample_tags(
            self,
            names,
            start,
            end,
            step,
            aggregation=aggregation,
            si=si,
            max_gap=max_gap,
            require_data=require_data,
            chunk_rows=chunk_rows,
            progress=progress,
            cancel=cancel,
        )

    # Access for the streaming resampler and the inspector (same package).

    @property
    def axis(self) -> TimeAxis:
        """The validated time axis (for streaming consumers in :mod:`energyopt.data`)."""
        return self._axis

    def dataset(self, group: str, tag: str) -> h5py.Dataset:
        """Return the HDF5 dataset ``/<group>/<tag>`` (for streaming consumers)."""
        return self._dataset(group, tag)

    def to_si(self, column: npt.NDArray[np.float64], tag: str) -> tuple[Any, str]:
        """Convert a column of ``tag`` to SI; errors name the file and the tag."""
        return self._to_si(column, self.tag(tag))

    def require_finite(
        self, values: Mapping[str, npt.NDArray[np.float64]], start_ms: int, end_ms: int
    ) -> None:
        """Raise :class:`DataQualityError` if a column has no finite value."""
        self._require_finite(values, start_ms, end_ms)
