"""Numba integration kernels (private; use :mod:`plant_models.core.simulate`).

Every kernel takes the numba-compiled ``f`` and ``g`` of a model as its first
arguments, so numba specialises it per model.  Such kernels cannot be cached
on disk (the dispatcher type is part of the signature and is new in every
process), hence ``cache=False``: each model's kernels compile once per
process.

Time grid: ``u[k]`` and ``d[k]`` hold on ``[t_k, t_k + h)`` (zero-order hold);
``ys[k] = g(x_k, u_k, d_k, p)``; ``xs[k + 1]`` is the state at ``t_k + h``.
Kernels return a status: 0 for success, ``k + 1`` if the state became
non-finite in interval ``k``, ``-(k + 1)`` if the Newton iteration of an
implicit step failed in interval ``k``.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

# Methods of :func:`run_implicit`.
IMPLICIT_EULER = 0
SDIRK2 = 1

_SQRT_EPS = math.sqrt(np.finfo(np.float64).eps)
# Alexander (1977) two-stage SDIRK: L-stable, stiffly accurate, order 2.
_GAMMA2 = 1.0 - 1.0 / math.sqrt(2.0)


@numba.njit(cache=True)
def _linear_solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    # A separate cached kernel: compiling numba's LAPACK binding takes about
    # 3 s, which the on-disk cache then saves in every later process.
    return np.linalg.solve(a, b)


@numba.njit(cache=False, error_model="numpy")
def run_rk4(
    f: Any,
    g: Any,
    x0: np.ndarray,
    u: np.ndarray,
    d: np.ndarray,
    p: np.ndarray,
    h: float,
    substeps: int,
    xs: np.ndarray,
    ys: np.ndarray,
) -> int:  # pragma: no cover - compiled by numba
    """Classical fourth-order Runge-Kutta with ``substeps`` equal sub-steps per interval."""
    n_steps = u.shape[0]
    x = x0.copy()
    xs[0, :] = x
    hs = h / substeps
    for k in range(n_steps):
        uk = u[k]
        dk = d[k]
        ys[k, :] = g(x, uk, dk, p)
        for _ in range(substeps):
            k1 = f(x, uk, dk, p)
            k2 = f(x + 0.5 * hs * k1, uk, dk, p)
            k3 = f(x + 0.5 * hs * k2, uk, dk, p)
            k4 = f(x + hs * k3, uk, dk, p)
            x = x + (hs / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        for i in range(x.shape[0]):
            if not math.isfinite(x[i]):
                return k + 1
        xs[k + 1, :] = x
    return 0


@numba.njit(cache=False, error_model="numpy")
def _jacobian_fd(
    f: Any, x: np.ndarray, u: np.ndarray, d: np.ndarray, p: np.ndarray, scale: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled by numba
    # Forward differences rather than complex step: numba's math functions
    # and fmin/fmax are real-only, so f cannot take complex arguments.  The
    # Jacobian only drives a (modified) Newton iteration, whose converged
    # result does not depend on its accuracy.
    n = x.shape[0]
    jac = np.empty((n, n))
    f0 = f(x, u, d, p)
    xp = x.copy()
    for j in range(n):
        step = _SQRT_EPS * max(abs(x[j]), scale[j])
        xp[j] = x[j] + step
        fj = f(xp, u, d, p)
        for i in range(n):
            jac[i, j] = (fj[i] - f0[i]) / step
        xp[j] = x[j]
    return jac


@numba.njit(cache=False, error_model="numpy")
def _sdirk_step(
    f: Any,
    x: np.ndarray,
    u: np.ndarray,
    d: np.ndarray,
    p: np.ndarray,
    h: float,
    method: int,
    scale: np.ndarray,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, bool]:  # pragma: no cover - compiled by numba
    """One SDIRK step of size ``h``; returns the new state and a convergence flag."""
    n = x.shape[0]
    if method == IMPLICIT_EULER:
        gamma = 1.0
        n_stages = 1
    else:
        gamma = _GAMMA2
        n_stages = 2
    jac = _jacobian_fd(f, x, u, d, p, scale)
    if not np.all(np.isfinite(jac)):
        return x, False
    iteration_matrix = np.eye(n) - (h * gamma) * jac
    k_prev = np.zeros(n)
    z = x.copy()
    for stage in range(n_stages):
        # Known part of the stage value: x + h * sum_{j < i} a_ij k_j.
        base = x.copy()
        if stage == 1:
            base += (h * (1.0 - gamma)) * k_prev
        converged = False
        for _ in range(max_iter):
            fz = f(z, u, d, p)
            residual = z - base - (h * gamma) * fz
            if not np.all(np.isfinite(residual)):
                return z, False
            delta = _linear_solve(iteration_matrix, -residual)
            z = z + delta
            err = 0.0
            for i in range(n):
                e = abs(delta[i]) / (scale[i] * tol + tol * abs(z[i]))
                err = max(err, e)
            if err <= 1.0:
                converged = True
                break
        if not converged:
            return z, False
        k_prev = f(z, u, d, p)
    # Both tableaux are stiffly accurate: the new state is the last stage value.
    return z, True


@numba.njit(cache=False, error_model="numpy")
def run_implicit(
    f: Any,
    g: Any,
    x0: np.ndarray,
    u: np.ndarray,
    d: np.ndarray,
    p: np.ndarray,
    h: float,
    substeps: int,
    method: int,
    scale: np.ndarray,
    tol: float,
    max_iter: int,
    xs: np.ndarray,
    ys: np.ndarray,
) -> int:  # pragma: no cover - compiled by numba
    """L-stable implicit integration (implicit Euler or SDIRK2) with Newton iteration.

    A sub-step whose Newton iteration fails is retried as eight shorter steps
    (each with a fresh Jacobian) before the kernel reports failure.
    """
    n_steps = u.shape[0]
    x = x0.copy()
    xs[0, :] = x
    hs = h / substeps
    for k in range(n_steps):
        uk = u[k]
        dk = d[k]
        ys[k, :] = g(x, uk, dk, p)
        for _ in range(substeps):
            x_new, ok = _sdirk_step(f, x, uk, dk, p, hs, method, scale, tol, max_iter)
            if not ok:
                x_new = x
                for _ in range(8):
                    x_new, ok = _sdirk_step(
                        f, x_new, uk, dk, p, hs / 8.0, method, scale, tol, max_iter
                    )
                    if not ok:
                        return -(k + 1)
            x = x_new
        for i in range(x.shape[0]):
            if not math.isfinite(x[i]):
                return k + 1
        xs[k + 1, :] = x
    return 0


@numba.njit(cache=False, parallel=True, error_model="numpy")
def run_batch_rk4(
    f: Any,
    g: Any,
    x0: np.ndarray,
    u: np.ndarray,
    d: np.ndarray,
    p: np.ndarray,
    h: float,
    substeps: int,
    xs: np.ndarray,
    ys: np.ndarray,
    status: np.ndarray,
) -> None:  # pragma: no cover - compiled by numba
    """Run RK4 scenarios (first axis of every array) in parallel."""
    for s in numba.prange(x0.shape[0]):
        status[s] = run_rk4(f, g, x0[s], u[s], d[s], p[s], h, substeps, xs[s], ys[s])


@numba.njit(cache=False, parallel=True, error_model="numpy")
def run_batch_implicit(
    f: Any,
    g: Any,
    x0: np.ndarray,
    u: np.ndarray,
    d: np.ndarray,
    p: np.ndarray,
    h: float,
    substeps: int,
    method: int,
    scale: np.ndarray,
    tol: float,
    max_iter: int,
    xs: np.ndarray,
    ys: np.ndarray,
    status: np.ndarray,
) -> None:  # pragma: no cover - compiled by numba
    """Run implicit-method scenarios (first axis of every array) in parallel."""
    for s in numba.prange(x0.shape[0]):
        status[s] = run_implicit(
            f, g, x0[s], u[s], d[s], p[s], h, substeps, method, scale, tol, max_iter, xs[s], ys[s]
        )
