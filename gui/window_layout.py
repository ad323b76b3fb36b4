"""Default dock layout of the main window, for a process engineer's workstation.

The arrangement (1920x1080 in mind, still usable on 1366x768)::

    +----------+------------------------+-------------------+
    | Project  | Trends | Energy flows  | Recommendations   |
    | | Tags   |   (tabs, the large    +-------------------+
    | (tabs)   |    central area)      | Model | KPI dash- |
    |          |                       | board | (tabs)    |
    +----------+------------------------+-------------------+
    | Replay clock (full width, one row)                    |
    +-------------------------------------------------------+

The central column keeps at least :data:`CENTRE_MINIMUM_SHARE` of the
window's width when the layout is (re)made, even in a small window (1024x700,
the offscreen ``--smoke`` window): the side columns' panels get their
minimum widths lowered to fit (their content is clipped rather than the
trends squeezed to a sliver); a wider window gives them their frozen
minimum again at the next reset.

Docks sharing an area are tabs, so the window's minimum size is the largest
panel of a group instead of the sum.  Every panel's minimum size is frozen
when it is put into the window (:func:`limit_minimum_size`): a panel whose
content grows later (a fitted model, a loaded history) is clipped inside its
dock instead of pushing the window larger and re-laying out (and repainting)
every other dock.

The layout is saved with :data:`LAYOUT_VERSION`; a layout saved by a version
with another arrangement is ignored and this default used instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QStyle, QTabBar

if TYPE_CHECKING:
    from PySide6.QtGui import QScreen
    from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

__all__ = [
    "CENTRE_MINIMUM_SHARE",
    "DEFAULT_WINDOW_SIZE",
    "LAYOUT_VERSION",
    "PANEL_MINIMUM_CAP",
    "PANEL_MINIMUM_FLOOR",
    "arrange_default_layout",
    "default_window_size",
    "limit_minimum_size",
    "side_widths",
    "tab_group_for",
]

LAYOUT_VERSION = 2
"""Version of the dock arrangement given to ``saveState``/``restoreState``. [-]"""

PANEL_MINIMUM_CAP = QSize(640, 300)
"""Largest minimum size a panel may impose on its dock. [px]"""

PANEL_MINIMUM_FLOOR = QSize(120, 40)
"""Smallest minimum size of a panel (a dock cannot be squeezed to nothing). [px]"""

DEFAULT_WINDOW_SIZE = QSize(1600, 900)
"""Size of a new window when the screen has room for it. [px]"""

CENTRE_MINIMUM_SHARE = 0.4
"""Least share of the window's width the central (trends) column gets in the default layout. [-]"""

#: Fraction of the screen's available area a new window takes at most. [-]
_SCREEN_FRACTION = 0.95

_Area = Qt.DockWidgetArea
_H = Qt.Orientation.Horizontal
_V = Qt.Orientation.Vertical

#: Initial widths of the left, centre and right columns, as fractions of the window. [-]
_COLUMN_FRACTIONS = (0.14, 0.5, 0.36)
_SIDE_FRACTIONS = (_COLUMN_FRACTIONS[0], _COLUMN_FRACTIONS[2])
#: Initial height of the recommendations above the model tabs, as fraction of the column. [-]
_RECOMMENDATIONS_FRACTION = 0.55
#: Dynamic property holding a panel's minimum width as frozen by limit_minimum_size. [px]
_FROZEN_WIDTH = "energyopt_frozen_minimum_width"


def limit_minimum_size(widget: QWidget) -> QSize:
    """Freeze a panel's minimum size between the floor and the cap.

    An explicit minimum size takes precedence over the panel's minimum size
    hint in Qt's layouts, so content growing later no longer grows the dock
    (nor the window).

    Parameters
    ----------
    widget : QWidget
        The panel.

    Returns
    -------
    QSize
        The minimum size set. [px]
    """
    wanted = widget.minimumSize().expandedTo(widget.minimumSizeHint())
    size = wanted.boundedTo(PANEL_MINIMUM_CAP).expandedTo(PANEL_MINIMUM_FLOOR)
    widget.setMinimumSize(size)
    widget.setProperty(_FROZEN_WIDTH, size.width())  # the default layout may lower it
    return size


