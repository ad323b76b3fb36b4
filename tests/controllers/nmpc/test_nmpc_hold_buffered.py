"""The hold roll-out evaluated into preallocated arrays, its guess shifted in place.

Known answer: casadi's own call of the same roll-out function with the same
guess (the path before the buffers) gives the same numbers to the last bit,
and the next guess is the roll-out's stage states shifted by one interval.
"""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_array_equal

from tests.controllers.nmpc.test_nmpc_cstr import D_NOM, P_NOM, U_OP, _plant, _steady_state
from tests.controllers.nmpc.test_nmpc_sqp import _mpc, _request


def test_buffered_roll_out_equals_casadi_call_and_shifts_its_guess(make_request):
    mpc = _mpc("collocation", sqp_iterations=1)
    hold = mpc._problem.hold
    plant = _plant(P_NOM)
    x, u = _steady_state(U_OP, D_NOM, P_NOM), U_OP.copy()
    for _ in range(2):
        sol = mpc.solve(_request(make_request, mpc, x, u))
        assert sol.status.usable, sol.message
        u = sol.mv_plan[0]
        x = plant(x, u, D_NOM)
    p = mpc._parameters(_request(make_request, mpc, x, u))
    assert hold._guess is not None
    guess = (hold._guess[0].copy(), hold._guess[1].copy())
    cost_ref, cvs_ref, stages, starts = hold.function(p, *guess)
    cost, cvs = hold(p)
    # Same function, same inputs, same arithmetic: bit for bit.
    assert cost == float(cost_ref)
    assert_array_equal(cvs, np.asarray(cvs_ref))
    stages, starts = np.asarray(stages), np.asarray(starts)
    assert_array_equal(hold._guess[0], np.column_stack([stages[:, 1:], stages[:, -1]]))
    assert_array_equal(hold._guess[1], np.column_stack([starts[:, 1:], starts[:, -1]]))
    # The returned CVs are the caller's: the next call does not overwrite them.
    kept = cvs.copy()
    hold(p)
    assert_array_equal(cvs, kept)
    # After a reset the roll-out starts from the cold guess again.
    hold.reset()
    cold = hold._cold_guess(p)
    cost_cold_ref, _, _, _ = hold.function(p, *cold)
    assert hold(p)[0] == float(cost_cold_ref)
