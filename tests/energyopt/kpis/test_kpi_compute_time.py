"""Compute-time statistics and the BOPTEST time ratio, hand-computed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.errors import DataError
from energyopt.kpis import compute_time_stats

# Order statistics and a mean of five numbers: 1e-12 relative covers the roundings.
RTOL = 1e-12


def test_compute_time_stats_hand_computed():
    # Sorted times 0.1 0.2 0.3 0.4 1.0: median 0.3, mean 2.0 / 5 = 0.4.
    # p95 (linear): position 0.95 * (5 - 1) = 3.8 -> 0.4 + 0.8 * (1.0 - 0.4) = 0.88.
    # BOPTEST time_rat = mean / step = 0.4 / 60.
    stats = compute_time_stats([0.3, 0.1, 1.0, 0.2, 0.4], 60.0)
    assert_allclose(
        [stats.median_s, stats.p95_s, stats.max_s, stats.mean_s, stats.time_ratio],
        [0.3, 0.88, 1.0, 0.4, 0.4 / 60.0],
        rtol=RTOL,
    )
    assert (stats.n_solves, stats.n_missing) == (5, 0)


def test_time_ratio_is_total_compute_over_total_control_time():
    # With one solve per interval the BOPTEST mean-based definition equals
    # total compute time / (n_steps * interval), computed independently here.
    times = np.array([0.05, 0.5, 0.02, 0.9, 0.1, 0.3])
    stats = compute_time_stats(times, 30.0)
    assert_allclose(stats.time_ratio, times.sum() / (times.size * 30.0), rtol=RTOL)


def test_untimed_steps_are_left_out_and_counted():
    stats = compute_time_stats([0.2, math.nan, 0.4], 10.0)
    assert_allclose(stats.mean_s, 0.3, rtol=RTOL)
    assert (stats.n_solves, stats.n_missing) == (2, 1)


@pytest.mark.parametrize(
    ("times", "interval", "fragment"),
    [
        ([], 60.0, "no solve time given"),
        ([math.nan], 60.0, "no solve time given"),
        ([0.1, -0.1], 60.0, "solve_times_s must be finite and non-negative"),
        ([0.1, math.inf], 60.0, "solve_times_s must be finite and non-negative"),
        ([0.1], 0.0, "control_interval_s must be a finite positive number"),
    ],
)
def test_compute_time_stats_rejects_bad_input(times, interval, fragment):
    with pytest.raises(DataError, match="compute_time_ratio: ") as info:
        compute_time_stats(times, interval)
    assert fragment in str(info.value)
