"""Feature maps of linear-in-features regression: polynomial and Gaussian RBF.

Features act on *scaled* inputs ``z`` (zero mean, unit standard deviation),
which keeps powers and distances well conditioned whatever the physical units.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
from numpy.typing import NDArray
from scipy.cluster.vq import kmeans2

from plant_models.datadriven.errors import IdentificationError

__all__ = [
    "polynomial_exponents",
    "polynomial_features",
    "rbf_centres",
    "rbf_features",
    "rbf_widths",
]


def polynomial_exponents(n_inputs: int, degree: int) -> NDArray[np.int64]:
    """Exponents of every monomial of total degree at most ``degree``.

    Parameters
    ----------
    n_inputs : int
        Number of input variables.
    degree : int
        Largest total degree (cross terms included), at least 1.

    Returns
    -------
    ndarray of int, shape (n_features, n_inputs)
        Row ``j`` holds the power of each input in feature ``j``; row 0 is the
        constant term, then degree 1, 2, ... in lexicographic order.
    """
    if n_inputs < 1 or degree < 1:
        raise IdentificationError(
            f"polynomial needs n_inputs >= 1 and degree >= 1, got {n_inputs}, {degree}"
        )
    rows = [np.zeros(n_inputs, dtype=np.int64)]
    for total in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(n_inputs), total):
            row = np.zeros(n_inputs, dtype=np.int64)
            np.add.at(row, list(combo), 1)
            rows.append(row)
    return np.array(rows, dtype=np.int64)


def polynomial_features(
    z: NDArray[np.float64], exponents: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Evaluate monomials: ``phi[i, j] = prod_k z[i, k] ** exponents[j, k]``.

    Parameters
    ----------
    z : ndarray, shape (n_samples, n_inputs)
        Scaled inputs.
    exponents : ndarray of int, shape (n_features, n_inputs)
        From :func:`polynomial_exponents`.
    """
    return np.prod(z[:, np.newaxis, :] ** exponents[np.newaxis, :, :], axis=2)


def rbf_centres(z: NDArray[np.float64], n_centres: int, seed: int = 0) -> NDArray[np.float64]:
    """Choose RBF centres by k-means (``scipy.cluster.vq.kmeans2``, k-means++ start).

    Parameters
    ----------
    z : ndarray, shape (n_samples, n_inputs)
        Scaled inputs.
    n_centres : int
        Requested number of centres; centres whose cluster ends up empty and
        duplicates are dropped, so fewer may be returned.
    seed : int
        Seed of the k-means++ initialisation.

    Returns
    -------
    ndarray, shape (n_kept, n_inputs)
    """
    n_unique = np.unique(z, axis=0).shape[0]
    if n_centres < 1:
        raise IdentificationError(f"n_centres must be at least 1, got {n_centres}")
    if n_unique < n_centres:
        raise IdentificationError(
            f"{n_centres} RBF centres requested but the data has only {n_unique} distinct points"
        )
    with warnings.catch_warnings():
        # An empty cluster is handled below (its centre is dropped); scipy's
        # warning about it carries no extra information.
        warnings.simplefilter("ignore", UserWarning)
        centres, labels = kmeans2(z, n_centres, minit="++", seed=np.random.default_rng(seed))
    used = np.unique(labels)
    return np.unique(centres[used], axis=0)


def rbf_widths(centres: NDArray[np.float64], width_factor: float = 1.0) -> NDArray[np.float64]:
    """Width of each Gaussian: ``width_factor`` times the distance to the nearest other centre.

    With a single centre the width is ``width_factor`` (one standard deviation
    of the scaled inputs).
    """
    if not width_factor > 0.0:
        raise IdentificationError(f"width_factor must be positive, got {width_factor}")
    if centres.shape[0] == 1:
        return np.array([width_factor])
    dist = np.sqrt(np.sum((centres[:, np.newaxis, :] - centres[np.newaxis, :, :]) ** 2, axis=2))
    np.fill_diagonal(dist, np.inf)
    return width_factor * dist.min(axis=1)


def rbf_features(
    z: NDArray[np.float64], centres: NDArray[np.float64], widths: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Evaluate ``[1, exp(-||z - c_j||^2 / (2 w_j^2)) for each centre j]``.

    Returns
    -------
    ndarray, shape (n_samples, 1 + n_centres)
        Column 0 is the intercept.
    """
    sq = np.sum((z[:, np.newaxis, :] - centres[np.newaxis, :, :]) ** 2, axis=2)
    gauss = np.exp(-sq / (2.0 * widths[np.newaxis, :] ** 2))
    return np.hstack([np.ones((z.shape[0], 1)), gauss])
