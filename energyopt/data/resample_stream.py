"""Streaming resampling of an open historian file onto a regular grid.

The grid's bins are processed in groups ("chunks") of whole bins.  For each
chunk the rows inside its time range are read, tag by tag, together with the
last row before it (carried from the previous chunk), and passed to
:func:`energyopt.data.resample.resample`, whose contract guarantees that the
chunks reproduce a single call on the whole range exactly.  Memory therefore
stays at the size of the result plus one chunk of one tag.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from energyopt.data.format import QUALITY_GROUP, TAGS_GROUP, Quality, to_duration_ms
from energyopt.data.resample import (
    Aggregation,
    aggregation_for_kind,
    bin_starts_ms,
    n_bins_for_range,
    resample,
)
from energyopt.data.series import RegularSeries
from energyopt.data.units import conversion_affine, si_unit
from energyopt.errors import DataError, EnergyoptError

if TYPE_CHECKING:
    from energyopt.data.format import TimeLike
    from energyopt.data.reader import HistorianReader
    from energyopt.progress import CancelToken, ProgressCallback

__all__ = ["resample_tags"]


def resample_tags(
    reader: HistorianReader,
    names: list[str],
    start: TimeLike | None,
    end: TimeLike | None,
    step: Any,
    *,
    aggregation: Aggregation | str | Mapping[str, Aggregation | str] | None,
    si: bool,
    max_gap: Any,
    require_data: bool,
    chunk_rows: int,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> RegularSeries:
    """Implement :meth:`HistorianReader.read_resampled` (see there for the parameters)."""
    step_ms = to_duration_ms(step)
    max_gap_ms = None if max_gap is None else to_duration_ms(max_gap)
    if chunk_rows < 1:
        raise DataError(f"chunk_rows must be positive, got {chunk_rows}")
    first_ms = reader.time_span_ms[0]
    if start is None:
        start_ms = _floor_local(first_ms, step_ms, reader)
        _, end_ms = reader.resolve_range(first_ms, end)
    else:
        start_ms, end_ms = reader.resolve_range(start, end)
    n_bins = n_bins_for_range(start_ms, end_ms, step_ms)
    if n_bins == 0:
        raise DataError(
            f"{reader.path}: empty resampling range {reader.format_time(start_ms)} .. "
            f"{reader.format_time(end_ms)}"
        )
    methods = _methods(reader, names, aggregation)
    units = {name: reader.tags[name].unit for name in names}
    affine = dict.fromkeys(names, (1.0, 0.0))
    if si:
        for name in names:
            try:
                affine[name] = conversion_affine(units[name], si_unit(units[name], tag=name))
                units[name] = si_unit(units[name], tag=name)
            except EnergyoptError as exc:
                raise type(exc)(f"{reader.path}: {exc}") from None

    axis = reader.axis
    values = {name: np.full(n_bins, np.nan) for name in names}
    codes = {name: np.zeros(n_bins, dtype=np.uint8) for name in names}
    sampling = reader.sampling_ms or float(step_ms)
    bins_per_chunk = max(1, int(chunk_rows * sampling // step_ms))

    row = axis.searchsorted(start_ms)
    row_end = axis.searchsorted(end_ms)
    prev_time: int | None = None
    prev_value = dict.fromkeys(names, np.nan)
    if row > 0:
        prev_time = int(axis.read_times(row - 1, row)[0])
        for name in names:
            prev_value[name] = float(_read_tag(reader, name, row - 1, row, affine[name])[0][0])

    for k0 in range(0, n_bins, bins_per_chunk):
        if cancel is not None:
            cancel.raise_if_cancelled()
        k1 = min(n_bins, k0 + bins_per_chunk)
        chunk_end = row_end if k1 == n_bins else axis.searchsorted(start_ms + k1 * step_ms)
        chunk_end = min(chunk_end, row_end)
        times = axis.read_times(row, chunk_end)
        grid = {"start_ms": start_ms + k0 * step_ms, "step_ms": step_ms, "n_bins": k1 - k0}
        for name in names:
            column, substituted = _read_tag(reader, name, row, chunk_end, affine[name])
            out = resample(
                times,
                column,
                method=methods[name],
                prev_time_ms=prev_time,
                prev_value=prev_value[name],
                max_gap_ms=max_gap_ms,
                **grid,
            )
            values[name][k0:k1] = out
            if substituted is not None and substituted.any():
                flag = resample(times, substituted, method=Aggregation.MAX, **grid)
                codes[name][k0:k1] = np.where(flag > 0, int(Quality.SUBSTITUTED), 0)
            if times.size:
                prev_value[name] = float(column[-1])
        if times.size:
            prev_time = int(times[-1])
        row = chunk_end
        if progress is not None:
            progress(k1, n_bins, "resampling")

    for name in names:
        codes[name][np.isnan(values[name])] = int(Quality.BAD)
    if require_data:
        reader.require_finite(values, start_ms, end_ms)
    return RegularSeries(
        time_ms=bin_starts_ms(start_ms, step_ms, n_bins),
        step_ms=step_ms,
        values=values,
        units=units,
        quality=codes,
        aggregation={name: str(methods[name].value) for name in names},
        timezone=reader.timezone,
    )


def _read_tag(
    reader: HistorianReader, name: str, lo: int, hi: int, affine: tuple[float, float]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64] | None]:
    """Read rows of a tag: bad samples as NaN, SI-converted; also 1.0 where substituted."""
    axis = reader.axis
    column = axis.read_rows(reader.dataset(TAGS_GROUP, name), lo, hi, np.float64)
    scale, offset = affine
    if scale != 1.0:
        column *= scale
    if offset != 0.0:
        column += offset
    substituted = None
    if reader.tags[name].has_quality:
        quality = axis.read_rows(reader.dataset(QUALITY_GROUP, name), lo, hi, np.uint8)
        column[quality == int(Quality.BAD)] = np.nan
        substituted = (quality == int(Quality.SUBSTITUTED)).astype(np.float64)
    return column, substituted


def _methods(
    reader: HistorianReader,
    names: list[str],
    aggregation: Aggregation | str | Mapping[str, Aggregation | str] | None,
) -> dict[str, Aggregation]:
    if aggregation is None or isinstance(aggregation, str):
        per_tag: Mapping[str, Aggregation | str] = (
            {} if aggregation is None else dict.fromkeys(names, aggregation)
        )
    else:
        per_tag = aggregation
        unknown = [name for name in per_tag if name not in names]
        if unknown:
            raise DataError(f"aggregation given for tags not read: {', '.join(unknown)}")
    methods = {}
    for name in names:
        chosen = per_tag.get(name)
        if chosen is None:
            methods[name] = aggregation_for_kind(reader.tags[name].kind or None)
            continue
        try:
            methods[name] = Aggregation(chosen)
        except ValueError:
            known = ", ".join(method.value for method in Aggregation)
            raise DataError(
                f"unknown aggregation {chosen!r} for tag '{name}'; expected one of {known}"
            ) from None
    return methods


def _floor_local(time_ms: int, step_ms: int, reader: HistorianReader) -> int:
    """Floor a time to a multiple of ``step_ms`` in the file's local (wall-clock) time."""
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=time_ms)
    offset = moment.astimezone(reader.tzinfo).utcoffset() or dt.timedelta(0)
    offset_ms = offset // dt.timedelta(milliseconds=1)
    return (time_ms + offset_ms) // step_ms * step_ms - offset_ms
