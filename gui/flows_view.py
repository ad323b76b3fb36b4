"""Sankey-style energy-flow diagram (per media network and for the whole site).

:class:`FlowsView` takes a :class:`~energyopt.flows.FlowModel` and draws the
selected view in a ``QGraphicsScene``: node boxes, curved bands
(``QPainterPath`` cubic Béziers) whose widths are proportional to the flow,
labels with value and unit, and a tooltip on every band and box.  The items of
a view are created once when it is selected; a time change only moves and
reshapes them (no scene rebuild per frame), so animation along the replay
clock stays smooth.

The model must be driven from the GUI thread (the replay clock is a timer on
it); psygnal calls the view synchronously.
"""

from __future__ import annotations

import contextlib
import weakref
from dataclasses import dataclass

import numpy as np
import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from energyopt.flows import FlowModel, LinkSpec, SankeyGraph, SankeyNode

__all__ = ["FlowsView", "column_ranks"]

#: Colour of a band by the medium kind of the network node it touches.
_MEDIUM_COLOURS: dict[str, str] = {
    "fuel_gas": "#d98c1f",
    "steam": "#c0392b",
    "electricity": "#2e86c1",
    "water": "#17a589",
    "cooling_water": "#48c9b0",
    "compressed_air": "#7f8c8d",
    "loss": "#95a5a6",
}
_ROLE_COLOURS: dict[str, str] = {
    "producer": "#1e8449",
    "grid": "#1f618d",
    "boundary": "#5d6d7e",
    "network": "#34495e",
    "holder": "#7d3c98",
    "converter": "#b9770e",
    "user": "#616a6b",
    "flare": "#cb4335",
    "loss": "#85929e",
}

#: Diagram geometry. [scene px]
_NODE_WIDTH = 14.0
_COLUMN_GAP = 190.0
_NODE_GAP = 14.0
_HEIGHT = 600.0
_MIN_NODE = 2.0


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


@dataclass
class _NodeItems:
    box: QGraphicsRectItem
    label: QGraphicsSimpleTextItem
    column: int


