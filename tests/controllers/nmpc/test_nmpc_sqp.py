"""The NMPC's fast path: Gauss-Newton SQP on a structured QP (hpipm), with NLP fallback.

Known answers: iterated to convergence the SQP reaches the plan ipopt finds
for the same NLP (its fixed points are the NLP's KKT points); with CVs that
are states the Gauss-Newton Hessian is the exact Hessian of the objective
(casadi's own).  Failure paths: an injected QP failure and a point that
violates the constraints both go to ipopt, and no plan ever holds a NaN or a
move beyond the limits or rate limits.
"""

from __future__ import annotations

import dataclasses

import casadi as ca
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from controllers.advisor import SolveStatus
from controllers.errors import NmpcError
from controllers.nmpc import CvSpec, NonlinearMPC
from controllers.nmpc.buffered import BufferedFunction
from controllers.nmpc.formulation import build_problem
from controllers.nmpc.sqp import _gauss_newton
from tests.controllers.nmpc.test_nmpc_cstr import (
    D_NOM,
    MODEL,
    P_NOM,
    PER_H,
    U_HIGH,
    U_LOW,
    U_OP,
    _plant,
    _settings,
    _steady_state,
)

#: Dilution rate limited to 1 1/h per interval (active at the first moves).
RATE = np.array([1.0 * PER_H, np.inf])
#: The c_B setpoint 1000 mol/m3 is below the operating point's 1090: every step moves.
CVS = (
    CvSpec("c_b_mol_m3", kind="x", scale=50.0, setpoint=1000.0),
    CvSpec("t_reactor_k", kind="x", scale=2.0, setpoint=387.35, low=380.0, high=388.0),
)
SCALE = np.array([10.0 * PER_H, 1000.0])


def _mpc(discretisation: str = "collocation", **kw) -> NonlinearMPC:
    base = _settings(CVS, rate=tuple(RATE), discretisation=discretisation)
    return NonlinearMPC(MODEL, P_NOM, dataclasses.replace(base, horizon=8, **kw))


def _request(make_request, mpc, x, u, low=U_LOW, high=U_HIGH, rate=RATE):
    return make_request(mpc.pack_measurements(x, None, D_NOM), u, low, high, rate)


@pytest.mark.parametrize("discretisation", ["rk4", "collocation"])
def test_iterated_sqp_reaches_the_nlp_plan(make_request, discretisation):
    """From the same previous solution, 40 SQP iterations give ipopt's plan."""
    fast = _mpc(discretisation, sqp_iterations=40)
    exact = _mpc(discretisation, sqp_iterations=0)
    plant = _plant(P_NOM)
    x, u = _steady_state(U_OP, D_NOM, P_NOM), U_OP.copy()
    for step in range(3):
        sol_fast = fast.solve(_request(make_request, fast, x, u))
        sol_exact = exact.solve(_request(make_request, exact, x, u))
        assert sol_fast.status is SolveStatus.OPTIMAL, sol_fast.message
        assert fast.last_solver == ("ipopt" if step == 0 else "sqp")
        # Both reach the same KKT point: ipopt to its tolerance 1e-8 (scaled
        # NLP), the SQP until its step is below 1e-9; plans of order 1 in MV
        # scales then agree far inside 1e-5 (observed ~1e-7).
        assert_allclose(sol_fast.mv_plan / SCALE, sol_exact.mv_plan / SCALE, atol=1e-5)
        assert_allclose(sol_fast.objective, sol_exact.objective, rtol=1e-6)
        # Predicted CVs (from the SQP's own evaluation on the fast path): the
        # same plans give the same predictions, to 1e-6 of each CV's scale.
        assert_allclose(sol_fast.cv_predicted / [50.0, 2.0], sol_exact.cv_predicted / [50.0, 2.0],
                        atol=1e-6)  # fmt: skip
        u = sol_exact.mv_plan[0]
        x = plant(x, u, D_NOM)
    assert fast.n_sqp_solves == 2
    assert fast.n_sqp_fallbacks == 0
    # Not trivial: the rate limit of the dilution rate is active in the plans.
    assert "dilution_1_s.rate" in sol_exact.active_constraints


