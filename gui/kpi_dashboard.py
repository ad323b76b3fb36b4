"""KPI dashboard: recorded vs baseline vs MPC, cost and energy intensity over time, HTML export.

:class:`KpiDashboardPanel` shows a Qt-free
:class:`~energyopt.appstate.kpi_dashboard.KpiDashboard`: the KPI table of a
replay folder (names in the UI language, units, differences from the
reference run coloured by the KPI's better direction), the cumulative cost
and the rolling energy intensity of every run (pyqtgraph, one curve per
run), and the buttons "Open replay folder...", "Run replay..." (a
:class:`ReplayDialog`) and "Export HTML report".  Loads, replays and reports
run in workers (:func:`gui.workers.worker_task_runner`) with progress, time left and
cancel; failures open error dialogs.  :func:`install_kpi_dashboard` puts the
panel into the main window.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QEvent, Qt, QUrl
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from energyopt.appstate.kpi_dashboard import (
    DashboardData,
    KpiDashboard,
    ReplayRequest,
    default_out_dir,
)
from energyopt.appstate.kpi_data import period_text
from energyopt.appstate.tasks import TaskProgress
from energyopt.errors import EnergyoptError
from energyopt.report.charts import run_colour
from energyopt.report.strings import fmt_value
from gui.kpi_replay_dialog import ReplayDialog
from gui.progress_panel import format_remaining
from gui.time_axis import PlantTimeAxis
from gui.workers import worker_task_runner

if TYPE_CHECKING:
    from collections.abc import Callable

    from gui.errors import ErrorReporter
    from gui.main_window import MainWindow

__all__ = [
    "BETTER_COLOUR",
    "WORSE_COLOUR",
    "KpiDashboardPanel",
    "install_kpi_dashboard",
]

#: Text colour of a difference that is better / worse than the reference.
BETTER_COLOUR = "#1a7f37"
WORSE_COLOUR = "#c62828"
_BAR_STEPS = 1000
#: Height each time plot keeps in a short dock (the panel scrolls below the buttons). [px]
_PLOT_MIN_HEIGHT_PX = 160
#: KPI rows the table keeps room for. [-]
_TABLE_MIN_ROWS = 4
#: Item data role holding whether a difference cell is better (True), worse (False) or neither.
IMPROVED_ROLE = Qt.ItemDataRole.UserRole + 1


def run_title(run: str) -> str:
    """Translated display name of a run."""
    titles = {
        "recorded": QCoreApplication.translate("KpiDashboard", "Recorded"),
        "baseline": QCoreApplication.translate("KpiDashboard", "Baseline"),
        "mpc": QCoreApplication.translate("KpiDashboard", "MPC"),
    }
    return titles.get(run, run)


def report_language(ui_language: str) -> str:
    """The report language of a UI language (``"zh_CN"`` -> ``"zh"``, else ``"en"``)."""
    return "zh" if ui_language.lower().startswith("zh") else "en"


class KpiDashboardPanel(QWidget):
    """The KPI dashboard panel.

    Parameters
    ----------
    model : KpiDashboard
        The state shown.
    errors : ErrorReporter
        Shows failures as dialogs.
    language : callable, optional
        Returns the UI language (``"en"``, ``"zh_CN"``) the report is written in.
    parent : QWidget, optional
        Qt parent.
    """

    def __init__(
        self,
        model: KpiDashboard,
        errors: ErrorReporter,
        language: Callable[[], str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.errors = errors
        self._language = language if language is not None else (lambda: "en")
        self._report_path: Path | None = None
        self.dialog: ReplayDialog | None = None
        self._dialog_now_s: float | None = None

        self.button_open = QPushButton()
        self.button_open.setObjectName("kpi_open_folder")
        self.button_open.clicked.connect(self.ask_folder)
        self.button_replay = QPushButton()
        self.button_replay.setObjectName("kpi_run_replay")
        self.button_replay.clicked.connect(self.show_replay_dialog)
        self.button_export = QPushButton()
        self.button_export.setObjectName("kpi_export_report")
        self.button_export.clicked.connect(self.export_report)
        self.button_cancel = QPushButton()
        self.button_cancel.setObjectName("kpi_cancel")
        self.button_cancel.clicked.connect(model.cancel)
        buttons = QHBoxLayout()
        for button in (self.button_open, self.button_replay, self.button_export):
            buttons.addWidget(button)
        buttons.addStretch(1)

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, _BAR_STEPS)
        self.progress_label = QLabel()
        progress = QHBoxLayout()
        progress.addWidget(self.progress_bar, 1)
        progress.addWidget(self.progress_label, 2)
        progress.addWidget(self.button_cancel)

        self.info_label = QLabel()
        self.info_label.setWordWrap(True)
        self.report_label = QLabel()
        self.report_label.setObjectName("kpi_report_path")
        self.report_label.setOpenExternalLinks(True)
        self.report_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.table = QTableWidget()
        self.table.setObjectName("kpi_table")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table_note = QLabel()
        self.table_note.setWordWrap(True)

        # Plant time on both axes, as on the replay clock (set per loaded folder).
        self.cost_plot = pg.PlotWidget(axisItems={"bottom": PlantTimeAxis("bottom")})
        self.cost_plot.setObjectName("kpi_cost_plot")
        self.cost_plot.addLegend()
        self.cost_plot.showGrid(x=True, y=True, alpha=0.3)
        self.intensity_plot = pg.PlotWidget(axisItems={"bottom": PlantTimeAxis("bottom")})
        self.intensity_plot.setObjectName("kpi_intensity_plot")
        self.intensity_plot.addLegend()
        self.intensity_plot.showGrid(x=True, y=True, alpha=0.3)
        self.intensity_plot.setXLink(self.cost_plot)
        self.cost_note = QLabel()
        self.cost_note.setWordWrap(True)
        self.intensity_note = QLabel()
        self.intensity_note.setWordWrap(True)

        plots = QWidget()
        plots_layout = QVBoxLayout(plots)
        plots_layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.cost_plot, self.cost_note, self.intensity_plot, self.intensity_note):
            plots_layout.addWidget(widget)
        table_box = QWidget()
        table_layout = QVBoxLayout(table_box)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.table)
        table_layout.addWidget(self.table_note)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(table_box)
        splitter.addWidget(plots)
        for plot in (self.cost_plot, self.intensity_plot):
            plot.setMinimumHeight(_PLOT_MIN_HEIGHT_PX)
        row_px = self.table.verticalHeader().defaultSectionSize()
        self.table.setMinimumHeight(
            self.table.horizontalHeader().sizeHint().height() + _TABLE_MIN_ROWS * row_px
        )
        # Below the buttons everything scrolls: in a short dock (1366x768) the
        # table and the plots keep a readable height instead of a few pixels.
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(self.info_label)
        body_layout.addWidget(self.report_label)
        body_layout.addWidget(splitter, 1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("kpi_scroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setWidget(body)

        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addLayout(progress)
        layout.addWidget(self.scroll_area, 1)

        model.data_changed.connect(self._show_data)
        model.busy_changed.connect(self._busy)
        model.progress_changed.connect(self._show_progress)
        model.failed.connect(self._failed)
        model.cancelled.connect(self._cancelled)
        model.report_written.connect(self._report_written)
        self._busy(model.busy)
        self._retranslate()
        self._show_data(model.data)

    # ------------------------------------------------------------ actions
    def ask_folder(self) -> None:
        """Ask for a replay output folder and load it."""
        start = str(self.model.data.folder.parent) if self.model.data else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, self.tr("Open replay folder"), start)
        if folder:
            self.open_folder(folder, chosen=True)

    def open_folder(self, folder: str | Path, *, chosen: bool = False) -> bool:
        """Load a replay output folder in a worker; return whether it started.

        Parameters
        ----------
        folder : str or path-like
            The folder.
        chosen : bool
            The user chose it (the header then names it).
        """
        return self.model.open_folder(folder, name=self.tr("Loading replay folder"), chosen=chosen)

    def show_replay_dialog(self) -> ReplayDialog:
        """Open the "Run replay" dialog (non-blocking); return it."""
        project, data = self.model.replay_defaults()
        self._dialog_now_s = time.time()
        dialog = ReplayDialog(
            project,
            data,
            self.model.data_span_ms,
            self._timezone(),
            now_s=self._dialog_now_s,
            parent=self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.request_ready.connect(self.run_replay)
        self.dialog = dialog
        dialog.open()
        return dialog

    def run_replay(self, request: ReplayRequest) -> bool:
        """Start a replay in a worker; return whether it started.

        The output folder counts as chosen by the user unless it is the one
        the "Run replay" dialog proposed.

        Parameters
        ----------
        request : ReplayRequest
            What to replay.
        """
        name = self.tr("Replay (%1)").replace("%1", run_title(request.controller))
        proposed = None
        if self._dialog_now_s is not None:
            proposed = default_out_dir(request.data_path, request.controller, self._dialog_now_s)
        chosen = Path(request.out_dir) != proposed
        return self.model.run_replay(request, name=name, chosen=chosen)

    def export_report(self) -> bool:
        """Write the loaded folder's report.html in a worker, in the UI language."""
        try:
            return self.model.export_report(
                report_language(self._language()), name=self.tr("HTML report")
            )
        except EnergyoptError as exc:
            self.errors.report(exc, self.tr("Cannot export the report"))
            return False

    # -------------------------------------------------------------- model
    def _timezone(self) -> str:
        return self.model.data.timezone if self.model.data is not None else "UTC"

    def _busy(self, busy: bool) -> None:
        self.button_open.setEnabled(not busy)
        self.button_replay.setEnabled(not busy)
        self.button_export.setEnabled(not busy and self.model.data is not None)
        self.button_cancel.setEnabled(busy)
        self.progress_bar.setVisible(busy)
        self.button_cancel.setVisible(busy)
        if not busy:
            self.progress_label.clear()
            self.progress_bar.setValue(0)
        else:
            self.progress_bar.setRange(0, 0)  # busy indicator until a total is known

    def _show_progress(self, info: TaskProgress) -> None:
        fraction = info.fraction
        if fraction is None:
            self.progress_bar.setRange(0, 0)
        else:
            self.progress_bar.setRange(0, _BAR_STEPS)
            self.progress_bar.setValue(round(fraction * _BAR_STEPS))
        text = info.message
        if info.remaining_s is not None:
            left = self.tr("%1 left").replace("%1", format_remaining(info.remaining_s))
            text = f"{text} · {left}" if text else left
        self.progress_label.setText(text)

    def _failed(self, task: str, exc: BaseException) -> None:
        titles = {
            "load": self.tr("Cannot open replay folder"),
            "replay": self.tr("Replay failed"),
            "report": self.tr("Cannot export the report"),
        }
        self.errors.report(exc, titles.get(task, ""))

    def _cancelled(self, _task: str) -> None:
        self.progress_label.setText(self.tr("Cancelled"))

    def _report_written(self, path: Path) -> None:
        self._report_path = path
        self._show_report_path()

    def _show_report_path(self) -> None:
        path = self._report_path
        if path is None:
            self.report_label.clear()
            return
        url = QUrl.fromLocalFile(str(path)).toString()
        text = self.tr("Report written: %1").replace("%1", f'<a href="{url}">{path}</a>')
        self.report_label.setText(text)

    # --------------------------------------------------------------- view
    def _show_data(self, data: DashboardData | None) -> None:
        self.button_export.setEnabled(data is not None and not self.model.busy)
        self._fill_info(data)
        self._fill_table(data)
        self._fill_plots(data)

    def _fill_info(self, data: DashboardData | None) -> None:
        """The header: project, period, controllers compared; the folder if the user chose it."""
        if data is None:
            self.info_label.setText(self.tr("No replay folder open."))
            return
        project = data.plant or (data.source_project.stem if data.source_project else "–")
        lines = [f"{project} · {period_text(data.period_ms, data.timezone)}"]
        others = [run_title(run) for run in data.runs if run != data.controller]
        controller = run_title(data.controller) if data.controller else "–"
        if others:
            lines.append(
                self.tr("Controller %1, compared with %2")
                .replace("%1", controller)
                .replace("%2", ", ".join(others))
            )
        else:
            lines.append(self.tr("Controller %1").replace("%1", controller))
        if self.model.folder_chosen:
            lines.append(self.tr("Results folder: %1").replace("%1", str(data.folder)))
        self.info_label.setText("\n".join(lines))

    def _fill_table(self, data: DashboardData | None) -> None:
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        if data is None or not data.rows:
            note = data.kpis_problem if data is not None else ""
            self.table_note.setText(self.tr("No KPIs: %1").replace("%1", note) if note else "")
            return
        lang = report_language(self._language())
        ref = data.reference
        header = [self.tr("KPI"), self.tr("Unit")]
        for run in data.runs:
            header.append(run_title(run))
            if run != ref:
                header.append(self.tr("Δ vs %1").replace("%1", run_title(ref or "")))
                header.append(self.tr("Δ %"))
        self.table.setColumnCount(len(header))
        self.table.setHorizontalHeaderLabels(header)
        self.table.setRowCount(len(data.rows))
        notes = []
        for i, row in enumerate(data.rows):
            cells: list[tuple[str, bool | None]] = [(row.name(lang), None), (row.unit, None)]
            for run in data.runs:
                cells.append((fmt_value(row.values.get(run)), None))
                diff = row.differences.get(run)
                if diff is not None:
                    pct = diff.relative_pct
                    pct_text = f"{pct:+.1f} %" if math.isfinite(pct) else "–"
                    cells.append((fmt_value(diff.absolute, signed=True), diff.improved))
                    cells.append((pct_text, diff.improved))
            for j, (text, improved) in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(IMPROVED_ROLE, improved)
                if j >= 2:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if improved is not None:
                    colour = BETTER_COLOUR if improved else WORSE_COLOUR
                    item.setForeground(QBrush(QColor(colour)))
                self.table.setItem(i, j, item)
            notes += [f"{run_title(run)} · {row.name(lang)}: {n}" for run, n in row.notes.items()]
        legend = self.tr("Differences against %1: green is better, red is worse.").replace(
            "%1", run_title(ref or "")
        )
        self.table_note.setText("\n".join([legend, *notes]))

    def _fill_plots(self, data: DashboardData | None) -> None:
        for plot, series, axis in (
            (
                self.cost_plot,
                data.cost if data else {},
                self.tr("Cumulative cost [%1]").replace("%1", data.currency if data else ""),
            ),
            (
                self.intensity_plot,
                data.intensity if data else {},
                self.tr("Energy intensity, %1 h rolling [kgce/t]").replace(
                    "%1", f"{data.window_s / 3600.0:g}" if data else ""
                ),
            ),
        ):
            plot.clear()
            legend = plot.getPlotItem().legend
            if legend is not None:
                legend.clear()
            plot.setLabel("left", axis)
            axis_item = plot.getPlotItem().getAxis("bottom")
            if isinstance(axis_item, PlantTimeAxis):
                axis_item.set_timezone(data.timezone if data else "UTC")
            for position, (run, (time_ms, values)) in enumerate(series.items()):
                x = time_ms.astype(np.float64) / 1000.0
                pen = pg.mkPen(run_colour(run, position), width=2)
                plot.plot(x, values, pen=pen, name=run_title(run), connect="finite")
            plot.enableAutoRange()
        self.cost_note.setText(
            self.tr("No cost over time: %1").replace("%1", data.cost_problem)
            if data is not None and data.cost_problem
            else ""
        )
        self.intensity_note.setText(
            self.tr("No energy intensity over time: %1").replace("%1", data.intensity_problem)
            if data is not None and data.intensity_problem
            else ""
        )

    # ---------------------------------------------------------- language
    def _retranslate(self) -> None:
        self.button_open.setText(self.tr("Open replay folder..."))
        self.button_replay.setText(self.tr("Run replay..."))
        self.button_export.setText(self.tr("Export HTML report"))
        self.button_cancel.setText(self.tr("Cancel"))
        self.cost_plot.setTitle(self.tr("Cost over time"))
        self.intensity_plot.setTitle(self.tr("Energy intensity over time"))
        self._show_data(self.model.data)
        self._show_report_path()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        """Retranslate on a language change."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)


def install_kpi_dashboard(window: MainWindow) -> KpiDashboardPanel:
    """Create the dashboard of a main window: model on its workers and session, panel in its dock.

    Parameters
    ----------
    window : MainWindow
        The window (its workers, session, error reporter and language).

    Returns
    -------
    KpiDashboardPanel
        The panel (its model is ``panel.model``).
    """
    model = KpiDashboard(worker_task_runner(window.workers))
    model.follow_session(window.session)
    panel = KpiDashboardPanel(model, window.errors, lambda: window.language.language)
    dock = window.register_panel("kpis", panel)  # a slot of PANEL_SLOTS: the window titles it
    model_dock = window.docks.get("model")
    if model_dock is not None:
        # A tab behind the model panel: a hidden dashboard costs no layout or paint
        # while the replay clock drives the visible views.
        window.tabifyDockWidget(model_dock, dock)
        model_dock.raise_()
    return panel
