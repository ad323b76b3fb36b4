"""Extended Kalman filter on the discretised augmented model.

Prediction with the casadi map ``F`` and its exact Jacobian, measurement
update in Joseph form ``P = (I - K C) P (I - K C)' + K R K'`` (symmetric and
positive semi-definite even with a rounded gain; Bucy and Joseph 1968), the
innovation covariance factorised by Cholesky.  Missing (NaN) measured values
are dropped from the update; with none left the step is a prediction only.
On a linear model with Gaussian noise the filter is the exact Kalman filter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.linalg

from controllers.errors import EstimationError
from controllers.estimation.augmented import AugmentedModel
from controllers.estimation.base import Estimate, EstimationStatus, nearest_spd

__all__ = ["EkfSettings", "ExtendedKalmanFilter"]


@dataclass(frozen=True)
class EkfSettings:
    """Settings of :class:`ExtendedKalmanFilter`.

    Attributes
    ----------
    clip_to_bounds : bool
        Project the updated mean onto the augmented model's bounds (keeps,
        for example, concentrations non-negative).  The covariance is not
        changed.
    covariance_rel_floor : float
        Smallest eigenvalue of the covariance relative to its largest when
        rounding made it indefinite (see :func:`nearest_spd`).
    """

    clip_to_bounds: bool = True
    covariance_rel_floor: float = 1e-12

    def __post_init__(self) -> None:
        if not 0.0 < self.covariance_rel_floor < 1.0:
            raise EstimationError(
                f"covariance_rel_floor must be in (0, 1), got {self.covariance_rel_floor}"
            )


class ExtendedKalmanFilter:
    """Extended Kalman filter for states, disturbances and drifting parameters.

    Parameters
    ----------
    augmented : AugmentedModel
        The discretised augmented model (:func:`augment`).
    x0 : array_like, shape (nx,)
        Initial estimate of the plant state. [SI]
    settings : EkfSettings, optional
        Filter settings.
    """

    def __init__(
        self,
        augmented: AugmentedModel,
        x0: npt.ArrayLike,
        settings: EkfSettings | None = None,
    ) -> None:
        self._aug = augmented
        self.settings = settings if settings is not None else EkfSettings()
        self._z = np.zeros(augmented.nz)
        self._cov = augmented.initial_cov.copy()
        self._z_prior = self._z.copy()
        self._cov_prior = self._cov.copy()
        self.reset(x0)

    @property
    def augmented(self) -> AugmentedModel:
        """The augmented model the filter works on."""
        return self._aug

    @property
    def z(self) -> np.ndarray:
        """Current (posterior) augmented state estimate, SI units (a copy)."""
        return self._z.copy()

    @property
    def covariance(self) -> np.ndarray:
        """Current (posterior) covariance, SI units squared (a copy)."""
        return self._cov.copy()

    @property
    def prior(self) -> tuple[np.ndarray, np.ndarray]:
        """Predicted mean and covariance of the last step, before its update (copies)."""
        return self._z_prior.copy(), self._cov_prior.copy()

    def reset(self, x0: npt.ArrayLike, covariance: npt.ArrayLike | None = None) -> None:
        """Restart from plant state ``x0`` and ``covariance`` (default the initial one).

        Raises
        ------
        EstimationError
            If ``covariance`` is not a symmetric positive definite (nz, nz) matrix.
        """
        self._z = self._aug.initial_state(x0)
        if covariance is None:
            cov = self._aug.initial_cov.copy()
        else:
            cov = np.asarray(covariance, dtype=np.float64)
            nz = self._aug.nz
            if cov.shape != (nz, nz) or not np.all(np.isfinite(cov)):
                raise EstimationError(f"covariance must be a finite ({nz}, {nz}) matrix")
            try:
                np.linalg.cholesky(0.5 * (cov + cov.T))
            except np.linalg.LinAlgError:
                raise EstimationError("covariance is not positive definite") from None
            cov = 0.5 * (cov + cov.T)
        self._cov = cov
        self._z_prior, self._cov_prior = self._z.copy(), cov.copy()

    def set_mean(self, z: npt.ArrayLike) -> None:
        """Replace the posterior mean (the moving-horizon estimator re-anchors the filter).

        Raises
        ------
        EstimationError
            If ``z`` has the wrong length or a non-finite entry.
        """
        self._z = self._aug.check_vector(z, self._aug.nz, "z")

    def predict(self, u: npt.ArrayLike, d: npt.ArrayLike | None) -> tuple[np.ndarray, np.ndarray]:
        """Propagate mean and covariance over one interval; return the prior ``(z, P)``.

        Raises
        ------
        EstimationError
            For wrong lengths, non-finite inputs or a non-finite prediction.
        """
        aug = self._aug
        u_arr = aug.check_vector(u, aug.model.sizes["u"], "u")
        d_arr = aug.check_vector(d, aug.model.sizes["d"], "d")
        z_next, a_mat = aug.F_jac(self._z, u_arr, d_arr)
        z_pred = np.asarray(z_next, dtype=np.float64).reshape(-1)
        a = np.asarray(a_mat, dtype=np.float64).reshape(aug.nz, aug.nz)
        if not (np.all(np.isfinite(z_pred)) and np.all(np.isfinite(a))):
            raise EstimationError(
                f"EKF prediction is not finite from z = {self._z} with u = {u_arr}, d = {d_arr}"
            )
        cov_pred = nearest_spd(
            a @ self._cov @ a.T + aug.process_cov, self.settings.covariance_rel_floor
        )
        self._z, self._cov = z_pred, cov_pred
        self._z_prior, self._cov_prior = z_pred.copy(), cov_pred.copy()
        return z_pred.copy(), cov_pred.copy()

    def update(self, u: npt.ArrayLike, d: npt.ArrayLike | None, y_meas: npt.ArrayLike) -> int:
        """Correct the current mean and covariance with ``y_meas``; return the values used.

        NaN entries of ``y_meas`` are skipped; with none finite nothing changes.

        Raises
        ------
        EstimationError
            For wrong lengths, infinite measurements or a non-finite model output.
        """
        aug = self._aug
        u_arr = aug.check_vector(u, aug.model.sizes["u"], "u")
        d_arr = aug.check_vector(d, aug.model.sizes["d"], "d")
        y = aug.check_measurement(y_meas)
        keep = np.isfinite(y)
        n_used = int(np.count_nonzero(keep))
        if n_used == 0:
            return 0
        y_out, c_mat = aug.H_jac(self._z, u_arr, d_arr)
        y_pred = np.asarray(y_out, dtype=np.float64).reshape(-1)[keep]
        c = np.asarray(c_mat, dtype=np.float64).reshape(aug.ny, aug.nz)[keep]
        if not (np.all(np.isfinite(y_pred)) and np.all(np.isfinite(c))):
            raise EstimationError(f"EKF measurement function is not finite at z = {self._z}")
        r = aug.measurement_cov[np.ix_(keep, keep)]
        pc_t = self._cov @ c.T
        s = c @ pc_t + r
        # K = P C' S^-1 through the Cholesky factor of S (S is SPD: R is).
        gain = scipy.linalg.cho_solve(scipy.linalg.cho_factor(s), pc_t.T).T
        z_new = self._z + gain @ (y[keep] - y_pred)
        i_kc = np.eye(aug.nz) - gain @ c
        cov_new = i_kc @ self._cov @ i_kc.T + gain @ r @ gain.T
        if self.settings.clip_to_bounds:
            z_new = np.clip(z_new, aug.lower, aug.upper)
        self._z = z_new
        self._cov = nearest_spd(cov_new, self.settings.covariance_rel_floor)
        return n_used

    def estimate(self, status: EstimationStatus, n_used: int, message: str = "") -> Estimate:
        """Return the current posterior as an :class:`Estimate`."""
        x, w, theta = self._aug.split(self._z)
        return Estimate(x, w, theta, self._cov.copy(), status, n_used, message)

    def step(self, u: npt.ArrayLike, d: npt.ArrayLike | None, y_meas: npt.ArrayLike) -> Estimate:
        """Predict over the interval with ``(u, d)`` and update with ``y_meas`` at its end.

        Parameters
        ----------
        u : array_like, shape (nu,)
            Inputs held over the interval. [SI]
        d : array_like, shape (nd,), or None
            Measured disturbances held over the interval. [SI]
        y_meas : array_like, shape (ny,)
            Measured channels at the end of the interval; NaN where missing. [SI]

        Returns
        -------
        Estimate
            Status ``OK``, or ``PREDICTED_ONLY`` when no value was finite.

        Raises
        ------
        EstimationError
            For wrong lengths, non-finite inputs or a non-finite prediction.
        """
        self._aug.check_measurement(y_meas)
        self.predict(u, d)
        n_used = self.update(u, d, y_meas)
        status = EstimationStatus.OK if n_used else EstimationStatus.PREDICTED_ONLY
        return self.estimate(status, n_used)
