"""fatrop and ipopt on the same NMPC NLP: the same plan, and the ipopt fallback.

The NLP is stage-ordered for fatrop (:mod:`controllers.nmpc.formulation`);
both solvers must reach the same local optimum of it (each to its tolerance
1e-8 on the scaled NLP), on a short Van de Vusse CSTR case with the rate
limit active and a band, with RK4 and with Radau collocation.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.advisor import SolveStatus
from controllers.nmpc import CvSpec, NonlinearMPC
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

#: Dilution rate limited to 1 1/h per interval: the first moves ride it.
RATE = (1.0 * PER_H, np.inf)
CVS = (
    CvSpec("c_b_mol_m3", kind="x", scale=50.0, setpoint=1000.0),
    CvSpec("t_reactor_k", kind="x", scale=2.0, setpoint=387.35, low=380.0, high=388.0),
)
SCALE = np.array([10.0 * PER_H, 1000.0])


def _closed_loop(make_request, solver: str, steps: int = 3, **kw):
    """A short closed loop; returns the controller and each step's full plan."""
    # The NLP solvers themselves: the SQP fast path (test_nmpc_sqp.py) off.
    settings = dataclasses.replace(
        _settings(CVS, rate=RATE, **kw), horizon=8, solver=solver, tolerance=1e-8,
        sqp_iterations=0,
    )  # fmt: skip
    mpc = NonlinearMPC(MODEL, P_NOM, settings)
    plant = _plant(P_NOM)
    x, u = _steady_state(U_OP, D_NOM, P_NOM), U_OP.copy()
    plans = []
    for _ in range(steps):
        request = make_request(mpc.pack_measurements(x, None, D_NOM), u, U_LOW, U_HIGH,
                               np.array(RATE))  # fmt: skip
        sol = mpc.solve(request)
        assert sol.status is SolveStatus.OPTIMAL, sol.message
        plans.append(sol.mv_plan)
        u = sol.mv_plan[0]
        x = plant(x, u, D_NOM)
    return mpc, np.array(plans)


@pytest.mark.parametrize("discretisation", ["rk4", "collocation"])
def test_fatrop_and_ipopt_give_the_same_plan(make_request, discretisation):
    _, plan_ipopt = _closed_loop(make_request, "ipopt", discretisation=discretisation)
    fatrop, plan_fatrop = _closed_loop(make_request, "fatrop", discretisation=discretisation)
    assert fatrop.last_solver == "fatrop"
    assert fatrop.n_fallbacks == 0
    # Both converge to the KKT point of the same NLP to 1e-8 (scaled); the
    # plans (in MV scales, variables of order 1) then agree to about
    # sqrt(1e-8) at worst where the problem is flat; 1e-4 of a scale is far
    # below any move that matters and far above the observed ~1e-7.
    assert_allclose(plan_fatrop / SCALE, plan_ipopt / SCALE, atol=1e-4)
    # The case is not trivial: the rate limit is active at the first move.
    assert_allclose(abs(plan_ipopt[0, 0, 0] - U_OP[0]), RATE[0], rtol=1e-6)


class _FailingSolver:
    """Stands in for fatrop: returns the initial guess with a failure status."""

    def __init__(self, inner):
        self.inner = inner
        self.calls = 0

    def __call__(self, **kwargs):
        self.calls += 1
        result = self.inner(**kwargs)
        return {**result, "x": kwargs["x0"] * np.nan}

    def stats(self):
        return {"return_status": "Injected_Failure", "success": False}


def test_fatrop_failure_falls_back_to_ipopt(make_request):
    mpc, _ = _closed_loop(make_request, "ipopt", steps=1)
    x_ss = _steady_state(U_OP, D_NOM, P_NOM)
    reference = mpc.solve(
        make_request(mpc.pack_measurements(x_ss, None, D_NOM), U_OP, U_LOW, U_HIGH, np.array(RATE))
    )
    settings = dataclasses.replace(mpc.settings, solver="fatrop")
    fast = NonlinearMPC(MODEL, P_NOM, settings)
    failing = _FailingSolver(fast._problem.solver)
    object.__setattr__(fast._problem, "solver", failing)
    request = make_request(
        fast.pack_measurements(x_ss, None, D_NOM), U_OP, U_LOW, U_HIGH, np.array(RATE)
    )
    sol = fast.solve(request)
    assert failing.calls == 1
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    assert fast.last_solver == "ipopt"
    assert fast.n_fallbacks == 1
    assert "Injected_Failure" in sol.message
    assert "ipopt fallback" in sol.message
    # The fallback solves the same NLP: the plan of an ipopt-only controller
    # from the same state (ipopt's tolerance 1e-8, scaled; see above).
    assert_allclose(sol.mv_plan / SCALE, reference.mv_plan / SCALE, atol=1e-4)


def test_without_fallback_the_failure_is_reported(make_request):
    settings = dataclasses.replace(_settings(CVS, rate=RATE), horizon=8, solver="fatrop",
                                   ipopt_fallback=False, sqp_iterations=0)  # fmt: skip
    mpc = NonlinearMPC(MODEL, P_NOM, settings)
    assert mpc._problem.fallback_solver is None
    object.__setattr__(mpc._problem, "solver", _FailingSolver(mpc._problem.solver))
    request = make_request(mpc.pack_measurements(_steady_state(U_OP, D_NOM, P_NOM), None, D_NOM),
                           U_OP, U_LOW, U_HIGH, np.array(RATE))  # fmt: skip
    sol = mpc.solve(request)
    assert sol.status is SolveStatus.FAILED
    assert sol.message == "Injected_Failure"
    assert sol.mv_plan.shape == (0, 2)


def test_a_failing_hold_simulation_keeps_the_plan(make_request):
    """The held-MV simulation can fail (a collocation Newton far from the operating
    point: seen in a 14-day chemical closed loop) where the plan does not: the plan
    is returned, the saving against holding is unknown (inf), never a crash."""
    mpc, _ = _closed_loop(make_request, "ipopt", steps=1)
    x_ss = _steady_state(U_OP, D_NOM, P_NOM)
    request = make_request(
        mpc.pack_measurements(x_ss, None, D_NOM), U_OP, U_LOW, U_HIGH, np.array(RATE)
    )
    reference = mpc.solve(request)

    def failing_hold(_p):
        raise RuntimeError("rootfinder process failed (injected)")

    object.__setattr__(mpc._problem, "hold", failing_hold)
    sol = mpc.solve(request)
    assert sol.status is SolveStatus.OPTIMAL
    assert sol.objective_hold == np.inf
    assert "holding the current MVs not evaluated" in sol.message
    assert "injected" in sol.message
    # The plan is the optimiser's (no hold substitution); warm-started from the
    # reference solve, the same optimum to ipopt's tolerance (1e-8 scaled).
    assert_allclose(sol.mv_plan / SCALE, reference.mv_plan / SCALE, atol=1e-4)
