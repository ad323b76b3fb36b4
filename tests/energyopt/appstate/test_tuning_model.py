"""Tuning panel state (issue 6): settings, a tune through the task runner, cancel, resume.

Tunes run the real workflow (:func:`energyopt.tune.tune_project`, trials in a
spawned worker process) on the steelworks demo with the cheap bowl evaluate
function of the tune tests (:mod:`tests.energyopt.tune.tune_helpers`): its
energy cost is a paraboloid in log10 of the two tuned weights, so every score
is checked against the formula.  The worker process imports the helper by
that dotted name, so the repository root is put on ``sys.path`` (spawned
workers inherit it).
"""

from __future__ import annotations

import math
import multiprocessing
import sys
from pathlib import Path

import pytest
from numpy.testing import assert_allclose

REPO_ROOT = Path(__file__).resolve().parents[3]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from energyopt.appstate.tasks import DeferredRunner, run_inline  # noqa: E402
from energyopt.appstate.tuning import TuningModel  # noqa: E402
from energyopt.appstate.tuning_parts import (  # noqa: E402
    TrialInbox,
    estimate_tune_remaining_s,
    format_value,
    kpi_rows,
    setting_rows,
)
from energyopt.errors import DataError, OutputError, ProjectError  # noqa: E402
from energyopt.project import load_project  # noqa: E402
from energyopt.project.overrides import project_value  # noqa: E402
from tests.energyopt.tune.tune_helpers import (  # noqa: E402
    BEST_LOG_BAND,
    BEST_LOG_MOVE,
    BOWL,
    SLOW_BOWL,
    write_case,
)

BAND = "controller.band_weight"
MOVE = "controller.economic.move_weight"

#: The tune section of the helpers without any parameter: nothing to tune.
EMPTY_SECTION = """
[tune]
defaults = false
"""


def bowl_cost(band: float, move: float) -> float:
    """Energy cost of the bowl in the one window used here (it starts at midnight: offset 0)."""
    return (
        1000.0 * ((math.log10(band) - BEST_LOG_BAND) ** 2 + (math.log10(move) - BEST_LOG_MOVE) ** 2)
        + 100.0
    )


def make_model(folder: Path, runner, *, section: str | None = None, evaluate: str = BOWL):
    project, data = write_case(folder) if section is None else write_case(folder, section)
    model = TuningModel(runner, evaluate=evaluate, workers=1)
    model.set_inputs(project, load_project(project), data)
    return model, project, data


def outputs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_the_request_starts_from_the_tune_section_and_is_validated(tmp_path):
    model, project, data = make_model(tmp_path, run_inline)
    request = model.request
    # The helpers' [tune] section: budget 12, 2 windows of 1 d, no history.
    assert (request.budget, request.windows, request.window_s, request.history_s) == (
        12,
        2,
        86_400.0,
        0.0,
    )
    assert request.workers == 1
    assert [s.key for s in model.space] == [BAND, MOVE]
    assert model.space_error is None
    assert model.can_run
    assert model.tune_folder == tmp_path / "plant.tune"
    assert model.tuned_project_path == tmp_path / "plant.tuned.toml"
    assert model.timezone == load_project(project).project.timezone
    seen = []
    model.request_changed.connect(seen.append)
    assert model.update_request(budget=3, windows=1).budget == 3
    assert seen == [model.request]
    with pytest.raises(ProjectError, match="the budget must be 1 to 100000 trials, got 0"):
        model.update_request(budget=0)
    with pytest.raises(ProjectError, match="window length must be positive"):
        model.update_request(window_s=-1.0)
    with pytest.raises(ProjectError, match="unexpected keyword argument 'colour'"):
        model.update_request(colour="red")
    assert model.request.budget == 3  # a refused change leaves the request alone
    # The rows of the space before a tune: the project's values, no best value.
    rows = setting_rows(model.space)
    current = load_project(project)
    assert [(r.current, r.best, r.changed) for r in rows] == [
        (project_value(current, BAND), None, False),
        (project_value(current, MOVE), None, False),
    ]
    model.set_inputs(None, None, data)
    assert model.request is None
    assert not model.can_run
    with pytest.raises(ProjectError, match="open a project and its historian file"):
        model.run()


def test_nothing_to_tune_is_refused_before_any_work(tmp_path):
    runner = DeferredRunner()
    model, _, _ = make_model(tmp_path, runner, section=EMPTY_SECTION)
    assert "nothing to tune" in model.space_error
    assert model.space == ()
    assert not model.can_run
    with pytest.raises(ProjectError, match="nothing to tune"):
        model.run()
    assert runner.started == []
    assert model.status == "idle"


def test_one_tune_at_a_time_and_no_start_over_while_it_runs(tmp_path):
    with pytest.raises(ProjectError, match="at least one worker process is needed, got 0"):
        TuningModel(run_inline, workers=0)
    runner = DeferredRunner()
    model, _, _ = make_model(tmp_path, runner)
    assert model.run()
    assert model.busy
    assert not model.can_run
    assert not model.run()
    assert len(runner.started) == 1
    with pytest.raises(OutputError, match="wait for the running tune to stop"):
        model.discard_journal()
    # A new project drops the running tune: cancelled, its outcome ignored.
    model.set_inputs(None, None, None)
    assert runner.started[0].token.cancelled
    assert model.status == "idle"


