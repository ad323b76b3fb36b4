"""Change a project by dotted keys: ``{"controller.economic.move_weight": 2.0e4}``.

Tuning, the GUI's settings dialogs and scripted studies change a handful of
project keys and need the result validated exactly as a file would be.
:func:`apply_overrides` writes each value into the project's TOML mapping
and validates the whole document again (every cross-section rule applies);
:func:`project_value` reads the value a key has now (defaults included).

Keys are TOML dotted keys, parsed by :mod:`tomllib` itself, so a key with a
dot inside is quoted as in the file:
``controller.economic.hard_limits."grid.power_import_w".high``.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from typing import Any

from energyopt.errors import ProjectError
from energyopt.project.base import did_you_mean
from energyopt.project.loader import project_from_mapping
from energyopt.project.messages import allowed_keys, format_path
from energyopt.project.model import Project

__all__ = ["apply_overrides", "parse_key", "project_value"]

#: Python types a TOML value can have.
_TOML_SCALARS = (bool, int, float, str)


def parse_key(key: str) -> tuple[str, ...]:
    """Split a TOML dotted key into its parts.

    Parameters
    ----------
    key : str
        For example ``controller.economic.move_weight`` or
        ``controller.economic.hard_limits."grid.power_import_w".high``.

    Returns
    -------
    tuple of str
        The key parts, unquoted.

    Raises
    ------
    ProjectError
        If ``key`` is not a valid TOML key.
    """
    if not isinstance(key, str) or not key.strip() or "\n" in key or "=" in key.replace('"', ""):
        raise ProjectError(f"override key {key!r}: not a dotted project key")
    # tomllib is the parser of the project files: a key means here what it
    # means in the file (quoting, whitespace around dots).
    try:
        table = tomllib.loads(f"{key} = 0")
    except tomllib.TOMLDecodeError:
        raise ProjectError(f"override key {key!r}: not a dotted project key") from None
    parts: list[str] = []
    node: Any = table
    while isinstance(node, dict):
        [(name, node)] = node.items()
        parts.append(name)
    return tuple(parts)


def _toml_value(key: str, value: object) -> Any:
    """Return ``value`` as a plain TOML value (numpy scalars to Python), or raise."""
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, _TOML_SCALARS):
        value = item()  # numpy scalar -> the Python number it holds
    if isinstance(value, float) and not math.isfinite(value):
        raise ProjectError(f"override '{key}': must be a finite number, got {value}")
    if isinstance(value, _TOML_SCALARS):
        return value
    if isinstance(value, list | tuple):
        return [_toml_value(key, v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _toml_value(key, v) for k, v in value.items()}
    raise ProjectError(
        f"override '{key}': expected a number, string, boolean, array or table, "
        f"got {type(value).__name__}"
    )


def _check_schema_key(parts: tuple[str, ...], key: str) -> None:
    """Raise for a key that no project schema table allows (with a suggestion)."""
    for depth in range(len(parts)):
        known = allowed_keys(Project, parts[:depth])
        if known and parts[depth] not in known:
            where = format_path(parts[: depth + 1])
            raise ProjectError(
                f"override '{key}': unknown project key '{where}'"
                f"{did_you_mean(parts[depth], known)}"
            )


def apply_overrides(project: Project, overrides: Mapping[str, object]) -> Project:
    """Return a copy of ``project`` with values set by dotted keys, validated again.

    Parameters
    ----------
    project : Project
        The validated project (left unchanged).
    overrides : mapping of str to object
        Dotted project key -> new value, as it would be written in the file
        (a number in the key's SI unit or a string with a unit, a string,
        a boolean, an array or a table).

    Returns
    -------
    Project
        The changed project, with the same :attr:`Project.source`.

    Raises
    ------
    ProjectError
        If a key is not a project key (the message names it and suggests the
        closest), a key crosses a value that is not a table, a value has no
        TOML form, or the changed project fails validation (the message names
        the overridden keys and lists every problem with its key path).

    Examples
    --------
    >>> tuned = apply_overrides(project, {"controller.band_weight": 500.0})  # doctest: +SKIP
    """
    data = project.to_toml_dict()
    for key, value in overrides.items():
        parts = parse_key(key)
        _check_schema_key(parts, key)
        node = data
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ProjectError(
                    f"override '{key}': '{format_path(parts[: depth + 1])}' is a value, not a table"
                )
            node = child
        node[parts[-1]] = _toml_value(key, value)
    source = project.source or "project"
    try:
        changed = project_from_mapping(data, source=source)
    except ProjectError as exc:
        listed = ", ".join(f"'{k}' = {v!r}" for k, v in overrides.items())
        raise ProjectError(f"overrides {listed} make the project invalid:\n{exc}") from None
    return changed.with_source(project.source)


def project_value(project: Project, key: str) -> Any:
    """Return the current value of a dotted project key (defaults included), as in TOML.

    Parameters
    ----------
    project : Project
        The validated project.
    key : str
        Dotted project key.

    Returns
    -------
    object
        The value in its JSON form (numbers in SI, strings, lists, dicts);
        ``None`` for an optional key that is not set.

    Raises
    ------
    ProjectError
        If ``key`` names no value of the project.
    """
    parts = parse_key(key)
    _check_schema_key(parts, key)
    node: Any = project.model_dump(mode="json")
    for depth, part in enumerate(parts):
        if not isinstance(node, dict) or part not in node:
            raise ProjectError(
                f"'{key}': the project has no value at '{format_path(parts[: depth + 1])}'"
            )
        node = node[part]
    return node
