"""EKF and MHE on the Van de Vusse CSTR (Klatt and Engell 1998 parameters).

The "plant" is the same equations integrated by casadi's CVODES at tight
tolerances (an integrator independent of the estimators' RK4 map), with
Gaussian measurement noise from a fixed seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.errors import EstimationError
from controllers.estimation import (
    DisturbanceState,
    EstimationStatus,
    ExtendedKalmanFilter,
    Measurement,
    MheSettings,
    MovingHorizonEstimator,
    ParameterState,
    augment,
)
from plant_models.core.equations import to_casadi
from plant_models.units import cstr_vdv

MODEL = cstr_vdv.model()
P = MODEL.pack_parameters(cstr_vdv.CstrVdvParams())
DT_S = 18.0  # 0.005 h, the sampling interval of the do-mpc CSTR example
N_STEPS = 120
U0 = np.array([14.19 / 3600.0, -2000.0])  # F/V of the GUIDE's operating point [1/s], Q_K [W]
D0 = np.array([403.15])  # feed temperature [K]
MEAS_STD = np.array([5.0, 0.2, 0.2])  # c_B [mol/m3], T [K], T_K [K]
MEASUREMENTS = (
    Measurement("c_b_mol_m3", MEAS_STD[0]),
    Measurement("t_reactor_k", MEAS_STD[1]),
    Measurement("t_jacket_k", MEAS_STD[2]),
)
K10 = MODEL.index("p", "k10_1_s")


@dataclass(frozen=True)
class Run:
    u: np.ndarray
    d: np.ndarray
    x: np.ndarray  # true states at the end of each interval
    y: np.ndarray
    x_start: np.ndarray


def _steady_state(casadi, cas):
    xs = casadi.SX.sym("x", 4)
    root = casadi.rootfinder("ss", "newton", casadi.Function("r", [xs], [cas.f(xs, U0, D0, P)]))
    return np.asarray(root([2100.0, 1000.0, 385.0, 380.0])).ravel()


def _truth(heat_offset_w: np.ndarray, k10: np.ndarray, seed: int) -> Run:
    import casadi

    cas = to_casadi(MODEL)
    x, u, d, p = (casadi.SX.sym(k, n) for k, n in (("x", 4), ("u", 2), ("d", 1), ("p", 17)))
    integ = casadi.integrator(
        "truth",
        "cvodes",
        {"x": x, "p": casadi.vertcat(u, d, p), "ode": cas.f(x, u, d, p)},
        0.0,
        DT_S,
        {"abstol": 1e-10, "reltol": 1e-10},
    )
    u_seq = np.tile(U0, (N_STEPS, 1))
    u_seq[25:, 0] *= 1.2  # throughput step excites the kinetics
    u_seq[70:, 1] = -2500.0
    d_seq = np.tile(D0, (N_STEPS, 1))
    x_k = _steady_state(casadi, cas)
    x_start = x_k.copy()
    xs = []
    for k in range(N_STEPS):
        p_k = P.copy()
        p_k[K10] = k10[k]
        u_true = u_seq[k] + np.array([0.0, heat_offset_w[k]])
        x_k = np.asarray(integ(x0=x_k, p=np.r_[u_true, d_seq[k], p_k])["xf"]).ravel()
        xs.append(x_k)
    x_arr = np.array(xs)
    rng = np.random.default_rng(seed)
    y = x_arr[:, 1:] + rng.normal(size=(N_STEPS, 3)) * MEAS_STD
    return Run(u_seq, d_seq, x_arr, y, x_start)


@pytest.fixture(scope="module")
def nominal() -> Run:
    return _truth(np.zeros(N_STEPS), np.full(N_STEPS, P[K10]), seed=11)


@pytest.fixture(scope="module")
def heat_step() -> Run:
    offset = np.zeros(N_STEPS)
    offset[40:] = -300.0  # unmeasured extra jacket cooling (fouled valve, wrong meter) [W]
    return _truth(offset, np.full(N_STEPS, P[K10]), seed=12)


@pytest.fixture(scope="module")
def k10_drift() -> Run:
    # Catalyst activity drifts +10 % between steps 20 and 80, then holds.
    ramp = np.clip((np.arange(N_STEPS) - 20) / 60.0, 0.0, 1.0)
    return _truth(np.zeros(N_STEPS), P[K10] * (1.0 + 0.10 * ramp), seed=13)


def _augmented(**extra):
    return augment(
        MODEL,
        P,
        DT_S,
        measurements=MEASUREMENTS,
        state_std_per_step=[5.0, 5.0, 0.05, 0.05],
        initial_state_std=[500.0, 100.0, 1.0, 1.0],
        substeps=2,
        **extra,
    )


def _run(estimator, run: Run):
    return [estimator.step(run.u[k], run.d[k], run.y[k]) for k in range(N_STEPS)]


@pytest.mark.parametrize("kind", ["ekf", "mhe"])
def test_unmeasured_concentration_of_a_is_estimated(nominal, kind):
    aug = _augmented()
    x0 = nominal.x_start * np.array([1.3, 1.0, 1.0, 1.0])  # c_A guessed 30 % (~440 mol/m3) high
    est = (
        ExtendedKalmanFilter(aug, x0)
        if kind == "ekf"
        else MovingHorizonEstimator(aug, x0, MheSettings(horizon=8))
    )
    estimates = _run(est, nominal)
    c_a = np.array([e.x[0] for e in estimates])
    assert abs(c_a[0] - nominal.x[0, 0]) > 200.0  # the initial error is real
    # From step 30 on, c_A is known to within 1 % of its ~1500 mol/m3 value:
    # c_B is measured to 5 mol/m3 and the kinetics tie c_A to it and to the
    # reaction heat seen in T.
    assert_allclose(c_a[30:], nominal.x[30:, 0], rtol=0.01)
    if kind == "mhe":
        assert all(e.status is EstimationStatus.OK for e in estimates[8:])


@pytest.mark.parametrize("kind", ["ekf", "mhe"])
def test_step_input_disturbance_is_estimated_offset_free(heat_step, kind):
    aug = _augmented(
        disturbance_states=[DisturbanceState("q_offset_w", "input", "q_jacket_w", 5.0, 200.0)]
    )
    est = (
        ExtendedKalmanFilter(aug, heat_step.x_start)
        if kind == "ekf"
        else MovingHorizonEstimator(aug, heat_step.x_start, MheSettings(horizon=8))
    )
    estimates = _run(est, heat_step)
    offset = np.array([e.disturbances[0] for e in estimates])
    sigma = np.array([np.sqrt(e.covariance[4, 4]) for e in estimates])
    # Before the step the estimate is noise only: inside three of the
    # filter's own standard deviations (about 18 W once converged).
    assert np.all(np.abs(offset[10:40]) < 3.0 * sigma[10:40])
    # After 50 intervals (15 min, several jacket time constants) every
    # estimate is within 10 % (30 W) of the true -300 W step, and their mean
    # within 5 % (15 W): about 7 independent samples (correlation time
    # sigma / random-walk std = 18 / 5 ~ 4 intervals) of std 18 W give a
    # mean with std ~ 7 W.  No offset remains.
    assert_allclose(offset[90:], -300.0, atol=30.0)
    assert_allclose(np.mean(offset[90:]), -300.0, atol=15.0)
    assert np.mean(offset[10:40]) > -50.0  # the step is not smeared into the past


@pytest.mark.parametrize("kind", ["ekf", "mhe"])
def test_drifting_k10_is_tracked(k10_drift, kind):
    aug = _augmented(parameter_states=[ParameterState("k10_1_s", 0.003 * P[K10], 0.05 * P[K10])])
    est = (
        ExtendedKalmanFilter(aug, k10_drift.x_start)
        if kind == "ekf"
        else MovingHorizonEstimator(aug, k10_drift.x_start, MheSettings(horizon=8))
    )
    k10_hat = np.array([e.parameters[0] for e in _run(est, k10_drift)])
    p_true = P[K10] * (1.0 + 0.10 * np.clip((np.arange(N_STEPS) - 20) / 60.0, 0.0, 1.0))
    # While the parameter drifts the random walk lags a little: within 3 %.
    assert_allclose(k10_hat[20:80], p_true[20:80], rtol=0.03)
    # Once it holds, the estimate settles within 1.5 % of the true +10 %.
    assert_allclose(k10_hat[100:], p_true[100:], rtol=0.015)
    assert abs(k10_hat[-1] / P[K10] - 1.0) > 0.07  # it did move off the nominal value


def test_covariance_stays_symmetric_positive_definite(k10_drift):
    aug = _augmented(parameter_states=[ParameterState("k10_1_s", 0.003 * P[K10], 0.05 * P[K10])])
    ekf = ExtendedKalmanFilter(aug, k10_drift.x_start)
    for est in _run(ekf, k10_drift):
        assert_allclose(est.covariance, est.covariance.T, rtol=0, atol=0)  # symmetrised exactly
        np.linalg.cholesky(est.covariance)


def test_nan_measurements_are_skipped(nominal):
    aug = _augmented()
    full = ExtendedKalmanFilter(aug, nominal.x_start)
    reduced_aug = augment(
        MODEL,
        P,
        DT_S,
        measurements=MEASUREMENTS[1:],
        state_std_per_step=[5.0, 5.0, 0.05, 0.05],
        initial_state_std=[500.0, 100.0, 1.0, 1.0],
        substeps=2,
    )
    reduced = ExtendedKalmanFilter(reduced_aug, nominal.x_start)
    for k in range(30):
        y = nominal.y[k].copy()
        y[0] = np.nan  # c_B analyser offline
        a = full.step(nominal.u[k], nominal.d[k], y)
        b = reduced.step(nominal.u[k], nominal.d[k], nominal.y[k, 1:])
        assert a.n_measurements == 2
        # A NaN channel is exactly a channel that does not exist: same
        # operations on the same numbers, so equal to rounding.
        assert_allclose(a.z, b.z, rtol=1e-12)
        assert_allclose(a.covariance, b.covariance, rtol=1e-12, atol=1e-12)
    nothing = full.step(nominal.u[30], nominal.d[30], [np.nan] * 3)
    assert nothing.status is EstimationStatus.PREDICTED_ONLY
    assert np.all(np.isfinite(nothing.x))


def test_mhe_solver_failure_falls_back_to_the_ekf(nominal):
    aug = _augmented()
    x0 = nominal.x_start * np.array([1.3, 1.0, 1.0, 1.0])
    mhe = MovingHorizonEstimator(aug, x0, MheSettings(horizon=5, max_iter=1))
    ekf = ExtendedKalmanFilter(aug, x0)
    for k in range(12):
        got = mhe.step(nominal.u[k], nominal.d[k], nominal.y[k])
        ref = ekf.step(nominal.u[k], nominal.d[k], nominal.y[k])
        # Fallback returns the EKF's own numbers, and a failed solve never
        # moves the filter: identical to a stand-alone EKF.
        assert_allclose(got.z, ref.z, rtol=0, atol=0)
    assert got.status is EstimationStatus.FALLBACK
    assert "Maximum_Iterations_Exceeded" in got.message
    assert "EKF estimate" in got.message


def test_unknown_names_are_reported():
    with pytest.raises(EstimationError, match="no y variable 'c_x_mol_m3'"):
        augment(
            MODEL,
            P,
            DT_S,
            measurements=[Measurement("c_x_mol_m3", 1.0)],
            state_std_per_step=[1.0] * 4,
            initial_state_std=[1.0] * 4,
        )
    with pytest.raises(EstimationError, match="no p variable 'k99'"):
        _augmented(parameter_states=[ParameterState("k99", 1.0, 1.0)])
    with pytest.raises(EstimationError, match="not a measurement"):
        _augmented(disturbance_states=[DisturbanceState("w", "output", "c_a_mol_m3", 1.0, 1.0)])
    with pytest.raises(EstimationError, match="no d variable 'q_jacket_w'"):
        _augmented(disturbance_states=[DisturbanceState("w", "disturbance", "q_jacket_w", 1, 1)])


def test_rk4_map_matches_cvodes_over_one_interval(nominal):
    # Independent reference: the first interval of the CVODES truth (1e-10
    # tolerances) after the throughput step at k = 25.
    aug = _augmented()
    z_next = np.asarray(aug.F(nominal.x[24], nominal.u[25], nominal.d[25])).ravel()
    # Two RK4 sub-steps of 9 s against time constants of 40-250 s: local
    # error ~ (h / tau)^5 relative, below 1e-5 of the state.
    assert_allclose(z_next, nominal.x[25], rtol=1e-5)
