"""The NMPC on a linear discrete-time model: equal to the LQR and to the reference linear MPC.

With CV weights ``Q`` on the states, MV target weights ``R`` (target 0), no
move suppression and the terminal weight ``P - Q`` (``P`` the discrete
algebraic Riccati solution), the NMPC's objective equals the reference
:class:`~controllers.advisor.LinearMPC` objective
``sum x_k' Q x_k + u_k' R u_k + x_N' P x_N`` up to the constant ``x_0' Q x_0``,
so its first move is the LQR feedback ``-K x_0`` when no limit is active
and the reference MPC's plan when some are.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from numpy.testing import assert_allclose

from controllers.advisor import LinearMPC, LinearMPCSettings, SolveStatus
from controllers.nmpc import CvSpec, MvSpec, NmpcSettings, NonlinearMPC
from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.mathfuncs import zeros

A3 = np.array([[1.1, 0.3, 0.0], [0.0, 0.9, 0.2], [0.1, 0.0, 0.95]])  # open-loop unstable
B3 = np.array([[0.0, 1.0], [0.5, 0.0], [0.2, 0.3]])
Q3 = np.diag([1.0, 2.0, 0.5])
R3 = np.diag([0.3, 0.7])
P3 = scipy.linalg.solve_discrete_are(A3, B3, Q3, R3)
K3 = np.linalg.solve(R3 + B3.T @ P3 @ B3, B3.T @ P3 @ A3)


@equation
def _f(x, u, d, p):
    x_next = zeros(3)
    for i in range(3):
        for j in range(3):
            x_next[i] = x_next[i] + float(A3[i, j]) * x[j]
        for j in range(2):
            x_next[i] = x_next[i] + float(B3[i, j]) * u[j]
    return x_next


@equation
def _g(x, u, d, p):
    return zeros(0)


LINEAR = EquationModel(
    name="linear3",
    f=_f,
    g=_g,
    states=tuple(Variable(f"x{i + 1}", "dimensionless", f"state {i + 1}") for i in range(3)),
    inputs=(Variable("u1", "dimensionless", "input 1"), Variable("u2", "dimensionless", "input 2")),
    disturbances=(),
    outputs=(),
    parameters=(),
    dt_s=1.0,
)


def _nmpc(horizon: int) -> NonlinearMPC:
    settings = NmpcSettings(
        mvs=tuple(
            MvSpec(f"u{i + 1}", move_weight=0.0, target=0.0, target_weight=R3[i, i])
            for i in range(2)
        ),
        cvs=tuple(CvSpec(f"x{j + 1}", kind="x", setpoint=0.0, weight=Q3[j, j]) for j in range(3)),
        dt_s=1.0,
        horizon=horizon,
        terminal_weight=tuple(tuple(row) for row in (P3 - Q3)),
        tolerance=1e-10,
    )
    return NonlinearMPC(LINEAR, np.zeros(0), settings)


@pytest.mark.parametrize("horizon", [1, 8])
def test_unconstrained_first_move_equals_lqr(horizon, make_request):
    mpc = _nmpc(horizon)
    x0 = np.array([1.0, -2.0, 0.5])
    sol = mpc.solve(make_request(x0, [0.0, 0.0], [-1e6] * 2, [1e6] * 2, [np.inf] * 2))
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    # Required 1e-5; ipopt solves this QP to tol 1e-10 on the scaled NLP.
    assert_allclose(sol.mv_plan[0], -K3 @ x0, atol=1e-5)
    # Bellman: the reference objective x0' P x0 minus the constant stage-0 term x0' Q x0.
    assert_allclose(sol.objective, x0 @ P3 @ x0 - x0 @ Q3 @ x0, rtol=1e-6)
    # Predicted states follow the model (shooting gaps closed to ipopt's 1e-10).
    pred = sol.cv_predicted
    assert_allclose(pred[1:], pred[:-1] @ A3.T + sol.mv_plan @ B3.T, atol=1e-8)
    assert sol.objective_hold > sol.objective  # holding zero input is worse
    assert sol.active_constraints == ()


def test_constrained_plan_equals_reference_mpc(make_request):
    horizon = 8
    reference = LinearMPC(
        LinearMPCSettings(A3, B3, Q3, R3, horizon, ("u1", "u2"), ("x1", "x2", "x3"))
    )
    x0 = np.array([1.0, -2.0, 0.5])
    request = make_request(x0, [0.0, 0.0], [-0.8, -0.5], [0.8, 0.5], [0.4, 0.3])
    ref = reference.solve(request)
    sol = _nmpc(horizon).solve(request)
    assert ref.status is SolveStatus.OPTIMAL
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    # Required 1e-5; HiGHS' QP tolerance (1e-7) and ipopt's 1e-10 leave ~1e-7.
    assert_allclose(sol.mv_plan, ref.mv_plan, atol=1e-5)
    assert_allclose(sol.objective, ref.objective - x0 @ Q3 @ x0, rtol=1e-6)
    assert "u1.rate" in sol.active_constraints
    # Rate limits hold exactly (the plan is projected onto them).
    moves = np.diff(np.vstack([[0.0, 0.0], sol.mv_plan]), axis=0)
    assert np.all(np.abs(moves) <= [0.4, 0.3])
