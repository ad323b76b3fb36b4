"""Resampling of historian series onto a regular time grid.

Bins
    Bin ``k`` (``0 <= k < n_bins``) is the half-open interval
    ``[start_ms + k*step_ms, start_ms + (k+1)*step_ms)`` and is labelled by its
    start.  Times are integer milliseconds since 1970-01-01T00:00:00Z.  A sample
    at exactly a bin edge belongs to the bin that starts there.

Missing values
    Non-finite samples (NaN, +-inf) are *missing*.  A bin that receives no
    usable data is NaN in the output.  The time axis must be non-decreasing
    (duplicated timestamps are allowed; for the hold-based methods the later
    row of a duplicated timestamp wins).

Methods (:class:`Aggregation`)
    ``mean``
        Arithmetic mean of the finite samples in the bin.
    ``min`` / ``max`` / ``sum``
        Minimum, maximum, sum of the finite samples in the bin (NaN when the bin
        has no finite sample, so an empty bin is distinguishable from a zero sum).
    ``time_weighted_mean``
        Each sample is held (zero-order hold) from its time until the next
        sample, but never longer than ``max_gap_ms``: a longer gap is *not
        covered* and contributes nothing.  A non-finite sample holds "unknown",
        which is also not covered.  The result is the integral of the held
        signal over the covered part of the bin divided by the covered duration
        (so a bin that is only half covered is the mean over that half).
    ``last``
        The last finite sample at or before the bin end, i.e. the value of the
        latest hold interval (defined as above) that overlaps the bin.  Inside
        the bin this is the last finite sample; a bin without finite samples
        takes the value carried forward from earlier bins (or ``prev_value``)
        while its hold, limited by ``max_gap_ms`` and ended by the next sample
        even if that sample is NaN, still reaches into the bin.

``mean``, ``min``, ``max`` and ``sum`` use only the samples inside each bin.
``time_weighted_mean`` and ``last`` also use the last sample before
``start_ms``: either pass it as ``prev_time_ms``/``prev_value`` (whatever its
value, NaN included) or include it in ``time_ms``/``values``.  A caller that
resamples a long file chunk by chunk passes, for each chunk of bins, every row
inside the chunk's time range plus the row just before it, and obtains exactly
the values of a single whole-array call.

Default method by tag ``kind`` (:data:`DEFAULT_AGGREGATION_BY_KIND`): rates
(flow, power, heat duty, measured process variables) are time-weighted means;
discrete or held quantities (state, mode, setpoint, counter/totaliser, price)
take the last value; an unknown or missing kind uses ``mean``.

All functions are vectorised (``np.searchsorted`` and ``ufunc.reduceat`` over
the rows of each bin); sums are taken per bin, never as differences of a
running total, so long files do not lose precision.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from energyopt.errors import DataError

__all__ = [
    "DEFAULT_AGGREGATION_BY_KIND",
    "Aggregation",
    "aggregation_for_kind",
    "bin_starts_ms",
    "n_bins_for_range",
    "resample",
    "resample_frame",
]


class Aggregation(StrEnum):
    """How the samples of one bin are reduced to one value (see the module docstring)."""

    MEAN = "mean"
    TIME_WEIGHTED_MEAN = "time_weighted_mean"
    LAST = "last"
    MIN = "min"
    MAX = "max"
    SUM = "sum"


#: Default aggregation for each tag ``kind`` attribute (lower case).  Rates and
#: measured process variables are time-weighted means; held or cumulative
#: quantities take the last value.  :func:`aggregation_for_kind` falls back to
#: :attr:`Aggregation.MEAN` for any kind not listed.
DEFAULT_AGGREGATION_BY_KIND: dict[str, Aggregation] = {
    "flow": Aggregation.TIME_WEIGHTED_MEAN,
    "power": Aggregation.TIME_WEIGHTED_MEAN,
    "heat": Aggregation.TIME_WEIGHTED_MEAN,
    "rate": Aggregation.TIME_WEIGHTED_MEAN,
    "measurement": Aggregation.TIME_WEIGHTED_MEAN,
    "temperature": Aggregation.TIME_WEIGHTED_MEAN,
    "pressure": Aggregation.TIME_WEIGHTED_MEAN,
    "level": Aggregation.TIME_WEIGHTED_MEAN,
    "concentration": Aggregation.TIME_WEIGHTED_MEAN,
    "state": Aggregation.LAST,
    "mode": Aggregation.LAST,
    "status": Aggregation.LAST,
    "setpoint": Aggregation.LAST,
    "counter": Aggregation.LAST,
    "totaliser": Aggregation.LAST,
    "totalizer": Aggregation.LAST,
    "price": Aggregation.LAST,
    "tariff": Aggregation.LAST,
}


def aggregation_for_kind(kind: str | None) -> Aggregation:
    """Return the default aggregation of a tag kind.

    Parameters
    ----------
    kind : str or None
        The tag's ``kind`` attribute (case-insensitive); ``None`` or an unknown
        kind gives :attr:`Aggregation.MEAN`.

    Returns
    -------
    Aggregation
        The entry of :data:`DEFAULT_AGGREGATION_BY_KIND`, or ``MEAN``.
    """
    if kind is None:
        return Aggregation.MEAN
    return DEFAULT_AGGREGATION_BY_KIND.get(kind.strip().lower(), Aggregation.MEAN)


def bin_starts_ms(start_ms: int, step_ms: int, n_bins: int) -> npt.NDArray[np.int64]:
    """Return the bin labels (bin start times) of a regular grid.

    Parameters
    ----------
    start_ms : int
        Start of the first bin. [ms since epoch]
    step_ms : int
        Bin width. [ms]
    n_bins : int
        Number of bins.

    Returns
    -------
    numpy.ndarray
        ``start_ms + step_ms * arange(n_bins)``, int64. [ms since epoch]
    """
    _check_grid(step_ms, n_bins)
    return np.int64(start_ms) + np.int64(step_ms) * np.arange(n_bins, dtype=np.int64)


def n_bins_for_range(start_ms: int, end_ms: int, step_ms: int) -> int:
    """Return the number of bins needed to cover ``[start_ms, end_ms)``.

    Parameters
    ----------
    start_ms, end_ms : int
        Time range to cover, end exclusive. [ms since epoch]
    step_ms : int
        Bin width. [ms]

    Returns
    -------
    int
        ``ceil((end_ms - start_ms) / step_ms)``, at least 0.
    """
    _check_grid(step_ms, 0)
    return max(0, -((start_ms - end_ms) // step_ms))


def resample(
    time_ms: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    start_ms: int,
    step_ms: int,
    n_bins: int,
    method: Aggregation | str,
    prev_time_ms: int | None = None,
    prev_value: float = float("nan"),
    max_gap_ms: int | None = None,
) -> npt.NDArray[np.float64]:
    """Aggregate one series onto a regular grid of half-open bins.

    Parameters
    ----------
    time_ms : array_like of int
        Sample times, non-decreasing, shape (N,). [ms since epoch]
    values : array_like of float
        Sample values, shape (N,); non-finite values are missing. [tag unit]
    start_ms : int
        Start of the first bin. [ms since epoch]
    step_ms : int
        Bin width, positive. [ms]
    n_bins : int
        Number of bins, non-negative.
    method : Aggregation or str
        Aggregation method, see the module docstring.
    prev_time_ms : int or None
        Time of the last sample before ``time_ms[0]`` (normally the last row
        before ``start_ms``); used by ``time_weighted_mean`` and ``last`` only.
        [ms since epoch]
    prev_value : float
        Value of that sample (NaN allowed: it then ends the previous hold). [tag unit]
    max_gap_ms : int or None
        Longest time a sample is held by ``time_weighted_mean`` and ``last``;
        ``None`` holds until the next sample. [ms]

    Returns
    -------
    numpy.ndarray
        Aggregated values, float64, shape (n_bins,); NaN for bins without data. [tag unit]

    Raises
    ------
    DataError
        If the arrays have different lengths or are not 1-D, the times are not
        integers or not non-decreasing, the grid or ``max_gap_ms`` is not
        positive, ``prev_time_ms`` is not before the first sample, or the
        method is unknown.
    """
    method = _as_aggregation(method)
    _check_grid(step_ms, n_bins)
    if max_gap_ms is not None and max_gap_ms <= 0:
        raise DataError(f"resample: max_gap_ms must be positive, got {max_gap_ms}")
    t, v = _as_series(time_ms, values)
    if prev_time_ms is not None:
        if t.size and prev_time_ms >= t[0]:
            raise DataError(
                f"resample: prev_time_ms={prev_time_ms} must be before the first sample "
                f"time {int(t[0])}"
            )
        if method in (Aggregation.TIME_WEIGHTED_MEAN, Aggregation.LAST):
            t = np.concatenate(([np.int64(prev_time_ms)], t))
            v = np.concatenate(([float(prev_value)], v))
    edges = np.int64(start_ms) + np.int64(step_ms) * np.arange(n_bins + 1, dtype=np.int64)
    idx = np.searchsorted(t, edges, side="left")
    finite = np.isfinite(v)
    if method in (Aggregation.TIME_WEIGHTED_MEAN, Aggregation.LAST):
        return _resample_hold(t, v, finite, edges, idx, method, max_gap_ms)
    return _resample_in_bin(v, finite, idx, method)


def resample_frame(
    time_ms: npt.ArrayLike,
    values: Mapping[str, npt.ArrayLike],
    kinds: Mapping[str, str | None],
    *,
    start_ms: int,
    step_ms: int,
    n_bins: int,
    methods: Mapping[str, Aggregation | str] | None = None,
    prev: Mapping[str, tuple[int, float]] | None = None,
    max_gap_ms: int | None = None,
) -> dict[str, npt.NDArray[np.float64]]:
    """Resample several tags sharing one time axis.

    Parameters
    ----------
    time_ms : array_like of int
        Shared sample times, non-decreasing, shape (N,). [ms since epoch]
    values : mapping of str to array_like
        Tag name -> values, each shape (N,). [tag unit]
    kinds : mapping of str to str or None
        Tag name -> ``kind`` attribute; a missing tag counts as ``None``.
    start_ms, step_ms, n_bins : int
        The grid, as in :func:`resample`. [ms since epoch], [ms], [-]
    methods : mapping of str to Aggregation, optional
        Per-tag overrides of the kind's default aggregation.
    prev : mapping of str to (int, float), optional
        Per-tag ``(prev_time_ms, prev_value)``, see :func:`resample`.
    max_gap_ms : int or None
        Longest hold, see :func:`resample`. [ms]

    Returns
    -------
    dict of str to numpy.ndarray
        Tag name -> resampled values, shape (n_bins,), in the order of ``values``.
    """
    methods = methods or {}
    prev = prev or {}
    t = _as_time(time_ms)
    out: dict[str, npt.NDArray[np.float64]] = {}
    for tag, tag_values in values.items():
        method = methods.get(tag) or aggregation_for_kind(kinds.get(tag))
        prev_time_ms, prev_value = prev.get(tag, (None, float("nan")))
        try:
            out[tag] = resample(
                t,
                tag_values,
                start_ms=start_ms,
                step_ms=step_ms,
                n_bins=n_bins,
                method=method,
                prev_time_ms=prev_time_ms,
                prev_value=prev_value,
                max_gap_ms=max_gap_ms,
            )
        except DataError as exc:
            raise DataError(f"tag {tag!r}: {exc}") from exc
    return out


# ----------------------------------------------------------------- internals


def _as_aggregation(method: Aggregation | str) -> Aggregation:
    try:
        return Aggregation(method)
    except ValueError:
        known = ", ".join(m.value for m in Aggregation)
        raise DataError(f"unknown aggregation {method!r}; expected one of {known}") from None


def _check_grid(step_ms: int, n_bins: int) -> None:
    if step_ms <= 0:
        raise DataError(f"resample: step_ms must be positive, got {step_ms}")
    if n_bins < 0:
        raise DataError(f"resample: n_bins must be non-negative, got {n_bins}")


def _as_time(time_ms: npt.ArrayLike) -> npt.NDArray[np.int64]:
    t = np.asarray(time_ms)
    if t.ndim != 1:
        raise DataError(f"time_ms must be 1-D, got shape {t.shape}")
    if t.size and not np.issubdtype(t.dtype, np.integer):
        raise DataError(f"time_ms must hold integer milliseconds, got dtype {t.dtype}")
    t = t.astype(np.int64, copy=False)
    if t.size > 1 and bool(np.any(t[1:] < t[:-1])):
        first = int(np.flatnonzero(t[1:] < t[:-1])[0]) + 1
        raise DataError(
            f"time_ms must be non-decreasing; row {first} ({int(t[first])}) is before "
            f"row {first - 1} ({int(t[first - 1])})"
        )
    return t


def _as_series(
    time_ms: npt.ArrayLike, values: npt.ArrayLike
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    t = _as_time(time_ms)
    v = np.asarray(values, dtype=np.float64)
    if v.shape != t.shape:
        raise DataError(f"values shape {v.shape} does not match time_ms shape {t.shape}")
    return t, v


def _reduce_bins(
    ufunc: np.ufunc, arr: npt.NDArray[np.generic], idx: npt.NDArray[np.intp], fill: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Reduce ``arr[idx[k]:idx[k+1]]`` with ``ufunc`` for every bin ``k``.

    ``ufunc.reduceat`` mishandles empty segments (it returns the element at the
    segment start), so only the non-empty bins are passed to it: the rows of
    the empty bins in between are zero in number, so each non-empty segment
    still ends where the next one starts.
    """
    n_bins = idx.size - 1
    nonempty = idx[1:] > idx[:-1]
    out = np.full(n_bins, fill, dtype=np.float64)
    if n_bins and nonempty.any():
        sub = arr[idx[0] : idx[-1]]
        out[nonempty] = ufunc.reduceat(sub, idx[:-1][nonempty] - idx[0])
    return out, nonempty


