"""Steady-state detection: which historian samples show the plant settled in a mode.

Rule (documented in :func:`steady_mask`): a sample is steady when it is
valid and, in the centred window of ``window`` samples around it (rows
holding a NaN left out; at least half the rows valid), every chosen
variable's standard deviation is below ``rel_std`` times that variable's
overall spread (its 1-99 percentile range over all valid samples).  Ramps
between modes raise the rolling standard deviation (a ramp of total change
``D`` over the window has a standard deviation of about ``D / sqrt(12)``), so
they are excluded, while measurement noise much smaller than the distance
between modes is not.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.ndimage import uniform_filter1d

from controllers.errors import ModeError

__all__ = ["as_sample_matrix", "steady_mask"]


def as_sample_matrix(x: npt.ArrayLike, name: str = "x") -> np.ndarray:
    """Return ``x`` as a float64 matrix (rows = samples, columns = variables).

    Parameters
    ----------
    x : array_like
        Samples; a 1-D array is one variable. [engineering units]
    name : str
        Name used in error messages.

    Returns
    -------
    numpy.ndarray
        Array of shape ``(n_samples, n_variables)``.

    Raises
    ------
    ModeError
        If ``x`` is not 1-D or 2-D, has no column, or holds infinities.
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, np.newaxis]
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ModeError(
            f"{name} must be a matrix (rows = samples, columns = variables); got shape {arr.shape}"
        )
    if np.isinf(arr).any():
        raise ModeError(f"{name} holds infinite values; use NaN for missing samples")
    return arr


def steady_mask(x: npt.ArrayLike, window: int, rel_std: float) -> np.ndarray:
    """Flag the samples at which the plant is steady.

    Parameters
    ----------
    x : array_like
        Samples at a uniform interval, shape ``(n_samples, n_variables)``;
        NaN marks a missing value. [engineering units]
    window : int
        Length of the centred window, in samples (an odd number is used as
        is, an even one is made odd by adding one). [-]
    rel_std : float
        Largest rolling standard deviation of a variable, as a fraction of
        that variable's 1-99 percentile range, for the sample to be steady.
        [-]

    Returns
    -------
    numpy.ndarray
        Boolean array of shape ``(n_samples,)``: True where steady.  The first
        and last ``window // 2`` samples and every sample whose window holds a
        NaN are not steady (conservative: they cannot be checked).

    Raises
    ------
    ModeError
        If ``window < 3`` or ``rel_std`` is not positive.

    Notes
    -----
    The rolling mean and mean square come from
    :func:`scipy.ndimage.uniform_filter1d` (O(n) per variable) on data
    centred on the column mean, which keeps the variance difference
    ``E[x^2] - E[x]^2`` accurate.  A variable that is constant over the whole
    data has zero range; it never makes a sample unsteady.
    """
    arr = as_sample_matrix(x)
    if window < 3:
        raise ModeError(f"steady window must be at least 3 samples; got {window}")
    if not rel_std > 0.0:
        raise ModeError(f"steady rel_std must be positive; got {rel_std}")
    width = window + 1 - window % 2
    half = width // 2
    n_samples = arr.shape[0]
    mask = np.zeros(n_samples, dtype=bool)
    if n_samples < width:
        return mask

    finite = np.isfinite(arr)
    row_ok = finite.all(axis=1)
    if not row_ok.any():
        return mask
    valid_rows = arr[row_ok]
    lo, hi = np.percentile(valid_rows, [1.0, 99.0], axis=0)
    spread = hi - lo
    centre = valid_rows.mean(axis=0)

    # Window sums over valid rows only: a gap shortens the window instead of voiding it.
    weight = row_ok.astype(np.float64)
    filled = np.where(row_ok[:, np.newaxis], arr - centre, 0.0)
    count = uniform_filter1d(weight, width, mode="constant") * width
    total = uniform_filter1d(filled, width, axis=0, mode="constant") * width
    total_sq = uniform_filter1d(filled * filled, width, axis=0, mode="constant") * width
    enough = count >= 0.5 * width
    safe_count = np.where(enough, count, 1.0)[:, np.newaxis]
    mean = total / safe_count
    var = np.maximum(total_sq / safe_count - mean * mean, 0.0)
    limit_sq = (rel_std * spread) ** 2
    quiet = (var <= limit_sq) | (spread <= 0.0)

    mask = quiet.all(axis=1) & enough & row_ok
    mask[:half] = False
    mask[n_samples - half :] = False
    return mask
