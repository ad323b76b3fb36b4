"""Sankey-style energy-flow diagram (per media network and for the whole site).

:class:`FlowsView` takes a :class:`~energyopt.flows.FlowModel` and draws the
selected view in a ``QGraphicsScene``: node boxes, curved bands
(``QPainterPath`` cubic Béziers) whose widths are proportional to the flow,
labels with value and unit (spread down each column so they never overlap,
long names elided: :mod:`gui.flows_layout`), and a tooltip with the full
text on every band, box and label.  The time shown is the plant's (the
project's zone, as on the replay clock).  The items of
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
import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QShowEvent,
)
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

from energyopt.flows import FlowModel, FlowSnapshot
from gui.flows_layout import (
    COLUMN_GAP,
    HEIGHT,
    LABEL_OFFSET,
    LABEL_WIDTH,
    MIN_NODE,
    NODE_GAP,
    NODE_WIDTH,
    ViewLayout,
    column_peak,
    column_ranks,
    offsets_within,
)
from gui.time_axis import format_plant_time

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
#: Display values below this are shown as 0 (rounding dust of the balances). [display unit]
_DUST = 1e-6
#: Labels sit on a translucent white plate: readable over the bands they cross.
_LABEL_PLATE = QColor(255, 255, 255, 190)


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


class _Label(QGraphicsSimpleTextItem):
    """A node label on a translucent plate (the bands behind it stay visible)."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        """Fill the text's rectangle with the plate, then draw the text."""
        painter.fillRect(self.boundingRect(), _LABEL_PLATE)
        super().paint(painter, option, widget)  # type: ignore[arg-type]  # Qt accepts None


