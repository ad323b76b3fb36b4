"""The "Run replay" dialog of the KPI dashboard: files, controller, period, output folder.

The dialog only collects a
:class:`~energyopt.appstate.kpi_dashboard.ReplayRequest`; it emits
:attr:`ReplayDialog.request_ready` and closes when the request is valid, and
otherwise shows the reason and stays open.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QCoreApplication, QDateTime, QTimeZone, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from energyopt.appstate.kpi_dashboard import CONTROLLERS, ReplayRequest, default_out_dir
from energyopt.errors import EnergyoptError

__all__ = ["ReplayDialog"]

#: Length of the period proposed when the historian's span is known: its first day. [ms]
DEFAULT_PERIOD_MS = 86_400_000


def _controller_title(controller: str) -> str:
    titles = {
        "mpc": QCoreApplication.translate("ReplayDialog", "MPC (economic controller)"),
        "baseline": QCoreApplication.translate("ReplayDialog", "Baseline (rule-based dispatch)"),
        "recorded": QCoreApplication.translate("ReplayDialog", "Recorded (operators' moves)"),
    }
    return titles.get(controller, controller)


class ReplayDialog(QDialog):
    """Ask what to replay.

    Parameters
    ----------
    project_path, data_path : pathlib.Path or None
        Proposed project and historian file.
    span_ms : tuple of int, optional
        Time span of the historian file; the first day is proposed. [ms since epoch]
    timezone : str
        IANA zone the period is entered in.
    now_s : float
        Current time, naming the proposed output folder. [s since epoch]
    parent : QWidget, optional
        Qt parent.
    """

    request_ready = Signal(object)
    """Emitted with the :class:`ReplayRequest` when the user accepts a valid one."""

    def __init__(
        self,
        project_path: Path | None,
        data_path: Path | None,
        span_ms: tuple[int, int] | None,
        timezone: str,
        *,
        now_s: float,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("kpi_replay_dialog")
        self.setWindowTitle(self.tr("Run replay"))
        self._now_s = now_s
        self._out_edited = False
        zone = QTimeZone(QByteArray(timezone.encode()))
        self._zone = zone if zone.isValid() else QTimeZone.utc()

        self.project_edit = QLineEdit(str(project_path) if project_path else "")
        self.data_edit = QLineEdit(str(data_path) if data_path else "")
        self.controller_combo = QComboBox()
        for controller in CONTROLLERS:
            self.controller_combo.addItem(_controller_title(controller), controller)
        self.start_edit = self._time_edit()
        self.end_edit = self._time_edit()
        if span_ms is not None:
            start, end = span_ms
            self.start_edit.setDateTime(self._qtime(start))
            self.end_edit.setDateTime(self._qtime(min(end, start + DEFAULT_PERIOD_MS)))
        self.compare_check = QCheckBox(self.tr("Also run the other controllers for comparison"))
        self.compare_check.setChecked(True)
        self.out_edit = QLineEdit()
        self.out_edit.textEdited.connect(self._out_was_edited)
        self.error_label = QLabel()
        self.error_label.setObjectName("kpi_replay_error")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c62828")

        form = QFormLayout()
        form.addRow(self.tr("Project"), self._with_browse(self.project_edit, self._ask_project))
        form.addRow(self.tr("Historian file"), self._with_browse(self.data_edit, self._ask_data))
        form.addRow(self.tr("Controller"), self.controller_combo)
        form.addRow(self.tr("Start (%1)").replace("%1", timezone), self.start_edit)
        form.addRow(self.tr("End (%1)").replace("%1", timezone), self.end_edit)
        form.addRow("", self.compare_check)
        form.addRow(self.tr("Output folder"), self._with_browse(self.out_edit, self._ask_out))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

        self.controller_combo.currentIndexChanged.connect(self._propose_out_dir)
        self.data_edit.textChanged.connect(self._propose_out_dir)
        self._propose_out_dir()

    # ----------------------------------------------------------- widgets
    def _time_edit(self) -> QDateTimeEdit:
        edit = QDateTimeEdit()
        edit.setTimeZone(self._zone)
        edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        edit.setCalendarPopup(True)
        return edit

    def _qtime(self, time_ms: int) -> QDateTime:
        return QDateTime.fromMSecsSinceEpoch(int(time_ms), self._zone)

    def _with_browse(self, edit: QLineEdit, ask: object) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        button = QPushButton(self.tr("Browse..."))
        button.clicked.connect(ask)
        row.addWidget(button)
        return box

    def _ask_project(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Project"), self.project_edit.text(), self.tr("Project (*.toml)")
        )
        if path:
            self.project_edit.setText(path)

    def _ask_data(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Historian file"),
            self.data_edit.text(),
            self.tr("Historian (*.h5 *.hdf5)"),
        )
        if path:
            self.data_edit.setText(path)

    def _ask_out(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Output folder"), self.out_edit.text())
        if path:
            self.out_edit.setText(path)
            self._out_was_edited()

    def _out_was_edited(self, *_args: object) -> None:
        self._out_edited = True

    def _propose_out_dir(self, *_args: object) -> None:
        data = self.data_edit.text().strip()
        if self._out_edited or not data:
            return
        self.out_edit.setText(str(default_out_dir(data, self.controller, self._now_s)))

    # ------------------------------------------------------------ result
    @property
    def controller(self) -> str:
        """The chosen controller."""
        return str(self.controller_combo.currentData())

    def request(self) -> ReplayRequest:
        """Return the request the fields describe.

        Raises
        ------
        OutputError
            If a field is empty or the request is invalid (see :class:`ReplayRequest`).
        """
        from energyopt.errors import OutputError

        texts = {
            self.tr("project"): self.project_edit.text().strip(),
            self.tr("historian file"): self.data_edit.text().strip(),
            self.tr("output folder"): self.out_edit.text().strip(),
        }
        empty = [name for name, text in texts.items() if not text]
        if empty:
            raise OutputError(self.tr("Please give the %1.").replace("%1", ", ".join(empty)))
        project, data, out = texts.values()
        return ReplayRequest(
            project_path=Path(project),
            data_path=Path(data),
            controller=self.controller,
            out_dir=Path(out),
            start_ms=self.start_edit.dateTime().toMSecsSinceEpoch(),
            end_ms=self.end_edit.dateTime().toMSecsSinceEpoch(),
            compare=self.compare_check.isChecked(),
        )

    def accept(self) -> None:
        """Emit the request and close, or show why it is not valid."""
        try:
            request = self.request()
        except EnergyoptError as exc:
            self.error_label.setText(str(exc))
            return
        self.error_label.clear()
        self.request_ready.emit(request)
        super().accept()
