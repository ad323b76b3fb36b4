r"""Moving-horizon estimation on casadi, with the EKF as arrival cost and fallback.

Over the last ``N + 1`` measured instants ``k-N .. k`` the estimator solves

.. math::

    \min_{z_{k-N..k}} \|z_{k-N} - \bar z\|^2_{\bar P^{-1}}
    + \sum_{j=k-N}^{k-1} \|z_{j+1} - F(z_j, u_{j+1}, d_{j+1})\|^2_{Q^{-1}}
    + \sum_{j=k-N}^{k} \|y_j - H(z_j, u_j, d_j)\|^2_{R^{-1}}

subject to the bounds of the augmented model, where ``(z̄, P̄)`` is the EKF's
*predicted* mean and covariance at ``k-N`` (before its measurement, which is
in the window), and ``u_j`` the inputs held over the interval ending at
``j``.  On a linear model with Gaussian noise and inactive bounds the
solution at ``k`` is the Kalman filter's estimate.  Missing measured values
get zero weight, so one NLP is built once and reused; each solve is warm
started from the previous solution shifted by one interval.

An EKF runs alongside: it supplies the arrival cost, the estimates while the
window fills (status ``WARMUP``), and the estimate whenever ipopt does not
report success (status ``FALLBACK``, ipopt's return status in the message).
After a successful solve the EKF mean is moved to the MHE estimate, so the
filter does not drift away from the better (bounded) estimate.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.linalg

from controllers.errors import EstimationError
from controllers.estimation.augmented import AugmentedModel
from controllers.estimation.base import Estimate, EstimationStatus
from controllers.estimation.ekf import EkfSettings, ExtendedKalmanFilter

__all__ = ["MheSettings", "MovingHorizonEstimator"]


@dataclass(frozen=True)
class MheSettings:
    """Settings of :class:`MovingHorizonEstimator`.

    Attributes
    ----------
    horizon : int
        Window length ``N`` in intervals (``N + 1`` measured instants).
    max_iter : int
        Ipopt iteration limit per solve.
    tol : float
        Ipopt convergence tolerance.
    max_cpu_time_s : float or None
        Ipopt time budget per solve; ``None`` for none. [s]
    reanchor_ekf : bool
        Move the EKF mean to the MHE estimate after each successful solve.
    ekf : EkfSettings
        Settings of the EKF that runs alongside.
    ipopt_options : tuple of (str, value) pairs
        Further ipopt options (for example ``("linear_solver", "mumps")``).
    """

    horizon: int = 10
    max_iter: int = 100
    tol: float = 1e-8
    max_cpu_time_s: float | None = None
    reanchor_ekf: bool = True
    ekf: EkfSettings = field(default_factory=EkfSettings)
    ipopt_options: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        for name in ("horizon", "max_iter"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise EstimationError(f"{name} must be a positive integer, got {value!r}")
        if not self.tol > 0.0:
            raise EstimationError(f"tol must be positive, got {self.tol!r}")
        if self.max_cpu_time_s is not None and not self.max_cpu_time_s > 0.0:
            raise EstimationError(f"max_cpu_time_s must be positive, got {self.max_cpu_time_s!r}")


@dataclass(frozen=True)
class _Record:
    """What one step leaves for the window: inputs, measurement and EKF prior."""

    u: np.ndarray
    d: np.ndarray
    y: np.ndarray
    z_prior: np.ndarray
    cov_prior: np.ndarray
    z_post: np.ndarray


class MovingHorizonEstimator:
    """Moving-horizon estimator of states, disturbances and drifting parameters.

    Parameters
    ----------
    augmented : AugmentedModel
        The discretised augmented model (:func:`augment`).
    x0 : array_like, shape (nx,)
        Initial estimate of the plant state. [SI]
    settings : MheSettings, optional
        Estimator settings.
    """

    def __init__(
        self,
        augmented: AugmentedModel,
        x0: npt.ArrayLike,
        settings: MheSettings | None = None,
    ) -> None:
        self._aug = augmented
        self.settings = settings if settings is not None else MheSettings()
        self._ekf = ExtendedKalmanFilter(augmented, x0, self.settings.ekf)
        self._records: deque[_Record] = deque(maxlen=self.settings.horizon + 1)
        self._warm: np.ndarray | None = None
        self._solver = self._build()
        #: Wall time of the last NLP solve (0 when none ran). [s]
        self.last_solve_time_s = 0.0

    @property
    def augmented(self) -> AugmentedModel:
        """The augmented model the estimator works on."""
        return self._aug

    @property
    def ekf(self) -> ExtendedKalmanFilter:
        """The EKF running alongside (arrival cost and fallback)."""
        return self._ekf

    def reset(self, x0: npt.ArrayLike, covariance: npt.ArrayLike | None = None) -> None:
        """Restart from plant state ``x0`` and ``covariance``; forget the window."""
        self._ekf.reset(x0, covariance)
        self._records.clear()
        self._warm = None

    # ------------------------------------------------------------ the NLP

    def _build(self) -> Any:
        import casadi

        aug = self._aug
        n = self.settings.horizon
        nz, ny = aug.nz, aug.ny
        nu, nd = aug.model.sizes["u"], aug.model.sizes["d"]
        scale = casadi.DM(aug.scale)
        v = casadi.SX.sym("v", nz, n + 1)
        zs = [v[:, j] * scale for j in range(n + 1)]
        u = casadi.SX.sym("u", nu, n + 1)
        d = casadi.SX.sym("d", nd, n + 1)
        y = casadi.SX.sym("y", ny, n + 1)
        mask = casadi.SX.sym("mask", ny, n + 1)
        z_bar = casadi.SX.sym("z_bar", nz)
        p_bar_inv = casadi.SX.sym("p_bar_inv", nz, nz)
        q_inv = casadi.DM(np.diag(1.0 / np.diag(aug.process_cov)))
        r_inv = 1.0 / np.diag(aug.measurement_cov)

        e0 = zs[0] - z_bar
        cost = casadi.dot(e0, casadi.mtimes(p_bar_inv, e0))
        for j in range(n + 1):
            res = y[:, j] - aug.H(zs[j], u[:, j], d[:, j])
            cost += casadi.sum1(mask[:, j] * casadi.DM(r_inv) * res**2)
            if j < n:
                w = zs[j + 1] - aug.F(zs[j], u[:, j + 1], d[:, j + 1])
                cost += casadi.dot(w, casadi.mtimes(q_inv, w))
        params = casadi.vertcat(
            casadi.vec(u),
            casadi.vec(d),
            casadi.vec(y),
            casadi.vec(mask),
            z_bar,
            casadi.vec(p_bar_inv),
        )
        opts: dict[str, Any] = {
            "print_time": False,
            "ipopt.print_level": 0,
            "ipopt.sb": "yes",
            "ipopt.max_iter": self.settings.max_iter,
            "ipopt.tol": self.settings.tol,
        }
        if self.settings.max_cpu_time_s is not None:
            opts["ipopt.max_cpu_time"] = self.settings.max_cpu_time_s
        for key, value in self.settings.ipopt_options:
            opts[f"ipopt.{key}"] = value
        nlp = {"x": casadi.vec(v), "f": cost, "p": params}
        return casadi.nlpsol("mhe", "ipopt", nlp, opts)

    def _parameters(self) -> np.ndarray:
        recs = list(self._records)
        u = np.stack([r.u for r in recs], axis=1)
        d = np.stack([r.d for r in recs], axis=1)
        y = np.stack([r.y for r in recs], axis=1)
        mask = np.isfinite(y).astype(np.float64)
        y = np.where(mask > 0.0, y, 0.0)
        cov0 = recs[0].cov_prior
        p_bar_inv = scipy.linalg.cho_solve(scipy.linalg.cho_factor(cov0), np.eye(self._aug.nz))
        p_bar_inv = 0.5 * (p_bar_inv + p_bar_inv.T)
        # casadi.vec stacks columns: Fortran order.
        return np.concatenate(
            [
                u.ravel(order="F"),
                d.ravel(order="F"),
                y.ravel(order="F"),
                mask.ravel(order="F"),
                recs[0].z_prior,
                p_bar_inv.ravel(order="F"),
            ]
        )

    def _initial_guess(self) -> np.ndarray:
        posts = np.stack([r.z_post for r in self._records], axis=1)
        if self._warm is not None:
            posts[:, :-1] = self._warm[:, 1:]
        return posts / self._aug.scale[:, None]

    # ------------------------------------------------------------ stepping

    def step(self, u: npt.ArrayLike, d: npt.ArrayLike | None, y_meas: npt.ArrayLike) -> Estimate:
        """Advance one interval and return the moving-horizon estimate at its end.

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
            Status ``OK`` (solved), ``WARMUP`` (window not full: EKF estimate)
            or ``FALLBACK`` (solver failed: EKF estimate, ipopt's status in
            the message).

        Raises
        ------
        EstimationError
            For wrong lengths, non-finite inputs or a non-finite prediction.
        """
        aug = self._aug
        u_arr = aug.check_vector(u, aug.model.sizes["u"], "u")
        d_arr = aug.check_vector(d, aug.model.sizes["d"], "d")
        y = aug.check_measurement(y_meas)
        z_prior, cov_prior = self._ekf.predict(u_arr, d_arr)
        n_used = self._ekf.update(u_arr, d_arr, y)
        self._records.append(_Record(u_arr, d_arr, y, z_prior, cov_prior, self._ekf.z))
        if len(self._records) <= self.settings.horizon:
            return self._ekf.estimate(
                EstimationStatus.WARMUP,
                n_used,
                f"window {len(self._records)}/{self.settings.horizon + 1}: EKF estimate",
            )
        lbx = np.repeat((aug.lower / aug.scale)[:, None], self.settings.horizon + 1, axis=1)
        ubx = np.repeat((aug.upper / aug.scale)[:, None], self.settings.horizon + 1, axis=1)
        start = time.perf_counter()
        try:
            sol = self._solver(
                x0=self._initial_guess().ravel(order="F"),
                p=self._parameters(),
                lbx=lbx.ravel(order="F"),
                ubx=ubx.ravel(order="F"),
            )
            stats = self._solver.stats()
            success = bool(stats.get("success", False))
            status = str(stats.get("return_status", "unknown"))
            v = np.asarray(sol["x"], dtype=np.float64).reshape(aug.nz, -1, order="F")
        except RuntimeError as exc:  # casadi raises on evaluation errors
            success, status, v = False, f"solver error: {exc}", None
        self.last_solve_time_s = time.perf_counter() - start
        if not success or v is None or not np.all(np.isfinite(v)):
            self._warm = None
            return self._ekf.estimate(
                EstimationStatus.FALLBACK, n_used, f"MHE solve failed ({status}): EKF estimate"
            )
        z_win = v * aug.scale[:, None]
        self._warm = z_win
        z_now = z_win[:, -1]
        if self.settings.reanchor_ekf:
            self._ekf.set_mean(z_now)
        x, w, theta = aug.split(z_now)
        return Estimate(x, w, theta, self._ekf.covariance, EstimationStatus.OK, n_used, status)
