"""Energy flows of a composed plant as Sankey graphs, per media network and for the site.

Public API
----------
:func:`build_flow_network` (``BuiltPlant -> FlowNetwork``), :class:`FlowTrajectory`
(plant vectors over time), :class:`FlowModel` (the Qt-free state a diagram
observes: values over time, displayed time, ``time_changed`` signal),
:class:`SankeyGraph`, :class:`SankeyNode`, :class:`SankeyLink`,
:class:`ViewInfo`, :func:`balance_residuals`, :class:`FlowSnapshot` and
:class:`ViewIncidence` (a snapshot as arrays, for drawing frame by frame).
"""

from energyopt.flows.graph import (
    NODE_ROLES,
    SankeyGraph,
    SankeyLink,
    SankeyNode,
    ViewInfo,
    balance_residuals,
)
from energyopt.flows.incidence import FlowSnapshot, ViewIncidence
from energyopt.flows.model import FlowModel
from energyopt.flows.network import (
    DISPLAY_UNITS,
    SITE,
    FlowNetwork,
    FlowTrajectory,
    LinkSpec,
    Term,
    build_flow_network,
)

__all__ = [
    "DISPLAY_UNITS",
    "NODE_ROLES",
    "SITE",
    "FlowModel",
    "FlowNetwork",
    "FlowSnapshot",
    "FlowTrajectory",
    "LinkSpec",
    "SankeyGraph",
    "SankeyLink",
    "SankeyNode",
    "Term",
    "ViewIncidence",
    "ViewInfo",
    "balance_residuals",
    "build_flow_network",
]
