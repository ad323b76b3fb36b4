"""The energy-flow network of a composed plant: which links each Sankey view draws.

:func:`build_flow_network` reads the plant's units, their port connections
and :data:`~plant_models.plant.ports.PORT_FLOWS` (the model variable that
carries each port's flow) and declares, once, every link of every view as a
linear expression of the plant vectors.  :meth:`FlowNetwork.evaluate` then
computes all links at all times in a few vectorised numpy operations.

Views
-----
One view per media node, in the node's balance unit
(:data:`~plant_models.plant.ports.BALANCE_UNITS`): a link from every unit
port supplying the node, to every unit port drawing from it.  A slack port (a
gas holder, a steam header's storage, the grid) carries the node's
``net_supply``, so the node balances exactly: in-flow = out-flow + storage
change.  A node without slack gets a *boundary* link carrying its imbalance
(for a purchased medium such as natural gas that is the purchase).

The ``site`` view is in energy [W].  Conversions (reused from the KPI
definitions in :mod:`energyopt.kpis.energy`): a fuel gas at the heating value
of its node (the node's calorimeter disturbance, or a mixing station's mixed
heating value state); steam at the specific enthalpy of its header
(``steam_header.enthalpy_j_kg``); spray water at the reducing station's
``enthalpy_water_j_kg``; electricity and cooling-water heat as they are.
Compressed air is left out of the site view: its energy is the compressors'
electricity, already counted.  A boiler's feedwater enters as a boundary
supply at ``h_header - enthalpy_rise``, so a boiler's loss is its
``heat_loss_w`` plus auxiliary power.  Every unit with energy flowing both in
and out of it is a converter whose link to ``losses`` carries in minus out:
converters balance by construction, and their losses show explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from energyopt.errors import DataError, ModelError
from energyopt.flows.graph import SankeyNode, ViewInfo
from energyopt.plantbuild import BuiltPlant
from plant_models.parameters import PortSpec
from plant_models.plant.datadriven import DataDrivenParams
from plant_models.plant.ports import BALANCE_UNITS, PORT_FLOWS, PortFlow

__all__ = [
    "DISPLAY_UNITS",
    "FlowNetwork",
    "FlowTrajectory",
    "LinkSpec",
    "Term",
    "build_flow_network",
]

#: Medium kind (or ``energy``) -> unit the diagrams show values in.
DISPLAY_UNITS: dict[str, str] = {
    "electricity": "MW",
    "steam": "t/h",
    "fuel_gas": "Nm3/h",
    "water": "t/h",
    "cooling_water": "MW",
    "compressed_air": "Nm3/min",
    "energy": "MW",
}

#: Unit type -> the role its node plays whatever its ports.
_TYPE_ROLES: dict[str, str] = {
    "gas_producer": "producer",
    "gas_holder": "holder",
    "steam_header": "holder",
    "grid": "grid",
    "flare": "flare",
    "gas_consumer": "user",
    "steam_consumer": "user",
    "power_consumer": "user",
}

SITE = "site"


@dataclass(frozen=True)
class Term:
    """One term ``coef * vectors[kind][:, index]`` of a link expression.

    Attributes
    ----------
    kind : str
        ``x``, ``u``, ``d``, ``y`` or ``p`` (parameters, constant in time), or
        ``c`` for the constant ``coef`` alone.
    index : int
        Position in the vector (ignored for ``c``).
    coef : float
        Multiplier. [SI]
    """

    kind: str
    index: int = 0
    coef: float = 1.0


@dataclass(frozen=True)
class LinkSpec:
    """A link declared in the network: where it goes and how its value is computed.

    ``value = sum(flow terms) * sum(factor terms)``; the factor is 1 in a node
    view and the energy per unit of flow in the site view.  A loss link
    (``loss_of`` set) carries in-flow minus out-flow of that node instead.
    """

    key: str
    source: str
    target: str
    label: str
    flow: tuple[Term, ...] = ()
    factor: tuple[Term, ...] = (Term("c", 0, 1.0),)
    loss_of: str = ""


@dataclass(frozen=True)
class FlowTrajectory:
    """Plant vectors over time (or one sample), as a simulator or replay records them.

    Attributes
    ----------
    time_ms : numpy.ndarray
        Sample times, shape ``(N,)``. [ms since epoch]
    states : numpy.ndarray
        States at the sample times, shape ``(N, nx)`` (an extra final row, as
        simulators return, is ignored). [SI]
    inputs, disturbances, outputs : numpy.ndarray
        Shapes ``(N, nu)``, ``(N, nd)``, ``(N, ny)``; outputs computed from the
        same sample's states, inputs and disturbances. [SI]
    parameters : numpy.ndarray or None
        Parameter vector ``(np,)``; ``None`` uses the project's nominal values. [SI]
    """

    time_ms: npt.NDArray[np.int64]
    states: npt.NDArray[np.float64]
    inputs: npt.NDArray[np.float64]
    disturbances: npt.NDArray[np.float64]
    outputs: npt.NDArray[np.float64]
    parameters: npt.NDArray[np.float64] | None = None


@dataclass(frozen=True)
class FlowNetwork:
    """Every Sankey view of a plant, declared once.

    Attributes
    ----------
    built : BuiltPlant
        The plant.
    views : tuple of ViewInfo
        ``site`` first, then one per media node in project order.
    nodes : mapping of str to tuple of SankeyNode
        View name -> its nodes.
    links : mapping of str to tuple of LinkSpec
        View name -> its links.
    excluded : tuple of str
        Media nodes left out of the site view, each with the reason.
    """

    built: BuiltPlant
    views: tuple[ViewInfo, ...]
    nodes: Mapping[str, tuple[SankeyNode, ...]]
    links: Mapping[str, tuple[LinkSpec, ...]]
    excluded: tuple[str, ...] = field(default=())

    def view(self, name: str) -> ViewInfo:
        """Return the view called ``name``.

        Raises
        ------
        DataError
            If there is no such view (the message lists them).
        """
        for info in self.views:
            if info.name == name:
                return info
        raise DataError(
            f"no energy-flow view {name!r}; views: {', '.join(v.name for v in self.views)}"
        )

    def evaluate(self, trajectory: FlowTrajectory) -> dict[str, npt.NDArray[np.float64]]:
        """Compute every link of every view at every time.

        Parameters
        ----------
        trajectory : FlowTrajectory
            Plant vectors over time.

        Returns
        -------
        dict of str to numpy.ndarray
            View name -> signed link values, shape ``(n_links, N)``, in the
            view's SI unit, positive in the declared direction.

        Raises
        ------
        DataError
            If an array's shape does not match the model.
        """
        vectors = _vectors(self.built, trajectory)
        n = vectors["y"].shape[0]
        out: dict[str, npt.NDArray[np.float64]] = {}
        for info in self.views:
            specs = self.links[info.name]
            values = np.zeros((len(specs), n))
            for i, spec in enumerate(specs):
                if not spec.loss_of:
                    values[i] = _sum_terms(spec.flow, vectors, n) * _sum_terms(
                        spec.factor, vectors, n
                    )
            for i, spec in enumerate(specs):
                if spec.loss_of:
                    into = [j for j, s in enumerate(specs) if s.target == spec.loss_of and j != i]
                    out_of = [j for j, s in enumerate(specs) if s.source == spec.loss_of and j != i]
                    values[i] = values[into].sum(axis=0) - values[out_of].sum(axis=0)
            out[info.name] = values
        return out


def _sum_terms(
    terms: tuple[Term, ...], vectors: Mapping[str, npt.NDArray[np.float64]], n: int
) -> npt.NDArray[np.float64]:
    total = np.zeros(n)
    for term in terms:
        if term.kind == "c":
            total += term.coef
        elif term.kind == "p":
            total += term.coef * vectors["p"][term.index]
        else:
            total += term.coef * vectors[term.kind][:, term.index]
    return total


def _vectors(built: BuiltPlant, trajectory: FlowTrajectory) -> dict[str, npt.NDArray[np.float64]]:
    """Check the trajectory's shapes and return its arrays by vector kind."""
    sizes = built.model.sizes
    time_ms = np.atleast_1d(np.asarray(trajectory.time_ms))
    n = time_ms.shape[0]
    if time_ms.ndim != 1 or n == 0:
        raise DataError("energy flows: time_ms must be a non-empty 1-D array")
    out: dict[str, npt.NDArray[np.float64]] = {}
    for kind, name, array in (
        ("x", "states", trajectory.states),
        ("u", "inputs", trajectory.inputs),
        ("d", "disturbances", trajectory.disturbances),
        ("y", "outputs", trajectory.outputs),
    ):
        values = np.asarray(array, dtype=np.float64)
        if values.ndim == 1:
            values = values[None, :]
        if kind == "x" and values.shape[0] == n + 1:
            values = values[:n]
        if values.ndim != 2 or values.shape != (n, sizes[kind]):
            raise DataError(
                f"energy flows: {name} has shape {values.shape}, expected ({n}, {sizes[kind]}) "
                f"for {n} sample times and the plant model"
            )
        out[kind] = values
    p = built.parameters() if trajectory.parameters is None else trajectory.parameters
    p = np.asarray(p, dtype=np.float64)
    if p.shape != (sizes["p"],):
        raise DataError(f"energy flows: parameters has shape {p.shape}, expected ({sizes['p']},)")
    out["p"] = p
    return out


