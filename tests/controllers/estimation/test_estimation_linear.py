"""EKF and MHE on a linear-Gaussian system, where the Kalman filter is the optimal estimator.

The reference is a Kalman filter written out here in its textbook form
(``K = P C' (C P C' + R)^-1``, ``P+ = (I - K C) P``), independent of the
package's Joseph-form, Cholesky-based implementation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.errors import EstimationError
from controllers.estimation import (
    DisturbanceState,
    EstimationStatus,
    Estimator,
    ExtendedKalmanFilter,
    Measurement,
    MheSettings,
    MovingHorizonEstimator,
    augment,
    nearest_spd,
)
from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.mathfuncs import zeros

A_X = np.array([[0.9, 0.2], [-0.1, 0.8]])
B_X = np.array([0.5, 1.0])


@equation
def _f(x: Any, u: Any, d: Any, p: Any) -> Any:
    out = zeros(2)
    out[0] = 0.9 * x[0] + 0.2 * x[1] + 0.5 * u[0]
    out[1] = -0.1 * x[0] + 0.8 * x[1] + 1.0 * u[0]
    return out


@equation
def _g(x: Any, u: Any, d: Any, p: Any) -> Any:
    y = zeros(1)
    y[0] = x[0] + 0.5 * x[1]
    return y


MODEL = EquationModel(
    name="linear2",
    f=_f,
    g=_g,
    states=(Variable("x0", "1", "first"), Variable("x1", "1", "second")),
    inputs=(Variable("u0", "1", "input"),),
    disturbances=(),
    outputs=(Variable("y0", "1", "combination"),),
    parameters=(),
    dt_s=1.0,
)
Q_X = np.array([0.05, 0.08])
R_STD = np.array([0.1, 0.2])
W_STD = 0.03  # output-disturbance random walk


def _augmented(dt_s: float = 1.0):
    return augment(
        MODEL,
        np.zeros(0),
        dt_s,
        measurements=[Measurement("y0", R_STD[0]), Measurement("x1", R_STD[1], kind="x")],
        state_std_per_step=Q_X,
        initial_state_std=[1.0, 1.0],
        disturbance_states=[DisturbanceState("w_y0", "output", "y0", W_STD, 0.5)],
    )


# Augmented matrices of z = (x0, x1, w), derived by hand from _f, _g above.
A_Z = np.block([[A_X, np.zeros((2, 1))], [np.zeros((1, 2)), np.eye(1)]])
B_Z = np.r_[B_X, 0.0]
C_Z = np.array([[1.0, 0.5, 1.0], [0.0, 1.0, 0.0]])
Q_Z = np.diag(np.r_[Q_X, W_STD] ** 2)
R_Z = np.diag(R_STD**2)
P0_Z = np.diag([1.0, 1.0, 0.25])


def _data(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and measurements of the linear-Gaussian system; some values missing."""
    rng = np.random.default_rng(seed)
    u = np.sin(0.3 * np.arange(n))[:, None]
    z = np.array([1.0, -0.5, 0.4])
    y = np.empty((n, 2))
    for k in range(n):
        z = A_Z @ z + B_Z * u[k, 0] + rng.normal(size=3) * np.sqrt(np.diag(Q_Z))
        y[k] = C_Z @ z + rng.normal(size=2) * R_STD
    y[rng.random((n, 2)) < 0.2] = np.nan
    y[7] = np.nan  # one step with nothing measured
    return u, y


