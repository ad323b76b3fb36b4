"""Simulation helpers of the chemical reference plant (Van de Vusse reactor with recycle).

The plant itself is declared, not coded here: units, streams, PID loops
(measurement, actuator, setpoint) and operating modes live in the project
file (``energyopt/demos/chemical.toml``), which ``energyopt`` turns into
:func:`~plant_models.flowsheet.declare.build_flowsheet` arguments.  This
module holds what every such flowsheet shares: the integrator settings
(the product's :func:`simulation_options`, and the L-stable
:data:`SIMULATION_OPTIONS` for long steps), a start state near the Klatt and Engell (1998)
operating point (:func:`initial_state`), the plant input of a set of loop
setpoints (:func:`setpoint_inputs`) and a steady-state search
(:func:`steady_state`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from plant_models.core.equations import to_numba
from plant_models.core.errors import SimulationError
from plant_models.core.simulate import simulate
from plant_models.flowsheet.composer import ComposedModel

__all__ = [
    "SIMULATION_MAX_STEP_S",
    "SIMULATION_METHOD",
    "SIMULATION_OPTIONS",
    "initial_state",
    "setpoint_inputs",
    "simulation_options",
    "steady_state",
]

_DEG_C = 273.15

#: L-stable integrator settings, for steps of any length (the steady-state
#: settle, the demo history's recorded run, callers with their own step):
#: SDIRK2 (valve lags of seconds beside hours of composition dynamics make
#: the plant stiff); a looser Newton tolerance and more iterations than the
#: defaults, because saturating valves put kinks into the right-hand side
#: that a frozen Jacobian crosses slowly.  Where the product chooses the
#: integrator, it uses :func:`simulation_options` instead.
SIMULATION_OPTIONS: dict[str, Any] = {
    "method": "sdirk2",
    "newton_tol": 1.0e-8,
    "newton_max_iter": 25,
}

#: The product's integrator for the plant: classical RK4.  Work-precision
#: on the demo history (``benchmarks/bench_models.py``, 3 days, largest
#: error over every state and minute as a fraction of the state's span):
#: RK4 at 2 s 3.8e-5 for 12 ms of CPU per simulated day (182x less than
#: solve_ivp BDF at that error), SDIRK2 at 5 s 4.1e-4 for 50 ms/day, SDIRK3
#: at 5 s 1.1e-3 for 75 ms/day (at 2.5 s 9.0e-5 and 2.2e-4 for 92 and 154
#: ms/day); over 30 days RK4 at 2 s 7.2e-5 for 14 ms/day.  Longer RK4
#: steps gain little: 2.5 s and 3 s err by 1.7e-4 and 7.4e-5 over 3 days,
#: 1.7e-4 and 3.6e-4 over 30 (where the sub-steps fall on the kinks matters
#: as much as their length), for 10-25 % less time, closer to the stability
#: limit below.  The error
#: sits in the minutes after operator setpoint steps, where valves saturate:
#: the kinks of the right-hand side cap every method at second order, so a
#: higher-order implicit method gains nothing, and resolving the 5-10 s
#: valve lags (what the error measures) needs steps at which RK4 is stable
#: anyway.
SIMULATION_METHOD = "rk4"
#: Longest RK4 step. [s]  The fastest eigenvalue of ``df/dx`` along the demo
#: run is -0.71 1/s, so RK4 (stable for ``|lambda h| < 2.785`` on the negative
#: real axis) is stable up to 3.9 s there and at 4 s errs by 3e-2 of span
#: (the fast valve modes grow until they saturate); 2 s keeps a
#: factor 2 for other operating points, tunings and calibrated parameters,
#: at an error 14-25x below the sensor noise (0.1 % of span).
SIMULATION_MAX_STEP_S = 2.0


def simulation_options(interval_s: float) -> dict[str, Any]:
    """Return the product's integrator settings for a grid interval.

    Parameters
    ----------
    interval_s : float
        Interval of the simulation grid (the ``dt_s`` of
        :func:`~plant_models.core.simulate.simulate`). [s]

    Returns
    -------
    dict
        ``method`` (:data:`SIMULATION_METHOD`) and ``substeps`` (the fewest
        equal sub-steps of at most :data:`SIMULATION_MAX_STEP_S`), to pass as
        ``simulate(..., dt_s=interval_s, **simulation_options(interval_s))``.

    Raises
    ------
    SimulationError
        If ``interval_s`` is not a positive finite time.
    """
    if not (math.isfinite(interval_s) and interval_s > 0.0):
        raise SimulationError(f"interval_s must be a positive finite time, got {interval_s}")
    # The 1e-9 relative slack keeps a decimal interval that is a whole
    # multiple of the step (60 s / 2 s) from rounding up to one more sub-step.
    substeps = max(math.ceil(interval_s / SIMULATION_MAX_STEP_S * (1.0 - 1e-9)), 1)
    return {"method": SIMULATION_METHOD, "substeps": substeps}


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
