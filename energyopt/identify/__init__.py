"""Identification of a project's data-driven units from a historian file.

Public API
----------
:func:`identify_units` (read, clean, identify, validate) returning an
:class:`IdentificationReport`; :func:`save_identified` (plain JSON model
files next to the project, written atomically); :func:`read_unit_data`
(one unit's tags on its model grid, with the usable-sample mask).
Read a stored model back with
:func:`energyopt.project.datadriven.load_identified_unit`.
"""

from energyopt.identify.history import UnitData, check_unit_tags, read_unit_data
from energyopt.identify.workflow import (
    HOLDOUT_FRACTION,
    IdentificationReport,
    UnitIdentification,
    identify_units,
    save_identified,
)

__all__ = [
    "HOLDOUT_FRACTION",
    "IdentificationReport",
    "UnitData",
    "UnitIdentification",
    "check_unit_tags",
    "identify_units",
    "read_unit_data",
    "save_identified",
]
