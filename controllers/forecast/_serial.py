"""Plain-list storage helpers of the forecast package (private).

Forecasters are stored in JSON or TOML, never pickled: ``to_dict`` writes
nested lists of floats, ``from_dict`` checks keys and shapes and raises
:class:`~controllers.errors.ForecastError` naming the offending key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from controllers.errors import ForecastError

#: Version of the stored dictionaries; bump on incompatible changes.
FORMAT_VERSION = 1


def frozen(values: Any, dtype: type = np.float64) -> NDArray[Any]:
    """Return a read-only C-ordered copy of ``values`` as an array of ``dtype``."""
    arr: NDArray[Any] = np.array(values, dtype=dtype, copy=True, order="C")
    arr.flags.writeable = False
    return arr


def to_list(values: NDArray[Any]) -> list[Any]:
    """Return an array as nested lists of Python numbers."""
    return np.asarray(values).tolist()


def header(kind: str) -> dict[str, Any]:
    """Return the common header of a stored dictionary."""
    return {"kind": kind, "format_version": FORMAT_VERSION}


def check_header(data: Any, kind: str) -> Mapping[str, Any]:
    """Return ``data`` if it is a stored ``kind`` mapping, else raise ForecastError."""
    if not isinstance(data, Mapping):
        raise ForecastError(f"a stored {kind} must be a mapping, got {type(data).__name__}")
    if data.get("kind") != kind:
        raise ForecastError(f"expected a stored {kind!r}, got kind {data.get('kind')!r}")
    if data.get("format_version") != FORMAT_VERSION:
        raise ForecastError(
            f"{kind}: unsupported format_version {data.get('format_version')!r} "
            f"(this version reads {FORMAT_VERSION})"
        )
    return data


def get(data: Mapping[str, Any], key: str, kind: str) -> Any:
    """Return ``data[key]`` or raise ForecastError naming the missing key."""
    if key not in data:
        raise ForecastError(f"stored {kind} lacks the key {key!r}")
    return data[key]


def array(data: Mapping[str, Any], key: str, kind: str, ndim: int) -> NDArray[np.float64]:
    """Return ``data[key]`` as a float array of ``ndim`` dimensions, or raise ForecastError."""
    try:
        arr = np.array(get(data, key, kind), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ForecastError(f"stored {kind}: {key!r} is not numeric ({exc})") from None
    if arr.ndim != ndim:
        raise ForecastError(f"stored {kind}: {key!r} must be {ndim}-D, got {arr.ndim}-D")
    return arr
