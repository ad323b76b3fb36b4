"""Demo steelworks data for the advisor tests: a 4-day history and a 6-h-horizon project."""

from __future__ import annotations

import pytest
import tomli_w

from energyopt.demos import demo_project_file
from energyopt.demos.history import write_demo_history
from energyopt.project import Project, load_project


@pytest.fixture(scope="session")
def advise_demo(tmp_path_factory):
    """Folder with ``history.h5`` (4 days, seed 5) and ``plant.toml`` with a 6-h horizon.

    The shorter horizon (24 instead of 96 intervals) keeps each solve well
    under a second; nothing else differs from the shipped demo project.
    """
    folder = tmp_path_factory.mktemp("advise")
    project = load_project(demo_project_file("steelworks"))
    write_demo_history(project, "steelworks", folder / "history.h5", days=4, seed=5)
    data = project.to_toml_dict()
    data["controller"]["economic"]["horizon_s"] = "6 h"
    Project.model_validate(data)  # fails here, not in every test, if the schema moves
    (folder / "plant.toml").write_text(tomli_w.dumps(data), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def session(advise_demo):
    """An open advisor session on the demo (closed after the module)."""
    from energyopt.advise import AdvisorSession

    with AdvisorSession.open(advise_demo / "plant.toml", advise_demo / "history.h5") as s:
        yield s


@pytest.fixture(scope="session")
def chemical_demo(tmp_path_factory):
    """Folder with the chemical demo ``plant.toml`` and 6 h of its history (seed 0).

    The history has two recording gaps (0.9-1.2 h and 3.0-3.75 h) and a
    reactor-temperature sensor fault; 1.5 h in, the 30-min estimation window
    has usable data of every tag.
    """
    import shutil

    from energyopt.demos import demo_project_file

    folder = tmp_path_factory.mktemp("advise_chemical")
    shutil.copy(demo_project_file("chemical"), folder / "plant.toml")
    project = load_project(folder / "plant.toml")
    write_demo_history(project, "chemical", folder / "history.h5", days=0.25, seed=0)
    return folder