# ---------------------------------------------------------------- declaration


@dataclass(frozen=True)
class _Port:
    """One connection of a unit port to a node, with the terms of its flow."""

    unit: str
    unit_type: str
    port: str
    node: str
    medium_kind: str
    direction: str
    flow: tuple[Term, ...]


def _ports(built: BuiltPlant) -> tuple[list[_Port], set[str]]:
    """Every unit-port-node connection carrying a flow (with its terms), and the slack nodes."""
    model = built.model
    slack_nodes: set[str] = set()
    ports: list[_Port] = []
    for unit in built.plant.units:
        params = unit.params
        specs: dict[str, PortSpec]
        flows: Mapping[str, PortFlow]
        if isinstance(params, DataDrivenParams):
            specs, flows, type_name = params.port_specs(), params.flows(), "data_driven"
        else:
            type_name = type(params).type_name
            specs = {port.name: port for port in type(params).ports}
            flows = PORT_FLOWS[type_name]
        for port_name, targets in unit.connections.items():
            flow, spec = flows[port_name], specs[port_name]
            if flow.kind == "none":
                continue
            for position, node in enumerate(targets):
                if flow.slack:
                    slack_nodes.add(node)
                    # An "in" slack takes the net supply, an "out" slack covers the deficit
                    # (plant_models.plant.compose).
                    sign = 1.0 if spec.direction == "in" else -1.0
                    terms = (Term("y", model.index("y", f"{node}.net_supply"), sign),)
                else:
                    name = f"{unit.name}.{flow.variable.format(i=position)}"
                    terms = (Term(flow.kind, model.index(flow.kind, name)),)
                ports.append(
                    _Port(
                        unit.name,
                        type_name,
                        port_name,
                        node,
                        spec.medium_kind,
                        spec.direction,
                        terms,
                    )
                )
    return ports, slack_nodes


