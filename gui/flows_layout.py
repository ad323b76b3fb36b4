"""Geometry of the Sankey diagram, in scene pixels: columns, node stacking, link offsets, labels.

Qt-free numpy on index arrays built once per view (:class:`ViewLayout`), so a
time step of the replay reshapes the diagram with a few array operations
(:class:`gui.flows_view.FlowsView` draws it).  Labels are spread down each
column so that they never overlap (:meth:`ViewLayout.label_tops`): a node's
label stays beside its box unless the boxes above leave no room for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from energyopt.flows import LinkSpec, SankeyNode

__all__ = [
    "COLUMN_GAP",
    "HEIGHT",
    "LABEL_GAP",
    "LABEL_OFFSET",
    "LABEL_TOP",
    "LABEL_WIDTH",
    "MIN_NODE",
    "NODE_GAP",
    "NODE_WIDTH",
    "ViewLayout",
    "column_peak",
    "column_ranks",
    "offsets_within",
]

#: Width of a node box. [scene px]
NODE_WIDTH = 14.0
#: Distance between the left edges of two columns. [scene px]
COLUMN_GAP = 190.0
#: Vertical gap between the boxes of a column. [scene px]
NODE_GAP = 14.0
#: Height the largest column's flows fill. [scene px]
HEIGHT = 600.0
#: Smallest drawn box height (a node without flow stays visible). [scene px]
MIN_NODE = 2.0
#: Distance from a box's right edge to its label. [scene px]
LABEL_OFFSET = 3.0
#: Widest label: it ends before the next column's boxes (longer names are elided). [scene px]
LABEL_WIDTH = COLUMN_GAP - NODE_WIDTH - 2.0 * LABEL_OFFSET
#: Smallest vertical gap between two labels of a column. [scene px]
LABEL_GAP = 1.0
#: Highest a label may start (the diagram's boxes start at 0). [scene px]
LABEL_TOP = -16.0


def column_ranks(nodes: tuple[SankeyNode, ...], links: tuple[LinkSpec, ...]) -> dict[str, int]:
    """Return a column for every node: the longest path from a source along the links.

    Links closing a cycle (the electricity a boiler's fans draw from a bus its
    turbines feed) are ignored for ranking, found by a depth-first search in
    declaration order so the layout is deterministic.

    Parameters
    ----------
    nodes : tuple of SankeyNode
        The view's nodes.
    links : tuple of LinkSpec
        The view's links, in their declared direction.

    Returns
    -------
    dict of str to int
        Node key -> column, 0 for sources.
    """
    successors: dict[str, list[str]] = {node.key: [] for node in nodes}
    for link in links:
        successors[link.source].append(link.target)
    # Hand-written: a DFS back-edge removal plus longest path on ~100 nodes; a
    # graph library would be a new dependency for ten lines.
    state: dict[str, int] = {}
    order: list[str] = []
    forward: dict[str, list[str]] = {key: [] for key in successors}

    def visit(key: str) -> None:
        state[key] = 1
        for nxt in successors[key]:
            if state.get(nxt) == 1:
                continue  # back edge: part of a cycle
            forward[key].append(nxt)
            if nxt not in state:
                visit(nxt)
        state[key] = 2
        order.append(key)

    has_input = {link.target for link in links}
    for key in [n.key for n in nodes if n.key not in has_input] + [n.key for n in nodes]:
        if key not in state:
            visit(key)
    rank = dict.fromkeys(successors, 0)
    for key in reversed(order):  # topological order of the forward graph
        for nxt in forward[key]:
            rank[nxt] = max(rank[nxt], rank[key] + 1)
    return rank


class ViewLayout:
    """Index arrays of the shown view that turn a snapshot into geometry with numpy.

    Parameters
    ----------
    columns : numpy.ndarray of int
        Column of every node (:func:`column_ranks`), in the view's node order.
    """

    def __init__(self, columns: npt.NDArray[np.intp]) -> None:
        self.columns = columns
        #: Nodes in stacking order (by column, then declaration order).
        self.stack_order = np.argsort(columns, kind="stable")
        stacked_columns = columns[self.stack_order]
        #: Position (in stacking order) of the first node of each node's column.
        self.column_first = np.searchsorted(stacked_columns, stacked_columns, side="left")
        self.x_left = columns * COLUMN_GAP

    def node_tops(self, heights: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Top of every node box: boxes stacked down each column with a gap. [scene px].

        Parameters
        ----------
        heights : numpy.ndarray
            Height of every node box, in the view's node order. [scene px]
        """
        step = (heights + NODE_GAP)[self.stack_order]
        before = np.cumsum(step) - step
        tops = np.empty_like(heights)
        tops[self.stack_order] = before - before[self.column_first]
        return tops

    def label_tops(
        self,
        node_tops: npt.NDArray[np.float64],
        node_heights: npt.NDArray[np.float64],
        label_heights: npt.NDArray[np.float64],
    ) -> npt.NDArray[np.float64]:
        """Top of every node's label: beside the middle of its box, spread so none overlap.

        Down each column (in stacking order) a label goes where it would be
        centred on its box (not above :data:`LABEL_TOP`), or just below the
        label above it if that one reaches further:
        ``y[i] = max(want[i], y[i-1] + h[i-1] + LABEL_GAP)``.
        Unrolled, ``y[i] = max over j <= i of (want[j] - before[j]) + before[i]``
        with ``before`` the heights (plus gaps) of the column's earlier labels:
        a running maximum per column, computed for all columns at once by
        lifting each column above the previous one.

        Parameters
        ----------
        node_tops, node_heights : numpy.ndarray
            Boxes of the nodes, in the view's node order (:meth:`node_tops`). [scene px]
        label_heights : numpy.ndarray
            Height of every node's label. [scene px]

        Returns
        -------
        numpy.ndarray
            Top of every label, in the view's node order. [scene px]
        """
        order = self.stack_order
        if order.size == 0:
            return np.zeros(0)
        want = np.maximum(node_tops + 0.5 * (node_heights - label_heights), LABEL_TOP)[order]
        step = (label_heights + LABEL_GAP)[order]
        before = np.cumsum(step) - step
        before = before - before[self.column_first]
        free = want - before
        # Lifting column k by k * lift keeps every running maximum inside its column.
        lift = float(np.ptp(free)) + 1.0
        level = self.columns[order] * lift
        reach = np.maximum.accumulate(free + level) - level
        tops = np.empty_like(want)
        tops[order] = reach + before
        return tops


