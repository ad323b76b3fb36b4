"""Material streams of a liquid process: volumetric flow, four concentrations, temperature.

A stream between process units carries six signals, always in this order
(:data:`STREAM_FIELDS`): volumetric flow [m3/s], concentrations of the Van de
Vusse species A, B, C and D [mol/m3] and temperature [K].  The liquid is an
ideal mixture of constant density and heat capacity (the assumption of the
Klatt and Engell reactor model) whose remainder is an inert solvent, so
volumes add on mixing and the enthalpy of a stream is ``rho cp q T``.

A unit declares a stream port as six consecutive variables named
``<port>_<field>`` (disturbances for an inlet, outputs for an outlet); the
flowsheet wires them by those names.
"""

from __future__ import annotations

from typing import Any

from plant_models.core.equations import Variable, equation
from plant_models.core.mathfuncs import fmax, zeros

__all__ = [
    "FLOW_FLOOR_M3_S",
    "NODE_FIELDS",
    "SPECIES",
    "STREAM_FIELDS",
    "STREAM_SIZE",
    "mix",
    "stream_variables",
]

#: Names of the six stream signals, in vector order.
STREAM_FIELDS: tuple[str, ...] = (
    "flow_m3_s",
    "c_a_mol_m3",
    "c_b_mol_m3",
    "c_c_mol_m3",
    "c_d_mol_m3",
    "t_k",
)
#: Names of the same signals as outputs of a process node (``feed.supply``,
#: ``feed.temperature`` are bindable node variables in the project file).
NODE_FIELDS: tuple[str, ...] = (
    "supply",
    "c_a_mol_m3",
    "c_b_mol_m3",
    "c_c_mol_m3",
    "c_d_mol_m3",
    "temperature",
)
STREAM_SIZE = len(STREAM_FIELDS)
#: Van de Vusse species carried by a stream.
SPECIES: tuple[str, ...] = ("a", "b", "c", "d")
#: Flow below which a node is treated as empty when averaging its inlets. [m3/s]
FLOW_FLOOR_M3_S = 1.0e-9

_UNITS = ("m^3/s", "mol/m^3", "mol/m^3", "mol/m^3", "mol/m^3", "K")
_DESCRIPTIONS = (
    "volumetric flow",
    "concentration of A",
    "concentration of B",
    "concentration of C",
    "concentration of D",
    "temperature",
)
#: Envelope of stream signals (flows up to 40 m3/h, concentrations up to the
#: molar density of the liquid, liquid temperatures 0-200 degC).
_LOWS = (0.0, 0.0, 0.0, 0.0, 0.0, 273.15)
_HIGHS = (40.0 / 3600.0, 1.0e4, 1.0e4, 1.0e4, 1.0e4, 473.15)


def stream_variables(port: str, description: str, *, node: bool = False) -> tuple[Variable, ...]:
    """Return the six :class:`Variable` of a stream port.

    Parameters
    ----------
    port : str
        Port name (``feed_in``); variables are named ``<port>_<field>``, or
        ``<port>.<node field>`` if ``node`` is true.
    description : str
        Prefix of each variable's description (``"Reactor feed"``).
    node : bool
        Name the variables as the outputs of a process node.
    """
    names = (
        tuple(f"{port}.{field}" for field in NODE_FIELDS)
        if node
        else tuple(f"{port}_{field}" for field in STREAM_FIELDS)
    )
    return tuple(
        Variable(name, unit, f"{description}: {what}", low, high)
        for name, unit, what, low, high in zip(
            names, _UNITS, _DESCRIPTIONS, _LOWS, _HIGHS, strict=True
        )
    )


@equation
def mix(d: Any, first: int, count: int) -> Any:
    """Return the stream mixing ``count`` inlet streams stored from ``d[first]`` on.

    Flows add; concentrations and temperature are flow-weighted means
    (constant density and heat capacity).  An empty node (all flows zero)
    keeps the first inlet's composition and temperature.
    """
    out = zeros(STREAM_SIZE)
    total = 0.0
    for k in range(count):
        total = total + d[first + STREAM_SIZE * k]
    weight_sum = fmax(total, FLOW_FLOOR_M3_S)
    out[0] = total
    for j in range(1, STREAM_SIZE):
        acc = 0.0
        for k in range(count):
            acc = acc + d[first + STREAM_SIZE * k] * d[first + STREAM_SIZE * k + j]
        # Below the flow floor the first inlet's value is kept instead of 0/0.
        empty = fmax(FLOW_FLOOR_M3_S - total, 0.0) / FLOW_FLOOR_M3_S
        out[j] = (1.0 - empty) * acc / weight_sum + empty * d[first + j]
    return out
