"""Sankey view: one band per link, widths proportional to flow, tooltips, time updates."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

pytest.importorskip("PySide6")

from PySide6.QtGui import QFontMetricsF

from energyopt.demos import demo_project_file
from energyopt.demos.steelworks_truth import run_truth
from energyopt.flows import FlowModel, FlowTrajectory
from energyopt.plantbuild import build_plant
from energyopt.project.loader import load_project

pytestmark = pytest.mark.gui

START_MS = 1_700_000_000_000


@pytest.fixture(scope="module")
def trajectory_and_built():
    built = build_plant(load_project(demo_project_file("steelworks")))
    run = run_truth(built, days=1 / 24, step_s=60.0, seed=1, start_ms=START_MS, warmup_s=1800.0)
    time_ms = (START_MS + run.time_s * 1000.0).astype(np.int64)
    traj = FlowTrajectory(time_ms, run.states, run.inputs, run.disturbances, run.outputs)
    return traj, built


@pytest.fixture
def view(qtbot, trajectory_and_built):
    from gui.flows_view import FlowsView

    traj, built = trajectory_and_built
    widget = FlowsView(FlowModel.from_built(built, traj))
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    return widget


def test_one_band_per_link_widths_proportional(view):
    from PySide6.QtWidgets import QGraphicsPathItem

    graph = view.model.graph("site")
    bands = [item for item in view.scene.items() if isinstance(item, QGraphicsPathItem)]
    assert len(bands) == len(graph.links)
    drawn = [link for link in graph.links if view.band_width(link.key) > 0.05]
    assert len(drawn) > 20
    ratios = [view.band_width(link.key) / link.value_si for link in drawn]
    # Widths are value * one scale factor: equal ratios to float rounding.
    assert_allclose(ratios, ratios[0], rtol=1e-12)
    # The painted band's height at its source end is its width (straight ends).
    link = max(drawn, key=lambda lk: lk.value_si)
    rect = view.band_item(link.key).path().boundingRect()
    assert rect.height() >= view.band_width(link.key) - 1e-9


def test_tooltip_has_value_and_unit(view):
    link = view.model.graph("site").link("tg_1.power_out:el_bus")
    tip = view.band_item(link.key).toolTip()
    assert tip.startswith("tg_1 power_out to el_bus: ")
    assert tip.endswith(" MW")
    value = float(tip.split(": ")[1].split()[0].replace(",", ""))
    # Four significant digits in the tooltip.
    assert_allclose(value, link.value_display, rtol=1e-3)


def test_time_change_updates_widths_without_new_items(view):
    key = "bfg_holder.gas:bfg"
    view.set_view("bfg")
    assert view.selector.currentData() == "bfg"
    item = view.band_item(key)
    widths = []
    for k in (0, 20, 40):
        view.model.set_index(k)
        assert view.band_item(key) is item  # reused, not rebuilt
        widths.append(view.band_width(key))
    row = [spec.key for spec in view.model.network.links["bfg"]].index(key)
    values = [abs(view.model.link_values_si("bfg")[row, k]) for k in (0, 20, 40)]
    assert len(set(np.round(values, 6))) > 1  # the holder flow does change
    ratios = [w / v for w, v in zip(widths, values, strict=True) if v > 0]
    assert_allclose(ratios, ratios[0], rtol=1e-12)


def test_selector_switches_view_and_unknown_view_raises(view):
    from energyopt.errors import DataError

    index = view.selector.findData("el_bus")
    view.selector.setCurrentIndex(index)
    assert view.current_view() == "el_bus"
    assert view.band_item("grid.power:el_bus").toolTip().endswith(" MW")
    with pytest.raises(DataError, match="no energy-flow view 'nowhere'"):
        view.set_view("nowhere")


def _reference_layout(view, graph, px_per_si):
    """The diagram geometry computed link by link with the graph records (the loop it replaced)."""
    from gui.flows_layout import COLUMN_GAP, MIN_NODE, NODE_GAP, NODE_WIDTH, column_ranks

    network = view.model.network
    ranks = column_ranks(network.nodes[graph.view.name], network.links[graph.view.name])
    boxes, next_y = {}, {}
    for node in graph.nodes:
        flow = max(graph.inflow_si(node.key), graph.outflow_si(node.key))
        height = max(flow * px_per_si, MIN_NODE)
        y = next_y.get(ranks[node.key], 0.0)
        next_y[ranks[node.key]] = y + height + NODE_GAP
        boxes[node.key] = (ranks[node.key] * COLUMN_GAP, y, NODE_WIDTH, height)
    out_y = {key: box[1] for key, box in boxes.items()}
    in_y = dict(out_y)
    bands = {}
    for link in graph.links:
        width = link.value_si * px_per_si
        if width < 0.05:
            continue
        x0 = ranks[link.source] * COLUMN_GAP + NODE_WIDTH
        x1 = ranks[link.target] * COLUMN_GAP
        bands[link.key] = (x0, out_y[link.source], x1, in_y[link.target], width)
        out_y[link.source] += width
        in_y[link.target] += width
    return boxes, bands


@pytest.mark.parametrize("name", ["site", "bfg", "el_bus"])
def test_vectorised_layout_equals_link_by_link_reference(view, name):
    view.set_view(name)
    for k in (0, 25, 50):
        view.model.set_index(k)
        graph = view.model.graph(name)
        biggest = max(graph.links, key=lambda link: link.value_si)
        px_per_si = view.band_width(biggest.key) / biggest.value_si
        boxes, bands = _reference_layout(view, graph, px_per_si)
        for key, box in boxes.items():
            rect = view.node_item(key).rect()
            # Sums of up to ~50 heights of <= 600 px in another order: ~1e-13 px.
            assert_allclose(
                [rect.x(), rect.y(), rect.width(), rect.height()], box, rtol=1e-12, atol=1e-9
            )
        assert len(bands) > 2
        for link in graph.links:
            item = view.band_item(link.key)
            assert item.isVisible() == (link.key in bands)
            if link.key not in bands:
                continue
            x0, y0, x1, y1, width = bands[link.key]
            path = item.path()
            start, end, end_low = path.elementAt(0), path.elementAt(3), path.elementAt(4)
            drawn = [start.x, start.y, end.x, end.y, end_low.y - end.y]
            assert_allclose(drawn, [x0, y0, x1, y1, width], rtol=1e-12, atol=1e-9)
        assert graph.link(biggest.key).label in view.band_item(biggest.key).toolTip()


def test_bands_paint_offscreen(view, qtbot):
    view.show()
    qtbot.waitExposed(view)
    image = view.graphics.viewport().grab().toImage()
    # Some pixels carry a band colour (not the white background).
    colours = {image.pixelColor(x, y).name() for x in range(0, image.width(), 7) for y in (60, 200)}
    assert len(colours) > 3


def _label_rects(view):
    nodes = view.model.network.nodes[view.current_view()]
    return {node.key: view.label_item(node.key).sceneBoundingRect() for node in nodes}


def test_labels_never_overlap_on_the_demo_steelworks(view, qtbot):
    """Every view of the demo plant, at several moments: label rectangles are disjoint.

    Before the labels were spread, neighbouring boundary nodes of the site view
    (``ng boundary``, ``mixed_gas boundary``, ``demin_water boundary``) overlapped.
    """
    from gui.flows_layout import LABEL_WIDTH

    view.show()
    qtbot.waitExposed(view)
    for info in view.model.network.views:
        view.set_view(info.name)
        for k in (0, 30, 59):
            view.model.set_index(k)
            rects = _label_rects(view)
            keys = list(rects)
            overlapping = [
                (a, b)
                for i, a in enumerate(keys)
                for b in keys[i + 1 :]
                if rects[a].intersects(rects[b])
            ]
            assert overlapping == [], f"view {info.name}, sample {k}"
            # Every label can be scrolled to.
            scene = view.scene.sceneRect()
            assert all(scene.contains(rect) for rect in rects.values()), info.name
        for node in view.model.network.nodes[info.name]:
            label = view.label_item(node.key)
            name_line = label.text().split("\n")[0]
            # The name fits before the next column (elided if longer), the tooltip has it whole.
            assert label.font().pointSizeF() > 0
            metrics = QFontMetricsF(label.font())
            assert metrics.horizontalAdvance(name_line) <= LABEL_WIDTH + 1e-6
            assert label.toolTip().startswith(f"{node.label}: ")


def test_labels_stay_beside_their_box_when_there_is_room():
    """The spreading only moves labels that would overlap (exact small case)."""
    from gui.flows_layout import LABEL_GAP, LABEL_TOP, ViewLayout

    layout = ViewLayout(np.array([0, 0, 0, 1], dtype=np.intp))
    tops = np.array([0.0, 100.0, 110.0, 0.0])
    heights = np.array([40.0, 4.0, 4.0, 2.0])
    label_h = np.full(4, 30.0)
    got = layout.label_tops(tops, heights, label_h)
    # Node 0: centred on its box (20 - 15).  Node 1: centred at 102 - 15 = 87, free.
    # Node 2 wants 112 - 15 = 97 but node 1's label ends at 117: 117 + LABEL_GAP.
    # Node 3 (another column): centred at 1 - 15 = -14, not pushed by column 0.
    want = [5.0, 87.0, 117.0 + LABEL_GAP, -14.0]
    # Centred on a box at the very top it would start above LABEL_TOP: held there.
    assert LABEL_TOP < -14.0
    # Sums and maxima of exact binary fractions: equal to rounding.
    assert_allclose(got, want, rtol=0, atol=1e-12)
    high = layout.label_tops(np.zeros(4), np.full(4, 2.0), np.full(4, 60.0))
    assert_allclose(high[[0, 3]], [LABEL_TOP, LABEL_TOP], rtol=0, atol=0)


def test_time_label_is_plant_time_like_the_replay_clock(view):
    """The demo plant is in Asia/Shanghai (UTC+8): the label is not UTC."""
    from energyopt.data.format import format_time_ms

    view.model.set_index(0)
    first_ms = int(view.model.snapshot(view.current_view()).time_ms)
    assert view.timezone == "Asia/Shanghai"
    assert view.time_label.text() == format_time_ms(first_ms // 1000 * 1000, "Asia/Shanghai")
    assert view.time_label.text().endswith("+08:00")
    view.set_timezone("Europe/Berlin")
    assert view.time_label.text().endswith("+01:00")  # November 2023: winter time


def test_rounding_dust_is_shown_as_zero():
    from gui.flows_view import _fmt

    # A closed flare's balance residue (seen as "7.905e-323 MW" on the demo).
    assert _fmt(7.905e-323) == "0"
    assert _fmt(-1e-9) == "0"
    assert _fmt(0.1738) == "0.1738"
    assert _fmt(1234.4) == "1,234"
