"""Trends and flows of the main window: the recorded curves, the replayed flows, lazy loading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.appstate import SessionState
from energyopt.appstate.plant_views import (
    PlantViewsModel,
    read_trend_curves,
    recorded_flow_model,
)
from energyopt.appstate.tasks import DeferredRunner
from energyopt.demos import demo_project_file
from energyopt.demos.history import write_demo_history
from energyopt.errors import CancelledError, DataError, UnitConversionError
from energyopt.flows import balance_residuals
from energyopt.progress import CancelToken
from energyopt.project import load_project


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, Path]:
    """The steelworks demo project and a 1-day history at 60 s."""
    out = tmp_path_factory.mktemp("plant_views")
    project_path = demo_project_file("steelworks")
    history = out / "history.h5"
    write_demo_history(load_project(project_path), "steelworks", history, days=1, seed=3)
    return project_path, history


def with_binding(project: Any, name: str, **changes: Any) -> Any:
    """The project with one binding changed."""
    bindings = dict(project.bindings)
    bindings[name] = bindings[name].model_copy(update=changes)
    return project.model_copy(update={"bindings": bindings})


# ------------------------------------------------------------------ trends
def test_trend_curves_are_the_recorded_controlled_then_manipulated_tags(demo):
    project_path, history = demo
    project = load_project(project_path)
    done: list[tuple[float, float | None]] = []
    curves = read_trend_curves(project, history, progress=lambda d, t, _m: done.append((d, t)))
    controlled = [b.tag for b in project.bindings.values() if b.role == "controlled"]
    manipulated = [b.tag for b in project.bindings.values() if b.role == "manipulated"]
    with h5py.File(history, "r") as f:
        in_file = set(f["tags"])
        time_ms = f["time"][:]
        level = f["tags/BFG.HOLDER.LEVEL"][:]
    assert [c.tag for c in curves] == [t for t in controlled + manipulated if t in in_file]
    assert {c.role for c in curves[: len(controlled)]} == {"controlled"}
    assert done[-1] == (len(curves), len(curves))
    bfg = next(c for c in curves if c.tag == "BFG.HOLDER.LEVEL")
    # Read straight from the file with h5py: the same samples, times in seconds.
    assert_allclose(bfg.time_s, time_ms / 1000.0, rtol=0, atol=0)  # ms / 1000 exactly
    np.testing.assert_array_equal(bfg.values, level)  # NaN gaps included
    assert bfg.unit == "%"
    assert bfg.band == (30.0, 70.0)  # the binding's normal band (same unit as the file)
    assert bfg.limits == (10.0, 90.0)  # its hard limits
    steam = next(c for c in curves if c.tag == "PP.TG1.INLET.FLOW.SP")
    assert steam.limits == (60.0, 220.0)  # a manipulated variable's limits
    assert steam.band is None


def test_trend_limits_are_converted_from_the_binding_unit_to_the_file_unit(demo):
    project_path, history = demo
    # The file records STM.HP.PRESS in MPa(g); the binding now speaks kPa(g).
    project = with_binding(
        load_project(project_path),
        "hp_pressure",
        unit="kPa(g)",
        normal=(9500.0, 9900.0),
        hard=(9200.0, 10200.0),
    )
    curves = read_trend_curves(project, history, roles=("controlled",))
    hp = next(c for c in curves if c.tag == "STM.HP.PRESS")
    assert hp.unit == "MPa(g)"
    # 1 kPa = 1e-3 MPa, both gauge: a pure scale; rtol 1e-12 covers the float product.
    assert_allclose(hp.band, (9.5, 9.9), rtol=1e-12)
    assert_allclose(hp.limits, (9.2, 10.2), rtol=1e-12)


def test_trend_units_that_do_not_convert_are_refused(demo):
    project_path, history = demo
    project = with_binding(load_project(project_path), "bfg_holder_level", unit="t/h")
    with pytest.raises(UnitConversionError, match=r"BFG\.HOLDER\.LEVEL"):
        read_trend_curves(project, history)


def test_trend_reading_can_be_cancelled(demo):
    project_path, history = demo
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        read_trend_curves(load_project(project_path), history, cancel=token)


# ------------------------------------------------------------------ flows
@pytest.mark.slow
def test_the_flows_replay_the_record_and_balance(demo):
    """About 5 s: the recorded replay of one day (60-s plant steps)."""
    project_path, history = demo
    model = recorded_flow_model(load_project(project_path), history)
    with h5py.File(history, "r") as f:
        first_ms = int(f["time"][0])
    step_ms = np.diff(model.time_ms)
    assert set(step_ms.tolist()) == {60_000}  # the replay's fine step: the file's 60 s
    assert first_ms <= model.time_ms[0] < first_ms + 60_000
    model.set_time_ms(int(model.time_ms[100]) + 59_999)  # the sample at or before
    assert model.index == 100
    # Every network node balances at every sample: in-flow = out-flow (the
    # holders' links carry the storage change).  The largest site flow is
    # some 1e9 W; 1e-6 of it bounds the integrator's rounding.
    graph = model.graph("site", 100)
    scale = max(abs(link.value_si) for link in graph.links)
    for residual in balance_residuals(graph).values():
        assert abs(residual) <= 1e-6 * scale


def test_the_flows_refuse_a_file_that_cannot_drive_the_replay(demo, tmp_path):
    project_path, _history = demo
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"not hdf5")
    with pytest.raises(DataError):
        recorded_flow_model(load_project(project_path), empty)


# ------------------------------------------------------------------ the model
class Loaders:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object, Path]] = []
        self.fail = False

    def trends(self, project, path, *, progress, cancel):
        self.calls.append(("trends", project, path))
        if self.fail:
            raise DataError(f"{path}: broken")
        return ("curve",)

    def flows(self, project, path, *, progress, cancel):
        self.calls.append(("flows", project, path))
        return f"flows of {path.name}"


@pytest.fixture
def views():
    runner, loaders = DeferredRunner(), Loaders()
    model = PlantViewsModel(runner, trend_loader=loaders.trends, flow_loader=loaders.flows)
    return model, runner, loaders


def test_nothing_loads_until_a_view_asks(views):
    model, runner, loaders = views
    project = object()
    model.set_files(project, Path("a.h5"))  # type: ignore[arg-type]
    assert not runner.pending
    assert not model.busy
    busy: list[bool] = []
    model.busy_changed.connect(busy.append)
    trends: list[object] = []
    model.trends_changed.connect(trends.append)
    model.set_active("trends")
    assert model.busy
    assert busy == [True]
    runner.run_all()
    assert trends == [("curve",)]
    assert model.trends == ("curve",)
    assert busy == [True, False]
    model.set_active("trends")  # loaded already for these files
    assert not runner.pending
    model.set_active("flows")
    runner.run_all()
    assert model.flows == "flows of a.h5"
    assert [c[0] for c in loaders.calls] == ["trends", "flows"]


def test_new_files_cancel_and_drop_the_old_loads(views):
    model, runner, _loaders = views
    project = object()
    model.set_active("trends")
    model.set_active("flows")
    assert not runner.pending  # no files yet
    model.set_files(project, Path("a.h5"))  # type: ignore[arg-type]
    assert len(runner.pending) == 2
    stale = list(runner.pending)
    model.set_files(project, Path("b.h5"))  # type: ignore[arg-type]
    assert [task.token.cancelled for task in runner.pending] == [True, True, False, False]
    for _task in stale:  # late results of the old files (the loaders ignore the token)
        runner.run_next()
    assert model.flows is None
    assert model.trends == ()
    runner.run_all()
    assert model.flows == "flows of b.h5"
    flows: list[object] = []
    model.flows_changed.connect(flows.append)
    model.set_files(None, None)
    assert flows == [None]
    assert model.trends == ()
    assert not model.busy


def test_a_failed_load_is_reported_once(views):
    model, runner, loaders = views
    loaders.fail = True
    failures: list[BaseException] = []
    model.failed.connect(failures.append)
    model.set_files(object(), Path("bad.h5"))  # type: ignore[arg-type]
    model.set_active("trends")
    runner.run_all()
    assert len(failures) == 1
    assert "bad.h5: broken" in str(failures[0])
    assert not model.busy
    model.set_active("trends")  # not retried until the files change
    assert not runner.pending


def test_unknown_views_are_refused(views):
    model, _runner, _loaders = views
    with pytest.raises(ValueError, match="unknown view 'kpis'"):
        model.set_active("kpis")


def test_the_model_follows_the_session(views, demo):
    model, runner, loaders = views
    project_path, history = demo
    session = SessionState()
    stop = model.follow_session(session)
    model.set_active("trends")
    session.open_project(project_path)
    assert not runner.pending  # no historian file yet
    session.open_historian(history)
    runner.run_all()
    assert loaders.calls == [("trends", session.project, history)]
    assert model.trends == ("curve",)
    session.close_historian()
    assert model.trends == ()  # cleared with the file
    stop()
    session.open_historian(history)
    assert not runner.pending  # no longer following
