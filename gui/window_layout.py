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

if TYPE_CHECKING:
    from PySide6.QtGui import QScreen
    from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

__all__ = [
    "DEFAULT_WINDOW_SIZE",
    "LAYOUT_VERSION",
    "PANEL_MINIMUM_CAP",
    "PANEL_MINIMUM_FLOOR",
    "arrange_default_layout",
    "default_window_size",
    "limit_minimum_size",
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

#: Fraction of the screen's available area a new window takes at most. [-]
_SCREEN_FRACTION = 0.95

_Area = Qt.DockWidgetArea
_H = Qt.Orientation.Horizontal
_V = Qt.Orientation.Vertical

#: Initial widths of the left, centre and right columns, as fractions of the window. [-]
_COLUMN_FRACTIONS = (0.14, 0.5, 0.36)
#: Initial height of the recommendations above the model tabs, as fraction of the column. [-]
_RECOMMENDATIONS_FRACTION = 0.55


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
    _size_columns(window, (left, centre, right), right, model)


def _size_columns(
    window: QMainWindow,
    columns: tuple[QDockWidget | None, ...],
    top_right: QDockWidget | None,
    bottom_right: QDockWidget | None,
) -> None:
    """Give the columns and the right column's rows their initial share of the window."""
    width, height = window.width(), window.height()
    present = [(dock, f) for dock, f in zip(columns, _COLUMN_FRACTIONS, strict=True) if dock]
    if present:
        window.resizeDocks([dock for dock, _ in present], [int(width * f) for _, f in present], _H)
    if top_right is not None and bottom_right is not None:
        top = int(height * _RECOMMENDATIONS_FRACTION)
        window.resizeDocks([top_right, bottom_right], [top, height - top], _V)
