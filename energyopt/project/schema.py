"""Section models of the project file: ``[project]``, ``[media]``, ``[units]``, ``[controller]``.

Each model validates what it can see by itself (types, ranges, unknown keys,
a unit's parameters against its plant_models dataclass); cross references
between sections (a connection's node, a binding's variable) are checked by
:class:`energyopt.project.model.Project`.
"""

from __future__ import annotations

import dataclasses
import re
import zoneinfo
from functools import cache
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    StrictBool,
    StrictStr,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from energyopt.errors import ProjectError, UnitConversionError
from energyopt.project.base import (
    Issue,
    MassPerVolumeKgM3,
    PressurePa,
    RawQuantity,
    SchemaModel,
    TemperatureK,
    VolumetricEnergyJM3,
    did_you_mean,
    issues_error,
    parse_quantity,
)
from energyopt.project.controller import CONTROLLER_MODES, SOLVERS, ControllerSettings
from energyopt.project.datadriven import DATA_DRIVEN_TYPE, ModelTable
from energyopt.project.datadriven_ports import PortTable, port_signal_issues
from plant_models.parameters import MEDIUM_KINDS, ParameterError, UnitParams, param_specs
from plant_models.registry import unit_params_class

__all__ = [
    "CONTROLLER_MODES",
    "FORMAT_VERSION",
    "NAME_PATTERN",
    "SOLVERS",
    "ControllerSettings",
    "MediumNode",
    "Name",
    "ProjectInfo",
    "UnitSpec",
]

#: Version of the project-file format written by this energyopt.
FORMAT_VERSION = 1

#: Names of media nodes, units, bindings: they appear in variable paths
#: (``boiler_1.flow_steam``), so no dots or spaces.
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"
_NAME_RE = re.compile(NAME_PATTERN)


def _check_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise PydanticCustomError(
            "name",
            "invalid name '{name}': use letters, digits and '_', starting with a letter",
            {"name": value},
        )
    return value