def test_real_time_iteration_tracks_like_the_nlp(make_request):
    """One SQP iteration per sample: each first move within 1 % of an MV scale of
    ipopt's from the same state, and the same closed loop to 0.1 mol/m3."""
    fast = _mpc(sqp_iterations=1)
    exact = _mpc(sqp_iterations=0)
    same = _mpc(sqp_iterations=0)
    plant = _plant(P_NOM)
    x_fast = x_exact = _steady_state(U_OP, D_NOM, P_NOM)
    u_fast, u_exact = U_OP.copy(), U_OP.copy()
    worst = 0.0
    for _ in range(25):
        sol = fast.solve(_request(make_request, fast, x_fast, u_fast))
        assert sol.status is SolveStatus.OPTIMAL, sol.message
        # ipopt on the same request.
        ref = same.solve(_request(make_request, same, x_fast, u_fast))
        worst = max(worst, float(np.max(np.abs(sol.mv_plan[0] - ref.mv_plan[0]) / SCALE)))
        u_fast = sol.mv_plan[0]
        x_fast = plant(x_fast, u_fast, D_NOM)
        u_exact = exact.solve(_request(make_request, exact, x_exact, u_exact)).mv_plan[0]
        x_exact = plant(x_exact, u_exact, D_NOM)
    # The first warm steps, with the largest moves, violate the model
    # equations by about 2e-4 after one iteration, above sqp_max_residual
    # 1e-4: ipopt answers those; the rest is real-time iteration.
    assert fast.n_sqp_solves + fast.n_sqp_fallbacks == 24
    assert fast.n_sqp_solves >= 20
    # The real-time iteration lags the optimum by one Gauss-Newton step from
    # the shifted plan (second order in the step): 1 % of an MV scale bounds it
    # (observed ~1e-3 while the setpoint is approached, ~1e-6 at rest).
    assert worst < 0.01
    assert_allclose(x_fast[1], x_exact[1], atol=0.1)  # c_B [mol/m3]
    assert_allclose(x_fast[1], 1000.0, atol=1.0)  # near its setpoint after 12.5 min


class _FailingQp:
    """Stands in for hpipm: a failure status and NaNs."""

    def __init__(self, inner):
        self.inner = inner
        self.calls = 0

    def __call__(self, **kwargs):
        self.calls += 1
        result = self.inner(**kwargs)
        return {**result, "x": result["x"] * np.nan}

    def stats(self):
        return {"return_status": 3, "success": False}


def test_qp_failure_falls_back_to_the_nlp(make_request):
    x_ss = _steady_state(U_OP, D_NOM, P_NOM)
    fast, exact = _mpc(), _mpc(sqp_iterations=0)
    fast.solve(_request(make_request, fast, x_ss, U_OP))
    exact.solve(_request(make_request, exact, x_ss, U_OP))
    failing = _FailingQp(fast._sqp.qp)
    object.__setattr__(fast._sqp, "qp", failing)
    x1 = _plant(P_NOM)(x_ss, U_OP, D_NOM)
    sol = fast.solve(_request(make_request, fast, x1, U_OP))
    ref = exact.solve(_request(make_request, exact, x1, U_OP))
    assert failing.calls == 1
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    assert fast.last_solver == "ipopt"
    assert (fast.n_sqp_solves, fast.n_sqp_fallbacks) == (0, 1)
    assert "hpipm QP failed (nan)" in sol.message
    # The fallback solves the same NLP from the same guess as the ipopt-only
    # controller (ipopt's tolerance 1e-8, scaled; see test_nmpc_solvers.py).
    assert_allclose(sol.mv_plan / SCALE, ref.mv_plan / SCALE, atol=1e-4)
    assert np.all(np.isfinite(sol.mv_plan))


def test_a_violating_point_falls_back_to_the_nlp(make_request):
    """A tolerance no Gauss-Newton step meets: every warm solve goes to ipopt."""
    mpc = _mpc(sqp_max_residual=1e-300)
    x = _steady_state(U_OP, D_NOM, P_NOM)
    mpc.solve(_request(make_request, mpc, x, U_OP))
    sol = mpc.solve(_request(make_request, mpc, _plant(P_NOM)(x, U_OP, D_NOM), U_OP))
    assert sol.status is SolveStatus.OPTIMAL
    assert mpc.last_solver == "ipopt"
    assert mpc.n_sqp_fallbacks == 1
    assert "above 1.0e-300" in sol.message


def test_fast_path_off_builds_nothing():
    mpc = _mpc(sqp_iterations=0)
    assert mpc._sqp is None
    assert mpc.sqp_unavailable == ""


