"""Measurement sanitising: what the advisor does with NaN, stale and frozen values.

Policy (documented for operators):

* A finite measurement that is not frozen is used as it is (valid).
* A NaN/inf measurement is replaced by its most recent finite value in the
  history if that value is at most ``max_stale_samples`` rows old (a short
  gap is bridged by holding the last value, as DCS do); it is then still
  valid.  Otherwise it is invalid and keeps the last finite value, or NaN if
  the history has none.
* A frozen measurement (its last ``frozen_samples`` values, the current one
  included, within ``frozen_tolerance``) is invalid: a stuck transmitter
  reports a plausible but false value.
* The advisor does not call the controller when a *critical* measurement is
  invalid; it falls back (shifted previous plan, then hold) and names it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from controllers.errors import AdvisorError

__all__ = ["SanitisedMeasurements", "sanitise_measurements"]


@dataclass(frozen=True)
class SanitisedMeasurements:
    """Result of :func:`sanitise_measurements`.

    Attributes
    ----------
    values : numpy.ndarray
        Measurements after substitution, shape ``(n,)``; NaN only where no
        finite value is known at all. [SI]
    valid : numpy.ndarray
        Boolean, shape ``(n,)``: fresh (or bridged over a short gap) and not frozen.
    issues : tuple of str
        One sentence per measurement that was substituted or is invalid.
    history : numpy.ndarray
        The history as a float array, shape ``(n_samples, n)``. [SI]
    """

    values: np.ndarray
    valid: np.ndarray
    issues: tuple[str, ...]
    history: np.ndarray


def sanitise_measurements(
    measurements: npt.ArrayLike,
    history: npt.ArrayLike | None,
    names: tuple[str, ...],
    *,
    max_stale_samples: int,
    frozen_samples: int = 0,
    frozen_tolerance: float = 0.0,
) -> SanitisedMeasurements:
    """Apply the module's policy to one measurement vector and its recent history.

    Parameters
    ----------
    measurements : array_like
        Current measurements, shape ``(n,)``. [SI]
    history : array_like or None
        Recent measurements, shape ``(n_samples, n)``, oldest first, not
        including the current sample. [SI]
    names : tuple of str
        Names of the ``n`` measurements (for the issue sentences).
    max_stale_samples : int
        Largest age, in history rows, of a finite value that may bridge a NaN.
    frozen_samples : int
        Number of trailing samples that must stay constant for a sensor to be
        frozen; 0 disables the check.
    frozen_tolerance : float
        Spread below which values count as constant. [SI]

    Returns
    -------
    SanitisedMeasurements
        Values, validity and the issues found.

    Raises
    ------
    AdvisorError
        If the shapes do not match ``names``.
    """
    n = len(names)
    y = np.asarray(measurements, dtype=float).reshape(-1)
    if y.shape != (n,):
        raise AdvisorError(f"expected {n} measurements {names}, got shape {y.shape}")
    hist = np.zeros((0, n)) if history is None else np.asarray(history, dtype=float)
    if hist.ndim != 2 or hist.shape[1] != n:
        raise AdvisorError(f"history must have shape (n_samples, {n}), got {hist.shape}")
    values = y.copy()
    valid = np.isfinite(y)
    issues: list[str] = []
    for j in np.flatnonzero(~valid):
        finite_rows = np.flatnonzero(np.isfinite(hist[:, j]))
        if finite_rows.size == 0:
            values[j] = np.nan
            issues.append(f"measurement {names[j]!r} is missing and has no earlier value")
            continue
        last = int(finite_rows[-1])
        age = hist.shape[0] - last
        values[j] = hist[last, j]
        if age <= max_stale_samples:
            valid[j] = True
            issues.append(
                f"measurement {names[j]!r} is missing: last value {values[j]:.6g} "
                f"from {age} sample(s) ago is used"
            )
        else:
            issues.append(
                f"measurement {names[j]!r} is missing for {age} samples "
                f"(more than {max_stale_samples}): invalid"
            )
    if frozen_samples >= 2 and hist.shape[0] >= frozen_samples - 1:
        window = np.vstack([hist[hist.shape[0] - (frozen_samples - 1) :], values[None, :]])
        with np.errstate(invalid="ignore"):
            spread = np.max(window, axis=0) - np.min(window, axis=0)
        frozen = np.all(np.isfinite(window), axis=0) & (spread <= frozen_tolerance)
        for j in np.flatnonzero(frozen & valid):
            valid[j] = False
            issues.append(
                f"measurement {names[j]!r} is frozen at {values[j]:.6g} for "
                f"{frozen_samples} samples: invalid"
            )
    return SanitisedMeasurements(
        values=values, valid=valid, issues=tuple(issues), history=hist.copy()
    )
