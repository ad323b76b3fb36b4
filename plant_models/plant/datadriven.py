"""Data-driven units as plant members: ports declared per unit, continuous-time form.

A mechanistic unit type knows its ports (:attr:`UnitParams.ports`) and which
variable carries each port's flow (:data:`~plant_models.plant.ports.PORT_FLOWS`).
A data-driven unit has neither: its declaration names, per port, the media
node's medium, the direction and which of its signals *is* the flow
(:class:`DataDrivenPort`).  :class:`DataDrivenParams` carries the identified
unit and these ports in :attr:`UnitSpec.params
<plant_models.plant.compose.UnitSpec>`, so a data-driven unit joins
:func:`~plant_models.plant.compose.compose_plant` next to mechanistic ones.

A port's signal must be in the balance unit of its medium
(:data:`~plant_models.plant.ports.BALANCE_UNITS`: W for electricity and
cooling water, kg/s for steam and water, Nm3/s for fuel gas, m3/s for
compressed air).  Dynamic (discrete-time) units enter the plant in their
continuous-time equivalent (:mod:`plant_models.datadriven.continuous`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from plant_models.core.equations import EquationModel
from plant_models.datadriven.continuous import MIN_POLE_MODULUS, ContinuousUnit, continuous_unit
from plant_models.datadriven.unit import DataDrivenUnit
from plant_models.parameters import MEDIUM_KINDS, PortSpec, UnitParams
from plant_models.plant.ports import BALANCE_UNITS, PortFlow

__all__ = ["DATA_DRIVEN_TYPE", "DataDrivenParams", "DataDrivenPort", "is_balance_unit"]

#: ``type_name`` of a data-driven unit (as in project files).
DATA_DRIVEN_TYPE = "data_driven"

#: Spellings of each balance unit that SI conversion produces (pint writes
#: ``m**3/s`` and gives ``J/s`` for an energy per time).
_UNIT_SPELLINGS: dict[str, frozenset[str]] = {
    "W": frozenset({"W", "J/s", "watt"}),
    "kg/s": frozenset({"kg/s", "kilogram/second"}),
    "m^3/s": frozenset({"m^3/s", "m**3/s", "m3/s"}),
}

_KIND_LABEL = {"y": "output", "u": "input", "d": "disturbance"}


def is_balance_unit(unit: str, medium_kind: str) -> bool:
    """Return whether SI unit text ``unit`` is the balance unit of ``medium_kind``."""
    balance = BALANCE_UNITS.get(medium_kind)
    return balance is not None and unit.replace(" ", "") in _UNIT_SPELLINGS[balance]


@dataclass(frozen=True)
class DataDrivenPort:
    """A port of a data-driven unit.

    Attributes
    ----------
    name : str
        Port name (an identifier, ``power_in``).
    medium_kind : str
        Medium of the node it connects to (not ``process``).
    direction : str
        ``"in"`` (the unit draws the flow from the node) or ``"out"`` (supplies it).
    kind : str
        Vector of the signal carrying the flow: ``"y"`` (output), ``"u"``
        (input) or ``"d"`` (disturbance).
    variable : str
        The signal's name in the unit; positive in the port's direction.
    """

    name: str
    medium_kind: str
    direction: str
    kind: str
    variable: str

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"port name {self.name!r} is not an identifier")
        if self.medium_kind not in MEDIUM_KINDS or self.medium_kind == "process":
            raise ValueError(
                f"port {self.name}: medium kind must be one of {', '.join(BALANCE_UNITS)}, "
                f"got {self.medium_kind!r}"
            )
        if self.direction not in ("in", "out"):
            raise ValueError(f"port {self.name}: direction must be 'in' or 'out'")
        if self.kind not in _KIND_LABEL:
            raise ValueError(f"port {self.name}: kind must be y, u or d, got {self.kind!r}")

    @property
    def spec(self) -> PortSpec:
        """The port as a :class:`~plant_models.parameters.PortSpec` (one required node)."""
        return PortSpec(
            self.name,
            self.medium_kind,
            self.direction,
            f"{_KIND_LABEL[self.kind]} {self.variable}",
        )

    @property
    def flow(self) -> PortFlow:
        """The variable carrying the port's flow."""
        return PortFlow(self.kind, self.variable)


@dataclass(frozen=True)
class DataDrivenParams(UnitParams):
    """The "parameters" of a data-driven plant unit: its identified model and ports.

    Attributes
    ----------
    unit : DataDrivenUnit
        The identified unit (its name need not equal the plant unit's).
    port_flows : tuple of DataDrivenPort
        Its ports.
    min_pole_modulus : float
        Smallest discrete pole modulus converted to continuous time. [-]

    Raises
    ------
    ValueError
        On construction, for a duplicated port, a port signal the unit does
        not have, or a signal whose unit is not the medium's balance unit.
    """

    type_name: ClassVar[str] = DATA_DRIVEN_TYPE

    unit: DataDrivenUnit
    port_flows: tuple[DataDrivenPort, ...] = ()
    min_pole_modulus: float = MIN_POLE_MODULUS

    def validate(self) -> None:
        """Check the ports against the unit's signals and the media's balance units."""
        object.__setattr__(self, "port_flows", tuple(self.port_flows))
        seen: set[str] = set()
        vectors = {"y": self.unit.outputs, "u": self.unit.inputs, "d": self.unit.disturbances}
        for port in self.port_flows:
            if port.name in seen:
                raise ValueError(f"unit {self.unit.name}: port {port.name!r} declared twice")
            seen.add(port.name)
            signals = {v.name: v for v in vectors[port.kind]}
            label = _KIND_LABEL[port.kind]
            if port.variable not in signals:
                known = ", ".join(signals) or "(none)"
                raise ValueError(
                    f"unit {self.unit.name}.{port.name}: no {label} {port.variable!r}; "
                    f"{label}s: {known}"
                )
            unit_text = signals[port.variable].unit
            if not is_balance_unit(unit_text, port.medium_kind):
                raise ValueError(
                    f"unit {self.unit.name}.{port.name}: {label} {port.variable} is in "
                    f"{unit_text}, not a flow of {port.medium_kind} "
                    f"({BALANCE_UNITS[port.medium_kind]})"
                )

    @functools.cached_property
    def form(self) -> ContinuousUnit:
        """The unit in continuous time (raises ``ConversionError`` when it has none)."""
        return continuous_unit(self.unit, min_pole_modulus=self.min_pole_modulus)

    @property
    def model(self) -> EquationModel:
        """The continuous-time equation model the plant composes."""
        return self.form.model

    def parameter_vector(self) -> NDArray[np.float64]:
        """The ``p`` vector of :attr:`model` (every identified number)."""
        return self.form.parameters

    def port_specs(self) -> dict[str, PortSpec]:
        """Port name -> :class:`~plant_models.parameters.PortSpec`."""
        return {port.name: port.spec for port in self.port_flows}

    def flows(self) -> dict[str, PortFlow]:
        """Port name -> the variable carrying its flow."""
        return {port.name: port.flow for port in self.port_flows}
