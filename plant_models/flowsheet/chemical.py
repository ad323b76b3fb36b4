"""The chemical reference plant: Van de Vusse reactor, feed preheat, flash with recycle.

Flowsheet (process nodes in brackets)::

    [fresh_feed] -> preheater cold side -> (+ recycle) [feed_hot] -> reactor
    reactor -> [effluent] -> preheater hot side -> [flash_feed] -> flash drum
    flash vapour (A-rich, condensed) -> [feed_hot]       (recycle)
    flash liquid -> [product]

The reactor is the Klatt and Engell (1998) benchmark scaled 100 times to
1 m3 (heat-transfer area and jacket mass scaled with the volume, so that its
steady states are the benchmark's).  Utilities: low-pressure steam (trim
heater, flash), cooling water (reactor jacket, flash condenser), electricity
(cooling-water pump, cooling-tower fan, motors, bought from the grid).

DCS loops (:data:`LOOP_WIRING`): FIC-101 fresh feed flow -> feed valve;
TIC-102 reactor temperature -> jacket cooling-water valve; TIC-110 preheated
feed temperature -> trim steam valve; LIC-201 flash level -> liquid draw
valve; FIC-203 flash steam flow -> steam valve.  Their setpoints are the
plant inputs an MPC writes; :data:`MODES` lists the operating modes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from plant_models.core.equations import to_numba
from plant_models.core.errors import SimulationError
from plant_models.core.simulate import simulate
from plant_models.flowsheet.composer import ComposedModel
from plant_models.flowsheet.declare import FlowsheetNode, FlowsheetUnit, LoopSpec, build_flowsheet
from plant_models.units.cstr_vdv import CstrVdvParams
from plant_models.units.flash import FlashParams
from plant_models.units.heat_exchanger import HeatExchangerParams
from plant_models.units.pid import PidParams

__all__ = [
    "EXTRA_DRAWS",
    "LOOP_WIRING",
    "MODES",
    "SIMULATION_OPTIONS",
    "OperatingMode",
    "default_flowsheet",
    "default_loops",
    "default_nodes",
    "default_units",
    "initial_state",
    "mode_inputs",
    "steady_state",
]

_M3_H = 1.0 / 3600.0
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

#: Loop name -> (measured output, driven input).
LOOP_WIRING: dict[str, tuple[str, str]] = {
    "fic_101": ("fresh_feed.supply", "fresh_feed.valve"),
    "tic_102": ("reactor.t_reactor_k", "reactor.valve_cooling"),
    "tic_110": ("feed_preheater.t_cold_out_k", "feed_preheater.valve_steam"),
    "lic_201": ("flash.level_fraction", "flash.valve_draw"),
    "fic_203": ("flash.steam_kg_s", "flash.valve_steam"),
}
#: Utility draws without a port of their own: the flash condenser's cooling water.
EXTRA_DRAWS: dict[str, tuple[str, ...]] = {"cooling_water": ("flash.condenser_heat_w",)}


@dataclass(frozen=True)
class OperatingMode:
    """Setpoints of one operating mode (SI units).

    Attributes
    ----------
    name : str
        Identifier.
    feed_m3_s : float
        Fresh feed flow (FIC-101). [m3/s]
    t_reactor_k : float
        Reactor temperature (TIC-102). [K]
    t_preheat_k : float
        Preheated feed temperature (TIC-110). [K]
    level_fraction : float
        Flash level (LIC-201). [1]
    flash_steam_kg_s : float
        Flash heating steam (FIC-203), which sets the recycle. [kg/s]
    """

    name: str
    feed_m3_s: float
    t_reactor_k: float
    t_preheat_k: float
    level_fraction: float
    flash_steam_kg_s: float


#: Operating modes: high throughput (short residence time, hotter: more B per
#: hour at lower selectivity) and high selectivity (longer residence time,
#: cooler, more recycle), around the benchmark point F/V = 14.19 1/h, 114.2 degC.
MODES: dict[str, OperatingMode] = {
    "high_throughput": OperatingMode(
        "high_throughput", 18.0 * _M3_H, 118.0 + _DEG_C, 122.0 + _DEG_C, 0.5, 0.10
    ),
    "high_selectivity": OperatingMode(
        "high_selectivity", 11.0 * _M3_H, 110.0 + _DEG_C, 124.0 + _DEG_C, 0.5, 0.14
    ),
}


def default_units() -> tuple[FlowsheetUnit, ...]:
    """Return the process units with the demo defaults (the values of ``chemical.toml``)."""
    return (
        FlowsheetUnit(
            "reactor",
            CstrVdvParams(
                volume_m3=1.0,
                area_m2=21.5,
                jacket_mass_kg=500.0,
                feed_temperature_k=104.9 + _DEG_C,
            ),
            {
                "feed_in": ("feed_hot",),
                "product_out": ("effluent",),
                "cooling_water": ("cooling_water",),
            },
        ),
        FlowsheetUnit(
            "feed_preheater",
            HeatExchangerParams(
                ua_w_k=32.0e3,
                heat_capacity_hot_j_kg_k=3010.0,
                heat_capacity_cold_j_kg_k=3010.0,
                time_constant_s=90.0,
            ),
            {
                "hot_in": ("effluent",),
                "hot_out": ("flash_feed",),
                "cold_in": ("fresh_feed",),
                "cold_out": ("feed_hot",),
                "steam_in": ("lp_steam",),
            },
        ),
        FlowsheetUnit(
            "flash",
            FlashParams(
                relative_volatility=8.0,
                latent_heat_j_mol=30.0e3,
                holdup_nominal_mol=5000.0,
                holdup_max_mol=10000.0,
            ),
            {
                "feed_in": ("flash_feed",),
                "vapour_out": ("feed_hot",),
                "liquid_out": ("product",),
                "steam_in": ("lp_steam",),
            },
        ),
    )


def default_nodes() -> tuple[FlowsheetNode, ...]:
    """Return the process and utility nodes of the demo plant."""
    process = ("fresh_feed", "feed_hot", "effluent", "flash_feed", "product")
    return (
        *(FlowsheetNode(n, "process") for n in process),
        FlowsheetNode("lp_steam", "steam"),
        FlowsheetNode("cooling_water", "cooling_water"),
    )


def default_loops() -> tuple[LoopSpec, ...]:
    """Return the DCS loops with the demo tuning (SI: gains in output per SI unit)."""
    tuning = {
        # Flow loops: fast PI on a valve with a 5-10 s lag.
        "fic_101": PidParams(gain=40.0, integral_time_s=8.0, tracking_time_s=8.0),
        # Temperature: more cooling when hotter (negative gain), PI with slow reset.
        "tic_102": PidParams(gain=-0.15, integral_time_s=120.0, tracking_time_s=60.0),
        "tic_110": PidParams(gain=0.05, integral_time_s=90.0, tracking_time_s=60.0),
        # Level: more draw when fuller (negative gain on level fraction).
        "lic_201": PidParams(gain=-2.0, integral_time_s=600.0, tracking_time_s=300.0),
        "fic_203": PidParams(gain=3.0, integral_time_s=10.0, tracking_time_s=10.0),
    }
    return tuple(
        LoopSpec(name, tuning[name], measurement, actuator)
        for name, (measurement, actuator) in LOOP_WIRING.items()
    )


def default_flowsheet() -> ComposedModel:
    """Return the chemical plant composed with its demo defaults."""
    return build_flowsheet(
        "chemical",
        default_units(),
        default_nodes(),
        default_loops(),
        extra_draws=EXTRA_DRAWS,
    )


def mode_inputs(flowsheet: ComposedModel, mode: OperatingMode) -> np.ndarray:
    """Return the plant ``u`` of ``mode``: the loop setpoints (other inputs 0).

    Raises
    ------
    EquationError
        If the flowsheet lacks one of the loops of :data:`LOOP_WIRING`.
    """
    model = flowsheet.model
    u = np.zeros(len(model.inputs))
    u[model.index("u", "fic_101.setpoint")] = mode.feed_m3_s
    u[model.index("u", "tic_102.setpoint")] = mode.t_reactor_k
    u[model.index("u", "tic_110.setpoint")] = mode.t_preheat_k
    u[model.index("u", "lic_201.setpoint")] = mode.level_fraction
    u[model.index("u", "fic_203.setpoint")] = mode.flash_steam_kg_s
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
