"""Translations: the .ts covers every string, the .qm is compiled from it, live switching."""

from __future__ import annotations

import re
import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from gui.fonts import CJK_FONT_PACKAGE, find_cjk_family
from gui.i18n import LanguageManager, qm_path, ts_path
from gui.i18n.build import compile_ts, update_ts
from gui.settings import AppSettings
from gui.settings_dialog import LANGUAGE_CHOICES, SettingsDialog
from gui.tag_browser import COLUMNS

pytestmark = pytest.mark.gui


def _sources(ts_text: str) -> set[str]:
    return set(re.findall(r"<source>(.*?)</source>", ts_text, flags=re.S))


def _without_comments(ts_text: str) -> str:
    """Drop lupdate's extracomments (taken from nearby ``#:`` code comments: not strings)."""
    return re.sub(r"\s*<extracomment>.*?</extracomment>", "", ts_text, flags=re.S)


def test_ts_covers_every_string_of_the_gui_and_is_translated(tmp_path):
    committed = ts_path("zh_CN").read_text(encoding="utf-8")
    copy = tmp_path / "check_zh_CN.ts"
    shutil.copy(ts_path("zh_CN"), copy)
    update_ts(copy)
    refreshed = copy.read_text(encoding="utf-8")
    missing = _sources(refreshed) - _sources(committed)
    obsolete = _sources(committed) - _sources(refreshed)
    hint = "run `.venv/bin/python -m gui.i18n.build` and translate the new entries"
    assert not missing, f"strings missing from the .ts ({hint}): {sorted(missing)}"
    assert not obsolete, f"strings no longer in the sources ({hint}): {sorted(obsolete)}"
    assert 'type="unfinished"' not in committed, f"untranslated entries ({hint})"
    assert _without_comments(refreshed) == _without_comments(committed), hint


def test_qm_is_compiled_from_the_current_ts(tmp_path):
    fresh = tmp_path / "fresh.qm"
    compile_ts(ts_path("zh_CN"), fresh)
    assert fresh.read_bytes() == qm_path("zh_CN").read_bytes(), (
        "energyopt_zh_CN.qm is stale: run `.venv/bin/python -m gui.i18n.build`"
    )


def test_auto_follows_the_system_locale():
    app = QApplication.instance()
    assert LanguageManager(app, system_locale="zh_CN").resolve("auto") == "zh_CN"
    assert LanguageManager(app, system_locale="en_US").resolve("auto") == "en"
    assert LanguageManager(app, system_locale="en_US").resolve("zh_CN") == "zh_CN"
    with pytest.raises(ValueError, match="unknown UI language"):
        LanguageManager(app, system_locale="en_US").apply("fr")


def test_switch_to_chinese_and_back_without_restart(make_window, settings_path, qtbot):
    window = make_window(restore_session=False)
    header = window.tag_browser.model.headerData
    tag_column = COLUMNS.index("tag")
    assert window.menu_file.title() == "&File"
    window.session.language = "zh_CN"
    assert window.language.language == "zh_CN"
    # Qt posts LanguageChange events to every widget: wait for them.
    qtbot.waitUntil(lambda: window.menu_file.title() == "文件(&F)")
    assert window.docks["tags"].windowTitle() == "位号"
    assert header(tag_column, Qt.Orientation.Horizontal) == "位号"
    assert window.tag_browser.search.placeholderText() == "搜索位号、描述或单位"
    assert window.progress_panel.cancel_button.text() == "取消"
    if find_cjk_family() is None:
        # One clear warning naming the package to install.
        assert CJK_FONT_PACKAGE in window.statusBar().currentMessage()
    else:
        assert find_cjk_family() in QApplication.font().families()
    assert AppSettings.from_ini(settings_path).language() == "zh_CN"
    window.statusBar().clearMessage()
    window.session.language = "en"
    qtbot.waitUntil(lambda: window.menu_file.title() == "&File")
    assert header(tag_column, Qt.Orientation.Horizontal) == "Tag"
    window.session.language = "zh_CN"  # the font warning is shown once per window
    assert CJK_FONT_PACKAGE not in window.statusBar().currentMessage()


def test_settings_dialog_changes_the_language(make_window, qtbot):
    window = make_window(restore_session=False)
    dialog = window.show_settings()
    assert dialog.language_label.text() == "&Language:"
    dialog.language_box.setCurrentIndex(LANGUAGE_CHOICES.index("zh_CN"))
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    assert window.session.language == "zh_CN"
    qtbot.waitUntil(lambda: window.action_settings.text() == "设置(&S)...")
    # The dialog closed and deleted itself (WA_DeleteOnClose).
    qtbot.waitUntil(lambda: not any(isinstance(w, SettingsDialog) for w in window.children()))
    # The next window starts in the stored language.
    second = make_window(restore_session=False)
    assert second.session.language == "zh_CN"
    assert second.menu_file.title() == "文件(&F)"  # built translated, no event needed


def test_cjk_family_preference():
    assert find_cjk_family(["Droid Sans Fallback", "WenQuanYi Micro Hei"]) == "WenQuanYi Micro Hei"
    assert find_cjk_family(["noto sans cjk sc", "SimHei"]) == "noto sans cjk sc"
    assert find_cjk_family(["Some CJK Font"]) == "Some CJK Font"
    assert find_cjk_family([]) is None
