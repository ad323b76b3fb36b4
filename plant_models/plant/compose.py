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
The composed ``f`` and ``g`` are :func:`~plant_models.core.equations.equation`
closures over the units' functions and constant index tables, so they compile
to casadi and numba like any unit (numba compiles closures once per process;
they are not cached on disk).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.errors import EquationError
from plant_models.core.mathfuncs import zeros
from plant_models.parameters import MEDIUM_KINDS, UnitParams
from plant_models.plant.ports import MODEL_FACTORIES, PORT_FLOWS

__all__ = ["NodeSpec", "Plant", "UnitSpec", "compose_plant"]

_BALANCE_UNITS = {
    "electricity": "W",
    "steam": "kg/s",
    "fuel_gas": "m^3/s",
    "water": "kg/s",
    "cooling_water": "W",
    "compressed_air": "m^3/s",
}


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
        Its parameters; the registered type name selects the model.
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
    """

    name: str
    model: EquationModel
    units: tuple[UnitSpec, ...]
    nodes: tuple[NodeSpec, ...]
    unit_models: tuple[EquationModel, ...]

    def pack_parameters(self) -> np.ndarray:
        """Return the plant ``p``: the units' parameter vectors in unit order."""
        parts = [
            m.pack_parameters(u.params) for u, m in zip(self.units, self.unit_models, strict=True)
        ]
        return np.concatenate(parts) if parts else np.zeros(0)


# ---------------------------------------------------------------- composed functions


@equation
def _gather(source: Any, index_map: Any, slack: Any) -> Any:
    """Return ``source[index_map]``, taking ``slack[-k - 1]`` where ``k < 0``."""
    out = zeros(index_map.shape[0])
    for i in range(index_map.shape[0]):
        k = int(index_map[i])
        if k >= 0:
            out[i] = source[k]
        else:
            out[i] = slack[-k - 1]
    return out


@equation
def _no_stage(
    x: Any, u: Any, d: Any, p: Any, slack: Any, phase: int, dxdt: Any, y: Any, flows: Any
) -> Any:
    """End of the stage chain: nothing to evaluate."""
    return 0


def _make_stage(
    previous: Callable[..., Any],
    unit_f: Callable[..., Any],
    unit_g: Callable[..., Any],
    is_slack_group: int,
    x_range: np.ndarray,
    p_range: np.ndarray,
    y_offset: np.ndarray,
    u_map: np.ndarray,
    d_map: np.ndarray,
    flow_kind: np.ndarray,
    flow_index: np.ndarray,
    flow_position: np.ndarray,
) -> Callable[..., Any]:
    """Return a stage evaluating one group of like units after ``previous``.

    A group is the units sharing one model (same functions and vector sizes)
    and slack role; each table has one row per unit, so the number of
    compiled stages is the number of groups, not of units.  In phase 0 the
    groups without slack variables are evaluated (their port flows feed the
    balances); in phase 1 the slack groups, whose slack values are then
    known.  ``flow_kind`` codes: 0 output, 1 input, 2 disturbance, -1 padding.
    """

    @equation
    def stage(
        x: Any, u: Any, d: Any, p: Any, slack: Any, phase: int, dxdt: Any, y: Any, flows: Any
    ) -> Any:
        previous(x, u, d, p, slack, phase, dxdt, y, flows)
        if phase == is_slack_group:
            for r in range(x_range.shape[0]):
                x0 = int(x_range[r, 0])
                nx = int(x_range[r, 1]) - x0
                p0 = int(p_range[r, 0])
                p1 = int(p_range[r, 1])
                xk = zeros(nx)
                for i in range(nx):
                    xk[i] = x[x0 + i]
                uk = _gather(u, u_map[r], slack)
                dk = _gather(d, d_map[r], slack)
                pk = zeros(p1 - p0)
                for i in range(p1 - p0):
                    pk[i] = p[p0 + i]
                fk = unit_f(xk, uk, dk, pk)
                yk = unit_g(xk, uk, dk, pk)
                for i in range(nx):
                    dxdt[x0 + i] = fk[i]
                y0 = int(y_offset[r])
                for i in range(yk.shape[0]):
                    y[y0 + i] = yk[i]
                for c in range(flow_kind.shape[1]):
                    kind = int(flow_kind[r, c])
                    j = int(flow_index[r, c])
                    position = int(flow_position[r, c])
                    if kind == 0:
                        flows[position] = yk[j]
                    elif kind == 1:
                        flows[position] = uk[j]
                    elif kind == 2:
                        flows[position] = dk[j]
        return 0

    return stage


