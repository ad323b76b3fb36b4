"""Declarative, validated unit parameters.

Every unit type's parameters are a frozen dataclass derived from
:class:`UnitParams`.  Each field is declared with :func:`param`, which records
its SI unit, its admissible range and a description.  Validation happens once,
in :meth:`UnitParams.__post_init__`, from that metadata, so a rule lives in one
place and the project loader, the GUI and the docs all read the same metadata.

Field names carry their unit (``capacity_steam_kg_s``, ``efficiency_nominal``
for a dimensionless ratio); values are SI.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

__all__ = [
    "MEDIUM_KINDS",
    "ParamSpec",
    "ParameterError",
    "PortSpec",
    "UnitParams",
    "param",
    "param_specs",
]

#: Kinds of media a port can connect to.  ``process`` is a material stream of a
#: chemical process; the others are utility networks.
MEDIUM_KINDS: tuple[str, ...] = (
    "electricity",
    "steam",
    "fuel_gas",
    "water",
    "cooling_water",
    "compressed_air",
    "process",
)


class ParameterError(ValueError):
    """A unit parameter is invalid.

    Attributes
    ----------
    field : str
        Name of the offending parameter (a dotted path for nested values).
    reason : str
        What is wrong, for example ``"must be between 0 and 1, got 1.3"``.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class ParamSpec:
    """Metadata of one parameter field.

    Attributes
    ----------
    name : str
        Field name.
    unit : str
        SI unit of the value as a pint-compatible string (``"kg/s"``,
        ``"dimensionless"``).
    low, high : float
        Inclusive admissible range.
    description : str
        One line for documentation and the GUI.
    """

    name: str
    unit: str
    low: float
    high: float
    description: str


@dataclass(frozen=True)
class PortSpec:
    """A connection point of a unit to a medium network node.

    Attributes
    ----------
    name : str
        Port name used in project files (``fuel``, ``steam_out``).
    medium_kind : str
        One of :data:`MEDIUM_KINDS`.
    direction : str
        ``"in"`` (the unit draws from the node) or ``"out"`` (it supplies the node).
    multiple : bool
        Whether the port may connect to several nodes (a multi-fuel burner).
    optional : bool
        Whether the port may be left unconnected.
    description : str
        One line for documentation.
    """

    name: str
    medium_kind: str
    direction: str
    description: str
    multiple: bool = False
    optional: bool = False

    def __post_init__(self) -> None:
        if self.medium_kind not in MEDIUM_KINDS:
            raise ValueError(f"port {self.name}: unknown medium kind {self.medium_kind!r}")
        if self.direction not in ("in", "out"):
            raise ValueError(f"port {self.name}: direction must be 'in' or 'out'")


def param(
    default: float,
    *,
    unit: str,
    low: float = -math.inf,
    high: float = math.inf,
    description: str,
) -> Any:
    """Declare a parameter field with its SI unit, range and description.

    Parameters
    ----------
    default : float
        Default value in ``unit``.
    unit : str
        SI unit (pint syntax).  ``"dimensionless"`` for ratios.
    low, high : float
        Inclusive admissible range.
    description : str
        One-line description.
    """
    if not low <= default <= high:
        raise ParameterError("default", f"default {default} outside [{low}, {high}]")
    return dataclasses.field(
        default=default,
        metadata={"unit": unit, "low": low, "high": high, "description": description},
    )


def param_specs(cls: type[UnitParams] | UnitParams) -> tuple[ParamSpec, ...]:
    """Return the :class:`ParamSpec` of every field declared with :func:`param`."""
    specs = []
    for f in dataclasses.fields(cls):
        if "unit" in f.metadata:
            m = f.metadata
            specs.append(ParamSpec(f.name, m["unit"], m["low"], m["high"], m["description"]))
    return tuple(specs)


def _fmt(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class UnitParams:
    """Base class of unit parameter sets; validates every field on construction.

    Subclasses are frozen dataclasses whose numeric fields use :func:`param`.
    A subclass may override :meth:`validate` for rules that involve several
    fields (call ``super().validate()`` first).
    """

    #: Unit type name as used in project files (set by the registry).
    type_name: ClassVar[str] = ""
    #: Ports connecting the unit to media network nodes.
    ports: ClassVar[tuple[PortSpec, ...]] = ()

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check every field against its declared range; raise :class:`ParameterError`."""
        for spec in param_specs(self):
            value = getattr(self, spec.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ParameterError(
                    spec.name, f"must be a number, got {type(value).__name__} {value!r}"
                )
            if not math.isfinite(value):
                raise ParameterError(spec.name, f"must be finite, got {value}")
            if not spec.low <= value <= spec.high:
                if math.isinf(spec.high):
                    reason = f"must be at least {_fmt(spec.low)}, got {_fmt(value)}"
                elif math.isinf(spec.low):
                    reason = f"must be at most {_fmt(spec.high)}, got {_fmt(value)}"
                else:
                    reason = (
                        f"must be between {_fmt(spec.low)} and {_fmt(spec.high)}, got {_fmt(value)}"
                    )
                raise ParameterError(spec.name, reason)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Self:
        """Build from a mapping of SI values, rejecting unknown names.

        Raises
        ------
        ParameterError
            For an unknown name or an invalid value.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        for name in values:
            if name not in known:
                raise ParameterError(
                    name,
                    f"unknown parameter of unit type '{cls.type_name}'; known: "
                    + ", ".join(sorted(known)),
                )
        return cls(**dict(values))

    def as_dict(self) -> dict[str, float]:
        """Return the parameters as a plain ``{name: value}`` dict."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
