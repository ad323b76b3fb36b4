"""Compose units and network nodes into one plant :class:`EquationModel`.

A plant is *declared*: units (type, parameters, which node each port connects
to) and nodes (a medium network: an electricity bus, a steam header, a
fuel-gas network ...).  Every node has the balance

    sum of flows supplied (``out`` ports) - sum of flows drawn (``in`` ports) = 0

in its medium's balance unit (:mod:`plant_models.plant.ports`).  A node may
hold one *slack* port (a gas holder, a steam header's storage, the grid, a
cooling tower) whose variable is set to whatever closes the balance; the
plant then exposes ``<node>.net_supply``, the imbalance the slack absorbs.  A
node without a slack exposes the same output, which a controller must hold
at zero.

The plant's vectors are the units' vectors in declaration order, each
variable named ``<unit>.<variable>``; slack variables are not plant inputs.

Fuel-gas quality is a property of the node, not of each unit: every unit
disturbance that is the heating value of the gas on one of its ports
(:data:`~plant_models.plant.ports.PORT_LHV`: a boiler's ``lhv_<i>_j_m3``, a
gas user's or flare's ``lhv_j_m3``, a mixer's lean and rich heating values)
is taken from one heating value per node.  That is a plant disturbance
``<node>.lhv_j_m3`` (bound to the node's calorimeter), placed after the
units' disturbances, or -- for a node supplied by a mixing station -- the
mixer's heating-value state (:data:`~plant_models.plant.ports.NODE_LHV_SOURCES`).
Besides ``<node>.net_supply`` the plant outputs ``<node>.supply`` and
``<node>.demand``, the flows of the non-slack ports supplying and drawing
(the purchase of a bought medium such as natural gas is its demand).
Data-driven units (:mod:`plant_models.plant.datadriven`) join like any unit:
their ports are declared per unit, and a dynamic (discrete-time) one enters
in its continuous-time zero-order-hold equivalent, so the plant stays one
continuous model.
The composed ``f`` and ``g`` are :func:`~plant_models.core.equations.equation`
closures over the units' functions and constant index tables, so they compile
to casadi and numba like any unit.  The simulators do not compile the closures
themselves: :mod:`plant_models.core.codegen` prints straight-line kernels from
their casadi graph (``f`` then holds only what the derivatives need, not the
outputs the closure also computes) and numba caches those on disk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from plant_models.core.equations import EquationModel, Variable
from plant_models.core.errors import EquationError
from plant_models.parameters import MEDIUM_KINDS, PortSpec, UnitParams
from plant_models.plant.datadriven import DataDrivenParams
from plant_models.plant.ports import (
    BALANCE_UNITS,
    MODEL_FACTORIES,
    NODE_LHV_SOURCES,
    PORT_FLOWS,
    PORT_LHV,
    PortFlow,
)
from plant_models.plant.stages import combine_stages, make_evaluate, make_stage

__all__ = ["NodeSpec", "Plant", "UnitSpec", "compose_plant"]


@dataclass(frozen=True)
class NodeSpec:
    """A media-network node.

    Attributes
    ----------
    name : str
        Identifier (``bfg``, ``steam_hp``, ``bus``).
    medium_kind : str
        One of :data:`~plant_models.parameters.MEDIUM_KINDS` except ``process``.
    """

    name: str
    medium_kind: str


@dataclass(frozen=True)
class UnitSpec:
    """A unit of a plant.

    Attributes
    ----------
    name : str
        Identifier (``boiler_1``).
    params : UnitParams
        Its parameters; the registered type name selects the model.  A
        data-driven unit passes
        :class:`~plant_models.plant.datadriven.DataDrivenParams` (its
        identified model and declared ports).
    connections : Mapping[str, tuple[str, ...]]
        Port name -> node names (several only for a ``multiple`` port).
    """

    name: str
    params: UnitParams
    connections: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Plant:
    """A composed plant.

    Attributes
    ----------
    name : str
        Plant name.
    model : EquationModel
        The composed model (vectors named ``<unit>.<variable>``; outputs
        also ``<node>.net_supply``).
    units : tuple of UnitSpec
        The units, in vector order.
    nodes : tuple of NodeSpec
        The nodes.
    unit_models : tuple of EquationModel
        Each unit's own model.
    node_lhv : Mapping[str, tuple[str, str]]
        Fuel-gas node -> where its heating value lives in the plant vectors:
        ``("d", "<node>.lhv_j_m3")`` or ``("x", "<mixer>.lhv_mixed_j_m3")``.
        Only nodes with a unit that uses the heating value are listed.
    """

    name: str
    model: EquationModel
    units: tuple[UnitSpec, ...]
    nodes: tuple[NodeSpec, ...]
    unit_models: tuple[EquationModel, ...]
    node_lhv: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def pack_parameters(self) -> np.ndarray:
        """Return the plant ``p``: the units' parameter vectors in unit order."""
        parts = [
            u.params.parameter_vector()
            if isinstance(u.params, DataDrivenParams)
            else m.pack_parameters(u.params)
            for u, m in zip(self.units, self.unit_models, strict=True)
        ]
        return np.concatenate(parts) if parts else np.zeros(0)


