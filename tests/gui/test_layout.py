"""Main-window layout: fits a 1366x768 screen, every panel reachable, restored on reopen."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QStyle, QWidget

from gui.main_window import PANEL_SLOTS
from gui.settings import AppSettings
from gui.window_layout import (
    CENTRE_MINIMUM_SHARE,
    DEFAULT_WINDOW_SIZE,
    LAYOUT_VERSION,
    PANEL_MINIMUM_CAP,
    PANEL_MINIMUM_FLOOR,
    default_window_size,
    limit_minimum_size,
    side_widths,
)

pytestmark = pytest.mark.gui

#: The small workstation screen the window must fit, less a task bar (40 px) and a
#: window-manager title bar (30 px), the usual desktop furniture. [px]
SMALL_SCREEN = QSize(1366, 768 - 40 - 30)

_Area = Qt.DockWidgetArea


def _tab_group(window, name: str) -> set[str]:
    dock = window.docks[name]
    names = {n for n, d in window.docks.items() if d in window.tabifiedDockWidgets(dock)}
    return names | {name}


@pytest.mark.slow  # about 11 s: the window's background loads and scan of the demo
def test_fits_a_1366x768_screen_with_files_open(make_window, demo_files, qtbot) -> None:
    project, history = demo_files
    window = make_window(project=project, historian=history, restore_session=False)
    window.show()
    # The trends, flows and quality scan loaded (their panels at full content).
    qtbot.waitUntil(lambda: not window.workers.active, timeout=60_000)
    assert window.plant_views.trends
    hint = window.minimumSizeHint()
    assert hint.width() <= SMALL_SCREEN.width(), hint
    assert hint.height() <= SMALL_SCREEN.height(), hint
    window.close()


def test_docks_sharing_an_area_are_tabs(make_window, qtbot) -> None:
    window = make_window(restore_session=False)
    window.show()  # Qt reports some tab groups only once laid out
    qtbot.waitExposed(window)
    assert _tab_group(window, "project") == {"project", "tags"}
    assert _tab_group(window, "trends") == {"trends", "flows"}
    assert _tab_group(window, "model") == {"model", "kpis", "tuning"}
    assert _tab_group(window, "recommendations") == {"recommendations"}
    assert window.dockWidgetArea(window.docks["project"]) == _Area.LeftDockWidgetArea
    assert window.dockWidgetArea(window.docks["recommendations"]) == _Area.RightDockWidgetArea
    assert window.dockWidgetArea(window.docks["model"]) == _Area.RightDockWidgetArea
    assert window.dockWidgetArea(window.docks["replay"]) == _Area.BottomDockWidgetArea


def test_every_panel_is_reachable_from_the_view_menu(make_window, qtbot) -> None:
    window = make_window(restore_session=False)
    window.show()
    qtbot.waitExposed(window)
    assert set(PANEL_SLOTS) | {"project", "tags"} <= set(window.docks)
    actions = {a.text(): a for a in window._view_menu.actions() if a.text()}
    for name, dock in window.docks.items():
        assert not dock.isFloating()
        assert dock.windowTitle() in actions, name
        dock.raise_()  # the tab in front
        qtbot.waitUntil(lambda d=dock: d.widget().isVisible())
        assert dock.widget().width() > 0
        assert dock.widget().height() > 0
    window.docks["kpis"].close()
    assert not window.docks["kpis"].isVisible()
    actions[window.docks["kpis"].windowTitle()].trigger()  # shown again from the menu
    assert window.docks["kpis"].isVisible()
    window.close()


def test_growing_panel_does_not_grow_the_window(make_window, qtbot) -> None:
    window = make_window(restore_session=False)
    window.show()
    qtbot.waitExposed(window)
    before = window.minimumSizeHint()
    panel = window.model_panel
    huge = QWidget(panel)
    huge.setMinimumSize(3000, 3000)  # a panel whose content wants far more room
    panel.layout().addWidget(huge)
    panel.updateGeometry()
    qtbot.wait(10)
    assert window.minimumSizeHint() == before
    window.close()


def test_layout_restored_after_reopen_and_reset(make_window, settings_path, qtbot) -> None:
    first = make_window(restore_session=False)
    first.show()
    qtbot.waitExposed(first)
    first.splitDockWidget(first.docks["project"], first.docks["tags"], Qt.Orientation.Vertical)
    first.docks["replay"].hide()
    first.close()

    second = make_window(restore_session=False)
    second.show()
    qtbot.waitExposed(second)
    assert _tab_group(second, "project") == {"project"}  # the user's split kept
    assert second.docks["replay"].isHidden()
    assert _tab_group(second, "model") == {"model", "kpis", "tuning"}

    second.action_reset_layout.trigger()
    assert _tab_group(second, "project") == {"project", "tags"}
    assert not second.docks["replay"].isHidden()
    second.close()


def test_a_layout_of_another_version_is_ignored(make_window, settings_path, qtbot) -> None:
    first = make_window(restore_session=False)
    first.splitDockWidget(first.docks["project"], first.docks["tags"], Qt.Orientation.Vertical)
    settings = AppSettings.from_ini(settings_path)
    settings.save_window(first.saveGeometry(), first.saveState(LAYOUT_VERSION - 1))
    first.deleteLater()
    second = make_window(restore_session=False)
    second.show()
    qtbot.waitExposed(second)
    assert _tab_group(second, "project") == {"project", "tags"}  # the default arrangement
    second.close()


def test_new_panel_in_the_right_area_becomes_a_tab(make_window) -> None:
    window = make_window(restore_session=False)
    dock = window.register_panel("tuning", QLabel("tuning"), title="Tuning")
    assert _tab_group(window, "tuning") == {"model", "kpis", "tuning"}
    bottom = window.register_panel("log", QLabel("log"), area=_Area.BottomDockWidgetArea)
    assert window.tabifiedDockWidgets(bottom) == []  # no group there: a dock of its own
    assert dock.windowTitle() == "Tuning"
    titles = [a.text() for a in window._view_menu.actions()]
    assert titles.index("Tuning") < titles.index("&Reset layout")  # panels above the reset


def test_limit_minimum_size_between_floor_and_cap(qtbot) -> None:
    big, small = QWidget(), QLabel("x")
    qtbot.addWidget(big)
    qtbot.addWidget(small)
    big.setMinimumSize(2000, 1000)
    assert limit_minimum_size(big) == PANEL_MINIMUM_CAP
    assert big.minimumSize() == PANEL_MINIMUM_CAP
    assert limit_minimum_size(small) == PANEL_MINIMUM_FLOOR


def test_default_window_size_within_the_screen(qtbot) -> None:
    assert default_window_size(None) == DEFAULT_WINDOW_SIZE
    widget = QWidget()
    qtbot.addWidget(widget)
    screen = widget.screen()
    available = screen.availableGeometry().size()
    size = default_window_size(screen)
    assert size.width() <= min(DEFAULT_WINDOW_SIZE.width(), available.width())
    assert size.height() <= min(DEFAULT_WINDOW_SIZE.height(), available.height())
    assert size.width() >= min(DEFAULT_WINDOW_SIZE.width(), int(0.95 * available.width())) - 1


@pytest.mark.parametrize("size", [None, (1024, 700), (1366, 768)])
def test_the_trends_keep_their_share_of_a_small_window(make_window, qtbot, size) -> None:
    window = make_window(restore_session=False)
    if size is not None:  # None: the new window's size (offscreen: the --smoke window)
        window.resize(*size)
        window.reset_layout()
    window.show()
    qtbot.waitExposed(window)
    width = window.width()
    assert size is None or width == size[0]
    docks = window.docks
    left, centre, right = (docks[n].width() for n in ("project", "trends", "recommendations"))
    # The columns and their two splitters fill the window: the widths measured are real.
    separator = window.style().pixelMetric(QStyle.PixelMetric.PM_DockWidgetSeparatorExtent)
    assert left + centre + right + 2 * separator == width
    assert centre >= CENTRE_MINIMUM_SHARE * width, (left, centre, right)
    assert docks["model"].width() == right  # below the recommendations
    assert min(left, right) >= PANEL_MINIMUM_FLOOR.width()
    if size == (1024, 700):
        # The model panel (the right column's front tab) still has room for its content.
        assert right >= window.model_panel.layout().minimumSize().width()
    if size == (1366, 768):
        # Room enough: no right-hand panel is narrower than its content (up to the cap).
        for panel in (window.model_panel, window.tuning_panel, window.recommendations_panel):
            content = panel.layout().minimumSize().width()
            assert right >= min(content, PANEL_MINIMUM_CAP.width()), panel
    window.close()


def test_a_reset_in_a_wider_window_gives_the_panels_their_minimum_back(make_window, qtbot):
    window = make_window(restore_session=False)
    tuning = window.tuning_panel
    window.resize(1600, 900)
    window.reset_layout()
    frozen = tuning.minimumWidth()
    assert frozen > 482  # wider than what 1024 px leaves it (below)
    window.resize(1024, 700)
    window.reset_layout()
    separator = window.style().pixelMetric(QStyle.PixelMetric.PM_DockWidgetSeparatorExtent)
    # At most 60 % of 1024 px less two splitters and the left column (at least the floor).
    assert tuning.minimumWidth() <= int(0.6 * 1024) - 2 * separator - PANEL_MINIMUM_FLOOR.width()
    window.resize(1600, 900)
    window.reset_layout()
    assert tuning.minimumWidth() == frozen


def test_side_widths_share_the_budget():
    fractions = [0.14, 0.36]
    assert side_widths([120, 400], fractions, 602) == [120, 400]  # fits: unchanged
    # The left fits its share (602 * 0.28 = 168.6 px): the right takes the rest.
    assert side_widths([120, 640], fractions, 602) == [120, 482]
    # Neither fits: shared in proportion, 168.56 and 433.44 px rounded down.
    assert side_widths([300, 640], fractions, 602) == [168, 433]
    # Never below the floor (the window is then simply too small for the share).
    assert side_widths([300, 640], fractions, 100) == [PANEL_MINIMUM_FLOOR.width()] * 2
    assert side_widths([100, 640], [1.0, 1.0], 300) == [100, 200]
