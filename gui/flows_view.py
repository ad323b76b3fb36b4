"""Sankey-style energy-flow diagram (per media network and for the whole site).

:class:`FlowsView` takes a :class:`~energyopt.flows.FlowModel` and draws the
selected view in a ``QGraphicsScene``: node boxes, curved bands
(``QPainterPath`` cubic Béziers) whose widths are proportional to the flow,
labels with value and unit, and a tooltip on every band and box.  The items of
a view are created once when it is selected; a time change only moves and
reshapes them (no scene rebuild per frame), so animation along the replay
clock stays smooth: the model hands over a :class:`~energyopt.flows.FlowSnapshot`
(arrays), node heights, stacking and band offsets are a few numpy operations
on index arrays built with the view, and only then are the items updated.

The model must be driven from the GUI thread (the replay clock is a timer on
it); psygnal calls the view synchronously.
"""

from __future__ import annotations

import contextlib
import weakref

import numpy as np
import numpy.typing as npt
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
    QStyleOptionGraphicsItem,
    QVBoxLayout,
    QWidget,
)

from energyopt.flows import FlowModel, FlowSnapshot, LinkSpec, SankeyNode

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


class _Band(QGraphicsPathItem):
    """A band filled without antialiasing and outlined with an antialiased hairline.

    Antialiased filling of large translucent curved areas is the costly part
    of painting a Sankey diagram in Qt's raster engine (measured on the
    steelworks site view at 1280 x 720: 9 ms a paint antialiased, 2 ms not);
    an antialiased one-pixel edge in the band's own colour, at half its
    opacity, covers the fill's staircase for about 3 ms more, so the bands
    look smooth at animation speed.
    """

    def __init__(self, colour: QColor) -> None:
        super().__init__()
        self.setBrush(QBrush(colour))
        self.setPen(QPen(Qt.PenStyle.NoPen))
        edge = QColor(colour)
        edge.setAlpha(max(colour.alpha() // 2, 1))
        self._edge = QPen(edge, 1.0)
        self._edge.setCosmetic(True)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        """Fill the band (no antialiasing), then stroke its outline (antialiased)."""
        path = self.path()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.fillPath(path, self.brush())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.strokePath(path, self._edge)


class _ViewLayout:
    """Index arrays of the shown view that turn a snapshot into geometry with numpy."""

    def __init__(self, columns: npt.NDArray[np.intp]) -> None:
        self.columns = columns
        #: Nodes in stacking order (by column, then declaration order).
        self.stack_order = np.argsort(columns, kind="stable")
        stacked_columns = columns[self.stack_order]
        #: Position (in stacking order) of the first node of each node's column.
        self.column_first = np.searchsorted(stacked_columns, stacked_columns, side="left")
        self.x_left = columns * _COLUMN_GAP

    def node_tops(self, heights: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Top of every node box: boxes stacked down each column with a gap. [scene px]."""
        step = (heights + _NODE_GAP)[self.stack_order]
        before = np.cumsum(step) - step
        tops = np.empty_like(heights)
        tops[self.stack_order] = before - before[self.column_first]
        return tops


def _offsets_within(
    groups: npt.NDArray[np.intp], widths: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Sum of the widths of the earlier links of the same group, for every link. [scene px].

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
        # Every item moves every frame: a BSP index would be rebuilt each time for nothing.
        self.scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
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
        self._boxes: list[QGraphicsRectItem] = []
        self._labels: list[QGraphicsSimpleTextItem] = []
        self._bands: list[_Band] = []
        self._node_index: dict[str, int] = {}
        self._link_index: dict[str, int] = {}
        self._node_text: list[str] = []
        self._link_text: list[str] = []
        self._widths = np.zeros(0)
        self._geometry: list[tuple[float, ...] | None] = []
        self._layout_index = _ViewLayout(np.zeros(0, dtype=np.intp))
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
        return float(self._widths[self._link_index[link_key]])

    def band_item(self, link_key: str) -> QGraphicsPathItem:
        """Return the scene item drawing a link's band."""
        return self._bands[self._link_index[link_key]]

    def node_item(self, node_key: str) -> QGraphicsRectItem:
        """Return the scene item drawing a node's box."""
        return self._boxes[self._node_index[node_key]]

    def refresh(self) -> None:
        """Reshape every item for the model's current time (no items created)."""
        snap = self._model.snapshot(self._view)
        when = np.datetime64(snap.time_ms, "ms").astype("datetime64[s]")
        self.time_label.setText(str(when).replace("T", " "))
        self._layout(snap)

    # ------------------------------------------------------------ internals

    def _on_selector(self, index: int) -> None:
        self.set_view(str(self.selector.itemData(index)))

    def _build(self) -> None:
        """Create the items of the current view (once per view switch)."""
        self.scene.clear()
        network = self._model.network
        nodes, links = network.nodes[self._view], network.links[self._view]
        ranks = column_ranks(nodes, links)
        kinds = {n.name: n.medium_kind for n in network.built.plant.nodes}
        self._bands = []
        for link in links:
            net = link.source if link.source.startswith("net:") else link.target
            kind = "loss" if link.loss_of else kinds.get(net.removeprefix("net:"), "loss")
            colour = QColor(_MEDIUM_COLOURS.get(kind, "#95a5a6"))
            colour.setAlpha(150)
            band = _Band(colour)
            band.setZValue(0)
            band.setVisible(False)
            self.scene.addItem(band)
            self._bands.append(band)
        self._boxes, self._labels = [], []
        for node in nodes:
            box = QGraphicsRectItem()
            box.setBrush(QBrush(QColor(_ROLE_COLOURS.get(node.role, "#616a6b"))))
            box.setPen(QPen(Qt.PenStyle.NoPen))
            box.setZValue(1)
            label = QGraphicsSimpleTextItem()
            label.setZValue(2)
            self.scene.addItem(box)
            self.scene.addItem(label)
            self._boxes.append(box)
            self._labels.append(label)
        self._node_index = {node.key: i for i, node in enumerate(nodes)}
        self._link_index = {link.key: i for i, link in enumerate(links)}
        unit = network.view(self._view).unit_display
        self._node_text = [f"{node.label}\n{{0}} {unit}" for node in nodes]
        self._link_text = [f"{link.label}: {{0}} {unit}" for link in links]
        self._widths = np.zeros(len(links))
        self._geometry = [None] * len(links)
        columns = np.array([ranks[node.key] for node in nodes], dtype=np.intp)
        self._layout_index = _ViewLayout(columns)
        # One scale for the whole trajectory, so widths compare across time: the
        # largest total flow into or out of one column at any time.
        incidence = self._model.incidence(self._view)
        magnitudes = np.abs(self._model.link_values_si(self._view))
        n_columns = int(columns.max()) + 1
        peak = 0.0
        for ends in (incidence.source, incidence.target):
            per_column = np.zeros((n_columns, len(links)))
            per_column[columns[ends], np.arange(len(links))] = 1.0
            if len(links):
                peak = max(peak, float((per_column @ magnitudes).max()))
        gaps = _NODE_GAP * int(np.bincount(columns).max())
        self._px_per_si = (_HEIGHT - gaps) / peak if peak > 0 else 0.0
        self.scene.setSceneRect(
            QRectF(-20.0, -20.0, n_columns * _COLUMN_GAP + 120.0, _HEIGHT + 60.0)
        )

    def _layout(self, snap: FlowSnapshot) -> None:
        """Place node boxes and reshape bands for one snapshot (numpy, then item updates)."""
        k = self._px_per_si
        scale = self._model.display_scale(self._view)
        index = self._layout_index
        node_flow = np.maximum(snap.inflow_si, snap.outflow_si)
        heights = np.maximum(node_flow * k, _MIN_NODE)
        tops = index.node_tops(heights)
        for i, (x, y, h, value) in enumerate(
            zip(
                index.x_left.tolist(),
                tops.tolist(),
                heights.tolist(),
                (node_flow * scale).tolist(),
                strict=True,
            )
        ):
            text = self._node_text[i].format(_fmt(value))
            self._boxes[i].setRect(QRectF(x, y, _NODE_WIDTH, h))
            self._boxes[i].setToolTip(text.replace("\n", ": "))
            label = self._labels[i]
            label.setPos(x + _NODE_WIDTH + 3.0, y)
            label.setText(text)
        widths = snap.value_si * k
        visible = widths >= 0.05
        shown = np.where(visible, widths, 0.0)
        y0 = tops[snap.source] + _offsets_within(snap.source, shown)
        y1 = tops[snap.target] + _offsets_within(snap.target, shown)
        x0 = index.x_left[snap.source] + _NODE_WIDTH
        x1 = index.x_left[snap.target]
        self._widths = widths
        for i, (on, geometry, value) in enumerate(
            zip(
                visible.tolist(),
                zip(
                    x0.tolist(), y0.tolist(), x1.tolist(), y1.tolist(), widths.tolist(), strict=True
                ),
                (snap.value_si * scale).tolist(),
                strict=True,
            )
        ):
            band = self._bands[i]
            if not on:
                band.setVisible(False)
                continue
            if geometry != self._geometry[i]:
                band.setPath(_band_path(*geometry))
                self._geometry[i] = geometry
            band.setToolTip(self._link_text[i].format(_fmt(value)))
            band.setVisible(True)


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
