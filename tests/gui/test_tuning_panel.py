"""Tuning panel (issue 6): start a tune, progress with time left, cancel, best settings, errors.

The tunes run the real workflow in a worker thread with the trials in a
spawned worker process, on the steelworks demo with the cheap bowl evaluate
function of the tune tests (``tests.energyopt.tune.tune_helpers``; the worker
imports it by that name, so the repository root is put on ``sys.path``).
Stored results are written by the real workflow with a fixed trial loop
(``tests.energyopt.appstate.tuning_helpers``).
"""

from __future__ import annotations

import multiprocessing
import socket
import sys
import threading
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from energyopt.appstate import SessionState  # noqa: E402
from energyopt.appstate.tuning import TuningModel  # noqa: E402
from energyopt.appstate.tuning_parts import format_value  # noqa: E402
from gui.i18n import language_manager  # noqa: E402
from gui.plant_views import freeze_heap_when_loaded  # noqa: E402
from gui.settings import AppSettings  # noqa: E402
from gui.tuning_panel import TuningPanel  # noqa: E402
from gui.tuning_panel_parts import KPI_COLUMNS, SETTING_COLUMNS, TRIAL_COLUMNS  # noqa: E402
from gui.workers import WorkerManager, running_threads, worker_task_runner  # noqa: E402
from tests.energyopt.appstate.tuning_helpers import (  # noqa: E402
    MADE_MS,
    bowl_cost,
    set_mtime,
    write_stored_tune,
)
from tests.energyopt.tune.tune_helpers import BOWL, SLOW_BOWL, write_case  # noqa: E402

pytestmark = pytest.mark.gui

BAND = "controller.band_weight"
MOVE = "controller.economic.move_weight"


class Setup:
    """A session on a fresh tune case, a tuning model with workers, the panel."""

    def __init__(
        self,
        qtbot,
        errors,
        folder: Path,
        evaluate: str = BOWL,
        section=None,
        *,
        files: tuple[Path, Path] | None = None,
        settings: AppSettings | None = None,
    ) -> None:
        self.folder = folder
        if files is None:
            files = write_case(folder) if section is None else write_case(folder, section)
        project, self.data = files
        self.manager = WorkerManager()
        self.session = SessionState()
        self.model = TuningModel(
            worker_task_runner(self.manager, "tune"), evaluate=evaluate, scheduler_timeout_s=0.5
        )
        self.model.follow_session(self.session)
        self.panel = TuningPanel(self.model, errors, settings=settings)
        qtbot.addWidget(self.panel)
        self.session.open_project(project)
        self.session.open_historian(self.data)

    def files(self) -> list[str]:
        return sorted(p.name for p in self.folder.iterdir())


def cell(table, row: int, columns: tuple[str, ...], column: str) -> str:
    return table.item(row, columns.index(column)).text()


def close_dialogs(errors) -> None:
    for dialog in errors.open_dialogs:
        dialog.close()


