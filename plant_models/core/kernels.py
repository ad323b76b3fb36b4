"""Integration kernels: the template appended to every generated model module (private).

:mod:`plant_models.core.codegen` writes one Python module per model: the
model's ``f_into``, ``g_into`` and ``jac_into`` as straight-line code, then
the source of this file below :data:`TEMPLATE_MARKER`.  The kernels call the
model functions as *globals* of their own module (not as first-class function
arguments), so numba inlines them and can cache every kernel on disk
(``cache=True``): a second process loads the compiled code instead of
compiling it.  The stubs above the marker only let this file be imported,
linted and type-checked; they are never compiled.

Time grid: ``u[k]`` and ``d[k]`` hold on ``[t_k, t_k + h)`` (zero-order hold);
``ys[k] = g(x_k, u_k, d_k, p)``; ``xs[k + 1]`` is the state at ``t_k + h``.
Within an interval the inputs are held, so the kernels evaluate the part of
``f`` that depends on ``u``, ``d`` and ``p`` alone once per interval
(``f_const_into``) and only the state part (``f_state_into``) in every stage
and Newton iteration: bit for bit ``f_into``'s result (on the steelworks
plant 94 of the 311 operations of ``f``; RK4 1.4x faster).
Kernels return a status: 0 for success, ``k + 1`` if the state became
non-finite in interval ``k``, ``-(k + 1)`` if the Newton iteration of an
implicit step failed in interval ``k``.  Every work array is allocated once
per run, never per step.
"""

from __future__ import annotations

import math

import numba
import numpy as np


def f_into(x: np.ndarray, u: np.ndarray, d: np.ndarray, p: np.ndarray, out: np.ndarray) -> None:
    """Stub of the generated ``f``: write ``dx/dt`` (or ``x_next``) into ``out``."""
    raise NotImplementedError("kernels.py is a template; use plant_models.core.codegen")


def g_into(x: np.ndarray, u: np.ndarray, d: np.ndarray, p: np.ndarray, out: np.ndarray) -> None:
    """Stub of the generated ``g``: write the outputs into ``out``."""
    raise NotImplementedError("kernels.py is a template; use plant_models.core.codegen")


def jac_into(x: np.ndarray, u: np.ndarray, d: np.ndarray, p: np.ndarray, out: np.ndarray) -> None:
    """Stub of the generated ``df/dx``: write the dense Jacobian into ``out`` (nx, nx)."""
    raise NotImplementedError("kernels.py is a template; use plant_models.core.codegen")


def f_const_into(u: np.ndarray, d: np.ndarray, p: np.ndarray, c: np.ndarray) -> None:
    """Stub of the generated state-free part of ``f``: write its ``N_C`` values into ``c``."""
    raise NotImplementedError("kernels.py is a template; use plant_models.core.codegen")


def f_state_into(x: np.ndarray, c: np.ndarray, out: np.ndarray) -> None:
    """Stub of the generated state part of ``f``: ``f_into``'s result, from ``x`` and ``c``."""
    raise NotImplementedError("kernels.py is a template; use plant_models.core.codegen")


#: Output count; the generated module defines the model's own value.
N_Y = 0
#: Count of the state-free values of ``f`` (``c``); the generated module defines it.
N_C = 0

#: Line after which the source of this file is copied into generated modules.
TEMPLATE_MARKER = "# ---- template body: copied into every generated model module ----"

# ---- template body: copied into every generated model module ----

# Methods of :func:`run_implicit`.
IMPLICIT_EULER = 0
SDIRK2 = 1
SDIRK3 = 2
#: Newton iterations allowed with the factors of an earlier step before a
#: fresh Jacobian is evaluated.
_STALE_ITER = 4

