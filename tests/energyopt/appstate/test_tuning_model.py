"""Tuning panel state (issue 6): settings, a tune through the task runner, cancel, resume.

Tunes run the real workflow (:func:`energyopt.tune.tune_project`, trials in a
spawned worker process) on the steelworks demo with the cheap bowl evaluate
function of the tune tests (:mod:`tests.energyopt.tune.tune_helpers`): its
energy cost is a paraboloid in log10 of the two tuned weights, so every score
is checked against the formula.  The worker process imports the helper by
that dotted name, so the repository root is put on ``sys.path`` (spawned
workers inherit it).  A stored result is written by the real workflow with
a fixed trial loop (``tests.energyopt.appstate.tuning_helpers``).
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import shutil
import socket
import sys
from pathlib import Path

import pytest
from numpy.testing import assert_allclose

REPO_ROOT = Path(__file__).resolve().parents[3]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from energyopt.appstate.tasks import DeferredRunner, run_inline  # noqa: E402
from energyopt.appstate.tuning import TuningModel  # noqa: E402
from energyopt.appstate.tuning_inputs import check_scheduler, scheduler_address  # noqa: E402
from energyopt.appstate.tuning_parts import (  # noqa: E402
    TrialInbox,
    display_unit,
    estimate_tune_remaining_s,
    format_value,
    kpi_rows,
    setting_rows,
)
from energyopt.appstate.tuning_stored import read_stored_tune  # noqa: E402
from energyopt.errors import (  # noqa: E402
    CancelledError,
    DataError,
    EnergyoptError,
    OutputError,
    ProjectError,
)
from energyopt.project import load_project  # noqa: E402
from energyopt.project.overrides import project_value  # noqa: E402
from energyopt.tune import search_space  # noqa: E402
from tests.energyopt.appstate.tuning_helpers import (  # noqa: E402
    MADE_MS,
    TRIAL_SETTINGS,
    bowl_cost,
    set_mtime,
    write_stored_tune,
)
from tests.energyopt.tune.tune_helpers import (  # noqa: E402
    BOWL,
    DAY_MS,
    SLOW_BOWL,
    calls,
    write_case,
)

BAND = "controller.band_weight"
MOVE = "controller.economic.move_weight"

#: The tune section of the helpers without any parameter: nothing to tune.
EMPTY_SECTION = """
[tune]
defaults = false
"""


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


# ------------------------------------------------------------------ stored result
HOUR_MS = 3_600_000


def free_port() -> int:
    """A local TCP port nobody listens on (bound, then released): connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_stored_result_is_shown_when_the_project_is_opened_again(tmp_path):
    project, data, written = write_stored_tune(tmp_path)
    runner = DeferredRunner()
    model = TuningModel(runner, evaluate=BOWL, workers=1)
    shown = []
    model.stored_changed.connect(shown.append)
    model.set_inputs(project, load_project(project), data)
    # Read off the caller's thread: nothing shown until the runner delivers.
    assert model.stored is None
    assert len(runner.pending) == 1
    runner.run_next()
    stored = model.stored
    assert shown == [stored]
    assert stored.made_ms == MADE_MS
    assert stored.valid
    assert stored.changes == ()
    assert model.stored_error is None
    assert model.outcome is stored.outcome
    assert stored.outcome.tuned_path == (tmp_path / "plant.tuned.toml").resolve()
    assert stored.outcome.evidence_path == tmp_path / "plant.tuned.tune.json"
    result = stored.outcome.result
    # Every trial against the bowl's formula; the evidence's JSON keeps each float
    # exactly (shortest repr round trip), the formula repeats the same float operations:
    # equal to rounding (1e-12).
    assert [r.number for r in model.trials] == [0, 1, 2]
    for record, (band, move) in zip(model.trials, TRIAL_SETTINGS, strict=True):
        assert record.params == {BAND: band, MOVE: move}
        assert_allclose(record.score.value, bowl_cost(band, move), rtol=1e-12)
        assert record.score.feasible == (math.log10(move) >= 2.5)
    # Trial 1 (316, 3162) is next to the bowl's bottom (10**2.5, 10**3.5) and feasible.
    assert result.best.number == 1
    assert result.improved
    loaded = load_project(project)
    assert model.current.params == {BAND: project_value(loaded, BAND), MOVE: 10_000.0}
    # The rows shown are those of the tune when it finished.
    assert kpi_rows(result) == kpi_rows(written.result)
    assert setting_rows(result.space, result.best.params) == setting_rows(
        written.result.space, written.result.best.params
    )
    # Independently of the rebuilt records: the KPI values the evidence file holds.
    content = json.loads(written.evidence_path.read_text(encoding="utf-8"))
    assert kpi_rows(result)[0].best == content["best"]["windows"][0]["energy_cost"]
    assert result.objective.constraints == {
        "holder_time_outside_hard": (None, 0.0),
        "stability_rate": (99.0, None),
    }
    assert model.currency == "CNY"
    assert model.can_run  # a new tune may start
    # The historian file changes: checked again against it.
    other = tmp_path / "other.h5"
    shutil.copy(data, other)
    model.set_inputs(project, loaded, other)
    runner.run_next()
    assert [c.code for c in model.stored.changes] == ["data_path"]
    assert model.stored.changes[0].detail == str(data.resolve())


