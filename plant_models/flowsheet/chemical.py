"""Simulation helpers of the chemical reference plant (Van de Vusse reactor with recycle).

The plant itself is declared, not coded here: units, streams, PID loops
(measurement, actuator, setpoint) and operating modes live in the project
file (``energyopt/demos/chemical.toml``), which ``energyopt`` turns into
:func:`~plant_models.flowsheet.declare.build_flowsheet` arguments.  This
module holds what every such flowsheet shares: the integrator settings
(:data:`SIMULATION_OPTIONS`), a start state near the Klatt and Engell (1998)
operating point (:func:`initial_state`), the plant input of a set of loop
setpoints (:func:`setpoint_inputs`) and a steady-state search
(:func:`steady_state`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from plant_models.core.equations import to_numba
from plant_models.core.errors import SimulationError
from plant_models.core.simulate import simulate
from plant_models.flowsheet.composer import ComposedModel

__all__ = ["SIMULATION_OPTIONS", "initial_state", "setpoint_inputs", "steady_state"]

_DEG_C = 273.15

#: Integrator settings for the plant: L-stable SDIRK2 (valve lags of seconds
#: beside hours of composition dynamics make it stiff); a looser Newton
#: tolerance and more iterations than the defaults, because saturating
#: valves put kinks into the right-hand side that a frozen Jacobian crosses
#: slowly.
SIMULATION_OPTIONS: dict[str, Any] = {
    "method": "sdirk2",
    "newton_tol": 1.0e-8,
    "newton_max_iter": 25,
}


def setpoint_inputs(flowsheet: ComposedModel, setpoints: Mapping[str, float]) -> np.ndarray:
    """Return a plant ``u`` with the loop setpoints given (other inputs 0).

    Parameters
    ----------
    flowsheet : ComposedModel
        A flowsheet with PID loops.
    setpoints : mapping
        Loop name -> setpoint in the SI unit of the loop's measurement. [SI]

    Returns
    -------
    numpy.ndarray
        The input vector, ``<loop>.setpoint`` set for every loop named.

    Raises
    ------
    EquationError
        If a loop has no setpoint input (unknown loop, or a cascade whose
        setpoint is wired from another block).
    """
    model = flowsheet.model
    u = np.zeros(len(model.inputs))
    for loop, value in setpoints.items():
        u[model.index("u", f"{loop}.setpoint")] = value
    return u


def initial_state(
    flowsheet: ComposedModel, values: Mapping[str, float] | None = None
) -> np.ndarray:
    """Return a state vector: the middle of each envelope, with ``values`` by name."""
    low, high = flowsheet.model.bounds("x")
    x = np.where(np.isfinite(low) & np.isfinite(high), 0.5 * (low + high), 0.0)
    guesses = {
        "reactor.c_a_mol_m3": 2140.0,
        "reactor.c_b_mol_m3": 1090.0,
        "reactor.t_reactor_k": 114.2 + _DEG_C,
        "reactor.t_jacket_k": 112.9 + _DEG_C,
    }
    guesses.update(values or {})
    for name, value in guesses.items():
        if any(v.name == name for v in flowsheet.model.states):
            x[flowsheet.model.index("x", name)] = value
    return x


def steady_state(
    flowsheet: ComposedModel,
    u: ArrayLike,
    d: ArrayLike,
    *,
    x0: ArrayLike | None = None,
    p: ArrayLike | None = None,
    settle_s: float = 6.0 * 3600.0,
    dt_s: float = 10.0,
    tol: float = 1.0e-9,
) -> np.ndarray:
    """Return the steady state under constant ``u`` and ``d``.

    Simulates ``settle_s`` with the implicit integrator from ``x0``, then
    polishes with :func:`scipy.optimize.root` on ``f(x) = 0`` (Newton with the
    numba right-hand side).

    Raises
    ------
    SimulationError
        If the polished state does not satisfy ``|f| * scale < tol`` (no
        steady state near the simulated end point).
    """
    from scipy.optimize import root

    model = flowsheet.model
    p_arr = flowsheet.parameters if p is None else np.asarray(p, dtype=np.float64)
    u_arr = np.asarray(u, dtype=np.float64)
    d_arr = np.asarray(d, dtype=np.float64)
    start = initial_state(flowsheet) if x0 is None else np.asarray(x0, dtype=np.float64)
    n = max(round(settle_s / dt_s), 1)
    run = simulate(
        model,
        start,
        np.broadcast_to(u_arr, (n, u_arr.size)),
        np.broadcast_to(d_arr, (n, d_arr.size)),
        p_arr,
        dt_s,
        **SIMULATION_OPTIONS,
    )
    low, high = model.bounds("x")
    scale = np.maximum(np.abs(low), np.abs(high))
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    rhs = to_numba(model).f

    def residual(z: np.ndarray) -> np.ndarray:
        return np.asarray(rhs(z * scale, u_arr, d_arr, p_arr)) / scale

    sol = root(residual, run.states[-1] / scale, method="hybr", tol=1e-14)
    x_ss = sol.x * scale
    worst = float(np.max(np.abs(residual(sol.x)))) if x_ss.size else 0.0
    if not np.all(np.isfinite(x_ss)) or worst > tol:
        raise SimulationError(
            f"no steady state found near the end of a {settle_s:g} s run: "
            f"largest scaled residual {worst:.3g}"
        )
    return x_ss