def _port_link(port: _Port, factor: tuple[Term, ...] | None = None) -> LinkSpec:
    unit_key, net_key = f"unit:{port.unit}", f"net:{port.node}"
    source, target = (unit_key, net_key) if port.direction == "out" else (net_key, unit_key)
    preposition = "to" if port.direction == "out" else "from"
    return LinkSpec(
        key=f"{port.unit}.{port.port}:{port.node}",
        source=source,
        target=target,
        label=f"{port.unit} {port.port} {preposition} {port.node}",
        flow=port.flow,
        factor=factor if factor is not None else (Term("c"),),
    )


def _boundary_link(built: BuiltPlant, node: str, factor: tuple[Term, ...]) -> LinkSpec:
    """Supply from outside the model that closes a node without slack (a purchase)."""
    index = built.model.index("y", f"{node}.net_supply")
    return LinkSpec(
        key=f"boundary:{node}",
        source=f"boundary:{node}",
        target=f"net:{node}",
        label=f"{node} purchase / unaccounted",
        flow=(Term("y", index, -1.0),),
        factor=factor,
    )


def _unit_role(port_list: list[_Port], unit_type: str) -> str:
    if unit_type in _TYPE_ROLES:
        return _TYPE_ROLES[unit_type]
    directions = {p.direction for p in port_list}
    if directions == {"in", "out"}:
        return "converter"
    return "producer" if directions == {"out"} else "user"


