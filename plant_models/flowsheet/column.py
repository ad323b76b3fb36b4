"""Tray-wise distillation column in stream form: A-rich distillate to recycle, bottoms to product.

The column is the binary model of :mod:`plant_models.units.distillation`
(Skogestad's column A: equilibrium stages, constant molar overflow, constant
relative volatility, linearised tray hydraulics, total condenser, LV
configuration with proportional condenser and reboiler level loops), whose
``f`` and ``product_flows`` are called unchanged.  The stream form adds what
a flowsheet needs around it:

- **Pseudo-binary split.**  A is the light key; B, C, D and the inert
  solvent form the heavy pseudo-component (as in the flash stream form,
  :mod:`plant_models.flowsheet.separation`).  Mole fractions use a constant
  liquid molar density ``c_tot`` (equal molar volumes): a stream of ``q``
  [m3/s] carries ``F = q c_tot`` [mol/s] with light fraction
  ``z = c_A / c_tot``.  The feed is taken as saturated liquid (``q = 1``; its
  stream temperature is not used), as the unit assumes.
- **Heavy composition.**  The tray model knows only the light fraction.  The
  shares ``s_B, s_C, s_D`` of B, C and D in the heavy pseudo-component are
  lumped over the whole column hold-up ``M_H = sum_i M_i (1 - x_i)``, and both
  products carry the heavies in these shares::

      M_H ds_j/dt = q c_j,in - F (1 - z) s_j

  so each species' balance around the column is exact at every instant
  (``d(M_H s_j)/dt = q c_j,in - (D (1 - x_D) + B (1 - x_B)) s_j``) and, at
  steady state, the heavies split in their feed proportions
  (``s_j = c_j,in / (c_tot - c_A,in)``).
- **Valves and utilities.**  Reflux and reboiler steam are valve inputs with
  first-order lags (so PID loops can hold the top and bottom compositions or
  temperatures).  The boil-up is the steam's condensing heat over the molar
  latent heat, ``V = m_s h_fg / lambda``; the total condenser rejects
  ``V lambda`` to cooling water (constant molar overflow: the top vapour is
  the boil-up).  Steam and condenser heat are the utility draws of the
  ``steam_in`` and ``cooling_water`` ports.
- **Temperatures.**  Every stage is at the bubble point of its liquid.  For
  an ideal mixture with ``P_A = alpha P_H`` and the heavy's vapour pressure
  by Clausius-Clapeyron with the column's latent heat (the pair of
  assumptions under which a constant relative volatility is consistent)::

      P = P_H(T) (1 + (alpha - 1) x)  =>  1/T = 1/T_b,H + R/lambda ln(1 + (alpha - 1) x)

  with ``T_b,H`` the heavy's boiling point at the column pressure (a setting).
  The distillate leaves as saturated liquid at the condenser's bubble point,
  the bottoms at the reboiler's.

State ``x = (x_1 .. x_n, M_1 .. M_n, s_B, s_C, s_D, L, m_s)`` from the
reboiler (stage 1) to the condenser (stage n), then the heavy shares, the
reflux [mol/s] and the steam [kg/s].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import fmax, log, zeros
from plant_models.core.smooth import clip
from plant_models.flowsheet.stream import STREAM_SIZE, stream_variables
from plant_models.parameters import UnitParams, param
from plant_models.units import distillation
from plant_models.units.distillation import DistillationParams, product_flows
from plant_models.units.distillation import f as tray_f

__all__ = [
    "SETTINGS",
    "ColumnSettings",
    "bubble_temperature",
    "f",
    "g",
    "heavy_holdup",
    "model",
    "parameter_vector",
]

#: Settings after the unit's parameters in ``p``, in this order.
SETTINGS: tuple[str, ...] = (
    "molar_density_mol_m3",
    "reflux_max_m3_s",
    "steam_max_kg_s",
    "steam_latent_heat_j_kg",
    "valve_time_s",
    "boiling_point_heavy_k",
)
_N_UNIT = len(distillation.PARAMETERS)
_ALPHA = distillation.PARAMETERS.index("relative_volatility")
_LATENT = distillation.PARAMETERS.index("latent_heat_j_mol")
_C_TOT, _REFLUX_MAX, _STEAM_MAX, _H_FG, _TAU_VALVE, _T_HEAVY = range(
    _N_UNIT, _N_UNIT + len(SETTINGS)
)
#: States after the tray states: heavy shares of B, C, D, reflux, steam.
_N_EXTRA = 5
#: Outputs before the stage temperatures: two streams and nine scalars.
_N_FIXED_OUTPUTS = 2 * STREAM_SIZE + 9
#: Molar gas constant (CODATA 2018, exact). [J/(mol K)]
_R_GAS = 8.314462618
#: Floor of the heavy hold-up (avoids 0/0 in a column holding pure A). [mol]
_HEAVY_FLOOR_MOL = 1.0e-9


@dataclass(frozen=True)
class ColumnSettings(UnitParams):
    """Valves, molar density and heavy boiling point of the column (flowsheet settings).

    Defaults: liquid molar density 10 kmol/m3 (a light organic solvent, as
    the flash drum), reflux up to 30 m3/h (83 mol/s: 1.8 times column A's
    2.706 kmol/min), steam up to 1.5 kg/s at 2108 kJ/kg (0.5 MPa; column A
    boils up 3.206 kmol/min x 32 kJ/mol = 1.71 MW = 0.81 kg/s), valve lags
    10 s, heavy pseudo-component boiling at 110 degC at the column pressure.
    """

    molar_density_mol_m3: float = param(
        1.0e4, unit="mol/m^3", low=100.0, high=1.0e5, description="Moles of liquid per m3"
    )
    reflux_max_m3_s: float = param(
        30.0 / 3600.0, unit="m^3/s", low=1e-6, high=1.0, description="Reflux, valve fully open"
    )
    steam_max_kg_s: float = param(
        1.5, unit="kg/s", low=1.0e-4, high=100.0, description="Reboiler steam, valve fully open"
    )
    steam_latent_heat_j_kg: float = param(
        2.108e6, unit="J/kg", low=1.0e5, high=3.0e6, description="Condensing heat of the steam"
    )
    valve_time_s: float = param(10.0, unit="s", low=0.1, high=600.0, description="Valve lags")
    boiling_point_heavy_k: float = param(
        383.15,
        unit="K",
        low=200.0,
        high=700.0,
        description="Boiling point of the heavy pseudo-component at the column pressure",
    )


def parameter_vector(params: DistillationParams, settings: ColumnSettings) -> np.ndarray:
    """Return ``p``: the unit's parameters, then the settings (:data:`SETTINGS` order)."""
    values = [float(getattr(params, n)) for n in distillation.PARAMETERS]
    values += [float(getattr(settings, n)) for n in SETTINGS]
    return np.array(values, dtype=np.float64)