# Alexander (1977) two-stage SDIRK: L-stable, stiffly accurate, order 2.
_GAMMA2 = 1.0 - 1.0 / math.sqrt(2.0)
# Alexander (1977) three-stage SDIRK: L-stable, stiffly accurate, order 3
# (R. Alexander, "Diagonally implicit Runge-Kutta methods for stiff
# O.D.E.'s", SIAM J. Numer. Anal. 14 (1977) 1006-1021, method of order 3
# and s = 3; also Hairer and Wanner, Solving ODEs II, 2nd ed., sec. IV.6).
# gamma is the root in (1/3, 1/2) of 6 g^3 - 18 g^2 + 9 g - 1 = 0 (that
# makes R(infinity) = 0); a21 = (1 - gamma) / 2 (c2 = (1 + gamma) / 2),
# b1 = -(6 g^2 - 16 g + 1) / 4, b2 = (6 g^2 - 20 g + 5) / 4, b3 = gamma, and
# the last row of A is b (stiffly accurate).
_GAMMA3 = 0.43586652150845899941601945
_A21_3 = 0.5 * (1.0 - _GAMMA3)
_B1_3 = -(6.0 * _GAMMA3 * _GAMMA3 - 16.0 * _GAMMA3 + 1.0) / 4.0
_B2_3 = (6.0 * _GAMMA3 * _GAMMA3 - 20.0 * _GAMMA3 + 5.0) / 4.0


@numba.njit(cache=True, error_model="numpy")
def f(x, u, d, p):  # pragma: no cover - compiled
    """Return ``dx/dt`` (continuous time) or ``x_next`` (discrete time) as a new array."""
    out = np.empty(x.shape[0])
    f_into(x, u, d, p, out)
    return out


@numba.njit(cache=True, error_model="numpy")
def g(x, u, d, p):  # pragma: no cover - compiled
    """Return the outputs ``y`` as a new array."""
    out = np.empty(N_Y)
    g_into(x, u, d, p, out)
    return out


@numba.njit(cache=True, error_model="numpy")
def jac(x, u, d, p):  # pragma: no cover - compiled
    """Return the exact Jacobian ``df/dx``, shape ``(nx, nx)``."""
    out = np.empty((x.shape[0], x.shape[0]))
    jac_into(x, u, d, p, out)
    return out


@numba.njit(cache=True, error_model="numpy")
def run_rk4(x0, u, d, p, h, substeps, xs, ys):  # pragma: no cover
    """Classical fourth-order Runge-Kutta with ``substeps`` equal sub-steps per interval."""
    n_steps = u.shape[0]
    nx = x0.shape[0]
    x = x0.copy()
    xt = np.empty(nx)
    k1 = np.empty(nx)
    k2 = np.empty(nx)
    k3 = np.empty(nx)
    k4 = np.empty(nx)
    c = np.empty(N_C)
    xs[0, :] = x
    hs = h / substeps
    half = 0.5 * hs
    sixth = hs / 6.0
    for k in range(n_steps):
        uk = u[k]
        dk = d[k]
        g_into(x, uk, dk, p, ys[k])
        f_const_into(uk, dk, p, c)
        for _ in range(substeps):
            f_state_into(x, c, k1)
            for i in range(nx):
                xt[i] = x[i] + half * k1[i]
            f_state_into(xt, c, k2)
            for i in range(nx):
                xt[i] = x[i] + half * k2[i]
            f_state_into(xt, c, k3)
            for i in range(nx):
                xt[i] = x[i] + hs * k3[i]
            f_state_into(xt, c, k4)
            for i in range(nx):
                x[i] = x[i] + sixth * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
        for i in range(nx):
            if not math.isfinite(x[i]):
                return k + 1
        xs[k + 1, :] = x
    return 0


@numba.njit(cache=True, error_model="numpy")
def _lu_factor(a, piv):  # pragma: no cover - compiled
    # Hand-written because numba exposes np.linalg.solve but no LU
    # factorisation to reuse: one factorisation per step then serves every
    # Newton iteration of both stages (a solve then costs n^2, not n^3).
    # Gaussian elimination with partial pivoting, in place; False if singular.
    n = a.shape[0]
    for j in range(n):
        best = j
        big = abs(a[j, j])
        for i in range(j + 1, n):
            if abs(a[i, j]) > big:
                big = abs(a[i, j])
                best = i
        piv[j] = best
        if not big > 0.0:
            return False
        if best != j:
            for c in range(n):
                tmp = a[j, c]
                a[j, c] = a[best, c]
                a[best, c] = tmp
        inv = 1.0 / a[j, j]
        for i in range(j + 1, n):
            m = a[i, j] * inv
            if m != 0.0:
                a[i, j] = m
                for c in range(j + 1, n):
                    a[i, c] -= m * a[j, c]
            else:
                a[i, j] = 0.0
    return True