# ---------------------------------------------------------------- declaration


def _check_identifier(kind: str, name: str) -> None:
    if not name.isidentifier():
        raise EquationError(f"{kind} name {name!r} is not an identifier")


def _unit_structure(
    unit: UnitSpec,
) -> tuple[EquationModel, dict[str, PortSpec], Mapping[str, PortFlow]]:
    """The unit's model, its ports and the variable carrying each port's flow."""
    params = unit.params
    if isinstance(params, DataDrivenParams):
        try:
            model = params.model
        except ValueError as exc:  # ConversionError: no continuous-time equivalent
            raise EquationError(str(exc)) from None
        return model, params.port_specs(), params.flows()
    type_name = type(params).type_name
    if type_name not in MODEL_FACTORIES:
        raise EquationError(
            f"unit {unit.name}: type {type_name!r} cannot join media networks yet; "
            f"supported: {', '.join(sorted(MODEL_FACTORIES))}, data_driven"
        )
    model = MODEL_FACTORIES[type_name](params, unit.connections)
    return model, {port.name: port for port in type(params).ports}, PORT_FLOWS[type_name]


def compose_plant(name: str, units: Sequence[UnitSpec], nodes: Sequence[NodeSpec]) -> Plant:
    """Compose a plant from its units and network nodes.

    Parameters
    ----------
    name : str
        Plant name (an identifier).
    units : sequence of UnitSpec
        Units with their port connections; data-driven units
        (:class:`~plant_models.plant.datadriven.DataDrivenParams`) enter in
        continuous time (a dynamic one as its zero-order-hold equivalent).
    nodes : sequence of NodeSpec
        Network nodes.

    Returns
    -------
    Plant

    Raises
    ------
    EquationError
        For an unknown node, port or unit type, a port connected to a node of
        another medium, a single port connected twice, a required port left
        open, a node with more than one slack port, or a dynamic data-driven
        unit without a continuous-time equivalent.
    """
    _check_identifier("plant", name)
    node_index: dict[str, int] = {}
    for node in nodes:
        _check_identifier("node", node.name)
        if node.medium_kind not in MEDIUM_KINDS or node.medium_kind == "process":
            raise EquationError(
                f"node {node.name}: medium kind must be one of "
                f"{', '.join(k for k in MEDIUM_KINDS if k != 'process')}, got {node.medium_kind!r}"
            )
        if node.name in node_index:
            raise EquationError(f"node {node.name} declared twice")
        node_index[node.name] = len(node_index)

    unit_models: list[EquationModel] = []
    states: list[Variable] = []
    inputs: list[Variable] = []
    disturbances: list[Variable] = []
    outputs: list[Variable] = []
    parameters: list[Variable] = []
    connection_node: list[int] = []
    connection_sign: list[float] = []
    slack_node: list[int] = []
    slack_sign: list[float] = []
    slack_owner: dict[int, str] = {}
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    seen_units: set[str] = set()
    # Node heating values: (d_map list, position, node) to resolve once all
    # unit disturbances are numbered; the unit variables each node serves.
    lhv_fixups: list[tuple[list[int], int, str]] = []
    lhv_users: dict[str, list[Variable]] = {}
    lhv_source: dict[str, tuple[int, str]] = {}

    for unit in units:
        _check_identifier("unit", unit.name)
        if unit.name in seen_units:
            raise EquationError(f"unit {unit.name} declared twice")
        seen_units.add(unit.name)
        type_name = type(unit.params).type_name
        model, port_specs, port_flows = _unit_structure(unit)
        unit_models.append(model)
        for port_name in unit.connections:
            if port_name not in port_specs:
                raise EquationError(
                    f"unit {unit.name}: no port {port_name!r}; ports: {', '.join(port_specs)}"
                )
        u_map = [len(inputs) + i for i in range(len(model.inputs))]
        d_map = [len(disturbances) + i for i in range(len(model.disturbances))]
        slack_vars: set[tuple[str, int]] = set()
        shared_d: set[int] = set()
        flow_kind: list[int] = []
        flow_index: list[int] = []
        flow_position: list[int] = []
        for port_name, port in port_specs.items():
            targets = tuple(unit.connections.get(port_name, ()))
            if not targets and not port.optional:
                raise EquationError(f"unit {unit.name}: port {port_name!r} is not connected")
            if len(targets) > 1 and not port.multiple:
                raise EquationError(
                    f"unit {unit.name}: port {port_name!r} connects to one node, got {len(targets)}"
                )
            flow = port_flows[port_name]
            for position, node_name in enumerate(targets):
                if node_name not in node_index:
                    raise EquationError(f"unit {unit.name}.{port_name}: unknown node {node_name!r}")
                node = nodes[node_index[node_name]]
                if node.medium_kind != port.medium_kind:
                    raise EquationError(
                        f"unit {unit.name}.{port_name} carries {port.medium_kind}, "
                        f"but node {node_name} is {node.medium_kind}"
                    )
                lhv_var = PORT_LHV.get(type_name, {}).get(port_name)
                if lhv_var is not None:
                    d_index = model.index("d", lhv_var.format(i=position))
                    shared_d.add(d_index)
                    lhv_fixups.append((d_map, d_index, node_name))
                    lhv_users.setdefault(node_name, []).append(model.disturbances[d_index])
                source_var = NODE_LHV_SOURCES.get(type_name, {}).get(port_name)
                if source_var is not None:
                    if node_name in lhv_source:
                        raise EquationError(
                            f"node {node_name}: two units set its heating value: "
                            f"{lhv_source[node_name][1].split('.')[0]} and {unit.name}"
                        )
                    lhv_source[node_name] = (
                        len(states) + model.index("x", source_var),
                        f"{unit.name}.{source_var}",
                    )
                if flow.kind == "none":
                    continue
                var_index = model.index(flow.kind, flow.variable.format(i=position))
                sign = 1.0 if port.direction == "out" else -1.0
                j = node_index[node_name]
                if flow.slack:
                    if j in slack_owner:
                        raise EquationError(
                            f"node {node_name} has two slack ports: {slack_owner[j]} and "
                            f"{unit.name}.{port_name}"
                        )
                    slack_owner[j] = f"{unit.name}.{port_name}"
                    slack_id = len(slack_node)
                    slack_node.append(j)
                    # An "in" slack takes the net supply, an "out" slack covers the deficit.
                    slack_sign.append(-sign)
                    target_map = u_map if flow.kind == "u" else d_map
                    target_map[var_index] = -(slack_id + 1)
                    slack_vars.add((flow.kind, var_index))
                    continue
                flow_kind.append({"y": 0, "u": 1, "d": 2}[flow.kind])
                flow_index.append(var_index)
                flow_position.append(len(connection_node))
                connection_node.append(j)
                connection_sign.append(sign)
        # Slack-bound variables are not plant inputs: renumber the free ones.
        for kind, local_map, vars_, plant_list in (
            ("u", u_map, model.inputs, inputs),
            ("d", d_map, model.disturbances, disturbances),
        ):
            for i, var in enumerate(vars_):
                if (kind, i) in slack_vars or (kind == "d" and i in shared_d):
                    continue
                local_map[i] = len(plant_list)
                plant_list.append(_prefixed(unit.name, var))
        key = (model.f, model.g, len(model.inputs), len(model.disturbances), bool(slack_vars))
        rows = groups.setdefault(key, [])
        rows.append(
            {
                "x": (len(states), len(states) + len(model.states)),
                "p": (len(parameters), len(parameters) + len(model.parameters)),
                "y": len(outputs),
                "u": u_map,
                "d": d_map,
                "flows": list(zip(flow_kind, flow_index, flow_position, strict=True)),
            }
        )
        states.extend(_prefixed(unit.name, v) for v in model.states)
        parameters.extend(_prefixed(unit.name, v) for v in model.parameters)
        outputs.extend(_prefixed(unit.name, v) for v in model.outputs)

    node_lhv, d_from_x = _resolve_node_lhv(nodes, lhv_fixups, lhv_users, lhv_source, disturbances)

    stages: list[Callable[..., Any]] = []
    for (unit_f, unit_g, n_u, n_d, is_slack), rows in groups.items():
        n_flow = max(len(r["flows"]) for r in rows)
        flow_table = np.full((len(rows), n_flow, 3), -1, dtype=np.int64)
        for k, r in enumerate(rows):
            for c, entry in enumerate(r["flows"]):
                flow_table[k, c] = entry
        stage = make_stage(
            unit_f,
            unit_g,
            1 if is_slack else 0,
            np.array([r["x"] for r in rows], dtype=np.int64).reshape(len(rows), 2),
            np.array([r["p"] for r in rows], dtype=np.int64).reshape(len(rows), 2),
            np.array([r["y"] for r in rows], dtype=np.int64),
            np.array([r["u"] for r in rows], dtype=np.int64).reshape(len(rows), n_u),
            np.array([r["d"] for r in rows], dtype=np.int64).reshape(len(rows), n_d),
            np.ascontiguousarray(flow_table[:, :, 0]),
            np.ascontiguousarray(flow_table[:, :, 1]),
            np.ascontiguousarray(flow_table[:, :, 2]),
        )
        stages.append(stage)
    chain = combine_stages(stages)

    node_outputs = [
        Variable(
            f"{node.name}.net_supply",
            BALANCE_UNITS[node.medium_kind],
            f"Supply minus demand at node {node.name} (absorbed by its slack, if any)",
        )
        for node in nodes
    ]
    node_outputs += [
        Variable(
            f"{node.name}.supply",
            BALANCE_UNITS[node.medium_kind],
            f"Flow supplied to node {node.name} by its non-slack ports",
        )
        for node in nodes
    ]
    node_outputs += [
        Variable(
            f"{node.name}.demand",
            BALANCE_UNITS[node.medium_kind],
            f"Flow drawn from node {node.name} by its non-slack ports",
        )
        for node in nodes
    ]
    plant_f, plant_g = make_evaluate(
        chain,
        len(states),
        len(outputs),
        len(nodes),
        len(connection_node),
        np.array(connection_node, dtype=np.int64),
        np.array(connection_sign, dtype=np.float64),
        np.array(slack_node, dtype=np.int64),
        np.array(slack_sign, dtype=np.float64),
        len(disturbances),
        d_from_x,
    )
    model = EquationModel(
        name=name,
        f=plant_f,
        g=plant_g,
        states=tuple(states),
        inputs=tuple(inputs),
        disturbances=tuple(disturbances),
        outputs=tuple(outputs + node_outputs),
        parameters=tuple(parameters),
        stiff=any(m.stiff for m in unit_models),
    )
    return Plant(name, model, tuple(units), tuple(nodes), tuple(unit_models), node_lhv)


