"""KPI dashboard panel: KPI table, one curve per run, export in a worker, errors, Chinese.

The replay folder is written by the report tests' helper
(``tests/energyopt/report/report_case.py``); loads and exports run in real
workers (:func:`gui.workers.worker_task_runner`).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import energyopt.report
from energyopt.appstate.kpi_dashboard import KpiDashboard, ReplayRequest
from gui.i18n import language_manager
from gui.kpi_dashboard import (
    BETTER_COLOUR,
    IMPROVED_ROLE,
    WORSE_COLOUR,
    KpiDashboardPanel,
)
from gui.workers import WorkerManager, worker_task_runner

pytestmark = pytest.mark.gui


def _report_case() -> ModuleType:
    """The report tests' folder builder (imported by path: tests are not a package)."""
    if "report_case" in sys.modules:
        return sys.modules["report_case"]
    path = Path(__file__).resolve().parents[1] / "energyopt" / "report" / "report_case.py"
    spec = importlib.util.spec_from_file_location("report_case", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["report_case"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def case_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete replay folder (six simulated hours), written once."""
    case = _report_case()
    truth = case.simulate_truth(days=0.25)
    return case.build_replay_dir(tmp_path_factory.mktemp("kpi_gui") / "case", truth)


@pytest.fixture
def case_dir(tmp_path: Path, case_template: Path) -> Path:
    """A private copy of the replay folder (the project and fit report beside it)."""
    root = tmp_path / "case"
    shutil.copytree(case_template.parent, root)
    return root / "replay"


@pytest.fixture
def dashboard(qtbot, errors) -> Any:
    manager = WorkerManager()
    model = KpiDashboard(worker_task_runner(manager))
    panel = KpiDashboardPanel(model, errors, lambda: language_manager().language)
    qtbot.addWidget(panel)
    yield panel
    assert manager.shutdown()


def _load(qtbot, panel: KpiDashboardPanel, folder: Path) -> None:
    with qtbot.waitSignal(panel.model.data_changed, timeout=30_000):
        assert panel.open_folder(folder)
    qtbot.waitUntil(lambda: not panel.model.busy, timeout=5000)


def _column(panel: KpiDashboardPanel, title: str) -> int:
    titles = [panel.table.horizontalHeaderItem(j).text() for j in range(panel.table.columnCount())]
    return titles.index(title)


def _row(panel: KpiDashboardPanel, name: str) -> int:
    names = [panel.table.item(i, 0).text() for i in range(panel.table.rowCount())]
    return names.index(name)


def test_table_shows_the_written_kpis(qtbot, dashboard, case_dir) -> None:
    _load(qtbot, dashboard, case_dir)
    table = dashboard.table
    i = _row(dashboard, "Energy cost")
    assert table.item(i, 1).text() == "CNY"
    # kpis.json holds recorded 2,834,567 and MPC 2,700,000 (report_case.KPI_VALUES).
    assert table.item(i, _column(dashboard, "Recorded")).text() == "2,834,567"
    assert table.item(i, _column(dashboard, "MPC")).text() == "2,700,000"
    # The MPC's difference follows its column: -134,567 CNY, better (lower cost), green.
    diff = table.item(i, _column(dashboard, "MPC") + 1)
    assert diff.text() == "-134,567"
    assert diff.data(IMPROVED_ROLE) is True
    assert diff.foreground().color().name() == BETTER_COLOUR
    j = _row(dashboard, "Stability rate")
    worse = table.item(j, _column(dashboard, "MPC") + 1)
    assert worse.text() == "-1.50"  # 96.0 - 97.5 %
    assert worse.foreground().color().name() == WORSE_COLOUR
    assert dashboard.button_export.isEnabled()


def test_time_plots_have_one_curve_per_run(qtbot, dashboard, case_dir) -> None:
    _load(qtbot, dashboard, case_dir)
    for plot in (dashboard.cost_plot, dashboard.intensity_plot):
        curves = plot.getPlotItem().listDataItems()
        assert [c.name() for c in curves] == ["Recorded", "Baseline", "MPC"]
        assert all(len(c.getData()[0]) == 360 for c in curves)  # six hours at 1 min
    assert dashboard.cost_note.text() == ""
    assert dashboard.intensity_note.text() == ""


def test_export_writes_the_report_off_the_gui_thread(
    qtbot, dashboard, case_dir, monkeypatch
) -> None:
    for name in ("compare_baseline.h5", "compare_recorded.h5", "shadow.json"):
        (case_dir / name).unlink()  # a smaller report: the test is about where it is written
    _load(qtbot, dashboard, case_dir)
    threads: list[int] = []
    original = energyopt.report.write_report

    def recording(*args: Any, **kwargs: Any) -> Path:
        threads.append(threading.get_ident())
        return original(*args, **kwargs)

    monkeypatch.setattr(energyopt.report, "write_report", recording)
    with qtbot.waitSignal(dashboard.model.report_written, timeout=60_000) as written:
        assert dashboard.export_report()
        assert not dashboard.button_export.isEnabled()  # one task at a time
    path = written.args[0]
    assert path == case_dir / "report.html"
    assert path.read_text("utf-8").startswith("<!DOCTYPE html>")
    assert threads
    assert threads[0] != threading.get_ident()
    assert str(path) in dashboard.report_label.text()
    assert dashboard.button_export.isEnabled()


def test_broken_kpis_json_shows_an_error_dialog(qtbot, dashboard, case_dir, errors) -> None:
    broken = case_dir / "kpis.json"
    broken.write_text("{not json", encoding="utf-8")
    with qtbot.waitSignal(errors.dialog_shown, timeout=30_000) as shown:
        dashboard.open_folder(case_dir)
    title, text = shown.args
    assert title == "Cannot open replay folder"
    assert str(broken) in text
    assert "not valid JSON" in text
    qtbot.waitUntil(lambda: not dashboard.model.busy, timeout=5000)
    assert dashboard.model.data is None
    for dialog in errors.open_dialogs:
        dialog.close()


def test_labels_in_chinese(qtbot, dashboard, case_dir) -> None:
    _load(qtbot, dashboard, case_dir)
    manager = language_manager()
    try:
        manager.apply("zh_CN")
        qtbot.waitUntil(lambda: dashboard.button_export.text() == "导出 HTML 报告")
        assert dashboard.button_replay.text() == "运行回放..."
        # KPI names come from the registry in the UI language.
        assert _row(dashboard, "能源成本") >= 0
        assert dashboard.table.horizontalHeaderItem(2).text() == "实际运行"
    finally:
        manager.apply("en")
    qtbot.waitUntil(lambda: dashboard.button_export.text() == "Export HTML report")


def test_replay_progress_and_cancel(qtbot, errors, tmp_path) -> None:
    started = threading.Event()

    def slow_replay(*_args: Any, progress: Any, cancel: Any, **_kw: Any) -> Path:
        for k in range(1000):
            progress(k + 1, 1000, "mpc: step")
            started.set()
            cancel.raise_if_cancelled()
            time.sleep(0.002)
        raise AssertionError("the replay was not cancelled")

    manager = WorkerManager()
    model = KpiDashboard(worker_task_runner(manager), replay=slow_replay)
    panel = KpiDashboardPanel(model, errors)
    qtbot.addWidget(panel)
    request = ReplayRequest(tmp_path / "p.toml", tmp_path / "h.h5", "mpc", tmp_path / "out")
    assert panel.run_replay(request)
    assert panel.button_cancel.isEnabled()
    assert not panel.button_replay.isEnabled()
    qtbot.waitUntil(lambda: "left" in panel.progress_label.text(), timeout=10_000)
    assert panel.progress_label.text().startswith("mpc: step · ")
    with qtbot.waitSignal(model.cancelled, timeout=10_000) as stopped:
        panel.button_cancel.click()
    assert stopped.args == ["replay"]
    assert panel.progress_label.text() == "Cancelled"
    assert panel.button_replay.isEnabled()
    assert not errors.open_dialogs
    assert manager.shutdown()


def test_replay_dialog_builds_the_request(qtbot, dashboard, tmp_path) -> None:
    dashboard.model.project_path = tmp_path / "plant.toml"
    dashboard.model.data_path = tmp_path / "history.h5"
    dashboard.model.data_span_ms = (1_767_225_600_000, 1_767_225_600_000 + 3 * 86_400_000)
    requests: list[Any] = []
    dashboard.run_replay = requests.append  # type: ignore[method-assign]
    dialog = dashboard.show_replay_dialog()
    dialog.request_ready.disconnect()
    dialog.request_ready.connect(requests.append)
    dialog.controller_combo.setCurrentIndex(dialog.controller_combo.findData("baseline"))
    assert dialog.out_edit.text().startswith(str(tmp_path / "history_replay_baseline_"))
    dialog.accept()
    assert len(requests) == 1
    request = requests[0]
    assert request.controller == "baseline"
    assert request.project_path == tmp_path / "plant.toml"
    # The first day of the file is proposed.
    assert (request.start_ms, request.end_ms) == (1_767_225_600_000, 1_767_312_000_000)


def test_replay_dialog_keeps_open_on_a_bad_request(qtbot, dashboard, tmp_path) -> None:
    dialog = dashboard.show_replay_dialog()
    dialog.project_edit.setText("")
    dialog.accept()
    assert dialog.isVisible()
    assert "Please give the project" in dialog.error_label.text()
    dialog.reject()


def test_installed_in_the_main_window(make_window, demo_files) -> None:
    project, history = demo_files
    window = make_window(project=project, historian=history, restore_session=False)
    panel = window.kpi_dashboard
    dock = window.docks["kpis"]
    assert isinstance(panel, KpiDashboardPanel)
    assert dock.widget() is panel
    assert dock.windowTitle() == "KPI dashboard"
    # A tab of the model panel's group (other panels, such as tuning, may join it).
    assert window.docks["model"] in window.tabifiedDockWidgets(dock)
    # The session's files are what "Run replay..." proposes.
    assert panel.model.replay_defaults() == (project.resolve(), history.resolve())
    assert window.workers.shutdown()
    window.close()


def test_header_names_project_period_and_controllers_not_the_folder(
    qtbot, dashboard, case_dir
) -> None:
    """A folder the app opened by itself is not shown; the period is in plant time."""
    _load(qtbot, dashboard, case_dir)
    text = dashboard.info_label.text()
    lines = text.split("\n")
    # kpis.json: the demo steelworks, six hours from 2026-01-05T00:00Z, i.e. 08:00-14:00
    # in Asia/Shanghai (UTC+8, no daylight saving); MPC against recorded and baseline.
    assert lines[0] == "Steelworks energy system (demo) · 2026-01-05 08:00 – 14:00 (UTC+08:00)"
    assert lines[1] == "Controller MPC, compared with Recorded, Baseline"
    assert str(case_dir) not in text
    assert len(lines) == 2
    # The same folder chosen in "Open replay folder...": then it is named.
    with qtbot.waitSignal(dashboard.model.data_changed, timeout=30_000):
        assert dashboard.open_folder(case_dir, chosen=True)
    qtbot.waitUntil(lambda: not dashboard.model.busy, timeout=5000)
    assert dashboard.info_label.text().split("\n")[2] == f"Results folder: {case_dir}"


def test_in_app_replay_shows_the_folder_only_if_the_user_chose_it(
    qtbot, dashboard, case_dir, tmp_path
) -> None:
    def copy_replay(project, data, controller, out_dir, **_kw: Any) -> Path:
        shutil.copytree(case_dir, out_dir)  # stands in for energyopt.replay.replay_to_dir
        return Path(out_dir)

    dashboard.model._replay = copy_replay  # the fast stand-in of the replay workflow
    dashboard.model.project_path = case_dir.parent / "plant.toml"
    dashboard.model.data_path = tmp_path / "history.h5"
    dashboard.model.data_span_ms = (1_767_571_200_000, 1_767_571_200_000 + 6 * 3_600_000)
    for edit, shown in ((False, False), (True, True)):
        dialog = dashboard.show_replay_dialog()
        if edit:
            dialog.out_edit.setText(str(tmp_path / "my_results"))
            dialog._out_was_edited()
        proposed = Path(dialog.out_edit.text())
        with qtbot.waitSignal(dashboard.model.data_changed, timeout=30_000):
            dialog.accept()
            assert dialog.error_label.text() == ""
        qtbot.waitUntil(lambda: not dashboard.model.busy, timeout=5000)
        assert dashboard.model.folder_chosen is shown
        assert (str(proposed) in dashboard.info_label.text()) is shown
        assert dashboard.info_label.text().startswith("Steelworks energy system (demo) · ")
