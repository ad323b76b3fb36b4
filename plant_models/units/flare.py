"""Flare stack burning surplus fuel gas: parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import zeros
from plant_models.parameters import PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = ["PARAMETERS", "FlareParams", "f", "g", "model"]


@register_unit("flare")
@dataclass(frozen=True)
class FlareParams(UnitParams):
    """Flare (bleeder) of a fuel-gas network.

    Defaults: a BFG bleeder sized for 300,000 Nm3/h, a large share of the
    several 100,000 Nm3/h a 5 Mt/yr works makes (guide section 4); the penalty
    prices lost gas plus emission fines per Nm3, CO2 factor for BFG from its
    composition (about 22 % CO + 22 % CO2 by volume -> 0.44 Nm3 CO2 per Nm3,
    1.977 kg/Nm3 CO2 density -> 0.87 kg/Nm3).
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec("gas", "fuel_gas", "in", "Gas network node the flare draws from"),
    )

    capacity_m3_s: float = param(
        83.3, unit="m^3/s", low=0.0, high=1.0e4, description="Maximum flared flow [Nm3/s]"
    )
    penalty_per_m3: float = param(
        0.05,
        unit="1/m^3",
        low=0.0,
        high=100.0,
        description="Fines and penalties per Nm3 flared [currency/Nm3]",
    )
    co2_kg_m3: float = param(
        0.87, unit="kg/m^3", low=0.0, high=5.0, description="CO2 emitted per Nm3 flared"
    )
    opening_time_constant_s: float = param(
        10.0, unit="s", low=0.1, high=600.0, description="Lag of the bleeder valve"
    )


# ---------------------------------------------------------------- equations

#: Order of the parameter vector ``p``.
PARAMETERS: tuple[str, ...] = ("penalty_per_m3", "co2_kg_m3", "opening_time_constant_s")
_PENALTY, _CO2, _TAU = range(3)


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Flared flow follows the bleeder command with a first-order lag."""
    dxdt = zeros(1)
    dxdt[0] = (u[0] - x[0]) / p[_TAU]
    return dxdt


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Flared flow, lost energy, CO2 and penalty rates."""
    y = zeros(4)
    y[0] = x[0]
    y[1] = x[0] * d[0]
    y[2] = x[0] * p[_CO2]
    y[3] = x[0] * p[_PENALTY]
    return y


def model(params: FlareParams | None = None) -> EquationModel:
    """Return the flare's equation model.

    State ``flow_m3_s``; input the bleeder command; disturbance the heating
    value of the flared gas (for the lost energy).
    """
    params = params if params is not None else FlareParams()
    cap = params.capacity_m3_s
    return EquationModel(
        name="flare",
        f=f,
        g=g,
        states=(Variable("flow_m3_s", "m^3/s", "Flared flow [Nm3/s]", 0.0, cap),),
        inputs=(Variable("flow_command_m3_s", "m^3/s", "Bleeder command [Nm3/s]", 0.0, cap),),
        disturbances=(Variable("lhv_j_m3", "J/m^3", "Heating value [J/Nm3]", 1.0e6, 50.0e6),),
        outputs=(
            Variable("flow_m3_s", "m^3/s", "Flared flow [Nm3/s]"),
            Variable("energy_lost_w", "W", "Heating value flared"),
            Variable("co2_kg_s", "kg/s", "CO2 emitted"),
            Variable("penalty_rate_per_s", "1/s", "Penalty rate [currency/s]"),
        ),
        parameters=parameter_variables(FlareParams, PARAMETERS),
    )
