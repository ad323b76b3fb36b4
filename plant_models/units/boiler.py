"""Multi-fuel gas-fired steam boiler: parameters (equations follow in the unit library)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from plant_models.parameters import PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = ["BoilerParams"]


@register_unit("boiler")
@dataclass(frozen=True)
class BoilerParams(UnitParams):
    """Gas-fired steam boiler of a steelworks power plant (for example 220 t/h).

    Efficiency defaults follow typical utility gas-fired boilers: 88-92 %
    at rated load, falling at low load.
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
        0.90, unit="dimensionless", low=0.0, high=1.0, description="Efficiency at rated load"
    )
    enthalpy_rise_j_kg: float = param(
        3.0e6,
        unit="J/kg",
        low=1.0e5,
        high=4.0e6,
        description="Steam enthalpy minus feedwater enthalpy",
    )
