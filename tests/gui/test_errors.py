"""Error handling: user errors as dialogs, bugs logged to a file named in the dialog."""

from __future__ import annotations

import sys
import threading

import pytest

from energyopt.errors import ProjectError
from gui.errors import MAX_OPEN_DIALOGS, ErrorReporter

pytestmark = pytest.mark.gui


def close_all(reporter, qtbot):
    for dialog in reporter.open_dialogs:
        dialog.accept()
    qtbot.waitUntil(lambda: not reporter.open_dialogs)


def test_energyopt_error_shows_its_message_and_is_not_logged(errors, qtbot):
    shown = []
    errors.dialog_shown.connect(lambda title, text: shown.append((title, text)))
    errors.report(ProjectError("plant.toml: line 3: expected '='"), "Cannot open project")
    qtbot.waitUntil(lambda: len(errors.open_dialogs) == 1)
    assert shown == [("Cannot open project", "plant.toml: line 3: expected '='")]
    assert errors.open_dialogs[0].text() == "plant.toml: line 3: expected '='"
    assert not errors.log_path.exists()
    close_all(errors, qtbot)


def test_unexpected_exception_is_logged_with_traceback_and_path_shown(errors, qtbot):
    def buggy():
        return {}["missing"]

    try:
        buggy()
    except KeyError as exc:
        errors.report(exc)
    qtbot.waitUntil(lambda: len(errors.open_dialogs) == 1)
    text = errors.open_dialogs[0].text()
    assert "KeyError" in text
    assert str(errors.log_path) in text
    errors.uninstall()  # flushes and closes the log file
    log = errors.log_path.read_text(encoding="utf-8")
    assert "unexpected error" in log
    assert "in buggy" in log  # the traceback, not only the message


def test_hooks_catch_exceptions_from_slots_and_threads(tmp_path, qtbot):
    reporter = ErrorReporter(log_dir=tmp_path / "hooks")
    previous = sys.excepthook
    reporter.install()
    try:
        assert sys.excepthook == reporter.excepthook

        def slot():
            raise RuntimeError("boom in a slot")

        try:
            slot()
        except RuntimeError:
            sys.excepthook(*sys.exc_info())

        def thread_body():
            raise ValueError("boom in a thread")

        thread = threading.Thread(target=thread_body)
        thread.start()
        thread.join()
        # The thread's report hops to the GUI thread through a queued signal.
        qtbot.waitUntil(lambda: len(reporter.open_dialogs) == 2)
        texts = [d.text() for d in reporter.open_dialogs]
        assert any("boom in a slot" in t for t in texts)
        assert any("boom in a thread" in t for t in texts)
    finally:
        reporter.uninstall()
    assert sys.excepthook is previous
    log = reporter.log_path.read_text(encoding="utf-8")
    assert "boom in a slot" in log
    assert "boom in a thread" in log


def test_qt_warnings_go_to_the_log(tmp_path):
    from PySide6.QtCore import qWarning

    reporter = ErrorReporter(log_dir=tmp_path / "qt")
    reporter.install()
    try:
        qWarning("a Qt warning for the log")
    finally:
        reporter.uninstall()
    assert "a Qt warning for the log" in reporter.log_path.read_text(encoding="utf-8")


def test_a_flood_of_errors_opens_few_dialogs(errors, qtbot):
    shown = []
    errors.dialog_shown.connect(lambda title, text: shown.append(text))
    for i in range(10):
        errors.report(ProjectError(f"problem {i}"))
    qtbot.waitUntil(lambda: len(shown) == 10)
    assert len(errors.open_dialogs) == MAX_OPEN_DIALOGS
    close_all(errors, qtbot)
