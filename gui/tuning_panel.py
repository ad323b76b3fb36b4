"""Tuning panel: the tune's budget and windows, Start/Cancel with progress, the best settings.

:class:`TuningPanel` shows a Qt-free :class:`~energyopt.appstate.tuning.TuningModel`:
spin boxes for the trial budget, the worker processes and the replay windows
(count, length, history before them), the dask scheduler the trials may run
on (empty: local worker processes; remembered in the app settings), "Start"
(it resumes when the tune folder holds trials of an interrupted run),
"Cancel" and "Start over", a progress bar with the trials done and the time
left, the searched parameters (range, project value, best value), the KPIs
of the best settings beside the project's current settings per window and
the score (cost in the project's currency), the trials (score, feasible),
and "Open tuned project".  A project opened again shows its last finished
tune's stored result, dated, and whether it still holds for the project.

The tune loop runs in a :class:`~gui.workers.Worker`
(:func:`gui.workers.worker_task_runner`) and its trials in worker processes;
the GUI thread only formats what arrives.  :func:`install_tuning_panel` puts
the panel into the main window.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import (
    QDockWidget,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from energyopt.appstate.tuning import TuningModel
from energyopt.appstate.tuning_inputs import scheduler_address
from energyopt.appstate.tuning_parts import MAX_BUDGET, MAX_WINDOWS, kpi_rows, setting_rows
from energyopt.errors import EnergyoptError
from gui.model_panel_parts import read_only_table, stack
from gui.plant_views import freeze_heap_when_loaded
from gui.progress_panel import format_remaining
from gui.replay_clock import connect_while_alive
from gui.tuning_panel_parts import (
    KPI_COLUMNS,
    SETTING_COLUMNS,
    TRIAL_COLUMNS,
    column_title,
    fill_kpi_table,
    fill_setting_table,
    fill_trial_table,
    stored_text,
)
from gui.workers import worker_task_runner

if TYPE_CHECKING:
    from collections.abc import Callable

    from energyopt.appstate.tuning_parts import TuneProgress, TuneRequest
    from energyopt.appstate.tuning_stored import StoredTune
    from energyopt.tune import TrialRecord, TuneOutcome
    from gui.errors import ErrorReporter
    from gui.main_window import MainWindow
    from gui.settings import AppSettings

__all__ = ["TuningPanel", "install_tuning_panel"]

_BAR_STEPS = 1000
"""Resolution of the progress bar (it works in integer steps). [-]"""
_HOUR_S = 3600.0
_DAY_S = 86_400.0


def _hours_spin(maximum: float, suffix_unit: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setDecimals(2)
    spin.setRange(0.0, maximum)
    spin.setSuffix(f" {suffix_unit}")
    return spin


class TuningPanel(QWidget):
    """The tuning panel: start a tune, follow it, see and open the best settings.

    Parameters
    ----------
    model : TuningModel
        The state shown.
    errors : ErrorReporter
        Shows tune failures as dialogs.
    language : callable, optional
        Returns the UI language (``"en"``, ``"zh_CN"``) the KPI names are shown in.
    parent : QWidget, optional
        Qt parent.
    settings : AppSettings, optional
        Where the dask scheduler address is remembered (not remembered if omitted).
    """

    def __init__(
        self,
        model: TuningModel,
        errors: ErrorReporter,
        language: Callable[[], str] | None = None,
        parent: QWidget | None = None,
        settings: AppSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.errors = errors
        self.app_settings = settings
        self._language = language if language is not None else (lambda: "en")
        self._labels: dict[str, QLabel] = {}
        self.budget_spin = QSpinBox()
        self.budget_spin.setRange(1, MAX_BUDGET)
        self.workers_spin = QSpinBox()
        self.workers_spin.setRange(1, max(64, os.cpu_count() or 1))
        self.windows_spin = QSpinBox()
        self.windows_spin.setRange(1, MAX_WINDOWS)
        self.window_hours_spin = _hours_spin(366 * 24.0, "h")
        self.window_hours_spin.setMinimum(0.25)
        self.history_days_spin = _hours_spin(3650.0, "d")
        grid = QGridLayout()
        spins: tuple[tuple[str, QSpinBox | QDoubleSpinBox], ...] = (
            ("budget", self.budget_spin),
            ("workers", self.workers_spin),
            ("windows", self.windows_spin),
            ("window", self.window_hours_spin),
            ("history", self.history_days_spin),
        )
        for index, (name, spin) in enumerate(spins):
            label = QLabel()
            label.setBuddy(spin)
            self._labels[name] = label
            grid.addWidget(label, index // 3, 2 * (index % 3))
            grid.addWidget(spin, index // 3, 2 * (index % 3) + 1)
            spin.valueChanged.connect(self._on_spin_changed)
        self.scheduler_edit = QLineEdit()
        self.scheduler_edit.setClearButtonEnabled(True)
        self.scheduler_edit.textEdited.connect(self._on_scheduler_edited)
        scheduler_label = QLabel()
        scheduler_label.setBuddy(self.scheduler_edit)
        self._labels["scheduler"] = scheduler_label
        grid.addWidget(scheduler_label, 2, 0)
        grid.addWidget(self.scheduler_edit, 2, 1, 1, 5)
        self.scheduler_warning = QLabel()
        self.scheduler_warning.setWordWrap(True)
        self.scheduler_warning.setStyleSheet("color: #b00020")
        self.scheduler_warning.setVisible(False)
        grid.addWidget(self.scheduler_warning, 3, 1, 1, 5)
        self.space_warning = QLabel()
        self.space_warning.setWordWrap(True)
        self.space_warning.setStyleSheet("color: #b00020")
        self.resume_label = QLabel()
        self.resume_label.setWordWrap(True)

        self.start_button = QPushButton()
        self.start_button.clicked.connect(self._on_start)
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(model.cancel)
        self.start_over_button = QPushButton()
        self.start_over_button.clicked.connect(self._on_start_over)
        self.bar = QProgressBar()
        self.bar.setRange(0, _BAR_STEPS)
        self.bar.setTextVisible(False)
        self.status_label = QLabel()
        run_row = QHBoxLayout()
        for widget in (self.start_button, self.cancel_button, self.start_over_button):
            run_row.addWidget(widget)
        run_row.addWidget(self.bar, 1)
        run_row.addWidget(self.status_label, 2)

        self.stored_label = QLabel()
        self.stored_label.setWordWrap(True)
        self.stored_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.best_label = QLabel()
        self.best_label.setWordWrap(True)
        self.tuned_label = QLabel()
        self.tuned_label.setWordWrap(True)
        self.tuned_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_tuned_button = QPushButton()
        self.open_tuned_button.clicked.connect(self._on_open_tuned)
        file_row = QHBoxLayout()
        file_row.addWidget(self.tuned_label, 1)
        file_row.addWidget(self.open_tuned_button)

        self.settings_table = read_only_table(len(SETTING_COLUMNS))
        self.kpi_table = read_only_table(len(KPI_COLUMNS))
        self.trials_table = read_only_table(len(TRIAL_COLUMNS))
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.kpi_table)
        lower.addWidget(self.trials_table)
        lower.setStretchFactor(0, 3)
        lower.setStretchFactor(1, 2)
        tables = QSplitter(Qt.Orientation.Vertical)
        tables.addWidget(stack((self.settings_table, 1)))
        tables.addWidget(lower)
        tables.setStretchFactor(0, 1)
        tables.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.space_warning)
        layout.addWidget(self.resume_label)
        layout.addLayout(run_row)
        layout.addWidget(self.stored_label)
        layout.addWidget(self.best_label)
        layout.addLayout(file_row)
        layout.addWidget(tables, 1)

        cls = type(self)
        connect_while_alive(self, model.inputs_changed, cls._on_inputs)
        connect_while_alive(self, model.request_changed, cls._on_request)
        connect_while_alive(self, model.status_changed, cls._on_status)
        connect_while_alive(self, model.progressed, cls._on_progress)
        connect_while_alive(self, model.trials_changed, cls._on_trials)
        connect_while_alive(self, model.outcome_changed, cls._on_outcome)
        connect_while_alive(self, model.failed, cls._on_failed)
        connect_while_alive(self, model.cancelled, cls._on_cancelled)
        connect_while_alive(self, model.stored_changed, cls._on_stored)
        connect_while_alive(self, model.scheduler_changed, cls._on_scheduler)
        if settings is not None:
            self._restore_scheduler(settings.tune_scheduler())
        self._retranslate()
        self._on_request(model.request)
        self._on_status(model.status)
        self._on_scheduler(model.scheduler or "")

    # ------------------------------------------------------------ settings
    def _on_request(self, request: TuneRequest | None) -> None:
        values: tuple[tuple[QSpinBox | QDoubleSpinBox, float | None], ...] = (
            (self.budget_spin, None if request is None else request.budget),
            (self.workers_spin, None if request is None else request.workers),
            (self.windows_spin, None if request is None else request.windows),
            (self.window_hours_spin, None if request is None else request.window_s / _HOUR_S),
            (self.history_days_spin, None if request is None else request.history_s / _DAY_S),
        )
        for spin, value in values:
            spin.blockSignals(True)
            if value is None:
                pass
            elif isinstance(spin, QSpinBox):
                spin.setValue(int(value))
            else:
                spin.setValue(value)
            spin.blockSignals(False)
        self._update_buttons()

    def _on_spin_changed(self, _value: float) -> None:
        if self.model.request is None:
            return
        try:
            self.model.update_request(
                budget=self.budget_spin.value(),
                workers=self.workers_spin.value(),
                windows=self.windows_spin.value(),
                window_s=self.window_hours_spin.value() * _HOUR_S,
                history_s=self.history_days_spin.value() * _DAY_S,
            )
        except EnergyoptError as exc:  # the spin boxes' ranges keep the values valid
            self.errors.report(exc, self.tr("Cannot use these tune settings"))

    def _restore_scheduler(self, address: str) -> None:
        try:
            self.model.set_scheduler(address)
        except EnergyoptError:  # a stored value edited by hand: local workers
            self.model.set_scheduler(None)

    def _on_scheduler_edited(self, text: str) -> None:
        """Use the address as typed once it is one; say why while it is not."""
        try:
            address = self.model.set_scheduler(text)
        except EnergyoptError:
            self.scheduler_warning.setText(
                self.tr("Not a scheduler address: give host:port or tcp://host:port.")
            )
            self.scheduler_warning.setVisible(True)
            return
        self.scheduler_warning.setVisible(False)
        if self.app_settings is not None:
            self.app_settings.set_tune_scheduler(address or "")

    def _on_scheduler(self, address: str) -> None:
        try:
            typed = scheduler_address(self.scheduler_edit.text())
        except EnergyoptError:
            typed = None
        if (typed or "") != address:  # set elsewhere: show it (the text typed is kept)
            self.scheduler_edit.setText(address)
            self.scheduler_warning.setVisible(False)
        self._update_buttons()

    def _on_inputs(self) -> None:
        error = self.model.space_error
        if self.model.project_path is None:
            self.space_warning.setText(self.tr("Open a project and its historian file to tune."))
        elif error is not None:
            self.space_warning.setText(self.tr("Cannot tune this project: %1").replace("%1", error))
        elif self.model.data_path is None:
            self.space_warning.setText(self.tr("Open the historian file the tune replays."))
        else:
            self.space_warning.setText("")
        self.space_warning.setVisible(bool(self.space_warning.text()))
        self._show_resume()
        self._show_settings()
        self._update_buttons()

    def _show_resume(self) -> None:
        folder = self.model.tune_folder
        if self.model.journal_exists and folder is not None and not self.model.busy:
            self.resume_label.setText(
                self.tr(
                    "%1 holds the trials of an earlier tune: Start resumes it "
                    "(Start over forgets them)."
                ).replace("%1", str(folder))
            )
        else:
            self.resume_label.setText("")
        self.resume_label.setVisible(bool(self.resume_label.text()))

    # ----------------------------------------------------------------- run
    def _on_start(self) -> None:
        try:
            self.model.set_scheduler(self.scheduler_edit.text())
            self.model.run()
        except EnergyoptError as exc:
            self.errors.report(exc, self.tr("Cannot tune"))

    def _on_start_over(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Start the tune over?"),
            self.tr("Forget the trials stored in %1?").replace("%1", str(self.model.tune_folder)),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setObjectName("energyopt_tune_start_over")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.accepted.connect(self._discard_journal)
        box.open()

    def _discard_journal(self) -> None:
        try:
            self.model.discard_journal()
        except EnergyoptError as exc:
            self.errors.report(exc, self.tr("Cannot start over"))

    def _on_status(self, status: str) -> None:
        self.bar.setVisible(status != "idle")
        if status == "running":
            self.bar.setRange(0, 0)  # busy indicator until the first report
            scheduler = self.model.scheduler
            self.status_label.setText(
                self.tr("Starting the worker processes...")
                if scheduler is None
                else self.tr("Connecting to the dask scheduler %1...").replace("%1", scheduler)
            )
        elif status == "cancelling":
            self.status_label.setText(self.tr("Cancelling..."))
        for spin in self._spins():
            spin.setEnabled(status == "idle")
        self.scheduler_edit.setEnabled(status == "idle")
        self._show_resume()
        self._update_buttons()

    def _on_progress(self, info: TuneProgress) -> None:
        self.bar.setRange(0, _BAR_STEPS)
        self.bar.setValue(round(info.fraction * _BAR_STEPS))
        parts = [
            self.tr("%1 of %2 trials").replace("%1", str(info.done)).replace("%2", str(info.budget))
        ]
        if info.remaining_s is not None:
            parts.append(self.tr("%1 left").replace("%1", format_remaining(info.remaining_s)))
        if self.model.status == "running":
            self.status_label.setText(" - ".join(parts))
            self.status_label.setToolTip(info.message)

    def _on_trials(self, trials: tuple[TrialRecord, ...]) -> None:
        outcome = self.model.outcome
        best = None if outcome is None else outcome.result.best.number
        fill_trial_table(self.trials_table, trials, best, final=outcome is not None)

    def _on_outcome(self, outcome: TuneOutcome | None) -> None:
        self._show_settings()
        if outcome is not None:
            if self.model.stored is None:
                self.status_label.setText(self.tr("Tune finished."))
            self._on_trials(self.model.trials)
        self._update_buttons()

    def _on_stored(self, stored: StoredTune | None) -> None:
        text, ok = stored_text(stored, self.model.stored_error, self.model.timezone)
        self.stored_label.setText(text)
        self.stored_label.setStyleSheet("" if ok else "color: #b00020")
        self.stored_label.setVisible(bool(text))
        self._update_buttons()

    def _on_failed(self, exc: BaseException) -> None:
        self.status_label.setText(self.tr("Tune failed."))
        self.errors.report(exc, self.tr("Tune failed"))

    def _on_cancelled(self) -> None:
        self.status_label.setText(
            self.tr("Tune cancelled: nothing was written; the finished trials are kept.")
        )

    def _spins(self) -> tuple[QSpinBox | QDoubleSpinBox, ...]:
        return (
            self.budget_spin,
            self.workers_spin,
            self.windows_spin,
            self.window_hours_spin,
            self.history_days_spin,
        )

    def _update_buttons(self) -> None:
        busy = self.model.busy
        # Enabled with a space error too: the click explains it in a dialog.
        model = self.model
        self.start_button.setEnabled(
            not busy and None not in (model.project_path, model.data_path, model.request)
        )
        self.start_button.setText(
            self.tr("Resume") if self.model.journal_exists else self.tr("Start")
        )
        self.cancel_button.setEnabled(self.model.status == "running")
        self.start_over_button.setEnabled(not busy and self.model.journal_exists)
        stored = model.stored
        gone = stored is not None and any(c.code == "tuned_missing" for c in stored.changes)
        self.open_tuned_button.setEnabled(not busy and model.outcome is not None and not gone)
        # Trials run on the scheduler's workers: the local worker count is not used.
        self.workers_spin.setEnabled(not busy and model.scheduler is None)

    # -------------------------------------------------------------- result
    def _show_settings(self) -> None:
        outcome = self.model.outcome
        if outcome is None:
            fill_setting_table(self.settings_table, setting_rows(self.model.space))
            fill_kpi_table(self.kpi_table, (), self._language(), self.model.timezone)
            self.best_label.setText("")
            self.best_label.setVisible(False)
            self.tuned_label.setText(
                self.tr("No tune yet: the tuned project will be written to %1.").replace(
                    "%1", str(self.model.tuned_project_path or "-")
                )
            )
            return
        result = outcome.result
        fill_setting_table(self.settings_table, setting_rows(result.space, result.best.params))
        fill_kpi_table(
            self.kpi_table,
            kpi_rows(result),
            self._language(),
            self.model.timezone,
            self.model.currency,
        )
        best = result.best
        if not result.improved:
            text = self.tr("No trial beats the project's current settings.")
        elif best.score.feasible:
            text = self.tr("Best: trial %1 (keeps every constraint).")
        else:
            text = self.tr("Best: trial %1 (breaks a constraint).")
        self.best_label.setText(text.replace("%1", str(best.number)))
        self.best_label.setVisible(True)
        self.tuned_label.setText(
            self.tr("Tuned project: %1").replace("%1", str(outcome.tuned_path))
        )

    def _on_open_tuned(self) -> None:
        try:
            self.model.open_tuned_project()
        except EnergyoptError as exc:
            self.errors.report(exc, self.tr("Cannot open the tuned project"))

    # ------------------------------------------------------------ language
    def _retranslate(self) -> None:
        texts = {
            "budget": self.tr("Trials:"),
            "workers": self.tr("Worker processes:"),
            "windows": self.tr("Replay windows:"),
            "window": self.tr("Window length:"),
            "history": self.tr("History before the windows:"),
            "scheduler": self.tr("Dask scheduler:"),
        }
        for name, label in self._labels.items():
            label.setText(texts[name])
        self.budget_spin.setToolTip(
            self.tr("Trials in total; those finished by an interrupted run count")
        )
        self.workers_spin.setToolTip(self.tr("Trials replayed at the same time, one per process"))
        self.scheduler_edit.setPlaceholderText(self.tr("empty: local worker processes"))
        self.scheduler_edit.setToolTip(
            self.tr(
                "Address of a dask.distributed scheduler (host:port or tcp://host:port) whose "
                "workers run the trials; they need energyopt and read the historian file by "
                "the same path"
            )
        )
        self.cancel_button.setText(self.tr("Cancel"))
        self.start_over_button.setText(self.tr("Start over"))
        self.open_tuned_button.setText(self.tr("Open tuned project"))
        self.settings_table.setHorizontalHeaderLabels([column_title(c) for c in SETTING_COLUMNS])
        self.kpi_table.setHorizontalHeaderLabels([column_title(c) for c in KPI_COLUMNS])
        self.trials_table.setHorizontalHeaderLabels([column_title(c) for c in TRIAL_COLUMNS])
        dock = self.parentWidget()
        if isinstance(dock, QDockWidget):
            dock.setWindowTitle(self.tr("Tuning"))
        self._on_inputs()
        self._on_trials(self.model.trials)
        self._on_stored(self.model.stored)
        if self.model.outcome is not None and not self.model.busy and self.model.stored is None:
            self.status_label.setText(self.tr("Tune finished."))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        """Retranslate on a language change."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)


def install_tuning_panel(window: MainWindow) -> TuningPanel:
    """Create the tuning panel of a main window: model on its workers and session, a dock.

    Parameters
    ----------
    window : MainWindow
        The window (its workers, session, error reporter and language).

    Returns
    -------
    TuningPanel
        The panel (its model is ``panel.model``).
    """
    name = QCoreApplication.translate("TuningPanel", "Tune")
    model = TuningModel(worker_task_runner(window.workers, name))
    model.follow_session(window.session)
    panel = TuningPanel(
        model, window.errors, lambda: window.language.language, settings=window.settings
    )
    # The tune's thread allocates (optuna, project validations): with the heap alive at
    # its start frozen, no full collection runs there for 0.1-0.7 s holding the GIL.
    freeze_heap_when_loaded(window, window.session, model.status_changed)
    title = QCoreApplication.translate("TuningPanel", "Tuning")
    dock = window.register_panel("tuning", panel, title=title)
    model_dock = window.docks.get("model")
    if model_dock is not None and model_dock is not dock:
        # A tab behind the model panel, like the KPI dashboard.
        window.tabifyDockWidget(model_dock, dock)
        model_dock.raise_()
    return panel
