"""Mode-scheduled tuning of the NMPC without a rebuild, and infeasibility diagnosis."""

from __future__ import annotations

import time

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.advisor import DiagnosingController, SolveStatus
from controllers.errors import NmpcError
from controllers.nmpc import CvSpec, NonlinearMPC
from controllers.nmpc.tuning import NmpcTuning
from tests.controllers.nmpc.test_nmpc_cstr import (
    D_NOM,
    MODEL,
    P_NOM,
    TRACK,
    U_HIGH,
    U_LOW,
    U_OP,
    _settings,
    _steady_state,
)

PER_H = 1.0 / 3600.0
FREE = np.array([np.inf, np.inf])
SCALE = np.array([10.0 * PER_H, 1000.0])  # MV scales of _settings [1/s, W]


@pytest.fixture(scope="module")
def x_op():
    return _steady_state(U_OP, D_NOM, P_NOM)


def _first_move(mpc, make_request, x_op):
    sol = mpc.solve(make_request(mpc.pack_measurements(x_op, None, D_NOM), U_OP, U_LOW, U_HIGH,
                                 FREE))  # fmt: skip
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    return (sol.mv_plan[0] - U_OP) / SCALE


def test_heavier_move_suppression_gives_smaller_first_move_without_rebuild(make_request, x_op):
    # Tracking c_B 1000 mol/m3 from the steady state at 1090: the light
    # tuning (move weight 0.01) and a heavy one (100x) on one controller.
    mpc = NonlinearMPC(MODEL, P_NOM, _settings(TRACK))
    light = _first_move(mpc, make_request, x_op)
    start = time.perf_counter()
    mpc.set_tuning({"move_weight": np.array([1.0, 1.0])})
    switch_s = time.perf_counter() - start
    mpc.reset()
    heavy = _first_move(mpc, make_request, x_op)
    # No rebuild: one generation of the NLP, and the switch takes well under
    # a millisecond against the build's tenth of a second or more.
    assert mpc.n_builds == 1
    assert switch_s < 0.05 * mpc.build_time_s
    # Move suppression 100x heavier: the first move is smaller in every MV
    # and overall (observed 0.67 of the light one; 0.8 leaves margin for the
    # solver tolerance while a tuning that were ignored gives exactly 1).
    assert np.all(np.abs(heavy) < np.abs(light))
    assert np.linalg.norm(heavy) < 0.8 * np.linalg.norm(light)
    # Independent check: a controller built with the heavy weight gives the
    # same plan (same NLP, same parameters) to the solver tolerance (1e-6 of
    # the MV scales, ipopt converged to 1e-8 scaled).
    rebuilt = NonlinearMPC(MODEL, P_NOM, _settings(TRACK, move_weight=1.0))
    assert_allclose(_first_move(rebuilt, make_request, x_op), heavy, atol=1e-6)


def test_unchanged_tuning_is_bumpless(make_request, x_op):
    # Setting the tuning already in force changes nothing: the plans of two
    # identical controllers, one of them re-tuned between solves, are equal
    # bit for bit (same parameters, same warm start).
    a = NonlinearMPC(MODEL, P_NOM, _settings(TRACK))
    b = NonlinearMPC(MODEL, P_NOM, _settings(TRACK))
    for _ in range(2):
        ma = _first_move(a, make_request, x_op)
        b.set_tuning(b.tuning)
        b.set_tuning({"cv_weight": b.tuning.cv_weight})
        mb = _first_move(b, make_request, x_op)
        assert np.array_equal(ma, mb)


def test_setpoint_and_band_tuning(make_request, x_op):
    # Moving the c_B setpoint by tuning equals set_setpoints (one path).
    mpc = NonlinearMPC(MODEL, P_NOM, _settings(TRACK))
    mpc.set_tuning({"setpoint": np.array([1050.0, 387.35])})
    assert mpc.tuning.setpoint[0] == 1050.0
    via_tuning = _first_move(mpc, make_request, x_op)
    other = NonlinearMPC(MODEL, P_NOM, _settings(TRACK))
    other.set_setpoints({"c_b_mol_m3": 1050.0})
    assert np.array_equal(via_tuning, _first_move(other, make_request, x_op))


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"nonsense": [1.0]}, "unknown tuning key"),
        ({"move_weight": [1.0]}, "must have shape"),
        ({"move_weight": [-1.0, 1.0]}, "move_weight must be finite and >= 0"),
        ({"band_weight": [0.0, 1.0]}, "band_weight must be finite and > 0"),
        ({"setpoint": [np.nan, 387.35]}, "needs a finite setpoint"),
        ({"band_low": [900.0, -np.inf]}, "not appear or vanish"),
    ],
)
def test_bad_tuning_raises(values, fragment):
    mpc = NonlinearMPC(MODEL, P_NOM, _settings(TRACK))
    before = mpc.tuning
    with pytest.raises(NmpcError, match=fragment):
        mpc.set_tuning(values)
    assert mpc.tuning is before  # nothing half-applied


def test_band_can_move_but_not_appear():
    zone = (CvSpec("c_b_mol_m3", kind="x", scale=50.0, low=900.0, high=1150.0),)
    tuning = NmpcTuning.from_settings(_settings(zone))
    moved = tuning.replace({"band_low": [950.0], "band_high": [1100.0]})
    params = moved.parameters((0, 0), ("c_b_mol_m3.lower", "c_b_mol_m3.upper"), ("c_b_mol_m3",))
    # setpoint (none -> 0), low, high, MV targets (none -> 0, 0), cv weight 0,
    # the two band prices (100 each, one rank), move weights, target weights.
    assert_allclose(params, [0.0, 950.0, 1100.0, 0.0, 0.0, 0.0, 100.0, 100.0, 0.01, 0.01, 0.0,
                             0.0])  # fmt: skip
    with pytest.raises(NmpcError, match=r"low .* above band_high"):
        tuning.replace({"band_low": [1200.0]})


def test_diagnose_names_the_conflicting_limit_and_rate(make_request, x_op):
    # The feed is at 30 1/h, its limit 5-10 1/h and its rate 1 1/h per
    # interval: the upper limit and the rate limit conflict; the jacket's
    # limits are loose and must not be named.
    mpc = NonlinearMPC(MODEL, P_NOM, _settings(TRACK))
    assert isinstance(mpc, DiagnosingController)
    request = make_request(
        mpc.pack_measurements(x_op, None, D_NOM),
        [30 * PER_H, -309.3],
        [5 * PER_H, -2000.0],
        [10 * PER_H, 0.0],
        [1 * PER_H, 100.0],
    )
    assert mpc.solve(request).status is SolveStatus.INFEASIBLE
    diagnosis = mpc.diagnose(request)
    assert set(diagnosis.conflicting) == {"dilution_1_s.upper", "dilution_1_s.rate"}
    assert not diagnosis.feasible
    # A feasible request: nothing conflicts.
    ok = make_request(mpc.pack_measurements(x_op, None, D_NOM), U_OP, U_LOW, U_HIGH, FREE)
    assert mpc.diagnose(ok).conflicting == ()


def test_diagnose_rejects_bad_request(make_request, x_op):
    mpc = NonlinearMPC(MODEL, P_NOM, _settings(TRACK))
    bad = make_request(np.r_[x_op, np.nan], U_OP, U_LOW, U_HIGH, FREE)
    with pytest.raises(NmpcError, match="finite values"):
        mpc.diagnose(bad)
