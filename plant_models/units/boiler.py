"""Multi-fuel gas-fired steam boiler: parameters.

The efficiency model used by the boiler equations is

    eta = efficiency_nominal
          - efficiency_load_coefficient * (load - load_best_fraction)**2
          - efficiency_drop_lean_fuel * lean_share

where ``load`` is steam output over capacity and ``lean_share`` in [0, 1]
measures the fuel mix by its volume per unit energy,
``(V/E - 1/lhv_rich) / (1/lhv_lean - 1/lhv_rich)``.  Flue-gas volume per MJ
fired is nearly ``a + b / LHV`` for steelworks gases (about 0.49 Nm3/MJ for
BFG, 0.30 for COG, 0.28 for natural gas from their combustion stoichiometry),
so the stack loss grows linearly in ``V/E``; that is why the mix enters this
way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import fmax, zeros
from plant_models.core.smooth import clip
from plant_models.parameters import ParameterError, PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = ["PARAMETERS", "BoilerParams", "efficiency", "f", "fuel_power", "g", "model"]


@register_unit("boiler")
@dataclass(frozen=True)
class BoilerParams(UnitParams):
    """Gas-fired steam boiler of a steelworks power plant (for example 220 t/h).

    Defaults: a 220 t/h, 9.8 MPa / 540 degC boiler firing BFG/COG/natural gas,
    efficiency 88-92 % over load and fuel mix (guide section 4).  The enthalpy
    rise is h(9.8 MPa, 540 degC) = 3475 kJ/kg minus feedwater at 215 degC,
    h = 923 kJ/kg (IAPWS-IF97).
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec("fuel", "fuel_gas", "in", "Fuel gas networks fired", multiple=True),
        PortSpec("steam_out", "steam", "out", "Live-steam header supplied"),
        PortSpec("power_aux", "electricity", "in", "Auxiliary power (fans, pumps)", optional=True),
    )

    capacity_steam_kg_s: float = param(
        61.11, unit="kg/s", low=0.1, high=1000.0, description="Rated steam output (220 t/h)"
    )
    min_load_fraction: float = param(
        0.3, unit="dimensionless", low=0.0, high=1.0, description="Minimum stable load"
    )
    efficiency_nominal: float = param(
        0.92,
        unit="dimensionless",
        low=0.0,
        high=1.0,
        description="Peak efficiency (at the best load, rich fuel)",
    )
    load_best_fraction: float = param(
        0.85, unit="dimensionless", low=0.1, high=1.0, description="Load of peak efficiency"
    )
    efficiency_load_coefficient: float = param(
        0.03,
        unit="dimensionless",
        low=0.0,
        high=2.0,
        description="Efficiency drop per squared load deviation from the best load",
    )
    efficiency_drop_lean_fuel: float = param(
        0.03,
        unit="dimensionless",
        low=0.0,
        high=0.3,
        description="Efficiency drop firing only lean fuel (BFG) instead of rich fuel",
    )
    lhv_lean_j_m3: float = param(
        3.2e6,
        unit="J/m^3",
        low=1.0e6,
        high=50.0e6,
        description="Heating value of the leanest fuel (BFG) [J/Nm3]",
    )
    lhv_rich_j_m3: float = param(
        36.0e6,
        unit="J/m^3",
        low=1.0e6,
        high=50.0e6,
        description="Heating value of the richest fuel (natural gas) [J/Nm3]",
    )
    enthalpy_rise_j_kg: float = param(
        2.55e6,
        unit="J/kg",
        low=1.0e5,
        high=4.0e6,
        description="Steam enthalpy minus feedwater enthalpy",
    )
    time_constant_s: float = param(
        180.0,
        unit="s",
        low=1.0,
        high=3600.0,
        description="First-order lag of steam output behind firing",
    )
    ramp_rate_fraction_s: float = param(
        3.33e-4,
        unit="1/s",
        low=1.0e-6,
        high=1.0,
        description="Maximum load change per second as a fraction of capacity (2 %/min)",
    )
    aux_energy_j_kg: float = param(
        3.0e4,
        unit="J/kg",
        low=0.0,
        high=2.0e5,
        description="Auxiliary electricity per kg steam (feed pump ~0.9 MW + fans at 220 t/h)",
    )

    def validate(self) -> None:
        """Check ranges, then that the lean fuel is leaner than the rich one."""
        super().validate()
        if self.lhv_lean_j_m3 >= self.lhv_rich_j_m3:
            raise ParameterError(
                "lhv_lean_j_m3",
                f"must be below lhv_rich_j_m3 ({self.lhv_rich_j_m3:g}), got {self.lhv_lean_j_m3:g}",
            )
        if self.min_load_fraction >= 1.0:
            raise ParameterError("min_load_fraction", "must be below 1 (the rated load)")


