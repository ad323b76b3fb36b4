"""Decision log (journal, save, crash recovery) and the Qt-free recommendations model."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.advisor.contract import SolveStatus
from controllers.advisor.recommendation import (
    FallbackLevel,
    MVRecommendation,
    Prediction,
    Recommendation,
)
from controllers.advisor.safety import MoveLimitation
from controllers.advisor.settings import AdvisorMode
from energyopt.appstate import SessionState
from energyopt.appstate.decisions import (
    Decision,
    DecisionEntry,
    DecisionLog,
    decisions_path,
    journal_path,
)
from energyopt.appstate.recommendations import (
    RecommendationsModel,
    RecommendationSource,
    view_from_dict,
    view_from_recommendation,
)
from energyopt.appstate.replay_clock import ReplayClock
from energyopt.appstate.tasks import DeferredRunner, run_inline
from energyopt.demos import demo_project_file
from energyopt.errors import OutputError, ProjectError

T_MS = 1_767_571_200_000
"""2026-01-05T00:00:00Z. [ms since epoch]"""


def fixed_clock(start_ms: int = 1_800_000_000_000) -> Callable[[], int]:
    """A wall clock advancing 1 s per reading."""
    counter = iter(range(10**6))
    return lambda: start_ms + 1000 * next(counter)


def log_three(decision_log: DecisionLog) -> list[DecisionEntry]:
    return [
        decision_log.record(
            time_ms=T_MS, tag="BF_GAS_TO_BOILER1", current=120.0, recommended=130.0,
            decision=Decision.ACCEPTED, saving=512.5, unit="kNm3/h", note="ok",
        ),
        decision_log.record(
            time_ms=T_MS + 900_000, tag="TG1_EXTRACTION", current=40.0, recommended=35.5,
            decision=Decision.REJECTED, unit="t/h",
        ),
        decision_log.record(
            time_ms=T_MS + 1_800_000, tag="COG_TO_MILL", current=None, recommended=8.0,
            decision=Decision.HELD, note="观察一下",
        ),
    ]  # fmt: skip


@pytest.fixture
def project_path(tmp_path) -> Path:
    """A project file path in a fresh folder (the log never needs its content)."""
    return tmp_path / "works.toml"


# ------------------------------------------------------------------ decision log
def test_every_decision_is_journalled_and_survives_a_crash(project_path):
    decision_log = DecisionLog.open(project_path, user="operator1", clock_ms=fixed_clock())
    added: list[DecisionEntry] = []
    decision_log.entry_added.connect(added.append)
    entries = log_three(decision_log)
    assert added == entries
    assert decision_log.unsaved == 3
    journal = journal_path(project_path)
    assert journal.name == "works.decisions.journal.jsonl"
    assert len(journal.read_text(encoding="utf-8").splitlines()) == 3
    assert not decisions_path(project_path).exists()  # nothing saved yet
    del decision_log  # "crash": dropped without saving

    reopened = DecisionLog.open(project_path, user="operator2")
    assert reopened.entries == tuple(entries)
    assert reopened.unsaved == 3
    first = reopened.entries[0]
    assert (first.user, first.wall_time_ms, first.decision) == (
        "operator1", 1_800_000_000_000, Decision.ACCEPTED,
    )  # fmt: skip
    assert first.move == 10.0
    assert reopened.entries[2].move is None
    assert reopened.entries[2].note == "观察一下"


def test_save_folds_the_journal_into_the_json_file(project_path):
    decision_log = DecisionLog.open(project_path, user="op", clock_ms=fixed_clock())
    entries = log_three(decision_log)
    saved: list[Path] = []
    decision_log.saved.connect(saved.append)
    path = decision_log.save()
    assert path == saved[0] == project_path.with_name("works.decisions.json")
    assert not journal_path(project_path).exists()
    assert decision_log.unsaved == 0
    assert decision_log.save_if_needed() is None
    document = json.loads(path.read_text(encoding="utf-8"))
    assert (document["format"], document["version"]) == ("energyopt-decisions", 1)
    assert [e["decision"] for e in document["entries"]] == ["accepted", "rejected", "held"]
    assert document["entries"][0]["saving"] == 512.5
    # New decisions go to a new journal; loading merges both.
    later = decision_log.record(
        time_ms=T_MS, tag="X", current=1.0, recommended=2.0, decision=Decision.HELD
    )
    reopened = DecisionLog.open(project_path)
    assert reopened.entries == (*entries, later)
    assert reopened.unsaved == 1


def test_a_crash_between_save_and_journal_removal_counts_nothing_twice(project_path):
    decision_log = DecisionLog.open(project_path, clock_ms=fixed_clock())
    log_three(decision_log)
    backup = project_path.with_name("journal.bak")
    shutil.copy(journal_path(project_path), backup)
    decision_log.save()
    shutil.copy(backup, journal_path(project_path))  # as if the unlink never happened
    reopened = DecisionLog.open(project_path)
    assert len(reopened) == 3
    assert reopened.unsaved == 0


def test_a_last_journal_line_cut_by_a_crash_is_skipped(project_path, caplog):
    decision_log = DecisionLog.open(project_path)
    log_three(decision_log)
    journal = journal_path(project_path)
    text = journal.read_text(encoding="utf-8")
    journal.write_text(text[: len(text) - 20], encoding="utf-8")  # last line cut
    with caplog.at_level(logging.WARNING, logger="energyopt.appstate.decisions"):
        reopened = DecisionLog.open(project_path)
    assert [e.tag for e in reopened.entries] == ["BF_GAS_TO_BOILER1", "TG1_EXTRACTION"]
    assert "incomplete last line" in caplog.text


ENTRY_PREFIX = '{"format": "energyopt-decisions", "version": 1, "entries": [{"id": "a", '
"""Start of a decisions file whose one entry the test completes."""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json\n", "unreadable"),
        ('{"format": "something-else", "version": 1, "entries": []}', "not an energyopt decision"),
        (
            '{"format": "energyopt-decisions", "version": 2, "entries": []}',
            "version 2 not readable",
        ),
        ('{"format": "energyopt-decisions", "version": 1, "entries": {}}', "must be a list"),
        ('{"format": "energyopt-decisions", "version": 1, "entries": [3]}', "entry 0: expected"),
        (
            ENTRY_PREFIX + '"time_ms": 1, "wall_time_ms": 2, "tag": "T", "decision": "maybe"}]}',
            "entry 0: 'maybe' is not a valid Decision",
        ),
        (
            ENTRY_PREFIX + '"time_ms": 1.5, "wall_time_ms": 2, "tag": "T", "decision": "held"}]}',
            "must be integers",
        ),
        (
            ENTRY_PREFIX + '"time_ms": 1, "tag": "T", "decision": "held"}]}',
            "missing key 'wall_time_ms'",
        ),
    ],
)
def test_a_broken_decisions_file_is_reported(project_path, content, message):
    decisions_path(project_path).write_text(content, encoding="utf-8")
    with pytest.raises(ProjectError, match=message):
        DecisionLog.open(project_path)


def test_a_broken_journal_line_in_the_middle_is_reported(project_path):
    journal_path(project_path).write_text('{"broken\n{"also": 1}\n', encoding="utf-8")
    with pytest.raises(ProjectError, match=r"journal .*line 1"):
        DecisionLog.open(project_path)
    journal_path(project_path).write_text('{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(ProjectError, match=r"line 1: missing key 'time_ms'"):
        DecisionLog.open(project_path)


def test_an_unwritable_journal_records_nothing(tmp_path):
    decision_log = DecisionLog(tmp_path / "missing_folder" / "works.toml")
    with pytest.raises(OutputError, match="cannot record the decision"):
        decision_log.record(
            time_ms=T_MS, tag="T", current=1.0, recommended=2.0, decision=Decision.ACCEPTED
        )
    assert len(decision_log) == 0
    assert decision_log.unsaved == 0
    with pytest.raises(OutputError, match="does not exist"):
        decision_log.save()


def test_an_in_memory_log_writes_nothing(tmp_path):
    decision_log = DecisionLog(user="op")
    decision_log.record(time_ms=T_MS, tag="T", current=1.0, recommended=2.0, decision=Decision.HELD)
    assert decision_log.path is None
    assert decision_log.save() is None
    decision_log.load()  # nothing to load
    assert len(decision_log) == 1
    assert list(tmp_path.iterdir()) == []


def test_invalid_entries_are_refused():
    with pytest.raises(ValueError, match="needs the tag"):
        DecisionEntry(T_MS, T_MS, "", 1.0, 2.0, Decision.ACCEPTED)
    with pytest.raises(ValueError, match="current must be finite"):
        DecisionEntry(T_MS, T_MS, "T", float("nan"), 2.0, Decision.ACCEPTED)
    with pytest.raises(TypeError, match="recommended must be a number"):
        DecisionEntry(T_MS, T_MS, "T", 1.0, "2", Decision.ACCEPTED)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be a Decision"):
        DecisionEntry(T_MS, T_MS, "T", 1.0, 2.0, "accepted")  # type: ignore[arg-type]


# ------------------------------------------------------------- recommendations
def make_recommendation(mode: AdvisorMode = AdvisorMode.ADVISE) -> Recommendation:
    """Two MVs; the second has no current value, so no recommended setpoint."""
    advise = mode == AdvisorMode.ADVISE
    prediction = Prediction(
        time_s=np.array([0.0, 900.0, 1800.0]),
        mv_names=("boiler1.steam", "tg1.extraction"),
        mv_plan=np.array([[61.0, 12.5], [62.0, 12.0]]),
        cv_names=("holder.level",),
        cv=np.array([[0.5], [0.52], [0.55]]),
    )
    return Recommendation(
        time_s=T_MS / 1000.0,
        mode=mode,
        mvs=(
            MVRecommendation(
                "boiler1.steam", 55.0, 61.0 if advise else None, MoveLimitation.RATE,
                "rate limit: raise steam to use surplus gas",
            ),
            MVRecommendation("tg1.extraction", None, None, MoveLimitation.NONE, "value unknown"),
        ),
        prediction=prediction,
        expected_saving=1234.5,
        active_constraints=("boiler1.steam.rate", "holder.level.upper"),
        fallback=FallbackLevel.NONE,
        fallback_reason="",
        solve_status=SolveStatus.OPTIMAL,
        solve_time_s=0.8,
        infeasible_constraints=(),
        measurement_issues=(),
        plant_mode=None,
    )  # fmt: skip


class FakeSource:
    """A recommendation source counting its calls."""

    interval_s = 900.0

    def __init__(self, result: Any = None, first_ms: int = T_MS) -> None:
        self.calls: list[int] = []
        self.result = result
        self.first_ms = first_ms
        self.closed = False

    def decision_times(self, start_ms: int, end_ms: int) -> np.ndarray:
        step = round(self.interval_s * 1000)
        first = max(-(-start_ms // step) * step, self.first_ms)
        return np.arange(first, end_ms, step, dtype=np.int64)

    def close(self) -> None:
        self.closed = True

    def recommend(self, at_ms: int) -> Any:
        self.calls.append(at_ms)
        return self.result if self.result is not None else make_recommendation()


def test_source_protocol_and_views():
    assert isinstance(FakeSource(), RecommendationSource)
    view = view_from_recommendation(make_recommendation(), T_MS, currency="CNY")
    assert (view.time_ms, view.mode, view.status, view.fallback) == (
        T_MS, "advise", "optimal", "controller plan",
    )  # fmt: skip
    row = view.row("boiler1.steam")
    assert (row.current, row.recommended, row.predicted, row.move) == (55.0, 61.0, 61.0, 6.0)
    assert view.row("tg1.extraction").predicted == 12.5  # first row of the predicted plan
    assert view.row("tg1.extraction").move is None
    assert view.expected_saving == 1234.5
    assert view.saving_unit == "CNY"
    predicted = view_from_recommendation(make_recommendation(AdvisorMode.PREDICT), T_MS)
    assert predicted.rows[0].recommended is None
    assert predicted.rows[0].predicted_move == 6.0
    with pytest.raises(KeyError):
        view.row("nope")


def test_view_from_a_recommendation_record():
    record = {
        "time_ms": T_MS,
        "mode": "advise",
        "mvs": [
            {"mv": "boiler1.steam", "tag": "B1_STEAM_SP", "unit": "t/h", "current": 198.0,
             "recommended": 219.6, "low": 120.0, "high": 220.0, "reason": "cheap gas"},
            {"tag": "TG1_EXT_SP", "current": 40, "recommended": None},
        ],
        "expected_saving": {"value": 812.0, "unit": "CNY"},
        "active_constraints": ["B1_STEAM_SP.upper"],
        "fallback": "SHIFTED_PLAN",
        "status": "optimal",
    }  # fmt: skip
    view = view_from_dict(record, T_MS + 900_000)
    assert view.time_ms == T_MS + 900_000  # the asked time, not the record's
    assert view.fallback == "shifted previous plan"  # the level's words, not its name
    assert view.saving_unit == "CNY"
    first = view.row("boiler1.steam")
    assert (first.tag, first.unit, first.low, first.high) == ("B1_STEAM_SP", "t/h", 120.0, 220.0)
    # 219.6 - 198.0 in binary floating point: within one rounding of the operands.
    assert_allclose(first.move, 21.6, rtol=1e-12)
    assert view.row("TG1_EXT_SP").recommended is None
    plain = view_from_dict({"expected_saving": 5.0, "currency": "EUR"}, T_MS)
    assert (plain.expected_saving, plain.saving_unit, plain.rows) == (5.0, "EUR", ())
    with pytest.raises(ProjectError, match="'mvs' must be a list"):
        view_from_dict({"mvs": "x"}, T_MS)
    with pytest.raises(ProjectError, match="needs a name"):
        view_from_dict({"mvs": [{"current": 1.0}]}, T_MS)


def test_mode_off_asks_nothing_and_advise_records_decisions(project_path):
    source = FakeSource()
    model = RecommendationsModel(run_inline, DecisionLog(project_path, clock_ms=fixed_clock()))
    model.set_source(source)
    model.set_time(T_MS)
    assert source.calls == []
    assert model.current is None
    model.mode = AdvisorMode.PREDICT
    assert source.calls == [T_MS]
    assert model.current is not None
    with pytest.raises(ValueError, match="mode ADVISE, not PREDICT"):
        model.decide("boiler1.steam", Decision.ACCEPTED)
    model.mode = AdvisorMode.ADVISE
    assert source.calls == [T_MS]  # same time: the recommendation is kept
    recorded: list[DecisionEntry] = []
    model.decision_recorded.connect(recorded.append)
    entry = model.decide("boiler1.steam", Decision.ACCEPTED, note="go")
    assert recorded == [entry]
    assert model.decision("boiler1.steam") == Decision.ACCEPTED
    assert (entry.tag, entry.current, entry.recommended, entry.saving, entry.time_ms) == (
        "boiler1.steam", 55.0, 61.0, 1234.5, T_MS,
    )  # fmt: skip
    assert DecisionLog.open(project_path).entries == (entry,)  # in the journal at once
    with pytest.raises(ValueError, match="no recommended setpoint"):
        model.decide("tg1.extraction", Decision.HELD)
    with pytest.raises(ValueError, match="no MV 'nope'"):
        model.decide("nope", Decision.HELD)
    model.mode = AdvisorMode.OFF
    assert model.current is None
    with pytest.raises(ValueError, match="mode ADVISE, not OFF"):
        model.decide("boiler1.steam", Decision.HELD)
    model.mode = AdvisorMode.ADVISE
    model.set_source(None)
    with pytest.raises(ValueError, match="no current recommendation"):
        model.decide("boiler1.steam", Decision.HELD)


def test_requests_are_coalesced_and_stale_results_dropped():
    runner = DeferredRunner()
    source = FakeSource()
    model = RecommendationsModel(runner)
    busy: list[bool] = []
    model.busy_changed.connect(busy.append)
    model.mode = AdvisorMode.ADVISE
    model.set_source(source)
    for k in range(4):
        model.set_time(T_MS + k * 900_000)
    assert len(runner.pending) == 1
    assert model.busy
    runner.run_next()  # the first time; the newest one is asked next, the two between never
    assert model.current is not None
    assert model.current.time_ms == T_MS
    assert len(runner.pending) == 1
    runner.run_next()
    assert source.calls == [T_MS, T_MS + 3 * 900_000]
    assert busy == [True, False]
    assert not model.busy
    # A result arriving after the switch to OFF is dropped.
    model.set_time(T_MS)
    model.mode = AdvisorMode.OFF
    runner.run_next()
    assert model.current is None
    assert not model.busy


def test_failures_are_reported_and_pause_the_clock():
    class Broken(FakeSource):
        def recommend(self, at_ms: int) -> Any:
            raise ProjectError(f"no history before {at_ms}")

    clock = ReplayClock(interval_s=60.0)
    clock.set_span(T_MS, T_MS + 3_600_000)
    model = RecommendationsModel(run_inline)
    stop = model.follow_clock(clock)
    failures: list[BaseException] = []
    model.failed.connect(failures.append)
    model.mode = AdvisorMode.ADVISE
    clock.play()
    model.set_source(Broken())
    assert clock.interval_s == 900.0  # the source's interval
    assert [str(e) for e in failures] == [f"no history before {T_MS}"]
    assert not clock.playing
    assert not clock.held
    model.set_source(FakeSource(result=42))
    assert "recommend() returned int" in str(failures[-1])
    stop()


def test_fast_replay_waits_for_the_recommendation():
    runner = DeferredRunner()
    clock = ReplayClock(interval_s=900.0, speed=float("inf"))
    clock.set_span(T_MS, T_MS + 3_600_000)
    model = RecommendationsModel(runner)
    model.follow_clock(clock)
    model.mode = AdvisorMode.ADVISE
    model.set_source(FakeSource())
    clock.play()
    assert clock.held
    assert clock.advance(1.0) == 0
    runner.run_next()
    assert not clock.held
    assert clock.advance(0.0) == 1
    assert clock.held  # the next time is being asked


def test_the_project_decision_log_follows_the_session(tmp_path):
    first = tmp_path / "a" / "plant.toml"
    second = tmp_path / "b" / "other.toml"
    for path in (first, second):
        path.parent.mkdir()
        shutil.copy(demo_project_file("steelworks"), path)
    session = SessionState()
    model = RecommendationsModel(run_inline)
    opened: list[tuple[Path, Path]] = []
    model.follow_session(session, opener=lambda p, d: opened.append((p, d)) or (FakeSource(), None))
    logs: list[DecisionLog] = []
    model.decisions_changed.connect(logs.append)
    session.open_project(first)
    assert model.decisions.project_path == first
    assert model.currency == "CNY"
    model.decisions.record(time_ms=T_MS, tag="T", current=1.0, recommended=2.0,
                           decision=Decision.ACCEPTED)  # fmt: skip
    session.open_project(second)  # the first project's decisions are saved on the switch
    assert decisions_path(first).exists()
    assert not journal_path(first).exists()
    assert logs[-1].project_path == second
    assert len(model.decisions) == 0
    session.open_project(first)
    assert [e.tag for e in model.decisions.entries] == ["T"]
    assert opened == []  # no historian file: nothing to open
    decisions_path(second).write_text("broken", encoding="utf-8")
    failures: list[BaseException] = []
    model.log_failed.connect(failures.append)
    session.open_project(second)
    assert isinstance(failures[0], ProjectError)
    assert model.decisions.project_path is None


def test_the_clock_starts_where_the_source_can_advise_and_old_sources_are_closed():
    runner = DeferredRunner()
    clock = ReplayClock(interval_s=60.0)
    clock.set_span(T_MS, T_MS + 3_600_000)
    model = RecommendationsModel(runner)
    model.follow_clock(clock)
    model.mode = AdvisorMode.ADVISE
    first = FakeSource(first_ms=T_MS + 1_800_000)  # needs 30 min of history
    model.set_source(first)
    assert clock.interval_s == 900.0
    assert clock.time_ms == T_MS + 1_800_000
    assert len(runner.pending) == 1  # asked at the first advisable time
    second = FakeSource()
    model.set_source(second)  # the first is still computing: closed once it is done
    assert not first.closed
    runner.run_next(0)
    assert first.closed
    assert model.current is None
    runner.run_next(0)  # the request to the second source
    assert model.current is not None
    assert not second.closed
    model.set_source(FakeSource())  # idle: closed at once
    assert second.closed
    third = model.source
    model.close()
    assert model.source is None
    assert third.closed
