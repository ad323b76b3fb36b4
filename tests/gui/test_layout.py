"""Main-window layout: fits a 1366x768 screen, every panel reachable, restored on reopen."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QWidget

from gui.main_window import PANEL_SLOTS
from gui.settings import AppSettings
from gui.window_layout import (
    DEFAULT_WINDOW_SIZE,
    LAYOUT_VERSION,
    PANEL_MINIMUM_CAP,
    PANEL_MINIMUM_FLOOR,
    default_window_size,
    limit_minimum_size,
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
