"""Model panel (issue 6): fit windows, a fit in a worker with progress and cancel, the report.

The real fit runs on a copy of the chemical demo with half a day of history
(the fit takes about 0.3 s once numba's cache is warm): the smallest demo
whose fit calibrates parameters and writes hold-out series.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from numpy.testing import assert_allclose
from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import QApplication, QMessageBox

from energyopt.appstate import SessionState
from energyopt.appstate.fitting import FitModel
from energyopt.demos import demo_project_text
from energyopt.demos.history import write_demo_history
from energyopt.errors import CancelledError, ModelError
from energyopt.fitting import fit_project, load_fit_report
from energyopt.project.loader import load_project
from gui.i18n import language_manager
from gui.model_panel import (
    METRIC_COLUMNS,
    PARAMETER_COLUMNS,
    ModelPanel,
    format_number,
)
from gui.workers import WorkerManager, running_threads, worker_task_runner

pytestmark = pytest.mark.gui

#: Half a day at one minute: enough samples for the reactor's two estimates.
DAYS = 0.5


@pytest.fixture(scope="module")
def chemical_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder with the chemical demo ``plant.toml`` and a half-day ``history.h5``."""
    folder = tmp_path_factory.mktemp("chemical_fit_source")
    (folder / "plant.toml").write_text(demo_project_text("chemical"), encoding="utf-8")
    write_demo_history(
        load_project(folder / "plant.toml"), "chemical", folder / "history.h5", days=DAYS, seed=0
    )
    return folder


@pytest.fixture
def chemical(chemical_source: Path, tmp_path: Path) -> Path:
    """A private copy (the fit writes beside the project)."""
    folder = tmp_path / "plant"
    shutil.copytree(chemical_source, folder)
    return folder


class Setup:
    """A session on the demo copy, a fit model with workers and the panel."""

    def __init__(self, qtbot, errors, folder: Path, fit=None) -> None:
        self.folder = folder
        self.manager = WorkerManager()
        self.session = SessionState()
        self.model = FitModel(worker_task_runner(self.manager, "fit"), fit)
        self.model.follow_session(self.session)
        self.panel = ModelPanel(self.model, errors)
        qtbot.addWidget(self.panel)
        self.session.open_project(folder / "plant.toml")
        self.session.open_historian(folder / "history.h5")

    def outputs(self) -> list[str]:
        return sorted(p.name for p in self.folder.iterdir() if p.name.startswith("plant.fitted"))


def metric_cell(panel: ModelPanel, row: int, column: str) -> str:
    return panel.metrics_table.item(row, METRIC_COLUMNS.index(column)).text()


def parameter_cell(panel: ModelPanel, row: int, column: str) -> str:
    return panel.parameters_table.item(row, PARAMETER_COLUMNS.index(column)).text()


def close_dialogs(errors) -> None:
    for dialog in errors.open_dialogs:
        dialog.close()


