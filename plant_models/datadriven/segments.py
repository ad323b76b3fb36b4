"""Sample masks and gap-free segments: identification never fits across a gap.

Historian data has holes (bad or missing samples).  The identification
routines take a boolean ``valid`` mask, one entry per sample, and

- static maps use the valid rows only;
- ARX uses only the regression rows whose whole lag window is valid;
- state-space fits use the longest gap-free segment (subspace Hankel
  matrices and the initial state are per trajectory);
- validation simulates each gap-free segment separately and pools the errors.

Invalid rows may hold NaN: :func:`fill_invalid` replaces them with a finite
value that no kept equation uses.
"""

from __future__ import annotations

from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plant_models.datadriven.errors import IdentificationError

__all__ = ["as_mask", "fill_invalid", "segments", "window_valid"]


def as_mask(valid: ArrayLike | None, n: int) -> NDArray[np.bool_]:
    """Return ``valid`` as a boolean array of ``n`` samples (all true if ``None``).

    Raises
    ------
    IdentificationError
        If the mask has another length or marks no sample valid.
    """
    if valid is None:
        return np.ones(n, dtype=bool)
    mask = np.asarray(valid)
    if mask.dtype != np.bool_ or mask.shape != (n,):
        raise IdentificationError(
            f"valid must be a boolean array of {n} samples, got {mask.dtype} {mask.shape}"
        )
    if not mask.any():
        raise IdentificationError("no valid sample: every sample is masked out")
    return mask


@overload
def fill_invalid(values: None, mask: NDArray[np.bool_]) -> None: ...


@overload
def fill_invalid(values: ArrayLike, mask: NDArray[np.bool_]) -> NDArray[np.float64]: ...


def fill_invalid(values: ArrayLike | None, mask: NDArray[np.bool_]) -> NDArray[np.float64] | None:
    """Copy of ``values`` whose masked-out rows hold the column means of the valid rows.

    The filled values are finite placeholders only: callers drop every
    equation that touches a masked-out row.  Non-finite values in *valid*
    rows are left for the usual checks to report.
    """
    if values is None:
        return None
    arr = np.array(values, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[0] != mask.shape[0] or mask.all():
        return arr
    good = arr[mask]
    fill = np.where(np.isfinite(good), good, 0.0).mean(axis=0) if good.size else 0.0
    arr[~mask] = fill
    return arr


def segments(mask: NDArray[np.bool_], min_length: int = 1) -> list[tuple[int, int]]:
    """Half-open ``(start, stop)`` index ranges of the runs of true values.

    Parameters
    ----------
    mask : ndarray of bool, shape (N,)
        Valid samples.
    min_length : int
        Shortest run returned. [samples]
    """
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [
        (int(a), int(b))
        for a, b in zip(edges[::2], edges[1::2], strict=True)
        if b - a >= min_length
    ]


def window_valid(mask: NDArray[np.bool_], lags: int) -> NDArray[np.bool_]:
    """For ``t = lags .. N-1``: whether samples ``t - lags .. t`` are all valid."""
    bad = np.concatenate([[0], np.cumsum(~mask)])
    t = np.arange(lags, mask.shape[0])
    return np.asarray((bad[t + 1] - bad[t - lags]) == 0, dtype=bool)
