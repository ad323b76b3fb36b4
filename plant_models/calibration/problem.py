"""Shared pieces of the estimation problems: residual layout, solve outcome, noise scales."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["ResidualLayout", "SolveOutcome", "noise_scale"]

#: Consistency factor of the median absolute deviation for Gaussian noise.
_MAD_TO_STD = 1.4826


def noise_scale(values: NDArray[np.float64]) -> float:
    """Rough noise level of a sampled signal for the first weighting pass [signal unit].

    The robust spread (median absolute deviation) of the first differences
    divided by sqrt(2): white measurement noise dominates the differences of
    a finely sampled smooth signal, and the median ignores the few large
    differences at steps.  Falls back to the signal's standard deviation,
    magnitude, or 1 when that is zero (noise-free or constant data).
    """
    diffs = np.diff(values)
    candidates = (
        _MAD_TO_STD * float(np.median(np.abs(diffs - np.median(diffs)))) / np.sqrt(2.0)
        if diffs.size
        else 0.0,
        float(np.std(values)),
        float(np.max(np.abs(values))) if values.size else 0.0,
    )
    for value in candidates:
        if value > 0.0:
            return value
    return 1.0


@dataclass(frozen=True, eq=False)
class ResidualLayout:
    """Which measured signal each residual row belongs to.

    Attributes
    ----------
    labels : tuple of str
        Signal names (model output or state names).
    signal_of_row : numpy.ndarray of int
        For every data residual row, its position in :attr:`labels`.
    initial_sigma : numpy.ndarray
        First-pass residual scale of each signal. [signal unit]
    """

    labels: tuple[str, ...]
    signal_of_row: NDArray[np.int64]
    initial_sigma: NDArray[np.float64]

    def rms_per_signal(
        self, weighted: NDArray[np.float64], inv_sigma: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """RMS of the unweighted residuals of each signal [signal unit]."""
        raw = weighted / inv_sigma[self.signal_of_row]
        sums = np.bincount(self.signal_of_row, weights=raw * raw, minlength=len(self.labels))
        counts = np.bincount(self.signal_of_row, minlength=len(self.labels))
        return np.sqrt(sums / np.maximum(counts, 1))


@dataclass(frozen=True, eq=False)
class SolveOutcome:
    """What an estimation method returns at its optimum.

    Attributes
    ----------
    theta : numpy.ndarray
        Estimated free parameters. [parameter units]
    residuals : numpy.ndarray
        Weighted data residuals (without prior rows). [-]
    jacobian : numpy.ndarray, shape (n_residuals, n_free)
        Derivative of :attr:`residuals` by the *scaled* free parameters,
        with the shooting states eliminated through the continuity
        constraints. [-]
    nuisance : numpy.ndarray, shape (n_residuals, n_nuisance)
        Derivative of :attr:`residuals` by the estimated initial states
        (multiple shooting; no columns for equation error). [-]
    initial_states : tuple of numpy.ndarray
        Initial state of each record: estimated (multiple shooting) or
        measured (equation error). [SI]
    iterations : int
        Iterations (ipopt) or function evaluations (scipy) used.
    status : str
        The solver's return status.
    converged : bool
        Whether the solver reported convergence; if not, the other fields
        describe the last iterate (for diagnosis).
    message : str
        Explanation and advice when not converged.
    """

    theta: NDArray[np.float64]
    residuals: NDArray[np.float64]
    jacobian: NDArray[np.float64]
    nuisance: NDArray[np.float64]
    initial_states: tuple[NDArray[np.float64], ...]
    iterations: int
    status: str
    converged: bool = True
    message: str = ""