def test_a_fit_runs_in_a_worker_and_fills_the_tables_with_the_report(
    qtbot, errors, chemical, stall_recorder
):
    threads: list[int] = []

    def fit(*args, **kwargs):
        threads.append(threading.get_ident())
        return fit_project(*args, **kwargs)

    s = Setup(qtbot, errors, chemical, fit)
    span = s.model.span_ms
    # Default split, computed independently: 70 % of the span (last sample plus one
    # step), rounded to whole one-minute steps from the first sample.
    step = 60_000
    cut = span[0] + round(0.7 * (span[1] - span[0]) / step) * step
    assert s.model.train_ms == (span[0], cut)
    assert s.model.validate_ms == (cut, span[1])
    assert s.panel._edits["validate_start"].dateTime().toMSecsSinceEpoch() == cut
    assert s.panel.run_button.isEnabled()
    with stall_recorder() as recorder:
        s.panel.run_button.click()
        assert s.model.status == "running"
        assert not s.panel.run_button.isEnabled()
        assert s.panel.cancel_button.isEnabled()
        qtbot.waitUntil(lambda: s.model.shown is not None, timeout=60_000)
    assert threads
    assert threading.get_ident() not in threads  # never on the GUI thread
    # The event loop kept running: measured 20-28 ms longest gap here (showing the
    # report and repainting the plots).  The same fit on the GUI thread takes 300-700 ms
    # (plus the import of energyopt.fitting), so 200 ms tells the two apart even on a
    # loaded test machine; the 50 ms rule itself is measured by test_window_replay.  The
    # assertion is on the part of each gap this process spent computing
    # (StallRecorder.busy_gaps_ms): the wall-clock gap also holds the time other jobs had
    # the CPU (241-516 ms seen at load 10-20 on 2 cores).
    busy = recorder.max_busy_gap_ms
    assert busy < 200.0, f"event loop busy {busy:.0f} ms (wall {recorder.max_gap_ms:.0f} ms)"

    report = load_fit_report(chemical / "plant.fitted.fit.json")  # read back independently
    assert report.train == (span[0], cut)
    assert report.validate == (cut, span[1])
    rows = [(u, o) for u in report.units for o in u.outputs]
    assert s.panel.metrics_table.rowCount() == len(rows) == 2
    for row, (entry, out) in enumerate(rows):
        assert metric_cell(s.panel, row, "unit") == entry.unit == "reactor"
        assert metric_cell(s.panel, row, "output") == out.name
        assert metric_cell(s.panel, row, "nrmse") == f"{out.nrmse:.4g}"
        assert metric_cell(s.panel, row, "r2") == f"{out.r2:.4g}"
        assert metric_cell(s.panel, row, "bias") == f"{out.bias:.4g} {out.unit}"
    params = report.units[0].parameters
    assert s.panel.parameters_table.rowCount() == len(params) == 2
    for row, p in enumerate(params):
        assert parameter_cell(s.panel, row, "parameter") == p.name
        assert parameter_cell(s.panel, row, "nominal") == f"{p.nominal:.4g}"
        assert parameter_cell(s.panel, row, "fitted") == f"{p.value:.4g}"
        assert parameter_cell(s.panel, row, "std_error") == f"{p.std_error:.4g}"
        assert parameter_cell(s.panel, row, "si") == p.unit
    assert str(chemical / "plant.fitted.toml") in s.panel.fitted_label.text()
    assert s.panel.open_project_button.isEnabled()
    assert s.panel.status_label.text() == "Fit finished."

    # The plots show the selected output's hold-out series and its residual.
    s.panel.metrics_table.selectRow(1)
    name = rows[1][1].name
    assert s.panel.selector.currentText() == f"reactor / {name}"
    series = report.units[0].series[name]
    _, measured = s.panel.measured_curve.getData()
    _, predicted = s.panel.predicted_curve.getData()
    _, residual = s.panel.residual_curve.getData()
    # The JSON round trip of the report keeps every float64 digit (repr), and the
    # residual is one subtraction of the same numbers: equal to the last bit.
    assert_allclose(measured, series.measured, rtol=0, atol=0)
    assert_allclose(predicted, series.predicted, rtol=0, atol=0)
    assert_allclose(residual, series.predicted - series.measured, rtol=0, atol=0)
    x, _ = s.panel.measured_curve.getData()
    # True instants (whole milliseconds are exact in float64 seconds): the axis labels
    # them in the plant's zone (the historian's here: the panel follows no clock).
    assert_allclose(x, series.time_ms / 1000.0, rtol=0, atol=0)
    assert s.panel.fit_plot.time_axis.timezone == s.model.historian.timezone
    assert not s.panel.fit_plot.is_empty
    assert s.manager.shutdown()


