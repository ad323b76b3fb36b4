"""Model panel: fit windows, "Run fit" with progress and cancel, validation plots and tables.

:class:`ModelPanel` shows a Qt-free :class:`~energyopt.appstate.fitting.FitModel`:
the training and hold-out windows (in the historian's time zone), a run button
with progress bar, time left and cancel, the metrics table (per unit and
output: NRMSE, R2, bias with its unit), the parameter table (nominal, fitted,
standard error), the hold-out plots of the selected output (measured and
predicted over time, and the residual predicted - measured) and the fitted
project written, which "Open fitted project" asks the session to open.

Every time is shown in the plant's zone, daylight-saving changes included:
the replay clock's zone when the panel follows one (the project's
``[project] timezone``, as the trends), else the historian file's.  The plots
are :class:`~gui.model_panel_parts.TimePlot` (a
:class:`~gui.time_axis.PlantTimeAxis` over true instants); before a fit they
show a note instead of an axis.

The fit runs in a :class:`~gui.workers.Worker` (:func:`gui.workers.worker_task_runner`);
the GUI thread only formats what the worker delivers.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QCoreApplication, QDateTime, QEvent, Qt, QTimeZone
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from energyopt.appstate.fitting import FitModel, ShownFit
from energyopt.appstate.tasks import TaskProgress
from energyopt.errors import EnergyoptError
from gui.errors import ErrorReporter
from gui.model_panel_parts import TimePlot, curve, fill_table, read_only_table, stack
from gui.progress_panel import format_remaining
from gui.replay_clock import connect_while_alive

if TYPE_CHECKING:
    from energyopt.appstate.replay_clock import ReplayClock
    from energyopt.fitting.fit_report import SeriesFit

__all__ = [
    "METRIC_COLUMNS",
    "PARAMETER_COLUMNS",
    "ModelPanel",
    "format_number",
]

METRIC_COLUMNS: tuple[str, ...] = ("unit", "kind", "output", "nrmse", "r2", "bias")
"""Columns of the metrics table."""
PARAMETER_COLUMNS: tuple[str, ...] = ("unit", "parameter", "nominal", "fitted", "std_error", "si")
"""Columns of the parameter table."""
_BAR_STEPS = 1000
"""Resolution of the progress bar (it works in integer steps). [-]"""
_TIME_FORMAT = "yyyy-MM-dd HH:mm"


def format_number(value: float) -> str:
    """Format a metric or estimate with four significant digits; ``"-"`` if not finite."""
    return f"{value:.4g}" if math.isfinite(value) else "-"


def _column_title(column: str) -> str:
    titles = {
        "unit": QCoreApplication.translate("ModelPanel", "Unit"),
        "kind": QCoreApplication.translate("ModelPanel", "Fitted as"),
        "output": QCoreApplication.translate("ModelPanel", "Output"),
        "nrmse": QCoreApplication.translate("ModelPanel", "NRMSE"),
        "r2": QCoreApplication.translate("ModelPanel", "R²"),
        "bias": QCoreApplication.translate("ModelPanel", "Bias"),
        "parameter": QCoreApplication.translate("ModelPanel", "Parameter"),
        "nominal": QCoreApplication.translate("ModelPanel", "Nominal"),
        "fitted": QCoreApplication.translate("ModelPanel", "Fitted"),
        "std_error": QCoreApplication.translate("ModelPanel", "Std. error"),
        "si": QCoreApplication.translate("ModelPanel", "SI unit"),
    }
    return titles[column]


def _kind_text(kind: str) -> str:
    texts = {
        "calibrated": QCoreApplication.translate("ModelPanel", "calibrated"),
        "identified": QCoreApplication.translate("ModelPanel", "identified"),
        "hybrid": QCoreApplication.translate("ModelPanel", "hybrid"),
    }
    return texts.get(kind, kind)


class ModelPanel(QWidget):
    """The model panel: run a fit and see its validation.

    Parameters
    ----------
    model : FitModel
        The state shown.
    errors : ErrorReporter
        Shows fit failures as dialogs.
    parent : QWidget, optional
        Qt parent.
    clock : ReplayClock, optional
        The window's replay clock: times are shown in its zone (the
        project's, as the trends); without one, in the historian file's.
    """

    def __init__(
        self,
        model: FitModel,
        errors: ErrorReporter,
        parent: QWidget | None = None,
        *,
        clock: ReplayClock | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.errors = errors
        self.clock = clock
        self._series: list[tuple[str, str, str, SeriesFit]] = []
        self._row_series: list[int] = []  # metrics row -> index in _series (-1: none)
        self._edits: dict[str, QDateTimeEdit] = {}
        self._window_labels = [QLabel(), QLabel(), QLabel(), QLabel()]
        windows = QGridLayout()
        for row, name in enumerate(("train", "validate")):
            windows.addWidget(self._window_labels[row], row, 0)
            for col, end in enumerate(("start", "end")):
                edit = QDateTimeEdit()
                edit.setDisplayFormat(_TIME_FORMAT)
                edit.dateTimeChanged.connect(self._on_edited)
                self._edits[f"{name}_{end}"] = edit
                windows.addWidget(edit, row, 1 + 2 * col)
            windows.addWidget(self._window_labels[2 + row], row, 2)
        self.reset_button = QPushButton()
        self.reset_button.clicked.connect(model.reset_windows)
        windows.addWidget(self.reset_button, 0, 4)
        self.window_warning = QLabel()
        self.window_warning.setStyleSheet("color: #b00020")

        self.run_button = QPushButton()
        self.run_button.clicked.connect(self._on_run)
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(model.cancel)
        self.bar = QProgressBar()
        self.bar.setRange(0, _BAR_STEPS)
        self.status_label = QLabel()
        run_row = QHBoxLayout()
        for widget in (self.run_button, self.cancel_button, self.bar, self.status_label):
            run_row.addWidget(widget)

        self.fitted_label = QLabel()
        self.fitted_label.setWordWrap(True)
        self.open_project_button = QPushButton()
        self.open_project_button.clicked.connect(self._on_open_project)
        self.open_report_button = QPushButton()
        self.open_report_button.clicked.connect(self.ask_report)
        file_row = QHBoxLayout()
        file_row.addWidget(self.fitted_label, 1)
        file_row.addWidget(self.open_project_button)
        file_row.addWidget(self.open_report_button)

        self.metrics_table = read_only_table(len(METRIC_COLUMNS))
        self.metrics_table.itemSelectionChanged.connect(self._on_metric_selected)
        self.parameters_table = read_only_table(len(PARAMETER_COLUMNS))
        self.notes_label = QLabel()
        self.notes_label.setWordWrap(True)

        self.selector = QComboBox()
        self.selector.currentIndexChanged.connect(self._plot_selected)
        self.fit_plot = TimePlot(self.timezone)
        self.residual_plot = TimePlot(self.timezone, zero_line=True)
        self.fit_plot.addLegend(offset=(10, 5))
        self.residual_plot.setXLink(self.fit_plot)
        self.measured_curve = curve(self.fit_plot, "#555555")
        self.predicted_curve = curve(self.fit_plot, "#1f77b4")
        self.residual_curve = curve(self.residual_plot, "#d62728")
        splitter = QSplitter()
        splitter.addWidget(
            stack((self.metrics_table, 2), (self.parameters_table, 1), (self.notes_label, 0))
        )
        splitter.addWidget(stack((self.selector, 0), (self.fit_plot, 2), (self.residual_plot, 1)))

        layout = QVBoxLayout(self)
        layout.addLayout(windows)
        layout.addWidget(self.window_warning)
        layout.addLayout(run_row)
        layout.addLayout(file_row)
        layout.addWidget(splitter, 1)

        cls = type(self)
        connect_while_alive(self, model.inputs_changed, cls._on_inputs)
        connect_while_alive(self, model.windows_changed, cls._on_windows)
        connect_while_alive(self, model.status_changed, cls._on_status)
        connect_while_alive(self, model.progressed, cls._on_progress)
        connect_while_alive(self, model.shown_changed, cls._on_shown)
        connect_while_alive(self, model.failed, cls._on_failed)
        connect_while_alive(self, model.cancelled, cls._on_cancelled)
        if clock is not None:
            connect_while_alive(self, clock.span_changed, cls._on_inputs)  # its zone may change
        self._retranslate()
        self._on_inputs()
        self._on_status(model.status)

    # ------------------------------------------------------------- windows
    @property
    def timezone(self) -> str:
        """IANA name of the zone the windows and plots are shown in."""
        if self.clock is not None:
            return self.clock.timezone
        historian = self.model.historian
        return historian.timezone if historian is not None else "UTC"

    def _zone(self) -> QTimeZone:
        zone = QTimeZone(self.timezone.encode())
        return zone if zone.isValid() else QTimeZone.utc()

    def _on_inputs(self) -> None:
        zone = self._zone()
        for plot in (self.fit_plot, self.residual_plot):
            plot.set_timezone(self.timezone)
        span = self.model.span_ms
        for edit in self._edits.values():
            edit.blockSignals(True)
            edit.setTimeZone(zone)
            if span is not None:
                edit.setDateTimeRange(
                    QDateTime.fromMSecsSinceEpoch(span[0], zone),
                    QDateTime.fromMSecsSinceEpoch(span[1], zone),
                )
            edit.blockSignals(False)
        self._on_windows(self.model.train_ms, self.model.validate_ms)
        self._update_buttons()

    def _on_windows(self, train: tuple[int, int] | None, validate: tuple[int, int] | None) -> None:
        zone = self._zone()
        for name, window in (("train", train), ("validate", validate)):
            for index, end in enumerate(("start", "end")):
                edit = self._edits[f"{name}_{end}"]
                edit.blockSignals(True)
                edit.setEnabled(window is not None)
                if window is not None:
                    edit.setDateTime(QDateTime.fromMSecsSinceEpoch(window[index], zone))
                edit.blockSignals(False)
        self._show_window_problem()
        self._update_buttons()

    def _on_edited(self, _value: QDateTime) -> None:
        ms = {name: edit.dateTime().toMSecsSinceEpoch() for name, edit in self._edits.items()}
        if self.model.train_ms is not None:
            self.model.set_train(ms["train_start"], ms["train_end"])
        if self.model.validate_ms is not None:
            self.model.set_validate(ms["validate_start"], ms["validate_end"])

    def _show_window_problem(self) -> None:
        texts = {
            "train_empty": self.tr("The training window is empty."),
            "validate_empty": self.tr("The validation window is empty."),
            "outside": self.tr("A window reaches outside the historian file."),
            "overlap": self.tr("The training and validation windows overlap."),
        }
        problem = self.model.window_problem
        self.window_warning.setText(texts.get(problem, "") if problem else "")

    # ----------------------------------------------------------------- run
    def _on_run(self) -> None:
        if self.model.outputs_exist():
            box = QMessageBox(
                QMessageBox.Icon.Question,
                self.tr("Replace the fitted project?"),
                self.tr("%1 exists already. Fit again and replace it?").replace(
                    "%1", str(self.model.fitted_project_path)
                ),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                self,
            )
            box.setObjectName("energyopt_fit_replace")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.accepted.connect(lambda: self._start(overwrite=True))
            box.open()
            return
        self._start(overwrite=False)

    def _start(self, *, overwrite: bool) -> None:
        try:
            self.model.run(overwrite=overwrite)
        except EnergyoptError as exc:
            self.errors.report(exc, self.tr("Cannot fit"))

    def _on_status(self, status: str) -> None:
        self.bar.setVisible(status != "idle")
        if status == "running":
            self.bar.setRange(0, 0)  # busy indicator until the first report
            self.status_label.setText(self.tr("Fitting..."))
        elif status == "cancelling":
            self.status_label.setText(self.tr("Cancelling..."))
        self._update_buttons()

    def _on_progress(self, info: TaskProgress) -> None:
        fraction = info.fraction
        if fraction is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, _BAR_STEPS)
            self.bar.setValue(round(fraction * _BAR_STEPS))
        parts = [info.message] if info.message else []
        if info.remaining_s is not None:
            parts.append(self.tr("%1 left").replace("%1", format_remaining(info.remaining_s)))
        if self.model.status == "running":
            self.status_label.setText(" - ".join(parts))

    def _on_failed(self, exc: BaseException) -> None:
        self.status_label.setText(self.tr("Fit failed."))
        self.errors.report(exc, self.tr("Fit failed"))

    def _on_cancelled(self) -> None:
        self.status_label.setText(self.tr("Fit cancelled: nothing was written."))

    def _update_buttons(self) -> None:
        busy = self.model.busy
        self.run_button.setEnabled(self.model.can_run)
        self.cancel_button.setEnabled(self.model.status == "running")
        self.reset_button.setEnabled(not busy and self.model.span_ms is not None)
        self.open_report_button.setEnabled(not busy)
        shown = self.model.shown
        self.open_project_button.setEnabled(
            not busy and shown is not None and shown.fitted_project is not None
        )
        for edit in self._edits.values():
            edit.setReadOnly(busy)

    # -------------------------------------------------------------- report
    def _on_shown(self, shown: ShownFit | None) -> None:
        self._show_report(shown)
        if shown is not None and not shown.from_file:
            self.status_label.setText(self.tr("Fit finished."))

    def _show_report(self, shown: ShownFit | None) -> None:
        self._series = []
        self._row_series = []
        metrics: list[list[str]] = []
        parameters: list[list[str]] = []
        notes: list[str] = []
        if shown is not None:
            for entry in shown.report.units:
                for out in entry.outputs:
                    bias = format_number(out.bias)
                    metrics.append(
                        [
                            entry.unit,
                            _kind_text(entry.kind),
                            out.name,
                            format_number(out.nrmse),
                            format_number(out.r2),
                            f"{bias} {out.unit}".strip(),
                        ]
                    )
                    series = entry.series.get(out.name)
                    self._row_series.append(-1 if series is None else len(self._series))
                    if series is not None:
                        self._series.append((entry.unit, out.name, out.unit, series))
                parameters.extend(
                    [
                        entry.unit,
                        p.name,
                        format_number(p.nominal),
                        format_number(p.value),
                        format_number(p.std_error),
                        p.unit,
                    ]
                    for p in entry.parameters
                )
                notes.extend(f"{entry.unit}: {note}" for note in entry.notes)
            notes.extend(
                self.tr("%1 skipped: %2").replace("%1", unit).replace("%2", reason)
                for unit, reason in shown.report.skipped
            )
        fill_table(self.metrics_table, metrics)
        fill_table(self.parameters_table, parameters)
        self.notes_label.setText("\n".join(notes))
        self.selector.blockSignals(True)
        self.selector.clear()
        self.selector.addItems([f"{unit} / {name}" for unit, name, _, _ in self._series])
        self.selector.blockSignals(False)
        self._plot_selected(0 if self._series else -1)
        self._show_fitted()
        self._update_buttons()

    def _show_fitted(self) -> None:
        shown = self.model.shown
        if shown is None:
            self.fitted_label.setText(self.tr("No fit yet: run a fit or open a fit report."))
        elif shown.fitted_project is None:
            self.fitted_label.setText(
                self.tr("Fit report: %1").replace("%1", str(shown.report_path))
            )
        else:
            self.fitted_label.setText(
                self.tr("Fitted project: %1").replace("%1", str(shown.fitted_project))
            )

    def _on_metric_selected(self) -> None:
        rows = self.metrics_table.selectionModel().selectedRows()
        if not rows:
            return
        index = self._row_series[rows[0].row()]
        if index >= 0:
            self.selector.setCurrentIndex(index)

    def _plot_selected(self, index: int) -> None:
        if not 0 <= index < len(self._series):
            for curve in (self.measured_curve, self.predicted_curve, self.residual_curve):
                curve.setData([], [])
            if self.model.shown is None:
                note = self.tr("No fit yet")
            else:
                note = self.tr("No hold-out series in this fit report")
            for plot in (self.fit_plot, self.residual_plot):
                plot.show_empty(note)
            return
        _, name, unit, series = self._series[index]
        # True instants: the plots' PlantTimeAxis labels them in the plant's zone.
        x = series.time_ms.astype(np.float64) / 1000.0
        self.measured_curve.setData(x, series.measured)
        self.predicted_curve.setData(x, series.predicted)
        self.residual_curve.setData(x, series.predicted - series.measured)
        self.fit_plot.setLabel("left", f"{name} [{unit}]")
        self.residual_plot.setLabel("left", self.tr("Residual [%1]").replace("%1", unit))
        for plot in (self.fit_plot, self.residual_plot):
            plot.show_data()

    # ---------------------------------------------------------------- files
    def ask_report(self) -> None:
        """Ask for a fit report file and show it."""
        start = self.model.project_path
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Open fit report"),
            str(start.parent) if start is not None else "",
            self.tr("Fit report (*.fit.json)"),
        )
        if path:
            self.model.load_report(path)

    def _on_open_project(self) -> None:
        try:
            self.model.open_fitted_project()
        except EnergyoptError as exc:
            self.errors.report(exc, self.tr("Cannot open the fitted project"))

    # ------------------------------------------------------------ language
    def _retranslate(self) -> None:
        labels = (self.tr("Training:"), self.tr("Validation:"), self.tr("to"), self.tr("to"))
        for label, text in zip(self._window_labels, labels, strict=True):
            label.setText(text)
        self.reset_button.setText(self.tr("Default split"))
        self.reset_button.setToolTip(
            self.tr("Train on the first %1 % of the file and validate on the rest").replace(
                "%1", f"{100.0 * self.model.train_fraction:.0f}"
            )
        )
        self.run_button.setText(self.tr("Run fit"))
        self.cancel_button.setText(self.tr("Cancel"))
        self.open_project_button.setText(self.tr("Open fitted project"))
        self.open_report_button.setText(self.tr("Open fit report..."))
        self.metrics_table.setHorizontalHeaderLabels([_column_title(c) for c in METRIC_COLUMNS])
        self.parameters_table.setHorizontalHeaderLabels(
            [_column_title(c) for c in PARAMETER_COLUMNS]
        )
        self.fit_plot.setTitle(self.tr("Hold-out: measured and predicted"))
        self.residual_plot.setTitle(self.tr("Residual (predicted - measured)"))
        legend = self.fit_plot.plotItem.legend
        if legend is not None:
            legend.clear()
            legend.addItem(self.measured_curve, self.tr("measured"))
            legend.addItem(self.predicted_curve, self.tr("predicted"))
        self._show_window_problem()
        self._show_report(self.model.shown)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        """Retranslate on a language change."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)
