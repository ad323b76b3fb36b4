"""The per-process cache of prepared replay windows behind the default evaluate function."""

from __future__ import annotations

from pathlib import Path

import pytest
from numpy.testing import assert_allclose
from tune_helpers import DAY_MS, START_MS, write_case

import energyopt.replay
from energyopt.errors import DataError
from energyopt.project import load_project
from energyopt.project.overrides import apply_overrides
from energyopt.tune import evaluate


class _Prepared:
    """Stands in for a PreparedReplay: records which project it was reused for."""

    def __init__(self, project, history_s: float) -> None:
        self.project, self.history_s = project, history_s

    def for_project(self, project):
        return (self, project)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Replace prepare_replay by a stub; return the list of its calls."""
    calls: list[dict] = []

    def fake(project, data_path, **kwargs):
        calls.append(kwargs)
        return _Prepared(project, kwargs["record_history_s"])

    monkeypatch.setattr(energyopt.replay, "prepare_replay", fake)
    evaluate.clear_prepared_cache()
    yield calls
    evaluate.clear_prepared_cache()


def test_window_prepared_once_per_plant_data_and_window(tmp_path: Path, counted) -> None:
    project_path, data = write_case(tmp_path / "case")
    base = load_project(project_path)
    window = (START_MS, START_MS + DAY_MS)
    first = evaluate._prepared_window(base, str(data), *window)
    trial = apply_overrides(base, {"controller.band_weight": 123.0})
    prepared, seen = evaluate._prepared_window(trial, str(data), *window)
    assert len(counted) == 1
    assert prepared is first[0]
    assert seen is trial
    # Record history: the longest default training (28 d), for every trial.
    assert counted[0]["record_history_s"] == 28 * 86_400.0
    assert counted[0]["with_record"] is True
    # Another window, another plant: prepared again.
    evaluate._prepared_window(base, str(data), START_MS, START_MS + 2 * DAY_MS)
    other = apply_overrides(base, {"units.boiler_1.in_service": False})
    evaluate._prepared_window(other, str(data), *window)
    assert len(counted) == 3
    # A training longer than the cached record: read again with that history.
    longer = apply_overrides(base, {"controller.forecast.training_s": "40 d"})
    prepared, _ = evaluate._prepared_window(longer, str(data), *window)
    assert len(counted) == 4
    assert prepared.history_s == 40 * 86_400.0
    # No reuse across control intervals (the case's grid depends on it).
    slower = apply_overrides(base, {"controller.economic.interval_s": "30 min"})
    evaluate._prepared_window(slower, str(data), *window)
    assert len(counted) == 5


def test_cache_is_bounded(tmp_path: Path, counted, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluate, "PREPARED_CACHE_SIZE", 2)
    project_path, data = write_case(tmp_path / "case")
    base = load_project(project_path)
    for k in (1, 2, 3, 1):
        evaluate._prepared_window(base, str(data), START_MS, START_MS + k * DAY_MS)
    # The first window was evicted by the third, so it is prepared again.
    assert len(counted) == 4
    assert len(evaluate._prepared_cache) == 2


def test_missing_data_file_is_a_data_error(tmp_path: Path, counted) -> None:
    project_path, _ = write_case(tmp_path / "case")
    with pytest.raises(DataError, match="cannot read the data file"):
        evaluate._prepared_window(load_project(project_path), str(tmp_path / "no.h5"), 0, 1)
    assert counted == []


@pytest.fixture(scope="module")
def steelworks_days(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The steelworks demo with 3 days of history and a few hours after them."""
    from energyopt.demos import demo_project_text
    from energyopt.demos.history import write_demo_history

    folder = tmp_path_factory.mktemp("steelworks")
    project_path = folder / "plant.toml"
    project_path.write_text(demo_project_text("steelworks"), encoding="utf-8")
    history = folder / "history.h5"
    write_demo_history(load_project(project_path), "steelworks", history, days=3.1, seed=0)
    return project_path, history


@pytest.mark.slow
def test_reused_window_gives_the_kpis_of_a_fresh_replay(steelworks_days) -> None:
    from energyopt.data import HistorianReader

    project_path, history = steelworks_days
    with HistorianReader(history) as reader:
        first, _ = reader.time_span_ms
    start = int(first) + 3 * DAY_MS
    end = start + 3_600_000
    base = apply_overrides(load_project(project_path), {"controller.economic.horizon_s": "3 h"})
    trial = apply_overrides(base, {"controller.band_weight": 300.0})
    evaluate.clear_prepared_cache()
    evaluate.replay_kpis(base, str(history), start, end)  # fills the cache
    reused = evaluate.replay_kpis(trial, str(history), start, end)
    fresh = evaluate.replay_kpis(trial, str(history), start, end, reuse=False)
    evaluate.clear_prepared_cache()
    assert set(reused) == set(fresh)
    for key, value in fresh.items():
        if key.startswith(("solve_time", "compute_")):
            continue  # wall-clock, differs run to run
        # Same case, same record, same deterministic solver: equal up to the
        # last bits of IPOPT's iterates (no randomness anywhere).
        assert_allclose(reused[key], value, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=key)