def test_cancel_mid_run_leaves_no_output_and_the_panel_idle(qtbot, errors, chemical):
    started = threading.Event()

    def fit(*args, progress, cancel, **kwargs):
        def blocking_progress(done, total, message):
            progress(done, total, message)
            started.set()
            # Hold the real fit here until the user cancels (at most 10 s).
            deadline = time.monotonic() + 10.0
            while not cancel.cancelled and time.monotonic() < deadline:
                time.sleep(0.005)

        return fit_project(*args, progress=blocking_progress, cancel=cancel, **kwargs)

    s = Setup(qtbot, errors, chemical, fit)
    cancelled: list[bool] = []
    s.model.cancelled.connect(lambda: cancelled.append(True))
    progress_threads: list[int] = []
    s.model.progressed.connect(lambda _info: progress_threads.append(threading.get_ident()))
    s.panel.run_button.click()
    # Generous: a numba cache invalidated by a change of the models recompiles first.
    # The report reaches the GUI thread as the worker goes on to set ``started``: wait for both.
    qtbot.waitUntil(lambda: s.model.progress is not None and started.is_set(), timeout=60_000)
    assert set(progress_threads) == {threading.get_ident()}  # delivered on the GUI thread
    assert not s.panel.bar.isHidden()
    assert s.panel.bar.maximum() == 1000
    s.panel.cancel_button.click()
    assert s.model.status == "cancelling"
    assert s.panel.status_label.text() == "Cancelling..."
    qtbot.waitUntil(lambda: s.model.status == "idle", timeout=10_000)
    assert cancelled == [True]
    assert s.outputs() == []
    assert s.model.shown is None
    assert s.panel.run_button.isEnabled()
    assert not s.panel.cancel_button.isEnabled()
    assert s.panel.status_label.text() == "Fit cancelled: nothing was written."
    assert not errors.open_dialogs
    assert s.manager.shutdown()


def test_progress_shows_the_bar_and_the_time_left(qtbot, errors, chemical):
    release = threading.Event()

    def fit(*_args, progress, cancel, **_kwargs):
        progress(1, 4, "calibrating reactor")
        time.sleep(0.06)  # past the worker's 50 ms progress throttle
        progress(2, 4, "calibrating reactor")
        release.wait(10.0)
        cancel.raise_if_cancelled()
        raise CancelledError("stopped")

    s = Setup(qtbot, errors, chemical, fit)
    s.panel.run_button.click()
    qtbot.waitUntil(lambda: s.model.progress is not None and s.model.progress.done == 2)
    assert s.panel.bar.value() == 500  # 2 of 4 steps on a 1000-step bar
    assert s.panel.status_label.text().startswith("calibrating reactor - ")
    assert s.panel.status_label.text().endswith(" s left")
    release.set()
    qtbot.waitUntil(lambda: s.model.status == "idle")
    assert s.manager.shutdown()


def test_a_broken_data_file_shows_an_error_dialog(qtbot, errors, chemical):
    s = Setup(qtbot, errors, chemical)
    # The file breaks after the session read its metadata (a copy being rewritten).
    (chemical / "history.h5").write_bytes(b"this is not an HDF5 file")
    with qtbot.waitSignal(errors.dialog_shown, timeout=60_000) as shown:
        s.panel.run_button.click()
    title, text = shown.args
    assert title == "Fit failed"
    assert "history.h5" in text
    assert s.model.status == "idle"
    assert s.panel.status_label.text() == "Fit failed."
    assert s.outputs() == []
    assert s.manager.shutdown()
    close_dialogs(errors)


def test_an_unidentifiable_parameter_is_reported_with_its_message(qtbot, errors, chemical):
    message = "units.reactor: the data cannot identify 'k10_1_h' (flat direction)"

    def fit(*_args, **_kwargs):
        raise ModelError(message)

    s = Setup(qtbot, errors, chemical, fit)
    with qtbot.waitSignal(errors.dialog_shown, timeout=5000) as shown:
        s.panel.run_button.click()
    assert shown.args == ["Fit failed", message]
    assert s.manager.shutdown()
    close_dialogs(errors)


