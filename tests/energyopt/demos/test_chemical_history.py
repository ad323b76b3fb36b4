"""Recorded history of the chemical demo plant: bound tags, determinism, modes."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from energyopt.demos.chemical_history import build_chemical_flowsheet, record_history
from energyopt.errors import ModelError, ProjectError


@pytest.fixture(scope="module")
def project(chemical_project):
    return chemical_project


def test_every_binding_names_a_model_variable(project):
    model = build_chemical_flowsheet(project).model
    names = {v.name for kind in ("x", "u", "d", "y") for v in model.variables(kind)}
    missing = [b.variable for b in project.bindings.values() if b.variable not in names]
    assert missing == []


@pytest.mark.slow
def test_history_is_deterministic_shows_modes_and_every_tag(project):
    t1, v1 = record_history(project, days=2.0, step_s=60.0, seed=4)
    assert t1.dtype == np.int64
    assert t1.size == 2 * 1440
    assert np.all(np.diff(t1) == 60_000)
    assert set(v1) == {b.tag for b in project.bindings.values()}
    for tag, values in v1.items():
        assert np.all(np.isfinite(values)), tag
    _, s1 = record_history(project, days=0.25, step_s=60.0, seed=4)
    _, s2 = record_history(project, days=0.25, step_s=60.0, seed=4)
    _, s3 = record_history(project, days=0.25, step_s=60.0, seed=5)
    for tag, values in s1.items():
        assert_array_equal(values, s2[tag])
    assert any(not np.array_equal(s1[t], s3[t]) for t in s1)
    # The first mode lasts at most 36 h: two days show both (high throughput
    # 18 m3/h and high selectivity 11 m3/h, each +-6 % by the operator).
    feed_sp = v1["FIC-101.SP"]
    assert (feed_sp > 16.5).any()
    assert (feed_sp < 12.0).any()
    # The flow loop follows: measured feed within 0.2 m3/h of its setpoint
    # 10 min after every change (clean signals).
    settled = np.ones(feed_sp.size, dtype=bool)
    for k in np.flatnonzero(np.diff(feed_sp)) + 1:
        settled[k : k + 10] = False
    assert np.max(np.abs(v1["FIC-101.PV"] - feed_sp)[settled]) < 0.2
    # Reactor temperature and B concentration differ between the modes.
    high = feed_sp > 16.5
    low = feed_sp < 12.0
    assert v1["TIC-102.PV"][high].mean() - v1["TIC-102.PV"][low].mean() > 4.0


def test_bad_arguments_are_refused(project):
    with pytest.raises(ModelError, match="must be positive"):
        record_history(project, days=0.0)
    data = project.model_dump(exclude_none=True)
    data["modes"] = {}
    with pytest.raises(ProjectError, match="modes: the history needs at least one operating mode"):
        record_history(type(project).model_validate(data), days=0.1)
