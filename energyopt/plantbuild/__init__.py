"""Project -> plant: compose the plant a project file declares and map its historian tags.

Public API
----------
:func:`build_plant` (``project -> BuiltPlant``; media networks and process
flowsheets, :func:`is_process_project`), :class:`BuiltPlant`,
:class:`BindingMap`, :class:`BoundVariable`, :func:`nominal_disturbances`,
:data:`DERIVED_PARAMETERS`.
"""

from energyopt.plantbuild.binding_map import BindingMap, BoundVariable, build_binding_map
from energyopt.plantbuild.builder import (
    DERIVED_PARAMETERS,
    BuiltPlant,
    build_plant,
    is_process_project,
    nominal_disturbances,
)

__all__ = [
    "DERIVED_PARAMETERS",
    "BindingMap",
    "BoundVariable",
    "BuiltPlant",
    "build_binding_map",
    "build_plant",
    "is_process_project",
    "nominal_disturbances",
]