@pytest.mark.slow
def test_a_tune_runs_to_the_end_and_shows_the_best_settings(
    qtbot, errors, tmp_path, stall_recorder
):
    s = Setup(qtbot, errors, tmp_path)
    # As install_tuning_panel does in the window: the heap alive when a tune starts is
    # frozen, so no full collection (about 450 ms measured here after the model tests'
    # allocations) runs in the tune's thread while it holds the GIL.
    freeze_heap_when_loaded(s.panel, s.session, s.model.status_changed)
    # The searched parameters are shown before any tune, with the project's values.
    assert s.panel.settings_table.rowCount() == 2
    assert cell(s.panel.settings_table, 0, SETTING_COLUMNS, "parameter") == BAND
    assert cell(s.panel.settings_table, 0, SETTING_COLUMNS, "range") == "10 to 10000 (log)"
    s.panel.workers_spin.setValue(1)
    s.panel.budget_spin.setValue(3)
    s.panel.windows_spin.setValue(1)
    assert (s.model.request.budget, s.model.request.windows, s.model.request.workers) == (3, 1, 1)
    assert s.panel.start_button.text() == "Start"
    progress = []
    s.model.progressed.connect(progress.append)
    threads = []
    s.model.progressed.connect(lambda _info: threads.append(threading.get_ident()))
    with stall_recorder() as recorder:
        s.panel.start_button.click()
        assert s.model.status == "running"
        assert not s.panel.start_button.isEnabled()
        assert s.panel.cancel_button.isEnabled()
        assert not s.panel.budget_spin.isEnabled()
        qtbot.waitUntil(lambda: s.model.outcome is not None, timeout=90_000)
    # The loop ran in a worker thread and reported to the GUI thread; the event loop kept
    # running: 32-46 ms longest gap measured over three runs at a load average of 18 on 2
    # cores, while a tune on the GUI thread would freeze it for all its seconds (7-13 s
    # here).  The wall-clock gap also holds the time other processes had the CPU (383-400
    # ms seen at load 18), so the assertion is on the part of each gap this process spent
    # computing (StallRecorder.busy_gaps_ms), against 200 ms; the 50 ms rule is measured
    # by test_window_replay.
    assert set(threads) == {threading.get_ident()}
    busy = recorder.max_busy_gap_ms
    assert busy < 200.0, f"event loop busy {busy:.0f} ms (wall {recorder.max_gap_ms:.0f} ms)"
    # Progress reached the end of the budget with no time left.
    assert (progress[-1].done, progress[-1].budget, progress[-1].remaining_s) == (3, 3, 0.0)
    assert s.panel.status_label.text() == "Tune finished."

    result = s.model.outcome.result
    best = result.best
    for row, key in enumerate((BAND, MOVE)):
        assert cell(s.panel.settings_table, row, SETTING_COLUMNS, "current") == format_value(
            result.current.params[key]
        )
        assert cell(s.panel.settings_table, row, SETTING_COLUMNS, "best") == format_value(
            best.params[key]
        )
    # KPIs per window (objective and the two default constraints) and the score.
    assert s.panel.kpi_table.rowCount() == 3 + 1
    assert cell(s.panel.kpi_table, 0, KPI_COLUMNS, "kpi") == "Energy cost [CNY]"
    assert cell(s.panel.kpi_table, 0, KPI_COLUMNS, "best") == format_value(
        best.windows[0]["energy_cost"]
    )
    assert cell(s.panel.kpi_table, 3, KPI_COLUMNS, "window") == "Score (all windows)"
    assert cell(s.panel.kpi_table, 3, KPI_COLUMNS, "current") == format_value(
        result.current.score.value
    )
    assert cell(s.panel.kpi_table, 3, KPI_COLUMNS, "best") == format_value(best.score.value)
    assert s.panel.trials_table.rowCount() == 3
    for row, record in enumerate(result.trials):
        assert cell(s.panel.trials_table, row, TRIAL_COLUMNS, "trial") == str(record.number)
        assert cell(s.panel.trials_table, row, TRIAL_COLUMNS, "score") == format_value(
            record.score.value
        )
        feasible = "yes" if record.score.feasible else "no"
        assert cell(s.panel.trials_table, row, TRIAL_COLUMNS, "feasible") == feasible
    tuned = tmp_path / "plant.tuned.toml"
    assert str(tuned) in s.panel.tuned_label.text()
    assert s.panel.start_button.text() == "Resume"  # the journal of the finished tune
    assert s.panel.open_tuned_button.isEnabled()
    s.panel.open_tuned_button.click()
    assert s.session.project_path == tuned
    assert not errors.open_dialogs
    assert s.manager.shutdown()
    assert multiprocessing.active_children() == []


@pytest.mark.slow
def test_cancel_writes_nothing_and_stops_threads_and_processes(qtbot, errors, tmp_path):
    s = Setup(qtbot, errors, tmp_path, evaluate=SLOW_BOWL)
    s.panel.workers_spin.setValue(1)
    s.panel.budget_spin.setValue(8)
    s.panel.windows_spin.setValue(1)
    s.panel.start_button.click()
    # Cancel once a trial has finished (the worker process is then surely running).
    qtbot.waitUntil(
        lambda: s.model.progress is not None and s.model.progress.done >= 1, timeout=90_000
    )
    assert s.panel.status_label.text().startswith(f"{s.model.progress.done} of 8 trials - ")
    assert s.panel.status_label.text().endswith(" left")
    assert s.panel.bar.maximum() == 1000
    assert s.panel.trials_table.rowCount() >= 1
    with qtbot.waitSignal(s.model.cancelled, timeout=30_000):
        s.panel.cancel_button.click()
        assert s.panel.status_label.text() == "Cancelling..."
    assert s.model.status == "idle"
    assert s.panel.status_label.text() == (
        "Tune cancelled: nothing was written; the finished trials are kept."
    )
    # Nothing half-written: no tuned project, no evidence, no temporary file.
    assert s.files() == ["data.h5", "data.h5.calls", "plant.toml", "plant.tune"]
    assert running_threads() == []
    assert multiprocessing.active_children() == []
    # The next start resumes from the journal.
    assert s.panel.start_button.text() == "Resume"
    assert str(tmp_path / "plant.tune") in s.panel.resume_label.text()
    assert s.panel.start_over_button.isEnabled()
    assert not errors.open_dialogs
    assert s.manager.shutdown()