def test_an_existing_report_is_shown_without_refitting_and_opens_the_fitted_project(
    qtbot, errors, chemical
):
    fit_project(chemical / "plant.toml", chemical / "history.h5")
    calls: list[object] = []
    s = Setup(qtbot, errors, chemical, lambda *a, **k: calls.append(a))
    qtbot.waitUntil(lambda: s.model.shown is not None, timeout=60_000)
    assert calls == []
    assert s.model.shown.from_file
    assert s.panel.metrics_table.rowCount() == 2
    assert metric_cell(s.panel, 0, "unit") == "reactor"
    fitted = chemical / "plant.fitted.toml"
    assert str(fitted) in s.panel.fitted_label.text()

    # Running again asks before replacing the fitted project.
    s.panel.run_button.click()
    box = next(
        w for w in QApplication.topLevelWidgets() if w.objectName() == "energyopt_fit_replace"
    )
    assert str(fitted) in box.text()
    box.button(QMessageBox.StandardButton.No).click()
    assert calls == []
    assert s.model.status == "idle"

    s.panel.open_project_button.click()
    assert s.session.project_path == fitted
    # The fitted project's own evidence stays shown.
    qtbot.waitUntil(lambda: s.model.shown is not None and s.model.project_path == fitted)
    assert s.model.shown.report_path == chemical / "plant.fitted.fit.json"
    assert s.manager.shutdown()


def test_windows_edited_in_the_panel_reach_the_model(qtbot, errors, chemical):
    s = Setup(qtbot, errors, chemical)
    train, validate = s.model.train_ms, s.model.validate_ms
    zone = s.panel._zone()
    hour = 3_600_000
    # Validation starting an hour early overlaps the training window.
    s.panel._edits["validate_start"].setDateTime(
        QDateTime.fromMSecsSinceEpoch(validate[0] - hour, zone)
    )
    assert s.model.validate_ms == (validate[0] - hour, validate[1])
    assert s.model.window_problem == "overlap"
    assert s.panel.window_warning.text() == "The training and validation windows overlap."
    assert not s.panel.run_button.isEnabled()
    s.panel.reset_button.click()
    assert (s.model.train_ms, s.model.validate_ms) == (train, validate)
    assert s.panel.window_warning.text() == ""
    assert s.panel.run_button.isEnabled()


def test_panel_labels_in_chinese(qtbot, errors, chemical):
    s = Setup(qtbot, errors, chemical)
    manager = language_manager()
    try:
        manager.apply("zh_CN")
        qtbot.waitUntil(lambda: s.panel.run_button.text() == "运行拟合")
        assert s.panel.cancel_button.text() == "取消"
        header = s.panel.metrics_table.horizontalHeaderItem(METRIC_COLUMNS.index("bias"))
        assert header.text() == "偏差"
        assert s.panel.fit_plot.empty_note.toPlainText() == "尚未拟合"  # "No fit yet"
    finally:
        manager.apply("en")
    qtbot.waitUntil(lambda: s.panel.run_button.text() == "Run fit")


def test_the_main_window_has_the_model_panel(make_window, qtbot):
    window = make_window(restore_session=False)
    assert isinstance(window.docks["model"].widget(), ModelPanel)
    assert window.docks["model"].windowTitle() == "Model"
    assert window.model_panel.model is window.fit_model
    assert window.model_panel.clock is window.replay_clock  # times in the trends' zone
    assert not window.model_panel.run_button.isEnabled()  # nothing open


def test_format_number():
    assert format_number(0.012345678) == "0.01235"
    assert format_number(float("nan")) == "-"
    assert format_number(np.inf) == "-"


