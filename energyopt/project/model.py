"""The whole project file as one validated object, :class:`Project`.

The section models check themselves; :class:`Project` checks what crosses
sections: connections name existing nodes of the port's medium kind, bindings
name existing units or nodes, PID loops and node draws name existing units or
nodes, operating modes give a setpoint to every loop with a setpoint input,
controller weights name bindings of the right role, prices name purchasable
nodes.  Soft findings (a node nobody supplies)
are kept as :attr:`Project.warnings` instead of failing the load.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Self

from pydantic import Field, PrivateAttr, model_validator

from energyopt.data.quality import QualityPolicy
from energyopt.errors import ProjectError
from energyopt.project.base import Issue, IssuePath, SchemaModel, did_you_mean, issues_error
from energyopt.project.bindings import NODE_VARIABLES, TagBinding
from energyopt.project.datadriven_ports import connection_issues
from energyopt.project.modes import OperatingMode
from energyopt.project.schema import ControllerSettings, MediumNode, Name, ProjectInfo, UnitSpec
from energyopt.project.tariffs import Tariffs, TimeOfUseTariff
from energyopt.tune.schema import TuneSettings
from plant_models.parameters import UnitParams

__all__ = ["Project"]

# Price keys that make sense for each medium kind.
_PRICE_BASES: dict[str, tuple[str, ...]] = {
    "electricity": ("price_per_kwh",),
    "steam": ("price_per_t", "price_per_gj"),
    "fuel_gas": ("price_per_m3", "price_per_gj"),
    "water": ("price_per_m3", "price_per_t"),
    "cooling_water": ("price_per_m3", "price_per_t"),
    "compressed_air": ("price_per_m3",),
    "process": ("price_per_t",),
}


class Project(SchemaModel):
    """A validated plant project (the content of a project TOML file).

    Build it with :func:`energyopt.project.load_project` or
    ``Project.model_validate(mapping)``; every problem is reported at once by
    pydantic's ``ValidationError`` (the loader turns it into a
    :class:`~energyopt.errors.ProjectError` naming each key path).
    """

    project: ProjectInfo = Field(description="Identity of the plant and file")
    media: dict[Name, MediumNode] = Field(
        default_factory=dict, description="Network nodes of every medium"
    )
    units: dict[Name, UnitSpec] = Field(default_factory=dict, description="Plant units")
    bindings: dict[Name, TagBinding] = Field(
        default_factory=dict, description="Historian tags bound to model variables"
    )
    modes: dict[Name, OperatingMode] = Field(
        default_factory=dict,
        description="Operating modes (throughput levels, product grades) as PID loop setpoints",
    )
    tariffs: Tariffs | None = Field(None, description="Energy prices and penalties")
    controller: ControllerSettings = Field(
        default_factory=ControllerSettings, description="Controller settings"
    )
    data_quality: QualityPolicy = Field(
        default_factory=QualityPolicy,
        description="Data-quality checks and the action on each issue",
    )
    tune: TuneSettings | None = Field(
        None, description="What energyopt tune searches and scores (docs/workflows.md)"
    )

    _source: str | None = PrivateAttr(default=None)
    _warnings: tuple[str, ...] = PrivateAttr(default=())
    _tou: TimeOfUseTariff | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _cross_check(self) -> Self:
        issues: list[Issue] = []
        warnings: list[str] = []
        issues.extend(
            (("units", name), f"name already used by media node '{name}'")
            for name in self.units
            if name in self.media
        )
        issues.extend(self._connection_issues(warnings))
        issues.extend(self._binding_issues(warnings))
        issues.extend(self._loop_issues())
        issues.extend(self._mode_issues())
        issues.extend(self._controller_issues())
        issues.extend(self._dcs_issues())
        issues.extend(self._protection_issues())
        issues.extend(self._tariff_issues())
        if issues:
            raise issues_error(issues)
        if self.tariffs is not None and self.tariffs.electricity is not None:
            self._tou = TimeOfUseTariff.from_schema(self.tariffs.electricity, self.project.timezone)
        self._warnings = tuple(warnings)
        return self

    def _connection_issues(self, warnings: list[str]) -> list[Issue]:
        issues: list[Issue] = []
        supplied: Counter[str] = Counter()
        drawn: Counter[str] = Counter()
        for unit_name, unit in self.units.items():
            if unit.model is not None:
                # Ports are tables naming the signal that is the flow.
                dd_issues, links = connection_issues(
                    unit_name, unit.model, unit.connections, self.media
                )
                issues.extend(dd_issues)
                for node_name, direction in links:
                    (supplied if direction == "out" else drawn)[node_name] += 1
                continue
            ports = {p.name: p for p in unit.unit_params.ports}
            seen: dict[str, str] = {}
            for port_name in unit.connections:
                port = ports[port_name]
                for node_name in unit.nodes(port_name):
                    path = ("units", unit_name, "connections", port_name)
                    node = self.media.get(node_name)
                    if node is None:
                        issues.append(
                            (
                                path,
                                f"no media node '{node_name}'{did_you_mean(node_name, self.media)}",
                            )
                        )
                        continue
                    if node.kind != port.medium_kind:
                        issues.append(
                            (
                                path,
                                (
                                    f"port '{port_name}' needs a {port.medium_kind} node, "
                                    f"'{node_name}' is {node.kind}"
                                ),
                            )
                        )
                        continue
                    other = seen.get(node_name)
                    if other is not None and ports[other].direction != port.direction:
                        issues.append(
                            (
                                path,
                                (
                                    f"'{node_name}' is connected to both '{other}' and "
                                    f"'{port_name}': a unit cannot draw from and supply one node"
                                ),
                            )
                        )
                    seen[node_name] = port_name
                    (supplied if port.direction == "out" else drawn)[node_name] += 1
        prices = self.tariffs.prices if self.tariffs is not None else {}
        for node_name in self.media:
            if not supplied[node_name] and not drawn[node_name]:
                warnings.append(f"media.{node_name}: no unit is connected to this node")
            elif drawn[node_name] and not supplied[node_name] and node_name not in prices:
                warnings.append(
                    f"media.{node_name}: units draw from this node but none supplies it and "
                    "it has no purchase price in [tariffs.prices]"
                )
        return issues

    def _binding_issues(self, warnings: list[str]) -> list[Issue]:
        issues: list[Issue] = []
        names = [*self.units, *self.media]
        tag_owner: dict[str, str] = {}
        variable_owner: dict[tuple[str, str], str] = {}
        for name, binding in self.bindings.items():
            head, var = binding.variable.split(".")
            path = ("bindings", name, "variable")
            if head in self.media and var not in NODE_VARIABLES:
                issues.append(
                    (
                        path,
                        (
                            f"'{var}' is not a variable of media node '{head}'"
                            f"{did_you_mean(var, NODE_VARIABLES)}; node variables: "
                            f"{', '.join(NODE_VARIABLES)}"
                        ),
                    )
                )
            elif head not in self.media and head not in self.units:
                issues.append((path, f"no unit or media node '{head}'{did_you_mean(head, names)}"))
            elif head in self.units:
                # A unit type may declare its bindable variables; check them if so.
                unit = self.units[head]
                declared = unit.declared_variables
                if declared and var not in declared:
                    issues.append(
                        (
                            path,
                            (
                                f"'{var}' is not a variable of unit type '{unit.type}'"
                                f"{did_you_mean(var, declared)}; variables: {', '.join(declared)}"
                            ),
                        )
                    )
            if binding.tag in tag_owner:
                issues.append(
                    (
                        ("bindings", name, "tag"),
                        f"tag '{binding.tag}' is already bound by '{tag_owner[binding.tag]}'",
                    )
                )
            tag_owner.setdefault(binding.tag, name)
            key = (binding.variable, binding.role)
            if key in variable_owner:
                issues.append(
                    (
                        path,
                        (
                            f"'{binding.variable}' already has a {binding.role} binding "
                            f"('{variable_owner[key]}')"
                        ),
                    )
                )
            variable_owner.setdefault(key, name)
            if binding.role == "controlled" and binding.normal is None and binding.hard is None:
                warnings.append(f"bindings.{name}: controlled variable without normal or hard band")
            if binding.role == "manipulated" and binding.limits is None:
                warnings.append(f"bindings.{name}: manipulated variable without limits")
        return issues

    def _path_issue(self, path: IssuePath, value: str) -> Issue | None:
        """Issue if the head of ``<unit or node>.<variable>`` is no in-service unit or node."""
        head = value.partition(".")[0]
        unit = self.units.get(head)
        if unit is not None:
            return None if unit.in_service else (path, f"unit '{head}' is out of service")
        if head in self.media:
            return None
        return (
            path,
            f"no unit or media node '{head}'{did_you_mean(head, [*self.units, *self.media])}",
        )

    def _loop_issues(self) -> list[Issue]:
        issues: list[Issue | None] = []
        for name, unit in self.units.items():
            if unit.type != "pid" or not unit.in_service:
                continue
            for key in ("measurement", "actuator", "setpoint"):
                value = getattr(unit, key)
                if value is not None:
                    issues.append(self._path_issue(("units", name, key), value))
        for name, node in self.media.items():
            issues.extend(
                self._path_issue(("media", name, "draws", i), path)
                for i, path in enumerate(node.draws)
            )
        return [issue for issue in issues if issue is not None]

    def setpoint_loops(self) -> tuple[str, ...]:
        """Return the in-service PID loops whose setpoint is a plant input (modes set them)."""
        return tuple(
            name
            for name, unit in self.units.items()
            if unit.type == "pid" and unit.in_service and unit.setpoint is None
        )

    def _mode_issues(self) -> list[Issue]:
        issues: list[Issue] = []
        loops = self.setpoint_loops()
        for mode_name, mode in self.modes.items():
            path = ("modes", mode_name, "setpoints")
            for loop in mode.setpoints:
                unit = self.units.get(loop)
                if loop in loops:
                    continue
                if unit is None or unit.type != "pid":
                    reason = f"no pid unit '{loop}'{did_you_mean(loop, loops)}"
                elif not unit.in_service:
                    reason = f"loop '{loop}' is out of service"
                else:
                    reason = f"the setpoint of loop '{loop}' is wired from '{unit.setpoint}'"
                issues.append(((*path, loop), reason))
            missing = [loop for loop in loops if loop not in mode.setpoints]
            if missing:
                issues.append((path, f"no setpoint for loop(s) {', '.join(missing)}"))
        return issues

    def _controller_issues(self) -> list[Issue]:
        issues: list[Issue] = []
        for key, role in (
            ("band_weights", "controlled"),
            ("tracking_weights", "controlled"),
            ("move_suppression", "manipulated"),
        ):
            candidates = [n for n, b in self.bindings.items() if b.role == role]
            for name in getattr(self.controller, key):
                binding = self.bindings.get(name)
                if binding is None:
                    issues.append(
                        (
                            ("controller", key, name),
                            f"no binding '{name}'{did_you_mean(name, candidates)}",
                        )
                    )
                elif binding.role != role:
                    issues.append(
                        (
                            ("controller", key, name),
                            f"binding '{name}' is {binding.role}, not {role}",
                        )
                    )
                elif key == "band_weights" and binding.normal is None:
                    issues.append(
                        (
                            ("controller", key, name),
                            f"binding '{name}' has no 'normal' band to weight",
                        )
                    )
        return issues

    def _dcs_issues(self) -> list[Issue]:
        """Cross-checks of ``[controller.dcs.loops]``: names resolve, no MV driven twice.

        Whether a measurement is a plant output and an actuator a plant input
        is checked when the loops are built on the plant
        (:func:`energyopt.closedloop.dcs.build_dcs_loops`).
        """
        issues: list[Issue | None] = []
        driven: dict[str, str] = {}
        for name, loop in self.controller.dcs.loops.items():
            path = ("controller", "dcs", "loops", name)
            cv = self._dcs_variable((*path, "measurement"), loop.measurement, None, issues)
            if loop.setpoint == "record" and cv is not None:
                bound = [b for b in self.bindings.values() if b.variable == cv]
                if not bound:
                    issues.append(
                        (
                            (*path, "setpoint"),
                            f"'record' needs a binding of '{cv}' (its recorded tag); none binds it",
                        )
                    )
            for i, actuator in enumerate(loop.actuators):
                key = (*path, "actuators", i)
                mv = self._dcs_variable(key, actuator, "manipulated", issues)
                if mv is None:
                    continue
                if mv in driven:
                    issues.append((key, f"'{mv}' is already driven by DCS loop '{driven[mv]}'"))
                driven.setdefault(mv, name)
        return [issue for issue in issues if issue is not None]

    def _protection_issues(self) -> list[Issue]:
        """Cross-checks of ``[controller.dcs.protection]``: holders with hard level limits.

        Each holder is a ``gas_holder`` unit whose ``level_fraction`` has a
        binding with ``hard`` limits, and its cut-back zone ends below its
        high-level zone.
        """
        from energyopt.data.units import convert
        from energyopt.errors import UnitConversionError

        settings = self.controller.dcs.protection
        issues: list[Issue] = []
        holders = [n for n, u in self.units.items() if u.type == "gas_holder"]
        for i, holder in enumerate(settings.holders):
            path = ("controller", "dcs", "protection", "holders", i)
            unit = self.units.get(holder)
            variable = f"{holder}.level_fraction"
            bound = [(b.hard, b.unit) for b in self.bindings.values() if b.variable == variable]
            hard = next(((h, u) for h, u in bound if h is not None), None)
            if unit is None or unit.type != "gas_holder" or hard is None:
                message = f"'{holder}' is not a holder unit with a level binding with hard limits"
                issues.append((path, message + did_you_mean(holder, holders)))
                continue
            try:
                low, high = (float(v) for v in convert(hard[0], hard[1], "1"))
            except UnitConversionError:
                continue  # the binding's unit is reported by the binding checks
            start, stop = low + settings.low_start_above_hard, high - settings.high_start_below_hard
            message = (
                f"'{holder}': the cut-back zone (to {100 * start:g} %) reaches the high-level "
                f"zone (from {100 * stop:g} %) between its hard limits [{100 * low:g}, "
                f"{100 * high:g}] %"
            )
            if not start < stop:
                issues.append((path, message))
        return issues

    def _dcs_variable(
        self, path: IssuePath, value: str, role: str | None, issues: list[Issue | None]
    ) -> str | None:
        """Resolve a DCS loop's binding name or variable path to the variable path."""
        if "." in value:
            issue = self._path_issue(path, value)
            issues.append(issue)
            return None if issue is not None else value
        binding = self.bindings.get(value)
        if binding is None:
            candidates = [n for n, b in self.bindings.items() if role is None or b.role == role]
            hint = did_you_mean(value, candidates)
            message = f"no binding '{value}'{hint} (give a binding name or '<unit>.<variable>')"
            issues.append((path, message))
            return None
        if role is not None and binding.role != role:
            issues.append((path, f"binding '{value}' is {binding.role}, not {role}"))
            return None
        return binding.variable

    def _tariff_issues(self) -> list[Issue]:
        if self.tariffs is None:
            return []
        issues: list[Issue] = []
        for table in ("prices", "sales"):
            for name, price in getattr(self.tariffs, table).items():
                path = ("tariffs", table, name)
                node = self.media.get(name)
                if node is None:
                    issues.append((path, f"no media node '{name}'{did_you_mean(name, self.media)}"))
                    continue
                allowed = _PRICE_BASES[node.kind]
                if price.basis not in allowed:
                    issues.append(
                        (
                            (*path, price.basis),
                            f"not a price basis for {node.kind}; use {' or '.join(allowed)}",
                        )
                    )
        return issues

    # ------------------------------------------------------------ access

    def __eq__(self, other: object) -> bool:
        """Compare the file content (not the path it was read from)."""
        if not isinstance(other, Project):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]  # mutable containers inside

    @property
    def source(self) -> str | None:
        """Path of the file the project was loaded from, if any."""
        return self._source

    @property
    def warnings(self) -> tuple[str, ...]:
        """Findings that do not prevent use (a node nobody supplies...), one line each."""
        return self._warnings

    def unit_params(self, name: str) -> UnitParams:
        """Return the validated parameter dataclass of unit ``name`` (SI values).

        Raises
        ------
        ProjectError
            If the project has no unit ``name``.
        """
        unit = self.units.get(name)
        if unit is None:
            raise ProjectError(
                f"{self._source or 'project'}: no unit '{name}'{did_you_mean(name, self.units)}"
            )
        return unit.unit_params

    @property
    def tou_tariff(self) -> TimeOfUseTariff:
        """The time-of-use electricity tariff in the site time zone.

        Raises
        ------
        ProjectError
            If the project has no ``[tariffs.electricity]``.
        """
        if self._tou is None:
            raise ProjectError(
                f"{self._source or 'project'}: no [tariffs.electricity] time-of-use tariff"
            )
        return self._tou

    def to_toml_dict(self) -> dict[str, Any]:
        """Return the project as a TOML-ready mapping.

        TOML has no null, so ``None`` values are left out (they are the
        defaults); empty strings and empty tables, also defaults, are left out
        to keep the file short.
        """
        return _prune(self.model_dump(mode="json", exclude_none=True))

    def with_source(self, source: str | None) -> Self:
        """Record ``source`` as the file the project came from and return the project.

        Used by the loader; the source only appears in messages and is not
        part of the content (it does not take part in ``==``).
        """
        self._source = source
        return self


def _prune(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        pruned = _prune(value) if isinstance(value, dict) else value
        if pruned in ("", {}):  # "" and {} are the defaults
            continue
        out[key] = pruned
    return out
