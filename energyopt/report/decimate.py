"""Min/max decimation of long series for plots (one pair of points per pixel column).

A line drawn through thousands of samples per pixel column looks exactly like
the vertical segment from the column's minimum to its maximum.  Keeping, in
each of ``n_buckets`` equal time buckets, the sample with the smallest and the
one with the largest value (in time order) therefore draws the same picture
with at most ``2 * n_buckets`` points, and never hides a spike as averaging
would.  A bucket without a finite value becomes one NaN point, so gaps stay
gaps.  (numpy/scipy offer no such envelope-preserving decimation;
``scipy.signal.decimate`` low-pass filters, which removes spikes.)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from energyopt.errors import DataError

__all__ = ["minmax_decimate"]


def minmax_decimate(
    time_ms: npt.ArrayLike, values: npt.ArrayLike, n_buckets: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Keep each time bucket's minimum and maximum sample, in time order.

    Parameters
    ----------
    time_ms : array_like of int
        Increasing sample times, shape ``(N,)``. [ms since epoch]
    values : array_like of float
        Samples, shape ``(N,)``; NaN where missing. [any unit]
    n_buckets : int
        Number of equal-width time buckets (about the plot's width in pixels). [-]

    Returns
    -------
    time_ms : numpy.ndarray of int64
        Kept times, at most ``2 * n_buckets`` of them. [ms since epoch]
    values : numpy.ndarray of float64
        Kept values; a bucket without a finite sample gives one NaN. [any unit]

    Raises
    ------
    DataError
        If the shapes differ or ``n_buckets`` is not positive.
    """
    t = np.asarray(time_ms, dtype=np.int64)
    y = np.asarray(values, dtype=np.float64)
    if t.ndim != 1 or y.shape != t.shape:
        raise DataError(f"decimation: times {t.shape} and values {y.shape} must be equal 1-D")
    if n_buckets < 1:
        raise DataError(f"decimation: n_buckets must be positive, got {n_buckets}")
    n = t.size
    if n <= 2 * n_buckets:
        return t.copy(), y.copy()
    span = float(t[-1] - t[0]) or 1.0
    bucket = np.minimum(((t - t[0]) / span * n_buckets).astype(np.int64), n_buckets - 1)
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    counts = np.diff(np.r_[starts, n])
    owner = np.repeat(np.arange(starts.size), counts)
    finite = np.isfinite(y)
    low = np.fmin.reduceat(np.where(finite, y, np.inf), starts)
    high = np.fmax.reduceat(np.where(finite, y, -np.inf), starts)
    index = np.arange(n)
    # First position of each bucket's minimum and maximum (n where none is finite).
    i_low = np.minimum.reduceat(np.where(finite & (y == low[owner]), index, n), starts)
    i_high = np.minimum.reduceat(np.where(finite & (y == high[owner]), index, n), starts)
    empty = i_low == n
    first = np.where(empty, starts, np.minimum(i_low, i_high))
    second = np.where(empty, -1, np.maximum(i_low, i_high))
    pairs = np.stack([first, second], axis=1)
    # One point where min and max are the same sample, or the bucket is empty.
    keep = np.ones(pairs.shape, dtype=bool)
    keep[:, 1] = (second >= 0) & (second != first)
    picked = pairs[keep]
    out_t = t[picked]
    out_y = y[picked].copy()
    out_y[np.repeat(empty, keep.sum(axis=1))] = np.nan
    return out_t, out_y
