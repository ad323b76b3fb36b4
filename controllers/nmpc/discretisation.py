"""Discretisation of the NMPC's prediction model over one control interval.

Three methods, chosen by :attr:`~controllers.nmpc.NmpcSettings.discretisation`:

- ``"rk4"``: ``substeps`` classical RK4 steps written out (explicit; the
  fastest lag sets the step: ``|lambda h| < 2.785``);
- ``"collocation"``: Radau IIA collocation with ``collocation_degree``
  stages (L-stable, order ``2s - 1``; from
  :func:`controllers.economic.discretise.radau_collocation`): the stage
  states are NLP variables and the collocation equations constraints, so
  lags much faster than the interval relax to their quasi-steady value
  instead of forcing tiny explicit steps;
- ``"auto"``: collocation for a continuous-time model whose stiffest mode at
  a reference point would need more RK4 steps than ``substeps``
  (:func:`~controllers.economic.discretise.stable_substeps`), RK4 otherwise.

A discrete-time model is always stepped ``dt_s / model.dt_s`` times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import casadi as ca
import numpy as np

from controllers.economic.discretise import Collocation, radau_collocation, stable_substeps
from controllers.errors import NmpcError
from controllers.nmpc.settings import NmpcSettings
from plant_models.core.equations import CasadiModel, EquationModel, to_casadi

__all__ = [
    "IntervalMap",
    "choose_discretisation",
    "interval_map",
    "reference_point",
    "state_scaling",
]


@dataclass(frozen=True, eq=False)
class IntervalMap:
    """The prediction model over one control interval.

    Attributes
    ----------
    method : {"rk4", "collocation", "discrete"}
        The method actually used.
    step : casadi.Function
        ``(x, u, d) -> x_next``: the state one interval later, inputs held;
        an SX graph for RK4 and discrete models, an MX function solving the
        collocation equations by Newton for collocation. [SI]
    output : casadi.Function
        ``(x, u, d) -> y``: the model outputs. [SI]
    collocation : Collocation or None
        The Radau IIA equations (``residual(x0, xc, u, d, p)``), for
        ``method == "collocation"``.
    degree : int
        Collocation stages per interval (0 for RK4 and discrete models).
    """

    method: str
    step: Any
    output: Any
    collocation: Collocation | None
    degree: int


def reference_point(
    model: EquationModel, settings: NmpcSettings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A point of the envelope at which ``"auto"`` judges the stiffness.

    States at the middle of their envelope (0 where unbounded), MVs at their
    target, else the middle of their limits, else 0, fixed inputs at their
    values, disturbances at the middle of their envelope (0 where unbounded).

    Returns
    -------
    x, u, d : numpy.ndarray
        Reference states, inputs and disturbances. [SI]
    """

    def middle(kind: str) -> np.ndarray:
        low, high = model.bounds(kind)
        both = np.isfinite(low) & np.isfinite(high)
        return np.where(both, 0.5 * (np.where(both, low, 0.0) + np.where(both, high, 0.0)), 0.0)

    x, d = middle("x"), middle("d")
    u = np.zeros(model.sizes["u"])
    for name, value in settings.fixed_inputs.items():
        u[model.index("u", name)] = value
    for mv in settings.mvs:
        if mv.target is not None:
            value = mv.target
        elif math.isfinite(mv.low) and math.isfinite(mv.high):
            value = 0.5 * (mv.low + mv.high)
        else:
            value = 0.0
        u[model.index("u", mv.name)] = value
    return x, u, d


def choose_discretisation(
    model: EquationModel, p: np.ndarray, settings: NmpcSettings, cas: CasadiModel | None = None
) -> str:
    """Return the method :func:`interval_map` uses: ``"rk4"``, ``"collocation"`` or ``"discrete"``.

    Parameters
    ----------
    model : EquationModel
        The plant model.
    p : numpy.ndarray, shape (np,)
        Parameter vector. [SI]
    settings : NmpcSettings
        Requested method, interval and RK4 sub-steps.
    cas : CasadiModel, optional
        The model's casadi functions, if already built.
    """
    if model.dt_s is not None:
        return "discrete"
    if settings.discretisation != "auto":
        return settings.discretisation
    x, u, d = reference_point(model, settings)
    cas = to_casadi(model, "SX") if cas is None else cas
    needed = stable_substeps(cas, settings.dt_s, x, u, d, p)
    return "collocation" if needed > settings.substeps else "rk4"