@numba.njit(cache=True, error_model="numpy")
def _lu_solve(lu, piv, b):  # pragma: no cover - compiled
    # Solve in place with the factors of _lu_factor (row swaps, then L, then U).
    n = lu.shape[0]
    for j in range(n):
        k = piv[j]
        if k != j:
            tmp = b[j]
            b[j] = b[k]
            b[k] = tmp
    for i in range(n):
        s = b[i]
        for c in range(i):
            s -= lu[i, c] * b[c]
        b[i] = s
    for i in range(n - 1, -1, -1):
        s = b[i]
        for c in range(i + 1, n):
            s -= lu[i, c] * b[c]
        b[i] = s / lu[i, i]


@numba.njit(cache=True, error_model="numpy")
def _sdirk_step(  # pragma: no cover - compiled
    x, u, d, p, c, h, method, scale, tol, max_iter, refresh, lu, piv, z, base, fz, k_prev
):
    """One SDIRK step of size ``h`` from ``x``; the new state is left in ``z``.

    Modified Newton on the iteration matrix ``I - h gamma df/dx`` factorised
    in ``lu``/``piv`` (``c``: the state-free values of ``f`` at ``u``, ``d``,
    ``p``, from ``f_const_into``): with ``refresh`` the exact Jacobian (generated from the
    casadi graph) is evaluated and factorised first, otherwise the factors of
    an earlier step are reused.  On entry ``k_prev`` holds a derivative
    estimate near ``x`` (zeros if none) for the first stage's predictor; on
    exit, the derivative of the last stage.  Returns the convergence flag.

    Following Hairer and Wanner (Solving ODEs II, 2nd ed., sec. IV.8): the
    stage derivatives are recovered from the converged stage values,
    ``k_i = (z_i - base_i) / (h gamma)``, not by another call of ``f``
    (which would also amplify the Newton error of stiff components), and
    the iteration stops when its error estimate ``theta / (1 - theta) *
    |dz|`` (``theta``: observed contraction rate) is below the tolerance,
    or, on the first iteration, when the update itself is.
    """
    n = x.shape[0]
    if method == IMPLICIT_EULER:
        gamma = 1.0
        n_stages = 1
    else:
        gamma = _GAMMA2
        n_stages = 2
    hg = h * gamma
    if refresh:
        jac_into(x, u, d, p, lu)
        for i in range(n):
            for j in range(n):
                v = -hg * lu[i, j]
                if not math.isfinite(v):
                    return False
                lu[i, j] = v
            lu[i, i] += 1.0
        if not _lu_factor(lu, piv):
            return False
    for stage in range(n_stages):
        # Known part of the stage value: x + h * sum_{j < i} a_ij k_j; the
        # predictor continues the latest derivative to the stage's time
        # (c_1 = gamma, c_2 = 1).
        if stage == 0:
            for i in range(n):
                base[i] = x[i]
                z[i] = x[i] + hg * k_prev[i]
        else:
            h_first = h * (1.0 - gamma)
            for i in range(n):
                base[i] = x[i] + h_first * k_prev[i]
                z[i] = base[i] + hg * k_prev[i]
        converged = False
        last = 0.0
        for it in range(max_iter):
            f_state_into(z, c, fz)
            finite = True
            for i in range(n):
                r = base[i] + hg * fz[i] - z[i]  # minus the residual
                finite = finite and math.isfinite(r)
                fz[i] = r
            if not finite:
                return False
            _lu_solve(lu, piv, fz)
            err = 0.0
            for i in range(n):
                z[i] += fz[i]
                e = abs(fz[i]) / (scale[i] * tol + tol * abs(z[i]))
                err = max(err, e)
            if it == 0:
                converged = err <= 1.0
            else:
                theta = err / last if last > 0.0 else 0.0
                if theta >= 1.0:
                    return False  # not contracting: refresh or shorten the step
                converged = theta / (1.0 - theta) * err <= 1.0
            if converged:
                break
            last = err
        if not converged:
            return False
        inv = 1.0 / hg
        for i in range(n):
            k_prev[i] = (z[i] - base[i]) * inv
    # Both tableaux are stiffly accurate: the new state is the last stage value.
    return True