def column_peak(
    columns: npt.NDArray[np.intp],
    source: npt.NDArray[np.intp],
    target: npt.NDArray[np.intp],
    magnitudes: npt.NDArray[np.float64],
) -> float:
    """The largest total flow into or out of one column at any time. [view SI unit].

    The diagram's one scale for the whole trajectory (so widths compare
    across time) fills :data:`HEIGHT` with this flow.

    Parameters
    ----------
    columns : numpy.ndarray of int
        Column of every node, in the view's node order.
    source, target : numpy.ndarray of int
        Source and target node of every link.
    magnitudes : numpy.ndarray
        Absolute link values, shape ``(n_links, N)``. [view SI unit]

    Returns
    -------
    float
        0 without links or samples.

    Notes
    -----
    Per end, the links are sorted by their node's column and summed per
    column with :func:`numpy.add.reduceat`: no BLAS call, whose worker
    threads added up to 5 ms of CPU time to the first build of a view on a
    loaded machine, for a product with a 0/1 matrix.
    """
    if magnitudes.size == 0:
        return 0.0
    peak = 0.0
    for ends in (source, target):
        link_columns = columns[ends]
        order = np.argsort(link_columns, kind="stable")
        sorted_columns = link_columns[order]
        starts = np.flatnonzero(np.r_[True, sorted_columns[1:] != sorted_columns[:-1]])
        per_column = np.add.reduceat(magnitudes[order], starts, axis=0)
        peak = max(peak, float(per_column.max()))
    return peak


def offsets_within(
    groups: npt.NDArray[np.intp], widths: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Sum of the widths of the earlier links of the same group, for every link. [scene px].

    Parameters
    ----------
    groups : numpy.ndarray of int
        Group (node) of every link.
    widths : numpy.ndarray
        Width of every link. [scene px]

    Notes
    -----
    Links stack at a node in declaration order: a stable sort by node, an
    exclusive cumulative sum, minus the sum at the first link of each node.
    """
    order = np.argsort(groups, kind="stable")
    sorted_widths = widths[order]
    before = np.cumsum(sorted_widths) - sorted_widths
    first = np.searchsorted(groups[order], groups[order], side="left")
    out = np.empty_like(widths)
    out[order] = before - before[first]
    return out
