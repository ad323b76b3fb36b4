"""Sankey diagrams as inline SVG: node columns, bands whose width is proportional to flow.

Each band is one SVG ``<path>``: a cubic Bézier curve from the right edge
of its source node to the left edge of its target, stroked with a width of
``value * scale`` pixels (the construction d3-sankey uses), and carrying a
``<title>`` with the link's label, value and unit (the browser's tooltip).
``scale`` is one number per diagram, chosen so that the fullest column fills
the height, so widths are comparable within a diagram.

Columns come from longest-path layering of the flow graph after the edges
closing a cycle are set aside (depth-first search); such back edges are
still drawn, curving backwards.  Written by hand because matplotlib's Sankey
draws a single flow chain, not a network, and the report must stay free of
JavaScript libraries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from energyopt.report.flows import MeanLink, MeanView
from energyopt.report.strings import fmt_value

__all__ = ["ROLE_COLOURS", "SankeyLayout", "layout_view", "sankey_svg"]

#: Node role -> fill colour (Tableau 10); bands take their source's colour.
ROLE_COLOURS: dict[str, str] = {
    "producer": "#4e79a7",
    "grid": "#f28e2b",
    "boundary": "#bab0ac",
    "network": "#76b7b2",
    "holder": "#59a14f",
    "converter": "#edc948",
    "user": "#b07aa1",
    "flare": "#e15759",
    "loss": "#9c755f",
}

_WIDTH = 900.0
_MARGIN = 16.0
_NODE_W = 12.0
_GAP = 14.0
_LABEL_SPACE = 150.0
#: Barycentre sweeps ordering the nodes of each column. [-]
_SWEEPS = 4
#: Links below this share of the largest link are left out (invisible anyway). [-]
_MIN_SHARE = 1e-9


@dataclass(frozen=True)
class SankeyLayout:
    """Positions of a diagram's nodes and bands, in pixels.

    Attributes
    ----------
    width, height : float
        Size of the drawing.
    scale : float
        Band width per unit of flow. [px per display unit]
    nodes : dict of str to (x, y, height)
        Node key -> top-left corner and height.
    bands : list of (MeanLink, x0, y0, x1, y1, width)
        Each drawn link with the centre of its two ends and its width.
    """

    width: float
    height: float
    scale: float
    nodes: dict[str, tuple[float, float, float]]
    bands: list[tuple[MeanLink, float, float, float, float, float]]


def _layers(keys: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Column of each node: longest path from a source once back edges are removed."""
    succ: dict[str, list[str]] = {k: [] for k in keys}
    for a, b in edges:
        succ[a].append(b)
    state: dict[str, int] = {}
    forward: set[tuple[str, str]] = set()
    order: list[str] = []

    def visit(start: str) -> None:
        # Iterative DFS (a plant view can be deep); state 1 on the stack, 2 done.
        stack = [(start, iter(succ[start]))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            for child in children:
                if state.get(child) == 1:
                    continue  # back edge: closes a cycle
                forward.add((node, child))
                if child not in state:
                    state[child] = 1
                    stack.append((child, iter(succ[child])))
                    break
            else:
                state[node] = 2
                order.append(node)
                stack.pop()

    indegree = dict.fromkeys(keys, 0)
    for _, b in edges:
        indegree[b] += 1
    for key in sorted(keys, key=lambda k: indegree[k] > 0):
        if key not in state:
            visit(key)
    layer = dict.fromkeys(keys, 0)
    for node in reversed(order):  # reverse post-order is a topological order
        for child in succ[node]:
            if (node, child) in forward:
                layer[child] = max(layer[child], layer[node] + 1)
    return layer


def _place(
    columns: list[list[str]], size: dict[str, float], scale: float, height: float, step: float
) -> dict[str, tuple[float, float, float]]:
    """Stack each column's nodes, centred vertically; key -> (x, y, height)."""
    nodes: dict[str, tuple[float, float, float]] = {}
    for c, col in enumerate(columns):
        total = sum(size[k] for k in col) * scale + _GAP * (len(col) - 1)
        y = (height - total) / 2.0
        for key in col:
            h = size[key] * scale
            nodes[key] = (_MARGIN + c * step, y, h)
            y += h + _GAP
    return nodes


def _reorder(
    columns: list[list[str]],
    links: list[MeanLink],
    nodes: dict[str, tuple[float, float, float]],
) -> list[list[str]]:
    """Sort each column by the flow-weighted mean height of its neighbours (fewer crossings)."""
    weight: dict[str, float] = {}
    moment: dict[str, float] = {}
    for link in links:
        for here, there in ((link.source, link.target), (link.target, link.source)):
            _, y, h = nodes[there]
            weight[here] = weight.get(here, 0.0) + link.value_display
            moment[here] = moment.get(here, 0.0) + link.value_display * (y + h / 2.0)

    def centre(key: str) -> float:
        _, y, h = nodes[key]
        return moment[key] / weight[key] if weight.get(key) else y + h / 2.0

    return [sorted(col, key=centre) for col in columns]


def layout_view(view: MeanView, *, width: float = _WIDTH) -> SankeyLayout | None:
    """Place the nodes and bands of a view.

    Parameters
    ----------
    view : MeanView
        The view with its mean flows.
    width : float
        Width of the drawing. [px]

    Returns
    -------
    SankeyLayout or None
        ``None`` if no link carries flow.
    """
    finite = [link for link in view.links if math.isfinite(link.value_display)]
    largest = max((link.value_display for link in finite), default=0.0)
    if not largest > 0.0:
        return None
    links = [link for link in finite if link.value_display > _MIN_SHARE * largest]
    keys = list(dict.fromkeys(k for link in links for k in (link.source, link.target)))
    inflow = dict.fromkeys(keys, 0.0)
    outflow = dict.fromkeys(keys, 0.0)
    for link in links:
        outflow[link.source] += link.value_display
        inflow[link.target] += link.value_display
    size = {k: max(inflow[k], outflow[k]) for k in keys}
    layer = _layers(keys, [(link.source, link.target) for link in links])
    n_cols = max(layer.values()) + 1
    columns: list[list[str]] = [[] for _ in range(n_cols)]
    for key in keys:
        columns[layer[key]].append(key)
    tallest = max(len(c) for c in columns)
    height = max(260.0, 2 * _MARGIN + tallest * 46.0)
    scale = min(
        (height - 2 * _MARGIN - _GAP * (len(col) - 1)) / sum(size[k] for k in col)
        for col in columns
    )
    usable = width - 2 * _MARGIN - _NODE_W - _LABEL_SPACE
    step = usable / (n_cols - 1) if n_cols > 1 else 0.0
    nodes = _place(columns, size, scale, height, step)
    for _ in range(_SWEEPS):
        columns = _reorder(columns, links, nodes)
        nodes = _place(columns, size, scale, height, step)
    out_used = dict.fromkeys(keys, 0.0)
    in_used = dict.fromkeys(keys, 0.0)
    bands = []
    # Stack bands at each node in the order of the other end's height: fewer crossings.
    for link in sorted(links, key=lambda lk: (nodes[lk.target][1], nodes[lk.source][1])):
        w = link.value_display * scale
        sx, sy, _ = nodes[link.source]
        y0 = sy + out_used[link.source] + w / 2.0
        out_used[link.source] += w
        bands.append((link, sx + _NODE_W, y0, 0.0, 0.0, w))
    by_source = sorted(range(len(bands)), key=lambda i: nodes[bands[i][0].source][1])
    for i in by_source:
        link, x0, y0, _, _, w = bands[i]
        tx, ty, _ = nodes[link.target]
        y1 = ty + in_used[link.target] + w / 2.0
        in_used[link.target] += w
        bands[i] = (link, x0, y0, tx, y1, w)
    return SankeyLayout(width, height, scale, nodes, bands)


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def sankey_svg(view: MeanView, *, title: str) -> str:
    """Return a view as an inline SVG element.

    Parameters
    ----------
    view : MeanView
        The view with its mean flows.
    title : str
        Accessible title of the drawing.

    Returns
    -------
    str
        ``<svg>...</svg>``, or ``""`` if no link carries flow.
    """
    layout = layout_view(view)
    if layout is None:
        return ""
    unit = view.info.unit_display
    roles = {node.key: node.role for node in view.nodes}
    labels = {node.key: node.label for node in view.nodes}
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="sankey" role="img" '
            f'width="{_num(layout.width)}" height="{_num(layout.height)}" '
            f'viewBox="0 0 {_num(layout.width)} {_num(layout.height)}" '
            f'data-view="{escape(view.info.name)}" data-scale="{layout.scale:.9g}">'
        ),
        f"<title>{escape(title)}</title>",
    ]
    for link, x0, y0, x1, y1, w in layout.bands:
        bend = max(abs(x1 - x0) / 2.0, 40.0)
        colour = ROLE_COLOURS.get(roles.get(link.source, ""), "#999999")
        tip = f"{link.label}: {fmt_value(link.value_display)} {unit}"
        parts.append(
            f'<path class="band" d="M{_num(x0)},{_num(y0)} C{_num(x0 + bend)},{_num(y0)} '
            f'{_num(x1 - bend)},{_num(y1)} {_num(x1)},{_num(y1)}" fill="none" '
            f'stroke="{colour}" stroke-opacity="0.45" stroke-width="{w:.4f}" '
            f'data-link="{escape(link.key)}" data-value="{link.value_display:.9g}">'
            f"<title>{escape(tip)}</title></path>"
        )
    for key, (x, y, h) in layout.nodes.items():
        colour = ROLE_COLOURS.get(roles.get(key, ""), "#999999")
        name = labels.get(key, key)
        through = max(
            sum(b[0].value_display for b in layout.bands if b[0].source == key),
            sum(b[0].value_display for b in layout.bands if b[0].target == key),
        )
        text = f"{name} {fmt_value(through)} {unit}"
        parts.append(
            f'<rect class="node" x="{_num(x)}" y="{_num(y)}" width="{_num(_NODE_W)}" '
            f'height="{_num(max(h, 1.0))}" fill="{colour}" data-node="{escape(key)}">'
            f"<title>{escape(text)}</title></rect>"
        )
        # Labels right of their node: the last column has _LABEL_SPACE for them.
        parts.append(
            f'<text x="{_num(x + _NODE_W + 4.0)}" y="{_num(y + h / 2.0)}" dy="0.35em">'
            f"{escape(text)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