def test_nothing_to_tune_shows_an_error_dialog(qtbot, errors, tmp_path):
    s = Setup(qtbot, errors, tmp_path, section="\n[tune]\ndefaults = false\n")
    assert "nothing to tune" in s.panel.space_warning.text()
    assert s.panel.settings_table.rowCount() == 0
    with qtbot.waitSignal(errors.dialog_shown, timeout=5_000) as shown:
        s.panel.start_button.click()
    title, text = shown.args
    assert title == "Cannot tune"
    assert "tune: nothing to tune (no default and no declared parameter)" in text
    assert s.model.status == "idle"
    assert s.manager.active == []  # no worker was started
    close_dialogs(errors)


def test_a_broken_data_file_shows_an_error_dialog(qtbot, errors, tmp_path):
    s = Setup(qtbot, errors, tmp_path)
    # The file breaks after the session read its metadata (a copy being rewritten).
    s.data.write_bytes(b"this is not an HDF5 file")
    with qtbot.waitSignal(errors.dialog_shown, timeout=30_000) as shown:
        s.panel.start_button.click()
    title, text = shown.args
    assert title == "Tune failed"
    assert "data.h5" in text
    assert s.model.status == "idle"
    assert s.panel.status_label.text() == "Tune failed."
    assert s.files() == ["data.h5", "plant.toml"]
    assert s.manager.shutdown()
    close_dialogs(errors)


def test_panel_labels_in_chinese(qtbot, errors, tmp_path):
    s = Setup(qtbot, errors, tmp_path)
    manager = language_manager()
    try:
        manager.apply("zh_CN")
        qtbot.waitUntil(lambda: s.panel.start_button.text() == "开始")
        assert s.panel.cancel_button.text() == "取消"
        header = s.panel.settings_table.horizontalHeaderItem(SETTING_COLUMNS.index("best"))
        assert header.text() == "最优值"
        assert cell(s.panel.settings_table, 0, SETTING_COLUMNS, "range") == "10 至 10000（对数）"
        assert s.panel.scheduler_edit.placeholderText() == "留空：本地工作进程"
    finally:
        manager.apply("en")
    qtbot.waitUntil(lambda: s.panel.start_button.text() == "Start")


def test_the_main_window_has_the_tuning_panel(make_window, qtbot):
    window = make_window(restore_session=False)
    dock = window.docks["tuning"]
    assert isinstance(dock.widget(), TuningPanel)
    assert dock.windowTitle() == "Tuning"
    assert window.tuning_panel.model.project_path is None
    assert not window.tuning_panel.start_button.isEnabled()  # nothing open


