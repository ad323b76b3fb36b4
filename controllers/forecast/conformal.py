"""Split-conformal quantiles of forecast-error scores, and their empirical coverage.

Split conformal prediction (Vovk, Gammerman and Shafer, *Algorithmic
Learning in a Random World*, Springer 2005; Lei et al., J. Am. Stat. Assoc.
113:1094, 2018): a model fitted on one part of the history is scored on a
*calibration* part it has not seen; for exchangeable scores
``s_1..s_n`` and a new ``s``, the ``ceil((n + 1) q)``-th smallest calibration
score ``s_(k)`` satisfies ``P(s <= s_(k)) >= q`` whatever their distribution.
Scores here are per lead time (one column per lead), so each lead gets its
own quantile.  When ``ceil((n + 1) q) > n`` the calibration set is too small
for the quantile asked: the bound is infinite and :func:`conformal_quantile`
refuses rather than return the largest score.

numpy's ``quantile(..., method="higher")`` at the level ``k / n`` returns
exactly ``s_(k)``; only the rank is computed here.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from controllers.errors import ForecastError

__all__ = ["conformal_quantile", "conformal_rank", "empirical_coverage"]


def conformal_rank(n: int, quantile: float) -> int:
    """Rank ``k = ceil((n + 1) q)`` of the split-conformal quantile among ``n`` scores.

    Parameters
    ----------
    n : int
        Number of calibration scores.
    quantile : float
        Coverage wanted, in (0, 1). [-]

    Returns
    -------
    int
        1-based rank into the sorted scores.

    Raises
    ------
    ForecastError
        If ``quantile`` is outside (0, 1) or ``n`` scores cannot give it
        (``k > n``: fewer than ``q / (1 - q)`` scores).
    """
    if not 0.0 < quantile < 1.0:
        raise ForecastError(f"conformal quantile must be in (0, 1), got {quantile:g}")
    # The small epsilon keeps (n + 1) q that is a whole number in exact
    # arithmetic (n = 99, q = 0.9) from rounding up past it.
    k = math.ceil((n + 1) * quantile - 1e-9)
    if k > n or n < 1:
        need = math.ceil(quantile / (1.0 - quantile) - 1e-9)
        raise ForecastError(
            f"{n} calibration scores cannot give a {quantile:g} conformal quantile "
            f"(need at least {need}); lower the quantile or calibrate on more history"
        )
    return max(k, 1)


def conformal_quantile(scores: ArrayLike, quantile: float) -> NDArray[np.float64]:
    """Split-conformal upper bound of the scores, per column (lead time).

    Parameters
    ----------
    scores : array_like, shape (n,) or (n, n_leads)
        Calibration scores (larger is worse); NaN rows of a column are
        dropped from that column. [score unit]
    quantile : float
        Coverage wanted, in (0, 1). [-]

    Returns
    -------
    numpy.ndarray, shape () or (n_leads,)
        The ``ceil((n + 1) q)``-th smallest finite score of each column. [score unit]

    Raises
    ------
    ForecastError
        If a column has too few finite scores for ``quantile`` (see
        :func:`conformal_rank`) or ``scores`` has more than two dimensions.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim not in (1, 2):
        raise ForecastError(f"conformal scores must be 1-D or 2-D, got shape {s.shape}")
    columns = s[:, None] if s.ndim == 1 else s
    out = np.empty(columns.shape[1])
    for j in range(columns.shape[1]):
        col = np.sort(columns[np.isfinite(columns[:, j]), j])
        out[j] = col[conformal_rank(col.size, quantile) - 1]
    return out[0] if s.ndim == 1 else out


def empirical_coverage(scores: ArrayLike, bound: ArrayLike) -> NDArray[np.float64]:
    """Share of finite scores at or below ``bound``, per column.

    Parameters
    ----------
    scores : array_like, shape (n,) or (n, n_leads)
        Test scores (not those the bound was calibrated on). [score unit]
    bound : array_like, shape () or (n_leads,)
        The bound per column. [score unit]

    Returns
    -------
    numpy.ndarray, shape () or (n_leads,)
        Coverage; NaN for a column without finite scores. [-]
    """
    s = np.asarray(scores, dtype=np.float64)
    b = np.asarray(bound, dtype=np.float64)
    columns = s[:, None] if s.ndim == 1 else s
    finite = np.isfinite(columns)
    inside = np.sum(finite & (columns <= np.broadcast_to(b, columns.shape[1:])), axis=0)
    count = np.sum(finite, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = np.where(count > 0, inside / np.maximum(count, 1), np.nan)
    return cov[0] if s.ndim == 1 else cov
