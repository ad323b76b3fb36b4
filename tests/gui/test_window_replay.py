"""The main window replaying the steelworks demo with the real economic MPC: no stall > 50 ms.

Issue 6's rule "the event loop never blocks for more than 50 ms", measured
during a replay with MPC: the window shows the trends and the energy flows of
a demo history, the advisor is switched to ADVISE, and the replay clock plays
"as fast as possible" over a few 15-min control intervals, each one an
economic MPC solve in the advisor's child process (its casadi and h5py calls
never hold this process's GIL) while the trends, the flows and the
recommendations follow the clock.  The figure asserted is the longest gap
this process itself was busy for (``StallRecorder.max_busy_gap_ms``: the
wall-clock gap also counts other processes running on the shared machine).
The fast tests below check the trend and
flow docks on synthetic data: lazy loading, plots built one per event-loop
turn, following the clock in turns of their own, errors, Chinese.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tomli_w
from numpy.testing import assert_allclose

from controllers.advisor.settings import AdvisorMode
from energyopt.appstate.plant_views import PlantViewsModel, TrendCurve
from energyopt.appstate.replay_clock import AS_FAST_AS_POSSIBLE, ReplayClock
from energyopt.appstate.tasks import run_inline
from energyopt.data.format import format_time_ms
from energyopt.demos import demo_project_file
from energyopt.demos.history import write_demo_history
from energyopt.errors import DataError
from energyopt.project import load_project
from gui.plant_views import FlowsDock, TrendsDock, report_failures
from gui.replay_clock import TREND_LEAD, TREND_WINDOW_S

pytestmark = pytest.mark.gui

STALL_LIMIT_MS = 50.0
"""Issue 6: the longest the event loop may block. [ms]"""
INTERVALS = 3
"""Control intervals played (each one MPC solve). [-]"""


@pytest.fixture(scope="module")
def advisor_files(tmp_path_factory):
    """The steelworks demo with a 6-h economic horizon and a 4-day history.

    The advisor's forecast needs three days of history before the first
    decision, so four days leave one day to replay; the 6-h horizon keeps a
    solve near 2 s (as in the recommendations panel's own integration test).
    """
    out = tmp_path_factory.mktemp("window_replay")
    project = load_project(demo_project_file("steelworks"))
    history = out / "history.h5"
    write_demo_history(project, "steelworks", history, days=4, seed=5)
    data = project.to_toml_dict()
    data["controller"]["economic"]["horizon_s"] = "6 h"
    project_path = out / "plant.toml"
    project_path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return project_path, history


@pytest.mark.slow
def test_a_replay_with_mpc_never_stalls_the_event_loop(
    make_window, advisor_files, qtbot, stall_recorder
):
    """About 20-60 s: the flows replay the 4-day record, then three MPC solves are played.

    With the advisor on a worker thread of this process the busy stalls were
    40-90 ms (casadi and h5py holding the GIL); in its own process they are
    10-16 ms, while the wall-clock gaps at a load average of 17 on 2 cores
    were 77-110 ms with this process running 10-16 ms of them.
    """
    project_path, history = advisor_files
    window = make_window(project=project_path, historian=history)
    window.resize(1280, 800)
    window.show()  # the trend and flow docks load their data when first shown
    model, clock = window.recommendations, window.replay_clock
    with stall_recorder() as loading:
        window.recommendations_panel.mode_box.setCurrentIndex(2)  # ADVISE: opens the advisor
        qtbot.waitUntil(
            lambda: (
                window.trends_dock.ready
                and bool(window.trends_dock.panel.plots)
                and window.flows_dock.view is not None
                and model.current is not None
            ),
            timeout=180_000,
        )
    assert model.mode == AdvisorMode.ADVISE
    assert clock.interval_s == 900.0  # the economic MPC's interval
    start_ms = clock.time_ms
    assert model.current.time_ms == start_ms
    arrived: list[int] = []
    model.recommendation_changed.connect(
        lambda view: arrived.append(view.time_ms) if view is not None else None
    )
    end_ms = start_ms + INTERVALS * 900_000
    clock.speed = AS_FAST_AS_POSSIBLE
    with stall_recorder() as replay:
        window.replay_widget.play_button.click()
        qtbot.waitUntil(lambda: clock.time_ms >= end_ms, timeout=120_000)
        clock.pause()
        qtbot.waitUntil(lambda: not model.busy, timeout=60_000)
        # The trends scroll one plot per event-loop turn, the Sankey in a turn of its own.
        panel, flows = window.trends_dock.panel, window.plant_views.flows
        now_s = end_ms / 1000.0
        expected = [
            now_s - (1.0 - TREND_LEAD) * TREND_WINDOW_S,
            now_s + TREND_LEAD * TREND_WINDOW_S,
        ]
        qtbot.waitUntil(
            lambda: (
                flows.current_time_ms == end_ms
                # Float seconds since the epoch (~1.7e9) carry about 2e-7 s of rounding.
                and all(np.allclose(p.vb.viewRange()[0], expected, rtol=1e-12, atol=0.0)
                        for p in panel.plots)
            )
        )  # fmt: skip
    # Informative: building the plots while the flows replay the record in a worker.
    print(
        f"longest event-loop stall: {replay.max_gap_ms:.1f} ms replaying {INTERVALS} MPC "
        f"intervals ({replay.n_ticks} ticks), busy {replay.max_busy_gap_ms:.1f} ms, p99 "
        f"{np.percentile(replay.gaps_ms, 99):.1f} ms; {loading.max_gap_ms:.1f} ms while "
        f"loading (busy {loading.max_busy_gap_ms:.1f} ms); worst (gap, cpu, gui cpu): "
        + ", ".join(f"({gap:.0f}, {cpu:.0f}, {gui:.0f})" for gap, cpu, gui in replay.worst())
    )
    # A recommendation for every interval played: the clock waited for each solve.
    assert arrived == [start_ms + k * 900_000 for k in range(1, INTERVALS + 1)]
    assert model.current.time_ms == clock.time_ms == end_ms
    assert model.current.rows
    # The trends follow: crosshair at the clock's time, TREND_LEAD of the window after it
    # (every plot: waited for above), and the readout shows the sample in force then.
    level = panel.series["BFG.HOLDER.LEVEL"]
    k = int(np.searchsorted(level.time_s, now_s, side="right")) - 1
    assert panel.readout()["BFG.HOLDER.LEVEL"] == level.values[k]
    # The Sankey shows the replayed flows at the clock's time (its 60-s grid holds the 15-min one).
    assert flows.current_time_ms == end_ms
    assert not window.errors.open_dialogs
    window.close()
    # This process's part of every gap: robust to the machine's load (see StallRecorder).
    assert replay.max_busy_gap_ms < STALL_LIMIT_MS


# ------------------------------------------------------------------ fast checks
T0_MS = 1_700_001_000_000
"""On the 15-min grid of the clock (2023-11-14T22:30:00Z). [ms since epoch]"""
HOUR_S = 3600.0


def curves() -> tuple[TrendCurve, ...]:
    """Two units, three tags: a level ramp, a pressure, a flow; 2 days at 1 min."""
    time_s = T0_MS / 1000.0 + np.arange(0.0, 48 * HOUR_S, 60.0)
    ramp = np.linspace(30.0, 70.0, time_s.size)
    return (
        TrendCurve("LEVEL", "%", "controlled", time_s, ramp, (10.0, 90.0), (30.0, 70.0)),
        TrendCurve("LEVEL2", "%", "controlled", time_s, 100.0 - ramp),
        TrendCurve("FLOW.SP", "t/h", "manipulated", time_s, np.full(time_s.size, 150.0)),
    )


@pytest.fixture
def clock() -> ReplayClock:
    replay = ReplayClock(interval_s=900.0)
    replay.set_span(T0_MS, T0_MS + 48 * 3_600_000)
    return replay


def test_the_trends_build_one_plot_per_turn_then_follow_the_clock(qtbot, clock):
    model = PlantViewsModel(run_inline, trend_loader=lambda *_a, **_k: curves())
    model.set_files(object(), Path("history.h5"))  # type: ignore[arg-type]
    clock.set_timezone("Asia/Shanghai")  # the plant's: axes and readout follow it
    dock = TrendsDock(model, clock)
    qtbot.addWidget(dock)
    dock.resize(900, 600)
    assert dock.status_label.text() == "Open a project and its historian file to see this view."
    dock.show()  # asks for the trends: loaded at once, plots built in later turns
    assert [c.tag for c in model.trends] == ["LEVEL", "LEVEL2", "FLOW.SP"]
    assert not dock.panel.plots
    assert not dock.ready
    qtbot.waitUntil(lambda: dock.ready)
    assert sorted(dock.panel.series) == ["FLOW.SP", "LEVEL", "LEVEL2"]
    assert len(dock.panel.plots) == 2  # one per unit
    assert dock.panel.bands["LEVEL"].getRegion() == (30.0, 70.0)
    assert [line.value() for line in dock.panel.limit_lines["LEVEL"]] == [10.0, 90.0]
    assert dock.status_label.isHidden()
    # The clock moves: the window scrolls in the next turns, not in the clock's.
    target_ms = T0_MS + 30 * 3_600_000
    before = dock.panel.plots[1].vb.viewRange()[0]
    clock.seek(target_ms)
    assert dock.panel.plots[1].vb.viewRange()[0] == before
    stamp = format_time_ms(target_ms, "Asia/Shanghai")  # as the replay clock shows it
    assert stamp.endswith("+08:00")
    qtbot.waitUntil(lambda: stamp in dock.panel.readout_label.text())
    now_s = target_ms / 1000.0
    expected = [now_s - (1.0 - TREND_LEAD) * TREND_WINDOW_S, now_s + TREND_LEAD * TREND_WINDOW_S]
    for plot in dock.panel.plots:
        # Seconds since the epoch (~1.7e9) in doubles: 1e-12 relative is 2e-3 s.
        assert_allclose(plot.vb.viewRange()[0], expected, rtol=1e-12)
        assert not plot.vb.linksBlocked  # the x-links are back
    # 30 h into a 48-h linear ramp 30 -> 70 %, sampled each minute: sample 1800 of 2880.
    assert_allclose(dock.panel.readout()["LEVEL"], 30.0 + 40.0 * 1800 / 2879, rtol=1e-12)
    # A zoom of the user's is kept: 2 h wide, the clock at 3/4 of it.
    dock.panel.plots[0].vb.setXRange(now_s - 3600.0, now_s + 3600.0, padding=0.0)
    clock.step(1)
    later_s = now_s + 900.0
    qtbot.waitUntil(
        lambda: (
            format_time_ms(round(later_s * 1000), "Asia/Shanghai")
            in dock.panel.readout_label.text()
        )
    )
    assert_allclose(
        dock.panel.plots[1].vb.viewRange()[0], [later_s - 5400.0, later_s + 1800.0], rtol=1e-12
    )  # rtol as above
    dock.close()


def test_a_failed_load_shows_the_error(qtbot, errors, clock):
    def broken(*_args, **_kwargs):
        raise DataError("history.h5: the replay lacks tag X")

    model = PlantViewsModel(run_inline, flow_loader=broken)
    report_failures(model, errors)
    dock = FlowsDock(model, clock)
    qtbot.addWidget(dock)
    model.set_files(object(), Path("history.h5"))  # type: ignore[arg-type]
    with qtbot.waitSignal(errors.dialog_shown) as shown:
        dock.show()
    title, text = shown.args
    assert title == "Cannot show trends and flows"
    assert "lacks tag X" in text
    assert dock.view is None
    assert not dock.status_label.isHidden()
    for dialog in errors.open_dialogs:
        dialog.close()


def test_the_window_places_trends_and_flows_and_loads_nothing_unshown(
    make_window, demo_files, qtbot
):
    project, history = demo_files
    window = make_window(project=project, historian=history)
    qtbot.waitUntil(lambda: not window.workers.active, timeout=20_000)
    assert window.docks["trends"].widget() is window.trends_dock
    assert window.docks["flows"].widget() is window.flows_dock
    assert window.docks["trends"].windowTitle() == "Trends"
    assert window.docks["flows"].windowTitle() == "Energy flows"
    # Not shown: nothing replayed, nothing read (windows of other tests pay nothing).
    assert not window.plant_views.busy
    assert window.plant_views.flows is None
    assert window.plant_views.trends == ()
    window.close()


def test_the_flows_show_the_clock_time_in_a_turn_of_their_own(qtbot):
    from energyopt.demos.steelworks_truth import run_truth
    from energyopt.flows import FlowModel, FlowTrajectory
    from energyopt.plantbuild import build_plant

    built = build_plant(load_project(demo_project_file("steelworks")))
    run = run_truth(built, days=1 / 24, step_s=60.0, seed=1, start_ms=T0_MS, warmup_s=600.0)
    time_ms = (T0_MS + run.time_s * 1000.0).astype(np.int64)
    trajectory = FlowTrajectory(time_ms, run.states, run.inputs, run.disturbances, run.outputs)
    flows = FlowModel.from_built(built, trajectory)
    clock = ReplayClock(interval_s=60.0)
    clock.set_span(int(time_ms[0]), int(time_ms[-1]))
    model = PlantViewsModel(run_inline, flow_loader=lambda *_a, **_k: flows)
    model.set_files(object(), Path("history.h5"))  # type: ignore[arg-type]
    clock.set_timezone("Europe/Berlin")  # the clock's zone wins over the project's
    dock = FlowsDock(model, clock)
    qtbot.addWidget(dock)
    dock.show()
    assert dock.view is not None
    assert dock.view.model is flows
    assert dock.status_label.isHidden()
    clock.seek(int(time_ms[20]) + 30_000)  # floors to the 1-min grid: sample 20
    assert flows.index == 0  # not in the clock's turn
    qtbot.waitUntil(lambda: flows.index == 20)
    assert dock.view.time_label.text() == format_time_ms(int(time_ms[20]), "Europe/Berlin")
    clock.set_timezone("Asia/Shanghai")
    assert dock.view.time_label.text() == format_time_ms(int(time_ms[20]), "Asia/Shanghai")
    dock.close()


def test_the_dock_status_in_chinese(qtbot, clock):
    from gui.i18n import language_manager

    model = PlantViewsModel(run_inline)
    dock = FlowsDock(model, clock)
    qtbot.addWidget(dock)
    english = "Open a project and its historian file to see this view."
    assert dock.status_label.text() == english
    manager = language_manager()
    try:
        manager.apply("zh_CN")
        qtbot.waitUntil(
            lambda: dock.status_label.text() == "请打开项目及其历史数据文件以查看此视图。"
        )
    finally:
        manager.apply("en")
    qtbot.waitUntil(lambda: dock.status_label.text() == english)


def test_loaded_objects_leave_the_garbage_collectors_reach(qtbot):
    import gc

    from PySide6.QtWidgets import QWidget

    from energyopt.appstate import SessionState
    from gui.plant_views import freeze_heap_when_loaded

    owner, session = QWidget(), SessionState()
    qtbot.addWidget(owner)
    session.open_project(demo_project_file("steelworks"))
    model = PlantViewsModel(run_inline)
    gc.unfreeze()
    freeze_heap_when_loaded(owner, session, model.trends_changed)
    model.trends_changed.emit(("curve",))
    assert gc.get_freeze_count() == 0  # in the next event-loop turn
    qtbot.waitUntil(lambda: gc.get_freeze_count() > 0)
    session.close_project()  # new files: the old objects may be collected again
    assert gc.get_freeze_count() == 0
