"""The Qt-free state of the model panel: windows, fit runs, cancel, reports found beside."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from energyopt.appstate import HistorianSummary, SessionState
from energyopt.appstate.fitting import FitModel
from energyopt.appstate.historian import load_historian_summary
from energyopt.appstate.tasks import DeferredRunner, TaskProgress, run_inline
from energyopt.demos import demo_project_text
from energyopt.demos.history import write_demo_history
from energyopt.errors import DataError, ModelError, ProjectError
from energyopt.fitting import fit_project, fit_report_path, fitted_project_path, load_fit_report
from energyopt.fitting.fit_report import (
    FitReport,
    OutputFit,
    ParameterFit,
    SeriesFit,
    UnitFitReport,
)
from energyopt.progress import CancelToken
from energyopt.project.loader import load_project

MINUTE_MS = 60_000
T0_MS = 1_767_571_200_000  # 2026-01-05T00:00Z


def summary(
    path: Path, n_samples: int = 100, sampling_ms: float | None = MINUTE_MS
) -> HistorianSummary:
    last = T0_MS + (n_samples - 1) * MINUTE_MS
    return HistorianSummary(path, (), n_samples, (T0_MS, last), sampling_ms, "UTC")


@dataclass
class FakeResult:
    """What ``fit_project`` returns, as far as the model reads it."""

    report: FitReport
    report_path: Path
    project_path: Path


def make_report(folder: Path, fitted: Path | None = None) -> FitReport:
    t = np.arange(3, dtype=np.int64) * MINUTE_MS + T0_MS
    series = SeriesFit(t, np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 2.5]))
    unit = UnitFitReport(
        unit="boiler_1",
        kind="calibrated",
        outputs=(OutputFit("steam_kg_s", "kg/s", 0.12, 0.98, -0.01),),
        parameters=(ParameterFit("efficiency", 0.9, 0.002, "1", nominal=0.88),),
        samples_train=70,
        samples_validate=30,
        series={"steam_kg_s": series},
    )
    fitted = fitted if fitted is not None else folder / "plant.fitted.toml"
    return FitReport(
        project=str(folder / "plant.toml"),
        data=str(folder / "history.h5"),
        train=(T0_MS, T0_MS + 70 * MINUTE_MS),
        validate=(T0_MS + 70 * MINUTE_MS, T0_MS + 100 * MINUTE_MS),
        units=(unit,),
        fitted_project=str(fitted),
    )


class Recorder:
    """Records every signal of a model."""

    def __init__(self, model: FitModel) -> None:
        self.events: list[tuple[str, Any]] = []
        for name in ("status_changed", "progressed", "shown_changed", "failed", "windows_changed"):
            getattr(model, name).connect(lambda *args, n=name: self.events.append((n, args)))
        model.cancelled.connect(lambda: self.events.append(("cancelled", ())))

    def names(self, *wanted: str) -> list[Any]:
        return [(n, a) for n, a in self.events if n in wanted]


@pytest.fixture
def runner() -> DeferredRunner:
    return DeferredRunner()


@pytest.fixture
def ready(tmp_path: Path, runner: DeferredRunner):
    """A model with a project path and a 100-minute historian, and a fake fit recording calls."""
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def fit(*args: Any, progress: Any, cancel: CancelToken, **kwargs: Any) -> FakeResult:
        calls.append((args, kwargs))
        progress(1, 2, "calibrating boiler_1")
        cancel.raise_if_cancelled()
        path = tmp_path / "plant.fitted.fit.json"
        return FakeResult(make_report(tmp_path), path, tmp_path / "plant.fitted.toml")

    model = FitModel(runner, fit)
    model.set_inputs(tmp_path / "plant.toml", summary(tmp_path / "history.h5"))
    return model, calls


# ------------------------------------------------------------------- windows
def test_default_windows_are_the_first_70_percent_and_the_rest(tmp_path, runner):
    model = FitModel(runner)
    assert model.window_problem == "no_data"
    model.set_inputs(tmp_path / "plant.toml", summary(tmp_path / "h.h5", n_samples=100))
    # 100 samples a minute apart span 100 minutes (last sample plus one step): 70 | 30.
    assert model.span_ms == (T0_MS, T0_MS + 100 * MINUTE_MS)
    assert model.train_ms == (T0_MS, T0_MS + 70 * MINUTE_MS)
    assert model.validate_ms == (T0_MS + 70 * MINUTE_MS, T0_MS + 100 * MINUTE_MS)
    assert model.window_problem is None
    # 7 samples: 0.7 * 7 = 4.9 steps, cut on the nearest whole step (5).
    model.set_inputs(tmp_path / "plant.toml", summary(tmp_path / "h7.h5", n_samples=7))
    assert model.train_ms == (T0_MS, T0_MS + 5 * MINUTE_MS)
    assert model.validate_ms == (T0_MS + 5 * MINUTE_MS, T0_MS + 7 * MINUTE_MS)
    assert runner.started == []  # no report beside: nothing read, no thread


def test_window_problems(ready):
    model, _ = ready
    train, hold = model.train_ms, model.validate_ms
    model.set_train(train[0], train[0])
    assert model.window_problem == "train_empty"
    model.set_train(*train)
    model.set_validate(hold[1], hold[0])
    assert model.window_problem == "validate_empty"
    model.set_validate(hold[0], hold[1] + 2 * MINUTE_MS)
    assert model.window_problem == "outside"
    model.set_validate(hold[0] - MINUTE_MS, hold[1])
    assert model.window_problem == "overlap"
    assert not model.can_run
    with pytest.raises(ProjectError, match="fit windows cannot be used: overlap"):
        model.run()
    # Validation before training is fine.
    model.set_train(T0_MS + 30 * MINUTE_MS, T0_MS + 100 * MINUTE_MS)
    model.set_validate(T0_MS, T0_MS + 30 * MINUTE_MS)
    assert model.window_problem is None
    model.reset_windows()
    assert (model.train_ms, model.validate_ms) == (train, hold)


def test_train_fraction_is_checked(runner):
    with pytest.raises(ValueError, match="train_fraction must be inside"):
        FitModel(runner, train_fraction=1.0)


def test_run_needs_a_project_and_a_historian(tmp_path, runner):
    model = FitModel(runner)
    model.set_inputs(tmp_path / "plant.toml", None)
    assert not model.can_run
    with pytest.raises(ProjectError, match="open a project and its historian"):
        model.run()
    assert runner.started == []


# ----------------------------------------------------------------------- run
def test_a_run_passes_the_inputs_and_shows_the_result(ready, runner, tmp_path):
    model, calls = ready
    rec = Recorder(model)
    assert model.run(overwrite=True)
    assert model.status == "running"
    assert not model.run()  # a second run while one runs starts nothing
    assert len(runner.started) == 1
    runner.started[0].run()
    (args, kwargs) = calls[0]
    assert args == (tmp_path / "plant.toml", tmp_path / "history.h5")
    assert kwargs == {
        "train": (T0_MS, T0_MS + 70 * MINUTE_MS),
        "validate": (T0_MS + 70 * MINUTE_MS, T0_MS + 100 * MINUTE_MS),
        "overwrite": True,
    }
    assert rec.names("status_changed") == [
        ("status_changed", ("running",)),
        ("status_changed", ("idle",)),
    ]
    (_, (progress,)) = rec.names("progressed")[0]
    assert (progress.done, progress.total, progress.message) == (1, 2, "calibrating boiler_1")
    assert progress.fraction == 0.5
    shown = model.shown
    assert shown is not None
    assert not shown.from_file
    assert shown.fitted_project == tmp_path / "plant.fitted.toml"
    assert shown.report.units[0].parameters[0].value == 0.9
    assert rec.names("shown_changed") == [("shown_changed", (shown,))]
    assert model.progress is None  # cleared once idle


def test_cancel_stops_the_run_and_shows_nothing(ready, runner):
    model, _ = ready
    rec = Recorder(model)
    model.run()
    model.cancel()
    assert model.status == "cancelling"
    assert runner.started[0].token.cancelled
    runner.started[0].run()  # the fit meets the cancelled token
    assert model.status == "idle"
    assert model.shown is None
    assert rec.names("cancelled") == [("cancelled", ())]
    assert [a for n, a in rec.names("status_changed")] == [("running",), ("cancelling",), ("idle",)]


def test_a_failure_is_emitted_and_the_model_is_idle_again(tmp_path, runner):
    def fit(*_args: Any, **_kwargs: Any) -> Any:
        raise ModelError("units.reactor: the data cannot identify 'k10_1_h'")

    model = FitModel(runner, fit)
    model.set_inputs(tmp_path / "plant.toml", summary(tmp_path / "history.h5"))
    rec = Recorder(model)
    model.run()
    runner.started[0].run()
    ((_, (exc,)),) = rec.names("failed")
    assert isinstance(exc, ModelError)
    assert "k10_1_h" in str(exc)
    assert model.status == "idle"
    assert model.can_run


def test_changing_the_inputs_cancels_the_run_and_drops_its_result(ready, runner, tmp_path):
    model, _ = ready
    rec = Recorder(model)
    model.run()
    other = summary(tmp_path / "other.h5", n_samples=50)
    model.set_inputs(tmp_path / "plant.toml", other)
    assert runner.started[0].token.cancelled
    assert model.status == "idle"
    assert model.train_ms == (T0_MS, T0_MS + 35 * MINUTE_MS)  # the new file's default split
    runner.started[0].run()  # the old fit ends late: cancelled, and nothing is reported
    assert model.shown is None
    assert rec.names("cancelled", "shown_changed", "failed") == []


def test_close_drops_a_late_result(ready, runner):
    model, _ = ready
    model.run()
    model.close()
    assert runner.started[0].token.cancelled
    runner.started[0].token = CancelToken()  # a fit that ignored the token and finished
    runner.started[0].run()
    assert model.shown is None
    assert model.status == "idle"


# ------------------------------------------------------------------ reports
def test_a_report_beside_the_project_is_shown_without_refitting(tmp_path, runner):
    report = make_report(tmp_path)
    (tmp_path / "plant.fitted.fit.json").write_text(report.to_json(), encoding="utf-8")
    fits: list[Any] = []
    model = FitModel(runner, lambda *a, **k: fits.append(a))
    rec = Recorder(model)
    model.set_inputs(tmp_path / "plant.toml", None)
    assert len(runner.started) == 1  # read in the background
    runner.started[0].run()
    assert fits == []
    shown = model.shown
    assert shown is not None
    assert shown.from_file
    assert shown.report_path == tmp_path / "plant.fitted.fit.json"
    assert shown.fitted_project == tmp_path / "plant.fitted.toml"
    assert shown.report.to_dict() == report.to_dict()
    assert rec.names("failed") == []
    assert model.outputs_exist()


def test_a_fitted_project_shows_its_own_evidence_but_not_a_foreign_report(tmp_path, runner):
    fitted = tmp_path / "plant.fitted.toml"
    report = make_report(tmp_path, fitted)
    (tmp_path / "plant.fitted.fit.json").write_text(report.to_json(), encoding="utf-8")
    model = FitModel(runner)
    model.set_inputs(fitted, None)
    runner.started[-1].run()
    assert model.shown is not None
    assert model.shown.report_path == tmp_path / "plant.fitted.fit.json"
    # plant.fit.json beside plant.toml documents another project: not shown.
    (tmp_path / "plant.fit.json").write_text(report.to_json(), encoding="utf-8")
    model.set_inputs(tmp_path / "plant.toml", None)
    (tmp_path / "plant.fitted.fit.json").unlink()
    runner.started[-1].run()
    assert model.shown is None


def test_a_broken_report_beside_the_project_is_reported(tmp_path, runner):
    (tmp_path / "plant.fitted.fit.json").write_text("{not json", encoding="utf-8")
    model = FitModel(runner)
    rec = Recorder(model)
    model.set_inputs(tmp_path / "plant.toml", None)
    runner.started[0].run()
    ((_, (exc,)),) = rec.names("failed")
    assert isinstance(exc, DataError)
    assert "cannot read the fit report" in str(exc)
    assert model.shown is None


def test_load_report_reads_any_report_file(tmp_path, runner):
    path = tmp_path / "elsewhere.fit.json"
    data = make_report(tmp_path).to_dict()
    data["fitted_project"] = ""
    path.write_text(json.dumps(data), encoding="utf-8")
    model = FitModel(runner)
    model.load_report(path)
    runner.started[0].run()
    assert model.shown is not None
    assert model.shown.fitted_project is None
    with pytest.raises(ProjectError, match="no fitted project to open"):
        model.open_fitted_project()


@pytest.mark.parametrize("name", ["plant.toml", "site/plant.v2.toml", "plant"])
def test_output_paths_follow_the_fit_workflow_rule(tmp_path, runner, name):
    model = FitModel(runner)
    model.set_inputs(tmp_path / name, None)
    assert model.fitted_project_path == fitted_project_path(tmp_path / name)
    assert not model.outputs_exist()
    target = fit_report_path(fitted_project_path(tmp_path / name))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("{}", encoding="utf-8")
    assert model.outputs_exist()


# ------------------------------------------------------- a real fit, inline
@pytest.fixture(scope="module")
def chemical(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("chemical_state")
    (folder / "plant.toml").write_text(demo_project_text("chemical"), encoding="utf-8")
    write_demo_history(
        load_project(folder / "plant.toml"), "chemical", folder / "history.h5", days=0.5, seed=0
    )
    return folder


def test_a_real_fit_inline_and_opening_the_fitted_project(chemical):
    session = SessionState()
    model = FitModel(run_inline)
    model.follow_session(session)
    session.open_project(chemical / "plant.toml")
    session.open_historian(chemical / "history.h5")
    seen: list[TaskProgress] = []
    model.progressed.connect(seen.append)
    assert model.run()
    shown = model.shown
    assert shown is not None
    assert model.status == "idle"
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert seen[-1].fraction == 1.0
    on_disk = load_fit_report(chemical / "plant.fitted.fit.json")
    assert shown.report.to_dict() == on_disk.to_dict()
    assert on_disk.train == model.train_ms
    assert on_disk.validate == model.validate_ms
    # The reactor's two estimates moved off their nominal values with small errors.
    params = on_disk.units[0].parameters
    assert len(params) == 2
    for p in params:
        assert abs(p.value - p.nominal) > p.std_error
    # Opening the fitted project through the model: the session switches to it.
    opened = model.open_fitted_project()
    assert opened == chemical / "plant.fitted.toml"
    assert session.project_path == opened
    assert model.shown is not None  # its own evidence is shown (read inline)
    assert model.shown.report_path == chemical / "plant.fitted.fit.json"


def test_an_inline_cancel_writes_nothing(chemical, tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    for name in ("plant.toml", "history.h5"):
        (folder / name).write_bytes((chemical / name).read_bytes())
    cancelled: list[bool] = []

    def fit(*args: Any, cancel: CancelToken, **kwargs: Any) -> Any:
        cancel.cancel()  # as if the user pressed Cancel at once
        return fit_project(*args, cancel=cancel, **kwargs)

    model = FitModel(run_inline, fit)
    model.cancelled.connect(lambda: cancelled.append(True))
    model.set_inputs(folder / "plant.toml", load_historian_summary(folder / "history.h5"))
    model.run()
    assert cancelled == [True]
    assert sorted(p.name for p in folder.iterdir()) == ["history.h5", "plant.toml"]