def _make_evaluate(
    chain: Callable[..., Any],
    n_x: int,
    n_y_units: int,
    n_nodes: int,
    n_flows: int,
    connection_node: np.ndarray,
    connection_sign: np.ndarray,
    slack_node: np.ndarray,
    slack_sign: np.ndarray,
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Return the composed ``f`` and ``g`` around a stage chain."""

    @equation
    def evaluate(x: Any, u: Any, d: Any, p: Any) -> Any:
        dxdt = zeros(n_x)
        y = zeros(n_y_units + n_nodes)
        flows = zeros(n_flows)
        slack = zeros(slack_node.shape[0])
        chain(x, u, d, p, slack, 0, dxdt, y, flows)
        net = zeros(n_nodes)
        for c in range(n_flows):
            j = int(connection_node[c])
            net[j] = net[j] + connection_sign[c] * flows[c]
        for s in range(slack_node.shape[0]):
            slack[s] = slack_sign[s] * net[int(slack_node[s])]
        chain(x, u, d, p, slack, 1, dxdt, y, flows)
        for j in range(n_nodes):
            y[n_y_units + j] = net[j]
        return dxdt, y

    @equation
    def plant_f(x: Any, u: Any, d: Any, p: Any) -> Any:
        dxdt, _ = evaluate(x, u, d, p)
        return dxdt

    @equation
    def plant_g(x: Any, u: Any, d: Any, p: Any) -> Any:
        _, y = evaluate(x, u, d, p)
        return y

    return plant_f, plant_g


# ---------------------------------------------------------------- declaration


def _check_identifier(kind: str, name: str) -> None:
    if not name.isidentifier():
        raise EquationError(f"{kind} name {name!r} is not an identifier")


def compose_plant(name: str, units: Sequence[UnitSpec], nodes: Sequence[NodeSpec]) -> Plant:
    """Compose a plant from its units and network nodes.

    Parameters
    ----------
    name : str
        Plant name (an identifier).
    units : sequence of UnitSpec
        Units with their port connections.
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
        open, or a node with more than one slack port.
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

    for unit in units:
        _check_identifier("unit", unit.name)
        if unit.name in seen_units:
            raise EquationError(f"unit {unit.name} declared twice")
        seen_units.add(unit.name)
        type_name = type(unit.params).type_name
        if type_name not in MODEL_FACTORIES:
            raise EquationError(
                f"unit {unit.name}: type {type_name!r} cannot join media networks yet; "
                f"supported: {', '.join(sorted(MODEL_FACTORIES))}"
            )
        model = MODEL_FACTORIES[type_name](unit.params, unit.connections)
        unit_models.append(model)
        port_specs = {port.name: port for port in type(unit.params).ports}
        for port_name in unit.connections:
            if port_name not in port_specs:
                raise EquationError(
                    f"unit {unit.name}: no port {port_name!r}; ports: {', '.join(port_specs)}"
                )
        u_map = [len(inputs) + i for i in range(len(model.inputs))]
        d_map = [len(disturbances) + i for i in range(len(model.disturbances))]
        slack_vars: set[tuple[str, int]] = set()
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
            flow = PORT_FLOWS[type_name][port_name]
            for position, node_name in enumerate(targets):
                if node_name not in node_index:
                    raise EquationError(f"unit {unit.name}.{port_name}: unknown node {node_name!r}")
                node = nodes[node_index[node_name]]
                if node.medium_kind != port.medium_kind:
                    raise EquationError(
                        f"unit {unit.name}.{port_name} carries {port.medium_kind}, "
                        f"but node {node_name} is {node.medium_kind}"
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
                if (kind, i) in slack_vars:
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

    chain: Callable[..., Any] = _no_stage
    for (unit_f, unit_g, n_u, n_d, is_slack), rows in groups.items():
        n_flow = max(len(r["flows"]) for r in rows)
        flow_table = np.full((len(rows), n_flow, 3), -1, dtype=np.int64)
        for k, r in enumerate(rows):
            for c, entry in enumerate(r["flows"]):
                flow_table[k, c] = entry
        chain = _make_stage(
            chain,
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

    node_outputs = [
        Variable(
            f"{node.name}.net_supply",
            _BALANCE_UNITS[node.medium_kind],
            f"Supply minus demand at node {node.name} (absorbed by its slack, if any)",
        )
        for node in nodes
    ]
    plant_f, plant_g = _make_evaluate(
        chain,
        len(states),
        len(outputs),
        len(nodes),
        len(connection_node),
        np.array(connection_node, dtype=np.int64),
        np.array(connection_sign, dtype=np.float64),
        np.array(slack_node, dtype=np.int64),
        np.array(slack_sign, dtype=np.float64),
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
    return Plant(name, model, tuple(units), tuple(nodes), tuple(unit_models))


def _prefixed(unit_name: str, var: Variable) -> Variable:
    return Variable(f"{unit_name}.{var.name}", var.unit, var.description, var.low, var.high)
