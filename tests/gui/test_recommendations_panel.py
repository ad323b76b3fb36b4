"""Recommendations panel: modes, accept/reject/hold, the decision log, worker threads, zh."""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
import time
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from controllers.advisor.contract import SolveStatus
from controllers.advisor.recommendation import (
    FallbackLevel,
    MVRecommendation,
    Prediction,
    Recommendation,
)
from controllers.advisor.safety import MoveLimitation
from controllers.advisor.settings import AdvisorMode
from energyopt.appstate.decisions import Decision, DecisionLog, decisions_path, journal_path
from energyopt.appstate.recommendations import RecommendationsModel
from energyopt.appstate.tasks import run_inline
from energyopt.errors import DataError
from gui.decision_log_view import LOG_COLUMNS
from gui.i18n import language_manager
from gui.recommendations_panel import COLUMNS, RecommendationsPanel
from gui.workers import WorkerManager, worker_task_runner

pytestmark = pytest.mark.gui

T_MS = 1_767_571_200_000
"""2026-01-05T00:00:00Z. [ms since epoch]"""
MVS = ("boiler1.steam", "tg1.extraction", "cog.to_mill", "air.compressor")


def make_recommendation(at_ms: int) -> Recommendation:
    """Three MVs with a recommended setpoint and one without (current value unknown)."""
    plan = np.array([[61.0, 11.5, 8.0, 0.0], [62.0, 11.0, 8.5, 0.0]])
    return Recommendation(
        time_s=at_ms / 1000.0,
        mode=AdvisorMode.ADVISE,
        mvs=(
            MVRecommendation(MVS[0], 55.0, 61.0, MoveLimitation.RATE, "surplus BFG: raise steam"),
            MVRecommendation(MVS[1], 12.5, 11.5, MoveLimitation.NONE, "valley tariff"),
            MVRecommendation(MVS[2], 7.0, 8.0, MoveLimitation.UPPER, "COG holder high"),
            MVRecommendation(MVS[3], None, None, MoveLimitation.NONE, "value unknown"),
        ),
        prediction=Prediction(
            time_s=np.array([0.0, 900.0, 1800.0]),
            mv_names=MVS,
            mv_plan=plan,
            cv_names=("holder",),
            cv=np.zeros((3, 1)),
        ),
        expected_saving=1234.5,
        active_constraints=("cog.to_mill.upper", "boiler1.steam.rate"),
        fallback=FallbackLevel.NONE,
        fallback_reason="",
        solve_status=SolveStatus.OPTIMAL,
        solve_time_s=0.3,
        infeasible_constraints=(),
        measurement_issues=(),
        plant_mode=None,
    )