class FlowsView(QWidget):
    """Sankey diagram of a :class:`~energyopt.flows.FlowModel` with a view selector.

    Parameters
    ----------
    model : FlowModel
        The energy-flow state to show; its ``time_changed`` signal updates the diagram.
    parent : QWidget, optional
        Parent widget.
    """

    def __init__(self, model: FlowModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self.selector = QComboBox()
        for info in model.network.views:
            self.selector.addItem(info.label, info.name)
        self.scene = QGraphicsScene(self)
        self.graphics = QGraphicsView(self.scene)
        self.graphics.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.graphics.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.time_label = QLabel()
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Medium:")))
        top.addWidget(self.selector, 1)
        top.addWidget(self.time_label)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.graphics, 1)
        self._nodes: dict[str, _NodeItems] = {}
        self._bands: dict[str, QGraphicsPathItem] = {}
        self._widths: dict[str, float] = {}
        self._px_per_si = 1.0
        self._view = ""
        self.selector.currentIndexChanged.connect(self._on_selector)

        ref = weakref.ref(self)

        def on_time(_index: int) -> None:
            widget = ref()
            if widget is not None and shiboken6.isValid(widget):
                widget.refresh()

        def on_values() -> None:
            widget = ref()
            if widget is not None and shiboken6.isValid(widget):
                widget.set_view(widget.current_view(), force=True)

        self._callbacks = (on_time, on_values)
        model.time_changed.connect(on_time)
        model.values_changed.connect(on_values)
        self.destroyed.connect(lambda *_: _disconnect(model, on_time, on_values))
        self.set_view(model.network.views[0].name)

    # ------------------------------------------------------------ public

    @property
    def model(self) -> FlowModel:
        """The model shown."""
        return self._model

    def current_view(self) -> str:
        """Return the name of the view shown."""
        return self._view

    def set_view(self, name: str, *, force: bool = False) -> None:
        """Show view ``name`` (``site`` or a media node), building its items once.

        Raises
        ------
        energyopt.errors.DataError
            If the model has no such view.
        """
        self._model.network.view(name)
        if name == self._view and not force:
            return
        self._view = name
        index = self.selector.findData(name)
        if index != self.selector.currentIndex():
            self.selector.blockSignals(True)
            self.selector.setCurrentIndex(index)
            self.selector.blockSignals(False)
        self._build()
        self.refresh()

    def band_width(self, link_key: str) -> float:
        """Return the drawn width of a link's band (0 when hidden). [scene px]."""
        return self._widths[link_key]

    def band_item(self, link_key: str) -> QGraphicsPathItem:
        """Return the scene item drawing a link's band."""
        return self._bands[link_key]

    def node_item(self, node_key: str) -> QGraphicsRectItem:
        """Return the scene item drawing a node's box."""
        return self._nodes[node_key].box

    def refresh(self) -> None:
        """Reshape every item for the model's current time (no items created)."""
        graph = self._model.graph(self._view)
        self._layout(graph)
        unit = graph.view.unit_display
        when = np.datetime64(graph.time_ms, "ms").astype("datetime64[s]")
        self.time_label.setText(str(when).replace("T", " "))
        for node in graph.nodes:
            value = max(graph.inflow_si(node.key), graph.outflow_si(node.key))
            text = f"{node.label}\n{_fmt(value * self._model.display_scale(self._view))} {unit}"
            items = self._nodes[node.key]
            items.label.setText(text)
            items.box.setToolTip(text.replace("\n", ": "))

    # ------------------------------------------------------------ internals

    def _on_selector(self, index: int) -> None:
        self.set_view(str(self.selector.itemData(index)))

    def _build(self) -> None:
        """Create the items of the current view (once per view switch)."""
        self.scene.clear()
        self._nodes.clear()
        self._bands.clear()
        self._widths.clear()
        network = self._model.network
        nodes, links = network.nodes[self._view], network.links[self._view]
        ranks = column_ranks(nodes, links)
        kinds = {n.name: n.medium_kind for n in network.built.plant.nodes}
        for link in links:
            net = link.source if link.source.startswith("net:") else link.target
            kind = "loss" if link.loss_of else kinds.get(net.removeprefix("net:"), "loss")
            colour = QColor(_MEDIUM_COLOURS.get(kind, "#95a5a6"))
            colour.setAlpha(150)
            item = QGraphicsPathItem()
            item.setBrush(QBrush(colour))
            item.setPen(QPen(Qt.PenStyle.NoPen))
            item.setZValue(0)
            self.scene.addItem(item)
            self._bands[link.key] = item
            self._widths[link.key] = 0.0
        for node in nodes:
            box = QGraphicsRectItem()
            box.setBrush(QBrush(QColor(_ROLE_COLOURS.get(node.role, "#616a6b"))))
            box.setPen(QPen(Qt.PenStyle.NoPen))
            box.setZValue(1)
            label = QGraphicsSimpleTextItem()
            label.setZValue(2)
            self.scene.addItem(box)
            self.scene.addItem(label)
            self._nodes[node.key] = _NodeItems(box, label, ranks[node.key])
        # One scale for the whole trajectory, so widths compare across time.
        values = np.abs(self._model.link_values_si(self._view))
        peak = 0.0
        for column in set(ranks.values()):
            members = {k for k, r in ranks.items() if r == column}
            into = [i for i, s in enumerate(links) if s.target in members]
            out_of = [i for i, s in enumerate(links) if s.source in members]
            for rows in (into, out_of):
                if rows:
                    peak = max(peak, float(values[rows].sum(axis=0).max()))
        gaps = _NODE_GAP * max(list(ranks.values()).count(c) for c in set(ranks.values()))
        self._px_per_si = (_HEIGHT - gaps) / peak if peak > 0 else 0.0
        n_columns = max(ranks.values()) + 1
        self.scene.setSceneRect(
            QRectF(-20.0, -20.0, n_columns * _COLUMN_GAP + 120.0, _HEIGHT + 60.0)
        )

    def _layout(self, graph: SankeyGraph) -> None:
        """Place node boxes and reshape bands for one snapshot."""
        k = self._px_per_si
        heights = {
            n.key: max(max(graph.inflow_si(n.key), graph.outflow_si(n.key)) * k, _MIN_NODE)
            for n in graph.nodes
        }
        tops: dict[str, float] = {}
        next_y: dict[int, float] = {}
        for node in graph.nodes:
            items = self._nodes[node.key]
            y = next_y.get(items.column, 0.0)
            tops[node.key] = y
            next_y[items.column] = y + heights[node.key] + _NODE_GAP
            x = items.column * _COLUMN_GAP
            items.box.setRect(QRectF(x, y, _NODE_WIDTH, heights[node.key]))
            items.label.setPos(x + _NODE_WIDTH + 3.0, y)
        out_y = dict(tops)
        in_y = dict(tops)
        unit = graph.view.unit_display
        for link in graph.links:
            width = link.value_si * k
            item = self._bands[link.key]
            self._widths[link.key] = width
            if width < 0.05:
                item.setVisible(False)
                continue
            x0 = self._nodes[link.source].column * _COLUMN_GAP + _NODE_WIDTH
            x1 = self._nodes[link.target].column * _COLUMN_GAP
            y0, y1 = out_y[link.source], in_y[link.target]
            out_y[link.source] += width
            in_y[link.target] += width
            item.setPath(_band_path(x0, y0, x1, y1, width))
            item.setToolTip(f"{link.label}: {_fmt(link.value_display)} {unit}")
            item.setVisible(True)


def _band_path(x0: float, y0: float, x1: float, y1: float, width: float) -> QPainterPath:
    """A band of constant vertical width from (x0, y0) to (x1, y1): two cubic Béziers."""
    reach = max(abs(x1 - x0) * 0.5, 40.0)
    path = QPainterPath(QPointF(x0, y0))
    path.cubicTo(QPointF(x0 + reach, y0), QPointF(x1 - reach, y1), QPointF(x1, y1))
    path.lineTo(QPointF(x1, y1 + width))
    path.cubicTo(
        QPointF(x1 - reach, y1 + width), QPointF(x0 + reach, y0 + width), QPointF(x0, y0 + width)
    )
    path.closeSubpath()
    return path


def _fmt(value: float) -> str:
    """Format a display value with about four significant digits."""
    if abs(value) >= 1000.0:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _disconnect(model: FlowModel, *callbacks: object) -> None:
    for callback in callbacks:
        for signal in (model.time_changed, model.values_changed):
            with contextlib.suppress(ValueError, RuntimeError):
                signal.disconnect(callback)  # type: ignore[arg-type]