def test_what_changed_since_the_stored_result(tmp_path):
    project, data, _ = write_stored_tune(tmp_path)
    text = project.read_text(encoding="utf-8")
    assert text.count("band_weight = 1000.0\n") == 1
    # The tuned band weight applied to the project, saved an hour after the result;
    # the historian file rewritten two hours after it.
    project.write_text(text.replace("band_weight = 1000.0\n", "band_weight = 316.0\n"))
    set_mtime(project, MADE_MS + HOUR_MS)
    set_mtime(data, MADE_MS + 2 * HOUR_MS)
    loaded = load_project(project)
    space = search_space(loaded, loaded.tune, check=False)
    stored = read_stored_tune(project, loaded, data, space)
    assert not stored.valid
    assert [(c.code, c.detail, c.at_ms) for c in stored.changes] == [
        ("settings", "controller.band_weight: 1000 -> 316", None),
        ("project_modified", str(project.resolve()), MADE_MS + HOUR_MS),
        ("data_modified", str(data.resolve()), MADE_MS + 2 * HOUR_MS),
    ]
    # Without a historian file open, the data file is not compared.
    assert [c.code for c in read_stored_tune(project, loaded).changes] == [
        "settings",
        "project_modified",
    ]
    # Another search range in [tune]; the tuned project deleted.
    project.write_text(text.replace("high = 10000\n", "high = 20000\n"))
    set_mtime(project, MADE_MS - HOUR_MS)
    (tmp_path / "plant.tuned.toml").unlink()
    loaded = load_project(project)
    space = search_space(loaded, loaded.tune, check=False)
    stored = read_stored_tune(project, loaded, data, space)
    # Its content differs from what the tune read, though its time is older.
    assert [(c.code, c.detail) for c in stored.changes] == [
        ("space", BAND),
        ("project_modified", str(project.resolve())),
        ("data_modified", str(data.resolve())),
        ("tuned_missing", str((tmp_path / "plant.tuned.toml").resolve())),
    ]
    # The project and its result copied elsewhere: made for the original file.
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(tmp_path / "plant.toml", copy / "plant.toml")
    shutil.copy(tmp_path / "plant.tuned.tune.json", copy / "plant.tuned.tune.json")
    codes = [c.code for c in read_stored_tune(copy / "plant.toml", loaded).changes]
    assert codes == ["project_path", "tuned_missing"]  # space not given: not compared


def test_a_save_without_changes_is_not_a_modification_but_a_rewritten_history_is(tmp_path):
    """The evidence identifies the inputs by content (project) and size + time (history)."""
    project, data, _ = write_stored_tune(tmp_path)
    loaded = load_project(project)
    # Saved again with the same bytes, an hour after the result: still holds.
    project.write_bytes(project.read_bytes())
    set_mtime(project, MADE_MS + HOUR_MS)
    assert read_stored_tune(project, loaded, data).changes == ()
    # The history one byte longer with its old modification time restored: modified.
    before = data.stat().st_mtime_ns
    with data.open("ab") as handle:
        handle.write(b"\0")
    os.utime(data, ns=(before, before))
    changes = read_stored_tune(project, loaded, data).changes
    assert [(c.code, c.detail) for c in changes] == [("data_modified", str(data.resolve()))]