class FakeSource:
    """Returns hand-made recommendations; records the thread of each call."""

    interval_s = 900.0

    def __init__(self, delay_s: float = 0.0, error: Exception | None = None) -> None:
        self.delay_s = delay_s
        self.error = error
        self.calls: list[int] = []
        self.threads: list[int] = []

    def decision_times(self, start_ms: int, end_ms: int) -> np.ndarray:
        return np.arange(-(-start_ms // 900_000) * 900_000, end_ms, 900_000, dtype=np.int64)

    def recommend(self, at_ms: int) -> Any:
        self.threads.append(threading.get_ident())
        self.calls.append(at_ms)
        if self.delay_s:
            time.sleep(self.delay_s)  # a solver taking its time
        if self.error is not None:
            raise self.error
        return make_recommendation(at_ms)


@pytest.fixture
def panel(qtbot, tmp_path) -> RecommendationsPanel:
    """A panel on a synchronous model whose log belongs to a project in tmp_path."""
    model = RecommendationsModel(run_inline, DecisionLog(tmp_path / "plant.toml", user="op"))
    model.currency = "CNY"
    view = RecommendationsPanel(model)
    qtbot.addWidget(view)
    return view


def cell(panel: RecommendationsPanel, row: int, column: str) -> str:
    item = panel.table.item(row, COLUMNS.index(column))
    return "" if item is None else item.text()


def test_off_shows_nothing_and_asks_nothing(panel):
    source = FakeSource()
    panel.model.set_source(source)
    panel.model.set_time(T_MS)
    panel.show()
    assert panel.mode_box.currentText() == "Off"
    assert source.calls == []
    assert panel.content.isHidden()
    assert panel.off_label.isVisible()
    assert panel.log_view.isVisible()  # the decision history stays visible


def test_predict_shows_predictions_without_decision_buttons(panel):
    source = FakeSource()
    panel.model.set_source(source)
    panel.model.set_time(T_MS)
    panel.show()
    panel.mode_box.setCurrentIndex(1)
    assert panel.model.mode == AdvisorMode.PREDICT
    assert source.calls == [T_MS]
    assert panel.content.isVisible()
    assert not panel.off_label.isVisible()
    header = panel.table.horizontalHeaderItem(COLUMNS.index("recommended")).text()
    assert header == "Predicted"
    assert panel.table.isColumnHidden(COLUMNS.index("decision"))
    assert not panel.note_edit.isVisible()
    assert (cell(panel, 0, "current"), cell(panel, 0, "recommended")) == ("55", "61")
    assert cell(panel, 0, "move") == "+6"
    assert cell(panel, 3, "recommended") == "0"  # predicted plan, although no setpoint
    assert panel.saving_label.text() == "Expected saving over the horizon: 1,234.50 CNY"
    assert "cog.to_mill.upper, boiler1.steam.rate" in panel.constraints_label.text()
    assert "optimal" in panel.origin_label.text()
    # Back to ADVISE: same recommendation (not asked again), buttons shown.
    panel.mode_box.setCurrentIndex(2)
    assert source.calls == [T_MS]
    assert not panel.table.isColumnHidden(COLUMNS.index("decision"))
    assert panel.table.horizontalHeaderItem(COLUMNS.index("recommended")).text() == "Recommended"
    assert cell(panel, 3, "recommended") == ""
    assert not panel.buttons[(MVS[3], Decision.ACCEPTED)].isEnabled()
    panel.mode_box.setCurrentIndex(0)
    assert panel.content.isHidden()
    assert panel.table.rowCount() == 0


def test_accept_reject_hold_are_logged_and_saved_with_the_project(panel, tmp_path):
    panel.model.set_source(FakeSource())
    panel.model.set_time(T_MS)
    panel.model.mode = AdvisorMode.ADVISE
    panel.note_edit.setText("shift lead agreed")
    panel.buttons[(MVS[0], Decision.ACCEPTED)].click()
    assert panel.note_edit.text() == ""  # the note went with the decision
    panel.buttons[(MVS[1], Decision.REJECTED)].click()
    panel.buttons[(MVS[2], Decision.HELD)].click()
    assert panel.buttons[(MVS[0], Decision.ACCEPTED)].isChecked()
    assert not panel.buttons[(MVS[0], Decision.REJECTED)].isChecked()
    log = panel.log_model
    assert log.rowCount() == 3
    newest = [log.data(log.index(0, LOG_COLUMNS.index(c))) for c in LOG_COLUMNS]
    assert newest == ["2026-01-05T00:00:00+00:00", MVS[2], "8", "Held", ""]
    oldest = log.entry(2)
    assert (oldest.tag, oldest.decision, oldest.note) == (
        MVS[0],
        Decision.ACCEPTED,
        "shift lead agreed",
    )
    assert (oldest.current, oldest.recommended, oldest.saving, oldest.user) == (
        55.0,
        61.0,
        1234.5,
        "op",
    )
    # Autosaved at once in the journal, written to <stem>.decisions.json on save.
    project = tmp_path / "plant.toml"
    assert len(journal_path(project).read_text(encoding="utf-8").splitlines()) == 3
    panel.save_button.click()
    document = json.loads(decisions_path(project).read_text(encoding="utf-8"))
    assert [(e["tag"], e["decision"]) for e in document["entries"]] == [
        (MVS[0], "accepted"), (MVS[1], "rejected"), (MVS[2], "held"),
    ]  # fmt: skip
    assert "Decisions saved to" in panel.status_label.text()
    # Changing one's mind is logged as another decision.
    panel.buttons[(MVS[2], Decision.ACCEPTED)].click()
    assert panel.buttons[(MVS[2], Decision.ACCEPTED)].isChecked()
    assert not panel.buttons[(MVS[2], Decision.HELD)].isChecked()
    assert log.rowCount() == 4


def test_a_decision_that_cannot_be_written_is_reported(qtbot, tmp_path, errors):
    model = RecommendationsModel(run_inline, DecisionLog(tmp_path / "gone" / "plant.toml"))
    panel = RecommendationsPanel(model, errors)
    qtbot.addWidget(panel)
    model.set_source(FakeSource())
    model.set_time(T_MS)
    model.mode = AdvisorMode.ADVISE
    with qtbot.waitSignal(errors.dialog_shown) as shown:
        panel.buttons[(MVS[0], Decision.ACCEPTED)].click()
    title, text = shown.args
    assert title == "Cannot record the decision"
    assert "cannot record the decision" in text
    assert not panel.buttons[(MVS[0], Decision.ACCEPTED)].isChecked()
    assert panel.log_model.rowCount() == 0
    for dialog in errors.open_dialogs:
        dialog.close()


def test_requests_run_in_a_worker_and_never_stall_the_event_loop(qtbot, stall_recorder, errors):
    manager = WorkerManager()
    model = RecommendationsModel(worker_task_runner(manager, "advisor"))
    panel = RecommendationsPanel(model, errors)
    qtbot.addWidget(panel)
    source = FakeSource(delay_s=0.3)
    model.set_source(source)
    model.set_time(T_MS)
    with stall_recorder() as recorder:
        panel.mode_box.setCurrentIndex(2)
        assert panel.status_label.text() == "Computing the recommendation..."
        qtbot.waitUntil(lambda: model.current is not None, timeout=5000)
    assert source.threads
    assert threading.get_ident() not in source.threads
    # The 5 ms timer kept ticking through the 300 ms solve (this process's own part of
    # each gap: StallRecorder.busy_gaps_ms; the wall gap also holds other jobs' time).
    busy = recorder.max_busy_gap_ms
    assert busy < 50.0, f"event loop busy {busy:.0f} ms (wall {recorder.max_gap_ms:.0f} ms)"
    assert recorder.n_ticks > 20
    assert panel.table.rowCount() == len(MVS)
    assert panel.status_label.text() == "Recommendation for 2026-01-05T00:00:00+00:00"
    assert manager.shutdown()


def test_a_failing_source_shows_the_error(qtbot, errors):
    manager = WorkerManager()
    model = RecommendationsModel(worker_task_runner(manager))
    panel = RecommendationsPanel(model, errors)
    qtbot.addWidget(panel)
    model.set_source(FakeSource(error=DataError("time has not enough history before it")))
    model.set_time(T_MS)
    with qtbot.waitSignal(errors.dialog_shown, timeout=5000) as shown:
        model.mode = AdvisorMode.PREDICT
    assert shown.args == ["Recommendation failed", "time has not enough history before it"]
    assert "not enough history" in panel.status_label.text()
    assert manager.shutdown()
    for dialog in errors.open_dialogs:
        dialog.close()


def test_panel_labels_in_chinese(panel, qtbot):
    manager = language_manager()
    try:
        manager.apply("zh_CN")
        qtbot.waitUntil(lambda: panel.save_button.text() == "保存决策")
        assert panel.mode_box.itemText(2) == "建议"
        assert panel.log_model.headerData(1, Qt.Orientation.Horizontal) == "位号"
    finally:
        manager.apply("en")
    qtbot.waitUntil(lambda: panel.save_button.text() == "Save decisions")


def test_the_window_panel_logs_decisions_next_to_the_project(
    make_window, demo_files, qtbot, tmp_path
):
    demo_project, history = demo_files
    project = tmp_path / "works.toml"
    shutil.copy(demo_project, project)
    window = make_window(project=project, historian=history)
    qtbot.waitUntil(lambda: not window.workers.active, timeout=20_000)
    panel = window.recommendations_panel
    assert window.docks["recommendations"].widget() is panel
    assert window.recommendations.mode == AdvisorMode.OFF  # nothing solved on open
    source = FakeSource()
    window.recommendations.set_source(source)
    assert window.replay_clock.interval_s == 900.0  # the source's interval
    panel.mode_box.setCurrentIndex(2)
    qtbot.waitUntil(lambda: window.recommendations.current is not None, timeout=5000)
    assert source.calls == [window.replay_clock.time_ms]
    assert threading.get_ident() not in source.threads
    # Times are shown in the project's zone (Asia/Shanghai).
    assert panel.status_label.text().endswith("+08:00")
    panel.buttons[(MVS[0], Decision.ACCEPTED)].click()
    window.close()  # saves the decisions with the project
    saved = DecisionLog.open(project)
    assert [(e.tag, e.decision) for e in saved.entries] == [(MVS[0], Decision.ACCEPTED)]
    assert saved.unsaved == 0
    assert not journal_path(project).exists()
    QApplication.processEvents()


def test_a_broken_decision_log_is_reported_and_left_alone(make_window, demo_files, qtbot, tmp_path):
    demo_project, _history = demo_files
    project = tmp_path / "works.toml"
    shutil.copy(demo_project, project)
    decisions_path(project).write_text("{broken", encoding="utf-8")
    window = make_window(restore_session=False)
    with qtbot.waitSignal(window.errors.dialog_shown) as shown:
        window.open_project(project)
    title, text = shown.args
    assert title == "Decision log problem"
    assert "works.decisions.json" in text
    assert "unreadable" in text
    assert window.recommendations.decisions.project_path is None  # kept in memory only
    window.close()
    assert decisions_path(project).read_text(encoding="utf-8") == "{broken"
    for dialog in window.errors.open_dialogs:
        dialog.close()


@pytest.mark.slow
def test_the_real_advisor_session_on_the_steelworks_demo(
    make_window, qtbot, tmp_path, stall_recorder
):
    """Open the window on a 4-day demo, switch to ADVISE, get a real recommendation, accept it.

    About 15 s: the history is written (4 days), the advisor session is built
    and one economic MPC is solved (6-h horizon, as in the advisor's own tests).
    """
    import tomli_w

    from energyopt.demos import demo_project_file
    from energyopt.demos.history import DEMO_START_MS, write_demo_history
    from energyopt.project import load_project

    project = load_project(demo_project_file("steelworks"))
    history = tmp_path / "history.h5"
    write_demo_history(project, "steelworks", history, days=4, seed=5)
    data = project.to_toml_dict()
    data["controller"]["economic"]["horizon_s"] = "6 h"  # keeps the solve near 2 s
    project_path = tmp_path / "plant.toml"
    project_path.write_text(tomli_w.dumps(data), encoding="utf-8")
    window = make_window(project=project_path, historian=history)
    qtbot.waitUntil(lambda: not window.workers.active, timeout=30_000)
    # The forecast needs three days of history before the asked time.
    at_ms = DEMO_START_MS + 3 * 86_400_000 + 7 * 3_600_000
    window.replay_clock.seek(at_ms)
    model, panel = window.recommendations, window.recommendations_panel
    with stall_recorder() as recorder:
        panel.mode_box.setCurrentIndex(2)  # opens the session and asks, both in workers
        qtbot.waitUntil(lambda: model.current is not None, timeout=120_000)
    print(f"longest event-loop stall while opening and solving: {recorder.max_gap_ms:.0f} ms")
    assert window.replay_clock.interval_s == 900.0  # the economic MPC's 15-min interval
    view = model.current
    assert view.time_ms == at_ms
    assert view.saving_unit == "CNY"
    assert view.rows
    units = {binding.tag: binding.unit for binding in project.bindings.values()}
    bound = [row for row in view.rows if row.tag in units]
    assert bound  # bound MVs are shown by tag in the binding's engineering unit
    assert all(row.unit == units[row.tag] for row in bound)
    for row in view.rows:  # unbound ones by model variable, in SI
        assert row.unit
        assert row.recommended is not None
        # Limits converted to the tag unit like the setpoint; a relative 1e-9
        # of the span covers the solver's bound tolerance after the conversion.
        slack = 1e-9 * (row.high - row.low)
        assert row.low - slack <= row.recommended <= row.high + slack
    first = bound[0]
    panel.buttons[(first.mv, Decision.ACCEPTED)].click()
    window.close()
    saved = DecisionLog.open(project_path).entries
    assert [(e.tag, e.recommended, e.unit) for e in saved] == [
        (first.tag, first.recommended, first.unit)
    ]


class ManyMVSource(FakeSource):
    """Seventeen MVs, as the demo steelworks' economic MPC has."""

    names = tuple(f"PP.MV{k:02d}.SP" for k in range(17))

    def recommend(self, at_ms: int) -> Any:
        self.calls.append(at_ms)
        rows = tuple(
            MVRecommendation(name, 10.0 + k, 11.0 + k, MoveLimitation.NONE, "valley tariff")
            for k, name in enumerate(self.names)
        )
        return dataclasses.replace(make_recommendation(at_ms), mvs=rows, prediction=None)


def test_every_mv_row_is_reachable_at_1366x768(make_window, demo_files, qtbot):
    """In the window's default layout the table keeps room for rows and every row scrolls in.

    Before the body scrolled, the table of 17 MVs was squeezed to its header
    between the summary labels and the decision log (no row visible at all).
    """
    from gui.recommendations_panel import MIN_TABLE_ROWS

    project, history = demo_files
    window = make_window(project=project, historian=history)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    panel = window.recommendations_panel
    window.recommendations.set_source(ManyMVSource())
    panel.mode_box.setCurrentIndex(2)
    qtbot.waitUntil(lambda: panel.table.rowCount() == 17, timeout=10_000)
    # The resize to 1366 px widens the right column over several layout passes
    # (the default layout is made at the smaller first size): let them settle.
    for _ in range(5):
        QApplication.processEvents()
    table = panel.table
    assert panel.height() < 400  # a short dock: the case that squeezed the table
    row_px = table.rowHeight(0)
    assert table.viewport().height() >= MIN_TABLE_ROWS * row_px
    last = table.model().index(16, COLUMNS.index("tag"))
    panel.scroll_area.ensureWidgetVisible(table)
    table.scrollTo(last)
    QApplication.processEvents()
    cell_rect = table.visualRect(last)
    assert table.viewport().rect().contains(cell_rect)
    # ... and that part of the table is inside the scroll area's visible part.
    area = panel.scroll_area.viewport()
    top_left = table.viewport().mapTo(area, cell_rect.topLeft())
    bottom = table.viewport().mapTo(area, cell_rect.bottomLeft())
    assert area.rect().contains(top_left)
    assert area.rect().contains(bottom)
    assert panel.buttons[(ManyMVSource.names[-1], Decision.ACCEPTED)].isEnabled()
    # The shown window loads its trends and flows: let that finish before closing.
    qtbot.waitUntil(lambda: not window.workers.active and window.trends_dock.ready, timeout=60_000)
    window.close()
