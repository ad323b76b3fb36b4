"""Infeasibility diagnosis by elastic L1 relaxation of named constraint groups."""

from __future__ import annotations

import casadi as ca
import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.advisor import ConstraintGroup, find_conflicting_constraints
from controllers.errors import AdvisorError


def test_lp_names_exactly_the_two_contradictory_groups():
    x = ca.SX.sym("x", 2)
    groups = [
        ConstraintGroup("x0 >= 2", x[0], lower=2.0),
        ConstraintGroup("x0 <= 1", x[0], upper=1.0),
        ConstraintGroup("sum <= 5", x[0] + x[1], upper=5.0),
        ConstraintGroup("x1 box", x[1], lower=-1.0, upper=1.0),
    ]
    result = find_conflicting_constraints(x, groups)
    assert set(result.conflicting) == {"x0 >= 2", "x0 <= 1"}
    assert not result.feasible
    # The unit gap is shared by the two groups; HiGHS' QP tolerance is ~1e-4 on
    # how it is split, but the total must be the gap itself.
    total = result.slack_by_group["x0 >= 2"] + result.slack_by_group["x0 <= 1"]
    assert_allclose(total, 1.0, rtol=1e-6)  # the L1 optimum is exactly the gap
    assert result.slack_by_group["sum <= 5"] == 0.0


def test_group_with_zero_slack_but_limiting_the_repair_is_named():
    # Relaxing "x0 >= 2" costs 1 per unit of x0, relaxing "2 x0 <= 2" costs 2:
    # the optimum puts all slack on the first; the second is still in the conflict.
    x = ca.SX.sym("x")
    groups = [
        ConstraintGroup("a", x, lower=2.0),
        ConstraintGroup("b", 2 * x, upper=2.0),
        ConstraintGroup("c", x, upper=10.0),
    ]
    result = find_conflicting_constraints(x, groups)
    assert set(result.conflicting) == {"a", "b"}
    assert_allclose(result.slack_by_group["a"], 1.0, rtol=1e-6)  # x = 1 exactly


def test_feasible_problem_names_nothing():
    x = ca.SX.sym("x", 2)
    groups = [
        ConstraintGroup("lo", x, lower=[0.0, 0.0]),
        ConstraintGroup("hi", x, upper=[1.0, 1.0]),
        ConstraintGroup("eq", x[0] - x[1], lower=0.0, upper=0.0),
    ]
    result = find_conflicting_constraints(x, groups)
    assert result.conflicting == ()
    assert result.feasible


def test_qp_with_parameters_and_opti_variables():
    opti = ca.Opti()
    y = opti.variable(2)
    p = opti.parameter()
    groups = [
        ConstraintGroup("model", y[0] - p * y[1], lower=0.0, upper=0.0, relax=False),
        ConstraintGroup("y0 max", y[0], upper=1.0),
        ConstraintGroup("y1 min", y[1], lower=1.0),
        ConstraintGroup("y0 min", y[0], lower=-5.0),
    ]
    # y0 = 3 y1 with y1 >= 1 forces y0 >= 3 > 1: conflict of the two relaxable bounds.
    result = find_conflicting_constraints(y, groups, parameters=p, parameter_values=[3.0])
    assert set(result.conflicting) == {"y0 max", "y1 min"}
    # With p = 0.5 the same groups are compatible (y1 = 1, y0 = 0.5).
    ok = find_conflicting_constraints(y, groups, parameters=p, parameter_values=[0.5])
    assert ok.conflicting == ()


def test_nonlinear_conflict_names_both_groups():
    x = ca.SX.sym("x", 2)
    groups = [
        ConstraintGroup("disc", x[0] ** 2 + x[1] ** 2, upper=1.0),
        ConstraintGroup("x0 >= 2", x[0], lower=2.0),
        ConstraintGroup("x1 >= -3", x[1], lower=-3.0),
    ]
    result = find_conflicting_constraints(x, groups, initial_guess=[1.0, 0.0])
    assert set(result.conflicting) == {"disc", "x0 >= 2"}


def test_duplicate_names_rejected():
    x = ca.SX.sym("x")
    with pytest.raises(AdvisorError, match="unique"):
        find_conflicting_constraints(
            x, [ConstraintGroup("a", x, lower=0.0), ConstraintGroup("a", x, upper=1.0)]
        )


def test_infeasible_hard_groups_raise():
    x = ca.SX.sym("x")
    groups = [
        ConstraintGroup("hard lo", x, lower=2.0, relax=False),
        ConstraintGroup("hard hi", x, upper=1.0, relax=False),
        ConstraintGroup("soft", x, upper=5.0),
    ]
    with pytest.raises(AdvisorError, match="hard"):
        find_conflicting_constraints(x, groups)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"name": "", "expression": 0}, "non-empty"),
        ({"name": "g", "expression": 0, "weight": 0.0}, "weight"),
    ],
)
def test_bad_group_rejected(kwargs, fragment):
    with pytest.raises(AdvisorError, match=fragment):
        ConstraintGroup(**kwargs)


def test_nan_bound_rejected():
    x = ca.SX.sym("x")
    with pytest.raises(AdvisorError, match="NaN"):
        find_conflicting_constraints(x, [ConstraintGroup("g", x, lower=np.nan)])


def test_minimal_filter_drops_groups_that_only_price_the_repair():
    # u0 must reach x >= 3 from u_prev = 0 with u <= 1 (the conflict); the
    # rate limit |u0| <= 10 only matters if u <= 1 is relaxed.  Both
    # {"x >= 3", "u <= 1"} is the irreducible set; the rate group is not in it.
    u = ca.SX.sym("u")
    groups = [
        ConstraintGroup("x >= 3", 2.0 * u, lower=6.0),
        ConstraintGroup("u <= 1", u, upper=1.0),
        ConstraintGroup("rate", u, lower=-10.0, upper=10.0),
        ConstraintGroup("unrelated", u, lower=-50.0),
    ]
    result = find_conflicting_constraints(u, groups)
    assert set(result.conflicting) == {"x >= 3", "u <= 1"}
    raw = find_conflicting_constraints(u, groups, minimal=False)
    assert {"x >= 3", "u <= 1"} <= set(raw.conflicting)


def test_minimal_filter_returns_one_of_two_irreducible_sets():
    # a: x >= 2 conflicts with both b: x <= 1 and c: x <= 0.5; the union is
    # not minimal; any irreducible subset has a and exactly one of b, c.
    x = ca.SX.sym("x")
    groups = [
        ConstraintGroup("a", x, lower=2.0),
        ConstraintGroup("b", x, upper=1.0),
        ConstraintGroup("c", x, upper=0.5),
    ]
    found = set(find_conflicting_constraints(x, groups).conflicting)
    assert found in ({"a", "b"}, {"a", "c"})
