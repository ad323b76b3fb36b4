"""The LP/QP target layer on a 2x2 linear gain plant, against answers solved by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.advisor import SolveStatus
from controllers.errors import TargetError
from controllers.targets import (
    SteadyStateTargets,
    TargetCv,
    TargetMv,
    TargetSettings,
    steady_state_gains,
)
from tests.controllers.targets.plants import INTEGRATING, LINEAR, P_LINEAR, K

X0 = np.zeros(2)
U0 = np.zeros(2)
D0 = np.zeros(1)


def _settings(cvs, method="lp", max_move=math.inf, **kw) -> TargetSettings:
    # Maximise throughput u1 + u2 (price -1 each), 0 <= u <= 10.
    mvs = (
        TargetMv("u1", 0.0, 10.0, price=-1.0, max_move=max_move),
        TargetMv("u2", 0.0, 10.0, price=-1.0, max_move=max_move),
    )
    return TargetSettings(mvs=mvs, cvs=cvs, method=method, **kw)


LIMITS = (TargetCv("y1", high=6.0), TargetCv("y2", high=5.0))


def test_gains_of_the_linear_plant_are_exact():
    gains = steady_state_gains(LINEAR, P_LINEAR, [0.3, -0.2], [1.0, 2.0], [0.5])
    # Steady state by hand: x1 = u1 + 0.5 u2 + d1 = 2.5, x2 = 0.25 u1 + u2 = 2.25;
    # G = -g_x f_x^{-1} f_u + g_u = K and dy/dd = (1, 0).  Round-off only (1e-12).
    assert_allclose(gains.x_base, [2.5, 2.25], rtol=1e-12)
    assert_allclose(gains.mv_gain, K, rtol=1e-12, atol=1e-15)
    assert_allclose(gains.disturbance_gain, [[1.0], [0.0]], atol=1e-15)
    x, y = gains.predict([2.0, 2.0], [1.0])
    # Linear plant: the prediction is exact (K [1, 0] + [0.5, 0] added), to round-off.
    assert_allclose(y, [4.0, 2.5], rtol=1e-12)
    assert_allclose(x, y, rtol=1e-12)


@pytest.mark.parametrize("method", ["lp", "qp", "rto"])
def test_hand_solved_lp_vertex(method):
    # max u1 + u2 s.t. u1 + 0.5 u2 <= 6, 0.25 u1 + u2 <= 5: the vertex of the
    # two CV limits, 0.875 u1 = 3.5 -> u = (4, 4), y = (6, 5); the other
    # vertices (6, 0) and (0, 5) give 6 and 5 < 8.
    layer = SteadyStateTargets(LINEAR, P_LINEAR, _settings(LIMITS, method))
    res = layer.compute(X0, U0, D0)
    assert res.status is SolveStatus.OPTIMAL, res.message
    # HiGHS solves the LP/QP to 1e-9; ipopt meets the limits to its 1e-8 tolerance.
    assert_allclose(res.mv_targets, [4.0, 4.0], rtol=1e-7)
    assert_allclose(res.cv_targets, [6.0, 5.0], rtol=1e-7)
    assert_allclose(res.x_steady, [6.0, 5.0], rtol=1e-7)
    assert res.objective == pytest.approx(-8.0, rel=1e-7)
    assert res.active_constraints == ("y1.upper", "y2.upper")
    assert res.relaxed_constraints == ()
    assert res.n_solves == 2  # the violation check, then the economics


def test_targets_move_gradually_to_the_vertex():
    layer = SteadyStateTargets(LINEAR, P_LINEAR, _settings(LIMITS, max_move=1.0))
    u = U0.copy()
    path = []
    for _ in range(6):
        res = layer.compute(X0, u, D0)
        assert res.status is SolveStatus.OPTIMAL, res.message
        path.append(res.mv_targets)
        # The plant lags behind: its MVs stay at zero, the moves count from the previous target.
    # By hand: (1, 1), (2, 2), (3, 3), then the vertex (4, 4) is reached; held after.
    assert_allclose(np.array(path), [[1, 1], [2, 2], [3, 3], [4, 4], [4, 4], [4, 4]], atol=1e-9)
    first = SteadyStateTargets(LINEAR, P_LINEAR, _settings(LIMITS, max_move=1.0)).compute(
        X0, U0, D0
    )
    assert first.active_constraints == ("u1.move", "u2.move")


@pytest.mark.parametrize(
    ("priority_y1", "priority_y2", "relaxed", "targets", "violation"),
    [
        # y2 <= 1.5 first: u1 <= 6 - 4 u2, so y1 = u1 + 0.5 u2 <= 6 (at u = (6, 0));
        # y1 >= 8 is given up by 2.
        (2, 1, "y1.lower", (6.0, 0.0), 2.0),
        # y1 >= 8 first: min y2 = 0.25 u1 + u2 s.t. u1 + 0.5 u2 >= 8 is 2 at
        # u = (8, 0); y2 <= 1.5 is given up by 0.5.
        (1, 2, "y2.upper", (8.0, 0.0), 0.5),
    ],
)
def test_conflicting_limits_give_up_the_lower_priority(
    priority_y1, priority_y2, relaxed, targets, violation
):
    cvs = (
        TargetCv("y1", low=8.0, priority=priority_y1),
        TargetCv("y2", high=1.5, priority=priority_y2),
    )
    res = SteadyStateTargets(LINEAR, P_LINEAR, _settings(cvs)).compute(X0, U0, D0)
    assert res.status is SolveStatus.OPTIMAL, res.message
    assert res.relaxed_constraints == (relaxed,)
    # Hand-solved vertices.  The economic stage may use the 1e-8 (x 1.5)
    # margin on the given-up rank's minimum violation, which moves u1 by up
    # to 4 x 1.5e-8 (y2 = 0.25 u1): 1e-7 covers it.
    assert_allclose(res.mv_targets, targets, atol=1e-7)
    assert res.violations[relaxed] == pytest.approx(violation, abs=1e-7)
    assert relaxed in res.active_constraints
    assert res.n_solves == 4  # all ranks, rank 1, rank 2, economics


def test_priority_dominates_whatever_the_scale():
    # With weights, a tiny scale on the rank-2 limit (1e-6) would make its
    # violation look a million times larger than rank 1's; lexicographic
    # ranks still keep the rank-1 limit.
    cvs = (
        TargetCv("y1", low=8.0, priority=2, scale=1e-6),
        TargetCv("y2", high=1.5, priority=1, scale=1e3),
    )
    res = SteadyStateTargets(LINEAR, P_LINEAR, _settings(cvs)).compute(X0, U0, D0)
    assert res.relaxed_constraints == ("y1.lower",)
    assert res.cv_target("y2") <= 1.5 + 1e-9


def test_disturbance_shifts_the_targets():
    # A measured d1 = 2 adds 2 to y1: the vertex moves to u1 + 0.5 u2 = 4,
    # 0.25 u1 + u2 = 5 -> u1 = 1.5 / 0.875, u2 = 5 - 0.25 u1.
    res = SteadyStateTargets(LINEAR, P_LINEAR, _settings(LIMITS)).compute(X0, U0, [2.0])
    u1 = 1.5 / 0.875
    assert_allclose(res.mv_targets, [u1, 5.0 - 0.25 * u1], rtol=1e-9)  # HiGHS round-off


@pytest.mark.parametrize(
    ("method", "weight", "expected"),
    [
        # Only u1 is priced; lowering u2 frees y1 for u1 (u1 = 6 - 0.5 u2 at
        # y1 <= 6), worth 0.5 per unit of u2.  LP, |u2 - 3| at 1 per unit:
        # the ideal wins, u = (4.5, 3); at 0.1 per unit the economics win, (6, 0).
        ("lp", 1.0, (4.5, 3.0)),
        ("lp", 0.1, (6.0, 0.0)),
        # QP, (u2 - 3)**2: d/du2 of -(6 - 0.5 u2) + (u2 - 3)**2 = 0 -> u2 = 2.75.
        ("qp", 1.0, (6.0 - 0.5 * 2.75, 2.75)),
    ],
)
def test_ideal_resting_value_against_economics(method, weight, expected):
    mvs = (
        TargetMv("u1", 0.0, 10.0, price=-1.0),
        TargetMv("u2", 0.0, 10.0, ideal=3.0, ideal_weight=weight),
    )
    cvs = (TargetCv("y1", high=6.0), TargetCv("y2", high=10.0))
    st = TargetSettings(mvs=mvs, cvs=cvs, method=method)
    res = SteadyStateTargets(LINEAR, P_LINEAR, st).compute(X0, U0, D0)
    assert res.status is SolveStatus.OPTIMAL, res.message
    # Hand-solved; HiGHS's LP and QP solutions are exact to about 1e-9.
    assert_allclose(res.mv_targets, expected, atol=1e-8)


def test_integrating_plant_reports_failure_and_holds():
    st = TargetSettings(
        mvs=(TargetMv("u1", 0.0, 1.0, price=-1.0), TargetMv("u2", 0.0, 1.0)),
        cvs=(TargetCv("y1", high=5.0),),
    )
    layer = SteadyStateTargets(INTEGRATING, [], st)
    res = layer.compute([1.0], [0.5, 0.5], None)
    assert res.status is SolveStatus.FAILED
    assert "no steady state" in res.message or "singular" in res.message
    assert_allclose(res.mv_targets, [0.5, 0.5], atol=0.0)  # held exactly
    assert np.all(np.isnan(res.cv_targets))
    assert layer.previous_targets is None
    with pytest.raises(TargetError, match="integrates"):
        layer._steady.gains(np.array([1.0]), np.array([0.5, 0.5]), np.zeros(0), np.zeros(0))


def test_crossing_request_limits_report_infeasible():
    layer = SteadyStateTargets(LINEAR, P_LINEAR, _settings(LIMITS))
    res = layer.compute(X0, U0, D0, mv_lower=[5.0, 0.0], mv_upper=[4.0, 10.0])
    assert res.status is SolveStatus.INFEASIBLE
    assert "u1" in res.message


def test_bad_inputs_raise():
    layer = SteadyStateTargets(LINEAR, P_LINEAR, _settings(LIMITS))
    with pytest.raises(TargetError, match="x_hat must be 2 finite values"):
        layer.compute([0.0], U0, D0)
    with pytest.raises(TargetError, match="u_current must be 2 finite values"):
        layer.compute(X0, [np.nan, 0.0], D0)
    with pytest.raises(TargetError, match="d must be 1 finite values"):
        layer.compute(X0, U0, None)
    with pytest.raises(TargetError, match="parameters must be a finite vector of length 4"):
        SteadyStateTargets(LINEAR, [1.0], _settings(LIMITS))
    with pytest.raises(TargetError, match="no u variable 'u9'"):
        SteadyStateTargets(LINEAR, P_LINEAR, TargetSettings(mvs=(TargetMv("u9"),), cvs=LIMITS))
    with pytest.raises(TargetError, match="no y variable 'x1'"):
        SteadyStateTargets(LINEAR, P_LINEAR, _settings((TargetCv("x1"),)))
    with pytest.raises(TargetError, match="u must be 2 finite values"):
        steady_state_gains(LINEAR, P_LINEAR, X0, [1.0], D0)
