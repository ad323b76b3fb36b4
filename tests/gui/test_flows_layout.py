"""Sankey geometry (Qt-free): the one scale of a view over the whole trajectory."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose

from gui.flows_layout import column_peak


def brute_force_peak(columns, source, target, magnitudes) -> float:
    """The largest column total, summed link by link in plain Python loops."""
    best = 0.0
    for ends in (source, target):
        for column in set(columns.tolist()):
            for k in range(magnitudes.shape[1]):
                total = sum(
                    float(magnitudes[i, k]) for i in range(len(ends)) if columns[ends[i]] == column
                )
                best = max(best, total)
    return best


def test_column_peak_is_the_largest_column_total_at_any_time():
    rng = np.random.default_rng(7)
    columns = np.array([0, 0, 1, 2, 1, 3], dtype=np.intp)  # six nodes in four columns
    source = rng.integers(0, 6, size=15).astype(np.intp)
    target = rng.integers(0, 6, size=15).astype(np.intp)
    magnitudes = rng.uniform(0.0, 1e8, size=(15, 40))  # W, as a site view
    # Sums of up to 15 positive terms in another order: a few ulp apart.
    assert_allclose(
        column_peak(columns, source, target, magnitudes),
        brute_force_peak(columns, source, target, magnitudes),
        rtol=1e-13,
    )


def test_column_peak_of_a_hand_made_view():
    # Two producers (column 0) feed a bus (column 1) which feeds one user (column 2).
    columns = np.array([0, 0, 1, 2], dtype=np.intp)
    source = np.array([0, 1, 2], dtype=np.intp)
    target = np.array([2, 2, 3], dtype=np.intp)
    magnitudes = np.array([[3.0, 1.0], [4.0, 6.5], [7.0, 7.5]])
    # Out of column 0: 7 then 7.5; into column 1: the same; into column 2: 7, 7.5.
    assert column_peak(columns, source, target, magnitudes) == 7.5  # exact sums of halves


def test_column_peak_without_links_or_samples_is_zero():
    columns = np.array([0, 1], dtype=np.intp)
    none = np.zeros(0, dtype=np.intp)
    assert column_peak(columns, none, none, np.zeros((0, 5))) == 0.0
    assert column_peak(columns, np.array([0]), np.array([1]), np.zeros((1, 0))) == 0.0
