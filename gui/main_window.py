"""The main window: menus, dock layout, status bar, open files, session restore.

The window observes a Qt-free :class:`~energyopt.appstate.SessionState` and
persists it through :class:`~gui.settings.AppSettings`.  Panels live in docks
(each with an ``objectName``, so the layout is saved and restored);
:data:`PANEL_SLOTS` are placeholder docks that other panels fill with
:meth:`MainWindow.register_panel`.

The constructor never blocks: files given to it are opened at once, errors
appear as non-blocking dialogs, and files of the restored session that fail
to open are only reported in the status bar (``energyopt-gui --smoke`` relies
on this).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QWidget,
)

from energyopt import __version__
from energyopt.appstate import SessionState
from energyopt.appstate.fitting import FitModel
from energyopt.appstate.plant_views import PlantViewsModel
from energyopt.appstate.recommendations import RecommendationsModel
from energyopt.appstate.replay_clock import ReplayClock
from energyopt.errors import EnergyoptError
from gui.errors import ErrorReporter
from gui.fonts import apply_language_font
from gui.i18n import LanguageManager, language_manager
from gui.kpi_dashboard import install_kpi_dashboard
from gui.model_panel import ModelPanel
from gui.plant_views import (
    FlowsDock,
    TrendsDock,
    after_trends_built,
    freeze_heap_when_loaded,
    report_failures,
)
from gui.progress_panel import ProgressPanel
from gui.project_view import ProjectView
from gui.recommendations_panel import RecommendationsPanel
from gui.replay_clock import ReplayClockWidget
from gui.settings import AppSettings
from gui.settings_dialog import SettingsDialog
from gui.tag_browser import TagBrowser
from gui.tuning_panel import install_tuning_panel
from gui.window_layout import (
    LAYOUT_VERSION,
    arrange_default_layout,
    default_window_size,
    limit_minimum_size,
    tab_group_for,
)
from gui.workers import Worker, WorkerManager, worker_task_runner

if TYPE_CHECKING:
    from energyopt.appstate import HistorianSummary
    from energyopt.data.inspect import InspectReport

__all__ = ["PANEL_SLOTS", "MainWindow"]

log = logging.getLogger(__name__)

_Area = Qt.DockWidgetArea

PANEL_SLOTS: dict[str, Qt.DockWidgetArea] = {
    "flows": _Area.RightDockWidgetArea,
    "trends": _Area.BottomDockWidgetArea,
    "recommendations": _Area.RightDockWidgetArea,
    "replay": _Area.BottomDockWidgetArea,
    "model": _Area.RightDockWidgetArea,
    "kpis": _Area.RightDockWidgetArea,
}
"""Placeholder docks for panels built elsewhere: name -> dock area."""


def _panel_title(name: str) -> str:
    """Translated title of a built-in dock."""
    titles = {
        "project": QCoreApplication.translate("MainWindow", "Project"),
        "tags": QCoreApplication.translate("MainWindow", "Tags"),
        "flows": QCoreApplication.translate("MainWindow", "Energy flows"),
        "trends": QCoreApplication.translate("MainWindow", "Trends"),
        "recommendations": QCoreApplication.translate("MainWindow", "Recommendations"),
        "replay": QCoreApplication.translate("MainWindow", "Replay"),
        "model": QCoreApplication.translate("MainWindow", "Model"),
        "kpis": QCoreApplication.translate("MainWindow", "KPI dashboard"),
    }
    return titles.get(name, name)


class MainWindow(QMainWindow):
    """The energyopt main window.

    Parameters
    ----------
    session : SessionState, optional
        The state to show; a new one with the stored recent files if omitted.
    settings : AppSettings, optional
        Where settings persist; the user's settings if omitted.
    project, historian : path-like, optional
        Files to open at once (instead of restoring the last session).
    restore_session : bool
        Reopen the last session's files and replay time when no file is given.
    errors : ErrorReporter, optional
        Error dialogs and log; a new one (not installed as global hook) if omitted.
    language : LanguageManager, optional
        Translators of the application; the shared one if omitted.
    """

    def __init__(
        self,
        session: SessionState | None = None,
        settings: AppSettings | None = None,
        *,
        project: str | Path | None = None,
        historian: str | Path | None = None,
        restore_session: bool = True,
        errors: ErrorReporter | None = None,
        language: LanguageManager | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings if settings is not None else AppSettings()
        self.session = session if session is not None else self.settings.new_session()
        self.errors = errors if errors is not None else ErrorReporter(parent=self)
        self.errors.dialog_parent = self
        self.language = language if language is not None else language_manager()
        self.workers = WorkerManager(self)
        self._scan: Worker | None = None
        self._font_warned = False
        self._app_font = QApplication.font()
        self.docks: dict[str, QDockWidget] = {}

        self.setObjectName("energyopt_main_window")
        self.setDockNestingEnabled(True)
        self.project_view = ProjectView(self.session)
        self.tag_browser = TagBrowser(self.session)
        self._add_dock("project", self.project_view, _Area.LeftDockWidgetArea)
        self._add_dock("tags", self.tag_browser, _Area.LeftDockWidgetArea)
        for name, area in PANEL_SLOTS.items():
            self._add_dock(name, self._placeholder(), area)
        self._build_menus()
        self._build_status_bar()
        self._build_advisor()
        self._build_model_panel()
        self.kpi_dashboard = install_kpi_dashboard(self)
        self.tuning_panel = install_tuning_panel(self)
        self.resize(default_window_size(self.screen()))
        self.reset_layout()

        self.session.project_changed.connect(self._update_title)
        self.session.historian_changed.connect(self._update_title)
        self.session.replay_time_changed.connect(self._show_replay_time)
        self.session.language_changed.connect(self._on_language_preference)
        self.session.recent_projects.changed.connect(self._on_recent_changed)
        self.session.recent_historians.changed.connect(self._on_recent_changed)

        geometry, state = self.settings.window_geometry(), self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state, LAYOUT_VERSION)  # another version's layout: ignored
        self._apply_language(self.session.language)
        self._retranslate()
        if project is not None or historian is not None:
            if project is not None:
                self.open_project(project)
            if historian is not None:
                self.open_historian(historian)
        elif restore_session:
            self._restore_last_session()

    # ------------------------------------------------------------ layout
    def _placeholder(self) -> QLabel:
        label = QLabel()
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setObjectName("placeholder")
        return label

    def _add_dock(self, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(_panel_title(name), self)
        dock.setObjectName(f"dock_{name}")
        limit_minimum_size(widget)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        return dock

    def register_panel(
        self,
        name: str,
        widget: QWidget,
        title: str | None = None,
        area: Qt.DockWidgetArea = _Area.RightDockWidgetArea,
    ) -> QDockWidget:
        """Put a panel into the window.

        Parameters
        ----------
        name : str
            Panel name; a name of :data:`PANEL_SLOTS` (``"flows"``,
            ``"trends"``) replaces that placeholder, another adds a dock (its
            layout is saved under this name).
        widget : QWidget
            The panel.
        title : str, optional
            Dock title (translated by the caller); the built-in title if omitted.
        area : Qt.DockWidgetArea
            Where a new dock goes.

        Returns
        -------
        QDockWidget
            The dock holding the panel.
        """
        dock = self.docks.get(name)
        if dock is None:
            dock = self._add_dock(name, widget, area)
            self._view_menu.insertAction(self._view_separator, dock.toggleViewAction())
            self._tabify_new_dock(dock, area)
        else:
            limit_minimum_size(widget)
            old = dock.widget()
            dock.setWidget(widget)
            if old is not None:
                old.deleteLater()
        if title is not None:
            dock.setWindowTitle(title)
        return dock

    def _tabify_new_dock(self, dock: QDockWidget, area: Qt.DockWidgetArea) -> None:
        """Make a new dock a tab of the group sharing its area (no extra split)."""
        for name in tab_group_for(area):
            group = self.docks.get(name)
            if group is not None and group is not dock and not group.isFloating():
                self.tabifyDockWidget(group, dock)
                return

    def reset_layout(self) -> None:
        """Put the built-in docks back into the default arrangement (View menu)."""
        arrange_default_layout(self, self.docks)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.menu_file = bar.addMenu("")
        self.action_open_project = self.menu_file.addAction("", self.ask_project)
        self.action_open_project.setShortcut(QKeySequence.StandardKey.Open)
        self.action_open_historian = self.menu_file.addAction("", self.ask_historian)
        self.menu_recent_projects = QMenu(self)
        self.menu_recent_historians = QMenu(self)
        self.menu_file.addMenu(self.menu_recent_projects)
        self.menu_file.addMenu(self.menu_recent_historians)
        self.menu_file.addSeparator()
        self.action_quit = self.menu_file.addAction("", self.close)
        self.action_quit.setShortcut(QKeySequence.StandardKey.Quit)
        self._view_menu = bar.addMenu("")
        for dock in self.docks.values():
            self._view_menu.addAction(dock.toggleViewAction())
        self._view_separator = self._view_menu.addSeparator()
        self.action_reset_layout = self._view_menu.addAction("", self.reset_layout)
        self.menu_tools = bar.addMenu("")
        self.action_rescan = self.menu_tools.addAction("", self.start_quality_scan)
        self.action_settings = self.menu_tools.addAction("", self.show_settings)
        self.menu_help = bar.addMenu("")
        self.action_about = self.menu_help.addAction("", self._about)
        self._rebuild_recent_menus()

    def _build_advisor(self) -> None:
        """The replay clock and the recommendations panel, following the session."""
        self.replay_clock = ReplayClock()
        self.replay_clock.follow_session(self.session)
        runner = worker_task_runner(self.workers, self.tr("Advisor"))
        self.recommendations = RecommendationsModel(runner)
        self.recommendations.follow_session(self.session)
        self.recommendations.follow_clock(self.replay_clock)
        self.replay_widget = ReplayClockWidget(self.replay_clock)
        self.recommendations_panel = RecommendationsPanel(
            self.recommendations, self.errors, self.replay_clock.format_time
        )
        self.register_panel("replay", self.replay_widget)
        self.register_panel("recommendations", self.recommendations_panel)
        # Trends and flows of the recorded history, loaded when first shown.
        self.plant_views = PlantViewsModel(
            worker_task_runner(self.workers, self.tr("Trends and flows"))
        )
        self.plant_views.follow_session(self.session)
        report_failures(self.plant_views, self.errors)
        self.trends_dock = TrendsDock(self.plant_views, self.replay_clock)
        self.flows_dock = FlowsDock(self.plant_views, self.replay_clock)
        self.register_panel("trends", self.trends_dock)
        self.register_panel("flows", self.flows_dock)
        loaded = (self.plant_views.trends_changed, self.plant_views.flows_changed)
        freeze_heap_when_loaded(self, self.session, *loaded, self.recommendations.source_changed)

    def _build_model_panel(self) -> None:
        """The model panel: fits in a worker, following the session."""
        self.fit_model = FitModel(worker_task_runner(self.workers, self.tr("Fit")))
        self.fit_model.follow_session(self.session)
        self.model_panel = ModelPanel(self.fit_model, self.errors, clock=self.replay_clock)
        self.register_panel("model", self.model_panel)

    def _build_status_bar(self) -> None:
        self.replay_label = QLabel()
        self.progress_panel = ProgressPanel(self.workers)
        self.statusBar().addPermanentWidget(self.progress_panel)
        self.statusBar().addPermanentWidget(self.replay_label)

    def _retranslate(self) -> None:
        self.menu_file.setTitle(self.tr("&File"))
        self.action_open_project.setText(self.tr("Open &project..."))
        self.action_open_historian.setText(self.tr("Open &historian file..."))
        self.menu_recent_projects.setTitle(self.tr("Recent p&rojects"))
        self.menu_recent_historians.setTitle(self.tr("Recent historian &files"))
        self.action_quit.setText(self.tr("&Quit"))
        self._view_menu.setTitle(self.tr("&View"))
        self.action_reset_layout.setText(self.tr("&Reset layout"))
        self.menu_tools.setTitle(self.tr("&Tools"))
        self.action_rescan.setText(self.tr("Scan data &quality"))
        self.action_settings.setText(self.tr("&Settings..."))
        self.menu_help.setTitle(self.tr("&Help"))
        self.action_about.setText(self.tr("&About energyopt"))
        for name, dock in self.docks.items():
            if name in ("project", "tags", *PANEL_SLOTS):
                dock.setWindowTitle(_panel_title(name))
                placeholder = dock.widget()
                if isinstance(placeholder, QLabel) and placeholder.objectName() == "placeholder":
                    placeholder.setText(self.tr("This panel is not available yet."))
        self._rebuild_recent_menus()
        self._update_title()
        self._show_replay_time(self.session.replay_time_ms)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        """Retranslate on a language change."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    # ------------------------------------------------------- open files
    def ask_project(self) -> None:
        """Ask for a project file and open it."""
        start = str(self.session.project_path.parent if self.session.project_path else Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open project"), start, self.tr("Project (*.toml)")
        )
        if path:
            self.open_project(path)

    def ask_historian(self) -> None:
        """Ask for a historian file and open it."""
        current = self.session.historian
        start = str(current.path.parent if current else Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open historian file"), start, self.tr("Historian (*.h5 *.hdf5)")
        )
        if path:
            self.open_historian(path)

    def open_project(self, path: str | Path, *, quiet: bool = False) -> bool:
        """Open a project file; on error show a dialog and return ``False``.

        Parameters
        ----------
        path : str or path-like
            Project TOML file.
        quiet : bool
            Report an error in the status bar instead of a dialog.
        """
        try:
            self.session.open_project(path)
        except EnergyoptError as exc:
            self._fail(self.tr("Cannot open project"), exc, quiet=quiet)
            return False
        if self.session.historian is not None:
            self.start_quality_scan()  # the project's bindings refine the checks
        return True

    def open_historian(self, path: str | Path, *, quiet: bool = False) -> bool:
        """Open a historian file read-only and scan its quality in a worker.

        Parameters
        ----------
        path : str or path-like
            Historian ``.h5`` file.
        quiet : bool
            Report an error in the status bar instead of a dialog.

        Returns
        -------
        bool
            Whether the file opened; ``False`` after showing the error.
        """
        try:
            self.session.open_historian(path)
        except EnergyoptError as exc:
            self._fail(self.tr("Cannot open historian file"), exc, quiet=quiet)
            return False
        self.start_quality_scan()
        return True

    def _fail(self, title: str, exc: EnergyoptError, *, quiet: bool) -> None:
        if quiet:
            self.statusBar().showMessage(f"{title}: {exc}")
            log.warning("%s: %s", title, exc)
        else:
            self.errors.report(exc, title)

    def start_quality_scan(self) -> Worker | None:
        """Scan the open historian file's data quality in a worker (cancelling a running scan).

        Returns
        -------
        Worker or None
            The scan, ``None`` without an open historian file.
        """
        from energyopt.data.inspect import inspect_file

        summary = self.session.historian
        if summary is None:
            return None
        if self._scan is not None and self._scan.is_running:
            self._scan.cancel()
        kwargs = {}
        project = self.session.project
        if project is not None:
            from energyopt.project import tag_expectations

            kwargs = {"policy": project.data_quality, "expectations": tag_expectations(project)}
        # Its numpy work starts once the trend plots are built: beside a plot being
        # built it held the GIL for about 25 ms of that event-loop turn (issue 6).
        worker = self.workers.start(
            after_trends_built(self.trends_dock, inspect_file),
            summary.path,
            name=self.tr("Data-quality scan"),
            **kwargs,
        )
        path = summary.path
        worker.finished.connect(lambda report: self._scan_finished(path, report))
        worker.failed.connect(
            lambda exc: self.errors.report(exc, self.tr("Data-quality scan failed"))
        )
        worker.cancelled.connect(
            lambda: self.statusBar().showMessage(self.tr("Data-quality scan cancelled"), 5000)
        )
        self._scan = worker
        return worker

    def _scan_finished(self, path: Path, report: InspectReport) -> None:
        if self.session.set_quality_findings(path, report.findings):
            self.statusBar().showMessage(
                self.tr("Data-quality scan: %1 findings").replace("%1", str(len(report.findings))),
                5000,
            )

    # ----------------------------------------------------------- session
    def _restore_last_session(self) -> None:
        snapshot = self.settings.last_session()
        if snapshot.project_path is not None:
            self.open_project(snapshot.project_path, quiet=True)
        if snapshot.historian_path is not None:
            self.open_historian(snapshot.historian_path, quiet=True)
        if snapshot.replay_time_ms is not None and self.session.historian is not None:
            self.session.replay_time_ms = snapshot.replay_time_ms

    def _on_recent_changed(self, _paths: list[Path]) -> None:
        self.settings.save_recent(self.session)
        self._rebuild_recent_menus()

    def _rebuild_recent_menus(self) -> None:
        for menu, recent, opener in (
            (self.menu_recent_projects, self.session.recent_projects, self.open_project),
            (self.menu_recent_historians, self.session.recent_historians, self.open_historian),
        ):
            menu.clear()
            for path in recent.paths:
                action = menu.addAction(str(path))
                action.triggered.connect(lambda _checked=False, p=path, o=opener: o(p))
            menu.setEnabled(bool(recent.paths))
            if recent.paths:
                menu.addSeparator()
                menu.addAction(self.tr("Clear list"), recent.clear)

    def _update_title(self, *_args: object) -> None:
        parts = [f"energyopt {__version__}"]
        if self.session.project_path is not None:
            parts.append(self.session.project_path.name)
        historian: HistorianSummary | None = self.session.historian
        if historian is not None:
            parts.append(historian.path.name)
        self.setWindowTitle(" - ".join(parts))

    def _show_replay_time(self, time_ms: int | None) -> None:
        from energyopt.data.format import format_time_ms

        historian = self.session.historian
        if time_ms is None or historian is None:
            self.replay_label.clear()
            return
        stamp = format_time_ms(time_ms, historian.timezone)
        self.replay_label.setText(self.tr("Replay time: %1").replace("%1", stamp))

    # ---------------------------------------------------------- language
    def _on_language_preference(self, preference: str) -> None:
        self.settings.set_language(preference)
        self._apply_language(preference)

    def _apply_language(self, preference: str) -> None:
        try:
            language = self.language.apply(preference)
        except (ValueError, FileNotFoundError) as exc:
            log.warning("language %r not applied: %s", preference, exc)
            self.statusBar().showMessage(str(exc))
            return
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            return
        warning = apply_language_font(app, language, self._app_font)
        if warning is not None and not self._font_warned:
            self._font_warned = True
            self.statusBar().showMessage(warning)
            log.warning("%s", warning)

    def show_settings(self) -> SettingsDialog:
        """Open the settings dialog (non-blocking); return it."""
        dialog = SettingsDialog(self.session, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _about(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Information,
            self.tr("About energyopt"),
            self.tr("energyopt %1: factory energy and process-control optimiser.").replace(
                "%1", __version__
            ),
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # ------------------------------------------------------------- close
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Cancel and join the workers, then save the layout and the session."""
        self.replay_widget.stop()
        if not self.workers.shutdown():
            log.warning("a worker did not stop within the shutdown timeout")
        self.recommendations.close()
        self.fit_model.close()
        self.plant_views.close()
        try:
            self.recommendations.decisions.save_if_needed()
        except EnergyoptError as exc:  # the journal keeps them: reported, not lost
            log.warning("decisions not saved: %s", exc)
        self.settings.save_window(self.saveGeometry(), self.saveState(LAYOUT_VERSION))
        self.settings.save_session(self.session.snapshot())
        self.settings.save_recent(self.session)
        super().closeEvent(event)
