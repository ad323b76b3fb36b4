"""Discretisation of a plant's casadi ``f`` over one control interval, inputs held.

Radau IIA collocation (L-stable, the default of the economic MPC) or classical
RK4 sub-steps (explicit: the fastest lag sets the step).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import casadi as ca
import numpy as np

from plant_models.core.equations import CasadiModel

__all__ = ["Collocation", "interval_function", "radau_collocation", "stable_substeps"]

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


@dataclass(frozen=True)
class Collocation:
    """Radau IIA collocation of one control interval (inputs held).

    Attributes
    ----------
    degree : int
        Collocation points per interval ``s``; the last is the interval end.
    residual : casadi.Function
        ``(x0, xc, u, d, p) -> r``: the ``n_x * s`` collocation equations
        ``sum_r C[r, j] x_r - h f(x_j) = 0`` with ``x_0 = x0`` and ``xc`` the
        stage states, shape ``(n_x, s)``. [SI]
    step : casadi.Function
        ``(x, u, d, p) -> (x_next, xc)``: the same equations solved by Newton
        (casadi ``rootfinder``), for simulating a plan and warm starts.
    weights : numpy.ndarray
        Radau quadrature weights ``b_j`` of the stage points, summing to one. [1]
    """

    degree: int
    residual: ca.Function
    step: ca.Function
    weights: np.ndarray


def radau_collocation(
    model: CasadiModel, interval_s: float, degree: int, state_scale: np.ndarray | None = None
) -> Collocation:
    """Radau IIA collocation over one interval of a continuous-time model.

    Radau IIA is L-stable (its stability function vanishes at ``-inf``), so
    lags far faster than the interval (pressure-reducing stations,
    turbo-generators: 5-20 s against 15 min) relax to their quasi-steady
    value instead of forcing hundreds of explicit sub-steps; order ``2s - 1``.
    casadi's ``collocation_points(..., "radau")`` gives the nodes; the
    differentiation matrix is built from Lagrange polynomials as in casadi's
    direct-collocation example (casadi has no public helper returning it).

    Parameters
    ----------
    model : CasadiModel
        The plant's casadi functions (continuous time).
    interval_s : float
        Control interval. [s]
    degree : int
        Stages per interval (1 is implicit Euler).
    state_scale : numpy.ndarray or None
        Typical magnitude of each state; the Newton iteration of ``step``
        stops when the residual divided by it is below 1e-10. [SI]

    Returns
    -------
    Collocation
    """
    tau = np.append(0.0, ca.collocation_points(degree, "radau"))
    C = np.zeros((degree + 1, degree + 1))
    for j in range(degree + 1):
        poly = np.poly1d([1.0])
        for r in range(degree + 1):
            if r != j:
                poly *= np.poly1d([1.0, -tau[r]]) / (tau[j] - tau[r])
        dpoly = np.polyder(poly)
        for r in range(degree + 1):
            C[j, r] = dpoly(tau[r])
    # Radau quadrature weights: integrals of the Lagrange polynomials of the stage points.
    b = np.zeros(degree)
    for j in range(degree):
        poly = np.poly1d([1.0])
        for r in range(degree):
            if r != j:
                poly *= np.poly1d([1.0, -tau[r + 1]]) / (tau[j + 1] - tau[r + 1])
        b[j] = np.polyint(poly)(1.0)
    sizes = model.model.sizes
    x0, u, d, p = (ca.SX.sym(k, sizes[k]) for k in ("x", "u", "d", "p"))
    xc = ca.SX.sym("xc", sizes["x"], degree)
    nodes = ca.horzcat(x0, xc)
    res = []
    for j in range(1, degree + 1):
        slope = nodes @ ca.DM(C[:, j])
        res.append(slope - interval_s * model.f(nodes[:, j], u, d, p))
    r = ca.vec(ca.horzcat(*res))
    residual = ca.Function(
        "collocation", [x0, xc, u, d, p], [r], ["x0", "xc", "u", "d", "p"], ["r"]
    )
    z = ca.SX.sym("z", sizes["x"] * degree)
    zr = ca.reshape(z, sizes["x"], degree)
    scale = np.ones(sizes["x"]) if state_scale is None else np.asarray(state_scale, float)
    inv = ca.DM(np.tile(1.0 / scale, degree))
    g = ca.Function("g", [z, ca.vertcat(x0, u, d, p)], [residual(x0, zr, u, d, p) * inv])
    newton = ca.rootfinder("collocation_newton", "newton", g, {"abstol": 1e-10, "max_iter": 50})
    xs, us, ds, ps = (ca.MX.sym(k, sizes[k]) for k in ("x", "u", "d", "p"))
    zsol = ca.reshape(newton(ca.repmat(xs, degree, 1), ca.vertcat(xs, us, ds, ps)), -1, degree)
    step = ca.Function(
        "collocation_step",
        [xs, us, ds, ps],
        [zsol[:, -1], zsol],
        ["x", "u", "d", "p"],
        ["x_next", "xc"],
    )
    return Collocation(degree, residual, step, b)
