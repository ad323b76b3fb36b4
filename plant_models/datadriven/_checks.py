"""Shared input checks of the identification routines (private).

Every public fitting function funnels its arrays through these helpers so that
the same problem gives the same :class:`IdentificationError` message everywhere.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plant_models.datadriven.errors import IdentificationError

#: Relative singular-value threshold below which a regressor or input Hankel
#: matrix counts as rank deficient.  Float64 carries about 16 digits; 1e-10
#: leaves room for the round-off of forming the matrix while still flagging an
#: exactly collinear or constant input, whose singular values sit near 1e-16.
RANK_RTOL = 1e-10


def as_2d(values: ArrayLike, name: str, n_samples: int | None = None) -> NDArray[np.float64]:
    """Return ``values`` as a float64 ``(n_samples, n_columns)`` array.

    A 1-D array is one column.  Raises :class:`IdentificationError` for
    non-finite entries (naming the column and the first bad row), an empty
    array or a sample count that differs from ``n_samples``.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, np.newaxis]
    if arr.ndim != 2:
        raise IdentificationError(
            f"{name} must be 1-D or 2-D (samples x columns), got {arr.ndim}-D"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise IdentificationError(f"{name} is empty (shape {arr.shape})")
    if n_samples is not None and arr.shape[0] != n_samples:
        raise IdentificationError(
            f"{name} has {arr.shape[0]} samples but the other data has {n_samples}"
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise IdentificationError(
            f"{name} contains {int(bad.sum())} NaN or infinite value(s); first in column "
            f"{int(col)} at sample {int(row)}: fill or drop them before identification"
        )
    return arr


def check_not_constant(arr: NDArray[np.float64], name: str) -> None:
    """Raise :class:`IdentificationError` if a column of ``arr`` is constant."""
    spread = np.ptp(arr, axis=0)
    scale = np.maximum(np.abs(arr).max(axis=0), 1.0)
    constant = np.flatnonzero(spread <= 1e-12 * scale)
    if constant.size:
        raise IdentificationError(
            f"{name} column(s) {constant.tolist()} are constant: rank-deficient excitation, "
            "their effect cannot be identified from this data"
        )


def check_rank(matrix: NDArray[np.float64], what: str) -> NDArray[np.float64]:
    """Return the singular values of ``matrix``; raise if it is rank deficient.

    Parameters
    ----------
    matrix : ndarray
        Regressor or data matrix (any shape).
    what : str
        Description used in the message, e.g. ``"ARX regressor (na=2, nb=[2])"``.
    """
    sv = np.asarray(np.linalg.svd(matrix, compute_uv=False), dtype=np.float64)
    if sv.size == 0 or sv[0] == 0.0 or sv[-1] < RANK_RTOL * sv[0]:
        ratio = 0.0 if sv.size == 0 or sv[0] == 0.0 else sv[-1] / sv[0]
        raise IdentificationError(
            f"rank-deficient excitation: the {what} has relative singular value "
            f"{ratio:.2e} < {RANK_RTOL:g}; the inputs are not persistently exciting "
            "(constant, collinear or too slowly varying) for the requested orders, or "
            "the orders exceed what noise-free data can determine (lower them)"
        )
    return sv


def check_int(value: int, name: str, low: int) -> int:
    """Return ``value`` as an int, raising ``IdentificationError`` below ``low``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise IdentificationError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise IdentificationError(f"{name} must be at least {low}, got {value}")
    return int(value)