def default_window_size(screen: QScreen | None) -> QSize:
    """Size of a new window: :data:`DEFAULT_WINDOW_SIZE` within the screen's available area.

    Parameters
    ----------
    screen : QScreen or None
        The window's screen; the default size if ``None``.

    Returns
    -------
    QSize
        Window size. [px]
    """
    if screen is None:
        return QSize(DEFAULT_WINDOW_SIZE)
    available = screen.availableGeometry().size()
    room = QSize(
        int(available.width() * _SCREEN_FRACTION), int(available.height() * _SCREEN_FRACTION)
    )
    return DEFAULT_WINDOW_SIZE.boundedTo(room)


def tab_group_for(area: Qt.DockWidgetArea) -> tuple[str, ...]:
    """Names of the docks a new panel in ``area`` becomes a tab of (first present wins).

    Parameters
    ----------
    area : Qt.DockWidgetArea
        Where the new panel goes.

    Returns
    -------
    tuple of str
        Candidate dock names, most preferred first; empty: a dock of its own.
    """
    groups = {
        _Area.RightDockWidgetArea: ("model", "kpis"),
        _Area.LeftDockWidgetArea: ("project", "tags"),
        _Area.TopDockWidgetArea: ("trends", "flows"),
    }
    return groups.get(area, ())