class FlowsView(QWidget):
    """Sankey diagram of a :class:`~energyopt.flows.FlowModel` with a view selector.

    Parameters
    ----------
    model : FlowModel
        The energy-flow state to show; its ``time_changed`` signal updates the diagram.
    parent : QWidget, optional
        Parent widget.
    timezone : str, optional
        IANA zone the time is shown in; default the project's (``[project] timezone``).
    """

    def __init__(
        self, model: FlowModel, parent: QWidget | None = None, *, timezone: str | None = None
    ) -> None:
        super().__init__(parent)
        self._model = model
        self._timezone = (
            timezone if timezone is not None else str(model.network.built.project.project.timezone)
        )
        self.selector = QComboBox()
        for info in model.network.views:
            self.selector.addItem(info.label, info.name)
        self.scene = QGraphicsScene(self)
        # Every item moves every frame: a BSP index would be rebuilt each time for nothing.
        self.scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.graphics = QGraphicsView(self.scene)
        self.graphics.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.graphics.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        # A site wider than the dock: drag to pan; the sources (left, top) are shown first.
        self.graphics.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self._scrolled_home = False
        self.time_label = QLabel()
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Medium:")))
        top.addWidget(self.selector, 1)
        top.addWidget(self.time_label)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.graphics, 1)
        self._boxes: list[QGraphicsRectItem] = []
        self._labels: list[_Label] = []
        self._label_heights = np.zeros(0)
        self._bands: list[_Band] = []
        self._node_index: dict[str, int] = {}
        self._link_index: dict[str, int] = {}
        self._node_text: list[str] = []
        self._node_tip: list[str] = []
        self._link_text: list[str] = []
        self._widths = np.zeros(0)
        self._geometry: list[tuple[float, ...] | None] = []
        self._layout_index = ViewLayout(np.zeros(0, dtype=np.intp))
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

    @property
    def timezone(self) -> str:
        """IANA zone the time is shown in."""
        return self._timezone

    def set_timezone(self, timezone: str) -> None:
        """Show the time in another zone.

        Parameters
        ----------
        timezone : str
            IANA name (UTC if unknown).
        """
        if timezone != self._timezone:
            self._timezone = timezone
            self.refresh()

    def label_item(self, node_key: str) -> QGraphicsSimpleTextItem:
        """Return the scene item drawing a node's label."""
        return self._labels[self._node_index[node_key]]

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
        self.time_label.setText(format_plant_time(snap.time_ms / 1000.0, self._timezone))
        self._layout(snap)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """Show the diagram's top-left corner (its sources) the first time it is shown."""
        super().showEvent(event)
        if not self._scrolled_home:
            self._scrolled_home = True
            for bar in (self.graphics.horizontalScrollBar(), self.graphics.verticalScrollBar()):
                bar.setValue(bar.minimum())

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
            label = _Label()
            label.setZValue(2)
            self.scene.addItem(box)
            self.scene.addItem(label)
            self._boxes.append(box)
            self._labels.append(label)
        self._node_index = {node.key: i for i, node in enumerate(nodes)}
        self._link_index = {link.key: i for i, link in enumerate(links)}
        unit = network.view(self._view).unit_display
        # Names longer than a column's label room are elided; the tooltip has them whole.
        metrics = QFontMetricsF(self._labels[0].font()) if self._labels else None
        self._node_text = []
        self._node_tip = []
        for node in nodes:
            name = node.label
            if metrics is not None:
                name = metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, LABEL_WIDTH)
            self._node_text.append(f"{name}\n{{0}} {unit}")
            self._node_tip.append(f"{node.label}: {{0}} {unit}")
        for label, text in zip(self._labels, self._node_text, strict=True):
            label.setText(text.format("0"))  # two lines: the height every frame keeps
        self._label_heights = np.array([label.boundingRect().height() for label in self._labels])
        self._link_text = [f"{link.label}: {{0}} {unit}" for link in links]
        self._widths = np.zeros(len(links))
        self._geometry = [None] * len(links)
        columns = np.array([ranks[node.key] for node in nodes], dtype=np.intp)
        self._layout_index = ViewLayout(columns)
        # One scale for the whole trajectory, so widths compare across time.
        incidence = self._model.incidence(self._view)
        peak = column_peak(
            columns,
            incidence.source,
            incidence.target,
            np.abs(self._model.link_values_si(self._view)),
        )
        n_columns = int(columns.max()) + 1
        gaps = NODE_GAP * int(np.bincount(columns).max())
        self._px_per_si = (HEIGHT - gaps) / peak if peak > 0 else 0.0
        self.scene.setSceneRect(QRectF(-20.0, -20.0, n_columns * COLUMN_GAP + 120.0, HEIGHT + 60.0))

    def _layout(self, snap: FlowSnapshot) -> None:
        """Place node boxes and reshape bands for one snapshot (numpy, then item updates)."""
        k = self._px_per_si
        scale = self._model.display_scale(self._view)
        index = self._layout_index
        node_flow = np.maximum(snap.inflow_si, snap.outflow_si)
        heights = np.maximum(node_flow * k, MIN_NODE)
        tops = index.node_tops(heights)
        label_tops = index.label_tops(tops, heights, self._label_heights)
        for i, (x, y, h, label_y, value) in enumerate(
            zip(
                index.x_left.tolist(),
                tops.tolist(),
                heights.tolist(),
                label_tops.tolist(),
                (node_flow * scale).tolist(),
                strict=True,
            )
        ):
            shown = _fmt(value)
            tip = self._node_tip[i].format(shown)
            self._boxes[i].setRect(QRectF(x, y, NODE_WIDTH, h))
            self._boxes[i].setToolTip(tip)
            label = self._labels[i]
            label.setPos(x + NODE_WIDTH + LABEL_OFFSET, label_y)
            label.setText(self._node_text[i].format(shown))
            label.setToolTip(tip)
        self._fit_scene(label_tops)
        widths = snap.value_si * k
        visible = widths >= 0.05
        shown_widths = np.where(visible, widths, 0.0)
        y0 = tops[snap.source] + offsets_within(snap.source, shown_widths)
        y1 = tops[snap.target] + offsets_within(snap.target, shown_widths)
        x0 = index.x_left[snap.source] + NODE_WIDTH
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

    def _fit_scene(self, label_tops: np.ndarray) -> None:
        """Grow the scene when spread labels reach beyond it (it never shrinks within a view).

        Every label stays reachable by scrolling; growing only keeps the
        scroll bars still while the diagram animates.
        """
        if label_tops.size == 0:
            return
        rect = self.scene.sceneRect()
        top = min(rect.top(), float(label_tops.min()) - 4.0)
        bottom = max(rect.bottom(), float((label_tops + self._label_heights).max()) + 20.0)
        if top < rect.top() or bottom > rect.bottom():
            rect.setTop(top)
            rect.setBottom(bottom)
            self.scene.setSceneRect(rect)


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
    """Format a display value with about four significant digits; dust (< 1e-6) as 0.

    A closed flare's flow comes out of the balances as 1e-320-ish numbers,
    which are no flow to a reader.
    """
    if abs(value) < _DUST:
        return "0"
    if abs(value) >= 1000.0:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _disconnect(model: FlowModel, *callbacks: object) -> None:
    for callback in callbacks:
        for signal in (model.time_changed, model.values_changed):
            with contextlib.suppress(ValueError, RuntimeError):
                signal.disconnect(callback)  # type: ignore[arg-type]
