"""Charts of the report as inline SVG, drawn by matplotlib without any GUI backend.

Figures are :class:`matplotlib.figure.Figure` objects saved with the SVG
backend directly (no ``pyplot``), so no interactive backend, Qt included, is
ever selected, whatever the process already imported (matplotlib's advice
for web servers; ``matplotlib.use`` would change the global backend of a
GUI process).  Text stays text (``svg.fonttype = "none"``) with a font list
that starts with common CJK fonts, so the browser renders Chinese labels
with whatever CJK font the reader's system has; the file stays small.
Clip-path and marker ids are salted per chart (``svg.hashsalt``) so several
charts can share one HTML page, and the output is deterministic.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from energyopt.report.decimate import minmax_decimate

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

__all__ = [
    "PLOT_BUCKETS",
    "Line",
    "Panel",
    "figure_svg",
    "lines_svg",
    "panel_svg",
    "run_colour",
]

#: Time buckets of the min/max decimation: about the plot width in pixels. [-]
PLOT_BUCKETS = 600
#: Fonts tried in order; CJK families first so that Chinese text renders.
FONT_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "DejaVu Sans",
    "Arial",
)
#: Line colour of each run (recorded grey, baseline orange, MPC blue).
RUN_COLOURS: dict[str, str] = {"recorded": "#7f7f7f", "baseline": "#f28e2b", "mpc": "#1f77b4"}
_OTHER_COLOURS = ("#2ca02c", "#9467bd", "#8c564b", "#e377c2")


@dataclass(frozen=True)
class Line:
    """One series of a chart.

    Attributes
    ----------
    label : str
        Legend text.
    time_ms : numpy.ndarray
        Times. [ms since epoch]
    values : numpy.ndarray
        Values. [chart unit]
    colour : str
        Line colour.
    """

    label: str
    time_ms: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    colour: str = "#1f77b4"


@dataclass(frozen=True)
class Panel:
    """A time chart of one variable with its bands.

    Attributes
    ----------
    title : str
        Chart title.
    unit : str
        Unit of the values (y-axis label).
    lines : sequence of Line
        The runs' series.
    normal : (float, float) or None
        Normal band, shaded. [unit]
    hard : (float, float) or None
        Hard limits, dashed. [unit]
    """

    title: str
    unit: str
    lines: Sequence[Line]
    normal: tuple[float, float] | None = None
    hard: tuple[float, float] | None = None


def run_colour(run: str, position: int) -> str:
    """Return the line colour of a run.

    Parameters
    ----------
    run : str
        Run name; ``recorded``, ``baseline`` and ``mpc`` have fixed colours.
    position : int
        Position of the run in the chart, choosing the colour of other runs.
    """
    return RUN_COLOURS.get(run, _OTHER_COLOURS[position % len(_OTHER_COLOURS)])


def _rc(salt: str) -> dict[RcKeyType, Any]:
    return {
        "svg.fonttype": "none",
        "svg.hashsalt": salt,
        "font.family": "sans-serif",
        "font.sans-serif": list(FONT_FAMILIES),
        "font.size": 8.5,
        "axes.unicode_minus": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "lines.linewidth": 1.0,
    }


def figure_svg(fig: Figure) -> str:
    """Return a figure as an SVG element ready to inline in HTML.

    The XML prolog, DOCTYPE and RDF metadata (which reference external URLs)
    are dropped and ``xlink:href`` becomes ``href`` (SVG 2), so the only URL
    left is the SVG namespace; element ids nothing refers to are dropped, so
    ids do not repeat between the charts of a page.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure (drawn with the rc settings active).

    Returns
    -------
    str
        ``<svg ...>...</svg>``.
    """
    buffer = io.StringIO()
    with warnings.catch_warnings():
        # DejaVu Sans has no CJK glyphs: the layout measures a placeholder
        # width, and the browser draws the text with a CJK font of the list.
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        fig.savefig(
            buffer,
            format="svg",
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    text = text.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    text = text.replace("xlink:href=", "href=")
    # Group ids (figure_1, axes_1 ...) repeat in every chart: keep only the
    # referenced ones (clip paths, markers), which the salt makes unique.
    used = set(re.findall(r"url\(#([^)]+)\)", text)) | set(re.findall(r'href="#([^"]+)"', text))
    return re.sub(r'\sid="([^"]+)"', lambda m: m.group(0) if m.group(1) in used else "", text)


def _time_axis(ax: Axes, timezone: str, label: str) -> None:
    import matplotlib.dates as mdates

    from energyopt.data.format import load_timezone

    tz = load_timezone(timezone)
    # minticks=3: with the default 5 some spans (4 h) find no interval and warn.
    locator = mdates.AutoDateLocator(tz=tz, minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    # Numeric dates (no English month names in a Chinese report).
    formatter = mdates.ConciseDateFormatter(
        locator,
        tz=tz,
        formats=["%Y", "%m", "%d", "%H:%M", "%H:%M", "%S.%f"],
        zero_formats=["", "%Y", "%m-%d", "%m-%d", "%H:%M", "%H:%M"],
        offset_formats=["", "%Y", "%Y-%m", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d %H:%M"],
    )
    ax.xaxis.set_major_formatter(formatter)
    ax.set_xlabel(label)


def _plot(ax: Axes, line: Line) -> None:
    t, y = minmax_decimate(line.time_ms, line.values, PLOT_BUCKETS)
    ax.plot(t.astype("datetime64[ms]"), y, color=line.colour, label=line.label)


def _tick(value: float, _position: int | None = None) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000.0 else f"{value:.6g}"


def panel_svg(panel: Panel, *, timezone: str, time_label: str, salt: str) -> str:
    """Draw one variable over time with its normal band and hard limits.

    Parameters
    ----------
    panel : Panel
        What to draw.
    timezone : str
        IANA zone of the time axis.
    time_label : str
        X-axis label.
    salt : str
        Unique id salt of this chart in the page.

    Returns
    -------
    str
        Inline SVG.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    with mpl.rc_context(_rc(salt)):
        fig = Figure(figsize=(6.4, 2.5))
        fig.subplots_adjust(left=0.15, right=0.98, top=0.86, bottom=0.2)
        ax = fig.add_subplot()
        if panel.normal is not None:
            ax.axhspan(*panel.normal, color="#59a14f", alpha=0.12, linewidth=0)
        if panel.hard is not None:
            for limit in panel.hard:
                ax.axhline(limit, color="#e15759", linestyle="--", linewidth=0.9)
        for line in panel.lines:
            _plot(ax, line)
        ax.set_title(panel.title, loc="left")
        ax.set_ylabel(panel.unit)
        # Plain numbers with thousands separators: no "1e6" offset text to miss.
        ax.yaxis.set_major_formatter(FuncFormatter(_tick))
        _time_axis(ax, timezone, time_label)
        if len(panel.lines) > 1:
            ax.legend(
                loc="lower right",
                bbox_to_anchor=(1.0, 1.0),
                fontsize=7.5,
                frameon=False,
                ncols=len(panel.lines),
                borderaxespad=0.1,
            )
        return figure_svg(fig)


def lines_svg(
    lines: Sequence[Line],
    *,
    title: str,
    y_label: str,
    timezone: str,
    time_label: str,
    salt: str,
) -> str:
    """Draw several series on one time axis (cost over time, measured vs predicted).

    Parameters
    ----------
    lines : sequence of Line
        The series.
    title, y_label : str
        Chart title and y-axis label.
    timezone : str
        IANA zone of the time axis.
    time_label : str
        X-axis label.
    salt : str
        Unique id salt of this chart in the page.

    Returns
    -------
    str
        Inline SVG.
    """
    return panel_svg(
        Panel(title, y_label, lines), timezone=timezone, time_label=time_label, salt=salt
    )
