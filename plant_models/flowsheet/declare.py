"""Declared flowsheets: units, nodes (streams and utilities) and PID loops -> one model.

A flowsheet is declared like a project file: units with their port
connections to named nodes, and PID loops.

- A **process node** is a stream: the outlet ports supplying it are mixed
  (:func:`~plant_models.flowsheet.stream.mix`) and every inlet port drawing
  from it receives the mixture.  A process node that no unit supplies is a
  boundary feed entering through a flow valve
  (:func:`~plant_models.flowsheet.nodes.feed_model`).  Node outputs are
  ``<node>.supply`` (flow), ``<node>.c_a_mol_m3`` ... and
  ``<node>.temperature``.
- A **utility node** sums the flows of the ports connected to it:
  ``<node>.demand``, ``<node>.supply`` and ``<node>.net`` in the medium's
  balance unit (steam kg/s, electricity W, cooling-water heat W).  A slack
  port of a utility unit (the grid, a cooling tower) is fed the node's net
  demand.
- A **loop** is a PID block: its measurement is wired from a block output,
  its output drives a block input (a valve, or another loop's setpoint in a
  cascade), and its setpoint ``<loop>.setpoint`` is a plant input (the
  variable the MPC writes) unless it is wired from a block output.  The
  wiring is checked against the blocks' variables before composition; a bad
  path raises :class:`WiringError` naming the loop and the key.

Process unit types are used through their stream forms (``cstr_vdv``,
``heat_exchanger``, ``flash``, ``distillation``), whose settings (valve
sizes, steam latent heat, liquid molar density ...) are the dataclasses of
:data:`SETTINGS_TYPES`; utility unit types through the models of
:mod:`plant_models.plant.ports`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from plant_models.core.equations import EquationModel
from plant_models.core.errors import EquationError
from plant_models.flowsheet import column, exchange, reactor, separation
from plant_models.flowsheet.composer import Block, ComposedModel, Wire, compose_blocks
from plant_models.flowsheet.nodes import (
    FeedSettings,
    feed_model,
    feed_parameters,
    process_node_model,
    utility_node_model,
)
from plant_models.flowsheet.stream import NODE_FIELDS, STREAM_FIELDS
from plant_models.parameters import MEDIUM_KINDS, UnitParams
from plant_models.plant.ports import MODEL_FACTORIES, PORT_FLOWS
from plant_models.units import pid

__all__ = [
    "BALANCE_UNITS",
    "PROCESS_TYPES",
    "SETTINGS_TYPES",
    "FlowsheetNode",
    "FlowsheetUnit",
    "LoopSpec",
    "WiringError",
    "build_flowsheet",
]

#: Balance unit of each utility medium (as in :mod:`plant_models.plant.compose`).
BALANCE_UNITS: dict[str, str] = {
    "electricity": "W",
    "steam": "kg/s",
    "fuel_gas": "m^3/s",
    "water": "kg/s",
    "cooling_water": "W",
    "compressed_air": "m^3/s",
}


@dataclass(frozen=True)
class FlowsheetUnit:
    """A unit of a flowsheet.

    Attributes
    ----------
    name : str
        Identifier (``reactor``).
    params : UnitParams
        The unit's parameters; the registered type selects the model.
    connections : Mapping[str, tuple[str, ...]]
        Port name -> node names.
    settings : UnitParams, optional
        Settings of the unit's stream form (valve sizes ...); defaults if None.
    """

    name: str
    params: UnitParams
    connections: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    settings: UnitParams | None = None


@dataclass(frozen=True)
class FlowsheetNode:
    """A node: a process stream or a utility network.

    Attributes
    ----------
    name : str
        Identifier (``feed_hot``, ``lp_steam``).
    medium_kind : str
        One of :data:`~plant_models.parameters.MEDIUM_KINDS`.
    feed : FeedSettings, optional
        Valve of a boundary feed (a process node no unit supplies).
    """

    name: str
    medium_kind: str
    feed: FeedSettings | None = None


@dataclass(frozen=True)
class LoopSpec:
    """A PID loop of the DCS layer.

    Attributes
    ----------
    name : str
        Identifier (``tic_102``).
    params : PidParams
        Tuning and output limits (SI units).
    measurement : str
        ``<block>.<output>`` measured (``reactor.t_reactor_k``).
    actuator : str
        ``<block>.<input>`` driven (``reactor.valve_cooling``, or
        ``fic_203.setpoint`` for the outer loop of a cascade).
    setpoint : str, optional
        ``<block>.<output>`` the setpoint is wired from; ``None`` (default):
        the setpoint is the plant input ``<name>.setpoint``.
    """

    name: str
    params: pid.PidParams
    measurement: str
    actuator: str
    setpoint: str | None = None


class WiringError(EquationError):
    """A declared path (a loop's measurement, actuator or setpoint, a node's draws) is bad.

    Attributes
    ----------
    owner : str
        The loop or node whose declaration is wrong (``tic_102``).
    key : str
        The declaration key: ``measurement``, ``actuator``, ``setpoint`` or ``draws``.
    reason : str
        What is wrong, without the owner and key.
    """

    def __init__(self, owner: str, key: str, reason: str) -> None:
        super().__init__(f"{owner}.{key}: {reason}")
        self.owner = owner
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class _StreamForm:
    model: EquationModel
    parameters: np.ndarray
    streams: Mapping[str, str]  # port -> "in" / "out"
    utilities: Mapping[str, str]  # port -> output carrying its flow


def _reactor(params: Any, settings: Any) -> _StreamForm:
    jacket = settings if settings is not None else reactor.ReactorJacketSettings()
    return _StreamForm(
        reactor.model(params),
        reactor.parameter_vector(params, jacket),
        {"feed_in": "in", "product_out": "out"},
        {"cooling_water": "heat_removed_w"},
    )


def _preheater(params: Any, settings: Any) -> _StreamForm:
    trim = settings if settings is not None else exchange.SteamTrimSettings()
    return _StreamForm(
        exchange.model(params),
        exchange.parameter_vector(params, trim),
        {"hot_in": "in", "hot_out": "out", "cold_in": "in", "cold_out": "out"},
        {"steam_in": "steam_kg_s"},
    )


def _flash(params: Any, settings: Any) -> _StreamForm:
    drum = settings if settings is not None else separation.FlashDrumSettings()
    return _StreamForm(
        separation.model(params),
        separation.parameter_vector(params, drum),
        {"feed_in": "in", "vapour_out": "out", "liquid_out": "out"},
        {"steam_in": "steam_kg_s"},
    )


def _column(params: Any, settings: Any) -> _StreamForm:
    col = settings if settings is not None else column.ColumnSettings()
    return _StreamForm(
        column.model(params, col),
        column.parameter_vector(params, col),
        {"feed_in": "in", "distillate_out": "out", "bottoms_out": "out"},
        {"steam_in": "steam_kg_s", "cooling_water": "condenser_heat_w"},
    )


#: Process unit type -> builder of its stream form.
PROCESS_TYPES: dict[str, Callable[[Any, Any], _StreamForm]] = {
    "cstr_vdv": _reactor,
    "heat_exchanger": _preheater,
    "flash": _flash,
    "distillation": _column,
}
#: Process unit type -> the settings dataclass of its stream form
#: (:attr:`FlowsheetUnit.settings`; defaults when not given).
SETTINGS_TYPES: dict[str, type[UnitParams]] = {
    "cstr_vdv": reactor.ReactorJacketSettings,
    "heat_exchanger": exchange.SteamTrimSettings,
    "flash": separation.FlashDrumSettings,
    "distillation": column.ColumnSettings,
}


def build_flowsheet(
    name: str,
    units: Sequence[FlowsheetUnit],
    nodes: Sequence[FlowsheetNode],
    loops: Sequence[LoopSpec] = (),
    *,
    extra_draws: Mapping[str, Sequence[str]] | None = None,
) -> ComposedModel:
    """Compose a declared flowsheet into one model.

    Parameters
    ----------
    name : str
        Model name (an identifier).
    units : sequence of FlowsheetUnit
        Process and utility units with their connections.
    nodes : sequence of FlowsheetNode
        Process and utility nodes.
    loops : sequence of LoopSpec
        PID loops.
    extra_draws : mapping, optional
        Utility node -> further outputs (``flash.condenser_heat_w``) drawn
        from it by equipment without a port of its own.

    Returns
    -------
    ComposedModel

    Raises
    ------
    EquationError
        For an unknown node or unit type, a port connected to a node of
        another medium, a process node drawn by two ports (split streams are
        not modelled), an open required stream port, a bad loop path or an
        algebraic loop.
    """
    node_kind: dict[str, str] = {}
    for node in nodes:
        if node.medium_kind not in MEDIUM_KINDS:
            raise EquationError(f"node {node.name}: unknown medium kind {node.medium_kind!r}")
        if node.name in node_kind:
            raise EquationError(f"node {node.name} declared twice")
        node_kind[node.name] = node.medium_kind
    blocks: list[Block] = []
    wires: list[Wire] = []
    suppliers: dict[str, list[str]] = {n.name: [] for n in nodes}
    consumers: dict[str, list[str]] = {n.name: [] for n in nodes}
    draws: dict[str, list[tuple[str, float]]] = {n.name: [] for n in nodes}
    slacks: dict[str, list[str]] = {n.name: [] for n in nodes}

    for unit in units:
        type_name = type(unit.params).type_name
        ports = {p.name: p for p in type(unit.params).ports}
        for port_name, targets in unit.connections.items():
            if port_name not in ports:
                raise EquationError(f"unit {unit.name}: no port {port_name!r}")
            for node_name in targets:
                if node_name not in node_kind:
                    raise EquationError(f"unit {unit.name}.{port_name}: unknown node {node_name!r}")
                if node_kind[node_name] != ports[port_name].medium_kind:
                    raise EquationError(
                        f"unit {unit.name}.{port_name} carries {ports[port_name].medium_kind}, "
                        f"but node {node_name} is {node_kind[node_name]}"
                    )
        if unit.settings is not None and not isinstance(
            unit.settings, SETTINGS_TYPES.get(type_name, type(None))
        ):
            raise EquationError(
                f"unit {unit.name}: settings {type(unit.settings).__name__} do not belong to "
                f"type {type_name!r}"
            )
        if type_name in PROCESS_TYPES:
            form = PROCESS_TYPES[type_name](unit.params, unit.settings)
            blocks.append(Block(unit.name, form.model, form.parameters))
            for port_name, direction in form.streams.items():
                targets = tuple(unit.connections.get(port_name, ()))
                if len(targets) != 1:
                    raise EquationError(
                        f"unit {unit.name}: stream port {port_name!r} must connect to one "
                        f"process node, got {len(targets)}"
                    )
                (suppliers if direction == "out" else consumers)[targets[0]].append(
                    f"{unit.name}.{port_name}"
                )
            for port_name, output in form.utilities.items():
                for node_name in unit.connections.get(port_name, ()):
                    draws[node_name].append((f"{unit.name}.{output}", 1.0))
        elif type_name in MODEL_FACTORIES:
            model = MODEL_FACTORIES[type_name](unit.params, unit.connections)
            blocks.append(Block(unit.name, model, model.pack_parameters(unit.params)))
            for port_name, flow in PORT_FLOWS[type_name].items():
                for position, node_name in enumerate(unit.connections.get(port_name, ())):
                    if flow.kind == "none":
                        continue
                    path = f"{unit.name}.{flow.variable.format(i=position)}"
                    if flow.slack:
                        slacks[node_name].append(path)
                    else:
                        sign = 1.0 if ports[port_name].direction == "in" else -1.0
                        draws[node_name].append((path, sign))
        else:
            raise EquationError(
                f"unit {unit.name}: type {type_name!r} has no flowsheet model; supported: "
                f"{', '.join(sorted({*PROCESS_TYPES, *MODEL_FACTORIES}))}"
            )

    for node_name, extra in (extra_draws or {}).items():
        if node_name not in node_kind or node_kind[node_name] == "process":
            raise WiringError(node_name, "draws", "not a utility node")
        for path in extra:
            _check_path(blocks, path, ("y",), node_name, "draws", "an output")
        draws[node_name].extend((path, 1.0) for path in extra)

    for node in nodes:
        if node.medium_kind == "process":
            _process_node(node, suppliers[node.name], consumers[node.name], blocks, wires)
        elif draws[node.name]:
            signs = tuple(sign for _, sign in draws[node.name])
            model = utility_node_model(signs, BALANCE_UNITS[node.medium_kind])
            blocks.append(Block(node.name, model, np.array(signs, dtype=np.float64)))
            wires.extend(
                Wire(path, f"{node.name}.flow_{i}") for i, (path, _) in enumerate(draws[node.name])
            )
            wires.extend(Wire(f"{node.name}.net", path) for path in slacks[node.name])
    for loop in loops:
        model = pid.model(loop.params)
        blocks.append(Block(loop.name, model, model.pack_parameters(loop.params)))
    _check_loops(loops, blocks, wires)
    for loop in loops:
        wires.append(Wire(loop.measurement, f"{loop.name}.measurement"))
        wires.append(Wire(f"{loop.name}.output", loop.actuator))
        if loop.setpoint is not None:
            wires.append(Wire(loop.setpoint, f"{loop.name}.setpoint"))
    return compose_blocks(name, blocks, wires)


def _check_path(
    blocks: Sequence[Block], path: str, kinds: tuple[str, ...], owner: str, key: str, what: str
) -> None:
    """Raise :class:`WiringError` unless ``path`` is ``<block>.<variable>`` of ``kinds``."""
    head, dot, var = path.partition(".")
    by_name = {b.name: b for b in blocks}
    if not dot or not head or not var:
        raise WiringError(owner, key, f"expected '<block>.<variable>', got {path!r}")
    block = by_name.get(head)
    if block is None:
        raise WiringError(
            owner, key, f"no unit, node or loop {head!r}{_did_you_mean(head, by_name)}"
        )
    names = [v.name for kind in kinds for v in block.model.variables(kind)]
    if var not in names:
        raise WiringError(
            owner,
            key,
            f"{var!r} is not {what} of {head!r}{_did_you_mean(var, names)}; "
            f"{what.rsplit(maxsplit=1)[-1]}s: {', '.join(names) or '(none)'}",
        )


def _check_loops(loops: Sequence[LoopSpec], blocks: Sequence[Block], wires: Sequence[Wire]) -> None:
    """Check every loop's paths against the blocks' variables (before composing)."""
    driven = {w.target: "a stream or utility connection" for w in wires}
    for loop in loops:
        _check_path(blocks, loop.measurement, ("y",), loop.name, "measurement", "an output")
        _check_path(blocks, loop.actuator, ("u", "d"), loop.name, "actuator", "an input")
        targets = [(loop.actuator, "actuator")]
        if loop.setpoint is not None:
            _check_path(blocks, loop.setpoint, ("y",), loop.name, "setpoint", "an output")
            targets.append((f"{loop.name}.setpoint", "setpoint"))
        for target, key in targets:
            if target in driven:
                raise WiringError(
                    loop.name, key, f"{target!r} is already driven by {driven[target]}"
                )
            driven[target] = f"loop {loop.name!r}"


def _did_you_mean(word: str, candidates: Iterable[str]) -> str:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def _process_node(
    node: FlowsheetNode,
    suppliers: list[str],
    consumers: list[str],
    blocks: list[Block],
    wires: list[Wire],
) -> None:
    if len(consumers) > 1:
        raise EquationError(
            f"process node {node.name} is drawn by {', '.join(consumers)}: a stream has one "
            "consumer (splitters are not modelled)"
        )
    if suppliers:
        blocks.append(Block(node.name, process_node_model(len(suppliers)), np.zeros(0)))
        for k, port in enumerate(suppliers):
            unit_name, port_name = port.split(".")
            wires.extend(
                Wire(f"{unit_name}.{port_name}_{fld}", f"{node.name}.in{k}_{fld}")
                for fld in STREAM_FIELDS
            )
    else:
        settings = node.feed if node.feed is not None else FeedSettings()
        blocks.append(Block(node.name, feed_model(), feed_parameters(settings)))
    for port in consumers:
        unit_name, port_name = port.split(".")
        wires.extend(
            Wire(f"{node.name}.{node_field}", f"{unit_name}.{port_name}_{fld}")
            for node_field, fld in zip(NODE_FIELDS, STREAM_FIELDS, strict=True)
        )
