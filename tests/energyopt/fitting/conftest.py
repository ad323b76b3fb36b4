"""Shared demo histories for the calibration tests: one short history per plant per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from energyopt.demos import demo_project_text
from energyopt.demos.history import write_demo_history
from energyopt.project.loader import load_project

#: History length per plant at one minute: one day of the steelworks puts the
#: standard errors of the boiler and turbine estimates at 1-3 % of their
#: perturbations; the reactor's k10 (3 % off, seen only through the small heat
#: of reaction A -> B) needs two days to stand 8 standard errors from nominal.
DAYS = {"steelworks": 1.0, "chemical": 2.0}
SEED = 0


def _demo(folder: Path, plant: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    project_path = folder / "plant.toml"
    project_path.write_text(demo_project_text(plant), encoding="utf-8")
    project = load_project(project_path)
    write_demo_history(project, plant, folder / "history.h5", days=DAYS[plant], seed=SEED)
    return folder


@pytest.fixture(scope="session")
def steelworks_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder with the steelworks ``plant.toml`` and a one-day ``history.h5``."""
    return _demo(tmp_path_factory.mktemp("steelworks"), "steelworks")


@pytest.fixture(scope="session")
def chemical_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder with the chemical ``plant.toml`` and a two-day ``history.h5``."""
    return _demo(tmp_path_factory.mktemp("chemical"), "chemical")
