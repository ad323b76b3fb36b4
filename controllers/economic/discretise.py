"""Discretisation of a plant's casadi ``f`` over one control interval (RK4, inputs held)."""

from __future__ import annotations

import math

import casadi as ca
import numpy as np

from plant_models.core.equations import CasadiModel

__all__ = ["interval_function", "stable_substeps"]

#: RK4's stability limit on the negative real axis is |lambda h| < 2.785; the
#: margin keeps oscillatory modes and nonlinear drift inside it.
_RK4_STABLE_LAMBDA_H = 2.5


def stable_substeps(
    model: CasadiModel,
    interval_s: float,
    x: np.ndarray,
    u: np.ndarray,
    d: np.ndarray,
    p: np.ndarray,
) -> int:
    """RK4 sub-steps per interval for stability at a reference point.

    Parameters
    ----------
    model : CasadiModel
        The plant's casadi functions.
    interval_s : float
        Control interval. [s]
    x, u, d, p : numpy.ndarray
        Reference point (states, inputs, disturbances, parameters). [SI]

    Returns
    -------
    int
        ``ceil(interval * max|eig(df/dx)| / 2.5)``, at least 1.
    """
    n_x = x.size
    if n_x == 0 or model.dt_s is not None:
        return 1
    xs = ca.SX.sym("x", n_x)
    jac = ca.Function("state_jacobian", [xs], [ca.jacobian(model.f(xs, u, d, p), xs)])
    eig = np.linalg.eigvals(np.asarray(jac(x), dtype=float))
    rho = float(np.max(np.abs(eig))) if eig.size else 0.0
    if not math.isfinite(rho):
        return 1
    return max(1, math.ceil(interval_s * rho / _RK4_STABLE_LAMBDA_H))


def interval_function(model: CasadiModel, interval_s: float, substeps: int) -> ca.Function:
    """``F(x, u, d, p) -> x_next``: the state one interval later, inputs held.

    A discrete-time model (``dt_s`` set) is stepped ``interval_s / dt_s``
    times (rounded, at least once); a continuous one is integrated with
    ``substeps`` classical RK4 steps.

    Parameters
    ----------
    model : CasadiModel
        The plant's casadi functions.
    interval_s : float
        Control interval. [s]
    substeps : int
        RK4 steps per interval (ignored for a discrete-time model).

    Returns
    -------
    casadi.Function
        Inputs ``x, u, d, p``; output ``x_next``.
    """
    sizes = model.model.sizes
    x, u, d, p = (ca.SX.sym(k, sizes[k]) for k in ("x", "u", "d", "p"))
    xk = x
    if model.dt_s is not None:
        for _ in range(max(1, round(interval_s / model.dt_s))):
            xk = model.f(xk, u, d, p)
    else:
        h = interval_s / substeps
        for _ in range(substeps):
            k1 = model.f(xk, u, d, p)
            k2 = model.f(xk + 0.5 * h * k1, u, d, p)
            k3 = model.f(xk + 0.5 * h * k2, u, d, p)
            k4 = model.f(xk + h * k3, u, d, p)
            xk = xk + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return ca.Function("interval", [x, u, d, p], [xk], ["x", "u", "d", "p"], ["x_next"])