#: A node, unit or binding name (used as a table key).
Name = Annotated[str, AfterValidator(_check_name)]


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class ProjectInfo(SchemaModel):
    """The ``[project]`` table: identity of the plant and file."""

    format_version: Annotated[int, Field(strict=True)] = Field(
        description=f"Project-file format version; this energyopt writes {FORMAT_VERSION}"
    )
    name: StrictStr = Field(min_length=1, description="Plant name shown in reports and the GUI")
    description: StrictStr = Field("", description="Free text")
    site: StrictStr = Field("", description="Site or works the plant belongs to")
    timezone: StrictStr = Field(
        description="IANA time zone of the site (Asia/Shanghai); hour blocks of tariffs are "
        "local time in it"
    )
    currency: StrictStr = Field(
        pattern=r"^[A-Z]{3}$", description="ISO 4217 code of every price (CNY, EUR)"
    )

    @field_validator("format_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value > FORMAT_VERSION:
            raise PydanticCustomError(
                "format_version",
                "format version {got} was written by a newer energyopt; this one reads "
                "up to {known}",
                {"got": value, "known": FORMAT_VERSION},
            )
        if value < 1:
            raise PydanticCustomError(
                "format_version", "must be at least 1, got {got}", {"got": value}
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zones = _timezones()
        if value not in zones:
            raise PydanticCustomError(
                "timezone",
                "unknown IANA time zone '{name}'{hint}",
                {"name": value, "hint": did_you_mean(value, zones)},
            )
        return value


# Keys a medium node may carry, by kind: True = required, False = optional.
_NODE_KEYS: dict[str, dict[str, bool]] = {
    "electricity": {},
    "steam": {"pressure_pa": True, "temperature_k": False},
    "fuel_gas": {"lhv_j_m3": True, "co2_kg_m3": True, "pressure_pa": False},
    "water": {"pressure_pa": False, "temperature_k": False},
    "cooling_water": {"pressure_pa": False, "temperature_k": False},
    "compressed_air": {"pressure_pa": True},
    "process": {"pressure_pa": False, "temperature_k": False},
}


class MediumNode(SchemaModel):
    """A ``[media.<node>]`` table: one network node of one medium."""

    kind: StrictStr = Field(description=f"Medium kind: {', '.join(MEDIUM_KINDS)}")
    description: StrictStr = Field("", description="Free text")
    lhv_j_m3: VolumetricEnergyJM3 | None = Field(
        None,
        gt=0.0,
        description="Lower heating value per normal cubic metre (fuel_gas, required) "
        '[J/m3]; e.g. "3.2 MJ/Nm3"',
    )
    co2_kg_m3: MassPerVolumeKgM3 | None = Field(
        None,
        ge=0.0,
        description="CO2 emitted by burning one normal cubic metre (fuel_gas, required) [kg/m3]",
    )
    pressure_pa: PressurePa | None = Field(
        None,
        gt=0.0,
        description="Nominal absolute pressure (steam and compressed_air: required) [Pa]; "
        'e.g. "3.82 MPa(g)"',
    )
    temperature_k: TemperatureK | None = Field(
        None, gt=0.0, description='Nominal temperature (steam, water, process) [K]; "450 degC"'
    )
    feed: dict[str, RawQuantity] = Field(
        default_factory=dict,
        description="Only for a process node no unit supplies (a bought feed entering through "
        "a flow valve): the valve's settings flow_max_m3_s, valve_time_s; defaults 25 m3/h, 5 s",
    )
    draws: list[StrictStr] = Field(
        default_factory=list,
        description='Only for utility nodes: "<unit>.<output>" flows drawn from the node by '
        'equipment without a port of its own ("flash.condenser_heat_w")',
    )

    _feed: UnitParams | None = PrivateAttr(default=None)

    @property
    def feed_settings(self) -> UnitParams | None:
        """The validated feed-valve settings of a bought process feed (``None``: defaults)."""
        return self._feed

    @model_validator(mode="after")
    def _kind_keys(self) -> Self:
        if self.kind not in MEDIUM_KINDS:
            raise issues_error(
                [
                    (
                        ("kind",),
                        (
                            f"unknown medium kind '{self.kind}'"
                            f"{did_you_mean(self.kind, MEDIUM_KINDS)}; "
                            f"known: {', '.join(MEDIUM_KINDS)}"
                        ),
                    )
                ]
            )
        allowed = _NODE_KEYS[self.kind]
        issues: list[Issue] = []
        for key in ("lhv_j_m3", "co2_kg_m3", "pressure_pa", "temperature_k"):
            given = getattr(self, key) is not None
            if given and key not in allowed:
                issues.append(((key,), f"not used for kind '{self.kind}'"))
            elif not given and allowed.get(key, False):
                issues.append(((key,), f"required for kind '{self.kind}'"))
        if self.feed:
            if self.kind != "process":
                issues.append((("feed",), f"not used for kind '{self.kind}'"))
            else:
                from plant_models.flowsheet.nodes import FeedSettings

                feed_issues = _settings_issues(FeedSettings, self.feed, "feed")
                issues.extend(feed_issues)
                if not feed_issues:
                    values = _si_values(FeedSettings, self.feed)
                    self._feed = FeedSettings.from_mapping(values)
        if self.draws and self.kind == "process":
            issues.append((("draws",), "not used for kind 'process' (streams are connected)"))
        issues.extend(
            (("draws", i), f"expected '<unit>.<output>', got '{path}'")
            for i, path in enumerate(self.draws)
            if not _PATH_RE.match(path)
        )
        if issues:
            raise issues_error(issues)
        return self


class UnitSpec(SchemaModel):
    """A ``[units.<name>]`` table: one plant unit, its connections and parameters."""

    type: StrictStr = Field(description="Registered unit type (boiler, gas_holder ...)")
    description: StrictStr = Field("", description="Free text")
    in_service: StrictBool = Field(True, description="false: the unit is out of service")
    connections: dict[str, StrictStr | list[StrictStr] | PortTable] = Field(
        default_factory=dict,
        description="Port name -> medium node name (a list for multi-node ports); for a "
        'data_driven unit a table { node, output | input | disturbance, direction = "in" | '
        '"out" } naming the signal that is the flow',
    )
    params: dict[str, RawQuantity] = Field(
        default_factory=dict,
        description="Parameter name -> number in the parameter's SI unit, or a string "
        'with a unit ("220 t/h")',
    )
    model: ModelTable | None = Field(
        None,
        description=f'Only for type = "{DATA_DRIVEN_TYPE}": signals (historian tags), model '
        "kind, orders and sample time of a unit identified from data",
    )
    settings: dict[str, RawQuantity] = Field(
        default_factory=dict,
        description="Only for process units (cstr_vdv, heat_exchanger, flash, distillation): "
        "settings of the unit in a flowsheet (valve sizes, steam latent heat, liquid molar "
        "density ...), number in SI or string with a unit; defaults when left out",
    )
    measurement: StrictStr | None = Field(
        None,
        description='Only for type = "pid", required: "<unit or node>.<output>" the loop '
        'measures ("reactor.t_reactor_k")',
    )
    actuator: StrictStr | None = Field(
        None,
        description='Only for type = "pid", required: "<unit or node>.<input>" the loop output '
        'drives ("reactor.valve_cooling"; "<pid>.setpoint" for the outer loop of a cascade)',
    )
    setpoint: StrictStr | None = Field(
        None,
        description='Only for type = "pid": "<unit or node>.<output>" the setpoint is wired '
        "from; default: a plant input written by the operator or the controller (its binding "
        'variable is "<pid>.setpoint")',
    )

    _params: UnitParams | None = PrivateAttr(default=None)
    _settings: UnitParams | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.type == DATA_DRIVEN_TYPE or self.model is not None:
            return self._check_data_driven()
        try:
            cls = unit_params_class(self.type)
        except KeyError:
            from plant_models.registry import UNIT_TYPES

            raise issues_error(
                [
                    (
                        ("type",),
                        (
                            f"unknown unit type '{self.type}'"
                            f"{did_you_mean(self.type, [*UNIT_TYPES, DATA_DRIVEN_TYPE])}; "
                            f"known types: {', '.join(sorted(UNIT_TYPES))}"
                        ),
                    )
                ]
            ) from None
        issues = _port_issues(cls, self.connections)
        params, param_issues = build_unit_params(cls, self.params)
        issues.extend(param_issues)
        issues.extend(self._loop_issues())
        if self.settings:
            from plant_models.flowsheet.declare import SETTINGS_TYPES

            settings_cls = SETTINGS_TYPES.get(self.type)
            if settings_cls is None:
                issues.append(
                    (
                        ("settings",),
                        (
                            f"unit type '{self.type}' has no flowsheet settings; types with "
                            f"settings: {', '.join(SETTINGS_TYPES)}"
                        ),
                    )
                )
            else:
                settings_issues = _settings_issues(settings_cls, self.settings, "settings")
                issues.extend(settings_issues)
                if not settings_issues:
                    values = _si_values(settings_cls, self.settings)
                    self._settings = settings_cls.from_mapping(values)
        if issues:
            raise issues_error(issues)
        self._params = params
        return self

    def _loop_issues(self) -> list[Issue]:
        issues: list[Issue] = []
        for key in ("measurement", "actuator", "setpoint"):
            value = getattr(self, key)
            if self.type != "pid":
                if value is not None:
                    issues.append(((key,), 'only for type = "pid"'))
            elif value is None and key != "setpoint":
                issues.append(((key,), 'required for type = "pid"'))
            elif value is not None and not _PATH_RE.match(value):
                issues.append(((key,), f"expected '<unit or node>.<variable>', got '{value}'"))
        return issues

    def _check_data_driven(self) -> Self:
        issues: list[Issue] = []
        if self.type != DATA_DRIVEN_TYPE:
            issues.append((("model",), f'only for type = "{DATA_DRIVEN_TYPE}"'))
        elif self.model is None:
            issues.append((("model",), f'required for type = "{DATA_DRIVEN_TYPE}"'))
        if self.type == DATA_DRIVEN_TYPE:
            if self.params:
                issues.append(
                    (("params",), f"a {DATA_DRIVEN_TYPE} unit has none; its signals are in 'model'")
                )
            issues.extend(port_signal_issues(self.model, self.connections))
        if issues:
            raise issues_error(issues)
        return self

    @property
    def is_data_driven(self) -> bool:
        """Whether the unit is identified from data (``type = "data_driven"``, see ``model``)."""
        return self.model is not None

    @property
    def declared_variables(self) -> tuple[str, ...]:
        """Variables a binding may name (empty: the unit type does not declare them)."""
        if self.model is not None:
            return tuple(signal.name for _, _, signal in self.model.signals)
        return tuple(getattr(type(self.unit_params), "variables", ()))

    @property
    def unit_params(self) -> UnitParams:
        """The validated parameter dataclass (SI values).

        Raises
        ------
        ProjectError
            For a data-driven unit, which has no parameter dataclass (its
            identified model: :func:`energyopt.project.datadriven.load_identified_unit`).
        """
        if self.model is not None:
            raise ProjectError(
                f"a {DATA_DRIVEN_TYPE} unit has no parameter set; its identified model is "
                "read with energyopt.project.datadriven.load_identified_unit"
            )
        if self._params is None:  # pragma: no cover - set by the validator
            raise RuntimeError("UnitSpec was not validated")
        return self._params

    @property
    def flowsheet_settings(self) -> UnitParams | None:
        """The validated settings dataclass of the unit's stream form (``None``: defaults)."""
        return self._settings

    def nodes(self, port: str) -> tuple[str, ...]:
        """Return the node names connected to ``port`` (empty if unconnected)."""
        value = self.connections.get(port, ())
        if isinstance(value, PortTable):
            return (value.node,)
        return (value,) if isinstance(value, str) else tuple(value)


def _port_issues(
    cls: type[UnitParams], connections: dict[str, str | list[str] | PortTable]
) -> list[Issue]:
    ports = {p.name: p for p in cls.ports}
    issues: list[Issue] = []
    for name, value in connections.items():
        path = ("connections", name)
        port = ports.get(name)
        if isinstance(value, PortTable):
            issues.append(
                (path, f"a port table is only for {DATA_DRIVEN_TYPE} units; give the node name")
            )
        elif port is None:
            known = ", ".join(ports) or "(none)"
            issues.append(
                (
                    path,
                    (
                        f"unknown port '{name}' of unit type '{cls.type_name}'"
                        f"{did_you_mean(name, ports)}; ports: {known}"
                    ),
                )
            )
        elif isinstance(value, list):
            if not port.multiple:
                issues.append((path, f"port '{name}' takes one node, got {len(value)}"))
            elif not value:
                issues.append((path, "empty list: name at least one node or remove the key"))
            elif len(set(value)) != len(value):
                issues.append((path, "a node is listed twice"))
    issues.extend(
        (
            ("connections",),
            (
                f"required port '{port.name}' ({port.medium_kind}, {port.description}) is not "
                "connected"
            ),
        )
        for port in cls.ports
        if not port.optional and port.name not in connections
    )
    return issues


#: A variable path ``<unit or node>.<variable>``.
_PATH_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")


def _si_values(cls: type[UnitParams], raw: dict[str, int | float | str]) -> dict[str, Any]:
    """Raw settings (already checked by :func:`_settings_issues`) in SI units."""
    specs = {s.name: s for s in param_specs(cls)}
    return {
        k: parse_quantity(v, specs[k].unit) if isinstance(v, str) else v for k, v in raw.items()
    }


def _settings_issues(
    cls: type[UnitParams], raw: dict[str, int | float | str], key: str
) -> list[Issue]:
    """Check flowsheet settings like unit parameters; issue paths start with ``key``."""
    _, issues = build_unit_params(cls, raw)
    what = f"unknown {key} key{'' if key == 'feed' else ' of this unit type'}"
    return [
        (
            (key, *path[1:]),
            msg.replace(f"unknown parameter of unit type '{cls.type_name}'", what),
        )
        for path, msg in issues
    ]


def build_unit_params(
    cls: type[UnitParams], raw: dict[str, int | float | str]
) -> tuple[UnitParams | None, list[Issue]]:
    """Convert raw parameter values to SI and construct the unit's parameter dataclass.

    Parameters
    ----------
    cls : type of UnitParams
        The registered parameter class of the unit type.
    raw : dict
        Parameter name -> number (SI) or string with a unit, as in the file.

    Returns
    -------
    params : UnitParams or None
        The validated dataclass, or ``None`` if there were problems.
    issues : list of Issue
        Problems, each with its key path below the unit (``("params", name)``).
    """
    specs = {s.name: s for s in param_specs(cls)}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    issues: list[Issue] = []
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in fields:
            issues.append(
                (
                    ("params", name),
                    (
                        f"unknown parameter of unit type '{cls.type_name}'"
                        f"{did_you_mean(name, fields)}; known: {', '.join(fields)}"
                    ),
                )
            )
        elif isinstance(value, str) and name in specs:
            try:
                values[name] = parse_quantity(value, specs[name].unit)
            except UnitConversionError as exc:
                issues.append((("params", name), str(exc)))
        else:
            values[name] = value
    missing = [
        name
        for name, f in fields.items()
        if f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
        and f.init
        and name not in raw
    ]
    issues.extend((("params",), f"required parameter '{name}' is missing") for name in missing)
    if missing:
        return None, issues
    # The dataclass validates (ranges and rules across fields) and stops at the
    # first problem.  To report every bad value at once, drop the offending
    # value (falling back to its default) and try again; stop when the problem
    # is not with a value from the file (a rule about defaults).
    while True:
        try:
            params = cls.from_mapping(values)
        except ParameterError as exc:
            issues.append((("params", *exc.field.split(".")), exc.reason))
            if exc.field not in values:
                return None, issues
            del values[exc.field]
        else:
            return (None if issues else params), issues
