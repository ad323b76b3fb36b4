"""Ports of data-driven units in the project file: ``{ node, output, direction }`` tables.

A data-driven unit has no unit type that knows its ports, so each port is
declared as a table naming the media node, the signal that *is* the flow
through it (``output``, ``input`` or ``disturbance``, one of the unit's
``model`` signals) and the direction::

    [units.sinter_fan.connections]
    power_in = { node = "el_bus", output = "power", direction = "in" }

The signal's unit must be a flow of the node's medium (the balance units of
:data:`plant_models.plant.ports.BALANCE_UNITS`: power for electricity and
cooling water, mass flow for steam and water, normal volume flow for fuel
gas, volume flow for compressed air).  :func:`port_signal_issues` checks what
the unit table shows, :func:`connection_issues` the nodes (from
:class:`~energyopt.project.model.Project`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import Field, StrictStr, model_validator

from energyopt.project.base import Issue, SchemaModel, did_you_mean, issues_error

if TYPE_CHECKING:
    from energyopt.project.datadriven import ModelTable

__all__ = ["PORT_SIGNAL_KEYS", "PortTable", "connection_issues", "port_signal_issues"]


#: Keys of a port table naming its signal, and the model-table group each reads.
PORT_SIGNAL_KEYS: dict[str, str] = {
    "output": "outputs",
    "input": "inputs",
    "disturbance": "disturbances",
}


class PortTable(SchemaModel):
    """A port of a data-driven unit: ``{ node, output | input | disturbance, direction }``."""

    node: StrictStr = Field(description="Media node the port connects to")
    output: StrictStr | None = Field(None, description="Output signal that is the port's flow")
    input: StrictStr | None = Field(None, description="Input signal that is the port's flow")
    disturbance: StrictStr | None = Field(
        None, description="Disturbance signal that is the port's flow"
    )
    direction: Literal["in", "out"] = Field(
        description='"in": the unit draws the flow from the node; "out": it supplies it'
    )

    @model_validator(mode="after")
    def _one_signal(self) -> Self:
        given = [key for key in PORT_SIGNAL_KEYS if getattr(self, key) is not None]
        if len(given) != 1:
            raise issues_error(
                [
                    (
                        (),
                        (
                            "name exactly one of output, input or disturbance: the signal that is "
                            f"the port's flow (got {', '.join(given) or 'none'})"
                        ),
                    )
                ]
            )
        return self

    @property
    def signal(self) -> tuple[str, str]:
        """``(group, name)``: the model-table group (``outputs`` ...) and the signal name."""
        for key, group in PORT_SIGNAL_KEYS.items():
            value = getattr(self, key)
            if value is not None:
                return group, value
        raise RuntimeError("PortTable was not validated")  # pragma: no cover


def port_signal_issues(model: ModelTable | None, connections: dict[str, Any]) -> list[Issue]:
    """Issues of a data-driven unit's ports that its own table shows (key paths below the unit).

    Every port must be a :class:`PortTable` whose signal is one of the model
    table's signals of that group.
    """
    issues: list[Issue] = []
    for port, value in connections.items():
        path: tuple[str | int, ...] = ("connections", port)
        if not isinstance(value, PortTable):
            issues.append(
                (
                    path,
                    (
                        "a data_driven unit's port is a table { node, output | input | "
                        'disturbance, direction }, e.g. { node = "el_bus", output = "power", '
                        'direction = "in" }'
                    ),
                )
            )
            continue
        if not port.isidentifier():
            issues.append((path, f"port name '{port}' is not an identifier"))
        if model is None:
            continue
        group, name = value.signal
        names = [s.name for s in getattr(model, group)]
        if name not in names:
            key = next(k for k, g in PORT_SIGNAL_KEYS.items() if g == group)
            issues.append(
                (
                    (*path, key),
                    (
                        f"no {key} '{name}' in model.{group}{did_you_mean(name, names)}; "
                        f"{group}: {', '.join(names) or '(none)'}"
                    ),
                )
            )
    return issues


def connection_issues(
    unit_name: str, model: ModelTable, connections: dict[str, Any], media: dict[str, Any]
) -> tuple[list[Issue], list[tuple[str, str]]]:
    """Cross-section checks of a data-driven unit's ports against the media nodes.

    Parameters
    ----------
    unit_name : str
        The unit (for key paths).
    model : ModelTable
        Its model table.
    connections : dict
        Port name -> :class:`PortTable`.
    media : dict
        Node name -> :class:`~energyopt.project.schema.MediumNode`.

    Returns
    -------
    issues : list of Issue
        Key paths from the project root: an unknown node, a process node, or
        a signal whose unit is not a flow of the node's medium.
    links : list of (node, direction)
        The valid connections (for the supplied/drawn findings).
    """
    from energyopt.data.units import is_compatible
    from plant_models.plant.ports import BALANCE_UNITS

    issues: list[Issue] = []
    links: list[tuple[str, str]] = []
    signals = {(g, s.name): s for g, _, s in model.signals}
    for port, table in connections.items():
        if not isinstance(table, PortTable):
            continue  # reported by the unit's own check
        path: tuple[str | int, ...] = ("units", unit_name, "connections", port)
        node = media.get(table.node)
        if node is None:
            issues.append(
                ((*path, "node"), f"no media node '{table.node}'{did_you_mean(table.node, media)}")
            )
            continue
        balance = BALANCE_UNITS.get(node.kind)
        if balance is None:
            issues.append(
                (
                    (*path, "node"),
                    (
                        f"'{table.node}' is a {node.kind} node; a data_driven port connects to "
                        f"{', '.join(BALANCE_UNITS)} nodes"
                    ),
                )
            )
            continue
        signal = signals.get(table.signal)
        if signal is None:
            continue  # reported by the unit's own check
        if not is_compatible(signal.unit, balance):
            key = next(k for k, g in PORT_SIGNAL_KEYS.items() if g == table.signal[0])
            issues.append(
                (
                    (*path, key),
                    (
                        f"signal '{signal.name}' is in {signal.unit}, not a flow of {node.kind} "
                        f"(a {node.kind} port carries {balance})"
                    ),
                )
            )
            continue
        links.append((table.node, table.direction))
    return issues, links
