"""Helpers to turn model arrays into plain lists and back (private).

Models are stored in JSON or TOML, never pickled: ``to_dict`` writes nested
lists of floats and ints, ``from_dict`` checks kind, keys and shapes and
raises :class:`ModelFormatError` naming the offending key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plant_models.datadriven.errors import ModelFormatError

#: Version of the stored model dictionaries; bump on incompatible changes.
FORMAT_VERSION = 1


def frozen(values: Any, dtype: type = np.float64) -> NDArray[Any]:
    """Return a read-only copy of ``values`` as an array of ``dtype``."""
    arr: NDArray[Any] = np.array(values, dtype=dtype, copy=True, order="C")
    arr.flags.writeable = False
    return arr


def header(kind: str) -> dict[str, Any]:
    """Return the common header of a stored model dictionary."""
    return {"kind": kind, "format_version": FORMAT_VERSION}


def check_header(data: Mapping[str, Any], kind: str) -> None:
    """Raise :class:`ModelFormatError` unless ``data`` is a stored ``kind`` model."""
    if not isinstance(data, Mapping):
        raise ModelFormatError(
            f"a stored {kind} model must be a mapping, got {type(data).__name__}"
        )
    if data.get("kind") != kind:
        raise ModelFormatError(
            f"expected a stored model of kind '{kind}', got {data.get('kind')!r}"
        )
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFormatError(
            f"{kind}: unsupported format_version {version!r} (this version reads {FORMAT_VERSION})"
        )


def get(data: Mapping[str, Any], key: str, kind: str) -> Any:
    """Return ``data[key]`` or raise :class:`ModelFormatError` naming the key."""
    try:
        return data[key]
    except KeyError:
        raise ModelFormatError(f"{kind}: missing key '{key}'") from None


def array(
    data: Mapping[str, Any],
    key: str,
    kind: str,
    ndim: int,
    dtype: type = np.float64,
) -> NDArray[Any]:
    """Read ``data[key]`` as a read-only array with ``ndim`` dimensions.

    Raises
    ------
    ModelFormatError
        If the key is missing, the value is not numeric, has another number of
        dimensions or contains non-finite values.
    """
    raw = get(data, key, kind)
    try:
        arr: NDArray[Any] = np.array(raw, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ModelFormatError(f"{kind}: '{key}' is not a numeric array ({exc})") from None
    if arr.ndim != ndim:
        raise ModelFormatError(f"{kind}: '{key}' must be {ndim}-D, got {arr.ndim}-D")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ModelFormatError(f"{kind}: '{key}' contains non-finite values")
    arr.flags.writeable = False
    return arr


def to_list(arr: NDArray[Any]) -> list[Any]:
    """Return ``arr`` as nested Python lists of floats or ints."""
    return np.asarray(arr).tolist()
