"""Steam-heated flash drum in stream form: A-rich vapour to recycle, liquid to product.

The drum holds a well-mixed liquid volume ``V`` with concentrations of A..D
(the rest is solvent).  As in :mod:`plant_models.units.flash` the vapour
rate is the heat input over the molar latent heat (feed at its bubble
point) and A is the light key with constant relative volatility ``alpha``
against everything else: ``y_A = alpha x_A / (1 + (alpha - 1) x_A)``
(:func:`plant_models.units.flash.equilibrium`, reused); the heavy rest of the
vapour has the heavies' liquid proportions.  Mole fractions use a constant
molar density of the liquid ``c_tot`` (equal molar volumes).  Component
balances of the holdup::

    dV/dt   = q_in - q_L - Vap / c_tot
    dc_i/dt = (q_in (c_i,in - c_i) - Vap (y_i - x_i)) / V

The vapour is condensed with cooling water and leaves as liquid at the
condensate temperature.  Unlike the binary ``flash`` unit, whose outflow
holds the level by itself, the liquid leaves through a draw valve, so the
level is held by a level controller of the flowsheet; the steam valve sets
the vapour (and so the recycle).  Both valves have first-order lags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.mathfuncs import fmax, fmin, zeros
from plant_models.core.smooth import clip
from plant_models.flowsheet.stream import STREAM_SIZE, stream_variables
from plant_models.parameters import UnitParams, param
from plant_models.units.flash import FlashParams, equilibrium

__all__ = ["FlashDrumSettings", "f", "g", "model", "parameter_vector"]

(
    _ALPHA,
    _LATENT,
    _V_MAX,
    _C_TOT,
    _Q_MAX,
    _STEAM_MAX,
    _H_FG,
    _TAU_VALVE,
    _T_FLASH,
    _T_COND,
    _RHO_CP,
) = range(11)
#: Share of the drum volume below which the draw flow fades out (drum running dry). [1]
_EMPTY_FRACTION = 0.02
#: Floor of the heavy liquid mole fraction (avoids 0/0 for pure A). [1]
_X_FLOOR = 1.0e-9


@dataclass(frozen=True)
class FlashDrumSettings(UnitParams):
    """Valves, molar density and temperatures of the flash drum (flowsheet settings).

    Defaults: liquid molar density 10 kmol/m3 (a light organic solvent), liquid
    draw up to 30 m3/h, steam up to 0.5 kg/s at 2108 kJ/kg (0.5 MPa), valve
    lags 10 s, drum at 80 degC, condensate at 40 degC, liquid rho cp of the
    Van de Vusse mixture (934.2 kg/m3 x 3.01 kJ/(kg K)).
    """

    molar_density_mol_m3: float = param(
        1.0e4, unit="mol/m^3", low=100.0, high=1.0e5, description="Moles of liquid per m3"
    )
    liquid_max_m3_s: float = param(
        30.0 / 3600.0, unit="m^3/s", low=1e-6, high=1.0, description="Draw, valve fully open"
    )
    steam_max_kg_s: float = param(
        0.5, unit="kg/s", low=1.0e-4, high=100.0, description="Steam, valve fully open"
    )
    steam_latent_heat_j_kg: float = param(
        2.108e6, unit="J/kg", low=1.0e5, high=3.0e6, description="Condensing heat of the steam"
    )
    valve_time_s: float = param(10.0, unit="s", low=0.1, high=600.0, description="Valve lags")
    drum_temperature_k: float = param(
        353.15, unit="K", low=250.0, high=600.0, description="Liquid leaving the drum"
    )
    condensate_temperature_k: float = param(
        313.15, unit="K", low=250.0, high=600.0, description="Condensed vapour (recycle)"
    )
    volumetric_heat_capacity_j_m3_k: float = param(
        934.2 * 3010.0,
        unit="J/(m^3*K)",
        low=1.0e5,
        high=1.0e7,
        description="Liquid rho cp (condensate sub-cooling)",
    )


def parameter_vector(params: FlashParams, drum: FlashDrumSettings) -> np.ndarray:
    """Return ``p``: volatility, latent heat and drum volume, then the drum settings."""
    return np.array(
        [
            params.relative_volatility,
            params.latent_heat_j_mol,
            params.holdup_max_mol / drum.molar_density_mol_m3,
            drum.molar_density_mol_m3,
            drum.liquid_max_m3_s,
            drum.steam_max_kg_s,
            drum.steam_latent_heat_j_kg,
            drum.valve_time_s,
            drum.drum_temperature_k,
            drum.condensate_temperature_k,
            drum.volumetric_heat_capacity_j_m3_k,
        ],
        dtype=np.float64,
    )


@equation
def vapour(x: Any, p: Any) -> Any:
    """Return the vapour rate [mol/s] and its mole fractions of A, B, C, D [1]."""
    rate = x[6] * p[_H_FG] / p[_LATENT]
    x_a = x[1] / p[_C_TOT]
    y_a = equilibrium(x_a, p[_ALPHA])
    heavy = (1.0 - y_a) / fmax(1.0 - x_a, _X_FLOOR)
    return rate, y_a, heavy * x[2] / p[_C_TOT], heavy * x[3] / p[_C_TOT], heavy * x[4] / p[_C_TOT]


@equation
def draw(x: Any, p: Any) -> Any:
    """Return the liquid draw [m3/s]; it fades out as the drum runs dry."""
    return x[5] * fmin(x[0] / (_EMPTY_FRACTION * p[_V_MAX]), 1.0)


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Holdup volume and concentrations; draw and steam valve lags.

    ``x = (V, c_A, c_B, c_C, c_D, q_L, m_steam)``, ``u = (draw valve, steam
    valve)``, ``d = feed stream (6)``.
    """
    dxdt = zeros(7)
    rate, y_a, y_b, y_c, y_d = vapour(x, p)
    dxdt[0] = d[0] - draw(x, p) - rate / p[_C_TOT]
    dxdt[1] = (d[0] * (d[1] - x[1]) - rate * (y_a - x[1] / p[_C_TOT])) / x[0]
    dxdt[2] = (d[0] * (d[2] - x[2]) - rate * (y_b - x[2] / p[_C_TOT])) / x[0]
    dxdt[3] = (d[0] * (d[3] - x[3]) - rate * (y_c - x[3] / p[_C_TOT])) / x[0]
    dxdt[4] = (d[0] * (d[4] - x[4]) - rate * (y_d - x[4] / p[_C_TOT])) / x[0]
    dxdt[5] = (clip(u[0], 0.0, 1.0) * p[_Q_MAX] - x[5]) / p[_TAU_VALVE]
    dxdt[6] = (clip(u[1], 0.0, 1.0) * p[_STEAM_MAX] - x[6]) / p[_TAU_VALVE]
    return dxdt


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Vapour (condensed) and liquid streams, level, vapour rate, steam and condenser heat."""
    y = zeros(2 * STREAM_SIZE + 5)
    rate, y_a, y_b, y_c, y_d = vapour(x, p)
    q_vap = rate / p[_C_TOT]
    y[0] = q_vap
    y[1] = y_a * p[_C_TOT]
    y[2] = y_b * p[_C_TOT]
    y[3] = y_c * p[_C_TOT]
    y[4] = y_d * p[_C_TOT]
    y[5] = p[_T_COND]
    y[STREAM_SIZE] = draw(x, p)
    for i in range(1, 5):
        y[STREAM_SIZE + i] = x[i]
    y[2 * STREAM_SIZE - 1] = p[_T_FLASH]
    y[2 * STREAM_SIZE] = x[0] / p[_V_MAX]
    y[2 * STREAM_SIZE + 1] = rate
    y[2 * STREAM_SIZE + 2] = x[6]
    y[2 * STREAM_SIZE + 3] = rate * p[_LATENT] + q_vap * p[_RHO_CP] * (p[_T_FLASH] - p[_T_COND])
    y[2 * STREAM_SIZE + 4] = x[5]
    return y


def model(params: FlashParams) -> EquationModel:
    """Return the stream form of the flash drum."""
    del params
    return EquationModel(
        name="flash_stream",
        f=f,
        g=g,
        states=(
            Variable("volume_m3", "m^3", "Liquid in the drum", 0.05, 1.0),
            Variable("c_a_mol_m3", "mol/m^3", "Liquid concentration of A", 0.0, 5000.0),
            Variable("c_b_mol_m3", "mol/m^3", "Liquid concentration of B", 0.0, 3000.0),
            Variable("c_c_mol_m3", "mol/m^3", "Liquid concentration of C", 0.0, 3000.0),
            Variable("c_d_mol_m3", "mol/m^3", "Liquid concentration of D", 0.0, 3000.0),
            Variable("draw_m3_s", "m^3/s", "Liquid draw (before the dry-run fade)", 0.0, 0.008),
            Variable("steam_kg_s", "kg/s", "Heating steam", 0.0, 0.5),
        ),
        inputs=(
            Variable("valve_draw", "dimensionless", "Liquid draw valve", 0.0, 1.0),
            Variable("valve_steam", "dimensionless", "Heating steam valve", 0.0, 1.0),
        ),
        disturbances=stream_variables("feed_in", "Flash feed"),
        outputs=(
            *stream_variables("vapour_out", "Condensed vapour"),
            *stream_variables("liquid_out", "Liquid product"),
            Variable("level_fraction", "dimensionless", "Level: liquid over drum volume"),
            Variable("vapour_mol_s", "mol/s", "Vapour rate"),
            Variable("steam_kg_s", "kg/s", "Heating steam drawn"),
            Variable("condenser_heat_w", "W", "Heat rejected in the condenser"),
            Variable("draw_m3_s", "m^3/s", "Liquid draw valve flow"),
        ),
        parameters=(
            Variable("relative_volatility", "dimensionless", "A over the rest", 1.0001, 100.0),
            Variable("latent_heat_j_mol", "J/mol", "Molar heat of vaporisation", 1e3, 1e5),
            Variable("volume_max_m3", "m^3", "Drum liquid volume at the top", 1e-3, 1e4),
            Variable("molar_density_mol_m3", "mol/m^3", "Liquid molar density", 100.0, 1e5),
            Variable("liquid_max_m3_s", "m^3/s", "Draw, valve open", 1e-6, 1.0),
            Variable("steam_max_kg_s", "kg/s", "Steam, valve open", 1e-4, 100.0),
            Variable("steam_latent_heat_j_kg", "J/kg", "Steam condensing heat", 1e5, 3e6),
            Variable("valve_time_s", "s", "Valve lags", 0.1, 600.0),
            Variable("drum_temperature_k", "K", "Liquid leaving the drum", 250.0, 600.0),
            Variable("condensate_temperature_k", "K", "Condensed vapour", 250.0, 600.0),
            Variable("volumetric_heat_capacity_j_m3_k", "J/(m^3*K)", "Liquid rho cp", 1e5, 1e7),
        ),
    )
