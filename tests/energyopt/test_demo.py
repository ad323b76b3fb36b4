"""`energyopt demo`: built-in projects plus a recorded history with known defects."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from energyopt.cli import main
from energyopt.data.inspect import inspect_file
from energyopt.data.reader import HistorianReader
from energyopt.demos import DEMO_PLANTS, demo_project_text
from energyopt.demos.history import demo_history, write_demo_history
from energyopt.errors import OutputError, ProjectError
from energyopt.project import check_bindings, load_project


@pytest.fixture(scope="module")
def steelworks_demo(tmp_path_factory):
    """One 2-day steelworks demo (project, history file, injected defects) for the module."""
    out = tmp_path_factory.mktemp("steelworks")
    project_path = out / "plant.toml"
    project_path.write_text(demo_project_text("steelworks"), encoding="utf-8")
    project = load_project(project_path)
    defects = write_demo_history(project, "steelworks", out / "history.h5", days=2, seed=3)
    return project, out / "history.h5", defects


@pytest.mark.parametrize("plant", DEMO_PLANTS)
def test_demo_writes_valid_project_and_matching_history(plant, tmp_path, capsys):
    out = tmp_path / plant
    assert main(["demo", "--plant", plant, "--out", str(out), "--days", "2"]) == 0
    project = load_project(out / "plant.toml")
    with HistorianReader(out / "history.h5") as reader:
        # Every bound tag is in the history with a compatible unit.
        check_bindings(project, reader)
        if plant == "datadriven":
            from energyopt.demos.datadriven_history import TAG_UNITS

            # Its tags are declared by the data-driven units, not bound; an
            # identification record: 2 days at 1 min, no injected defects.
            assert set(reader.tags) == set(TAG_UNITS)
            assert reader.n_samples == 2880
        else:
            assert set(reader.tags) == {b.tag for b in project.bindings.values()}
            # 2 days at 1 min = 2880 rows less the injected gaps (20 + 45 + 120 min).
            assert reader.n_samples == 2880 - (20 + 45 + 120)
    assert "wrote" in capsys.readouterr().out


def test_history_is_deterministic_by_seed(tmp_path):
    project = load_project(_write_demo_project(tmp_path))
    t1, v1, d1 = demo_history(project, "steelworks", days=0.25, seed=7)
    t2, v2, d2 = demo_history(project, "steelworks", days=0.25, seed=7)
    _, v3, _ = demo_history(project, "steelworks", days=0.25, seed=8)
    assert_array_equal(t1, t2)
    assert d1 == d2
    for tag in v1:
        assert_array_equal(v1[tag], v2[tag])
    assert any(not np.array_equal(v1[tag], v3[tag], equal_nan=True) for tag in v1)


def test_injected_defects_are_found_where_they_were_put(steelworks_demo):
    _, history, defects = steelworks_demo
    report = inspect_file(history)

    gaps = [f for f in report.findings if f.issue == "gap"]
    assert len(gaps) == len(defects.gaps_ms)
    for finding, (g0, g1) in zip(
        sorted(gaps, key=lambda f: f.start_ms), defects.gaps_ms, strict=True
    ):
        # The finding spans the last sample before the hole to the first after it,
        # so it encloses the removed rows; the removed count is exact.
        assert finding.start_ms < g0 <= g1 < finding.end_ms
        assert finding.count == (g1 - g0) // 60_000 + 1

    frozen = [f for f in report.findings_of(defects.frozen_tag) if f.issue == "frozen"]
    assert len(frozen) == 1
    assert frozen[0].start_ms <= defects.frozen_range_ms[0]
    assert frozen[0].end_ms >= defects.frozen_range_ms[1]

    spikes = [f for f in report.findings_of(defects.spike_tag) if f.issue == "spike"]
    assert [(f.start_ms, f.count) for f in spikes] == [(defects.spike_time_ms, 1)]

    nans = [f for f in report.findings_of(defects.nan_tag) if f.issue == "nan"]
    assert sum(f.count for f in nans) == defects.nan_count


def test_demo_refuses_to_overwrite_without_force(tmp_path, capsys):
    out = tmp_path / "d"
    assert main(["demo", "--out", str(out), "--days", "0.1"]) == 0
    before = {name: (out / name).read_bytes() for name in ("plant.toml", "history.h5")}
    assert main(["demo", "--out", str(out), "--days", "0.1"]) == 2
    assert "refusing to overwrite existing file" in capsys.readouterr().err
    assert {name: (out / name).read_bytes() for name in before} == before
    assert main(["demo", "--out", str(out), "--days", "0.1", "--seed", "1", "--force"]) == 0
    assert (out / "history.h5").read_bytes() != before["history.h5"]


def test_unknown_demo_plant_and_bad_days(tmp_path):
    with pytest.raises(ProjectError, match="unknown demo plant 'refinery'"):
        demo_project_text("refinery")
    from energyopt.commands.demo import run

    class Args:
        days = -1.0
        out = tmp_path
        plant = "steelworks"
        force = False
        seed = 0

    with pytest.raises(OutputError, match="--days must be between"):
        run(Args())  # type: ignore[arg-type]


def _write_demo_project(tmp_path):
    path = tmp_path / "plant.toml"
    path.write_text(demo_project_text("steelworks"), encoding="utf-8")
    return path