def test_a_broken_data_file_fails_with_its_data_error(tmp_path):
    model, _, data = make_model(tmp_path, run_inline)
    data.write_bytes(b"this is not an HDF5 file")
    failures = []
    model.failed.connect(failures.append)
    assert model.run()
    assert len(failures) == 1
    assert isinstance(failures[0], DataError)
    assert "data.h5" in str(failures[0])
    assert model.status == "idle"
    assert model.outcome is None
    # Nothing written, no journal: the data file is read before the tune folder is made.
    assert outputs(tmp_path) == ["data.h5", "plant.toml"]


def test_estimate_of_the_time_left():
    assert estimate_tune_remaining_s(5.0, [], 10) is None
    # Fewer finishes than workers + 1: time so far per evaluation (start-up included).
    assert_allclose(estimate_tune_remaining_s(8.0, [6.0, 6.1], 4, workers=2), 8.0 / 2 * 4)
    # Then the pace between the first and the last finish: (9 - 6) s over 3 intervals.
    assert_allclose(estimate_tune_remaining_s(9.5, [6.0, 6.1, 8.0, 9.0], 5, workers=2), 1.0 * 5)
    assert estimate_tune_remaining_s(9.5, [6.0, 9.0], 0) == 0.0
    inbox = TrialInbox()
    assert inbox.take() == []
    assert inbox.finished_s == []


def test_format_value():
    assert format_value(None) == "-"
    assert format_value(math.nan) == "-"
    assert format_value(1234567.0) == "1.23457e+06"
    assert format_value(21600.0) == "21600"
    assert format_value("quadrature") == "quadrature"
    assert format_value(True) == "True"


@pytest.mark.slow
def test_cancel_writes_nothing_and_the_next_start_resumes_to_the_best_settings(tmp_path):
    """Cancel after the first trial, then resume: the journal's trials are kept."""
    runner = DeferredRunner()
    model, _, _ = make_model(tmp_path, runner, evaluate=SLOW_BOWL)
    model.update_request(budget=4, windows=1)
    progress, trial_counts, cancelled = [], [], []

    def on_progress(info):
        progress.append(info)
        if info.done >= 1:
            model.cancel()

    model.progressed.connect(on_progress)
    model.trials_changed.connect(lambda trials: trial_counts.append(len(trials)))
    model.cancelled.connect(lambda: cancelled.append(True))
    assert model.run()
    assert model.status == "running"
    assert not model.run()  # one tune at a time
    runner.run_next()
    assert cancelled == [True]
    assert model.status == "idle"
    assert model.outcome is None
    finished = progress[-1].done
    assert 1 <= finished < 4
    assert max(trial_counts) == finished
    # No tuned project, no evidence, no temporary file; the journal is kept.
    assert outputs(tmp_path) == ["data.h5", "data.h5.calls", "plant.toml", "plant.tune"]
    assert model.journal_exists
    # The worker processes were stopped (terminated and joined by the tune).
    assert multiprocessing.active_children() == []

    model.progressed.disconnect(on_progress)
    progress.clear()
    model.progressed.connect(progress.append)
    assert model.run()
    runner.run_next()
    outcome = model.outcome
    assert outcome is not None
    result = outcome.result
    assert len(result.trials) == 4
    assert result.computed == 4 - finished  # the stored trials were not run again
    assert (progress[-1].done, progress[-1].budget) == (4, 4)
    assert progress[-1].remaining_s == 0.0
    assert model.trials == result.trials
    assert model.current == result.current
    assert outcome.tuned_path == tmp_path / "plant.tuned.toml"
    assert outcome.tuned_path.is_file()
    assert multiprocessing.active_children() == []

    # Every score against the bowl's formula (independent of the tune's arithmetic); the
    # same float operations on the same stored values: equal to rounding (1e-12).
    records = [result.current, *result.trials]
    for record in records:
        band, move = record.params[BAND], record.params[MOVE]
        assert_allclose(record.score.value, bowl_cost(band, move), rtol=1e-12)
        assert record.score.feasible == (math.log10(move) >= 2.5)
    feasible = [r for r in records if r.score.feasible]
    expected = min(feasible, key=lambda r: (r.score.value, r.number is not None))
    assert result.best == expected
    # The tuned project holds the best settings.
    tuned = load_project(outcome.tuned_path)
    for key in (BAND, MOVE):
        assert project_value(tuned, key) == result.best.params[key]
    # The rows shown: best values beside the project's, the KPIs of both, then the score.
    rows = setting_rows(result.space, result.best.params)
    assert [r.best for r in rows] == [result.best.params[BAND], result.best.params[MOVE]]
    assert all(r.changed == result.improved for r in rows)
    kpis = kpi_rows(result)
    keys = [r.key for r in kpis]
    assert keys == ["energy_cost", "holder_time_outside_hard", "stability_rate", "energy_cost"]
    assert kpis[0].current == result.current.windows[0]["energy_cost"]
    assert kpis[0].best == result.best.windows[0]["energy_cost"]
    assert kpis[1].current is None  # the bowl does not compute it (NaN)
    assert (kpis[2].low, kpis[2].high) == (99.0, None)
    assert kpis[2].best_within_bounds is result.best.score.feasible
    assert (kpis[-1].window, kpis[-1].best) == (None, result.best.score.value)

    assert model.discard_journal()
    assert not model.journal_exists
    assert not (tmp_path / "plant.tune").exists()
    assert not model.discard_journal()
