"""Sankey layout: widths proportional to flow, balanced nodes, cycles, empty views."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from numpy.testing import assert_allclose

from energyopt.flows.graph import SankeyNode, ViewInfo
from energyopt.report.flows import MeanLink, MeanView
from energyopt.report.sankey import layout_view, sankey_svg

SVG = "{http://www.w3.org/2000/svg}"


def view(links: list[tuple[str, str, float]]) -> MeanView:
    keys = sorted({k for a, b, _ in links for k in (a, b)})
    return MeanView(
        ViewInfo("gas", "gas (fuel_gas)", "fuel_gas", "m^3/s", "Nm3/h"),
        tuple(SankeyNode(k, k.upper(), "network") for k in keys),
        tuple(MeanLink(f"{a}-{b}", f"{a} to {b}", a, b, v, False) for a, b, v in links),
    )


def test_widths_proportional_and_nodes_balanced() -> None:
    layout = layout_view(view([("a", "b", 30.0), ("a", "c", 10.0), ("b", "d", 30.0)]))
    assert layout is not None
    widths = {band[0].key: band[5] for band in layout.bands}
    # Exact proportionality: one scale per diagram.
    assert_allclose(
        [widths["a-b"], widths["a-c"], widths["b-d"]],
        [30.0 * layout.scale, 10.0 * layout.scale, 30.0 * layout.scale],
        rtol=1e-12,  # float arithmetic only
    )
    # Node a's height is its outflow; columns follow the flow.
    x_a, _, h_a = layout.nodes["a"]
    assert_allclose(h_a, 40.0 * layout.scale, rtol=1e-12)  # float arithmetic only
    assert x_a < layout.nodes["b"][0] < layout.nodes["d"][0]
    # Bands leave a inside its extent.
    _, y_a, _ = layout.nodes["a"]
    for link, _, y0, _, _, w in layout.bands:
        if link.source == "a":
            assert y_a - 1e-9 <= y0 - w / 2
            assert y0 + w / 2 <= y_a + h_a + 1e-9


def test_cycle_is_laid_out() -> None:
    layout = layout_view(view([("a", "b", 5.0), ("b", "c", 5.0), ("c", "a", 2.0)]))
    assert layout is not None
    assert len(layout.bands) == 3
    assert layout.nodes["a"][0] < layout.nodes["b"][0] < layout.nodes["c"][0]


def test_svg_tooltips_and_empty_view() -> None:
    svg = sankey_svg(view([("a", "b", 1234.5)]), title="gas")
    root = ET.fromstring(svg)
    band = root.find(f"{SVG}path")
    assert band is not None
    assert band.find(f"{SVG}title").text == "a to b: 1,234 Nm3/h"  # fmt_value rounds to units
    assert float(band.attrib["data-value"]) == pytest.approx(1234.5, rel=1e-9)  # 9 digits
    assert sankey_svg(view([("a", "b", 0.0)]), title="gas") == ""
    assert layout_view(view([("a", "b", float("nan"))])) is None
