"""The contract every estimator keeps: ``step(u, d, y_meas) -> Estimate``."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from controllers.estimation.augmented import AugmentedModel

__all__ = ["Estimate", "EstimationStatus", "Estimator", "nearest_spd"]


class EstimationStatus(enum.Enum):
    """How an estimate was obtained."""

    #: Measurement update (EKF) or optimal moving-horizon solve (MHE).
    OK = "ok"
    #: No finite measurement this step: the prediction alone.
    PREDICTED_ONLY = "predicted_only"
    #: MHE window not yet full: the EKF estimate.
    WARMUP = "warmup"
    #: The MHE solve failed (status in the message): the EKF estimate.
    FALLBACK = "fallback"


@dataclass(frozen=True, eq=False)
class Estimate:
    """Result of one estimator step, at the end of the interval just measured.

    Attributes
    ----------
    x : numpy.ndarray, shape (nx,)
        Plant states. [SI]
    disturbances : numpy.ndarray, shape (nw,)
        Disturbance states, in the order of the augmented model's
        ``disturbance_states``. [unit of each target]
    parameters : numpy.ndarray, shape (ntheta,)
        Estimated parameters, in the order of ``parameter_states``. [SI]
    covariance : numpy.ndarray, shape (nz, nz)
        Covariance of ``z = (x, disturbances, parameters)`` (for the MHE, the
        EKF's, which supplies its arrival cost). [SI^2]
    status : EstimationStatus
        How the estimate was obtained.
    n_measurements : int
        Finite measured values used this step (NaN channels are skipped).
    message : str
        Solver return status or why a fallback happened; empty if nothing to say.
    """

    x: np.ndarray
    disturbances: np.ndarray
    parameters: np.ndarray
    covariance: np.ndarray
    status: EstimationStatus
    n_measurements: int
    message: str = ""

    @property
    def z(self) -> np.ndarray:
        """The augmented state ``(x, disturbances, parameters)`` in SI units."""
        return np.concatenate([self.x, self.disturbances, self.parameters])


@runtime_checkable
class Estimator(Protocol):
    """An estimator stepped once per interval.

    ``step(u, d, y_meas)``: ``u`` and ``d`` are the input and measured
    disturbance vectors held over the interval that just ended (also used in
    the measurement function), ``y_meas`` the measured channels at its end
    (NaN for a missing value).  Returns the estimate at the end of the interval.
    """

    @property
    def augmented(self) -> AugmentedModel:
        """The augmented model the estimator works on."""
        ...

    def reset(self, x0: npt.ArrayLike, covariance: npt.ArrayLike | None = None) -> None:
        """Restart from plant state ``x0`` (and ``covariance``, default the initial one)."""
        ...

    def step(self, u: npt.ArrayLike, d: npt.ArrayLike | None, y_meas: npt.ArrayLike) -> Estimate:
        """Advance one interval and return the estimate at its end."""
        ...


def nearest_spd(matrix: np.ndarray, rel_floor: float = 1e-12) -> np.ndarray:
    """Return ``matrix`` made symmetric positive definite.

    The symmetric part is kept when its Cholesky factorisation succeeds;
    otherwise its eigenvalues are raised to ``rel_floor`` times the largest
    absolute eigenvalue (the nearest SPD matrix in the Frobenius norm, up to
    the floor; Higham 1988).

    Parameters
    ----------
    matrix : numpy.ndarray, shape (n, n)
        A covariance that rounding may have made asymmetric or indefinite. [SI^2]
    rel_floor : float
        Smallest eigenvalue relative to the largest.
    """
    sym = 0.5 * (matrix + matrix.T)
    try:
        np.linalg.cholesky(sym)
    except np.linalg.LinAlgError:
        eigval, eigvec = np.linalg.eigh(sym)
        top = float(np.max(np.abs(eigval))) if eigval.size else 0.0
        floor = rel_floor * top if top > 0.0 else np.finfo(float).tiny
        sym = (eigvec * np.maximum(eigval, floor)) @ eigvec.T
        sym = 0.5 * (sym + sym.T)
    return sym
