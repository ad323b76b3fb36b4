"""Failure paths of the NMPC: bad settings raise NmpcError; failed solves report a status."""

from __future__ import annotations

import math

import numpy as np
import pytest

from controllers.advisor import Controller, SolveStatus
from controllers.errors import NmpcError
from controllers.nmpc import CvSpec, MvSpec, NmpcSettings, NonlinearMPC, classify_status
from plant_models.units import cstr_vdv

PER_H = 1.0 / 3600.0
MODEL = cstr_vdv.model()
P_NOM = MODEL.pack_parameters(cstr_vdv.CstrVdvParams())
X_OP = np.array([2140.0, 1090.0, 387.35, 386.05])
D_NOM = np.array([378.05])
U_OP = np.array([14.19 * PER_H, -309.3])


LOW = [5 * PER_H, -2000.0]
HIGH = [35 * PER_H, 0.0]
FREE = [np.inf, np.inf]


def _settings(**kw) -> NmpcSettings:
    base = {
        "mvs": (MvSpec("dilution_1_s", scale=10 * PER_H), MvSpec("q_jacket_w", scale=1000.0)),
        "cvs": (CvSpec("c_b_mol_m3", kind="x", scale=50.0, setpoint=1000.0),),
        "dt_s": 30.0,
        "horizon": 5,
        "substeps": 2,
    }
    base.update(kw)
    return NmpcSettings(**base)


@pytest.fixture(scope="module")
def mpc() -> NonlinearMPC:
    return NonlinearMPC(MODEL, P_NOM, _settings())


def test_implements_controller_protocol(mpc):
    assert isinstance(mpc, Controller)
    assert mpc.mv_names == ("dilution_1_s", "q_jacket_w")
    assert mpc.n_measurements == 4 + 0 + 1


def test_infeasible_limits_reported_not_raised(mpc, make_request):
    # The current feed is 30 1/h, the limit 5-10 1/h, the rate 1 1/h per interval:
    # no plan can reach the limits in time.
    request = make_request(
        mpc.pack_measurements(X_OP, None, D_NOM),
        [30 * PER_H, -309.3],
        [5 * PER_H, -2000.0],
        [10 * PER_H, 0.0],
        [1 * PER_H, 100.0],
    )
    sol = mpc.solve(request)
    assert sol.status is SolveStatus.INFEASIBLE, sol.message
    assert sol.mv_plan.shape == (0, 2)
    assert "nfeasible" in sol.message
    # The next (feasible) solve works again from a cold start.
    ok = mpc.solve(make_request(mpc.pack_measurements(X_OP, None, D_NOM), U_OP, LOW, HIGH, FREE))
    assert ok.status is SolveStatus.OPTIMAL


def test_iteration_limit_is_not_optimal(make_request):
    mpc = NonlinearMPC(MODEL, P_NOM, _settings(max_iter=1))
    sol = mpc.solve(make_request(mpc.pack_measurements(X_OP, None, D_NOM), U_OP, LOW, HIGH, FREE))
    assert sol.status in (SolveStatus.SUBOPTIMAL, SolveStatus.FAILED)
    assert "Maximum_Iterations_Exceeded" in sol.message


@pytest.mark.parametrize(
    ("measurements", "valid", "fragment"),
    [
        (np.r_[X_OP, math.nan], None, "invalid"),
        (np.r_[X_OP, 378.0], np.array([True, True, False, True, True]), "invalid"),
        (X_OP, None, "length 5"),
    ],
)
def test_invalid_measurements_fail_without_exception(
    mpc, make_request, measurements, valid, fragment
):
    sol = mpc.solve(
        make_request(
            measurements,
            U_OP,
            [5 * PER_H, -2000.0],
            [35 * PER_H, 0.0],
            [np.inf, np.inf],
            valid=valid,
        )
    )
    assert sol.status is SolveStatus.FAILED
    assert fragment in sol.message


def test_classify_status():
    assert classify_status(True, "Solve_Succeeded", True) is SolveStatus.OPTIMAL
    assert classify_status(False, "Infeasible_Problem_Detected", False) is SolveStatus.INFEASIBLE
    assert classify_status(False, "Maximum_Iterations_Exceeded", True) is SolveStatus.SUBOPTIMAL
    assert classify_status(False, "Maximum_WallTime_Exceeded", False) is SolveStatus.TIMEOUT
    assert classify_status(False, "Invalid_Number_Detected", False) is SolveStatus.FAILED


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda: MvSpec("a", scale=0.0), "scale must be a positive"),
        (lambda: MvSpec("a", low=2.0, high=1.0), "low 2.0 above high 1.0"),
        (lambda: MvSpec("a", rate=0.0), "rate must be positive"),
        (lambda: CvSpec("c", kind="z"), "kind must be 'y' or 'x'"),
        (lambda: CvSpec("c", low=3.0, high=1.0), "band low 3.0 above high 1.0"),
        (lambda: CvSpec("c", priority=0), "priority must be >= 1"),
        (lambda: _settings(horizon=0), "horizon must be an integer >= 1"),
        (lambda: _settings(solver="cplex"), "solver must be one of"),
        (lambda: _settings(mvs=(MvSpec("q_jacket_w"), MvSpec("q_jacket_w"))), "duplicate MV"),
        (lambda: _settings(priority_ratio=1.0), "priority_ratio must be > 1"),
        (lambda: _settings(terminal_weight=((1.0, 0.0),)), "terminal_weight must be 1 x 1"),
        (
            lambda: NonlinearMPC(MODEL, P_NOM, _settings(mvs=(MvSpec("nope"),))),
            "no u variable 'nope'",
        ),
        (lambda: NonlinearMPC(MODEL, P_NOM[:3], _settings()), "parameters must be a finite"),
        (
            lambda: NonlinearMPC(MODEL, P_NOM, _settings(fixed_inputs={"dilution_1_s": 0.001})),
            "also an MV",
        ),
    ],
)
def test_bad_settings_raise(build, fragment):
    with pytest.raises(NmpcError, match=fragment):
        build()


def test_setpoint_changes_without_rebuild(mpc, make_request):
    with pytest.raises(NmpcError, match="unknown CV"):
        mpc.set_setpoints({"t_reactor_k": 380.0})
    mpc.set_setpoints({"c_b_mol_m3": 1050.0})
    try:
        sol = mpc.solve(
            make_request(mpc.pack_measurements(X_OP, None, D_NOM), U_OP, LOW, HIGH, FREE)
        )
        assert sol.status is SolveStatus.OPTIMAL
        assert sol.cv_predicted[-1, 0] > 1040.0  # heading for the new setpoint
    finally:
        mpc.set_setpoints({"c_b_mol_m3": 1000.0})
