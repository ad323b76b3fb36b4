"""Ridge (Tikhonov) least squares with the penalty chosen from the data.

Minimises, independently for every output column ``k``::

    ||y_k - Phi theta_k||^2 + lambda_k ||theta_k[penalized]||^2

Columns listed as *unpenalized* (an intercept) are projected out first, so the
penalty never shrinks them.  ``lambda_k`` is chosen on a logarithmic grid by
generalised cross-validation (Golub, Heath and Wahba 1979) or by k-fold
cross-validation.  The SVD of the projected regressor gives every grid point
at the cost of one decomposition; scipy/numpy offer no ridge path with GCV,
which is why the few lines below are written here.

Penalties are reported per sample, ``alpha = lambda / n_samples``, so a fixed
``alpha`` means the same on short and long data sets of scaled variables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from plant_models.datadriven.errors import IdentificationError

__all__ = ["PenaltyChoice", "RidgeResult", "ridge_fit"]

#: How the penalty is chosen: "gcv", "kfold", or a fixed ``alpha >= 0``.
PenaltyChoice = Literal["gcv", "kfold"] | float

#: Grid of alpha relative to the largest squared singular value per sample:
#: from essentially unregularised (1e-12) to very strong shrinkage (10).
_RELATIVE_GRID = np.logspace(-12.0, 1.0, 53)


@dataclass(frozen=True, eq=False)
class RidgeResult:
    """Result of :func:`ridge_fit`.

    Attributes
    ----------
    coef : ndarray, shape (n_features, n_outputs)
        Coefficients.
    alpha : ndarray, shape (n_outputs,)
        Chosen penalty per sample for each output. [-]
    dof : ndarray, shape (n_outputs,)
        Effective degrees of freedom (trace of the hat matrix) per output.
    method : str
        ``"gcv"``, ``"kfold"`` or ``"fixed"``.
    """

    coef: NDArray[np.float64]
    alpha: NDArray[np.float64]
    dof: NDArray[np.float64]
    method: str


@dataclass(frozen=True)
class _Projected:
    """Regressor with the unpenalized columns projected out, in SVD form."""

    u: NDArray[np.float64]  # (n, r)
    s: NDArray[np.float64]  # (r,)
    vt: NDArray[np.float64]  # (r, n_pen)
    q_unpen: NDArray[np.float64]  # (n, k) orthonormal basis of unpenalized columns
    r_unpen: NDArray[np.float64]  # (k, k)


def _project(phi: NDArray[np.float64], unpen: NDArray[np.intp]) -> _Projected:
    n = phi.shape[0]
    pen = np.setdiff1d(np.arange(phi.shape[1]), unpen)
    p_mat = phi[:, pen]
    if unpen.size:
        q, r = np.linalg.qr(phi[:, unpen])
        diag = np.abs(np.diag(r))
        if diag.min() <= 1e-12 * max(diag.max(), 1.0):
            raise IdentificationError("unpenalized regressor columns are collinear")
        p_mat = p_mat - q @ (q.T @ p_mat)
    else:
        q, r = np.zeros((n, 0)), np.zeros((0, 0))
    u, s, vt = np.linalg.svd(p_mat, full_matrices=False)
    return _Projected(u, s, vt, q, r)


def _solve(
    proj: _Projected,
    phi: NDArray[np.float64],
    y: NDArray[np.float64],
    lam: NDArray[np.float64],
    unpen: NDArray[np.intp],
) -> NDArray[np.float64]:
    """Coefficients for one lambda per output column."""
    n_feat = phi.shape[1]
    pen = np.setdiff1d(np.arange(n_feat), unpen)
    y_proj = y - proj.q_unpen @ (proj.q_unpen.T @ y)
    c = proj.u.T @ y_proj  # (r, n_out)
    s = proj.s[:, np.newaxis]
    tol = proj.s[0] * 1e-14 if proj.s.size else 0.0
    denom = s**2 + lam[np.newaxis, :]
    # Singular values at round-off level carry no information: drop them
    # instead of dividing by ~0 when lambda is zero.
    filt = np.where((s > tol) & (denom > 0.0), s / np.where(denom > 0.0, denom, 1.0), 0.0)
    theta_pen = proj.vt.T @ (filt * c)
    coef = np.zeros((n_feat, y.shape[1]))
    coef[pen] = theta_pen
    if unpen.size:
        rest = y - phi[:, pen] @ theta_pen
        coef[unpen] = np.linalg.solve(proj.r_unpen, proj.q_unpen.T @ rest)
    return coef


def _gcv_scores(
    proj: _Projected, y: NDArray[np.float64], lam_grid: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCV score and dof for every (lambda, output); shapes (n_lam, n_out), (n_lam,)."""
    n = y.shape[0]
    k = proj.q_unpen.shape[1]
    y_proj = y - proj.q_unpen @ (proj.q_unpen.T @ y)
    c = proj.u.T @ y_proj  # (r, n_out)
    outside = np.sum(y_proj**2, axis=0) - np.sum(c**2, axis=0)  # residual outside range(U)
    s2 = proj.s[np.newaxis, :, np.newaxis] ** 2
    lam = lam_grid[:, np.newaxis, np.newaxis]
    shrink = lam / (s2 + lam)  # (n_lam, r, 1)
    rss = np.maximum(outside, 0.0)[np.newaxis, :] + np.sum((shrink * c[np.newaxis]) ** 2, axis=1)
    dof = k + np.sum(s2 / (s2 + lam), axis=1)[:, 0]
    room = n - dof
    with np.errstate(divide="ignore"):
        score = np.where(room[:, np.newaxis] > 0.5, n * rss / room[:, np.newaxis] ** 2, np.inf)
    return score, dof


