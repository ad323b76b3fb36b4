"""Interval means of a fine disturbance record."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.economic import RecordedHorizon, interval_means
from controllers.errors import EconomicMPCError


def test_interval_means_of_a_pulse_train_match_the_hand_integral():
    # 1-min samples; a 250 kg/s pulse in minutes 0-4 and 20-24 of each 30 min.
    t = np.arange(60) * 60.0
    pulse = np.where((np.arange(60) % 20) < 5, 250.0, 0.0)
    starts, means = interval_means(t, np.c_[pulse, 2 * pulse], 900.0)
    # By hand over 15-min intervals: minutes 0-14 hold 5 pulse minutes, 15-29
    # hold 5 (20-24), 30-44 hold 5 (40-44), 45-59 none -> 250 * 5 / 15 or 0.
    expected = np.array([250 * 5 / 15, 250 * 5 / 15, 250 * 5 / 15, 0.0])
    # Sums of a few exact binary fractions: round-off only.
    assert_allclose(means[:, 0], expected, rtol=1e-12)
    assert_allclose(means[:, 1], 2 * expected, rtol=1e-12)
    assert_allclose(starts, [0.0, 900.0, 1800.0, 2700.0])
    # A point sample every 15 min sees 250, 0, 0, 0 instead.
    assert pulse[::15][1] == 0.0
    src = RecordedHorizon.from_fine_record(t, pulse[:, None], np.ones(60), 900.0, 2)
    assert_allclose(src(900.0).d[:, 0], expected[1:3], rtol=1e-12)


def test_interval_means_rejects_bad_records():
    with pytest.raises(EconomicMPCError, match="strictly increasing"):
        interval_means([0.0, 0.0, 60.0], [1.0, 2.0, 3.0], 60.0)
    with pytest.raises(EconomicMPCError, match="shorter than one interval"):
        interval_means([0.0, 60.0], [1.0, 2.0], 900.0)
    with pytest.raises(EconomicMPCError, match="interval_s must be positive"):
        interval_means([0.0, 60.0], [1.0, 2.0], 0.0)
