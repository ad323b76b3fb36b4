"""Reuse between NMPC steps: the warm-started hold roll-out and the cached QP bounds.

Each reused result is checked against the fresh computation on the same
request (known answer: the cold roll-out of :mod:`controllers.nmpc.hold` is
the one the NMPC computed before the warm start existed).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.nmpc.sqp import _cached_dm
from tests.controllers.nmpc.test_nmpc_cstr import D_NOM, P_NOM, U_OP, _plant, _steady_state
from tests.controllers.nmpc.test_nmpc_sqp import _mpc, _request


@pytest.mark.parametrize("discretisation", ["collocation", "rk4"])
def test_warm_hold_equals_the_fresh_one(make_request, discretisation):
    """After three closed-loop steps the hold roll-out starts from the previous
    one's stage states: its cost and CVs equal the cold roll-out's."""
    mpc = _mpc(discretisation, sqp_iterations=1)
    hold = mpc._problem.hold
    plant = _plant(P_NOM)
    x, u = _steady_state(U_OP, D_NOM, P_NOM), U_OP.copy()
    for _ in range(3):
        sol = mpc.solve(_request(make_request, mpc, x, u))
        assert sol.status.usable, sol.message
        u = sol.mv_plan[0]
        x = plant(x, u, D_NOM)
    if discretisation == "collocation":
        # Not trivial: a warm start is held and it is not the cold guess.
        assert hold._guess is not None
        cold = hold._cold_guess(mpc._parameters(_request(make_request, mpc, x, u)))
        assert np.max(np.abs(hold._guess[0] - cold[0])) > 1e-3
    p = mpc._parameters(_request(make_request, mpc, x, u))
    cost_fresh, cvs_fresh = hold.fresh(p)
    cost_warm, cvs_warm = hold(p)
    # Both Newton runs stop at a scaled collocation residual below 1e-10; the
    # converged points then differ by about that times the Jacobian's
    # conditioning: 1e-8 relative bounds it (observed ~1e-11).
    assert_allclose(cost_warm, cost_fresh, rtol=1e-8)
    assert_allclose(cvs_warm, cvs_fresh, rtol=1e-8)


def test_reset_forgets_the_hold_warm_start(make_request):
    mpc = _mpc("collocation", sqp_iterations=1)
    x = _steady_state(U_OP, D_NOM, P_NOM)
    mpc.solve(_request(make_request, mpc, x, U_OP))
    assert mpc._problem.hold._guess is not None
    mpc.reset()
    assert mpc._problem.hold._guess is None


def test_cached_bounds_are_reused_only_while_equal():
    cache: dict = {}
    values = np.array([-np.inf, 0.0, 1.5])
    first = _cached_dm(cache, "lbx", values)
    # Same numbers (a new array): the same casadi matrix, no conversion.
    assert _cached_dm(cache, "lbx", values.copy()) is first
    # The caller may change its array in place: the cache kept a copy.
    values[2] = 2.5
    second = _cached_dm(cache, "lbx", values)
    assert second is not first
    assert_allclose(np.array(second).ravel(), [-np.inf, 0.0, 2.5], rtol=0)  # exact copy
    assert_allclose(np.array(first).ravel(), [-np.inf, 0.0, 1.5], rtol=0)