@pytest.mark.parametrize(
    ("kw", "fragment"),
    [
        ({"sqp_iterations": -1}, "sqp_iterations must be an integer >= 0"),
        ({"sqp_iterations": 1.5}, "sqp_iterations must be an integer >= 0"),
        ({"sqp_iterations": True}, "sqp_iterations must be an integer >= 0"),
        ({"sqp_max_residual": 0.0}, "sqp_max_residual must be a positive"),
        ({"sqp_max_residual": float("nan")}, "sqp_max_residual must be a positive"),
    ],
)
def test_bad_sqp_settings_raise(kw, fragment):
    with pytest.raises(NmpcError, match=fragment):
        _settings(CVS, **kw)


def test_gauss_newton_is_the_exact_hessian_for_state_cvs():
    """CVs that are states are linear in the decision vector: the Gauss-Newton
    Hessian and gradient are then casadi's exact ones of the objective."""
    settings = dataclasses.replace(_settings(CVS, discretisation="collocation"), horizon=4)
    prob = build_problem(MODEL, P_NOM, settings, ())
    hess, grad = _gauss_newton(prob)
    exact_hess, exact_grad = ca.hessian(prob.f, prob.z)
    f = ca.Function("f", [prob.z, prob.p], [hess, grad, exact_hess, exact_grad])
    rng = np.random.default_rng(3)
    z = rng.normal(size=prob.layout.n_z)
    p = np.abs(rng.normal(size=prob.p.numel())) + 0.5
    h_gn, g_gn, h_ex, g_ex = (np.asarray(v) for v in f(z, p))
    # Same expressions up to rounding: 1e-9 relative to the largest entry.
    assert_allclose(h_gn, h_ex, atol=1e-9 * np.max(np.abs(h_ex)))
    assert_allclose(g_gn, g_ex, atol=1e-9 * np.max(np.abs(g_ex)))


def test_buffered_function_matches_a_direct_call():
    """The zero-copy evaluation keeps nothing from a previous call."""
    x = ca.MX.sym("x", 3)
    a = ca.MX.sym("a", 3, 3)
    fun = ca.Function("f", [x, a], [ca.solve(a, x, "lapacklu", {}), ca.sumsqr(x)], ["x", "a"],
                      ["y", "s"])  # fmt: skip
    buffered = BufferedFunction(fun)
    rng = np.random.default_rng(1)
    for _ in range(3):
        xv, av = rng.normal(size=3), rng.normal(size=(3, 3)) + 3 * np.eye(3)
        out = buffered(x=xv, a=av.ravel(order="F"))
        y_ref, s_ref = fun(xv, av)
        # Same machine code on the same numbers: equal to rounding.
        assert_allclose(out["y"], np.asarray(y_ref).ravel(), rtol=1e-14)
        assert_allclose(out["s"], float(s_ref), rtol=1e-14)
        assert_allclose(out["y"], np.linalg.solve(av, xv), rtol=1e-10)


_PLANT = _plant(P_NOM)


@pytest.fixture(scope="module")
def rti_mpc() -> NonlinearMPC:
    return _mpc(sqp_iterations=1)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    dc_b=st.floats(-150.0, 150.0),
    d_t=st.floats(-3.0, 3.0),
    u0=st.floats(6.0, 30.0),
    width=st.floats(0.5, 20.0),
    rate_h=st.floats(0.05, 3.0),
)
def test_plan_is_finite_and_inside_limits_and_rates(
    make_request, rti_mpc, dc_b, d_t, u0, width, rate_h
):
    """Random states, limits and rates: whatever path answers, the plan is finite
    and honours the limits and rate limits exactly (or no plan is returned)."""
    x_ss = _steady_state(U_OP, D_NOM, P_NOM)
    x = x_ss + np.array([0.0, dc_b, d_t, d_t])
    u = np.array([u0 * PER_H, U_OP[1]])
    low = np.array([max(5.0, u0 - width) * PER_H, U_LOW[1]])
    high = np.array([min(35.0, u0 + width) * PER_H, U_HIGH[1]])
    rate = np.array([rate_h * PER_H, 500.0])
    for _ in range(2):  # the second solve starts warm: the fast path
        sol = rti_mpc.solve(_request(make_request, rti_mpc, x, u, low, high, rate))
        if not sol.status.usable:
            assert sol.mv_plan.shape[0] == 0
            continue
        plan = sol.mv_plan
        assert np.all(np.isfinite(plan))
        assert np.all(plan >= low)
        assert np.all(plan <= high)
        moves = np.diff(np.vstack([u, plan]), axis=0)
        assert np.all(np.abs(moves) <= rate)
        u = plan[0]
        x = _PLANT(x, u, D_NOM)
