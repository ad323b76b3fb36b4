"""The built-in demo plants: project files shipped with the package.

``steelworks`` is the multi-medium energy system of an integrated steelworks
and ``chemical`` a Van de Vusse reactor process with heat integration,
separation and recycle (design guide, section 4).  ``datadriven`` is a plant
we have no physics for (a reactor and a boiler declared only as generic
data-driven units): its units are identified from its history with
``energyopt fit`` before a controller can use them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from energyopt.errors import ProjectError

__all__ = ["DEMO_PLANTS", "demo_project_text"]

#: Names of the built-in demo plants.
DEMO_PLANTS: tuple[str, ...] = ("steelworks", "chemical", "datadriven")


def demo_project_text(plant: str) -> str:
    """Return the TOML text of a built-in demo project.

    Parameters
    ----------
    plant : str
        One of :data:`DEMO_PLANTS`.

    Raises
    ------
    ProjectError
        If ``plant`` is not a built-in demo plant.
    """
    if plant not in DEMO_PLANTS:
        raise ProjectError(f"unknown demo plant '{plant}'; choose one of: {', '.join(DEMO_PLANTS)}")
    return resources.files(__package__).joinpath(f"{plant}.toml").read_text(encoding="utf-8")


def demo_project_file(plant: str) -> Path:
    """Return the path of a built-in demo project inside the installed package.

    Parameters
    ----------
    plant : str
        One of :data:`DEMO_PLANTS`.
    """
    demo_project_text(plant)  # validates the name
    return Path(str(resources.files(__package__).joinpath(f"{plant}.toml")))
