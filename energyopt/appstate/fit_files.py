"""Fit report files beside a project: where they are, and reading them for the model panel.

The file rules of :func:`energyopt.fitting.fitted_project_path` and
:func:`energyopt.fitting.fit_report_path`, repeated here (a test checks they
agree) because importing :mod:`energyopt.fitting` takes 0.2-3 s, too long for
the GUI thread; the readers import it and run in the background.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from energyopt.fitting.fit_report import FitReport

__all__ = [
    "ShownFit",
    "find_report",
    "fitted_path",
    "read_report",
    "report_candidates",
    "report_path",
]


@dataclass(frozen=True, eq=False)
class ShownFit:
    """A fit report and where it came from.

    Attributes
    ----------
    report : FitReport
        The report.
    report_path : pathlib.Path
        Its file (``plant.fitted.fit.json``).
    fitted_project : pathlib.Path or None
        The fitted project it documents, ``None`` if the report names none.
    from_file : bool
        Whether it was read from an existing file rather than just fitted.
    """

    report: FitReport
    report_path: Path
    fitted_project: Path | None
    from_file: bool


def fitted_path(project_path: Path) -> Path:
    """``plant.toml`` -> ``plant.fitted.toml`` (as ``fitted_project_path``)."""
    return project_path.with_name(f"{project_path.stem}.fitted{project_path.suffix or '.toml'}")


def report_path(project_path: Path) -> Path:
    """``plant.fitted.toml`` -> ``plant.fitted.fit.json`` (as ``fit_report_path``)."""
    if project_path.suffix == ".toml":
        return project_path.with_suffix(".fit.json")
    return Path(f"{project_path}.fit.json")


def report_candidates(project_path: Path) -> list[Path]:
    """Reports that may document a project: its fit, or its own evidence if it is fitted."""
    return [report_path(fitted_path(project_path)), report_path(project_path)]


def read_report(path: Path, **_: Any) -> ShownFit:
    """Read a fit report file (a background task: progress and cancel are not used).

    Parameters
    ----------
    path : pathlib.Path
        A ``*.fit.json`` file.
    **_ : Any
        The task keywords (``progress``, ``cancel``), not used.

    Raises
    ------
    DataError
        If the file cannot be read (:func:`energyopt.fitting.load_fit_report`).
    """
    from energyopt.fitting.fit_report import load_fit_report

    report = load_fit_report(path)
    fitted = Path(report.fitted_project) if report.fitted_project else None
    return ShownFit(report, path, fitted, from_file=True)


def find_report(project_path: Path, **_: Any) -> ShownFit | None:
    """Read the report beside a project (a background task); ``None`` if there is none.

    Parameters
    ----------
    project_path : pathlib.Path
        The project file.  Its fit's report is taken, else its own evidence
        if it is a fitted project (a report naming another project is not).
    **_ : Any
        The task keywords (``progress``, ``cancel``), not used.
    """
    own = project_path.resolve()
    for index, path in enumerate(report_candidates(project_path)):
        if not path.is_file():
            continue
        shown = read_report(path)
        fitted = shown.fitted_project
        if index == 1 and (fitted is None or fitted.resolve() != own):
            continue  # plant.fit.json beside plant.toml but not plant.toml's evidence
        return shown
    return None
