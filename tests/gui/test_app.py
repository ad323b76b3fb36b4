"""The desktop window: opens a project and a historian file; user errors become dialogs."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from energyopt.cli import main as cli_main
from gui.app import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert cli_main(["demo", "--out", str(out), "--days", "1"]) == 0
    return out


@pytest.fixture
def window(qtbot, monkeypatch, tmp_path):
    # QSettings must not touch the developer's real settings.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    win = MainWindow()
    qtbot.addWidget(win)
    return win


@pytest.fixture
def dialogs(monkeypatch):
    shown: list[tuple[str, str]] = []

    def critical(parent, title, text, *args, **kwargs):
        shown.append((title, text))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "critical", staticmethod(critical))
    return shown


def test_open_demo_project_and_history(window, demo_dir, dialogs):
    assert window.open_project(demo_dir / "plant.toml")
    assert window.open_historian(demo_dir / "history.h5")
    assert not dialogs
    top = {
        window.project_tree.topLevelItem(i).text(0)
        for i in range(window.project_tree.topLevelItemCount())
    }
    assert {"project", "media", "units", "bindings"} <= top
    tags = {
        window.tag_tree.topLevelItem(i).text(0) for i in range(window.tag_tree.topLevelItemCount())
    }
    assert "BFG.HOLDER.LEVEL" in tags
    assert "plant.toml" in window.windowTitle()


def test_broken_files_show_the_error_message(window, tmp_path, dialogs):
    bad_toml = tmp_path / "plant.toml"
    bad_toml.write_text("[project\nname = 1\n", encoding="utf-8")
    bad_h5 = tmp_path / "history.h5"
    bad_h5.write_text("not an HDF5 file", encoding="utf-8")
    assert not window.open_project(bad_toml)
    assert not window.open_historian(bad_h5)
    assert [title for title, _ in dialogs] == ["Cannot open project", "Cannot open historian file"]
    assert "plant.toml" in dialogs[0][1]
    assert "history.h5" in dialogs[1][1]
    # Nothing was shown from the broken files.
    assert window.project_tree.topLevelItemCount() == 0
    assert window.tag_tree.topLevelItemCount() == 0
