"""The safety projection: limits, rate limits, recovery from outside the limits."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from controllers.advisor import MoveLimitation, project_plan, safe_setpoints

# Rounding of c +/- r and of the distance differences: a few ulps (2.2e-16) of
# the largest operand; 1e-14 leaves a margin of ~40 ulps.
ULP_RTOL = 1e-14


def test_inside_limits_clips_to_rate_and_limits():
    sp, lim = safe_setpoints(
        current=[5.0, 5.0, 5.0, 5.0],
        target=[6.0, 9.0, -3.0, np.nan],
        lower=[0.0, 0.0, 4.5, 0.0],
        upper=[10.0, 10.0, 10.0, 10.0],
        rate=[2.0, 2.0, 2.0, 2.0],
    )
    # Exact: clipping returns one of the operands, no arithmetic on the result.
    assert_allclose(sp, [6.0, 7.0, 4.5, 5.0], rtol=0, atol=0)
    assert lim == (MoveLimitation.NONE, MoveLimitation.RATE, MoveLimitation.LOWER,
                   MoveLimitation.NONE)  # fmt: skip


def test_current_below_limits_moves_up_at_rate_limit():
    # 3 rate steps below the lower limit: full steps 10 -> 12 -> 14 -> 16 (= lower).
    current = 10.0
    trajectory = []
    for _ in range(4):
        sp, lim = safe_setpoints([current], [0.0], [16.0], [20.0], [2.0])
        trajectory.append((sp[0], lim[0]))
        current = sp[0]
    assert [t[0] for t in trajectory] == [12.0, 14.0, 16.0, 16.0]
    assert trajectory[0][1] is MoveLimitation.RECOVERING
    assert trajectory[2][1] is MoveLimitation.LOWER  # reachable: clipped into the limits


def test_current_above_limits_moves_down_and_lands_inside():
    sp, lim = safe_setpoints([21.0], [30.0], [0.0], [20.0], [2.0])
    assert sp[0] == 20.0  # within one step: the nearest value inside the limits
    assert lim[0] is MoveLimitation.UPPER


def test_no_rate_limit_goes_straight_into_limits():
    sp, _ = safe_setpoints([100.0], [5.0], [0.0], [10.0], [math.inf])
    assert sp[0] == 5.0


def test_project_plan_chains_rate_limits():
    plan = project_plan([0.0], [[5.0], [5.0], [5.0], [-5.0]], [-10.0], [10.0], [2.0])
    assert_allclose(plan[:, 0], [2.0, 4.0, 5.0, 3.0], rtol=0, atol=1e-15)  # exact steps


finite = st.floats(-1e6, 1e6, allow_nan=False)
maybe_bad = st.one_of(finite, st.just(math.nan), st.just(math.inf), st.just(-math.inf))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    current=finite,
    target=maybe_bad,
    a=finite,
    b=finite,
    rate=st.one_of(st.floats(1e-6, 1e6), st.just(math.inf)),
)
def test_property_finite_within_rate_and_limits_or_recovering(current, target, a, b, rate):
    lower, upper = min(a, b), max(a, b)
    sp, lim = safe_setpoints([current], [target], [lower], [upper], [rate])
    s = sp[0]
    assert math.isfinite(s)
    scale = max(1.0, abs(current), abs(lower), abs(upper), rate if math.isfinite(rate) else 0.0)
    tol = ULP_RTOL * scale
    assert abs(s - current) <= rate + tol
    if lim[0] is MoveLimitation.RECOVERING:
        # Limits out of reach: a full rate step toward them, distance shrinks by rate.
        dist_before = max(lower - current, current - upper)
        dist_after = max(lower - s, s - upper)
        assert dist_before > rate - tol
        assert abs((dist_before - dist_after) - rate) <= tol
    else:
        assert lower <= s <= upper