def _resolve_node_lhv(
    nodes: Sequence[NodeSpec],
    fixups: list[tuple[list[int], int, str]],
    users: dict[str, list[Variable]],
    sources: dict[str, tuple[int, str]],
    disturbances: list[Variable],
) -> tuple[dict[str, tuple[str, str]], np.ndarray]:
    """Add one heating-value disturbance per fuel-gas node and point the units at it.

    Appends ``<node>.lhv_j_m3`` to ``disturbances`` for every used node without
    a source unit (its envelope is the intersection of the users' envelopes)
    and rewrites the units' disturbance maps in place.  Returns the
    :attr:`Plant.node_lhv` table and the state indices extending ``d``.
    """
    node_lhv: dict[str, tuple[str, str]] = {}
    position: dict[str, int] = {}
    for node in nodes:
        if node.name not in users or node.name in sources:
            continue
        low = max(v.low for v in users[node.name])
        high = min(v.high for v in users[node.name])
        if not low <= high:
            raise EquationError(
                f"node {node.name}: the heating-value envelopes of its units do not overlap"
            )
        position[node.name] = len(disturbances)
        disturbances.append(
            Variable(
                f"{node.name}.lhv_j_m3",
                "J/m^3",
                f"Heating value of the gas on node {node.name} [J/Nm3]",
                low,
                high,
            )
        )
        node_lhv[node.name] = ("d", f"{node.name}.lhv_j_m3")
    x_sources: list[int] = []
    for node in nodes:
        if node.name in users and node.name in sources:
            position[node.name] = len(disturbances) + len(x_sources)
            x_sources.append(sources[node.name][0])
            node_lhv[node.name] = ("x", sources[node.name][1])
    for d_map, index, node_name in fixups:
        d_map[index] = position[node_name]
    return node_lhv, np.array(x_sources, dtype=np.int64)


def _prefixed(unit_name: str, var: Variable) -> Variable:
    return Variable(f"{unit_name}.{var.name}", var.unit, var.description, var.low, var.high)
