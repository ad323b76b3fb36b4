"""hpipm's Riccati factorisation in the fast path: Cholesky with an LQ fallback.

The fast path builds hpipm in robust mode with ``lq_fact=1`` (Cholesky,
switching to LQ when it loses accuracy) instead of robust mode's ``lq_fact=2``
(LQ always), for 0.89x the QP's CPU time on the chemical flowsheet.  The
step must be robust mode's own to round-off, here on the condensed QP of a
warm real-time iteration of the Van de Vusse CSTR.
"""

from __future__ import annotations

import casadi as ca
import numpy as np
from numpy.testing import assert_allclose

from controllers.nmpc.sqp import HPIPM_OPTIONS
from tests.controllers.nmpc.test_nmpc_cstr import D_NOM, P_NOM, U_OP, _plant, _steady_state
from tests.controllers.nmpc.test_nmpc_sqp import _mpc, _request


def test_cholesky_with_lq_fallback_gives_the_lq_step(make_request):
    mpc = _mpc(sqp_iterations=1)
    plant = _plant(P_NOM)
    x, u = _steady_state(U_OP, D_NOM, P_NOM), U_OP.copy()
    for _ in range(2):  # after a setpoint step: the plan still moves
        sol = mpc.solve(_request(make_request, mpc, x, u))
        u = sol.mv_plan[0]
        x = plant(x, u, D_NOM)
    sqp = mpc._sqp
    assert sqp is not None
    assert sqp.qp_options["hpipm"]["lq_fact"] == HPIPM_OPTIONS["lq_fact"] == 1
    assert sqp.qp_options["hpipm"]["mode"] == "robust"
    # The QP of the next step, from the shifted plan as the controller builds it.
    request = _request(make_request, mpc, x, u)
    p = mpc._parameters(request)
    z = mpc._initial_guess(p, np.asarray(request.mv_current, float))
    h, q, a, lba, uba, lbx, ubx, _ = sqp.linearise(
        ca.DM(z), p, mpc._lbz, mpc._ubz, mpc._lbg, mpc._ubg
    )
    data = {"h": h, "g": q, "a": a, "lba": lba, "uba": uba, "lbx": lbx, "ubx": ubx}
    lq_options = dict(sqp.qp_options, hpipm=dict(sqp.qp_options["hpipm"], lq_fact=2))
    lq = ca.conic("lq_always", "hpipm", {"h": sqp.h_sparsity, "a": sqp.a_sparsity}, lq_options)
    fast = np.array(sqp.qp(**data)["x"]).ravel()
    assert sqp.qp.stats()["success"]
    fast_iterations = sqp.qp.stats()["iter_count"]
    exact = np.array(lq(**data)["x"]).ravel()
    assert lq.stats()["success"]
    assert np.max(np.abs(exact)) > 1e-6  # a step that moves something
    # Same interior-point iterates with two factorisations of the same
    # matrices: they differ by round-off amplified by the KKT conditioning
    # (2.5e-16 on the flowsheet); steps are of order 1 in scaled variables.
    assert_allclose(fast, exact, rtol=0.0, atol=1e-10)
    assert fast_iterations == lq.stats()["iter_count"]
