"""Feed/effluent exchanger with a low-pressure steam trim heater, in stream form.

The feed/effluent exchange is :func:`plant_models.units.heat_exchanger.f`
called unchanged (effectiveness-NTU duty, lagged outlet temperatures); hot
and cold sides are streams (mass flow ``rho q``).  Downstream of it on the
cold side a steam trim heater adds the condensing heat of the steam passing
its valve (first-order valve and flow lag):
``T_cold,out = T_exchanger,out + m_steam h_fg / (rho q_cold cp_cold)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.mathfuncs import fmax, zeros
from plant_models.core.smooth import clip
from plant_models.flowsheet.stream import STREAM_SIZE, stream_variables
from plant_models.parameters import UnitParams, param
from plant_models.units import heat_exchanger
from plant_models.units.heat_exchanger import duty as hx_duty
from plant_models.units.heat_exchanger import f as hx_f

__all__ = ["SteamTrimSettings", "f", "g", "model", "parameter_vector"]

_N_HX = len(heat_exchanger.PARAMETERS)
_CP_COLD = heat_exchanger.PARAMETERS.index("heat_capacity_cold_j_kg_k")
_RHO, _STEAM_MAX, _H_FG, _TAU_VALVE = range(_N_HX, _N_HX + 4)
#: Floor of the cold-side heat-capacity rate (a stopped feed). [W/K]
_C_FLOOR = 1.0


@dataclass(frozen=True)
class SteamTrimSettings(UnitParams):
    """Stream density and the steam trim heater (flowsheet settings, not a unit type).

    Defaults: liquid density 934.2 kg/m3 (Klatt and Engell), up to 0.5 kg/s
    (1.8 t/h) of 0.5 MPa steam, whose latent heat is 2108 kJ/kg (IAPWS-IF97
    steam tables at 0.5 MPa, 151.8 degC), valve lag 10 s.
    """

    density_kg_m3: float = param(
        934.2, unit="kg/m^3", low=100.0, high=3000.0, description="Process liquid density"
    )
    steam_max_kg_s: float = param(
        0.5, unit="kg/s", low=1.0e-4, high=100.0, description="Steam, valve fully open"
    )
    steam_latent_heat_j_kg: float = param(
        2.108e6, unit="J/kg", low=1.0e5, high=3.0e6, description="Condensing heat of the steam"
    )
    valve_time_s: float = param(
        10.0, unit="s", low=0.1, high=600.0, description="Steam valve and flow lag"
    )


def parameter_vector(
    params: heat_exchanger.HeatExchangerParams, trim: SteamTrimSettings
) -> np.ndarray:
    """Return ``p``: the exchanger's parameters then the trim settings."""
    values = [float(getattr(params, n)) for n in heat_exchanger.PARAMETERS]
    values += [
        trim.density_kg_m3,
        trim.steam_max_kg_s,
        trim.steam_latent_heat_j_kg,
        trim.valve_time_s,
    ]
    return np.array(values, dtype=np.float64)


@equation
def _unit_vectors(x: Any, d: Any, p: Any) -> Any:
    """The exchanger's ``(x, u, d, p)`` built from the streams."""
    xh = zeros(2)
    xh[0] = x[0]
    xh[1] = x[1]
    uh = zeros(1)
    uh[0] = d[0] * p[_RHO]
    dh = zeros(3)
    dh[0] = d[5]
    dh[1] = d[STREAM_SIZE] * p[_RHO]
    dh[2] = d[STREAM_SIZE + 5]
    ph = zeros(_N_HX)
    for i in range(_N_HX):
        ph[i] = p[i]
    return xh, uh, dh, ph


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Exchanger outlet lags and the steam valve lag.

    ``x = (T_hot,out, T_exchanger,cold,out, m_steam)``, ``u = (steam valve,)``,
    ``d = (hot inlet stream (6), cold inlet stream (6))``.
    """
    dxdt = zeros(3)
    xh, uh, dh, ph = _unit_vectors(x, d, p)
    fh = hx_f(xh, uh, dh, ph)
    dxdt[0] = fh[0]
    dxdt[1] = fh[1]
    dxdt[2] = (clip(u[0], 0.0, 1.0) * p[_STEAM_MAX] - x[2]) / p[_TAU_VALVE]
    return dxdt


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Hot and cold outlet streams, feed temperature, duties and steam drawn."""
    y = zeros(2 * STREAM_SIZE + 4)
    _, uh, dh, ph = _unit_vectors(x, d, p)
    c_cold = fmax(d[STREAM_SIZE] * p[_RHO] * p[_CP_COLD], _C_FLOOR)
    steam_heat = x[2] * p[_H_FG]
    t_feed = x[1] + steam_heat / c_cold
    for i in range(STREAM_SIZE - 1):
        y[i] = d[i]
        y[STREAM_SIZE + i] = d[STREAM_SIZE + i]
    y[STREAM_SIZE - 1] = x[0]
    y[2 * STREAM_SIZE - 1] = t_feed
    y[2 * STREAM_SIZE] = t_feed
    y[2 * STREAM_SIZE + 1] = hx_duty(uh, dh, ph)
    y[2 * STREAM_SIZE + 2] = steam_heat
    y[2 * STREAM_SIZE + 3] = x[2]
    return y


def model(params: heat_exchanger.HeatExchangerParams) -> EquationModel:
    """Return the stream form of the feed preheater."""
    unit = heat_exchanger.model(params)
    return EquationModel(
        name="preheater_stream",
        f=f,
        g=g,
        states=(
            Variable("t_hot_out_k", "K", "Effluent leaving the exchanger", 280.0, 480.0),
            Variable("t_cold_exchanger_k", "K", "Feed leaving the exchanger bundle", 280.0, 480.0),
            Variable("steam_kg_s", "kg/s", "Trim steam", 0.0, 0.5),
        ),
        inputs=(Variable("valve_steam", "dimensionless", "Trim steam valve", 0.0, 1.0),),
        disturbances=(
            *stream_variables("hot_in", "Effluent in"),
            *stream_variables("cold_in", "Feed in"),
        ),
        outputs=(
            *stream_variables("hot_out", "Effluent out"),
            *stream_variables("cold_out", "Feed out"),
            Variable("t_cold_out_k", "K", "Preheated feed temperature"),
            Variable("duty_w", "W", "Feed/effluent duty (steady)"),
            Variable("steam_duty_w", "W", "Trim heater duty"),
            Variable("steam_kg_s", "kg/s", "Trim steam drawn"),
        ),
        parameters=(
            *unit.parameters,
            Variable("density_kg_m3", "kg/m^3", "Liquid density", 100.0, 3000.0),
            Variable("steam_max_kg_s", "kg/s", "Steam, valve open", 1e-4, 100.0),
            Variable("steam_latent_heat_j_kg", "J/kg", "Steam condensing heat", 1e5, 3e6),
            Variable("valve_time_s", "s", "Steam valve lag", 0.1, 600.0),
        ),
    )