@equation
def bubble_temperature(x_light: Any, p: Any) -> Any:
    """Return the bubble point [K] of a liquid of light mole fraction ``x_light`` [1].

    ``1/T = 1/T_b,H + R/lambda ln(1 + (alpha - 1) x)`` (module docstring).
    """
    rise = log(1.0 + (p[_ALPHA] - 1.0) * x_light)
    return 1.0 / (1.0 / p[_T_HEAVY] + _R_GAS / p[_LATENT] * rise)


@equation
def _tray_arguments(x: Any, d: Any, p: Any) -> Any:
    """The unit's ``x`` (tray fractions and hold-ups), ``u = (L, V)`` and ``d = (F, z)``."""
    n2 = x.shape[0] - _N_EXTRA
    xu = zeros(n2)
    for i in range(n2):
        xu[i] = x[i]
    uu = zeros(2)
    uu[0] = x[n2 + 3]
    uu[1] = x[n2 + 4] * p[_H_FG] / p[_LATENT]
    du = zeros(2)
    du[0] = d[0] * p[_C_TOT]
    du[1] = d[1] / p[_C_TOT]
    return xu, uu, du


@equation
def heavy_holdup(x: Any) -> Any:
    """Return the column's hold-up of the heavy pseudo-component ``M_H`` [mol]."""
    n = (x.shape[0] - _N_EXTRA) // 2
    total = 0.0
    for i in range(n):
        total = total + x[n + i] * (1.0 - x[i])
    return fmax(total, _HEAVY_FLOOR_MOL)


