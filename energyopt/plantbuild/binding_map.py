"""Historian tags -> model variables: which vector entry a binding is, and its units.

A binding's ``variable`` is ``<unit>.<variable>`` with the model's own
variable name (``boiler_1.steam_kg_s``, ``bfg_holder.level_fraction``), or
``<node>.<property>`` for a media node:

``lhv``
    The node's heating value: the plant disturbance ``<node>.lhv_j_m3``, or
    the output of the mixing station that makes the node's gas.
``supply``, ``demand``
    Outputs ``<node>.supply`` and ``<node>.demand`` (what a bought medium
    such as natural gas costs is its demand).
``pressure``
    The pressure output of the steam header on the node.
any other
    For a ``disturbance`` binding on a purchased process feed, the feed's
    disturbance (``fresh_feed.temperature`` -> ``fresh_feed.in_t_k``);
    otherwise the node's own model variable ``<node>.<property>`` when the model has
    one (a process stream's ``temperature`` or ``c_a_mol_m3``).

A unit variable is looked up in the vectors in an order that depends on the
role: manipulated ``u, y, x, d``; disturbance ``d, y, x, u``; measurement and
controlled ``y, x, u, d`` (a state is usually also an output of the same
name, and the output is what a sensor reads).

The signals of a data-driven unit are bound by their ``model`` table
(``tag``, ``unit``): each becomes an entry named ``<unit>.<signal>``
(inputs manipulated, disturbances disturbance, outputs measurement) unless a
``[bindings]`` entry already binds that variable or tag.

Each tag's engineering unit is converted to and from the model's SI unit by
the shared pint registry (:func:`energyopt.data.units.conversion_affine`):
``tag = model * scale + offset``.  A PID loop's ``setpoint`` (unit-free in
its equations) has the SI unit of the variable the loop measures.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import ModelError, UnitConversionError
from energyopt.project import Project, TagBinding
from energyopt.project.base import did_you_mean

if TYPE_CHECKING:
    from plant_models.plant.compose import Plant

__all__ = ["BindingMap", "BoundVariable", "build_binding_map"]

_SEARCH_ORDER: dict[str, tuple[str, ...]] = {
    "manipulated": ("u", "y", "x", "d"),
    "disturbance": ("d", "y", "x", "u"),
    "measurement": ("y", "x", "u", "d"),
    "controlled": ("y", "x", "u", "d"),
}


@dataclass(frozen=True)
class BoundVariable:
    """One binding resolved to a model variable.

    Attributes
    ----------
    binding : str
        Binding name (the ``[bindings.<name>]`` key).
    tag : str
        Historian tag.
    tag_unit : str
        Engineering unit of the tag.
    role : str
        Role of the binding (measurement, disturbance, manipulated, controlled).
    vector : str
        ``"x"``, ``"u"``, ``"d"`` or ``"y"``.
    index : int
        Position in that vector.
    name : str
        Model variable name (``bfg_holder.level_fraction``).
    model_unit : str
        SI unit of the model variable.
    scale, offset : float
        ``tag = model * scale + offset``. [tag unit / model unit], [tag unit]
    """

    binding: str
    tag: str
    tag_unit: str
    role: str
    vector: str
    index: int
    name: str
    model_unit: str
    scale: float
    offset: float

    def to_tag(self, values: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Convert model values (SI) to the tag's unit. [model unit -> tag unit]."""
        return np.asarray(values, dtype=np.float64) * self.scale + self.offset

    def to_model(self, values: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Convert tag values to the model's SI unit. [tag unit -> model unit]."""
        return (np.asarray(values, dtype=np.float64) - self.offset) / self.scale


@dataclass(frozen=True)
class BindingMap(Mapping[str, BoundVariable]):
    """Binding name -> :class:`BoundVariable`, in project order.

    Attributes
    ----------
    entries : tuple of BoundVariable
        The resolved bindings.
    """

    entries: tuple[BoundVariable, ...]

    def __getitem__(self, name: str) -> BoundVariable:
        """Return the binding called ``name``; raise ``KeyError`` if there is none."""
        for entry in self.entries:
            if entry.binding == name:
                return entry
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        """Iterate over binding names."""
        return (e.binding for e in self.entries)

    def __len__(self) -> int:
        """Return the number of bindings."""
        return len(self.entries)

    def by_tag(self, tag: str) -> BoundVariable:
        """Return the binding of historian tag ``tag``.

        Raises
        ------
        KeyError
            If no binding has that tag.
        """
        for entry in self.entries:
            if entry.tag == tag:
                return entry
        raise KeyError(tag)

    def of_vector(self, vector: str) -> tuple[BoundVariable, ...]:
        """Return the bindings of vector ``vector`` (``x``, ``u``, ``d`` or ``y``)."""
        return tuple(e for e in self.entries if e.vector == vector)


def build_binding_map(project: Project, plant: Plant) -> BindingMap:
    """Resolve every binding of ``project`` against the composed ``plant``.

    Parameters
    ----------
    project : Project
        The validated project.
    plant : Plant
        Its composed plant (:func:`energyopt.plantbuild.build_plant`).

    Returns
    -------
    BindingMap

    Raises
    ------
    ModelError
        Naming the binding, when its variable is not in the model, or its
        unit cannot be converted to the model variable's unit.
    """
    where = project.source or project.project.name
    entries = []
    for name, binding in project.bindings.items():
        vector, index = _resolve(project, plant, name, binding, where)
        entries.append(
            _bound(
                project, plant, name, binding.tag, binding.unit, binding.role, vector, index, where
            )
        )
    entries.extend(_signal_entries(project, plant, entries, where))
    return BindingMap(tuple(entries))


def _loop_unit(project: Project, plant: Plant, variable: str) -> str | None:
    """SI unit of a PID loop's setpoint: the unit of what the loop measures.

    The loop's equations are unit-free (its setpoint is declared
    dimensionless); a ``[units.<pid>]`` table names the measured variable,
    whose unit the setpoint shares.
    """
    head, _, tail = variable.partition(".")
    spec = project.units.get(head)
    if tail != "setpoint" or spec is None or spec.type != "pid" or not spec.measurement:
        return None
    for kind in ("y", "x"):
        for var in plant.model.variables(kind):
            if var.name == spec.measurement:
                return var.unit
    return None


def _bound(
    project: Project,
    plant: Plant,
    name: str,
    tag: str,
    tag_unit: str,
    role: str,
    vector: str,
    index: int,
    where: str,
) -> BoundVariable:
    var = plant.model.variables(vector)[index]
    model_unit = _loop_unit(project, plant, var.name) or var.unit
    try:
        from energyopt.data.units import conversion_affine

        scale, offset = conversion_affine(model_unit, tag_unit, tag=tag)
    except UnitConversionError as exc:
        raise ModelError(
            f"{where}: bindings.{name}: unit '{tag_unit}' does not fit model variable "
            f"{var.name} [{model_unit}]: {exc}"
        ) from None
    return BoundVariable(
        binding=name,
        tag=tag,
        tag_unit=tag_unit,
        role=role,
        vector=vector,
        index=index,
        name=var.name,
        model_unit=model_unit,
        scale=scale,
        offset=offset,
    )


#: Model-table group of a data-driven signal -> (binding role, plant vector).
_SIGNAL_ROLES = {
    "inputs": ("manipulated", "u"),
    "disturbances": ("disturbance", "d"),
    "outputs": ("measurement", "y"),
}


def _signal_entries(
    project: Project, plant: Plant, existing: list[BoundVariable], where: str
) -> list[BoundVariable]:
    """Entries binding every signal of the plant's data-driven units to its tag."""
    bound_names = {e.name for e in existing}
    bound_tags = {e.tag for e in existing}
    out = []
    for member in plant.units:
        table = project.units[member.name].model if member.name in project.units else None
        if table is None:
            continue
        for group, _, signal in table.signals:
            variable = f"{member.name}.{signal.name}"
            if variable in bound_names or signal.tag in bound_tags:
                continue
            role, vector = _SIGNAL_ROLES[group]
            index = plant.model.index(vector, variable)
            out.append(
                _bound(
                    project, plant, variable, signal.tag, signal.unit, role, vector, index, where
                )
            )
    return out


def _find(plant: Plant, vectors: tuple[str, ...], name: str) -> tuple[str, int] | None:
    for vector in vectors:
        for i, var in enumerate(plant.model.variables(vector)):
            if var.name == name:
                return vector, i
    return None


def _resolve(
    project: Project, plant: Plant, name: str, binding: TagBinding, where: str
) -> tuple[str, int]:
    head, prop = binding.variable.split(".")
    prefix = f"{where}: bindings.{name}: variable '{binding.variable}'"
    if head in project.media:
        if binding.role == "disturbance":
            feed = _feed_disturbance(plant, head, prop)
            if feed is not None:
                return feed
        target = _node_variable(plant, head, prop)
        if target is None:
            raise ModelError(f"{prefix}: the model has no {prop} of node {head}")
        found = _find(plant, ("y", "x", "d"), target)
        if found is None:  # pragma: no cover - targets are plant variables by construction
            raise ModelError(f"{prefix}: the model has no variable {target}")
        return found
    found = _find(plant, _SEARCH_ORDER[binding.role], binding.variable)
    if found is None:
        unit_names = {u.name for u in plant.units}
        if head not in unit_names:
            raise ModelError(f"{prefix}: unit {head} is not in the model (out of service?)")
        known = sorted(
            {
                v.name.split(".", 1)[1]
                for kind in ("x", "u", "d", "y")
                for v in plant.model.variables(kind)
                if v.name.startswith(f"{head}.")
            }
        )
        raise ModelError(
            f"{prefix}: unit {head} has no variable '{prop}'{did_you_mean(prop, known)}; "
            f"variables: {', '.join(known)}"
        )
    return found


def _feed_disturbance(plant: Plant, node: str, prop: str) -> tuple[str, int] | None:
    """The plant disturbance a purchased feed's stream signal is, if ``node`` is such a feed.

    A boundary feed (:func:`plant_models.flowsheet.nodes.feed_model`) passes
    its composition and temperature disturbances ``<node>.in_*`` straight to
    its outputs ``<node>.c_a_mol_m3`` ... ``<node>.temperature``: a sensor on
    the feed reads the disturbance itself, which is what a ``disturbance``
    binding means.
    """
    from plant_models.flowsheet.stream import NODE_FIELDS, stream_variables

    if prop not in NODE_FIELDS[1:]:
        return None
    inlet = stream_variables("in", "")[NODE_FIELDS.index(prop)].name
    return _find(plant, ("d",), f"{node}.{inlet}")


def _node_variable(plant: Plant, node: str, prop: str) -> str | None:
    if prop == "lhv":
        source = plant.node_lhv.get(node)
        return None if source is None else source[1]
    if prop in ("supply", "demand"):
        return f"{node}.{prop}"
    if prop == "pressure":
        for unit in plant.units:
            if type(unit.params).type_name == "steam_header" and node in unit.connections.get(
                "steam", ()
            ):
                return f"{unit.name}.pressure_pa"
    # A process stream's own outputs (temperature, concentrations) by name.
    target = f"{node}.{prop}"
    names = {v.name for kind in ("y", "x", "d") for v in plant.model.variables(kind)}
    return target if target in names else None
