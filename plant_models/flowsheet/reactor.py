"""The Van de Vusse CSTR with stream ports: feed, product and a cooling-water jacket.

The kinetics, component balances of A and B and both energy balances are
those of :func:`plant_models.units.cstr_vdv.f`, called unchanged; the stream
form adds what a flowsheet needs around it:

- the feed is a stream (its A concentration replaces the parameter
  ``feed_concentration_a_mol_m3``; B, C and D in a recycle are balanced too);
- C and D are states, ``dc_C/dt = F/V (c_C,in - c_C) + r2`` and
  ``dc_D/dt = F/V (c_D,in - c_D) + r3 / 2`` (2 A -> D: one D per two A);
- the jacket is fed with cooling water through a valve with a first-order
  actuator lag; the heat added to the jacket is ``m_cw cp_w (T_cw,in - T_K)``
  (a well-mixed jacket: the water leaves at the jacket temperature).

The rates r1, r2, r3 are the unit's own :func:`plant_models.units.cstr_vdv.rates`
(the function its ``f`` uses), so one model of the kinetics exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.mathfuncs import zeros
from plant_models.core.smooth import clip
from plant_models.flowsheet.stream import stream_variables
from plant_models.parameters import UnitParams, param
from plant_models.units import cstr_vdv
from plant_models.units.cstr_vdv import f as cstr_f
from plant_models.units.cstr_vdv import rates as cstr_rates

__all__ = ["ReactorJacketSettings", "f", "g", "model", "parameter_vector", "rates"]

_N_CSTR = len(cstr_vdv.PARAMETERS)
_C_A0 = cstr_vdv.PARAMETERS.index("feed_concentration_a_mol_m3")
_VOL = cstr_vdv.PARAMETERS.index("volume_m3")
_DH1 = cstr_vdv.PARAMETERS.index("reaction_enthalpy1_j_mol")
_DH2 = cstr_vdv.PARAMETERS.index("reaction_enthalpy2_j_mol")
_DH3 = cstr_vdv.PARAMETERS.index("reaction_enthalpy3_j_mol")
_CW_MAX = _N_CSTR
_TAU_VALVE = _N_CSTR + 1
_CP_WATER = _N_CSTR + 2


@dataclass(frozen=True)
class ReactorJacketSettings(UnitParams):
    """Cooling-water supply of the jacket (flowsheet settings, not a unit type).

    Defaults for the 1 m3 demo reactor: up to 2 kg/s (7.2 m3/h) of cooling
    water, a valve stroke lag of 10 s, water cp 4.18 kJ/(kg K).
    """

    cooling_water_max_kg_s: float = param(
        2.0, unit="kg/s", low=1.0e-4, high=1.0e3, description="Cooling water, valve fully open"
    )
    valve_time_s: float = param(
        10.0, unit="s", low=0.1, high=600.0, description="Valve and flow lag"
    )
    heat_capacity_water_j_kg_k: float = param(
        4180.0, unit="J/(kg*K)", low=1000.0, high=1.0e4, description="Cooling-water cp"
    )


def parameter_vector(params: cstr_vdv.CstrVdvParams, jacket: ReactorJacketSettings) -> np.ndarray:
    """Return ``p``: the unit's parameters then the jacket settings."""
    values = [float(getattr(params, n)) for n in cstr_vdv.PARAMETERS]
    values += [
        jacket.cooling_water_max_kg_s,
        jacket.valve_time_s,
        jacket.heat_capacity_water_j_kg_k,
    ]
    return np.array(values, dtype=np.float64)


@equation
def _unit_parameters(d: Any, p: Any) -> Any:
    """The unit's ``p`` with the feed's A concentration in place of the parameter."""
    pc = zeros(_N_CSTR)
    for i in range(_N_CSTR):
        pc[i] = p[i]
    pc[_C_A0] = d[1]
    return pc


@equation
def rates(x: Any, d: Any, p: Any) -> Any:
    """Return the reaction rates ``(r1, r2, r3)`` [mol/(m^3*s)].

    :func:`plant_models.units.cstr_vdv.rates` at the reactor state ``x``.
    """
    return cstr_rates(x, _unit_parameters(d, p))


