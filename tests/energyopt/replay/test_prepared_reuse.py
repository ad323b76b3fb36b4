"""A prepared replay reused for another ``[controller]`` (the tune's trials)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from energyopt.errors import ProjectError
from energyopt.project import load_project
from energyopt.project.overrides import apply_overrides
from energyopt.replay import prepare_replay
from energyopt.replay.run import plant_fingerprint

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def window(steelworks_demo: tuple[Path, Path]):
    """(project, history, start, end): one hour of the demo's fourth day."""
    from energyopt.data import HistorianReader

    project_path, history = steelworks_demo
    with HistorianReader(history) as reader:
        first, _ = reader.time_span_ms
    start = int(first) + 3 * DAY_MS
    return load_project(project_path), history, start, start + HOUR_MS


@pytest.fixture(scope="module")
def prepared(window):
    """The window prepared with three days of forecast record (the file's whole history)."""
    project, history, start, end = window
    return prepare_replay(
        project, history, start_ms=start, end_ms=end, with_record=True, record_history_s=3 * 86_400
    )


def test_trial_sees_its_controller_and_the_record_a_fresh_read_gives(window, prepared) -> None:
    project, history, start, end = window
    trial = apply_overrides(
        project, {"controller.band_weight": 250.0, "controller.forecast.training_s": "2 d"}
    )
    reused = prepared.for_project(trial)
    assert reused.case.built.project is trial
    assert reused.case.built.plant is prepared.case.built.plant
    assert reused.case.time_ms is prepared.case.time_ms
    # The record a fresh preparation of the trial reads (2 d before the window):
    # the same samples, bit for bit (the same tags through the same read-back),
    # except that a fresh read cannot clean its first samples (the data-quality
    # filters need the samples before them) where the cut one can.
    fresh = prepare_replay(trial, history, start_ms=start, end_ms=end, with_record=True)
    assert fresh.record is not None
    assert reused.record is not None
    assert reused.record.time_ms[0] == start - 2 * DAY_MS
    assert_array_equal(reused.record.time_ms, fresh.record.time_ms)
    assert set(reused.record.values) == set(fresh.record.values)
    for name, values in fresh.record.values.items():
        ok = np.isfinite(values)
        assert_array_equal(reused.record.values[name][ok], values[ok], err_msg=name)
        differs = np.isfinite(reused.record.values[name]) != ok
        assert not differs[10:].any(), name
    assert np.isfinite(reused.interval_s)


def test_fingerprint_ignores_controller_and_tune_only(window) -> None:
    project = window[0]
    tuned = apply_overrides(project, {"controller.economic.move_weight": 3.0})
    assert plant_fingerprint(tuned) == plant_fingerprint(project)
    plant = apply_overrides(project, {"units.boiler_1.in_service": False})
    assert plant_fingerprint(plant) != plant_fingerprint(project)


def test_reuse_refuses_another_plant(window, prepared) -> None:
    other = apply_overrides(window[0], {"units.boiler_1.in_service": False})
    with pytest.raises(ProjectError, match=r"differs in \[controller\] and \[tune\] alone"):
        prepared.for_project(other)


def test_reuse_refuses_another_control_interval(window, prepared) -> None:
    other = apply_overrides(window[0], {"controller.economic.interval_s": "30 min"})
    with pytest.raises(ProjectError, match="control interval 1800 s differs"):
        prepared.for_project(other)
