"""Historian file format v1: layout constants, tag metadata, names and times.

The full specification, with an example, is ``docs/h5-format.md``.  In short:

- root attributes ``format = "energyopt-historian"``, ``version = 1``,
  optional ``plant`` and ``timezone`` (IANA name, default ``UTC``);
- ``/time``: int64 milliseconds since 1970-01-01T00:00:00Z, strictly
  increasing, shape (N,);
- ``/tags/<tag>``: float64 or float32, shape (N,), attribute ``unit``,
  optional ``description``, ``medium``, ``kind``;
- ``/quality/<tag>``: optional uint8, shape (N,), codes :class:`Quality`.

Tag names
---------
A tag name is an HDF5 link name that the CLI and CSV files can carry too:
1 to :data:`MAX_TAG_NAME_LENGTH` characters of UTF-8 text, without ``/``
(the HDF5 path separator), ``,`` (the separator of ``--tags A,B``), control
characters (including NUL), leading or trailing white space, and not ``.``
or ``..``.  Anything else is allowed, for example ``FIC-101.PV``,
``BFG flow`` or ``高炉煤气流量``.

Times
-----
Functions taking a time accept int milliseconds since the epoch (UTC),
``numpy.datetime64`` (taken as UTC, numpy's convention), ``datetime.datetime``
(aware, or naive meaning wall-clock time in the file's time zone),
``datetime.date`` (midnight in the file's time zone) or an ISO 8601 string
(with an offset or ``Z``, or naive meaning the file's time zone).  Ambiguous
wall-clock times at the end of daylight saving time take the first occurrence
(``fold=0``).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from enum import IntEnum
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from energyopt.errors import DataError

__all__ = [
    "DEFAULT_TIMEZONE",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_TAG_NAME_LENGTH",
    "QUALITY_GROUP",
    "TAGS_GROUP",
    "TIME_DATASET",
    "Quality",
    "TagInfo",
    "TimeLike",
    "format_time_ms",
    "load_timezone",
    "to_duration_ms",
    "to_epoch_ms",
    "validate_tag_name",
]

#: Value of the root attribute ``format``.
FORMAT_NAME: Final = "energyopt-historian"
#: Value of the root attribute ``version`` this code reads and writes.
FORMAT_VERSION: Final = 1
#: Name of the time-axis dataset at the root.
TIME_DATASET: Final = "time"
#: Group holding one dataset per tag.
TAGS_GROUP: Final = "tags"
#: Optional group holding one quality-code dataset per tag.
QUALITY_GROUP: Final = "quality"
#: Time zone assumed when the root attribute ``timezone`` is absent.
DEFAULT_TIMEZONE: Final = "UTC"
#: Longest tag name accepted. [characters]
MAX_TAG_NAME_LENGTH: Final = 255

_INT64_MIN, _INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)

#: Anything :func:`to_epoch_ms` understands.
TimeLike = int | np.integer | np.datetime64 | dt.datetime | dt.date | str


class Quality(IntEnum):
    """Sample quality codes stored in ``/quality/<tag>`` (uint8)."""

    GOOD = 0
    """The value is a valid measurement."""
    BAD = 1
    """The value is invalid (sensor fault, out of range, communication loss)."""
    SUBSTITUTED = 2
    """The value was substituted or interpolated, not measured."""


@dataclass(frozen=True)
class TagInfo:
    """Metadata of one tag in a historian file.

    Attributes
    ----------
    name : str
        Tag name (see the module docstring for the rules).
    unit : str
        Unit string as stored, for example ``"t/h"``.
    description : str
        Free text, ``""`` if absent.
    medium : str
        Medium the tag measures (``"steam"``, ``"BFG"`` ...), ``""`` if absent.
    kind : str
        What the tag is (``"flow"``, ``"state"``, ``"setpoint"`` ...), which
        selects the default resampling aggregation; ``""`` if absent.
    dtype : str
        Stored numeric type, ``"float64"`` or ``"float32"``.
    n_samples : int
        Number of rows. [-]
    has_quality : bool
        Whether the file holds ``/quality/<tag>``.
    """

    name: str
    unit: str
    description: str = ""
    medium: str = ""
    kind: str = ""
    dtype: str = "float64"
    n_samples: int = 0
    has_quality: bool = False


def validate_tag_name(name: object) -> str:
    """Check a tag name against the format's rules and return it.

    Parameters
    ----------
    name : object
        Candidate tag name.

    Returns
    -------
    str
        ``name`` unchanged.

    Raises
    ------
    DataError
        If ``name`` is not a string or breaks a rule; the message says which.
    """
    if not isinstance(name, str):
        raise DataError(f"tag name must be a string, got {type(name).__name__} {name!r}")
    problem = _tag_name_problem(name)
    if problem:
        raise DataError(f"invalid tag name {name!r}: {problem}")
    return name


def _tag_name_problem(name: str) -> str:
    if not name:
        return "it is empty"
    if len(name) > MAX_TAG_NAME_LENGTH:
        return f"it is longer than {MAX_TAG_NAME_LENGTH} characters"
    if name in {".", ".."}:
        return "'.' and '..' are reserved by HDF5"
    if "/" in name:
        return "'/' is the HDF5 path separator"
    if "," in name:
        return "',' separates tag lists on the command line"
    if name != name.strip():
        return "it has leading or trailing white space"
    if any(unicodedata.category(char).startswith("C") for char in name):
        return "it contains a control or unassigned character"
    return ""


def load_timezone(name: str) -> ZoneInfo:
    """Return the :class:`zoneinfo.ZoneInfo` of an IANA time zone name.

    Parameters
    ----------
    name : str
        IANA name such as ``"UTC"`` or ``"Asia/Shanghai"``.

    Returns
    -------
    zoneinfo.ZoneInfo
        The time zone.

    Raises
    ------
    DataError
        If ``name`` is not a known IANA time zone.
    """
    if not isinstance(name, str) or not name.strip():
        raise DataError(f"time zone must be an IANA name such as 'Asia/Shanghai', got {name!r}")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise DataError(
            f"unknown time zone {name!r}: expected an IANA name such as 'UTC' or 'Asia/Shanghai'"
        ) from None


def to_epoch_ms(value: TimeLike, timezone: dt.tzinfo | str = DEFAULT_TIMEZONE) -> int:
    """Convert a time to integer milliseconds since 1970-01-01T00:00:00Z.

    Parameters
    ----------
    value : int, numpy.datetime64, datetime, date or str
        The time, see the module docstring.  Sub-millisecond parts are
        truncated towards the past.
    timezone : tzinfo or str
        Time zone of naive datetimes, dates and naive ISO strings.

    Returns
    -------
    int
        The time. [ms since epoch]

    Raises
    ------
    DataError
        If the value has another type or the string is not ISO 8601.
    """
    if isinstance(value, bool | np.bool_):
        raise DataError(f"a time cannot be a boolean, got {value!r}")
    if isinstance(value, np.timedelta64):
        raise DataError(f"a time cannot be a duration, got {value!r}")
    if isinstance(value, int | np.integer):
        if not _INT64_MIN <= int(value) <= _INT64_MAX:
            raise DataError(f"time {int(value)} ms is outside the int64 range")
        return int(value)
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise DataError("a time cannot be NaT")
        return int(value.astype("datetime64[ms]").astype(np.int64))
    zone = load_timezone(timezone) if isinstance(timezone, str) else timezone
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise DataError(
                f"cannot read time {value!r}: expected ISO 8601 such as "
                "'2024-03-01T08:00:00+08:00' or '2024-03-01 08:00'"
            ) from None
        return _datetime_to_ms(parsed, zone)
    if isinstance(value, dt.datetime):
        return _datetime_to_ms(value, zone)
    if isinstance(value, dt.date):
        return _datetime_to_ms(dt.datetime(value.year, value.month, value.day), zone)
    raise DataError(
        f"cannot use {type(value).__name__} {value!r} as a time: expected int milliseconds, "
        "numpy.datetime64, datetime, date or an ISO 8601 string"
    )


def _datetime_to_ms(value: dt.datetime, zone: dt.tzinfo) -> int:
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=zone)
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    # Integer arithmetic: timestamp() goes through a float and can be 1 ms off.
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def format_time_ms(time_ms: int, timezone: dt.tzinfo | str = DEFAULT_TIMEZONE) -> str:
    """Format a time as ISO 8601 with the time zone's offset.

    Parameters
    ----------
    time_ms : int
        The time. [ms since epoch]
    timezone : tzinfo or str
        Time zone to show the wall-clock time in.

    Returns
    -------
    str
        For example ``"2024-03-01T08:00:00+08:00"``; milliseconds are shown
        only when not zero.  Times outside the years 1-9999 are shown as
        ``"<n> ms since 1970-01-01T00:00:00Z"``.
    """
    zone = load_timezone(timezone) if isinstance(timezone, str) else timezone
    try:
        moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=int(time_ms))
        local = moment.astimezone(zone)
    except (OverflowError, ValueError):  # beyond year 1..9999: shown as a number
        return f"{int(time_ms)} ms since 1970-01-01T00:00:00Z"
    spec = "seconds" if int(time_ms) % 1000 == 0 else "milliseconds"
    return local.isoformat(timespec=spec)


def to_duration_ms(value: int | np.integer | np.timedelta64 | dt.timedelta | str) -> int:
    """Convert a positive duration to integer milliseconds.

    Parameters
    ----------
    value : int, numpy.timedelta64, timedelta or str
        Milliseconds as an int, or a duration; strings are quantities pint
        understands, such as ``"15 min"``, ``"15min"``, ``"1 h"``, ``"30 s"``
        or ``"1 day"``.

    Returns
    -------
    int
        The duration. [ms]

    Raises
    ------
    DataError
        If the value is not a duration, not positive or not a whole number of
        milliseconds.
    """
    if isinstance(value, bool | np.bool_):
        raise DataError(f"a duration cannot be a boolean, got {value!r}")
    # numpy.timedelta64 is a numpy integer subclass: test it first.
    if isinstance(value, np.timedelta64):
        if np.isnat(value):
            raise DataError("a duration cannot be NaT")
        as_us = int(value.astype("timedelta64[us]").astype(np.int64))
        ms = _whole_ms(as_us / 1000.0, value)
    elif isinstance(value, int | np.integer):
        ms = int(value)
    elif isinstance(value, dt.timedelta):
        ms = _whole_ms(value / dt.timedelta(milliseconds=1), value)
    elif isinstance(value, str):
        ms = _whole_ms(_parse_duration_ms(value), value)
    else:
        raise DataError(
            f"cannot use {type(value).__name__} {value!r} as a duration: expected int "
            "milliseconds, timedelta, numpy.timedelta64 or a string such as '15 min'"
        )
    if ms <= 0:
        raise DataError(f"a duration must be positive, got {value!r}")
    return ms


def _parse_duration_ms(text: str) -> float:
    from energyopt.data.units import unit_registry

    registry = unit_registry()
    # pint raises assorted exception types on malformed strings; see units.parse_unit.
    try:
        return float(registry.Quantity(text.strip()).m_as("ms"))
    except Exception:
        raise DataError(
            f"cannot read duration {text!r}: expected a time such as '15 min', '1 h' or '1 day'"
        ) from None


def _whole_ms(ms: float, original: object) -> int:
    rounded = round(ms)
    if abs(ms - rounded) > 1e-6:
        raise DataError(f"duration {original!r} is not a whole number of milliseconds")
    return int(rounded)
