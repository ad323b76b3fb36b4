"""State, disturbance and parameter estimation: EKF and moving-horizon estimation.

Build an :class:`AugmentedModel` with :func:`augment` (plant states, random-walk
disturbance states for offset-free control, drifting parameters), then step an
:class:`ExtendedKalmanFilter` or a :class:`MovingHorizonEstimator` once per
interval: ``step(u, d, y_meas) -> Estimate``.
"""

from __future__ import annotations

from controllers.estimation.augmented import AugmentedModel, augment
from controllers.estimation.base import Estimate, EstimationStatus, Estimator, nearest_spd
from controllers.estimation.ekf import EkfSettings, ExtendedKalmanFilter
from controllers.estimation.mhe import MheSettings, MovingHorizonEstimator
from controllers.estimation.specs import (
    DISTURBANCE_KINDS,
    DisturbanceState,
    Measurement,
    ParameterState,
)

__all__ = [
    "DISTURBANCE_KINDS",
    "AugmentedModel",
    "DisturbanceState",
    "EkfSettings",
    "Estimate",
    "EstimationStatus",
    "Estimator",
    "ExtendedKalmanFilter",
    "Measurement",
    "MheSettings",
    "MovingHorizonEstimator",
    "ParameterState",
    "augment",
    "nearest_spd",
]
