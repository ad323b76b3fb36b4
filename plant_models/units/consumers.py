"""Demand units of the steelworks: gas, steam and power consumers (parameters).

Each consumer's demand is a disturbance input scaled by its nominal value; the
parameters give the scale and what the demand draws from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import zeros
from plant_models.core.smooth import clip
from plant_models.parameters import PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = [
    "GAS_PARAMETERS",
    "POWER_PARAMETERS",
    "STEAM_PARAMETERS",
    "GasConsumerParams",
    "PowerConsumerParams",
    "SteamConsumerParams",
    "gas_g",
    "gas_model",
    "no_states",
    "power_g",
    "power_model",
    "steam_g",
    "steam_model",
]


@register_unit("gas_consumer")
@dataclass(frozen=True)
class GasConsumerParams(UnitParams):
    """Fuel-gas user (hot stoves, coke-oven underfiring, reheating furnaces, lime kilns).

    The demand is fuel energy; the drawn volume is the energy over the network's
    heating value.  Default: a hot-strip-mill reheating furnace of about
    1.2 GJ/t at 300 t/h -> 100 MW.
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec("gas_in", "fuel_gas", "in", "Gas network drawn from"),
    )

    demand_nominal_w: float = param(
        100.0e6, unit="W", low=0.0, high=1.0e10, description="Nominal fuel energy demand"
    )
    curtailable_fraction: float = param(
        0.0,
        unit="dimensionless",
        low=0.0,
        high=1.0,
        description="Share of demand that may be shed when gas is short",
    )
    curtailment_cost_per_j: float = param(
        0.0, unit="1/J", low=0.0, high=1.0e-5, description="Cost of shed fuel energy"
    )


@register_unit("steam_consumer")
@dataclass(frozen=True)
class SteamConsumerParams(UnitParams):
    """Process-steam user (vacuum degassing, heating, coke-plant by-products).

    Default: 40 t/h of 1.0 MPa steam, 50 % returned as condensate at 90 degC
    (h = 377 kJ/kg, IAPWS-IF97).
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec("steam_in", "steam", "in", "Steam header drawn from"),
        PortSpec("condensate_out", "water", "out", "Condensate returned", optional=True),
    )

    demand_nominal_kg_s: float = param(
        11.1, unit="kg/s", low=0.0, high=1.0e4, description="Nominal steam demand (40 t/h)"
    )
    condensate_return_fraction: float = param(
        0.5, unit="dimensionless", low=0.0, high=1.0, description="Share returned as condensate"
    )
    condensate_enthalpy_j_kg: float = param(
        3.77e5, unit="J/kg", low=0.0, high=1.5e6, description="Condensate enthalpy"
    )


@register_unit("power_consumer")
@dataclass(frozen=True)
class PowerConsumerParams(UnitParams):
    """Electricity user (rolling mills, oxygen plant, blowers, auxiliaries).

    Default: 250 MW, the mean load of a 5 Mt/yr integrated works at about
    450 kWh per t crude steel (5e9 kg/yr x 0.45 kWh/kg / 8760 h = 257 MW).
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec("power_in", "electricity", "in", "Electricity bus drawn from"),
    )

    demand_nominal_w: float = param(
        250.0e6, unit="W", low=0.0, high=1.0e10, description="Nominal electric demand"
    )
    sheddable_fraction: float = param(
        0.0,
        unit="dimensionless",
        low=0.0,
        high=1.0,
        description="Share of demand that may be shifted or shed",
    )


# ---------------------------------------------------------------- equations
# Demands are disturbances relative to the nominal value (1.0 = nominal), so
# that a recorded profile shape can be reused across plants.

#: Order of the gas consumer's parameter vector ``p``.
GAS_PARAMETERS: tuple[str, ...] = (
    "demand_nominal_w",
    "curtailable_fraction",
    "curtailment_cost_per_j",
)
#: Order of the steam consumer's parameter vector ``p``.
STEAM_PARAMETERS: tuple[str, ...] = (
    "demand_nominal_kg_s",
    "condensate_return_fraction",
    "condensate_enthalpy_j_kg",
)
#: Order of the power consumer's parameter vector ``p``.
POWER_PARAMETERS: tuple[str, ...] = ("demand_nominal_w", "sheddable_fraction")


@equation
def no_states(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Consumers are static."""
    return zeros(0)


@equation
def gas_g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Gas drawn, fuel power served, power curtailed and the curtailment cost rate.

    The curtailment command ``u[0]`` is limited to the curtailable share.
    """
    y = zeros(4)
    demand = p[0] * d[0]
    curtailed = demand * clip(u[0], 0.0, p[1])
    served = demand - curtailed
    y[0] = served / d[1]
    y[1] = served
    y[2] = curtailed
    y[3] = curtailed * p[2]
    return y


@equation
def steam_g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Steam drawn and condensate returned."""
    y = zeros(2)
    steam = p[0] * d[0]
    y[0] = steam
    y[1] = p[1] * steam
    return y


@equation
def power_g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Power drawn and power shed (the command is limited to the sheddable share)."""
    y = zeros(2)
    demand = p[0] * d[0]
    shed = demand * clip(u[0], 0.0, p[1])
    y[0] = demand - shed
    y[1] = shed
    return y


_DEMAND = Variable("demand_fraction", "dimensionless", "Demand over nominal", 0.0, 1.5)


def gas_model(params: GasConsumerParams | None = None) -> EquationModel:
    """Return the gas consumer's model: disturbances demand and the network's heating value."""
    del params  # the vector shapes do not depend on the parameters
    return EquationModel(
        name="gas_consumer",
        f=no_states,
        g=gas_g,
        states=(),
        inputs=(Variable("curtail_fraction", "dimensionless", "Share to shed", 0.0, 1.0),),
        disturbances=(
            _DEMAND,
            Variable("lhv_j_m3", "J/m^3", "Heating value of the gas [J/Nm3]", 3.0e6, 36.0e6),
        ),
        outputs=(
            Variable("flow_m3_s", "m^3/s", "Gas drawn [Nm3/s]"),
            Variable("power_w", "W", "Fuel power served"),
            Variable("curtailed_w", "W", "Fuel power shed"),
            Variable("curtailment_cost_per_s", "1/s", "Cost of shedding [currency/s]"),
        ),
        parameters=parameter_variables(GasConsumerParams, GAS_PARAMETERS),
    )


def steam_model(params: SteamConsumerParams | None = None) -> EquationModel:
    """Return the steam consumer's model: disturbance the demand fraction."""
    del params
    return EquationModel(
        name="steam_consumer",
        f=no_states,
        g=steam_g,
        states=(),
        inputs=(),
        disturbances=(_DEMAND,),
        outputs=(
            Variable("flow_steam_kg_s", "kg/s", "Steam drawn"),
            Variable("flow_condensate_kg_s", "kg/s", "Condensate returned"),
        ),
        parameters=parameter_variables(SteamConsumerParams, STEAM_PARAMETERS),
    )


def power_model(params: PowerConsumerParams | None = None) -> EquationModel:
    """Return the power consumer's model: input the shed command, disturbance the demand."""
    del params
    return EquationModel(
        name="power_consumer",
        f=no_states,
        g=power_g,
        states=(),
        inputs=(Variable("shed_fraction", "dimensionless", "Share to shed", 0.0, 1.0),),
        disturbances=(_DEMAND,),
        outputs=(
            Variable("power_w", "W", "Power drawn"),
            Variable("shed_w", "W", "Power shed"),
        ),
        parameters=parameter_variables(PowerConsumerParams, POWER_PARAMETERS),
    )
