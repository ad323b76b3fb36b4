"""The reference linear MPC: LQR equivalence, constraints, infeasibility diagnosis."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from numpy.testing import assert_allclose

from controllers.advisor import LinearMPC, LinearMPCSettings, SolveStatus
from controllers.errors import AdvisorError

A3 = np.array([[1.1, 0.3, 0.0], [0.0, 0.9, 0.2], [0.1, 0.0, 0.95]])  # open-loop unstable
B3 = np.array([[0.0, 1.0], [0.5, 0.0], [0.2, 0.3]])
Q3 = np.diag([1.0, 2.0, 0.5])
R3 = np.diag([0.3, 0.7])


@pytest.mark.parametrize("horizon", [1, 8])
def test_unconstrained_first_move_equals_lqr(horizon, make_request):
    mpc = LinearMPC(LinearMPCSettings(A3, B3, Q3, R3, horizon, ("u1", "u2"), ("x1", "x2", "x3")))
    P = scipy.linalg.solve_discrete_are(A3, B3, Q3, R3)
    K = np.linalg.solve(R3 + B3.T @ P @ B3, B3.T @ P @ A3)
    x0 = np.array([1.0, -2.0, 0.5])
    sol = mpc.solve(make_request(x0, [0.0, 0.0], [-1e6] * 2, [1e6] * 2, [np.inf] * 2))
    assert sol.status is SolveStatus.OPTIMAL
    # Required 1e-6; HiGHS' QP optimality tolerance (1e-7) leaves ~1e-7.
    assert_allclose(sol.mv_plan[0], -K @ x0, atol=1e-6)
    # With the Riccati terminal weight the optimal cost is x0' P x0 (Bellman).
    assert_allclose(sol.objective, x0 @ P @ x0, rtol=1e-6)
    # Predicted states follow the model exactly (equality constraints, 1e-9 primal tol).
    pred = sol.cv_predicted
    assert_allclose(pred[1:], pred[:-1] @ A3.T + sol.mv_plan @ B3.T, atol=1e-8)
    assert sol.objective_hold > sol.objective  # holding zero input is worse


def test_input_and_rate_limits_respected_and_named(di_mpc, make_request):
    sol = di_mpc.solve(make_request([4.0, 0.0], [0.0], [-1.0], [1.0], [0.3]))
    assert sol.status is SolveStatus.OPTIMAL
    moves = np.diff(np.concatenate([[0.0], sol.mv_plan[:, 0]]))
    # Solver primal feasibility tolerance 1e-7.
    assert np.all(np.abs(moves) <= 0.3 + 1e-7)
    assert np.all(np.abs(sol.mv_plan) <= 1.0 + 1e-7)
    assert "force.rate" in sol.active_constraints
    assert_allclose(sol.mv_plan[0, 0], -0.3, atol=1e-7)  # pushes back as fast as allowed


def test_infeasible_state_limit_diagnosed(di_mpc, make_request):
    # Position 4.9 moving at +3 per s with |force| <= 0.1: it must cross 5.
    request = make_request([4.9, 3.0], [0.0], [-0.1], [0.1], [np.inf])
    sol = di_mpc.solve(request)
    assert sol.status is SolveStatus.INFEASIBLE
    diagnosis = di_mpc.diagnose(request)
    assert set(diagnosis.conflicting) == {"position.upper", "force.lower"}


def test_invalid_state_measurement_fails(di_mpc, make_request):
    request = make_request([np.nan, 0.0], [0.0], [-1.0], [1.0], [1.0])
    sol = di_mpc.solve(request)
    assert sol.status is SolveStatus.FAILED
    assert "invalid" in sol.message


def test_bad_matrix_rejected():
    with pytest.raises(AdvisorError, match="B must be"):
        LinearMPC(LinearMPCSettings(A3, B3[:, :1], Q3, R3, 5, ("u1", "u2"), ("a", "b", "c")))


def test_per_interval_limits_and_whole_horizon_hold(di_mpc, make_request):
    from controllers.advisor import solve_baseline

    lower = np.full((10, 1), -1.0)
    upper = np.full((10, 1), 1.0)
    lower[:3] = upper[:3] = 0.2  # force held at 0.2 over the first 3 intervals
    request = make_request([1.0, 0.0], [0.2], lower, upper, [np.inf])
    sol = di_mpc.solve(request)
    assert sol.status is SolveStatus.OPTIMAL
    # Equal bounds are met exactly by HiGHS (a fixed variable).
    assert_allclose(sol.mv_plan[:3, 0], 0.2, rtol=0, atol=1e-12)
    assert "force.lower" in sol.active_constraints
    bad = make_request([1.0, 0.0], [0.2], np.zeros((3, 1)), np.ones((3, 1)), [np.inf])
    failed = di_mpc.solve(bad)
    assert failed.status is SolveStatus.FAILED
    assert "MV limits must have shape (1,) or (10, 1)" in failed.message
    # Holding the only MV over the whole horizon leaves nothing to optimise: the
    # baseline objective is the hold objective simulated by LinearMPC.hold_objective
    # (plain numpy rollout); HiGHS' QP tolerance on the states, ~1e-7 relative.
    free = make_request([1.0, 0.0], [0.0], [-1.0], [1.0], [np.inf])
    plan = di_mpc.solve(free)
    base = solve_baseline(
        di_mpc, free, plan.mv_plan, ("force",), (), interval_s=1.0, tolerance=1e-6,
        diagnose=True,
    )  # fmt: skip
    assert base.comparable, base.reason
    assert_allclose(base.objective, di_mpc.hold_objective([1.0, 0.0], [0.0]), rtol=1e-6)
    assert base.objective >= plan.objective
    # Holding a force of 0.2 accelerates the mass through the position limit 5
    # within 10 s: the baseline is infeasible and the diagnosis names why.
    pushed = make_request([1.0, 0.0], [0.2], [-1.0], [1.0], [np.inf])
    plan = di_mpc.solve(pushed)
    base = solve_baseline(
        di_mpc, pushed, plan.mv_plan, ("force",), (), interval_s=1.0, tolerance=1e-6,
        diagnose=True,
    )  # fmt: skip
    assert not base.comparable
    assert set(base.violated_constraints) == {"force.lower", "position.upper"}
    assert "over the whole horizon is infeasible (conflicting constraints: " in base.reason
