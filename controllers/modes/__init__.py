"""Multi-modal operating-condition recognition.

Learn a plant's operating modes from historian samples of chosen variables
(steady samples, standardised, k-means++ with the number of modes chosen by
silhouette), classify the current mode online with hysteresis, and move
controller tuning and model parameters between modes without bumps.

Public API
----------
:func:`learn_modes` with :class:`LearningSettings` -> :class:`ModeModel`;
:class:`ModeClassifier` with :class:`ClassifierSettings`, whose ``step``
returns a :class:`ModeState`; :class:`ModeScheduler` with
:class:`SchedulerSettings`, whose ``step`` returns a :class:`ScheduleState`;
:func:`steady_mask`, :func:`mean_silhouette`, :func:`partition_bic`,
:data:`TRANSITION` and
:class:`~controllers.errors.ModeError`.
"""

from controllers.errors import ModeError
from controllers.modes.classifier import ClassifierSettings, ModeClassifier, ModeState
from controllers.modes.learning import (
    LearningSettings,
    learn_modes,
    mean_silhouette,
    partition_bic,
)
from controllers.modes.model import TRANSITION, ModeModel
from controllers.modes.scheduler import ModeScheduler, SchedulerSettings, ScheduleState
from controllers.modes.steady import steady_mask

__all__ = [
    "TRANSITION",
    "ClassifierSettings",
    "LearningSettings",
    "ModeClassifier",
    "ModeError",
    "ModeModel",
    "ModeScheduler",
    "ModeState",
    "ScheduleState",
    "SchedulerSettings",
    "learn_modes",
    "mean_silhouette",
    "partition_bic",
    "steady_mask",
]