@equation
def _product_stream(flow_mol_s: Any, x_light: Any, x: Any, p: Any) -> Any:
    """A product stream: flow, A from the light fraction, B..D from the heavy shares."""
    n2 = x.shape[0] - _N_EXTRA
    s = zeros(STREAM_SIZE)
    s[0] = flow_mol_s / p[_C_TOT]
    s[1] = x_light * p[_C_TOT]
    for j in range(3):
        s[2 + j] = (1.0 - x_light) * x[n2 + j] * p[_C_TOT]
    s[5] = bubble_temperature(x_light, p)
    return s


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Tray balances (the unit's ``f``), heavy shares, reflux and steam valve lags.

    ``u = (reflux valve, steam valve)``, ``d = feed stream (6)``.
    """
    n2 = x.shape[0] - _N_EXTRA
    dxdt = zeros(n2 + _N_EXTRA)
    xu, uu, du = _tray_arguments(x, d, p)
    trays = tray_f(xu, uu, du, p)
    for i in range(n2):
        dxdt[i] = trays[i]
    m_heavy = heavy_holdup(x)
    heavy_feed = d[0] * (p[_C_TOT] - d[1])
    for j in range(3):
        dxdt[n2 + j] = (d[0] * d[2 + j] - heavy_feed * x[n2 + j]) / m_heavy
    reflux_max = p[_REFLUX_MAX] * p[_C_TOT]
    dxdt[n2 + 3] = (clip(u[0], 0.0, 1.0) * reflux_max - x[n2 + 3]) / p[_TAU_VALVE]
    dxdt[n2 + 4] = (clip(u[1], 0.0, 1.0) * p[_STEAM_MAX] - x[n2 + 4]) / p[_TAU_VALVE]
    return dxdt


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Distillate and bottoms streams, compositions, flows, duties, stage temperatures."""
    n2 = x.shape[0] - _N_EXTRA
    n = n2 // 2
    xu, uu, du = _tray_arguments(x, d, p)
    distillate, bottoms = product_flows(xu, uu, du, p)
    top = _product_stream(distillate, x[n - 1], x, p)
    bottom = _product_stream(bottoms, x[0], x, p)
    y = zeros(_N_FIXED_OUTPUTS + n)
    for i in range(STREAM_SIZE):
        y[i] = top[i]
        y[STREAM_SIZE + i] = bottom[i]
    k = 2 * STREAM_SIZE
    y[k] = x[n - 1]
    y[k + 1] = x[0]
    y[k + 2] = uu[0]
    y[k + 3] = uu[1]
    y[k + 4] = distillate
    y[k + 5] = bottoms
    y[k + 6] = x[n2 + 4]
    y[k + 7] = uu[1] * p[_LATENT]
    y[k + 8] = uu[1] * p[_LATENT]
    for i in range(n):
        y[_N_FIXED_OUTPUTS + i] = bubble_temperature(x[i], p)
    return y


def model(params: DistillationParams, settings: ColumnSettings | None = None) -> EquationModel:
    """Return the stream form of the column (stiff: use an implicit method).

    Parameters
    ----------
    params : DistillationParams
        The column: stage count (fixes the state length), feed stage,
        volatility, hold-ups, hydraulics, level loops, latent heat.
    settings : ColumnSettings, optional
        Valve sizes and the heavy boiling point; defaults if None.  They set
        the envelope of the reflux and steam states.

    Returns
    -------
    EquationModel
        Outputs ``distillate_out_*``, ``bottoms_out_*`` (streams),
        ``x_distillate``, ``x_bottoms``, flows, ``steam_kg_s``,
        ``reboiler_duty_w``, ``condenser_heat_w`` and ``t_stage_<i>_k`` for
        every stage (1: reboiler, n: condenser).
    """
    col = settings if settings is not None else ColumnSettings()
    unit = distillation.model(params)
    n = int(params.n_stages)
    reflux_max = col.reflux_max_m3_s * col.molar_density_mol_m3
    return EquationModel(
        name="distillation_stream",
        f=f,
        g=g,
        states=(
            *unit.states,
            *(
                Variable(
                    f"heavy_share_{s}",
                    "dimensionless",
                    f"Share of {s.upper()} in the heavies",
                    0.0,
                    1.0,
                )
                for s in "bcd"
            ),
            Variable("reflux_mol_s", "mol/s", "Reflux L_T", 0.0, reflux_max),
            Variable("steam_kg_s", "kg/s", "Reboiler steam", 0.0, col.steam_max_kg_s),
        ),
        inputs=(
            Variable("valve_reflux", "dimensionless", "Reflux valve", 0.0, 1.0),
            Variable("valve_steam", "dimensionless", "Reboiler steam valve", 0.0, 1.0),
        ),
        disturbances=stream_variables("feed_in", "Column feed"),
        outputs=(
            *stream_variables("distillate_out", "Distillate (light key A, to recycle)"),
            *stream_variables("bottoms_out", "Bottoms (heavies, product)"),
            Variable("x_distillate", "dimensionless", "Light (A) mole fraction of the distillate"),
            Variable("x_bottoms", "dimensionless", "Light (A) mole fraction of the bottoms"),
            Variable("reflux_mol_s", "mol/s", "Reflux L_T"),
            Variable("boilup_mol_s", "mol/s", "Boil-up V_B"),
            Variable("distillate_mol_s", "mol/s", "Distillate D"),
            Variable("bottoms_mol_s", "mol/s", "Bottoms B"),
            Variable("steam_kg_s", "kg/s", "Reboiler steam drawn"),
            Variable("reboiler_duty_w", "W", "Reboiler heat duty"),
            Variable("condenser_heat_w", "W", "Heat rejected in the total condenser"),
            *(
                Variable(f"t_stage_{i + 1}_k", "K", f"Bubble-point temperature, stage {i + 1}")
                for i in range(n)
            ),
        ),
        parameters=(*unit.parameters, *parameter_variables(ColumnSettings, SETTINGS)),
        stiff=True,
    )
