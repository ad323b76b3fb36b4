"""Write calibrated parameters into a new project file next to the input (never over it)."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from energyopt.errors import OutputError, ProjectError
from energyopt.fitting.workflow import CalibrationReport

__all__ = ["apply_calibration", "calibrated_project_path", "write_calibrated_project"]


def calibrated_project_path(project_path: str | os.PathLike[str]) -> Path:
    """Return the default output path: ``plant.toml`` -> ``plant.calibrated.toml``."""
    path = Path(project_path)
    return path.with_name(f"{path.stem}.calibrated{path.suffix or '.toml'}")


def write_calibrated_project(
    project_path: str | os.PathLike[str],
    report: CalibrationReport,
    out_path: str | os.PathLike[str] | None = None,
    *,
    overwrite: bool = False,
) -> Path:
    """Write a copy of the project with the estimates as unit parameters, atomically.

    Parameters
    ----------
    project_path : str or path-like
        The project file calibrated (read, never written).
    report : CalibrationReport
        Result of :func:`~energyopt.fitting.calibrate_units`.
    out_path : str or path-like, optional
        Destination; default :func:`calibrated_project_path`.
    overwrite : bool
        Replace an existing destination (never the input).

    Returns
    -------
    pathlib.Path
        The file written: the input's settings with ``[units.<unit>.params]``
        updated to the estimates (in SI), preceded by a comment listing each
        estimate with its standard error.

    Raises
    ------
    OutputError
        If the destination is the input, exists and ``overwrite`` is false,
        or cannot be written; or a fitted parameter is not a project
        parameter of its unit (flowsheet settings) or is derived from a node
        or ``[tariffs]``.
    ProjectError
        If the input cannot be read or the estimates break the project's validation.
    """
    from energyopt.fileio import atomic_output
    from energyopt.project.loader import dumps_project, project_from_mapping

    source = Path(project_path)
    target = Path(out_path) if out_path is not None else calibrated_project_path(source)
    if target.resolve() == source.resolve():
        raise OutputError(f"{target}: the calibrated project would replace its input")
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ProjectError(f"{source}: cannot read the project: {exc}") from None
    header = [f"# Calibrated from '{report.historian}' by energyopt.fitting:"]
    header.extend(apply_calibration(data, report, target))
    project = project_from_mapping(data, source=str(target))
    text = "\n".join(header) + "\n" + dumps_project(project)
    with atomic_output(target, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return target


def apply_calibration(
    data: MutableMapping[str, Any], report: CalibrationReport, target: str | os.PathLike[str]
) -> list[str]:
    """Write the estimates of ``report`` into a project mapping as ``[units.<unit>.params]``.

    Parameters
    ----------
    data : MutableMapping
        The project file's content (``tomllib`` output), changed in place.
    report : CalibrationReport
        Result of :func:`~energyopt.fitting.calibrate_units`.
    target : str or path-like
        The file the mapping is for (named in error messages).

    Returns
    -------
    list of str
        One comment line per estimate: value, standard error and the former value.

    Raises
    ------
    OutputError
        If a fitted parameter is not a project parameter of its unit
        (flowsheet settings) or is derived from a node or ``[tariffs]``.
    """
    from energyopt.plantbuild import DERIVED_PARAMETERS

    lines = []
    for unit, cal in report.units.items():
        params = cal.data.unit.params
        fields = {f.name for f in dataclasses.fields(params)}
        derived = DERIVED_PARAMETERS.get(cal.data.unit.type_name, ())
        table = data.setdefault("units", {}).setdefault(unit, {}).setdefault("params", {})
        for row in cal.rows():
            name = str(row["parameter"])
            if name not in fields or name in derived:
                raise OutputError(
                    f"{target}: units.{unit}.params.{name}: not a project parameter of the unit; "
                    "write it elsewhere (flowsheet setting, media node or [tariffs])"
                )
            table[name] = float(row["value"])
            lines.append(
                f"#   units.{unit}.params.{name} = {row['value']:.6g} "
                f"(s.e. {row['standard_error']:.3g}; was {row['nominal']:.6g})"
            )
    return lines
