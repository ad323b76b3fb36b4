"""Control-quality KPIs against hand-computed values (arithmetic in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from energyopt.errors import DataError
from energyopt.kpis import (
    constraint_violation_integral,
    manual_interventions_per_hour,
    mv_utilisation_pct,
    setpoint_change_flags,
    stability_rate_pct,
)

# Ratios of small integers and short sums: 1e-12 relative covers the roundings.
RTOL = 1e-12


def test_stability_rate_overall_and_per_variable():
    # a in [1.5, 4]:   1 no, 2 yes, 3 yes, NaN -, 5 no   -> 2 of 4 valid = 50 %
    # b in [0, 20]:   10 yes, 10 yes, 25 no, 10 yes, 30 no -> 3 of 5 = 60 %
    # overall over the 4 steps where both are valid (0, 1, 2, 4): only step 1
    # has both inside -> 1 of 4 = 25 %; step 3 is excluded.
    rate = stability_rate_pct(
        {"a": [1.0, 2.0, 3.0, np.nan, 5.0], "b": [10.0, 10.0, 25.0, 10.0, 30.0]},
        {"a": (1.5, 4.0), "b": (0.0, 20.0)},
    )
    assert_allclose(rate.overall_pct, 25.0, rtol=RTOL)
    assert_allclose(rate.per_variable_pct["a"], 50.0, rtol=RTOL)
    assert_allclose(rate.per_variable_pct["b"], 60.0, rtol=RTOL)
    assert rate.n_samples == 5
    assert rate.n_excluded == 1
    assert rate.n_excluded_per_variable == {"a": 1, "b": 0}


def test_stability_rate_limits_inclusive_and_open_sides():
    # Values on the limits are inside; None leaves a side open: 3 of 3 inside.
    rate = stability_rate_pct({"x": [1.0, 2.0, 100.0]}, {"x": (1.0, None)})
    assert_allclose(rate.overall_pct, 100.0, rtol=RTOL)


def test_stability_rate_all_missing_is_nan():
    rate = stability_rate_pct({"x": [np.nan, np.nan]}, {"x": (0.0, 1.0)})
    assert math.isnan(rate.overall_pct)
    assert rate.n_excluded == 2


@pytest.mark.parametrize(
    ("values", "bands", "fragment"),
    [
        ({}, {}, "give at least one controlled variable"),
        ({"x": [1.0]}, {}, "bands has no entry for 'x'"),
        ({"x": [1.0]}, {"x": (0.0, 1.0), "y": (0.0, 1.0)}, "bands has 'y'"),
        ({"x": [1.0], "y": [1.0, 2.0]}, {"x": (0, 1), "y": (0, 1)}, "values['y'] has 2 samples"),
        ({"x": [1.0]}, {"x": (2.0, 1.0)}, "band of 'x' has lower limit 2 above upper limit 1"),
        ({"x": [1.0]}, {"x": (0.0,)}, "band of 'x' must be (lo, hi)"),
    ],
)
def test_stability_rate_rejects_bad_input(values, bands, fragment):
    with pytest.raises(DataError, match="stability_rate: ") as info:
        stability_rate_pct(values, bands)
    assert fragment in str(info.value)


def test_constraint_violation_integral_hand_computed():
    # Limits [0, 10], 30-min steps: distances 0, 0, 2 (12 > 10), -, 3 (-3 < 0)
    # -> 5 units * 0.5 h = 2.5 unit h.
    value = constraint_violation_integral([0.0, 5.0, 12.0, np.nan, -3.0], 0.0, 10.0, 1800.0)
    assert_allclose(value, 2.5, rtol=RTOL)


def test_constraint_violation_one_sided():
    # Only an upper limit of 10: 12 -> 2, -3 -> 0; 2 * 1 h = 2 unit h.
    value = constraint_violation_integral([12.0, -3.0], None, 10.0, 3600.0)
    assert_allclose(value, 2.0, rtol=RTOL)


def test_constraint_violation_rejects_inverted_limits():
    with pytest.raises(DataError, match="constraint_violation: band of 'values' has lower"):
        constraint_violation_integral([1.0], 10.0, 0.0, 60.0)


MV = [0.0, 0.5, 50.0, 99.6, 100.0, 60.0, np.nan]


def test_mv_utilisation_default_tolerance():
    # Limits 0-100, default tol 1 % of range = 1: free when 1 < mv < 99:
    # 50 and 60 -> 2 of 6 valid steps = 33.33 %.
    assert_allclose(mv_utilisation_pct(MV, 0.0, 100.0), 100.0 * 2 / 6, rtol=RTOL)


def test_mv_utilisation_zero_tolerance():
    # tol 0: free when 0 < mv < 100: 0.5, 50, 99.6, 60 -> 4 of 6.
    assert_allclose(mv_utilisation_pct(MV, 0.0, 100.0, tol=0.0), 100.0 * 4 / 6, rtol=RTOL)


@pytest.mark.parametrize(
    ("lo", "hi", "tol", "fragment"),
    [
        (None, 100.0, None, "MV limits lo and hi must be finite"),
        (0.0, math.inf, None, "MV limits lo and hi must be finite"),
        (100.0, 0.0, None, "band of 'mv' has lower limit 100 above upper limit 0"),
        (0.0, 100.0, -1.0, "tol must be a finite non-negative number, got -1"),
    ],
)
def test_mv_utilisation_rejects_bad_limits(lo, hi, tol, fragment):
    with pytest.raises(DataError, match="mv_utilisation: ") as info:
        mv_utilisation_pct(MV, lo, hi, tol=tol)
    assert fragment in str(info.value)


def test_manual_interventions_from_flags():
    # 3 interventions in 30 min -> 6 per hour; flags of two MVs count together.
    flags = np.array([False, True, False, True, True, False])
    assert_allclose(manual_interventions_per_hour(1800.0, flags=flags), 6.0, rtol=RTOL)
    two_mvs = np.array([[True, False], [True, True]])
    assert_allclose(manual_interventions_per_hour(3600.0, flags=two_mvs), 3.0, rtol=RTOL)


def test_manual_interventions_from_event_times():
    # 3 logged changes in 2 h -> 1.5 per hour.
    rate = manual_interventions_per_hour(7200.0, event_times_s=[100.0, 2000.0, 3000.0])
    assert_allclose(rate, 1.5, rtol=RTOL)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({}, "give exactly one of flags and event_times_s"),
        ({"flags": [True], "event_times_s": [1.0]}, "give exactly one of"),
        ({"flags": [1.0, 0.0]}, "flags must be boolean, got dtype float64"),
        ({"event_times_s": [1.0, math.nan]}, "event_times_s must be finite"),
        ({"duration_s": 0.0, "flags": [True]}, "duration_s must be a finite positive number"),
    ],
)
def test_manual_interventions_rejects_bad_input(kwargs, fragment):
    kwargs = {"duration_s": 3600.0, **kwargs}
    with pytest.raises(DataError, match="manual_interventions: ") as info:
        manual_interventions_per_hour(**kwargs)
    assert fragment in str(info.value)


def test_setpoint_change_flags():
    # 5 -> 5 no, 5 -> 6 yes, 6 -> 6 no, 6 -> NaN no, NaN -> 6 no (unknown),
    # 6 -> 6.0001 below min_change 0.001: no.
    flags = setpoint_change_flags([5.0, 5.0, 6.0, 6.0, np.nan, 6.0, 6.0001], min_change=1e-3)
    assert_array_equal(flags, [False, False, True, False, False, False, False])
    assert_array_equal(setpoint_change_flags([1.0]), [False])


def test_setpoint_change_flags_rejects_negative_threshold():
    with pytest.raises(DataError, match="manual_interventions: min_change must be"):
        setpoint_change_flags([1.0, 2.0], min_change=-1.0)