def free_port() -> int:
    """A local TCP port nobody listens on (bound, then released): connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_stored_result_shows_when_the_project_is_opened_again(qtbot, errors, tmp_path):
    project, data, written = write_stored_tune(tmp_path)
    s = Setup(qtbot, errors, tmp_path, files=(project, data))
    qtbot.waitUntil(lambda: s.model.stored is not None, timeout=10_000)
    # 10:00 UTC is 18:00 in the project's zone (Asia/Shanghai).
    assert s.panel.stored_label.text() == (
        "Stored result of 2026-11-20 18:00: still valid, the project and the historian "
        "file are as the tune recorded them."
    )
    assert s.panel.stored_label.isVisibleTo(s.panel)
    assert s.panel.status_label.text() == ""  # not "Tune finished.": nothing ran now
    assert s.panel.best_label.text() == "Best: trial 1 (keeps every constraint)."
    assert str(written.tuned_path.resolve()) in s.panel.tuned_label.text()
    # Cost in the project's currency; the stored values: the bowl of trial 1 (316, 3162).
    assert cell(s.panel.kpi_table, 0, KPI_COLUMNS, "kpi") == "Energy cost [CNY]"
    assert cell(s.panel.kpi_table, 0, KPI_COLUMNS, "best") == format_value(bowl_cost(316.0, 3162.0))
    assert cell(s.panel.settings_table, 0, SETTING_COLUMNS, "best") == "316"
    assert s.panel.trials_table.rowCount() == 3
    assert s.panel.start_button.text() == "Start"  # no journal beside this result
    assert s.panel.open_tuned_button.isEnabled()
    # The tuned band weight applied to the project, saved an hour after: reopened, the
    # stored result is shown as possibly outdated, with the reasons.
    text = project.read_text(encoding="utf-8")
    project.write_text(text.replace("band_weight = 1000.0\n", "band_weight = 316.0\n"))
    set_mtime(project, MADE_MS + 3_600_000)
    s.session.open_project(project)
    qtbot.waitUntil(lambda: s.model.stored is not None and not s.model.stored.valid)
    assert s.panel.stored_label.text() == (
        "Stored result of 2026-11-20 18:00: it may no longer hold: a tuned setting changed "
        "(controller.band_weight: 1000 -> 316); the project file was saved after it "
        "(2026-11-20 19:00)."
    )
    # The tuned project deleted: it cannot be opened.
    written.tuned_path.unlink()
    s.model.reload_stored()
    qtbot.waitUntil(lambda: "is gone" in s.panel.stored_label.text())
    assert not s.panel.open_tuned_button.isEnabled()
    assert s.manager.shutdown()
    assert not errors.open_dialogs


def test_an_unreadable_stored_result_is_said_in_the_panel(qtbot, errors, tmp_path):
    project, data, written = write_stored_tune(tmp_path)
    written.evidence_path.write_text("{not json", encoding="utf-8")
    s = Setup(qtbot, errors, tmp_path, files=(project, data))
    qtbot.waitUntil(lambda: s.model.stored_error is not None, timeout=10_000)
    assert s.panel.stored_label.text().startswith(
        f"The stored tune result cannot be read: the stored tune result '{written.evidence_path}'"
    )
    assert s.panel.kpi_table.rowCount() == 0
    assert s.manager.shutdown()


def test_the_scheduler_address_is_checked_and_remembered(qtbot, errors, tmp_path, settings_path):
    settings = AppSettings.from_ini(settings_path)
    s = Setup(qtbot, errors, tmp_path, settings=settings)
    edit = s.panel.scheduler_edit
    assert edit.text() == ""
    assert s.panel.workers_spin.isEnabled()
    qtbot.keyClicks(edit, "scheduler.plant")
    assert s.panel.scheduler_warning.isVisibleTo(s.panel)
    assert s.panel.scheduler_warning.text() == (
        "Not a scheduler address: give host:port or tcp://host:port."
    )
    assert s.model.scheduler is None
    qtbot.keyClicks(edit, ":8786")
    assert not s.panel.scheduler_warning.isVisibleTo(s.panel)
    assert edit.text() == "scheduler.plant:8786"  # as typed
    assert s.model.scheduler == "tcp://scheduler.plant:8786"
    assert not s.panel.workers_spin.isEnabled()  # the scheduler's workers run the trials
    assert AppSettings.from_ini(settings_path).tune_scheduler() == "tcp://scheduler.plant:8786"
    # The next panel (next start of the app) takes it from the settings.
    again = Setup(qtbot, errors, tmp_path / "again", settings=AppSettings.from_ini(settings_path))
    assert again.model.scheduler == "tcp://scheduler.plant:8786"
    assert again.panel.scheduler_edit.text() == "tcp://scheduler.plant:8786"
    # An address being typed is not used: Start says why.
    qtbot.keyClicks(edit, "/x")
    assert s.panel.scheduler_warning.isVisibleTo(s.panel)
    with qtbot.waitSignal(errors.dialog_shown, timeout=5_000) as shown:
        s.panel.start_button.click()
    assert shown.args[0] == "Cannot tune"
    assert "'scheduler.plant:8786/x' is not a dask scheduler address" in shown.args[1]
    assert s.model.status == "idle"
    close_dialogs(errors)
    edit.clear()
    qtbot.keyClicks(edit, " ")
    assert s.model.scheduler is None
    assert s.panel.workers_spin.isEnabled()
    assert AppSettings.from_ini(settings_path).tune_scheduler() == ""
    assert s.manager.shutdown()
    assert again.manager.shutdown()


def test_an_unreachable_scheduler_shows_an_error_dialog(qtbot, errors, tmp_path):
    pytest.importorskip("distributed")
    s = Setup(qtbot, errors, tmp_path)
    address = f"tcp://127.0.0.1:{free_port()}"
    qtbot.keyClicks(s.panel.scheduler_edit, address)
    with qtbot.waitSignal(errors.dialog_shown, timeout=20_000) as shown:
        s.panel.start_button.click()
        assert s.panel.status_label.text() == f"Connecting to the dask scheduler {address}..."
    title, text = shown.args
    assert title == "Tune failed"
    assert f"cannot reach the dask scheduler {address}: " in text
    assert s.panel.status_label.text() == "Tune failed."
    assert s.files() == ["data.h5", "plant.toml"]  # the tune never started
    assert s.manager.shutdown()
    close_dialogs(errors)
