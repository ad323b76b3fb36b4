"""Shared demo data of the replay tests: the steelworks (4 days) and chemical (6 h) demos."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def steelworks_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Write the steelworks demo project and 4 days of history; return (project, history)."""
    from energyopt.demos import demo_project_text
    from energyopt.demos.history import write_demo_history
    from energyopt.project import load_project

    folder = tmp_path_factory.mktemp("steelworks")
    project_path = folder / "plant.toml"
    project_path.write_text(demo_project_text("steelworks"), encoding="utf-8")
    history = folder / "history.h5"
    write_demo_history(load_project(project_path), "steelworks", history, days=4.0, seed=0)
    return project_path, history


@pytest.fixture
def without_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip ``report.html`` (engineer P's, several seconds); one test keeps it."""
    import energyopt.replay.output as output

    monkeypatch.setattr(output, "_report", lambda stage, lang: None)


@pytest.fixture(scope="session")
def chemical_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Write the chemical demo project and 6 h of history at one minute; return both paths."""
    from energyopt.demos import demo_project_text
    from energyopt.demos.history import write_demo_history
    from energyopt.project import load_project

    folder = tmp_path_factory.mktemp("chemical")
    project_path = folder / "plant.toml"
    project_path.write_text(demo_project_text("chemical"), encoding="utf-8")
    history = folder / "history.h5"
    write_demo_history(load_project(project_path), "chemical", history, days=0.25, seed=0)
    return project_path, history