def interval_map(model: EquationModel, p: np.ndarray, settings: NmpcSettings) -> IntervalMap:
    """Build the one-interval prediction of ``model`` for ``settings`` (see the module docstring).

    Parameters
    ----------
    model : EquationModel
        The plant model.
    p : numpy.ndarray, shape (np,)
        Parameter vector (fixed in the NLP). [SI]
    settings : NmpcSettings
        Interval, method, sub-steps and collocation degree.

    Returns
    -------
    IntervalMap

    Raises
    ------
    NmpcError
        For a discrete model whose sample time does not divide ``dt_s``.
    """
    cas = to_casadi(model, "SX")
    sizes = model.sizes
    x = ca.SX.sym("x", sizes["x"])
    u = ca.SX.sym("u", sizes["u"])
    d = ca.SX.sym("d", sizes["d"])
    p_dm = ca.DM(p)
    output = ca.Function("nmpc_G", [x, u, d], [cas.g(x, u, d, p_dm)], ["x", "u", "d"], ["y"])
    method = choose_discretisation(model, p, settings, cas)
    if method == "collocation":
        _, x_scale = state_scaling(model)
        col = radau_collocation(cas, settings.dt_s, settings.collocation_degree, x_scale)
        xm, um, dm = (ca.MX.sym(k, sizes[k]) for k in ("x", "u", "d"))
        x_end: Any = col.step(xm, um, dm, p_dm)[0]
        step = ca.Function("nmpc_F", [xm, um, dm], [x_end], ["x", "u", "d"], ["x_next"])
        return IntervalMap(method, step, output, col, settings.collocation_degree)
    if method == "discrete":
        dt_model = float(model.dt_s or 0.0)
        repeats = round(settings.dt_s / dt_model)
        if repeats < 1 or abs(repeats * dt_model - settings.dt_s) > 1e-9 * settings.dt_s:
            raise NmpcError(
                f"model {model.name} is discrete with sample time {dt_model} s: dt_s "
                f"{settings.dt_s} s must be a whole multiple of it"
            )
        x_next: Any = x
        for _ in range(repeats):
            x_next = cas.f(x_next, u, d, p_dm)
    else:
        # Classical RK4 written out (not casadi.integrator): one small graph,
        # differentiated exactly and inlined in the NLP, as the estimators do.
        h = settings.dt_s / settings.substeps
        x_next = x
        for _ in range(settings.substeps):
            k1 = cas.f(x_next, u, d, p_dm)
            k2 = cas.f(x_next + 0.5 * h * k1, u, d, p_dm)
            k3 = cas.f(x_next + 0.5 * h * k2, u, d, p_dm)
            k4 = cas.f(x_next + h * k3, u, d, p_dm)
            x_next = x_next + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    step = ca.Function("nmpc_F", [x, u, d], [x_next], ["x", "u", "d"], ["x_next"])
    return IntervalMap(method, step, output, None, 0)


def state_scaling(model: EquationModel) -> tuple[np.ndarray, np.ndarray]:
    """Offset and scale of each state from its envelope (midpoint, half range).

    Returns
    -------
    offset, scale : numpy.ndarray, shape (nx,)
        ``x = offset + scale * x_scaled``; unbounded states get offset 0 and
        scale 1. [SI]
    """
    low, high = model.bounds("x")
    both = np.isfinite(low) & np.isfinite(high) & (high > low)
    low_f = np.where(both, low, 0.0)
    high_f = np.where(both, high, 0.0)
    offset = np.where(both, 0.5 * (low_f + high_f), 0.0)
    scale = np.where(both, 0.5 * (high_f - low_f), 1.0)
    return offset, scale
