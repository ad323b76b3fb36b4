"""Synthetic history of a plant with three known operating modes and noisy ramps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from controllers.modes import ModeModel, learn_modes

# Chemical-plant-like chosen variables: feed flow [m3/h], reactor temperature
# [degC], selectivity [%].  Three modes: low rate, high rate, high selectivity.
TRUE_NAMES = ("low_rate", "high_rate", "high_selectivity")
TRUE_CENTRES = np.array([[10.0, 110.0, 60.0], [14.0, 114.0, 55.0], [12.0, 105.0, 70.0]])
NOISE_STD = np.array([0.15, 0.4, 0.6])
SEQUENCE = (0, 1, 2, 0, 2, 1, 0)
RAMP_SAMPLES = 60
N_NAN = 50


@dataclass(frozen=True)
class History:
    """Samples, the true mode of each (-1 on ramps) and where each switch starts."""

    names: tuple[str, ...]
    centres: np.ndarray
    noise_std: np.ndarray
    sequence: tuple[int, ...]
    ramp_samples: int
    x: np.ndarray
    truth: np.ndarray
    switch_starts: tuple[int, ...]
    nan_rows: np.ndarray


def make_history(seed: int) -> History:
    rng = np.random.default_rng(seed)
    blocks, truth, starts = [], [], []
    n_rows = 0
    for i, mode in enumerate(SEQUENCE):
        n = int(rng.integers(400, 700))
        blocks.append(TRUE_CENTRES[mode] + NOISE_STD * rng.standard_normal((n, 3)))
        truth.append(np.full(n, mode))
        n_rows += n
        if i < len(SEQUENCE) - 1:
            frac = np.linspace(0.0, 1.0, RAMP_SAMPLES)[:, np.newaxis]
            path = TRUE_CENTRES[mode] + frac * (TRUE_CENTRES[SEQUENCE[i + 1]] - TRUE_CENTRES[mode])
            blocks.append(path + NOISE_STD * rng.standard_normal((RAMP_SAMPLES, 3)))
            truth.append(np.full(RAMP_SAMPLES, -1))
            starts.append(n_rows)
            n_rows += RAMP_SAMPLES
    x = np.vstack(blocks)
    nan_rows = np.sort(rng.choice(n_rows, size=N_NAN, replace=False))
    x[nan_rows] = np.nan
    return History(
        names=TRUE_NAMES,
        centres=TRUE_CENTRES,
        noise_std=NOISE_STD,
        sequence=SEQUENCE,
        ramp_samples=RAMP_SAMPLES,
        x=x,
        truth=np.concatenate(truth),
        switch_starts=tuple(starts),
        nan_rows=nan_rows,
    )


@pytest.fixture(scope="session")
def history() -> History:
    return make_history(seed=7)


@pytest.fixture(scope="session")
def declared() -> dict[str, np.ndarray]:
    # Design setpoints the user declares: near, not equal to, the true centres.
    offsets = np.array([0.2, -0.5, 0.8])
    return {name: TRUE_CENTRES[i] + offsets for i, name in enumerate(TRUE_NAMES)}


@pytest.fixture(scope="session")
def learned(history: History, declared: dict[str, np.ndarray]) -> ModeModel:
    return learn_modes(history.x, declared=declared, variables=("feed", "temperature", "sel"))
