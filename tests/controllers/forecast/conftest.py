"""Synthetic disturbance history with a known daily profile and AR(1) deviation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from scipy.signal import lfilter

DT_S = 900.0  # 15-min samples
PER_DAY = 96
PHI = 0.8  # AR(1) coefficient of the deviation
SIGMA_E = 2.0  # innovation standard deviation [signal units]
TRAIN_DAYS = 60
TEST_DAYS = 14


def true_profile(tod_s: np.ndarray) -> np.ndarray:
    """Known daily profile (a steam demand in t/h, say)."""
    w = 2.0 * np.pi * tod_s / 86400.0
    return 100.0 + 20.0 * np.sin(w) + 10.0 * np.cos(2.0 * w)


@dataclass(frozen=True)
class History:
    y: np.ndarray
    tod: np.ndarray
    dow: np.ndarray
    n_train: int


def make_history(seed: int, days: int = TRAIN_DAYS + TEST_DAYS) -> History:
    n = days * PER_DAY
    t = np.arange(n) * DT_S
    tod = t % 86400.0
    dow = ((t // 86400.0) % 7).astype(np.int64)
    e = np.random.default_rng(seed).normal(0.0, SIGMA_E, n)
    r = lfilter([1.0], [1.0, -PHI], e)
    return History(true_profile(tod) + r, tod, dow, TRAIN_DAYS * PER_DAY)


@pytest.fixture(scope="package")
def history() -> History:
    return make_history(seed=11)


@pytest.fixture(scope="package")
def fitted(history):
    from controllers.forecast import ForecastSettings, fit_forecaster

    n = history.n_train
    return fit_forecaster(
        history.y[:n],
        history.tod[:n],
        history.dow[:n],
        dt_s=DT_S,
        settings=ForecastSettings(calibration_horizon=24),
    )
