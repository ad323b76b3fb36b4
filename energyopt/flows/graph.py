"""Sankey graph records: the nodes, links and values a flow diagram shows at one time.

A :class:`SankeyGraph` is a snapshot of one *view* (one media network in its
balance unit, or the whole site in energy) at one sample time.  Link values
are never negative: a link whose signed flow is negative (a holder emptying,
power exported to the grid) is reported with source and target swapped and
``reversed=True``, so a diagram can always draw bands of width proportional
to the value.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "NODE_ROLES",
    "SankeyGraph",
    "SankeyLink",
    "SankeyNode",
    "ViewInfo",
    "balance_residuals",
]

#: Roles a Sankey node can play (drawing style and column in a diagram).
NODE_ROLES: tuple[str, ...] = (
    "producer",  # makes a medium from the process (blast furnaces, coke ovens)
    "grid",  # the utility connection (import, or export when reversed)
    "boundary",  # purchase or unaccounted supply/draw at a node without slack
    "network",  # a media network node (a gas main, a steam header, the bus)
    "holder",  # storage: gas holders, steam-header capacity (storage change)
    "converter",  # boilers, turbines, reducing stations, mixers, compressors
    "user",  # end users of a medium
    "flare",  # gas burnt without use
    "loss",  # conversion losses (site view)
)


@dataclass(frozen=True)
class SankeyNode:
    """A node of a Sankey view.

    Attributes
    ----------
    key : str
        Identifier unique within the view (``net:bfg``, ``unit:boiler_1``,
        ``boundary:ng``, ``losses``, ``feedwater``).
    label : str
        Text shown (the unit, node or boundary name).
    role : str
        One of :data:`NODE_ROLES`.
    """

    key: str
    label: str
    role: str


@dataclass(frozen=True)
class SankeyLink:
    """A link of a Sankey view at one time.

    Attributes
    ----------
    key : str
        Identifier unique within the view, stable over time (a diagram reuses
        the band drawn for it).
    source, target : str
        Node keys, in the direction of the flow at this time.
    value_si : float
        Flow, never negative, in the view's SI unit. [W, kg/s or Nm3/s]
    value_display : float
        The same flow in the view's display unit. [MW, t/h, Nm3/h ...]
    label : str
        What the link carries (``boiler_1 fuel from bfg``).
    reversed : bool
        Whether the signed flow is negative, so source and target are
        swapped relative to the declared direction.
    """

    key: str
    source: str
    target: str
    value_si: float
    value_display: float
    label: str
    reversed: bool = False


@dataclass(frozen=True)
class ViewInfo:
    """A view a flow network offers.

    Attributes
    ----------
    name : str
        ``"site"`` or a media-node name.
    label : str
        Text for a selector (``Site energy``, ``bfg (fuel_gas)``).
    medium_kind : str
        The node's medium kind, or ``"energy"`` for the site view.
    unit_si : str
        Unit of :attr:`SankeyLink.value_si` (pint syntax).
    unit_display : str
        Unit of :attr:`SankeyLink.value_display`.
    """

    name: str
    label: str
    medium_kind: str
    unit_si: str
    unit_display: str


@dataclass(frozen=True)
class SankeyGraph:
    """One view at one time.

    Attributes
    ----------
    view : ViewInfo
        Which view and its units.
    time_ms : int
        Sample time. [ms since epoch]
    nodes : tuple of SankeyNode
        Every node of the view (also those without flow at this time).
    links : tuple of SankeyLink
        Every link of the view, in a fixed order.
    """

    view: ViewInfo
    time_ms: int
    nodes: tuple[SankeyNode, ...]
    links: tuple[SankeyLink, ...]

    def node(self, key: str) -> SankeyNode:
        """Return the node with ``key``.

        Raises
        ------
        KeyError
            If the view has no such node.
        """
        for node in self.nodes:
            if node.key == key:
                return node
        raise KeyError(f"view {self.view.name} has no node {key!r}")

    def link(self, key: str) -> SankeyLink:
        """Return the link with ``key``.

        Raises
        ------
        KeyError
            If the view has no such link.
        """
        for link in self.links:
            if link.key == key:
                return link
        raise KeyError(f"view {self.view.name} has no link {key!r}")

    def inflow_si(self, node_key: str) -> float:
        """Return the total flow into a node. [view SI unit]."""
        return float(sum(link.value_si for link in self.links if link.target == node_key))

    def outflow_si(self, node_key: str) -> float:
        """Return the total flow out of a node. [view SI unit]."""
        return float(sum(link.value_si for link in self.links if link.source == node_key))


def balance_residuals(graph: SankeyGraph) -> dict[str, float]:
    """Return in-flow minus out-flow at every node that must balance.

    Network nodes and converters balance (a holder's link is the storage
    change, a converter's link to ``losses`` its losses); sources and sinks
    (producers, users, holders, grid, boundary, flare, losses) do not.

    Parameters
    ----------
    graph : SankeyGraph
        A snapshot.

    Returns
    -------
    dict of str to float
        Node key -> ``inflow - outflow``. [view SI unit]
    """
    return {
        node.key: graph.inflow_si(node.key) - graph.outflow_si(node.key)
        for node in graph.nodes
        if node.role == "network" or (node.role == "converter" and graph.view.name == "site")
    }
