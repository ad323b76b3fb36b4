"""Global error handling of the desktop app: never a crash, always a message.

- An :class:`~energyopt.errors.EnergyoptError` (a broken file, an infeasible
  problem) is the user's to fix: a dialog shows its message.
- Any other exception is a bug: its traceback goes to a rotating log file under
  ``platformdirs.user_log_dir("energyopt")`` and a dialog names that file.
- Qt's own warnings and criticals are written to the same log.

:class:`ErrorReporter.install` routes ``sys.excepthook`` (exceptions escaping
Qt slots and event handlers), ``threading.excepthook`` and Qt's message
handler through the reporter.  Reports from other threads are queued to the
GUI thread.  Dialogs are window-modal but non-blocking (``QMessageBox.open``),
so the event loop keeps running, and at most :data:`MAX_OPEN_DIALOGS` are open
at a time (an exception raised in a loop is logged, not shown a hundred times).
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtCore import (
    QMessageLogContext,
    QObject,
    QtMsgType,
    Signal,
    Slot,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from energyopt.errors import EnergyoptError
from energyopt.runtime import APP_NAME

__all__ = ["LOG_FILE_NAME", "MAX_OPEN_DIALOGS", "ErrorReporter", "default_log_dir"]

log = logging.getLogger(__name__)

LOG_FILE_NAME = "energyopt-gui.log"
"""Name of the log file inside the log folder."""
MAX_OPEN_DIALOGS = 3
"""Error dialogs open at once; further reports are only logged. [-]"""
LOG_MAX_BYTES, LOG_BACKUPS = 1 << 20, 3
"""Size at which the log file rotates, and rotated files kept. [B], [-]"""

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def default_log_dir() -> Path:
    """Return the per-user log folder of energyopt (platformdirs)."""
    from platformdirs import user_log_path

    return user_log_path(APP_NAME, appauthor=False)


class ErrorReporter(QObject):
    """Shows errors as dialogs and logs unexpected ones to a rotating file.

    Parameters
    ----------
    log_dir : path-like, optional
        Folder of the log file; :func:`default_log_dir` if omitted.  Created
        when the first record is written.
    parent : QObject, optional
        Qt parent.
    """

    dialog_shown = Signal(str, str)
    """Title and text of each dialog shown (also emitted when only logged)."""
    _reported = Signal(object, str)  # queued hop to the GUI thread

    def __init__(self, log_dir: str | Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_path = Path(log_dir if log_dir is not None else default_log_dir()) / LOG_FILE_NAME
        """The log file of unexpected errors."""
        self.dialog_parent: QWidget | None = None
        """Window the dialogs are modal to (the main window), ``None`` for none."""
        self._handler: logging.Handler | None = None
        self._dialogs: list[QMessageBox] = []
        self._previous: tuple[Any, Any] | None = None
        self._reported.connect(self._show)

    # ------------------------------------------------------------ logging
    def _ensure_handler(self) -> None:
        if self._handler is None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            handler = RotatingFileHandler(
                self.log_path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
            )
            handler.setLevel(logging.WARNING)
            handler.setFormatter(
                logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
            )
            logging.getLogger().addHandler(handler)
            self._handler = handler

    # ------------------------------------------------------------ install
    def install(self) -> None:
        """Route uncaught exceptions and Qt messages through this reporter."""
        self._ensure_handler()
        self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.excepthook
        threading.excepthook = self._thread_excepthook
        qInstallMessageHandler(self._qt_message)

    def uninstall(self) -> None:
        """Restore the previous hooks and close the log file."""
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous
            self._previous = None
            qInstallMessageHandler(None)
        if self._handler is not None:
            logging.getLogger().removeHandler(self._handler)
            self._handler.close()
            self._handler = None
        for dialog in list(self._dialogs):
            dialog.close()

    # ------------------------------------------------------------- hooks
    def excepthook(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        """``sys.excepthook`` replacement: report instead of printing or aborting."""
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        self.report(exc.with_traceback(tb))

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            self.report(args.exc_value.with_traceback(args.exc_traceback))

    def _qt_message(self, mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
        where = f" ({context.file}:{context.line})" if context.file else ""
        logging.getLogger("qt").log(_QT_LEVELS.get(mode, logging.WARNING), "%s%s", message, where)

    # ------------------------------------------------------------ report
    def report(self, exc: BaseException, title: str = "") -> None:
        """Report an exception: a dialog, and the log for an unexpected one.

        Safe to call from any thread (the dialog opens on the GUI thread).

        Parameters
        ----------
        exc : BaseException
            The exception.
        title : str
            Dialog title (translated); a generic one if empty.
        """
        if not isinstance(exc, EnergyoptError):
            self._ensure_handler()
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            log.error("unexpected error:\n%s", text)
        self._reported.emit(exc, title)

    @Slot(object, str)
    def _show(self, exc: BaseException, title: str) -> None:
        if isinstance(exc, EnergyoptError):
            title = title or self.tr("Error")
            text = str(exc)
        else:
            title = title or self.tr("Unexpected error")
            text = (
                self.tr("An unexpected error occurred: %1\n\nDetails were written to:\n%2")
                .replace("%1", f"{type(exc).__name__}: {exc}")
                .replace("%2", str(self.log_path))
            )
        self.dialog_shown.emit(title, text)
        self._dialogs = [d for d in self._dialogs if d.isVisible()]
        if len(self._dialogs) >= MAX_OPEN_DIALOGS:
            log.warning("error dialog not shown (too many open): %s: %s", title, text)
            return
        dialog = QMessageBox(
            QMessageBox.Icon.Critical,
            title,
            text,
            QMessageBox.StandardButton.Ok,
            self.dialog_parent,
        )
        dialog.setObjectName("energyopt_error_dialog")
        dialog.finished.connect(lambda _result: self._closed(dialog))
        self._dialogs.append(dialog)
        dialog.open()

    def _closed(self, dialog: QMessageBox) -> None:
        if dialog in self._dialogs:
            self._dialogs.remove(dialog)
        dialog.deleteLater()

    @property
    def open_dialogs(self) -> list[QMessageBox]:
        """The error dialogs currently open."""
        return [d for d in self._dialogs if d.isVisible()]
