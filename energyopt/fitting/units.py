"""One unit of a project's plant as a model to calibrate, and where each of its signals comes from.

A unit is calibrated with its *own* equations (the plant's composition only
wires units together), fed by the historian tags bound to its variables.
:func:`unit_model` finds the unit's model and parameter vector in the
composed plant -- :func:`energyopt.plantbuild.build_plant` for media
networks, the chemical flowsheet for process plants -- and
:func:`signal_source` the tag (or constant) behind each unit variable:

1. an explicit override of the calibration spec (a tag name or an SI value);
2. a binding of the composed variable ``<unit>.<variable>``;
3. a fuel heating value (``lhv_<i>_j_m3`` of a boiler ...): the
   calorimeter of the fuel node on that port, else the node's nominal
   ``lhv_j_m3`` (a constant: natural gas is rarely metered);
4. a process-stream inlet (``feed_in_t_k`` of a reactor): the binding of the
   upstream node's variable (``feed_hot.temperature``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from energyopt.errors import ModelError, ProjectBindingError, ProjectError

if TYPE_CHECKING:
    from energyopt.project import Project
    from plant_models.core.equations import EquationModel
    from plant_models.parameters import UnitParams

__all__ = ["SignalSource", "UnitModel", "signal_source", "unit_model"]


@dataclass(frozen=True)
class SignalSource:
    """Where a unit variable's values come from.

    Attributes
    ----------
    tag : str or None
        Historian tag, or ``None`` for a constant.
    value : float
        The constant (when ``tag`` is ``None``). [model unit]
    origin : str
        Human-readable provenance (``bindings.boiler_1_steam``, ``media.ng.lhv_j_m3``).
    """

    tag: str | None
    value: float = float("nan")
    origin: str = ""


@dataclass(frozen=True, eq=False)
class UnitModel:
    """A unit's own model inside a project's plant.

    Attributes
    ----------
    name : str
        Unit name in the project.
    type_name : str
        Unit type (``boiler``, ``cstr_vdv``).
    model : EquationModel
        The unit's equations (as composed into the plant).
    p : numpy.ndarray
        Its nominal parameter vector (the project's values). [SI]
    params : UnitParams
        The project's parameters of the unit.
    connections : Mapping[str, tuple[str, ...]]
        Port -> nodes.
    bound : Mapping[str, tuple[str, str]]
        Composed variable name -> (binding name, tag), for every binding.
    node_lhv : Mapping[str, str]
        Fuel node -> composed variable holding its heating value.
    """

    name: str
    type_name: str
    model: EquationModel
    p: npt.NDArray[np.float64]
    params: UnitParams
    connections: Mapping[str, tuple[str, ...]]
    bound: Mapping[str, tuple[str, str]]
    node_lhv: Mapping[str, str]


def _is_process_plant(project: Project) -> bool:
    return any(node.kind == "process" for node in project.media.values())


def unit_model(project: Project, unit: str) -> UnitModel:
    """Return the model, nominal parameters and tag map of one in-service unit.

    Parameters
    ----------
    project : Project
        A validated project.
    unit : str
        Unit name.

    Raises
    ------
    ProjectError
        If the unit is unknown or out of service.
    ModelError
        If the unit is data-driven (identified, not calibrated) or the plant
        cannot be composed.
    """
    source = project.source or "project"
    spec = project.units.get(unit)
    if spec is None or not spec.in_service:
        known = [n for n, u in project.units.items() if u.in_service]
        raise ProjectError(
            f"{source}: units.{unit}: no such unit in service; units: {', '.join(known)}"
        )
    if spec.is_data_driven:
        raise ModelError(
            f"{source}: units.{unit}: a data-driven unit has no physical parameters to "
            "calibrate; identify it from the history instead (energyopt.identify)"
        )
    bound: dict[str, tuple[str, str]] = {}
    node_lhv: dict[str, str] = {}
    connections = {port: spec.nodes(port) for port in spec.connections}
    if _is_process_plant(project):
        from energyopt.demos.chemical_history import build_chemical_flowsheet

        flowsheet = build_chemical_flowsheet(project)
        blocks = {b.name: b for b in flowsheet.blocks}
        if unit not in blocks:
            raise ModelError(f"{source}: units.{unit}: not a block of the composed flowsheet")
        model, p = blocks[unit].model, np.array(blocks[unit].parameters, dtype=np.float64)
        params = project.unit_params(unit)
    else:
        from energyopt.plantbuild import build_plant

        built = build_plant(project)
        names = [u.name for u in built.plant.units]
        i = names.index(unit)
        model = built.plant.unit_models[i]
        params = built.plant.units[i].params  # with the values derived from nodes/tariffs
        p = model.pack_parameters(params)
        bound.update({e.name: (e.binding, e.tag) for e in built.bindings.entries})
        node_lhv.update({node: var for node, (_, var) in built.plant.node_lhv.items()})
    for name, binding in project.bindings.items():
        bound.setdefault(binding.variable, (name, binding.tag))
    return UnitModel(
        name=unit,
        type_name=spec.type,
        model=model,
        p=p,
        params=params,
        connections=connections,
        bound=bound,
        node_lhv=node_lhv,
    )


def _lhv_node(unit: UnitModel, variable: str) -> str | None:
    from plant_models.plant.ports import PORT_LHV

    for port, pattern in PORT_LHV.get(unit.type_name, {}).items():
        for i, node in enumerate(unit.connections.get(port, ())):
            if pattern.format(i=i) == variable:
                return node
    return None


def _stream_node(unit: UnitModel, variable: str) -> str | None:
    from plant_models.flowsheet.stream import NODE_FIELDS, STREAM_FIELDS

    for port, nodes in unit.connections.items():
        for k, field in enumerate(STREAM_FIELDS):
            if variable == f"{port}_{field}" and len(nodes) == 1:
                return f"{nodes[0]}.{NODE_FIELDS[k]}"
    return None


def signal_source(
    project: Project,
    unit: UnitModel,
    variable: str,
    overrides: Mapping[str, str | float] | None = None,
) -> SignalSource:
    """Return the source of a unit variable (see the module notes for the search order).

    Parameters
    ----------
    project : Project
        The project.
    unit : UnitModel
        The unit.
    variable : str
        The unit's own variable name (``steam_kg_s``, ``lhv_0_j_m3``).
    overrides : Mapping[str, str or float], optional
        Variable -> tag name, or constant value. [SI]

    Raises
    ------
    ProjectBindingError
        If no tag is bound to the variable and no constant is known.
    """
    source = project.source or "project"
    given: Any = (overrides or {}).get(variable)
    if isinstance(given, str):
        return SignalSource(given, origin=f"signals.{variable}")
    if given is not None:
        return SignalSource(None, float(given), origin=f"signals.{variable}")
    composed = f"{unit.name}.{variable}"
    if composed in unit.bound:
        binding, tag = unit.bound[composed]
        return SignalSource(tag, origin=f"bindings.{binding}")
    node = _lhv_node(unit, variable)
    if node is not None:
        var = unit.node_lhv.get(node, f"{node}.lhv_j_m3")
        if var in unit.bound:
            binding, tag = unit.bound[var]
            return SignalSource(tag, origin=f"bindings.{binding}")
        lhv = project.media[node].lhv_j_m3
        if lhv is not None:
            return SignalSource(None, float(lhv), origin=f"media.{node}.lhv_j_m3 (nominal)")
    upstream = _stream_node(unit, variable)
    if upstream is not None and upstream in unit.bound:
        binding, tag = unit.bound[upstream]
        return SignalSource(tag, origin=f"bindings.{binding}")
    where = f" (from {upstream})" if upstream else f" (node {node})" if node else ""
    raise ProjectBindingError(
        f"{source}: units.{unit.name}: no tag is bound to {variable}{where}; add a "
        f"[bindings] entry for {upstream or composed} or give the signal in the calibration spec"
    )