def _node_view(
    built: BuiltPlant, node: str, kind: str, ports: list[_Port], slack: bool
) -> tuple[ViewInfo, tuple[SankeyNode, ...], tuple[LinkSpec, ...]]:
    here = [p for p in ports if p.node == node]
    nodes = [SankeyNode(f"net:{node}", node, "network")]
    by_unit: dict[str, list[_Port]] = {}
    for port in ports:
        by_unit.setdefault(port.unit, []).append(port)
    for unit in dict.fromkeys(p.unit for p in here):
        role = _unit_role(by_unit[unit], by_unit[unit][0].unit_type)
        nodes.append(SankeyNode(f"unit:{unit}", unit, role))
    links = [_port_link(p) for p in here]
    if not slack:
        nodes.append(SankeyNode(f"boundary:{node}", f"{node} boundary", "boundary"))
        links.append(_boundary_link(built, node, (Term("c"),)))
    info = ViewInfo(node, f"{node} ({kind})", kind, BALANCE_UNITS[kind], DISPLAY_UNITS[kind])
    return info, tuple(nodes), tuple(links)


def _energy_factors(
    built: BuiltPlant, ports: list[_Port]
) -> tuple[dict[str, tuple[Term, ...]], list[str]]:
    """Energy per unit of balance flow for each media node, and the nodes left out."""
    model = built.model
    params: dict[str, Any] = {u.name: u.params for u in built.plant.units}
    factors: dict[str, tuple[Term, ...]] = {}
    excluded: list[str] = []
    for node in built.plant.nodes:
        name, kind = node.name, node.medium_kind
        if kind in ("electricity", "cooling_water"):
            factors[name] = (Term("c"),)
        elif kind == "fuel_gas":
            if name in built.plant.node_lhv:
                vec, var = built.plant.node_lhv[name]
                factors[name] = (Term(vec, model.index(vec, var)),)
            else:
                lhv = built.project.media[name].lhv_j_m3
                if lhv is None:  # pragma: no cover - the schema requires it for fuel gas
                    raise ModelError(f"media.{name}: a fuel-gas node needs lhv_j_m3")
                factors[name] = (Term("c", 0, float(lhv)),)
        elif kind == "steam":
            headers = [p.unit for p in ports if p.node == name and p.unit_type == "steam_header"]
            if headers:
                # The header's enthalpy is a unit setting, not a model parameter.
                enthalpy = float(params[headers[0]].enthalpy_j_kg)
                factors[name] = (Term("c", 0, enthalpy),)
            else:
                excluded.append(f"{name}: no steam_header gives its enthalpy")
        elif kind == "water":
            sprays = [p.unit for p in ports if p.node == name and p.unit_type == "prv_station"]
            if sprays:
                index = model.index("p", f"{sprays[0]}.enthalpy_water_j_kg")
                factors[name] = (Term("p", index),)
            else:
                excluded.append(f"{name}: water without a known enthalpy")
        else:
            excluded.append(f"{name}: {kind} energy is the electricity that makes it")
    return factors, excluded