def test_evidence_without_input_identity_falls_back_to_modification_times(tmp_path):
    """Evidence of an older energyopt (no ``inputs``): a file saved after the result."""
    project, data, outcome = write_stored_tune(tmp_path)
    content = json.loads(outcome.evidence_path.read_text(encoding="utf-8"))
    del content["inputs"]
    outcome.evidence_path.write_text(json.dumps(content), encoding="utf-8")
    set_mtime(outcome.evidence_path, MADE_MS)
    loaded = load_project(project)
    project.write_bytes(project.read_bytes())  # same bytes, saved after: counts here
    set_mtime(project, MADE_MS + HOUR_MS)
    changes = read_stored_tune(project, loaded, data).changes
    assert [(c.code, c.at_ms) for c in changes] == [("project_modified", MADE_MS + HOUR_MS)]


def test_a_tune_records_its_inputs_identity(tmp_path):
    project, data, outcome = write_stored_tune(tmp_path)
    recorded = json.loads(outcome.evidence_path.read_text(encoding="utf-8"))["inputs"]
    # An independent computation of the same identity.
    assert recorded == {
        "project_sha256": hashlib.sha256(project.read_bytes()).hexdigest(),
        "data_size_bytes": data.stat().st_size,
        "data_mtime_ns": data.stat().st_mtime_ns,
    }


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "Expecting property name"),
        ('{"format": "something else"}', "not the evidence of an energyopt tune"),
        ('{"format": "energyopt-tune", "version": 99}', "evidence version 99"),
        ('{"format": "energyopt-tune", "version": 1}', "missing 'objective'"),
    ],
)
def test_a_stored_result_that_cannot_be_read(tmp_path, content, reason):
    project, data, written = write_stored_tune(tmp_path)
    written.evidence_path.write_text(content, encoding="utf-8")
    with pytest.raises(ProjectError, match=r"plant\.tuned\.tune\.json' cannot be read: ") as info:
        read_stored_tune(project, load_project(project), data)
    assert reason in str(info.value)
    model = TuningModel(run_inline, workers=1)
    model.set_inputs(project, load_project(project), data)
    assert model.stored is None
    assert model.outcome is None
    assert model.stored_error == str(info.value)


def test_no_stored_result_and_no_read_without_evidence(tmp_path):
    project, data = write_case(tmp_path)
    assert read_stored_tune(project, load_project(project), data) is None
    runner = DeferredRunner()
    model = TuningModel(runner, workers=1)
    model.set_inputs(project, load_project(project), data)
    assert runner.started == []  # nothing to read: no task
    assert model.stored is None


def test_a_new_tune_replaces_the_stored_result_which_returns_after_a_cancel(tmp_path):
    project, data, _ = write_stored_tune(tmp_path)
    calls_made = []

    def cancelled_tune(*args, **kwargs):
        calls_made.append(kwargs)
        raise CancelledError("tune cancelled")

    runner = DeferredRunner()
    model = TuningModel(runner, cancelled_tune, workers=1)
    model.set_inputs(project, load_project(project), data)
    # A tune started while the stored result is being read: the read is dropped.
    assert model.run()
    runner.run_next()  # the read
    assert model.stored is None
    assert model.outcome is None
    assert model.status == "running"
    runner.run_next()  # the tune, cancelled: nothing written, the stored result is read again
    assert model.status == "idle"
    assert calls_made[0]["scheduler"] is None
    assert len(runner.pending) == 1
    runner.run_next()
    assert model.stored is not None
    assert model.outcome is model.stored.outcome
    # Starting a tune clears the stored result shown.
    cleared = []
    model.stored_changed.connect(cleared.append)
    assert model.run()
    assert cleared == [None]
    assert (model.stored, model.outcome, model.trials) == (None, None, ())
    model.close()