# ---------------------------------------------------------------- equations

#: Order of the parameter vector ``p``.
PARAMETERS: tuple[str, ...] = (
    "capacity_steam_kg_s",
    "efficiency_nominal",
    "load_best_fraction",
    "efficiency_load_coefficient",
    "efficiency_drop_lean_fuel",
    "lhv_lean_j_m3",
    "lhv_rich_j_m3",
    "enthalpy_rise_j_kg",
    "time_constant_s",
    "aux_energy_j_kg",
)
_CAP, _ETA, _LOAD_BEST, _K_LOAD, _K_LEAN, _H_LEAN, _H_RICH, _DH, _TAU, _AUX = range(10)
#: Fuel power below which the mix is undefined and the lean share is taken as
#: that of the rich fuel (avoids 0/0 when the boiler is cold). [W]
_FUEL_POWER_FLOOR_W = 1.0


@equation
def fuel_power(u: Any, d: Any) -> Any:
    """Return the fired fuel power: sum of volume flow x heating value [W]."""
    total = 0.0
    for i in range(u.shape[0]):
        total = total + u[i] * d[i]
    return total


@equation
def efficiency(steam_kg_s: Any, u: Any, d: Any, p: Any) -> Any:
    """Return the boiler efficiency at the current load and fuel mix [1]."""
    volume = 0.0
    for i in range(u.shape[0]):
        volume = volume + u[i]
    power = fmax(fuel_power(u, d), _FUEL_POWER_FLOOR_W)
    inv_rich = 1.0 / p[_H_RICH]
    lean_share = clip((volume / power - inv_rich) / (1.0 / p[_H_LEAN] - inv_rich), 0.0, 1.0)
    load = steam_kg_s / p[_CAP]
    deviation = load - p[_LOAD_BEST]
    return p[_ETA] - p[_K_LOAD] * deviation * deviation - p[_K_LEAN] * lean_share


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Steam output lags its steady value ``eta * fuel power / enthalpy rise``."""
    dxdt = zeros(1)
    steady = efficiency(x[0], u, d, p) * fuel_power(u, d) / p[_DH]
    dxdt[0] = (steady - x[0]) / p[_TAU]
    return dxdt


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Steam, fuel power, efficiency, load, auxiliary power, stack and other losses."""
    y = zeros(6)
    eta = efficiency(x[0], u, d, p)
    power = fuel_power(u, d)
    y[0] = x[0]
    y[1] = power
    y[2] = eta
    y[3] = x[0] / p[_CAP]
    y[4] = p[_AUX] * x[0]
    y[5] = power - x[0] * p[_DH]
    return y


def model(params: BoilerParams | None = None, n_fuels: int = 3) -> EquationModel:
    """Return the boiler's equation model with ``n_fuels`` fuel inputs.

    States ``steam_kg_s``; inputs the fuel volume flows ``fuel_<i>_m3_s``;
    disturbances their heating values ``lhv_<i>_j_m3`` (from the fuel
    networks' calorimeters).  Output ``heat_loss_w`` is fuel power minus heat
    taken up by the steam: it equals the stack and casing losses in steady
    state and closes the energy balance.
    """
    params = params if params is not None else BoilerParams()
    if n_fuels < 1:
        raise ParameterError("n_fuels", f"must be at least 1, got {n_fuels}")
    cap = params.capacity_steam_kg_s
    max_fuel = 1.2 * cap * params.enthalpy_rise_j_kg / params.lhv_lean_j_m3
    return EquationModel(
        name="boiler",
        f=f,
        g=g,
        states=(Variable("steam_kg_s", "kg/s", "Steam output", 0.0, 1.1 * cap),),
        inputs=tuple(
            Variable(f"fuel_{i}_m3_s", "m^3/s", f"Fuel {i} volume flow [Nm3/s]", 0.0, max_fuel)
            for i in range(n_fuels)
        ),
        disturbances=tuple(
            Variable(
                f"lhv_{i}_j_m3",
                "J/m^3",
                f"Fuel {i} heating value [J/Nm3]",
                params.lhv_lean_j_m3,
                params.lhv_rich_j_m3,
            )
            for i in range(n_fuels)
        ),
        outputs=(
            Variable("steam_kg_s", "kg/s", "Steam output"),
            Variable("fuel_power_w", "W", "Fired fuel power (LHV basis)"),
            Variable("efficiency", "dimensionless", "Boiler efficiency (LHV basis)"),
            Variable("load_fraction", "dimensionless", "Steam output over capacity"),
            Variable("aux_power_w", "W", "Auxiliary electricity"),
            Variable("heat_loss_w", "W", "Fuel power not taken up by the steam"),
        ),
        parameters=parameter_variables(BoilerParams, PARAMETERS),
    )
