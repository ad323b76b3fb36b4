"""Fixtures: a replay-like output folder built by hand (see :mod:`report_case`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import pytest
from report_case import Truth, build_replay_dir, simulate_truth


@pytest.fixture(scope="session")
def truth() -> Truth:
    """Six simulated hours of the steelworks demo (about 4 s)."""
    return simulate_truth(days=0.25)


@pytest.fixture(scope="session")
def replay_template(tmp_path_factory: pytest.TempPathFactory, truth: Truth) -> Path:
    """A complete replay folder, written once; copy it before changing anything."""
    return build_replay_dir(tmp_path_factory.mktemp("report") / "case", truth)


@pytest.fixture
def replay_dir(tmp_path: Path, replay_template: Path) -> Path:
    """A private copy of the complete replay folder (with its project and fit report)."""
    case = tmp_path / "case"
    shutil.copytree(replay_template.parent, case)
    out = case / "replay"
    # The copies must point at their own project, not the template's.
    for name in ("results.h5", "compare_baseline.h5", "compare_recorded.h5"):
        with h5py.File(out / name, "a") as h5:
            h5.attrs["source_project"] = str((case / "plant.toml").resolve())
    doc = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    doc["source_project"] = str((case / "plant.toml").resolve())
    (out / "kpis.json").write_text(json.dumps(doc), encoding="utf-8")
    return out