def _folds(n: int, n_folds: int, shuffle: bool, seed: int) -> list[NDArray[np.intp]]:
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    return list(np.array_split(order, n_folds))


def ridge_fit(
    phi: NDArray[np.float64],
    y: NDArray[np.float64],
    penalty: PenaltyChoice = "gcv",
    *,
    unpenalized: Sequence[int] = (),
    n_folds: int = 5,
    shuffle: bool = True,
    seed: int = 0,
) -> RidgeResult:
    """Fit ridge regression coefficients with a data-chosen or fixed penalty.

    Parameters
    ----------
    phi : ndarray, shape (n_samples, n_features)
        Regressor matrix (features of scaled inputs).
    y : ndarray, shape (n_samples, n_outputs)
        Scaled targets.
    penalty : {"gcv", "kfold"} or float
        Penalty choice; a float is a fixed ``alpha = lambda / n_samples >= 0``.
    unpenalized : sequence of int
        Feature columns not penalised (for example the intercept).
    n_folds : int
        Folds of k-fold cross-validation.
    shuffle : bool
        Assign samples to folds at random (static maps) or in contiguous blocks
        (time series, where neighbours are correlated).
    seed : int
        Seed of the fold assignment.

    Returns
    -------
    RidgeResult

    Raises
    ------
    IdentificationError
        For fewer samples than unpenalized columns plus one, a negative fixed
        penalty, too few samples for the folds, or collinear unpenalized columns.
    """
    n = phi.shape[0]
    unpen = np.asarray(sorted(set(unpenalized)), dtype=np.intp)
    if n <= unpen.size:
        raise IdentificationError(f"too few samples ({n}) for {unpen.size} unpenalized terms")
    proj = _project(phi, unpen)
    n_out = y.shape[1]
    if isinstance(penalty, str):
        smax2 = float(proj.s[0] ** 2) if proj.s.size and proj.s[0] > 0 else 1.0
        lam_grid = _RELATIVE_GRID * smax2
        if penalty == "gcv":
            score, dofs = _gcv_scores(proj, y, lam_grid)
            best = np.argmin(score, axis=0)
            lam = lam_grid[best]
            dof = dofs[best]
        elif penalty == "kfold":
            if not 2 <= n_folds <= n // 2:
                raise IdentificationError(
                    f"k-fold needs 2 <= n_folds <= n_samples/2, got {n_folds} for {n} samples"
                )
            err = np.zeros((lam_grid.size, n_out))
            for fold in _folds(n, n_folds, shuffle, seed):
                train = np.setdiff1d(np.arange(n), fold)
                sub = _project(phi[train], unpen)
                for i, lam_i in enumerate(lam_grid):
                    coef_i = _solve(sub, phi[train], y[train], np.full(n_out, lam_i), unpen)
                    err[i] += np.sum((y[fold] - phi[fold] @ coef_i) ** 2, axis=0)
            best = np.argmin(err, axis=0)
            lam = lam_grid[best]
            _, dofs = _gcv_scores(proj, y, lam_grid)
            dof = dofs[best]
        else:
            raise IdentificationError(f"penalty must be 'gcv', 'kfold' or a float, got {penalty!r}")
        method: str = penalty
    else:
        alpha = float(penalty)
        if not np.isfinite(alpha) or alpha < 0.0:
            raise IdentificationError(f"a fixed penalty must be finite and >= 0, got {penalty}")
        lam = np.full(n_out, alpha * n)
        s2 = proj.s**2
        dof = np.array(
            [
                unpen.size + np.sum(s2 / (s2 + li)) if li > 0 else unpen.size + np.sum(s2 > 0)
                for li in lam
            ],
            dtype=np.float64,
        )
        method = "fixed"
    coef = _solve(proj, phi, y, np.asarray(lam, dtype=np.float64), unpen)
    return RidgeResult(coef=coef, alpha=np.asarray(lam) / n, dof=np.asarray(dof), method=method)