def _resample_in_bin(
    v: npt.NDArray[np.float64],
    finite: npt.NDArray[np.bool_],
    idx: npt.NDArray[np.intp],
    method: Aggregation,
) -> npt.NDArray[np.float64]:
    # Exact integer running count: differences of an integer cumsum lose nothing.
    cum_count = np.concatenate(([0], np.cumsum(finite, dtype=np.int64)))
    count = cum_count[idx[1:]] - cum_count[idx[:-1]]
    if method in (Aggregation.MIN, Aggregation.MAX):
        ufunc = np.fmin if method is Aggregation.MIN else np.fmax
        clean = np.where(finite, v, np.nan)
        out, _ = _reduce_bins(ufunc, clean, idx, np.nan)
    else:
        total, _ = _reduce_bins(np.add, np.where(finite, v, 0.0), idx, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = total / count if method is Aggregation.MEAN else total
    out[count == 0] = np.nan
    return out


def _resample_hold(
    t: npt.NDArray[np.int64],
    v: npt.NDArray[np.float64],
    finite: npt.NDArray[np.bool_],
    edges: npt.NDArray[np.int64],
    idx: npt.NDArray[np.intp],
    method: Aggregation,
    max_gap_ms: int | None,
) -> npt.NDArray[np.float64]:
    n_bins = edges.size - 1
    if n_bins == 0:
        return np.empty(0, dtype=np.float64)
    if t.size == 0:
        return np.full(n_bins, np.nan)
    # Hold interval of sample j: [t_j, hold_end_j) with hold_end_j = min(t_{j+1}, t_j + max_gap).
    # The last sample holds to t + max_gap, or (no limit) to the end of the grid.
    hold_end = np.empty_like(t)
    hold_end[:-1] = t[1:]
    hold_end[-1] = max(int(t[-1]), int(edges[-1])) if max_gap_ms is None else t[-1] + max_gap_ms
    if max_gap_ms is not None:
        np.minimum(hold_end, t + np.int64(max_gap_ms), out=hold_end)

    lo, hi = edges[:-1], edges[1:]
    # Carry into bin k: the last sample before the bin start (index idx[k]-1).
    carry = idx[:-1] - 1
    has_carry = carry >= 0
    carry_c = np.where(has_carry, carry, 0)
    carry_ms = np.where(
        has_carry & finite[carry_c],
        np.clip(np.minimum(hold_end[carry_c], hi) - lo, 0, None),
        0,
    ).astype(np.float64)
    carry_value = np.where(carry_ms > 0, v[carry_c], np.nan)

    # Rows inside the grid, each with its hold clipped to the end of its own
    # bin (the rest of a long hold is the next bins' carry).  Clipping per row
    # makes every term independent of rows after the bin, so a chunked caller
    # gets bit-identical sums.
    rows = slice(int(idx[0]), int(idx[-1]))
    local_idx = idx - idx[0]
    bin_end = np.repeat(hi, np.diff(idx))
    held = (np.minimum(hold_end[rows], bin_end) - t[rows]).astype(np.float64)
    held[~finite[rows]] = 0.0

    if method is Aggregation.LAST:
        position = np.where(held > 0, np.arange(held.size), -1)
        best, _ = _reduce_bins(np.maximum, position, local_idx, -1.0)
        best_i = best.astype(np.intp)
        if held.size == 0:
            return carry_value
        in_bin = v[rows][np.where(best_i >= 0, best_i, 0)]
        return np.where(best_i >= 0, in_bin, carry_value)

    weighted = np.where(held > 0, v[rows], 0.0) * held
    covered, _ = _reduce_bins(np.add, held, local_idx, 0.0)
    integral, _ = _reduce_bins(np.add, weighted, local_idx, 0.0)
    covered += carry_ms
    integral += np.where(carry_ms > 0, carry_value * carry_ms, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = integral / covered
    out[covered <= 0] = np.nan
    return out