def _site_view(
    built: BuiltPlant, ports: list[_Port], slack_nodes: set[str]
) -> tuple[ViewInfo, tuple[SankeyNode, ...], tuple[LinkSpec, ...], list[str]]:
    model = built.model
    factors, excluded = _energy_factors(built, ports)
    included = [p for p in ports if p.node in factors]
    nodes = [SankeyNode(f"net:{n}", n, "network") for n in factors]
    links = [_port_link(p, factors[p.node]) for p in included]
    for name in factors:
        if name not in slack_nodes:
            nodes.append(SankeyNode(f"boundary:{name}", f"{name} boundary", "boundary"))
            links.append(_boundary_link(built, name, factors[name]))
    by_unit: dict[str, list[_Port]] = {}
    for port in included:
        by_unit.setdefault(port.unit, []).append(port)
    has_losses = False
    for unit, unit_ports in by_unit.items():
        role = _unit_role(unit_ports, unit_ports[0].unit_type)
        nodes.append(SankeyNode(f"unit:{unit}", unit, role))
        if role != "converter":
            continue
        steam_out = [p for p in unit_ports if p.unit_type == "boiler" and p.port == "steam_out"]
        if steam_out:
            # Feedwater enters the boiler at h_header - enthalpy_rise (boiler model basis).
            if "feedwater" not in {n.key for n in nodes}:
                nodes.append(SankeyNode("feedwater", "feedwater", "boundary"))
            rise = model.index("p", f"{unit}.enthalpy_rise_j_kg")
            fw_factor = (*factors[steam_out[0].node], Term("p", rise, -1.0))
            links.append(
                LinkSpec(
                    f"{unit}.feedwater",
                    "feedwater",
                    f"unit:{unit}",
                    f"{unit} feedwater",
                    flow=steam_out[0].flow,
                    factor=fw_factor,
                )
            )
        links.append(
            LinkSpec(
                f"{unit}.losses", f"unit:{unit}", "losses", f"{unit} losses", loss_of=f"unit:{unit}"
            )
        )
        has_losses = True
    if has_losses:
        nodes.append(SankeyNode("losses", "losses", "loss"))
    info = ViewInfo(SITE, "Site energy", "energy", "W", DISPLAY_UNITS["energy"])
    return info, tuple(nodes), tuple(links), excluded


def build_flow_network(built: BuiltPlant) -> FlowNetwork:
    """Declare the energy-flow views of a built plant.

    Parameters
    ----------
    built : BuiltPlant
        The project's composed plant (:func:`energyopt.plantbuild.build_plant`).

    Returns
    -------
    FlowNetwork
        ``site`` view first, then one view per media node.

    Raises
    ------
    ModelError
        If a fuel-gas node has no heating value, or the plant is a process
        flowsheet (its units' utility draws are not declared as media ports yet).
    """
    if getattr(built, "flowsheet", None) is not None:
        raise ModelError(
            "energy-flow views of process flowsheets are not available yet (the "
            "flowsheet's utility draws are not declared as media ports)"
        )
    ports, slack_nodes = _ports(built)
    site_info, site_nodes, site_links, excluded = _site_view(built, ports, slack_nodes)
    views = [site_info]
    nodes = {SITE: site_nodes}
    links = {SITE: site_links}
    for node in built.plant.nodes:
        info, n_nodes, n_links = _node_view(
            built, node.name, node.medium_kind, ports, node.name in slack_nodes
        )
        views.append(info)
        nodes[node.name] = n_nodes
        links[node.name] = n_links
    return FlowNetwork(built, tuple(views), nodes, links, tuple(excluded))
