"""Ridge regression: penalty choice by GCV and k-fold against brute-force references."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plant_models.datadriven.errors import IdentificationError
from plant_models.datadriven.ridge import _RELATIVE_GRID, ridge_fit


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    phi = np.column_stack([np.ones(60), rng.normal(size=(60, 8))])
    theta = rng.normal(size=(9, 2))
    y = phi @ theta + 0.5 * rng.normal(size=(60, 2))
    return phi, y


def _explicit(phi: np.ndarray, y: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Ridge with an unpenalised intercept by the normal equations, and its hat matrix."""
    pen = np.eye(phi.shape[1])
    pen[0, 0] = 0.0
    gram = phi.T @ phi + lam * pen
    coef = np.linalg.solve(gram, phi.T @ y)
    hat = phi @ np.linalg.solve(gram, phi.T)
    return coef, hat


def test_fixed_penalty_matches_normal_equations() -> None:
    phi, y = _data()
    fit = ridge_fit(phi, y, 0.1, unpenalized=(0,))
    coef, hat = _explicit(phi, y, 0.1 * phi.shape[0])
    # Tolerance: two exact solution methods (SVD vs Cholesky-free solve) of a
    # well-conditioned 9x9 system agree to round-off.
    assert_allclose(fit.coef, coef, rtol=1e-10, atol=1e-12)
    assert_allclose(fit.dof, np.trace(hat), rtol=1e-10)
    assert fit.method == "fixed"


def test_gcv_choice_and_score_match_brute_force() -> None:
    phi, y = _data()
    fit = ridge_fit(phi, y, "gcv", unpenalized=(0,))
    # Brute force: the GCV score n ||(I - H) y||^2 / tr(I - H)^2 on the same grid.
    pen = phi.copy()
    pen[:, 1:] -= np.outer(np.ones(60), pen[:, 1:].mean(axis=0))
    smax2 = np.linalg.svd(pen[:, 1:], compute_uv=False)[0] ** 2
    best = []
    for k in range(2):
        scores = []
        for lam in _RELATIVE_GRID * smax2:
            _, hat = _explicit(phi, y, lam)
            resid = y[:, k] - hat @ y[:, k]
            scores.append(60 * resid @ resid / (60 - np.trace(hat)) ** 2)
        best.append(_RELATIVE_GRID[int(np.argmin(scores))] * smax2 / 60)
    # Tolerance: same grid points, so the chosen values agree to round-off.
    assert_allclose(fit.alpha, best, rtol=1e-10)
    coef, _ = _explicit(phi, y[:, :1], fit.alpha[0] * 60)
    assert_allclose(fit.coef[:, :1], coef, rtol=1e-9, atol=1e-12)


def test_kfold_choice_matches_brute_force() -> None:
    phi, y = _data(1)
    fit = ridge_fit(phi, y, "kfold", unpenalized=(0,), n_folds=4, shuffle=False)
    folds = np.array_split(np.arange(60), 4)
    pen = phi[:, 1:] - phi[:, 1:].mean(axis=0)
    smax2 = np.linalg.svd(pen, compute_uv=False)[0] ** 2
    errors = np.zeros((_RELATIVE_GRID.size, 2))
    for i, lam in enumerate(_RELATIVE_GRID * smax2):
        for fold in folds:
            train = np.setdiff1d(np.arange(60), fold)
            coef, _ = _explicit(phi[train], y[train], lam)
            errors[i] += np.sum((y[fold] - phi[fold] @ coef) ** 2, axis=0)
    expected = _RELATIVE_GRID[np.argmin(errors, axis=0)] * smax2 / 60
    # Tolerance: identical grid points, round-off only.
    assert_allclose(fit.alpha, expected, rtol=1e-10)


def test_gcv_shrinks_pure_noise_and_keeps_signal() -> None:
    rng = np.random.default_rng(3)
    phi = np.column_stack([np.ones(200), rng.normal(size=(200, 5))])
    signal = phi @ np.array([1.0, 2.0, -1.0, 0.5, 0.0, 0.0])
    noise_only = rng.normal(size=200)
    fit = ridge_fit(phi, np.column_stack([signal, noise_only]), "gcv", unpenalized=(0,))
    # Noise-free signal: GCV picks the smallest penalty; pure noise: a large one.
    assert fit.alpha[0] < 1e-6
    assert fit.alpha[1] > 1.0


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"penalty": -1.0}, "fixed penalty must be finite and >= 0"),
        ({"penalty": "loo"}, "penalty must be 'gcv', 'kfold' or a float"),
        ({"penalty": "kfold", "n_folds": 1}, "k-fold needs 2 <= n_folds"),
    ],
)
def test_invalid_settings(kwargs: dict, fragment: str) -> None:
    phi, y = _data()
    with pytest.raises(IdentificationError, match=fragment):
        ridge_fit(phi, y, **kwargs)


def test_collinear_unpenalized_columns() -> None:
    phi, y = _data()
    phi = np.column_stack([phi[:, 0], phi])
    with pytest.raises(IdentificationError, match="collinear"):
        ridge_fit(phi, y, 0.0, unpenalized=(0, 1))
