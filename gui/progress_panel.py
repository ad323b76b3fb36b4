"""Status-bar progress display of the running workers: bar, message, time left, cancel."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from gui.workers import ProgressInfo, Worker, WorkerManager

__all__ = ["ProgressPanel", "format_remaining"]

_BAR_STEPS = 1000
"""Resolution of the progress bar (it works in integer steps). [-]"""


def format_remaining(seconds: float) -> str:
    """Format a time left compactly: ``"42 s"``, ``"3 min 5 s"``, ``"1 h 02 min"``."""
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    if total < 3600:
        return f"{total // 60} min {total % 60} s"
    return f"{total // 3600} h {total % 3600 // 60:02d} min"


class ProgressPanel(QWidget):
    """Shows the progress of the newest running worker; cancel stops every worker.

    Parameters
    ----------
    manager : WorkerManager
        The workers to follow.
    parent : QWidget, optional
        Qt parent.
    """

    def __init__(self, manager: WorkerManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._manager = manager
        self._current: Worker | None = None
        self._last: ProgressInfo | None = None
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(200)
        self.bar.setRange(0, 0)
        self.cancel_button = QToolButton()
        self.cancel_button.clicked.connect(manager.cancel_all)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        manager.started.connect(self._follow)
        manager.busy_changed.connect(self.setVisible)
        self.setVisible(False)
        self._retranslate()

    def _follow(self, worker: Worker) -> None:
        self._current = worker
        self._last = None
        self.bar.setRange(0, 0)  # busy indicator until the first report
        worker.progressed.connect(lambda info: self._on_progress(worker, info))
        self._show_text()

    def _on_progress(self, worker: Worker, info: ProgressInfo) -> None:
        if worker is self._current:
            self.show_progress(info)

    def show_progress(self, info: ProgressInfo) -> None:
        """Show a progress report of the followed worker."""
        self._last = info
        fraction = info.fraction
        if fraction is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, _BAR_STEPS)
            self.bar.setValue(round(fraction * _BAR_STEPS))
        self._show_text()

    def _show_text(self) -> None:
        worker, info = self._current, self._last
        if worker is None:
            self.label.clear()
            return
        parts = [worker.name] if worker.name else []
        if info is not None and info.message:
            parts.append(info.message)
        if info is not None and info.remaining_s is not None:
            parts.append(self.tr("%1 left").replace("%1", format_remaining(info.remaining_s)))
        self.label.setText(" - ".join(parts))

    def _retranslate(self) -> None:
        self.cancel_button.setText(self.tr("Cancel"))
        self.cancel_button.setToolTip(self.tr("Stop the running operation"))
        self._show_text()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        """Retranslate on a language change."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)
