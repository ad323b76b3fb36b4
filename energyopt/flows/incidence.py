"""Vectorised snapshots of a Sankey view: incidence matrices built once, a few numpy ops per time.

A diagram animated along the replay clock needs, at every frame, each link's
magnitude and direction and each node's total in-flow and out-flow.  Summing
per node with a Python loop over the links costs O(nodes x links) interpreter
steps a frame; here the view's structure is turned once into node-link
incidence matrices (``(n_nodes, n_links)``, 0 or 1), so a snapshot is two
``maximum`` calls and four small matrix-vector products, and the same code
gives the node totals over a whole trajectory (matrix-matrix products).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from energyopt.errors import DataError
from energyopt.flows.graph import SankeyNode, ViewInfo
from energyopt.flows.network import LinkSpec

__all__ = ["FlowSnapshot", "ViewIncidence"]


@dataclass(frozen=True)
class FlowSnapshot:
    """One view at one time, as arrays in the view's node and link order.

    Attributes
    ----------
    view : ViewInfo
        Which view and its units.
    time_ms : int
        Sample time. [ms since epoch]
    value_si : numpy.ndarray
        Link flows, never negative, shape ``(n_links,)``. [view SI unit]
    reversed : numpy.ndarray
        Whether each link's signed flow is negative (drawn target to source),
        bool, shape ``(n_links,)``.
    source, target : numpy.ndarray
        Node index of each link's end in the direction of the flow at this
        time, int, shape ``(n_links,)``.
    inflow_si, outflow_si : numpy.ndarray
        Total flow into and out of each node, shape ``(n_nodes,)``. [view SI unit]
    """

    view: ViewInfo
    time_ms: int
    value_si: npt.NDArray[np.float64]
    reversed: npt.NDArray[np.bool_]
    source: npt.NDArray[np.intp]
    target: npt.NDArray[np.intp]
    inflow_si: npt.NDArray[np.float64]
    outflow_si: npt.NDArray[np.float64]


@dataclass(frozen=True)
class ViewIncidence:
    """The structure of one view as index arrays and node-link incidence matrices.

    Attributes
    ----------
    node_keys : tuple of str
        Node keys in the view's order (row ``i`` of the matrices is node ``i``).
    link_keys : tuple of str
        Link keys in the view's order.
    source, target : numpy.ndarray
        Node index of each link's declared source and target, shape ``(n_links,)``.
    out_of, into : numpy.ndarray
        ``out_of[i, l] = 1`` if link ``l`` is declared out of node ``i``;
        ``into[i, l] = 1`` if it is declared into node ``i``. Shape
        ``(n_nodes, n_links)``.
    """

    node_keys: tuple[str, ...]
    link_keys: tuple[str, ...]
    source: npt.NDArray[np.intp]
    target: npt.NDArray[np.intp]
    out_of: npt.NDArray[np.float64]
    into: npt.NDArray[np.float64]

    @classmethod
    def from_view(cls, nodes: tuple[SankeyNode, ...], links: tuple[LinkSpec, ...]) -> ViewIncidence:
        """Index a view's nodes and links.

        Parameters
        ----------
        nodes : tuple of SankeyNode
            The view's nodes.
        links : tuple of LinkSpec
            The view's links, in their declared direction.

        Raises
        ------
        DataError
            If a link names a node the view does not have.
        """
        position = {node.key: i for i, node in enumerate(nodes)}
        try:
            source = np.array([position[link.source] for link in links], dtype=np.intp)
            target = np.array([position[link.target] for link in links], dtype=np.intp)
        except KeyError as error:
            raise DataError(
                f"energy flows: a link ends at unknown node {error.args[0]!r}"
            ) from None
        n_nodes, n_links = len(nodes), len(links)
        columns = np.arange(n_links)
        out_of = np.zeros((n_nodes, n_links))
        into = np.zeros((n_nodes, n_links))
        out_of[source, columns] = 1.0
        into[target, columns] = 1.0
        return cls(
            tuple(node.key for node in nodes),
            tuple(link.key for link in links),
            source,
            target,
            out_of,
            into,
        )

    def node_totals(
        self, signed_si: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Return every node's total in-flow and out-flow.

        A link with a negative signed flow runs from its declared target to
        its declared source, so its magnitude counts as out-flow of the
        declared target and in-flow of the declared source.

        Parameters
        ----------
        signed_si : numpy.ndarray
            Signed link values, shape ``(n_links,)`` or ``(n_links, N)``,
            positive in the declared direction. [view SI unit]

        Returns
        -------
        inflow_si, outflow_si : numpy.ndarray
            Shape ``(n_nodes,)`` or ``(n_nodes, N)``. [view SI unit]
        """
        forward = np.maximum(signed_si, 0.0)
        backward = np.maximum(-signed_si, 0.0)
        inflow = self.into @ forward + self.out_of @ backward
        outflow = self.out_of @ forward + self.into @ backward
        return inflow, outflow

    def snapshot(
        self, view: ViewInfo, time_ms: int, signed_si: npt.NDArray[np.float64]
    ) -> FlowSnapshot:
        """Return the snapshot of signed link values at one time.

        Parameters
        ----------
        view : ViewInfo
            The view these values belong to.
        time_ms : int
            Sample time. [ms since epoch]
        signed_si : numpy.ndarray
            Signed link values, shape ``(n_links,)``. [view SI unit]

        Returns
        -------
        FlowSnapshot
        """
        flipped = signed_si < 0.0
        inflow, outflow = self.node_totals(signed_si)
        return FlowSnapshot(
            view=view,
            time_ms=int(time_ms),
            value_si=np.abs(signed_si),
            reversed=flipped,
            source=np.where(flipped, self.target, self.source),
            target=np.where(flipped, self.source, self.target),
            inflow_si=inflow,
            outflow_si=outflow,
        )