def test_display_unit_uses_the_project_currency():
    assert display_unit("currency", "CNY") == "CNY"
    assert display_unit("currency/t", "EUR") == "EUR/t"
    assert display_unit("kgce/t", "CNY") == "kgce/t"
    assert display_unit("currency", "") == "currency"


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("", None),
        ("   ", None),
        (" scheduler.plant:8786 ", "tcp://scheduler.plant:8786"),
        ("10.1.2.3:8786", "tcp://10.1.2.3:8786"),
        ("tcp://10.1.2.3:8786", "tcp://10.1.2.3:8786"),
        ("tls://scheduler.plant:8786", "tls://scheduler.plant:8786"),
        ("[::1]:8786", "tcp://[::1]:8786"),
    ],
)
def test_scheduler_addresses(text, address):
    assert scheduler_address(text) == address


@pytest.mark.parametrize(
    "text",
    [
        "scheduler",
        "http://host:8786",
        "tcp://host:port",
        "host:0",
        "host:70000",
        "host:1/x",
        "user@host:1",
        ":8786",
        "inproc://host:1",
    ],
)
def test_scheduler_addresses_refused(text):
    with pytest.raises(EnergyoptError, match="is not a dask scheduler address: give host:port"):
        scheduler_address(text)


def test_the_scheduler_setting(tmp_path):
    model = TuningModel(run_inline, workers=1)
    seen = []
    model.scheduler_changed.connect(seen.append)
    assert model.scheduler is None
    assert model.set_scheduler("host:8786") == "tcp://host:8786"
    with pytest.raises(EnergyoptError, match="'host' is not a dask scheduler address") as info:
        model.set_scheduler("host")
    assert type(info.value) is EnergyoptError
    assert model.scheduler == "tcp://host:8786"  # a refused address keeps the setting
    assert model.set_scheduler("") is None
    assert seen == ["tcp://host:8786", ""]


def test_an_unreachable_scheduler_fails_before_the_tune_starts(tmp_path):
    distributed = pytest.importorskip("distributed")
    del distributed
    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(EnergyoptError, match=f"cannot reach the dask scheduler {address}: "):
        check_scheduler(address, timeout_s=0.2)
    project, data = write_case(tmp_path)
    called = []
    model = TuningModel(
        run_inline, lambda *a, **k: called.append(k), workers=1, scheduler_timeout_s=0.2
    )
    model.set_inputs(project, load_project(project), data)
    model.set_scheduler(address)
    failures = []
    model.failed.connect(failures.append)
    assert model.run()
    assert called == []  # the tune never started
    assert len(failures) == 1
    assert type(failures[0]) is EnergyoptError
    assert f"cannot reach the dask scheduler {address}: " in str(failures[0])
    assert "leave it empty to use local worker processes" in str(failures[0])
    assert model.status == "idle"
    assert outputs(tmp_path) == ["data.h5", "plant.toml"]


def test_a_tune_on_a_local_dask_cluster(tmp_path):
    """The trials run on the scheduler's workers: threads of this process here."""
    distributed = pytest.importorskip("distributed")
    project, data = write_case(tmp_path)
    model = TuningModel(run_inline, evaluate=BOWL, workers=1)
    model.set_inputs(project, load_project(project), data)
    model.update_request(budget=2, windows=1)
    with distributed.LocalCluster(
        processes=False, protocol="tcp", n_workers=1, threads_per_worker=2, dashboard_address=None
    ) as cluster:
        model.set_scheduler(cluster.scheduler_address)
        assert model.run()
    outcome = model.outcome
    assert outcome is not None
    assert [t.status for t in outcome.result.trials] == ["complete", "complete"]
    # Current settings + 2 trials, each evaluated once, all in this process (the
    # cluster's threads), none in a spawned local worker.
    lines = [json.loads(line) for line in calls(data)]
    assert len(lines) == 3
    assert {line["pid"] for line in lines} == {os.getpid()}
    for record in (outcome.result.current, *outcome.result.trials):
        band, move = record.params[BAND], record.params[MOVE]
        # The window starts at midnight (offset 0): same formula, same float operations.
        assert_allclose(record.score.value, bowl_cost(band, move), rtol=1e-12)
    assert outcome.result.windows[0][1] - outcome.result.windows[0][0] == DAY_MS