def test_closing_the_window_during_a_fit_cancels_it_and_writes_nothing(
    make_window, qtbot, chemical, monkeypatch
):
    import energyopt.fitting.project_fit as project_fit

    real_fit = project_fit.fit_project

    def held_fit(*args, progress, cancel, **kwargs):
        def hold(done, total, message):
            progress(done, total, message)
            deadline = time.monotonic() + 10.0  # released by the window's shutdown
            while not cancel.cancelled and time.monotonic() < deadline:
                time.sleep(0.005)

        return real_fit(*args, progress=hold, cancel=cancel, **kwargs)

    monkeypatch.setattr(project_fit, "fit_project", held_fit)
    window = make_window(project=chemical / "plant.toml", historian=chemical / "history.h5")
    panel = window.model_panel
    qtbot.waitUntil(panel.run_button.isEnabled)
    panel.run_button.click()
    qtbot.waitUntil(lambda: window.fit_model.progress is not None, timeout=60_000)
    assert window.progress_panel.isVisibleTo(window)  # the status bar follows the fit too
    window.close()
    assert running_threads() == []  # the fit (and the quality scan) stopped and joined
    assert sorted(p.name for p in chemical.iterdir()) == ["history.h5", "plant.toml"]


# ----------------------------------------------- time axis in the plant's zone, empty plots

BERLIN = ZoneInfo("Europe/Berlin")


def _utc_ms(text: str) -> int:
    return round(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp() * 1000)


def _report_across_the_spring_change(folder: Path) -> Path:
    """A fit report whose hold-out series spans Berlin's 2026-03-29 clock change (01:00Z)."""
    from energyopt.fitting.fit_report import FitReport, OutputFit, SeriesFit, UnitFitReport

    time_ms = np.arange(_utc_ms("2026-03-29T00:30"), _utc_ms("2026-03-29T01:30") + 1, 60_000)
    measured = np.linspace(300.0, 310.0, time_ms.size)
    series = SeriesFit(time_ms, measured, measured + 0.5)
    unit = UnitFitReport(
        unit="reactor",
        kind="calibrated",
        outputs=(OutputFit("T_K", "K", 0.1, 0.9, 0.5),),
        parameters=(),
        samples_train=10,
        samples_validate=int(time_ms.size),
        series={"T_K": series},
    )
    window = (int(time_ms[0]), int(time_ms[-1]) + 60_000)
    report = FitReport("plant.toml", "history.h5", window, window, (unit,))
    path = folder / "plant.fitted.fit.json"
    path.write_text(report.to_json(), encoding="utf-8")
    return path


def test_plots_are_labelled_in_the_clock_zone_across_a_dst_change(qtbot, errors, tmp_path):
    from energyopt.appstate.replay_clock import ReplayClock
    from energyopt.appstate.tasks import DeferredRunner
    from gui.time_axis import PlantTimeAxis

    runner = DeferredRunner()
    model = FitModel(runner)
    clock = ReplayClock(timezone="Europe/Berlin")
    panel = ModelPanel(model, errors, clock=clock)
    qtbot.addWidget(panel)
    model.load_report(_report_across_the_spring_change(tmp_path))
    runner.run_all()
    assert panel.selector.currentText() == "reactor / T_K"
    x, _ = panel.measured_curve.getData()
    # The curve holds true instants (whole minutes: exact in float64), not shifted ones.
    assert_allclose(
        x[[0, -1]],
        [_utc_ms("2026-03-29T00:30") / 1e3, _utc_ms("2026-03-29T01:30") / 1e3],
        rtol=0,
        atol=0,
    )
    for plot in (panel.fit_plot, panel.residual_plot):
        axis = plot.getPlotItem().getAxis("bottom")
        assert isinstance(axis, PlantTimeAxis)
        assert axis.timezone == "Europe/Berlin"
        assert not plot.is_empty
        assert axis.isVisible()
    axis = panel.fit_plot.time_axis
    levels = axis.tickValues(float(x[0]), float(x[-1]), 600.0)
    spacing, ticks = levels[-1]
    labels = axis.tickStrings(ticks, 1.0, spacing)
    # Independently, with zoneinfo: each tick's wall-clock time in Berlin.
    assert labels == [dt.datetime.fromtimestamp(t, BERLIN).strftime("%H:%M") for t in ticks]
    # 02:00-03:00 does not exist that night.  The former axis, shifted by the offset
    # at the window start (+1 h), labelled 01:00Z "02:00" instead of "03:00".
    assert labels == ["01:30", "01:45", "03:00", "03:15", "03:30"]

    # Residuals of 0.5 K read as 0.4 K, not "400 (x0.001)" beside a [K] title.
    assert not panel.residual_plot.getPlotItem().getAxis("left").autoSIPrefix

    # The clock's zone (the project's) changes: the plots and the window editors follow it.
    clock.set_timezone("Asia/Shanghai")
    assert panel.fit_plot.time_axis.timezone == "Asia/Shanghai"
    assert panel.residual_plot.time_axis.timezone == "Asia/Shanghai"
    assert panel._edits["train_start"].timeZone().id().data() == b"Asia/Shanghai"
    assert panel.timezone == "Asia/Shanghai"


