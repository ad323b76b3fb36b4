"""Units and other tag metadata for CSV imports: side files and the unit row.

Part of :mod:`energyopt.data.csv_import`, which documents the CSV layout.
"""

from __future__ import annotations

import csv
import io
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from energyopt.data.units import parse_unit
from energyopt.errors import DataError, EnergyoptError

if TYPE_CHECKING:
    import os

__all__ = ["METADATA_FIELDS", "merge_metadata", "read_tag_metadata"]

#: Per-tag fields a units side file may give.
METADATA_FIELDS = ("unit", "kind", "description", "medium")


def read_tag_metadata(path: str | os.PathLike[str]) -> dict[str, dict[str, str]]:
    """Read a side file of per-tag units (and optionally kind, description, medium).

    Two forms are accepted:

    - ``.csv``: columns ``tag,unit`` and optionally ``kind``, ``description``,
      ``medium``, with a header row naming them; without a header, two
      columns tag and unit.
    - ``.toml``: ``TAG = "unit"`` per tag, or a table per tag
      (``["FI-101"]`` with ``unit = "t/h"``, ``kind = "flow"`` ...).

    Parameters
    ----------
    path : str or path-like
        The side file.

    Returns
    -------
    dict of str to dict of str to str
        Tag -> ``{"unit": ..., "kind": ..., ...}`` (only the fields given).

    Raises
    ------
    DataError
        If the file cannot be read or is malformed (message names file and line).
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(f"cannot read units file '{source}': {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{source}: not UTF-8 text ({exc.reason})") from None
    if source.suffix.lower() == ".toml":
        return _metadata_from_toml(source, text)
    return _metadata_from_csv(source, text)


def _metadata_from_toml(source: Path, text: str) -> dict[str, dict[str, str]]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{source}: invalid TOML: {exc}") from None
    out: dict[str, dict[str, str]] = {}
    for tag, entry in document.items():
        if isinstance(entry, str):
            out[tag] = {"unit": entry}
        elif isinstance(entry, dict):
            unknown = sorted(set(entry) - set(METADATA_FIELDS))
            if unknown or not all(isinstance(v, str) for v in entry.values()):
                raise DataError(
                    f"{source}: [{tag}] may only hold the strings {', '.join(METADATA_FIELDS)}"
                )
            out[tag] = dict(entry)
        else:
            raise DataError(f"{source}: {tag} must be a unit string or a table, got {entry!r}")
    return out


def _metadata_from_csv(source: Path, text: str) -> dict[str, dict[str, str]]:
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        return {}
    header = [cell.strip().lower() for cell in rows[0]]
    if header[:1] == ["tag"] and "unit" in header:
        columns, body, first_line = header, rows[1:], 2
    else:
        columns, body, first_line = ["tag", "unit"], rows, 1
    unknown = sorted(set(columns) - {"tag", *METADATA_FIELDS})
    if unknown:
        raise DataError(f"{source}: unknown columns {', '.join(unknown)}")
    out: dict[str, dict[str, str]] = {}
    for line, row in enumerate(body, start=first_line):
        if len(row) != len(columns):
            raise DataError(
                f"{source}: line {line}: expected {len(columns)} fields "
                f"({', '.join(columns)}), found {len(row)}"
            )
        entry = {name: cell.strip() for name, cell in zip(columns, row, strict=True)}
        tag = entry.pop("tag")
        out[tag] = {name: value for name, value in entry.items() if value}
    return out


def merge_metadata(
    source: Path,
    tags: list[str],
    row_units: dict[str, str],
    side: dict[str, dict[str, str]],
) -> dict[str, dict[str, str]]:
    """Combine the unit row and the side file into each tag's metadata, and check the units.

    Parameters
    ----------
    source : pathlib.Path
        CSV path, for messages.
    tags : list of str
        Tag columns of the CSV.
    row_units : dict of str to str
        Units from the CSV's unit row.
    side : dict of str to dict of str to str
        Metadata from the side file or mapping (:func:`read_tag_metadata`).

    Returns
    -------
    dict of str to dict of str to str
        Tag -> metadata, each with a ``unit``.

    Raises
    ------
    DataError
        If column names repeat, a tag has two different units, or none.
    UnitConversionError
        If a unit string is unknown.
    """
    duplicates = sorted({tag for tag in tags if tags.count(tag) > 1})
    if duplicates:
        raise DataError(f"{source}: duplicated column names {', '.join(duplicates)}")
    metadata: dict[str, dict[str, str]] = {tag: dict(side.get(tag, {})) for tag in tags}
    for tag, unit in row_units.items():
        other = metadata[tag].get("unit")
        if other is not None and other != unit:
            raise DataError(
                f"{source}: tag '{tag}' has unit '{unit}' in the unit row but '{other}' "
                "in the units file"
            )
        metadata[tag]["unit"] = unit
    missing = [tag for tag in tags if not metadata[tag].get("unit")]
    if missing:
        raise DataError(
            f"{source}: no unit for tag{'s' * (len(missing) > 1)} "
            + ", ".join(repr(tag) for tag in missing[:10])
            + (" ..." if len(missing) > 10 else "")
            + "; add a unit row after the header or a units file (--units)"
        )
    for tag in tags:
        try:
            parse_unit(metadata[tag]["unit"], tag=tag)
        except EnergyoptError as exc:
            raise type(exc)(f"{source}: {exc}") from None
    return metadata
