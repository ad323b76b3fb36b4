"""Wet cooling tower with make-up water: parameters.

Evaporation ``E = evaporative_heat_fraction * Q / latent_heat_j_kg``; drift
``D = drift_fraction * circulation``; blowdown ``B = E / (N - 1) - D`` holds the
concentration ratio ``N = M / (B + D)`` (dissolved-solids balance); make-up
``M = E + B + D``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import fmax, zeros
from plant_models.parameters import ParameterError, PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = ["PARAMETERS", "CoolingTowerParams", "f", "g", "model"]


@register_unit("cooling_tower")
@dataclass(frozen=True)
class CoolingTowerParams(UnitParams):
    """Induced-draft wet cooling tower.

    Defaults: 30 MW heat rejection, 0.72 m3/s circulation (10 K range),
    latent heat 2.43 MJ/kg at 30 degC; the evaporated share of the heat 0.85
    reproduces the common rule E = 0.00153 x circulation x range[K]
    (Perry's Chemical Engineers' Handbook, cooling towers); 4 cycles of
    concentration; modern drift eliminators 0.001 % of circulation.
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec("heat_in", "cooling_water", "in", "Cooling-water network whose heat is rejected"),
        PortSpec("makeup_in", "water", "in", "Make-up water", optional=True),
        PortSpec("power_in", "electricity", "in", "Fan power", optional=True),
    )

    capacity_heat_w: float = param(
        30.0e6, unit="W", low=1.0e3, high=1.0e10, description="Rated heat rejection"
    )
    circulation_m3_s: float = param(
        0.72, unit="m^3/s", low=1.0e-4, high=1.0e3, description="Circulating water flow"
    )
    latent_heat_j_kg: float = param(
        2.43e6, unit="J/kg", low=2.2e6, high=2.6e6, description="Latent heat of evaporation"
    )
    evaporative_heat_fraction: float = param(
        0.85,
        unit="dimensionless",
        low=0.5,
        high=1.0,
        description="Share of the heat removed by evaporation",
    )
    cycles_of_concentration: float = param(
        4.0, unit="dimensionless", low=1.1, high=20.0, description="Concentration ratio"
    )
    drift_fraction: float = param(
        1.0e-5, unit="dimensionless", low=0.0, high=0.01, description="Drift per circulated mass"
    )
    fan_power_rated_w: float = param(
        250.0e3, unit="W", low=0.0, high=1.0e8, description="Fan power at full speed"
    )
    density_water_kg_m3: float = param(
        996.0, unit="kg/m^3", low=900.0, high=1100.0, description="Water density"
    )

    def validate(self) -> None:
        """Check ranges (the cycles bound keeps blowdown finite)."""
        super().validate()
        if self.cycles_of_concentration <= 1.0:
            raise ParameterError("cycles_of_concentration", "must exceed 1")


# ---------------------------------------------------------------- equations

#: Order of the parameter vector ``p``.
PARAMETERS: tuple[str, ...] = (
    "circulation_m3_s",
    "latent_heat_j_kg",
    "evaporative_heat_fraction",
    "cycles_of_concentration",
    "drift_fraction",
    "fan_power_rated_w",
    "density_water_kg_m3",
)
_CIRC, _LATENT, _EVAP_FRAC, _CYCLES, _DRIFT, _FAN, _RHO = range(7)


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """No states."""
    return zeros(0)


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Evaporation, drift, blowdown, make-up water and fan power (cube law)."""
    y = zeros(5)
    evaporation = p[_EVAP_FRAC] * d[0] / p[_LATENT]
    drift = p[_DRIFT] * p[_CIRC] * p[_RHO]
    blowdown = fmax(evaporation / (p[_CYCLES] - 1.0) - drift, 0.0)
    y[0] = evaporation
    y[1] = drift
    y[2] = blowdown
    y[3] = evaporation + drift + blowdown
    y[4] = p[_FAN] * u[0] * u[0] * u[0]
    return y


def model(params: CoolingTowerParams | None = None) -> EquationModel:
    """Return the cooling tower's equation model.

    Input ``fan_speed_fraction``; disturbance ``heat_w``, the heat rejected.
    Water flows are mass flows.
    """
    params = params if params is not None else CoolingTowerParams()
    return EquationModel(
        name="cooling_tower",
        f=f,
        g=g,
        states=(),
        inputs=(Variable("fan_speed_fraction", "dimensionless", "Fan speed", 0.0, 1.0),),
        disturbances=(Variable("heat_w", "W", "Heat rejected", 0.0, params.capacity_heat_w),),
        outputs=(
            Variable("evaporation_kg_s", "kg/s", "Water evaporated"),
            Variable("drift_kg_s", "kg/s", "Droplets carried out"),
            Variable("blowdown_kg_s", "kg/s", "Water drained to hold the cycles"),
            Variable("makeup_kg_s", "kg/s", "Make-up water"),
            Variable("fan_power_w", "W", "Fan power"),
        ),
        parameters=parameter_variables(CoolingTowerParams, PARAMETERS),
    )