def arrange_default_layout(window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
    """Arrange the built-in docks as in the module description; other docks stay as they are.

    Parameters
    ----------
    window : QMainWindow
        The main window.
    docks : dict of str to QDockWidget
        The window's docks by panel name (``"project"``, ``"tags"``,
        ``"trends"``, ``"flows"``, ``"recommendations"``, ``"model"``,
        ``"kpis"``, ``"replay"``); missing ones are skipped.
    """
    # From a clean slate: re-arranging docks in place leaves stale tab bars behind.
    for dock in docks.values():
        window.removeDockWidget(dock)
        dock.setFloating(False)

    def get(name: str) -> QDockWidget | None:
        return docks.get(name)

    left, tags = get("project"), get("tags")
    centre, flows = get("trends"), get("flows")
    right, model, kpis = get("recommendations"), get("model"), get("kpis")
    replay = get("replay")
    # The side columns' minimum widths first: lowered once the docks are placed, a
    # tab group keeps its former width beyond the window's edge until the next layout.
    built_in = (left, tags, centre, flows, replay)
    sides = [
        [d for d in (left, tags) if d is not None],
        [d for d in docks.values() if d not in built_in],  # the right area's docks
    ]
    columns = (left, centre, right)
    side_minimums = _fit_side_minimums(window, sides, sum(d is not None for d in columns))
    # Splits first, tabs after: splitting a dock that is already a tab would add
    # the new dock to its tab group instead of beside it.
    if left is not None:
        window.addDockWidget(_Area.LeftDockWidgetArea, left)
    if centre is not None:
        if left is not None:
            window.splitDockWidget(left, centre, _H)
        else:
            window.addDockWidget(_Area.LeftDockWidgetArea, centre)
    if right is not None:
        window.addDockWidget(_Area.RightDockWidgetArea, right)
    if model is not None:
        if right is not None:
            window.splitDockWidget(right, model, _V)
        else:
            window.addDockWidget(_Area.RightDockWidgetArea, model)
    if replay is not None:
        window.addDockWidget(_Area.BottomDockWidgetArea, replay)
    for group, tab in ((left, tags), (centre, flows), (model, kpis)):
        if group is not None and tab is not None:
            window.tabifyDockWidget(group, tab)
    for dock in docks.values():
        if window.dockWidgetArea(dock) == _Area.NoDockWidgetArea:  # not a built-in one
            window.addDockWidget(_Area.RightDockWidgetArea, dock)
            if model is not None:
                window.tabifyDockWidget(model, dock)
        dock.show()
    for front in (left, centre, model):
        if front is not None:
            front.raise_()
    _size_columns(window, columns, side_minimums, right, model)


def side_widths(minimums: list[int], fractions: list[float], budget: int) -> list[int]:
    """Widths of side columns that share a budget, each at most its minimum.

    Columns whose minimum fits their share of the budget (in proportion to
    ``fractions``) keep it; the others share the rest in proportion, none
    below :data:`PANEL_MINIMUM_FLOOR`.

    Parameters
    ----------
    minimums : list of int
        Each column's minimum width. [px]
    fractions : list of float
        Each column's share of the window in the default layout. [-]
    budget : int
        Width the side columns may take together. [px]

    Returns
    -------
    list of int
        Each column's width, at most its minimum. [px]
    """
    if sum(minimums) <= budget:
        return list(minimums)
    shares = [budget * f / sum(fractions) for f in fractions]
    fits = [m <= share for m, share in zip(minimums, shares, strict=True)]
    rest = budget - sum(m for m, fit in zip(minimums, fits, strict=True) if fit)
    rest_fraction = sum(f for f, fit in zip(fractions, fits, strict=True) if not fit)
    # Rounded down, but 481.99999... (float division of a whole share) is 482.
    return [
        m if fit else min(m, max(PANEL_MINIMUM_FLOOR.width(), int(rest * f / rest_fraction + 1e-6)))
        for m, f, fit in zip(minimums, fractions, fits, strict=True)
    ]


def _separator_px(window: QMainWindow) -> int:
    """Width of the splitter between two dock columns. [px]."""
    return window.style().pixelMetric(QStyle.PixelMetric.PM_DockWidgetSeparatorExtent, None, window)


def _side_budget(window: QMainWindow, n_columns: int) -> int:
    """Width the side columns may take together, the centre keeping its share. [px]."""
    return int(window.width() * (1.0 - CENTRE_MINIMUM_SHARE)) - _separator_px(window) * max(
        n_columns - 1, 0
    )


def _fit_side_minimums(
    window: QMainWindow, sides: list[list[QDockWidget]], n_columns: int
) -> tuple[int, int]:
    """Lower the side columns' panel minimum widths so the centre keeps its share.

    Each panel's minimum is its frozen one (:func:`limit_minimum_size`) or
    its column's share of the budget (:func:`side_widths`), whichever is less.
    A column of tabs is at least as wide as a tab bar's minimum (its scroll
    buttons).

    Returns
    -------
    tuple of int
        The left and the right column's minimum width (0 for an empty one). [px]
    """
    present = [column for column in sides if column]
    fractions = [f for f, column in zip(_SIDE_FRACTIONS, sides, strict=True) if column]
    tab_bar_px = QTabBar().minimumSizeHint().width()
    frozen = [
        max(*(_frozen_width(dock) for dock in column), tab_bar_px if len(column) > 1 else 0)
        for column in present
    ]
    widths = iter(side_widths(frozen, fractions, _side_budget(window, n_columns)))
    minimums = []
    for column in sides:
        minimum = next(widths) if column else 0
        for dock in column:
            widget = dock.widget()
            if widget is not None:
                widget.setMinimumWidth(min(_frozen_width(dock), minimum))
        minimums.append(minimum)
    return minimums[0], minimums[1]


def _size_columns(
    window: QMainWindow,
    columns: tuple[QDockWidget | None, ...],
    side_minimums: tuple[int, int],
    top_right: QDockWidget | None,
    bottom_right: QDockWidget | None,
) -> None:
    """Give the columns and the right column's rows their initial share of the window.

    The side columns give up width above their minimum when the default
    fractions would leave the centre less than :data:`CENTRE_MINIMUM_SHARE`.
    """
    width, height = window.width(), window.height()
    present = [(dock, f) for dock, f in zip(columns, _COLUMN_FRACTIONS, strict=True) if dock]
    if present:
        wanted = [int(width * f) for _, f in present]
        if len(present) == 3:
            left_px, right_px = _give_way(
                (wanted[0], wanted[2]), side_minimums, _side_budget(window, 3)
            )
            wanted = [left_px, width - left_px - right_px - 2 * _separator_px(window), right_px]
        window.resizeDocks([dock for dock, _ in present], wanted, _H)
    if top_right is not None and bottom_right is not None:
        top = int(height * _RECOMMENDATIONS_FRACTION)
        window.resizeDocks([top_right, bottom_right], [top, height - top], _V)


def _give_way(wanted: tuple[int, int], minimums: tuple[int, int], budget: int) -> tuple[int, int]:
    """Widths of the two side columns: as wanted (at least their minimum), within the budget.

    Width above a column's minimum is given up in proportion when the two
    take more than the budget (the minimums themselves fit it,
    :func:`side_widths`).
    """
    widths = [max(w, m) for w, m in zip(wanted, minimums, strict=True)]
    slack = [w - m for w, m in zip(widths, minimums, strict=True)]
    excess = min(sum(widths) - budget, sum(slack))
    if excess > 0:
        widths = [w - round(excess * s / sum(slack)) for w, s in zip(widths, slack, strict=True)]
    return widths[0], widths[1]


def _frozen_width(dock: QDockWidget) -> int:
    """A dock's panel minimum width as :func:`limit_minimum_size` froze it. [px]."""
    widget = dock.widget()
    if widget is None:
        return PANEL_MINIMUM_FLOOR.width()
    frozen = widget.property(_FROZEN_WIDTH)
    return int(frozen) if isinstance(frozen, int) else widget.minimumWidth()
