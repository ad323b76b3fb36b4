"""Known linear systems shared by the data-driven identification tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from scipy.signal import dlsim


@dataclass(frozen=True)
class KnownSystem:
    """A discrete system ``x+ = A x + B u``, ``y = C x`` and data generated from it."""

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    u: np.ndarray
    y_clean: np.ndarray
    y_noisy: np.ndarray

    @property
    def poles(self) -> np.ndarray:
        return np.sort_complex(np.linalg.eigvals(self.a))


def _modal_a(poles: list[complex], rng: np.random.Generator) -> np.ndarray:
    """Real A with the given poles (conjugate pairs as 2x2 blocks), in a random basis."""
    blocks = []
    for p in poles:
        if abs(p.imag) > 0:
            if p.imag > 0:
                blocks.append(np.array([[p.real, p.imag], [-p.imag, p.real]]))
        else:
            blocks.append(np.array([[p.real]]))
    n = sum(b.shape[0] for b in blocks)
    modal = np.zeros((n, n))
    i = 0
    for blk in blocks:
        k = blk.shape[0]
        modal[i : i + k, i : i + k] = blk
        i += k
    basis = rng.normal(size=(n, n))
    return basis @ modal @ np.linalg.inv(basis)


@pytest.fixture
def make_system() -> Callable[..., KnownSystem]:
    """Factory of known systems driven by white Gaussian inputs with output noise."""

    def make(
        poles: list[complex],
        n_inputs: int,
        n_outputs: int,
        n_samples: int,
        noise_fraction: float,
        seed: int,
    ) -> KnownSystem:
        rng = np.random.default_rng(seed)
        a = _modal_a(poles, rng)
        b = rng.normal(size=(a.shape[0], n_inputs))
        c = rng.normal(size=(n_outputs, a.shape[0]))
        u = rng.normal(size=(n_samples, n_inputs))
        _, y, _ = dlsim((a, b, c, np.zeros((n_outputs, n_inputs)), 1.0), u)
        y = y.reshape(n_samples, n_outputs)
        noise = noise_fraction * y.std(axis=0) * rng.normal(size=y.shape)
        return KnownSystem(a, b, c, u, y, y + noise)

    return make