@equation
def _jacket_heat(x: Any, d: Any, p: Any) -> Any:
    """Heat added to the jacket by the cooling water (negative: removed) [W]."""
    return x[6] * p[_CP_WATER] * (d[6] - x[3])


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Unit balances (A, B, T, T_K), C and D balances, cooling-water valve lag.

    ``x = (c_A, c_B, T, T_K, c_C, c_D, m_cw)``, ``u = (valve,)``,
    ``d = (feed stream (6), T_cw,in)``.
    """
    dxdt = zeros(7)
    pc = _unit_parameters(d, p)
    dilution = d[0] / p[_VOL]
    xu = zeros(4)
    for i in range(4):
        xu[i] = x[i]
    uu = zeros(2)
    uu[0] = dilution
    uu[1] = _jacket_heat(x, d, p)
    du = zeros(1)
    du[0] = d[5]
    fu = cstr_f(xu, uu, du, pc)
    _, r2, r3 = rates(x, d, p)
    dxdt[0] = fu[0]
    dxdt[1] = fu[1] + dilution * d[2]
    dxdt[2] = fu[2]
    dxdt[3] = fu[3]
    dxdt[4] = dilution * (d[3] - x[4]) + r2
    dxdt[5] = dilution * (d[4] - x[5]) + 0.5 * r3
    dxdt[6] = (clip(u[0], 0.0, 1.0) * p[_CW_MAX] - x[6]) / p[_TAU_VALVE]
    return dxdt


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Product stream, concentrations, temperatures, jacket and reaction heat."""
    y = zeros(16)
    y[0] = d[0]
    y[1] = x[0]
    y[2] = x[1]
    y[3] = x[4]
    y[4] = x[5]
    y[5] = x[2]
    y[6] = x[0]
    y[7] = x[1]
    y[8] = x[4]
    y[9] = x[5]
    y[10] = x[2]
    y[11] = x[3]
    y[12] = x[6]
    y[13] = -_jacket_heat(x, d, p)
    r1, r2, r3 = rates(x, d, p)
    y[14] = -p[_VOL] * (r1 * p[_DH1] + r2 * p[_DH2] + r3 * p[_DH3])
    y[15] = d[0] * x[1]
    return y


def model(params: cstr_vdv.CstrVdvParams) -> EquationModel:
    """Return the stream form of the reactor (envelope from the unit's model)."""
    unit = cstr_vdv.model(params)
    c_max = params.feed_concentration_a_mol_m3
    return EquationModel(
        name="reactor_stream",
        f=f,
        g=g,
        states=(
            *unit.states,
            Variable("c_c_mol_m3", "mol/m^3", "Concentration of C", 0.0, c_max),
            Variable("c_d_mol_m3", "mol/m^3", "Concentration of D", 0.0, c_max / 2.0),
            Variable("cooling_water_kg_s", "kg/s", "Cooling water through the jacket", 0.0, 2.0),
        ),
        inputs=(Variable("valve_cooling", "dimensionless", "Cooling-water valve", 0.0, 1.0),),
        disturbances=(
            *stream_variables("feed_in", "Reactor feed"),
            Variable("t_cooling_water_k", "K", "Cooling-water supply temperature", 278.15, 313.15),
        ),
        outputs=(
            *stream_variables("product_out", "Reactor effluent"),
            Variable("c_a_mol_m3", "mol/m^3", "Concentration of A"),
            Variable("c_b_mol_m3", "mol/m^3", "Concentration of B"),
            Variable("c_c_mol_m3", "mol/m^3", "Concentration of C"),
            Variable("c_d_mol_m3", "mol/m^3", "Concentration of D"),
            Variable("t_reactor_k", "K", "Reactor temperature"),
            Variable("t_jacket_k", "K", "Jacket temperature"),
            Variable("cooling_water_kg_s", "kg/s", "Cooling water through the jacket"),
            Variable("heat_removed_w", "W", "Heat taken by the cooling water"),
            Variable("heat_release_w", "W", "Heat released by the reactions"),
            Variable("production_b_mol_s", "mol/s", "B leaving with the product"),
        ),
        parameters=(
            *unit.parameters,
            Variable("cooling_water_max_kg_s", "kg/s", "Cooling water, valve open", 1e-4, 1e3),
            Variable("valve_time_s", "s", "Cooling valve lag", 0.1, 600.0),
            Variable("heat_capacity_water_j_kg_k", "J/(kg*K)", "Water cp", 1000.0, 1.0e4),
        ),
    )
