"""The Qt-free session state: open files, recent lists, replay time, language, snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest

from energyopt.appstate import (
    RecentFiles,
    SessionSnapshot,
    SessionState,
    resolve_language,
)
from energyopt.appstate.historian import load_historian_summary
from energyopt.data.quality_types import QualityFinding
from energyopt.demos import demo_project_file
from energyopt.demos.history import write_demo_history
from energyopt.errors import HistorianFormatError, ProjectError
from energyopt.project import load_project


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("appstate") / "history.h5"
    project = load_project(demo_project_file("steelworks"))
    write_demo_history(project, "steelworks", path, days=0.25, seed=2)
    return path


class Recorder:
    def __init__(self, signal):
        self.values: list[object] = []
        signal.connect(self.values.append)


@pytest.mark.parametrize(
    ("preference", "locale", "expected"),
    [
        ("auto", "zh_CN", "zh_CN"),
        ("auto", "zh_TW", "zh_CN"),
        ("auto", "ZH_HK.UTF-8", "zh_CN"),
        ("auto", "en_GB", "en"),
        ("auto", "de_DE.UTF-8", "en"),
        ("auto", "C", "en"),
        ("en", "zh_CN", "en"),
        ("zh_CN", "en_US", "zh_CN"),
    ],
)
def test_language_follows_preference_then_locale(preference, locale, expected):
    assert resolve_language(preference, locale) == expected


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unknown UI language 'fr'"):
        resolve_language("fr", "fr_FR")
    session = SessionState()
    with pytest.raises(ValueError, match="unknown UI language"):
        session.language = "klingon"
    assert session.language == "auto"
    with pytest.raises(ValueError, match="unknown UI language"):
        SessionState(language="xx")


def test_recent_files_newest_first_bounded_and_deduplicated(tmp_path):
    recent = RecentFiles(max_items=3)
    seen = Recorder(recent.changed)
    for name in ("a", "b", "c", "d"):
        recent.add(tmp_path / name)
    assert recent.paths == [tmp_path / "d", tmp_path / "c", tmp_path / "b"]
    recent.add(tmp_path / "b")  # moves to the top, nothing dropped
    assert recent.paths == [tmp_path / "b", tmp_path / "d", tmp_path / "c"]
    recent.add(tmp_path / "b")  # no change, no signal
    assert len(seen.values) == 5
    recent.remove(tmp_path / "d")
    recent.remove(tmp_path / "never")
    assert recent.paths == [tmp_path / "b", tmp_path / "c"]
    recent.clear()
    assert recent.paths == []
    assert seen.values[-1] == []
    assert len(seen.values) == 7


def test_recent_files_absolute_and_validated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recent = RecentFiles(paths=["x.toml", tmp_path / "x.toml", "y.toml"])
    assert recent.paths == [tmp_path / "x.toml", tmp_path / "y.toml"]
    with pytest.raises(ValueError, match="max_items must be at least 1"):
        RecentFiles(max_items=0)


def test_snapshot_round_trip_and_tolerance():
    snap = SessionSnapshot(Path("/p/plant.toml"), Path("/p/history.h5"), 1_700_000_000_000)
    assert SessionSnapshot.from_dict(snap.to_dict()) == snap
    # Values read back from an INI file are strings.
    text = {k: str(v) for k, v in snap.to_dict().items()}
    assert SessionSnapshot.from_dict(text) == snap
    assert SessionSnapshot.from_dict({}) == SessionSnapshot()
    broken = SessionSnapshot.from_dict({"project": 3, "historian": "", "replay_time_ms": "soon"})
    assert broken == SessionSnapshot()


def test_open_project_and_historian_emit_and_remember(history):
    session = SessionState()
    projects = Recorder(session.project_changed)
    historians = Recorder(session.historian_changed)
    times = Recorder(session.replay_time_changed)
    project = session.open_project(demo_project_file("steelworks"))
    assert projects.values == [project]
    assert session.project_path == demo_project_file("steelworks").absolute()
    summary = session.open_historian(history)
    assert historians.values == [summary]
    assert summary.path == history.absolute()
    assert "BFG.HOLDER.LEVEL" in {info.name for info in summary.tags}
    # The replay time starts at the first sample.
    assert times.values == [summary.time_span_ms[0]]
    assert session.recent_projects.paths == [demo_project_file("steelworks").absolute()]
    assert session.recent_historians.paths == [history.absolute()]
    assert session.snapshot() == SessionSnapshot(
        demo_project_file("steelworks").absolute(), history.absolute(), summary.time_span_ms[0]
    )


def test_failed_open_leaves_state_unchanged(tmp_path, history):
    session = SessionState()
    session.open_historian(history)
    bad_toml = tmp_path / "plant.toml"
    bad_toml.write_text("[project\n", encoding="utf-8")
    bad_h5 = tmp_path / "broken.h5"
    bad_h5.write_bytes(b"not an HDF5 file")
    projects = Recorder(session.project_changed)
    historians = Recorder(session.historian_changed)
    with pytest.raises(ProjectError, match=r"plant\.toml"):
        session.open_project(bad_toml)
    with pytest.raises(HistorianFormatError, match=r"broken\.h5"):
        session.open_historian(bad_h5)
    assert session.project is None
    assert session.historian is not None
    assert session.historian.path == history.absolute()
    assert projects.values == historians.values == []
    assert session.recent_projects.paths == []
    assert session.recent_historians.paths == [history.absolute()]


def test_replay_time_clamped_to_the_file(history):
    session = SessionState()
    session.replay_time_ms = 5  # no file: kept as given
    assert session.replay_time_ms == 5
    summary = session.open_historian(history)
    first, last = summary.time_span_ms
    assert session.replay_time_ms == first  # an earlier time moves into the span
    session.replay_time_ms = last + 10**9
    assert session.replay_time_ms == last
    session.replay_time_ms = (first + last) // 2
    assert session.replay_time_ms == (first + last) // 2
    session.close_historian()
    assert session.historian is None
    assert session.replay_time_ms is None


def test_quality_findings_attach_only_to_the_open_file(history, tmp_path):
    session = SessionState()
    summary = session.open_historian(history)
    quality = Recorder(session.quality_changed)
    tag = summary.tags[0].name
    first = summary.time_span_ms[0]
    findings = [
        QualityFinding(tag, "nan", first, first + 60_000, 2, "2 NaN"),
        QualityFinding(tag, "spike", first, first, 1, "z = 9"),
        QualityFinding(tag, "nan", first + 120_000, first + 120_000, 1, "1 NaN"),
        QualityFinding("time", "gap", first, first + 600_000, 9, "9 missing"),
    ]
    assert not session.set_quality_findings(tmp_path / "other.h5", findings)
    assert quality.values == []
    assert session.set_quality_findings(history, findings)
    scanned = quality.values[0]
    assert scanned.scanned
    rows = {row.tag: row for row in scanned.rows()}
    assert rows[tag].flags == ("nan", "spike")
    assert rows[tag].flags_text == "nan (2), spike"
    assert len(rows[tag].details) == 3
    other = summary.tags[1].name
    assert rows[other].flags == ()
    assert rows[other].flags_text == ""
    # Sampling of the demo history: one minute.
    assert rows[tag].sampling_ms == 60_000.0
    assert rows[tag].sampling_text == "60 s"


def test_summary_of_a_broken_file(tmp_path):
    with pytest.raises(HistorianFormatError, match=r"nothing\.h5"):
        load_historian_summary(_write(tmp_path / "nothing.h5", b"\x89HDF"))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