@numba.njit(cache=True, error_model="numpy")
def _refresh_matrix(x, u, d, p, hg, lu, piv):  # pragma: no cover - compiled
    # Evaluate df/dx at x and factorise I - hg df/dx into lu/piv; False if
    # non-finite or singular.  (As the start of _sdirk_step, for SDIRK3.)
    n = x.shape[0]
    jac_into(x, u, d, p, lu)
    for i in range(n):
        for j in range(n):
            v = -hg * lu[i, j]
            if not math.isfinite(v):
                return False
            lu[i, j] = v
        lu[i, i] += 1.0
    return _lu_factor(lu, piv)


@numba.njit(cache=True, error_model="numpy")
def _newton_stage(z, base, c, hg, scale, tol, max_iter, lu, piv, fz):  # pragma: no cover
    # Solve z = base + hg f(z) by modified Newton from the predictor in z,
    # with the stopping rule of _sdirk_step (its stage loop, for SDIRK3).
    n = z.shape[0]
    last = 0.0
    for it in range(max_iter):
        f_state_into(z, c, fz)
        finite = True
        for i in range(n):
            r = base[i] + hg * fz[i] - z[i]  # minus the residual
            finite = finite and math.isfinite(r)
            fz[i] = r
        if not finite:
            return False
        _lu_solve(lu, piv, fz)
        err = 0.0
        for i in range(n):
            z[i] += fz[i]
            e = abs(fz[i]) / (scale[i] * tol + tol * abs(z[i]))
            err = max(err, e)
        if it == 0:
            if err <= 1.0:
                return True
        else:
            theta = err / last if last > 0.0 else 0.0
            if theta >= 1.0:
                return False  # not contracting: refresh or shorten the step
            if theta / (1.0 - theta) * err <= 1.0:
                return True
        last = err
    return False


@numba.njit(cache=True, error_model="numpy")
def _sdirk3_step(  # pragma: no cover - compiled
    x, u, d, p, c, h, scale, tol, max_iter, refresh, lu, piv, z, base, fz, k_prev, ks
):
    """One step of Alexander's three-stage SDIRK (order 3); as :func:`_sdirk_step`.

    ``ks`` (shape ``(2, n)``) holds the first two stage derivatives.  The
    predictor of each stage continues the latest stage derivative to the
    stage's time (``c = gamma, (1 + gamma) / 2, 1``).
    """
    n = x.shape[0]
    hg = h * _GAMMA3
    if refresh and not _refresh_matrix(x, u, d, p, hg, lu, piv):
        return False
    inv = 1.0 / hg
    for stage in range(3):
        for i in range(n):
            if stage == 0:
                base[i] = x[i]
                z[i] = x[i] + hg * k_prev[i]
            elif stage == 1:
                base[i] = x[i] + h * _A21_3 * ks[0, i]
                z[i] = base[i] + hg * ks[0, i]
            else:
                base[i] = x[i] + h * (_B1_3 * ks[0, i] + _B2_3 * ks[1, i])
                z[i] = base[i] + hg * ks[1, i]
        if not _newton_stage(z, base, c, hg, scale, tol, max_iter, lu, piv, fz):
            return False
        for i in range(n):
            k = (z[i] - base[i]) * inv
            if stage < 2:
                ks[stage, i] = k
            else:
                k_prev[i] = k
    # Stiffly accurate: the new state is the last stage value (in z).
    return True


@numba.njit(cache=True, error_model="numpy")
def _implicit_step(  # pragma: no cover - compiled
    x, u, d, p, c, h, method, scale, tol, max_iter, refresh, lu, piv, z, base, fz, k_prev, ks
):
    # One step of the implicit ``method`` (arguments of _sdirk3_step).
    if method == SDIRK3:
        return _sdirk3_step(
            x, u, d, p, c, h, scale, tol, max_iter, refresh, lu, piv, z, base, fz, k_prev, ks
        )
    return _sdirk_step(
        x, u, d, p, c, h, method, scale, tol, max_iter, refresh, lu, piv, z, base, fz, k_prev
    )


