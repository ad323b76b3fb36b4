"""User-facing error hierarchy.

Every failure a user can cause (a broken file, a wrong project, an infeasible
problem) is raised as a subclass of :class:`EnergyoptError` whose message names
the file, the item and what is wrong.  The CLI prints the message and exits
with status 2; the GUI shows it in a dialog.  Anything that is *not* an
``EnergyoptError`` is a bug in energyopt and is reported with a traceback.
"""

from __future__ import annotations

__all__ = [
    "CancelledError",
    "DataError",
    "DataQualityError",
    "EnergyoptError",
    "HistorianFormatError",
    "ModelError",
    "OutputError",
    "ProjectBindingError",
    "ProjectError",
    "SolverError",
    "TagNotFoundError",
    "UnitConversionError",
]


class EnergyoptError(Exception):
    """Base class of every user-facing energyopt failure."""


class DataError(EnergyoptError):
    """A historian or CSV data file cannot be used."""


class HistorianFormatError(DataError):
    """A file is not a readable energyopt historian file (format v1)."""


class TagNotFoundError(DataError):
    """A requested tag is not in the historian file."""


class UnitConversionError(DataError):
    """A unit string is unknown or not convertible to the requested unit."""


class DataQualityError(DataError):
    """Data fails the configured quality policy (for example an all-NaN tag)."""


class ProjectError(EnergyoptError):
    """A project file is missing, malformed or fails validation."""


class ProjectBindingError(ProjectError):
    """The project's tag bindings do not match a historian file."""


class OutputError(EnergyoptError):
    """An output file cannot be written (for example it would overwrite an input)."""


class ModelError(EnergyoptError):
    """A plant model cannot be built, simulated or identified from the data."""


class SolverError(EnergyoptError):
    """An optimisation failed or is infeasible; the message names the constraints."""


class CancelledError(EnergyoptError):
    """A long-running operation was cancelled by the user."""
