"""Plant project files: TOML documents describing a plant, validated by pydantic.

A project names the plant and its site time zone, the network nodes of every
medium, the units with their connections and parameters (validated by the
plant_models parameter dataclasses), the historian tags bound to model
variables with their bands, the energy tariffs, the controller settings and
the data-quality policy.  The key reference is ``docs/project-file.md``.

Public API
----------
:func:`load_project`, :func:`save_project`, :class:`Project`
(``unit_params(name)``, ``tou_tariff``, ``warnings``), :func:`check_bindings`,
:class:`TimeOfUseTariff`, :func:`tag_expectations` (bindings as data-quality
expectations).
"""

from energyopt.project.bindings import TagBinding, check_bindings, tag_expectations
from energyopt.project.loader import dumps_project, load_project, project_from_mapping, save_project
from energyopt.project.model import Project
from energyopt.project.schema import (
    FORMAT_VERSION,
    ControllerSettings,
    MediumNode,
    ProjectInfo,
    UnitSpec,
)
from energyopt.project.tariffs import ElectricityTariff, MediumPrice, Tariffs, TimeOfUseTariff

__all__ = [
    "FORMAT_VERSION",
    "ControllerSettings",
    "ElectricityTariff",
    "MediumNode",
    "MediumPrice",
    "Project",
    "ProjectInfo",
    "TagBinding",
    "Tariffs",
    "TimeOfUseTariff",
    "UnitSpec",
    "check_bindings",
    "dumps_project",
    "load_project",
    "project_from_mapping",
    "save_project",
    "tag_expectations",
]
