"""Gas KPIs against hand-computed values on tiny series (arithmetic in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from energyopt.errors import DataError
from energyopt.kpis import (
    flared_gas_nm3,
    flaring_rate_pct,
    holder_time_outside_band_min,
    holder_time_outside_hard_min,
)

# A sum of a few float64 products with exactly known results: 1e-12 relative
# covers the roundings; a wrong step or unit factor is off by far more.
RTOL = 1e-12


def test_flared_gas_hand_computed():
    # (1 + 2 + 3) Nm3/s * 60 s = 360 Nm3; the NaN minute is omitted.
    assert_allclose(flared_gas_nm3([1.0, 2.0, np.nan, 3.0], 60.0), 360.0, rtol=RTOL)


def test_flared_gas_all_missing_is_nan():
    assert math.isnan(flared_gas_nm3([np.nan, np.inf], 60.0))


def test_flared_gas_rejects_bad_step():
    with pytest.raises(DataError, match="flared_gas: step_s must be a finite positive number"):
        flared_gas_nm3([1.0], math.nan)


def test_flaring_rate_hand_computed():
    # (1 + 2 + 3) / (100 + 100 + 100) = 6 / 300 = 2 %.
    assert_allclose(flaring_rate_pct([1.0, 2.0, 3.0], [100.0, 100.0, 100.0]), 2.0, rtol=RTOL)


def test_flaring_rate_drops_incomplete_steps_jointly():
    # Step 2 lacks the flare flow: (1 + 3) / (100 + 100) = 2 %, not 4 / 300 = 1.33 %.
    rate = flaring_rate_pct([1.0, np.nan, 3.0], [100.0, 100.0, 100.0])
    assert_allclose(rate, 2.0, rtol=RTOL)


def test_flaring_rate_without_gas_made_is_nan():
    assert math.isnan(flaring_rate_pct([0.0, 0.0], [0.0, 0.0]))


def test_flaring_rate_rejects_length_mismatch():
    with pytest.raises(DataError, match=r"flaring_rate: flow_made_nm3_s has 1 samples"):
        flaring_rate_pct([1.0, 2.0], [100.0])


LEVEL = [0.25, 0.30, 0.50, 0.70, 0.75, np.nan, 0.95]


def test_holder_time_outside_normal_band():
    # Normal band 30-70 %, limits inclusive: 0.25, 0.75 and 0.95 are outside,
    # the NaN step is not counted: 3 steps * 15 min = 45 min.
    assert_allclose(holder_time_outside_band_min(LEVEL, 0.30, 0.70, 900.0), 45.0, rtol=RTOL)


def test_holder_time_outside_hard_limits():
    # Hard limits 10-90 %: only 0.95 is outside: 1 * 15 min.
    assert_allclose(holder_time_outside_hard_min(LEVEL, 0.10, 0.90, 900.0), 15.0, rtol=RTOL)


def test_holder_band_may_vary_per_step_and_be_open():
    # Lower limit 0.5 for the first two steps, then 0.2: 0.25 and 0.30 are low,
    # nothing else (upper side open): 2 steps * 1 min.
    lo = [0.5, 0.5, 0.2, 0.2, 0.2, 0.2, 0.2]
    assert_allclose(holder_time_outside_band_min(LEVEL, lo, None, 60.0), 2.0, rtol=RTOL)


def test_holder_time_all_missing_is_nan():
    assert math.isnan(holder_time_outside_band_min([np.nan, np.nan], 0.3, 0.7, 900.0))


@pytest.mark.parametrize(
    ("lo", "hi", "fragment"),
    [
        (0.7, 0.3, "band of 'values' has lower limit 0.7 above upper limit 0.3"),
        (math.nan, 0.7, "lo contains NaN"),
        ([0.3, 0.3], 0.7, "lo has shape (2,) but the series has 7 samples"),
    ],
)
def test_holder_time_rejects_bad_band(lo, hi, fragment):
    with pytest.raises(DataError, match="holder_time_outside_band: ") as info:
        holder_time_outside_band_min(LEVEL, lo, hi, 900.0)
    assert fragment in str(info.value)


def test_holder_hard_names_its_kpi():
    with pytest.raises(DataError, match="holder_time_outside_hard: step_s"):
        holder_time_outside_hard_min(LEVEL, 0.1, 0.9, -900.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.floats(0.0, 1.0), st.just(math.nan)), min_size=1, max_size=40))
def test_hard_time_never_exceeds_band_time_nor_total(levels):
    # The hard limits (0.1, 0.9) enclose the normal band (0.3, 0.7), so a step
    # outside the hard limits is also outside the band; neither can exceed the
    # valid time.
    band = holder_time_outside_band_min(levels, 0.3, 0.7, 60.0)
    hard = holder_time_outside_hard_min(levels, 0.1, 0.9, 60.0)
    valid_min = float(np.count_nonzero(np.isfinite(levels)))
    if valid_min == 0:
        assert math.isnan(band)
        assert math.isnan(hard)
    else:
        assert 0.0 <= hard <= band <= valid_min
