"""Read and write project TOML files.

Reading never modifies the file.  Writing goes through
:func:`energyopt.fileio.atomic_output` (temporary file, then rename), and the
text is parsed and validated again before it is written, so a saved project
always loads.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from energyopt.errors import ProjectError
from energyopt.project.messages import problems
from energyopt.project.model import Project
from energyopt.project.schema import FORMAT_VERSION

__all__ = ["dumps_project", "load_project", "project_from_mapping", "save_project"]

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
# A multi-line array as tomli_w writes it whose items are numbers, booleans,
# plain strings or already collapsed flat arrays.
_ITEM = r'(?:[-+0-9.eEinfa]+|true|false|"[^"\\\n\[\]]*"|\[[^\[\]\n]*\])'
_MULTILINE_ARRAY = re.compile(r"\[\n((?:[ ]+" + _ITEM + r",\n)+)[ ]*\]")
_MAX_LINE = 100
_HEADER = (
    f"# energyopt plant project (format {FORMAT_VERSION}).\n"
    "# Key reference: docs/project-file.md; validate with `energyopt check FILE`.\n\n"
)


def project_from_mapping(data: Mapping[str, Any], *, source: str = "project") -> Project:
    """Validate a parsed project document.

    Parameters
    ----------
    data : mapping
        The document as parsed from TOML.
    source : str
        Name used at the start of every error line (the file name).

    Returns
    -------
    Project
        The validated project.

    Raises
    ------
    ProjectError
        Listing every problem, one ``source: key.path: what is wrong`` per line.
    """
    try:
        project = Project.model_validate(data)
    except ValidationError as exc:
        raise ProjectError(
            "\n".join(f"{source}: {line}" for line in problems(exc, Project))
        ) from None
    return project.with_source(source)


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read and validate a project TOML file.

    Parameters
    ----------
    path : str or path-like
        The project file.

    Returns
    -------
    Project
        The validated project; :attr:`Project.warnings` holds soft findings.

    Raises
    ------
    ProjectError
        If the file is missing or unreadable, is not UTF-8 TOML (the message
        gives line and column), or fails validation (one line per problem,
        each naming the file and the key path).
    """
    file = Path(path)
    name = str(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ProjectError(f"{name}: project file not found") from None
    except IsADirectoryError:
        raise ProjectError(f"{name}: is a folder, not a project file") from None
    except OSError as exc:
        raise ProjectError(f"{name}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ProjectError(f"{name}: line {line}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{name}: {_toml_error(exc)}") from None
    return project_from_mapping(data, source=name)


def _toml_error(exc: tomllib.TOMLDecodeError) -> str:
    # Python 3.11's TOMLDecodeError carries the position only in its message
    # ("Expected '=' ... (at line 3, column 7)"); 3.14 adds attributes.
    message = str(exc)
    match = _TOML_POSITION.search(message)
    if match is None:
        return f"invalid TOML: {message}"
    reason = message[: match.start()]
    return f"line {match.group(1)}, column {match.group(2)}: invalid TOML: {reason}"


def dumps_project(project: Project) -> str:
    """Return the TOML text of a project (validated again before it is returned).

    Raises
    ------
    ProjectError
        If the serialised text does not validate back to an equal project (a bug).
    """
    import tomli_w

    text = _HEADER + _collapse_arrays(tomli_w.dumps(project.to_toml_dict()))
    again = project_from_mapping(tomllib.loads(text), source=project.source or "project")
    if again != project:  # pragma: no cover - guards the serialiser, not user input
        raise ProjectError("internal error: the saved project would not load back unchanged")
    return text


def _collapse_arrays(text: str) -> str:
    """Write short arrays of scalars on one line (``range = [0.0, 250.0]``).

    tomli_w puts every array item on its own line, which makes bands and hour
    blocks hard to read; it has no option for this, so we join the lines of
    arrays of plain items that fit within 100 characters.  The result is
    parsed and compared again by :func:`dumps_project`.
    """

    def join(match: re.Match[str]) -> str:
        items = [line.strip().removesuffix(",") for line in match.group(1).splitlines()]
        flat = "[" + ", ".join(items) + "]"
        line_start = text.rfind("\n", 0, match.start()) + 1
        return flat if match.start() - line_start + len(flat) <= _MAX_LINE else match.group(0)

    while True:
        collapsed = _MULTILINE_ARRAY.sub(join, text)
        if collapsed == text:
            return text
        text = collapsed


def save_project(
    project: Project, path: str | os.PathLike[str], *, overwrite: bool = False
) -> None:
    """Write a project to a TOML file atomically.

    Parameters
    ----------
    project : Project
        The project to write.
    path : str or path-like
        Destination file.
    overwrite : bool
        Replace an existing file.

    Raises
    ------
    OutputError
        If ``path`` exists and ``overwrite`` is false, or cannot be written.
    """
    from energyopt.fileio import atomic_output

    text = dumps_project(project)
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