@numba.njit(cache=True, error_model="numpy")
def run_implicit(  # pragma: no cover - compiled
    x0, u, d, p, h, substeps, method, scale, tol, max_iter, xs, ys
):
    """L-stable implicit integration (implicit Euler, SDIRK2 or SDIRK3) with Newton iteration.

    The factorised iteration matrix is kept from step to step (the inputs
    move it little): a step first tries :data:`_STALE_ITER` Newton iterations
    with it (fewer if they stop contracting) and only on failure evaluates a
    fresh Jacobian.  The converged state does not depend on the Jacobian
    used, only the iteration count.  A
    sub-step that fails with a fresh Jacobian is retried as eight shorter
    steps (each with a fresh Jacobian) before the kernel reports failure.
    """
    n_steps = u.shape[0]
    n = x0.shape[0]
    x = x0.copy()
    lu = np.empty((n, n))
    piv = np.empty(n, dtype=np.int64)
    z = np.empty(n)
    base = np.empty(n)
    fz = np.empty(n)
    k_prev = np.zeros(n)  # no derivative yet: the first predictor is x
    ks = np.empty((2, n))  # SDIRK3's first two stage derivatives
    c = np.empty(N_C)
    xs[0, :] = x
    hs = h / substeps
    have_lu = False
    for k in range(n_steps):
        uk = u[k]
        dk = d[k]
        g_into(x, uk, dk, p, ys[k])
        f_const_into(uk, dk, p, c)
        for _ in range(substeps):
            ok = False
            if have_lu:
                ok = _implicit_step(
                    x, uk, dk, p, c, hs, method, scale, tol, min(max_iter, _STALE_ITER), False,
                    lu, piv, z, base, fz, k_prev, ks,
                )  # fmt: skip
            if not ok:
                ok = _implicit_step(
                    x, uk, dk, p, c, hs, method, scale, tol, max_iter, True, lu, piv, z, base,
                    fz, k_prev, ks,
                )  # fmt: skip
                have_lu = ok
            if not ok:
                have_lu = False  # the factors below are those of the shorter step
                z[:] = x
                for _ in range(8):
                    x[:] = z
                    ok = _implicit_step(
                        x, uk, dk, p, c, hs / 8.0, method, scale, tol, max_iter, True, lu, piv,
                        z, base, fz, k_prev, ks,
                    )  # fmt: skip
                    if not ok:
                        return -(k + 1)
            x[:] = z
        for i in range(n):
            if not math.isfinite(x[i]):
                return k + 1
        xs[k + 1, :] = x
    return 0


@numba.njit(cache=True, error_model="numpy")
def run_discrete(x0, u, d, p, steps, xs, ys):  # pragma: no cover
    """Step a discrete-time model: ``x <- f(x, u_k, d_k, p)`` ``steps`` times per interval."""
    n = x0.shape[0]
    x = x0.copy()
    x_next = np.empty(n)
    c = np.empty(N_C)
    xs[0, :] = x
    for k in range(u.shape[0]):
        uk = u[k]
        dk = d[k]
        g_into(x, uk, dk, p, ys[k])
        f_const_into(uk, dk, p, c)
        for _ in range(steps):
            f_state_into(x, c, x_next)
            x[:] = x_next
        for i in range(n):
            if not math.isfinite(x[i]):
                return k + 1
        xs[k + 1, :] = x
    return 0


@numba.njit(cache=True, parallel=True, error_model="numpy")
def run_batch_rk4(  # pragma: no cover - compiled
    x0, u, d, p, h, substeps, xs, ys, status
):
    """Run RK4 scenarios (first axis of every array) in parallel."""
    for s in numba.prange(x0.shape[0]):
        status[s] = run_rk4(x0[s], u[s], d[s], p[s], h, substeps, xs[s], ys[s])


@numba.njit(cache=True, parallel=True, error_model="numpy")
def run_batch_implicit(  # pragma: no cover - compiled
    x0, u, d, p, h, substeps, method, scale, tol, max_iter, xs, ys, status
):
    """Run implicit-method scenarios (first axis of every array) in parallel."""
    for s in numba.prange(x0.shape[0]):
        status[s] = run_implicit(
            x0[s], u[s], d[s], p[s], h, substeps, method, scale, tol, max_iter, xs[s], ys[s]
        )


@numba.njit(cache=True, parallel=True, error_model="numpy")
def run_batch_discrete(  # pragma: no cover - compiled
    x0, u, d, p, steps, xs, ys, status
):
    """Run discrete-time scenarios (first axis of every array) in parallel."""
    for s in numba.prange(x0.shape[0]):
        status[s] = run_discrete(x0[s], u[s], d[s], p[s], steps, xs[s], ys[s])
