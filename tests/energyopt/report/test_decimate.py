"""Min/max decimation against a plain per-bucket loop."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from energyopt.errors import DataError
from energyopt.report.decimate import minmax_decimate


def brute_force(t: np.ndarray, y: np.ndarray, n_buckets: int) -> tuple[list[int], list[float]]:
    """Independent reference: loop over buckets, keep first min and first max in time order."""
    span = float(t[-1] - t[0])
    bucket = np.minimum(((t - t[0]) / span * n_buckets).astype(int), n_buckets - 1)
    times: list[int] = []
    values: list[float] = []
    for b in np.unique(bucket):
        idx = np.flatnonzero(bucket == b)
        finite = idx[np.isfinite(y[idx])]
        if finite.size == 0:
            times.append(int(t[idx[0]]))
            values.append(np.nan)
            continue
        lo = finite[np.argmin(y[finite])]
        hi = finite[np.argmax(y[finite])]
        for i in sorted({lo, hi}):
            times.append(int(t[i]))
            values.append(float(y[i]))
    return times, values


def test_matches_brute_force_with_gaps() -> None:
    rng = np.random.default_rng(7)
    t = np.cumsum(rng.integers(30_000, 90_000, size=5000)).astype(np.int64)
    y = rng.normal(size=5000)
    y[1200:1500] = np.nan  # a gap spanning whole buckets
    y[3000] = 25.0  # a spike averaging would hide
    got_t, got_y = minmax_decimate(t, y, 100)
    ref_t, ref_y = brute_force(t, y, 100)
    assert_array_equal(got_t, ref_t)
    assert_array_equal(got_y, ref_y)  # exact: values are copied, not computed
    assert got_t.size <= 200
    assert 25.0 in got_y
    assert np.isnan(got_y).any()


def test_short_series_unchanged_and_errors() -> None:
    t = np.arange(10, dtype=np.int64)
    y = np.arange(10.0)
    got_t, got_y = minmax_decimate(t, y, 5)
    assert_array_equal(got_t, t)
    assert_array_equal(got_y, y)
    with pytest.raises(DataError, match="must be equal 1-D"):
        minmax_decimate(t, y[:5], 5)
    with pytest.raises(DataError, match="n_buckets must be positive"):
        minmax_decimate(t, y, 0)
