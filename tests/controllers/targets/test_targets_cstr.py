"""RTO and LP/QP targets on the Van de Vusse CSTR against an independent scipy optimum."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize
from numpy.testing import assert_allclose

from controllers.advisor import SolveStatus
from controllers.targets import SteadyStateTargets, TargetCv, TargetMv, TargetSettings
from tests.controllers.targets.plants import (
    COST_FEED_PER_M3,
    COST_HEAT_PER_J,
    CSTR,
    CSTR_PARAMS,
    D_CSTR,
    P_CSTR,
    PER_H,
    U_OP,
    VALUE_B_PER_MOL,
    X_OP,
    cstr_profit,
    cstr_steady_state,
)

D_LOW, D_HIGH = 5.0 * PER_H, 35.0 * PER_H
Q_LOW, Q_HIGH = -8500.0e3 * PER_H, 0.0


def cstr_settings(method: str, *, move_d=np.inf, move_q=np.inf, move_weight=0.0):
    """Profit = value of B produced - feed cost - heat-removal cost (minimised as its negative)."""
    return TargetSettings(
        mvs=(
            TargetMv(
                "dilution_1_s",
                D_LOW,
                D_HIGH,
                price=COST_FEED_PER_M3 * CSTR_PARAMS.volume_m3,
                scale=10.0 * PER_H,
                max_move=move_d,
                move_weight=move_weight,
            ),
            TargetMv(
                "q_jacket_w", Q_LOW, Q_HIGH, scale=1000.0, max_move=move_q, move_weight=move_weight
            ),
        ),
        cvs=(
            TargetCv("production_b_mol_s", price=-VALUE_B_PER_MOL, scale=0.01),
            TargetCv("heat_removed_w", price=COST_HEAT_PER_J, scale=1000.0),
            TargetCv("t_reactor_k", kind="x", scale=1.0),
            TargetCv("c_b_mol_m3", kind="x", scale=50.0),
        ),
        method=method,
        objective_scale=0.01,
    )


def _scipy_optimum() -> tuple[float, float, float, float]:
    """Independent optimum: SLSQP over (F/V [1/h], T [K]) on the closed-form steady state."""

    def profit(z: np.ndarray) -> float:
        dil = z[0] * PER_H
        _, c_b, q = cstr_steady_state(dil, z[1])
        return cstr_profit(dil, c_b, q)

    def q_limits(z: np.ndarray) -> np.ndarray:
        q = cstr_steady_state(z[0] * PER_H, z[1])[2]
        return np.array([Q_HIGH - q, q - Q_LOW]) / 1000.0

    res = scipy.optimize.minimize(
        lambda z: -100.0 * profit(z),
        x0=[14.19, 387.35],
        bounds=[(5.0, 35.0), (330.0, 410.0)],
        constraints=[{"type": "ineq", "fun": q_limits}],
        method="SLSQP",
        options={"ftol": 1e-15, "maxiter": 500},
    )
    assert res.success, res.message
    dil = res.x[0] * PER_H
    _, c_b, q = cstr_steady_state(dil, res.x[1])
    return dil, q, res.x[1], c_b


def test_rto_matches_independent_scipy_optimum():
    layer = SteadyStateTargets(CSTR, P_CSTR, cstr_settings("rto"))
    res = layer.compute(X_OP, U_OP, D_CSTR)
    assert res.status is SolveStatus.OPTIMAL, res.message
    dil, q, temp, c_b = _scipy_optimum()
    # Observed optimum: F/V = 30.536 1/h, no cooling (Q_K at its 0 limit),
    # T = 387.75 K, c_B = 981.3 mol/m3.  The profit is flat at the optimum
    # (second order), so SLSQP's 1e-15 objective tolerance fixes F/V only to
    # about 1e-5 relative: compare MVs at 1e-4 relative, the CVs (smooth
    # functions of them) at 1e-5, and the profit at 1e-8 (observed 2.6e-9:
    # SLSQP stops that close to the optimum).
    assert_allclose(res.mv_target("dilution_1_s"), dil, rtol=1e-4)
    # Q_K at its 0 W limit to ipopt's bound tolerance (1e-8 of the 1 kW scale).
    assert res.mv_target("q_jacket_w") == pytest.approx(0.0, abs=1e-5)
    assert q == pytest.approx(0.0, abs=1e-3)
    assert_allclose(res.cv_target("t_reactor_k"), temp, rtol=1e-5)
    assert_allclose(res.cv_target("c_b_mol_m3"), c_b, rtol=1e-5)
    assert_allclose(-res.objective, cstr_profit(dil, c_b, q), rtol=1e-8)
    assert res.active_constraints == ("q_jacket_w.upper",)
    # The RTO's steady state satisfies the closed form at its own (F/V, T) (ipopt 1e-9 scaled).
    c_a, c_b_cf, q_cf = cstr_steady_state(res.mv_targets[0], res.x_steady[2])
    assert_allclose(res.x_steady[:2], [c_a, c_b_cf], rtol=1e-7)
    assert q_cf == pytest.approx(res.mv_targets[1], abs=1e-4)


def test_gains_match_finite_differences_of_the_closed_form():
    layer = SteadyStateTargets(CSTR, P_CSTR, cstr_settings("lp", move_d=0.5 * PER_H, move_q=50.0))
    res = layer.compute(X_OP, U_OP, D_CSTR)
    gains = res.gains
    assert gains is not None

    # dc_B/d(F/V) at fixed Q_K by central differences on casadi-free
    # steady states (Newton on T from the closed form): step 1e-3 1/h gives
    # a truncation error ~1e-6 relative; compare at 1e-4.
    def c_b_at(dil: float) -> float:
        temp = scipy.optimize.brentq(
            lambda t: cstr_steady_state(dil, t)[2] - U_OP[1], 370.0, 400.0, xtol=1e-13
        )
        return cstr_steady_state(dil, temp)[1]

    h = 1e-3 * PER_H
    slope = (c_b_at(U_OP[0] + h) - c_b_at(U_OP[0] - h)) / (2 * h)
    j = layer.cv_names.index("c_b_mol_m3")
    assert_allclose(gains.mv_gain[j, 0], slope, rtol=1e-4)


def test_qp_at_the_rto_optimum_stays_and_lp_agrees_to_first_order():
    rto = SteadyStateTargets(CSTR, P_CSTR, cstr_settings("rto")).compute(X_OP, U_OP, D_CSTR)
    moves = {"move_d": 0.2 * PER_H, "move_q": 20.0}
    # QP with a small move penalty at the optimum's linearisation: the
    # economic gradient vanishes there, so the QP hardly moves.  Observed
    # 0.001 1/h (HiGHS's QP stops at its own optimality tolerance, about 1e-4
    # in scaled units); 0.005 1/h is 2.5 % of the 0.2 1/h move limit the LP
    # may use, so the check still tells the two apart.
    qp = SteadyStateTargets(CSTR, P_CSTR, cstr_settings("qp", move_weight=0.3, **moves))
    qp.reset(rto.mv_targets)
    res_qp = qp.compute(rto.x_steady, rto.mv_targets, D_CSTR)
    assert res_qp.status is SolveStatus.OPTIMAL, res_qp.message
    assert_allclose(res_qp.mv_targets, rto.mv_targets, atol=0.005 * PER_H)
    assert "q_jacket_w.upper" in res_qp.active_constraints
    # LP: same active MV limit, and since the reduced gradient is zero its
    # predicted objective equals the RTO's to first order: a move of at most
    # 0.2 1/h changes the linear objective by < 1e-9 of it.
    lp = SteadyStateTargets(CSTR, P_CSTR, cstr_settings("lp", **moves))
    lp.reset(rto.mv_targets)
    res_lp = lp.compute(rto.x_steady, rto.mv_targets, D_CSTR)
    assert res_lp.status is SolveStatus.OPTIMAL, res_lp.message
    assert "q_jacket_w.upper" in res_lp.active_constraints
    assert np.all(np.abs(res_lp.mv_targets - rto.mv_targets) <= [0.2 * PER_H + 1e-15, 20.0])
    assert_allclose(res_lp.objective, rto.objective, rtol=1e-6)
    # ... and its linear CV prediction matches the nonlinear steady state at
    # its targets to second order in the small move (observed ~1e-6 relative).
    check = SteadyStateTargets(CSTR, P_CSTR, cstr_settings("rto", move_d=1e-9, move_q=1e-6))
    check.reset(res_lp.mv_targets)
    nonlinear = check.compute(res_lp.x_steady, res_lp.mv_targets, D_CSTR)
    assert_allclose(res_lp.cv_targets, nonlinear.cv_targets, rtol=1e-4, atol=1e-6)


def test_sequential_qp_settles_on_the_rto_optimum():
    rto = SteadyStateTargets(CSTR, P_CSTR, cstr_settings("rto")).compute(X_OP, U_OP, D_CSTR)
    qp = SteadyStateTargets(
        CSTR, P_CSTR, cstr_settings("qp", move_d=4.0 * PER_H, move_q=300.0, move_weight=0.3)
    )
    x, u = X_OP, U_OP
    for _ in range(25):
        res = qp.compute(x, u, D_CSTR)
        assert res.status is SolveStatus.OPTIMAL, res.message
        x, u = res.x_steady, res.mv_targets
    # Relinearised each step with a damping move penalty the QP converges to
    # the nonlinear optimum (observed within 1e-5 1/h after 25 steps).
    assert_allclose(u, rto.mv_targets, atol=1e-3 * PER_H)