def _kalman(u: np.ndarray, y: np.ndarray, z0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z, cov = z0.copy(), P0_Z.copy()
    zs, covs = [], []
    for k in range(len(u)):
        z = A_Z @ z + B_Z * u[k, 0]
        cov = A_Z @ cov @ A_Z.T + Q_Z
        keep = np.isfinite(y[k])
        if keep.any():
            c, r = C_Z[keep], R_Z[np.ix_(keep, keep)]
            gain = cov @ c.T @ np.linalg.inv(c @ cov @ c.T + r)
            z = z + gain @ (y[k, keep] - c @ z)
            cov = (np.eye(3) - gain @ c) @ cov
        zs.append(z.copy())
        covs.append(cov.copy())
    return np.array(zs), np.array(covs)


def test_ekf_is_the_exact_kalman_filter_with_missing_values():
    u, y = _data(40)
    ekf = ExtendedKalmanFilter(_augmented(), x0=[0.0, 0.0])
    assert isinstance(ekf, Estimator)
    estimates = [ekf.step(u[k], None, y[k]) for k in range(len(u))]
    z_ref, cov_ref = _kalman(u, y, np.zeros(3))
    # Same algebra, different but exact forms (Joseph vs textbook update,
    # Cholesky vs inverse): they agree to rounding, values are O(1).
    assert_allclose([e.z for e in estimates], z_ref, rtol=0, atol=1e-10)
    assert_allclose([e.covariance for e in estimates], cov_ref, rtol=0, atol=1e-10)
    assert estimates[7].status is EstimationStatus.PREDICTED_ONLY
    assert estimates[7].n_measurements == 0
    assert [e.n_measurements for e in estimates] == [int(np.isfinite(r).sum()) for r in y]
    assert estimates[7].covariance.trace() > estimates[6].covariance.trace()


def test_mhe_agrees_with_the_kalman_filter():
    u, y = _data(25)
    mhe = MovingHorizonEstimator(_augmented(), [0.0, 0.0], MheSettings(horizon=6, tol=1e-12))
    assert isinstance(mhe, Estimator)
    estimates = [mhe.step(u[k], None, y[k]) for k in range(len(u))]
    z_ref, _ = _kalman(u, y, np.zeros(3))
    statuses = [e.status for e in estimates]
    assert statuses[:6] == [EstimationStatus.WARMUP] * 6
    assert statuses[6:] == [EstimationStatus.OK] * 19
    assert "Solve_Succeeded" in estimates[-1].message
    # With the EKF's predicted prior as arrival cost and unbounded states,
    # the MHE's convex QP has the Kalman estimate as its exact minimiser;
    # ipopt stops at tol 1e-12 on a well-scaled O(1) problem, so 1e-7 is loose.
    assert_allclose([e.z for e in estimates], z_ref, rtol=0, atol=1e-7)
    assert mhe.last_solve_time_s > 0.0


def test_mhe_reset_forgets_the_window():
    u, y = _data(10)
    mhe = MovingHorizonEstimator(_augmented(), [0.0, 0.0], MheSettings(horizon=3))
    for k in range(5):
        assert mhe.step(u[k], None, y[k]).status is not EstimationStatus.FALLBACK
    mhe.reset([1.0, 1.0])
    est = mhe.step(u[5], None, y[5])
    assert est.status is EstimationStatus.WARMUP
    assert "1/4" in est.message


def test_discrete_model_needs_a_whole_multiple_of_its_sample_time():
    with pytest.raises(EstimationError, match="whole multiple"):
        _augmented(dt_s=1.5)
    # Two model steps per interval: the map is A^2 z + (A + I) B u.
    aug = _augmented(dt_s=2.0)
    z = np.array([0.3, -0.2, 0.1])
    z_next = np.asarray(aug.F(z, [0.7], np.zeros(0))).ravel()
    x_ref = A_X @ (A_X @ z[:2] + B_X * 0.7) + B_X * 0.7
    # Four multiply-adds on O(1) numbers: rounding only.
    assert_allclose(z_next, np.r_[x_ref, 0.1], rtol=0, atol=1e-14)


def test_nearest_spd_repairs_an_indefinite_covariance():
    bad = np.array([[1.0, 2.0], [2.0 + 1e-9, 1.0]])  # eigenvalues 3 and -1, asymmetric
    fixed = nearest_spd(bad)
    assert_allclose(fixed, fixed.T, rtol=0, atol=0)
    np.linalg.cholesky(fixed)
    # The positive eigenpair is kept: eigenvalue 3 along (1, 1)/sqrt(2).
    v = np.array([1.0, 1.0]) / np.sqrt(2.0)
    assert_allclose(v @ fixed @ v, 3.0, rtol=1e-9)  # asymmetry 1e-9 halves into it
    good = np.array([[2.0, 0.5], [0.5, 1.0]])
    assert_allclose(nearest_spd(good), good, rtol=0, atol=0)


def test_step_rejects_bad_vectors():
    ekf = ExtendedKalmanFilter(_augmented(), x0=[0.0, 0.0])
    with pytest.raises(EstimationError, match="u must have length 1"):
        ekf.step([0.0, 1.0], None, [0.0, 0.0])
    with pytest.raises(EstimationError, match="non-finite"):
        ekf.step([np.nan], None, [0.0, 0.0])
    with pytest.raises(EstimationError, match="y_meas must have length 2"):
        ekf.step([0.0], None, [0.0])
    with pytest.raises(EstimationError, match="infinite"):
        ekf.step([0.0], None, [np.inf, 0.0])
    with pytest.raises(EstimationError, match="not positive definite"):
        ekf.reset([0.0, 0.0], covariance=-np.eye(3))
    with pytest.raises(EstimationError, match="x0 must have length 2"):
        ekf.reset([0.0])
