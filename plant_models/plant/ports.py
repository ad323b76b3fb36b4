"""How each unit type's ports enter the media-network balances.

For every unit type with a model: a factory building its
:class:`~plant_models.core.equations.EquationModel` from its parameters and
connections, and for every port the model variable that carries the port's
flow, in the network's balance unit:

============== ======================== =====================================
medium kind    balance quantity         unit
============== ======================== =====================================
electricity    power                    W
steam          mass flow                kg/s
fuel_gas       normal volume flow       Nm3/s (``m^3/s``)
water          mass flow                kg/s
cooling_water  heat flow                W
compressed_air free-air volume flow     m3/s
============== ======================== =====================================

A port flow is positive in the port's direction (drawn for ``in``, supplied
for ``out``).  A *slack* port has no flow of its own: its variable is set to
whatever closes the node balance (a holder's net inflow, a header's net
inflow, the grid's import, the heat a cooling tower rejects).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from plant_models.core.equations import EquationModel
from plant_models.units import (
    air_compressor,
    boiler,
    chiller,
    consumers,
    cooling_tower,
    flare,
    gas_holder,
    gas_mixer,
    gas_producer,
    grid,
    prv_station,
    pump,
    steam_header,
    turbogenerator,
)

__all__ = [
    "BALANCE_UNITS",
    "MODEL_FACTORIES",
    "NODE_LHV_SOURCES",
    "PORT_FLOWS",
    "PORT_LHV",
    "PortFlow",
]


#: Medium kind -> unit of its node balance (the table above; pint syntax).
BALANCE_UNITS: dict[str, str] = {
    "electricity": "W",
    "steam": "kg/s",
    "fuel_gas": "m^3/s",
    "water": "kg/s",
    "cooling_water": "W",
    "compressed_air": "m^3/s",
}


@dataclass(frozen=True)
class PortFlow:
    """The model variable carrying a port's flow.

    Attributes
    ----------
    kind : str
        ``"y"`` (an output), ``"u"`` (an input), ``"d"`` (a disturbance) or
        ``"none"`` (the port is informational and takes no part in balances).
    variable : str
        Variable name; ``{i}`` is replaced by the connection's position for a
        port with several connections (``fuel_{i}_m3_s``).
    slack : bool
        Whether the variable is set by the node balance instead of supplying a
        flow (only ``u`` or ``d`` variables can be slack).
    """

    kind: str
    variable: str = ""
    slack: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("y", "u", "d", "none"):
            raise ValueError(f"port flow kind must be y, u, d or none, got {self.kind!r}")
        if self.slack and self.kind not in ("u", "d"):
            raise ValueError("only an input or a disturbance can be a slack variable")


_NONE = PortFlow("none")

#: Unit type -> port name -> the variable carrying its flow.
PORT_FLOWS: dict[str, dict[str, PortFlow]] = {
    "gas_holder": {"gas": PortFlow("d", "flow_in_m3_s", slack=True)},
    "boiler": {
        "fuel": PortFlow("u", "fuel_{i}_m3_s"),
        "steam_out": PortFlow("y", "steam_kg_s"),
        "power_aux": PortFlow("y", "aux_power_w"),
    },
    "turbogenerator": {
        "steam_in": PortFlow("u", "flow_in_kg_s"),
        "extraction_out": PortFlow("u", "flow_extraction_kg_s"),
        "power_out": PortFlow("y", "power_w"),
        "cooling_water": PortFlow("y", "condenser_heat_w"),
    },
    "prv_station": {
        "steam_in": PortFlow("y", "flow_in_kg_s"),
        "steam_out": PortFlow("y", "flow_out_kg_s"),
        "water_in": PortFlow("y", "flow_water_kg_s"),
    },
    "steam_header": {"steam": PortFlow("d", "flow_in_kg_s", slack=True)},
    "grid": {"power": PortFlow("u", "power_import_w", slack=True)},
    "flare": {"gas": PortFlow("y", "flow_m3_s")},
    "gas_mixer": {
        "lean_in": PortFlow("y", "flow_lean_m3_s"),
        "rich_in": PortFlow("y", "flow_rich_m3_s"),
        "mixed_out": PortFlow("y", "flow_mixed_m3_s"),
        "power_in": PortFlow("y", "power_w"),
    },
    "chiller": {
        "power_in": PortFlow("y", "power_w"),
        "cooling_water": PortFlow("y", "heat_rejected_w"),
    },
    "air_compressor": {
        "power_in": PortFlow("y", "power_w"),
        "air_out": PortFlow("y", "flow_m3_s"),
        # The compression work ends up as heat in the intercoolers.
        "cooling_water": PortFlow("y", "power_w"),
    },
    # A pump's volume flow is not a heat flow: the port documents the link only.
    "pump": {"power_in": PortFlow("y", "power_w"), "water_out": _NONE},
    "cooling_tower": {
        "heat_in": PortFlow("d", "heat_w", slack=True),
        "makeup_in": PortFlow("y", "makeup_kg_s"),
        "power_in": PortFlow("y", "fan_power_w"),
    },
    "gas_producer": {"gas_out": PortFlow("y", "flow_m3_s")},
    "gas_consumer": {"gas_in": PortFlow("y", "flow_m3_s")},
    "steam_consumer": {
        "steam_in": PortFlow("y", "flow_steam_kg_s"),
        "condensate_out": PortFlow("y", "flow_condensate_kg_s"),
    },
    "power_consumer": {"power_in": PortFlow("y", "power_w")},
}

#: Unit type -> port name -> the disturbance holding the heating value of the
#: fuel gas on that port's node.  In a composed plant every such disturbance is
#: replaced by one heating value per fuel-gas node (``<node>.lhv_j_m3``), so all
#: units on a node burn, draw or flare gas of the same, once-measured quality.
#: ``{i}`` is the connection's position for a port with several connections.
PORT_LHV: dict[str, dict[str, str]] = {
    "boiler": {"fuel": "lhv_{i}_j_m3"},
    "gas_consumer": {"gas_in": "lhv_j_m3"},
    "flare": {"gas": "lhv_j_m3"},
    "gas_mixer": {"lean_in": "lhv_lean_j_m3", "rich_in": "lhv_rich_j_m3"},
}

#: Unit type -> port name -> the *state* that sets the heating value of the node
#: the port supplies (a mixing station makes its node's gas quality).
NODE_LHV_SOURCES: dict[str, dict[str, str]] = {
    "gas_mixer": {"mixed_out": "lhv_mixed_j_m3"},
}

Factory = Callable[[Any, Mapping[str, tuple[str, ...]]], EquationModel]


def _boiler(params: Any, connections: Mapping[str, tuple[str, ...]]) -> EquationModel:
    return boiler.model(params, n_fuels=max(len(connections.get("fuel", ())), 1))


#: Unit type -> ``factory(params, connections) -> EquationModel``.
MODEL_FACTORIES: dict[str, Factory] = {
    "gas_holder": lambda params, _c: gas_holder.model(params),
    "boiler": _boiler,
    "turbogenerator": lambda params, _c: turbogenerator.model(params),
    "prv_station": lambda params, _c: prv_station.model(params),
    "steam_header": lambda params, _c: steam_header.model(params),
    "grid": lambda params, _c: grid.model(params),
    "flare": lambda params, _c: flare.model(params),
    "gas_mixer": lambda params, _c: gas_mixer.model(params),
    "chiller": lambda params, _c: chiller.model(params),
    "air_compressor": lambda params, _c: air_compressor.model(params),
    "pump": lambda params, _c: pump.model(params),
    "cooling_tower": lambda params, _c: cooling_tower.model(params),
    "gas_producer": lambda params, _c: gas_producer.model(params),
    "gas_consumer": lambda params, _c: consumers.gas_model(params),
    "steam_consumer": lambda params, _c: consumers.steam_model(params),
    "power_consumer": lambda params, _c: consumers.power_model(params),
}
