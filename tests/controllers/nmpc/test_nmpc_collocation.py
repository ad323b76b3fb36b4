"""The NMPC with Radau IIA collocation against the RK4 one on the Van de Vusse CSTR.

Both discretise the same equations; on the CSTR (slowest lag minutes, interval
30 s) both are accurate, so the optimal first move must agree to within the
discretisation error.
"""

from __future__ import annotations

import math

import casadi as ca
import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.advisor import SolveStatus
from controllers.errors import NmpcError
from controllers.nmpc import CvSpec, NmpcSettings, NonlinearMPC
from controllers.nmpc.discretisation import choose_discretisation, reference_point
from plant_models.core.equations import to_casadi
from tests.controllers.nmpc.test_nmpc_cstr import (
    D_NOM,
    MODEL,
    P_NOM,
    TRACK,
    U_HIGH,
    U_LOW,
    U_OP,
    _plant,
    _settings,
    _steady_state,
)

RATE = (np.inf, np.inf)
XS = ca.SX.sym("x", 4)


def _first_moves(make_request, **kw):
    """Closed loop of 10 steps towards c_B = 1000 mol/m3; returns the applied MVs."""
    mpc = NonlinearMPC(MODEL, P_NOM, _settings(TRACK, **kw))
    plant = _plant(P_NOM)
    x, u = _steady_state(U_OP, D_NOM, P_NOM), U_OP.copy()
    applied = []
    for _ in range(10):
        sol = mpc.solve(make_request(mpc.pack_measurements(x, None, D_NOM), u, U_LOW, U_HIGH, RATE))
        assert sol.status is SolveStatus.OPTIMAL, sol.message
        u = sol.mv_plan[0]
        applied.append(u)
        x = plant(x, u, D_NOM)
    return mpc, np.array(applied), x


def test_collocation_tracks_like_rk4(make_request):
    rk4, u_rk4, _ = _first_moves(make_request, discretisation="rk4")
    col, u_col, x_col = _first_moves(make_request, discretisation="collocation",
                                     collocation_degree=2)  # fmt: skip
    assert rk4.discretisation == "rk4"
    assert col.discretisation == "collocation"
    # Same first move: the two predictions differ by the discretisation error
    # of 2-stage Radau IIA (order 3) against RK4 (order 4) at 30 s on lags of
    # minutes, observed below 0.5 % of each MV's scale (10 1/h, 1 kW); 2 % of
    # the scale leaves margin while a move that ignored the model (e.g. the
    # hold or the opposite direction) is off by more than the scale itself.
    scale = np.array([10.0 / 3600.0, 1000.0])
    assert_allclose(u_col[0] / scale, u_rk4[0] / scale, atol=0.02)
    # And it moved: the first move is at least a scale from the operating point.
    assert np.max(np.abs(u_col[0] - U_OP) / scale) > 1.0
    # The whole closed loop agrees to the same tolerance and both converge.
    assert_allclose(u_col / scale, u_rk4 / scale, atol=0.02)
    assert_allclose(x_col[1], 1000.0, atol=5.0)  # 10 intervals: within 5 mol/m3 of 1000


def test_collocation_implicit_euler_and_warm_start(make_request):
    # Degree 1 is implicit Euler (order 1, strongly damped): same direction
    # and a first move within 20 % of RK4's (observed 12 %: implicit Euler
    # predicts a slower response, so it moves harder); the jacket MV sits at
    # its 0 W limit in both (atol 1e-6 of its scale, the solver tolerance).
    _, u_rk4, _ = _first_moves(make_request, discretisation="rk4")
    _, u_ie, _ = _first_moves(make_request, discretisation="collocation", collocation_degree=1,
                              warm_start_dual=False)  # fmt: skip
    scale = np.array([10.0 / 3600.0, 1000.0])
    assert_allclose(u_ie[0] / scale, u_rk4[0] / scale, rtol=0.2, atol=1e-6)


def test_auto_picks_rk4_for_the_mild_cstr():
    # Independent count: RK4 is stable for |lambda h| < 2.785; at the reference
    # point the fastest CSTR mode needs ceil(dt * rho / 2.5) steps: one at the
    # 30 s of the tests above, several over 3000 s.
    x, u, d = reference_point(MODEL, _settings(TRACK))
    jac = ca.Function("j", [XS], [ca.jacobian(to_casadi(MODEL).f(XS, u, d, P_NOM), XS)])
    rho = np.max(np.abs(np.linalg.eigvals(np.asarray(jac(x)))))
    assert math.ceil(30.0 * rho / 2.5) == 1
    needed = math.ceil(3000.0 * rho / 2.5)
    assert needed >= 2
    mvs = _settings(TRACK).mvs
    enough = NmpcSettings(mvs=mvs, cvs=TRACK, dt_s=3000.0, horizon=5, substeps=needed)
    too_few = NmpcSettings(mvs=mvs, cvs=TRACK, dt_s=3000.0, horizon=5, substeps=needed - 1)
    assert choose_discretisation(MODEL, P_NOM, enough) == "rk4"
    assert choose_discretisation(MODEL, P_NOM, too_few) == "collocation"
    forced = NmpcSettings(mvs=mvs, cvs=TRACK, dt_s=3000.0, horizon=5, discretisation="rk4")
    assert choose_discretisation(MODEL, P_NOM, forced) == "rk4"


@pytest.mark.parametrize(
    ("kw", "fragment"),
    [
        ({"discretisation": "euler"}, "discretisation must be one of"),
        ({"collocation_degree": 0}, "collocation_degree must be an integer >= 1"),
    ],
)
def test_bad_discretisation_settings(kw, fragment):
    with pytest.raises(NmpcError, match=fragment):
        NmpcSettings(mvs=_settings(TRACK).mvs, cvs=(CvSpec("c_b_mol_m3", kind="x"),), dt_s=30.0,
                     horizon=5, **kw)  # fmt: skip