def test_before_a_fit_the_plots_show_a_note_not_an_axis(qtbot, errors, tmp_path):
    from energyopt.appstate.tasks import DeferredRunner

    runner = DeferredRunner()
    model = FitModel(runner)
    panel = ModelPanel(model, errors)
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    qtbot.waitExposed(panel)
    for plot in (panel.fit_plot, panel.residual_plot):
        item = plot.getPlotItem()
        assert plot.is_empty
        assert plot.empty_note.toPlainText() == "No fit yet"
        # No axis (nor its grid and its 0.25 0.5 0.75 ticks over nothing) is drawn.
        assert not item.getAxis("bottom").isVisible()
        assert not item.getAxis("left").isVisible()
        assert plot.empty_note.isVisible()
    assert not panel.fit_plot.getPlotItem().legend.isVisible()
    assert not panel.residual_plot.zero_line.isVisible()
    # The note sits in the middle of the view.
    (x0, x1), (y0, y1) = panel.fit_plot.viewRange()
    pos = panel.fit_plot.empty_note.pos()
    # Exact: the range is set to 0..1 without padding and the note placed at its middle.
    assert_allclose([pos.x(), pos.y()], [(x0 + x1) / 2, (y0 + y1) / 2], rtol=0, atol=0)

    # A report shows the data with its axes; clearing it shows the note again.
    model.load_report(_report_across_the_spring_change(tmp_path))
    runner.run_all()
    assert not panel.fit_plot.is_empty
    assert panel.fit_plot.getPlotItem().getAxis("bottom").isVisible()
    assert panel.fit_plot.getPlotItem().legend.isVisible()
    assert panel.residual_plot.zero_line.isVisible()
    assert not panel.fit_plot.empty_note.isVisible()
    model.set_inputs(tmp_path / "another.toml", None)  # another project: its report unknown
    assert model.shown is None
    assert panel.fit_plot.is_empty
    assert not panel.fit_plot.getPlotItem().getAxis("bottom").isVisible()
    assert panel.fit_plot.empty_note.toPlainText() == "No fit yet"


def test_a_report_without_series_says_so(qtbot, errors, tmp_path):
    from energyopt.appstate.tasks import DeferredRunner
    from energyopt.fitting.fit_report import FitReport, OutputFit, UnitFitReport

    runner = DeferredRunner()
    model = FitModel(runner)
    panel = ModelPanel(model, errors)
    qtbot.addWidget(panel)
    unit = UnitFitReport("boiler", "identified", (OutputFit("P_W", "W", 0.2, 0.8, 1.0),), (), 5, 5)
    path = tmp_path / "plant.fitted.fit.json"
    path.write_text(FitReport("p.toml", "h.h5", (0, 1), (1, 2), (unit,)).to_json(), "utf-8")
    model.load_report(path)
    runner.run_all()
    assert panel.metrics_table.rowCount() == 1
    assert panel.fit_plot.is_empty
    assert panel.fit_plot.empty_note.toPlainText() == "No hold-out series in this fit report"
