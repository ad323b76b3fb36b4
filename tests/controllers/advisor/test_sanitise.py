"""Measurement sanitising policy: NaN bridging, staleness, frozen sensors."""

from __future__ import annotations

import numpy as np
import pytest

from controllers.advisor import sanitise_measurements
from controllers.errors import AdvisorError

NAMES = ("a", "b", "c")


def test_short_gap_bridged_with_last_value():
    hist = np.array([[1.0, 2.0, 3.0], [1.1, np.nan, 3.1]])
    out = sanitise_measurements([1.2, np.nan, 3.2], hist, NAMES, max_stale_samples=2)
    assert out.values.tolist() == [1.2, 2.0, 3.2]  # b: last finite value, 2 samples old
    assert out.valid.tolist() == [True, True, True]
    assert any("'b' is missing" in s for s in out.issues)


def test_long_gap_invalid_and_no_value_is_nan():
    hist = np.array([[1.0, np.nan, 3.0], [1.1, np.nan, np.nan], [1.2, np.nan, np.nan]])
    out = sanitise_measurements([1.3, np.nan, np.nan], hist, NAMES, max_stale_samples=1)
    assert out.valid.tolist() == [True, False, False]
    assert np.isnan(out.values[1])  # never seen: no value to hold
    assert out.values[2] == 3.0  # kept for display, flagged invalid
    assert any("no earlier value" in s for s in out.issues)


def test_frozen_sensor_invalid():
    hist = np.array([[1.0, 5.0, 3.0], [1.1, 5.0, 3.1], [1.2, 5.0, 3.2]])
    out = sanitise_measurements(
        [1.3, 5.0, 3.3], hist, NAMES, max_stale_samples=1, frozen_samples=4, frozen_tolerance=0.0
    )
    assert out.valid.tolist() == [True, False, True]
    assert any("'b' is frozen" in s for s in out.issues)
    # Three samples only (history too short for four): not judged frozen.
    short = sanitise_measurements(
        [1.3, 5.0, 3.3], hist[1:], NAMES, max_stale_samples=1, frozen_samples=4
    )
    assert short.valid.all()


def test_wrong_shapes_rejected():
    with pytest.raises(AdvisorError, match="expected 3 measurements"):
        sanitise_measurements([1.0, 2.0], None, NAMES, max_stale_samples=1)
    with pytest.raises(AdvisorError, match="history must have shape"):
        sanitise_measurements([1.0, 2.0, 3.0], np.zeros((4, 2)), NAMES, max_stale_samples=1)
