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
from typing import Annotated, Any, Literal, Self, get_args

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
    DurationS,
    Issue,
    MassPerVolumeKgM3,
    Number,
    PressurePa,
    RawQuantity,
    SchemaModel,
    TemperatureK,
    VolumetricEnergyJM3,
    did_you_mean,
    issues_error,
    parse_quantity,
)
from energyopt.project.datadriven import DATA_DRIVEN_TYPE, ModelTable
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

#: Controller modes: OFF (no controller), PREDICT (forecast only), ADVISE
#: (recommend setpoints to the operator).
ControllerMode = Literal["OFF", "PREDICT", "ADVISE"]
CONTROLLER_MODES: tuple[str, ...] = get_args(ControllerMode)

#: Optimisation solvers (casadi plugin names bundled in the casadi wheel).
Solver = Literal["ipopt", "fatrop", "sqpmethod", "hpipm", "osqp", "qpoases", "highs"]
SOLVERS: tuple[str, ...] = get_args(Solver)


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
        if issues:
            raise issues_error(issues)
        return self


class UnitSpec(SchemaModel):
    """A ``[units.<name>]`` table: one plant unit, its connections and parameters."""

    type: StrictStr = Field(description="Registered unit type (boiler, gas_holder ...)")
    description: StrictStr = Field("", description="Free text")
    in_service: StrictBool = Field(True, description="false: the unit is out of service")
    connections: dict[str, StrictStr | list[StrictStr]] = Field(
        default_factory=dict,
        description="Port name -> medium node name (a list for multi-node ports)",
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

    _params: UnitParams | None = PrivateAttr(default=None)

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
        if issues:
            raise issues_error(issues)
        self._params = params
        return self

    def _check_data_driven(self) -> Self:
        issues: list[Issue] = []
        if self.type != DATA_DRIVEN_TYPE:
            issues.append((("model",), f'only for type = "{DATA_DRIVEN_TYPE}"'))
        elif self.model is None:
            issues.append((("model",), f'required for type = "{DATA_DRIVEN_TYPE}"'))
        if self.type == DATA_DRIVEN_TYPE:
            issues.extend(
                ((key,), f"a {DATA_DRIVEN_TYPE} unit has none; its signals are in 'model'")
                for key in ("connections", "params")
                if getattr(self, key)
            )
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

    def nodes(self, port: str) -> tuple[str, ...]:
        """Return the node names connected to ``port`` (empty if unconnected)."""
        value = self.connections.get(port, ())
        return (value,) if isinstance(value, str) else tuple(value)


def _port_issues(cls: type[UnitParams], connections: dict[str, str | list[str]]) -> list[Issue]:
    ports = {p.name: p for p in cls.ports}
    issues: list[Issue] = []
    for name, value in connections.items():
        path = ("connections", name)
        port = ports.get(name)
        if port is None:
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


class ControllerSettings(SchemaModel):
    """The ``[controller]`` table: how the MPC runs."""

    mode: ControllerMode = Field(
        "ADVISE",
        description="OFF: no controller; PREDICT: forecasts only; ADVISE: recommend setpoints",
    )
    interval_s: DurationS = Field(60.0, gt=0.0, description='Control interval [s]; "1 min"')
    horizon_s: DurationS = Field(
        3600.0, gt=0.0, description="Prediction horizon, a multiple of the interval [s]"
    )
    solver: Solver = Field("ipopt", description="Optimisation solver (casadi plugin)")
    max_solve_time_s: DurationS | None = Field(
        None, gt=0.0, description="Solver time limit [s]; default: half the interval"
    )
    economic_weight: Number = Field(
        1.0, ge=0.0, description="Weight of the energy cost in the objective"
    )
    band_weight: Number = Field(
        1000.0,
        ge=0.0,
        description="Weight of a normal-band violation of a priority-1 controlled variable",
    )
    priority_ratio: Number = Field(
        10.0, gt=1.0, description="Each lower priority rank's band weight is divided by this"
    )
    tracking_weights: dict[str, Annotated[Number, Field(ge=0.0)]] = Field(
        default_factory=dict,
        description="Controlled-variable binding -> weight of tracking its band centre",
    )
    move_suppression: dict[str, Annotated[Number, Field(ge=0.0)]] = Field(
        default_factory=dict,
        description="Manipulated-variable binding -> weight of its squared move per interval",
    )
    default_move_suppression: Number = Field(
        0.1, ge=0.0, description="Move suppression of manipulated variables not listed"
    )

    @model_validator(mode="after")
    def _horizon(self) -> Self:
        issues: list[Issue] = []
        steps = self.horizon_s / self.interval_s
        if steps < 1.0 or abs(steps - round(steps)) > 1e-9 * steps:
            issues.append(
                (
                    ("horizon_s",),
                    (
                        f"must be a whole multiple of interval_s ({self.interval_s:g} s), "
                        f"got {self.horizon_s:g} s"
                    ),
                )
            )
        elif round(steps) > 2000:
            issues.append((("horizon_s",), f"{round(steps)} intervals is too long (at most 2000)"))
        if self.max_solve_time_s is not None and self.max_solve_time_s >= self.interval_s:
            issues.append(
                (
                    ("max_solve_time_s",),
                    (
                        f"must be shorter than interval_s ({self.interval_s:g} s), "
                        f"got {self.max_solve_time_s:g} s"
                    ),
                )
            )
        if issues:
            raise issues_error(issues)
        return self

    @property
    def horizon_steps(self) -> int:
        """Number of control intervals in the horizon."""
        return round(self.horizon_s / self.interval_s)

    @property
    def solve_time_limit_s(self) -> float:
        """Solver time limit [s]: :attr:`max_solve_time_s` or half the interval."""
        return self.max_solve_time_s if self.max_solve_time_s is not None else self.interval_s / 2
