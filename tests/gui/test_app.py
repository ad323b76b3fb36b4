"""The main window: open files, broken files as dialogs, session restore, panels, --smoke."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel

from gui.app import main
from gui.main_window import PANEL_SLOTS
from gui.settings import AppSettings

pytestmark = pytest.mark.gui


def test_open_demo_project_and_history(make_window, demo_files, qtbot, errors):
    project, history = demo_files
    window = make_window(restore_session=False)
    assert window.open_project(project)
    assert window.open_historian(history)
    assert {"project", "media", "units", "bindings"} <= set(window.project_view.top_level_keys())
    assert "BFG.HOLDER.LEVEL" in window.tag_browser.visible_tags()
    assert "steelworks.toml" in window.windowTitle()
    assert "history.h5" in window.windowTitle()
    assert window.replay_label.text().startswith("Replay time: ")
    # The quality scan runs in a worker; wait for it before the leak check.
    qtbot.waitUntil(lambda: not window.workers.active, timeout=20_000)
    assert window.session.historian.scanned
    assert not errors.open_dialogs


def test_broken_files_show_the_error_message(make_window, tmp_path, qtbot, errors):
    bad_toml = tmp_path / "plant.toml"
    bad_toml.write_text("[project\nname = 1\n", encoding="utf-8")
    bad_h5 = tmp_path / "history.h5"
    bad_h5.write_text("not an HDF5 file", encoding="utf-8")
    window = make_window(restore_session=False)
    shown: list[tuple[str, str]] = []
    errors.dialog_shown.connect(lambda title, text: shown.append((title, text)))
    assert not window.open_project(bad_toml)
    assert not window.open_historian(bad_h5)
    qtbot.waitUntil(lambda: len(errors.open_dialogs) == 2)
    assert [title for title, _ in shown] == ["Cannot open project", "Cannot open historian file"]
    assert "plant.toml" in shown[0][1]
    assert "history.h5" in shown[1][1]
    dialogs = errors.open_dialogs
    assert [d.text() for d in dialogs] == [text for _, text in shown]
    # The dialogs do not block: the test closes them.
    for dialog in dialogs:
        dialog.accept()
    qtbot.waitUntil(lambda: not errors.open_dialogs)
    # Nothing was shown from the broken files.
    assert window.project_view.topLevelItemCount() == 0
    assert window.tag_browser.visible_tags() == []
    assert window.session.recent_projects.paths == []


def test_recent_files_and_session_restored_in_a_new_window(
    make_window, demo_files, qtbot, settings_path
):
    project, history = demo_files
    first = make_window(project=project, historian=history)
    qtbot.waitUntil(lambda: not first.workers.active, timeout=20_000)
    span = first.session.historian.time_span_ms
    replay = span[0] + 3 * 3_600_000
    first.session.replay_time_ms = replay
    first.docks["trends"].setFloating(False)
    first.docks["tags"].hide()
    first.resize(640, 480)  # inside the offscreen screen (restoreGeometry clamps to it)
    first_size = first.size()
    first.close()
    stored = AppSettings.from_ini(settings_path).last_session()
    assert stored.project_path == project.absolute()
    assert stored.historian_path == history.absolute()
    assert stored.replay_time_ms == replay

    second = make_window()  # no files given: the last session comes back
    assert second.session.project_path == project.absolute()
    assert second.session.historian.path == history.absolute()
    assert second.session.replay_time_ms == replay
    assert second.session.recent_projects.paths == [project.absolute()]
    assert second.session.recent_historians.paths == [history.absolute()]
    recent = [a.text() for a in second.menu_recent_projects.actions() if a.text()]
    assert recent[0] == str(project.absolute())
    assert second.size() == first_size
    assert second.docks["tags"].isHidden()
    qtbot.waitUntil(lambda: not second.workers.active, timeout=20_000)


def test_missing_files_of_the_last_session_do_not_raise_dialogs(
    make_window, tmp_path, settings_path, errors
):
    settings = AppSettings.from_ini(settings_path)
    from energyopt.appstate import SessionSnapshot

    settings.save_session(SessionSnapshot(tmp_path / "gone.toml", tmp_path / "gone.h5", 0))
    window = make_window()
    assert window.session.project is None
    assert window.session.historian is None
    assert "gone.h5" in window.statusBar().currentMessage()
    assert not errors.open_dialogs


def test_register_panel_fills_a_slot_or_adds_a_dock(make_window):
    window = make_window(restore_session=False)
    assert set(PANEL_SLOTS) <= set(window.docks)
    assert window.docks["trends"].widget() is window.trends_dock  # the window's own panel
    trends = QLabel("trend plot")
    dock = window.register_panel("trends", trends)
    assert dock is window.docks["trends"]
    assert dock.widget() is trends
    assert dock.windowTitle() == "Trends"
    extra = QLabel("kpis")
    kpi_dock = window.register_panel("kpis", extra, title="KPIs")
    assert kpi_dock.objectName() == "dock_kpis"
    assert kpi_dock.windowTitle() == "KPIs"
    assert kpi_dock.toggleViewAction() in window._view_menu.actions()


def test_smoke_start_opens_and_exits_cleanly(demo_files, tmp_path, capsys, monkeypatch):
    from plant_models.core.codegen import KERNEL_DIR_ENV

    # main() must not write into the user's log and cache folders.
    monkeypatch.setattr("gui.errors.default_log_dir", lambda: tmp_path / "log")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    monkeypatch.setenv(KERNEL_DIR_ENV, str(tmp_path / "kernels"))
    project, history = demo_files
    settings = tmp_path / "smoke.ini"
    assert main(["--smoke", "--settings", str(settings), str(project), str(history)]) == 0
    assert AppSettings.from_ini(settings).last_session().historian_path == history.absolute()
    bad = tmp_path / "bad.toml"
    bad.write_text("nonsense = [", encoding="utf-8")
    assert main(["--smoke", "--no-restore", "--settings", str(settings), str(bad)]) == 1
    assert "bad.toml" in capsys.readouterr().err
    assert (tmp_path / "log" / "energyopt-gui.log").exists()  # the log went to tmp_path
