"""Opening a historian file and checking its layout against format v1.

:func:`open_hdf5` turns every way a file can fail to open (missing, not HDF5,
truncated) into a one-line :mod:`energyopt.errors` exception naming the
file; :func:`check_layout` checks the root attributes, ``/time``, ``/tags``
and ``/quality`` and returns the tag metadata plus the tolerated deviations
(:class:`FormatFinding`); :func:`checked_layout` remembers that check for the
files opened last.  The time axis values are checked separately by
:class:`energyopt.data.time_axis.TimeAxis`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

from energyopt.data.format import (
    DEFAULT_TIMEZONE,
    FORMAT_NAME,
    FORMAT_VERSION,
    QUALITY_GROUP,
    TAGS_GROUP,
    TIME_DATASET,
    TagInfo,
    load_timezone,
)
from energyopt.data.units import parse_unit
from energyopt.errors import DataError, EnergyoptError, HistorianFormatError

if TYPE_CHECKING:
    from pathlib import Path

    import h5py

__all__ = [
    "FORMAT_ISSUES",
    "LAYOUT_CACHE_FILES",
    "FormatFinding",
    "Layout",
    "check_layout",
    "checked_layout",
    "clear_layout_cache",
    "open_hdf5",
]

#: Issues of :class:`FormatFinding`.
FORMAT_ISSUES: tuple[str, ...] = (
    "missing_format_attribute",
    "missing_version_attribute",
    "unknown_unit",
    "orphan_quality",
    "time_repaired",
)


@dataclass(frozen=True)
class FormatFinding:
    """A tolerated deviation from format v1, noted while opening a file.

    Attributes
    ----------
    issue : str
        One of :data:`FORMAT_ISSUES`: ``missing_format_attribute``,
        ``missing_version_attribute``, ``unknown_unit`` (only conversions of
        the tag fail), ``orphan_quality`` (a ``/quality`` dataset without a
        tag, ignored) or ``time_repaired`` (opened with ``repair_time``).
    detail : str
        What was found and how it is handled.
    tag : str
        The tag concerned, ``""`` for the whole file.
    """

    issue: str
    detail: str
    tag: str = ""

    def __post_init__(self) -> None:
        if self.issue not in FORMAT_ISSUES:
            raise DataError(f"unknown format issue {self.issue!r}; expected one of {FORMAT_ISSUES}")

    def to_dict(self) -> dict[str, str]:
        """Return a JSON-ready dict of the fields."""
        return asdict(self)


@dataclass
class Layout:
    """What :func:`check_layout` learnt about a file.

    Attributes
    ----------
    tags : dict of str to TagInfo
        Tag metadata, in file order.
    timezone : str
        IANA time zone (``UTC`` when the attribute is absent).
    plant : str or None
        Root attribute ``plant``.
    n_rows : int
        Rows of ``/time``. [-]
    findings : list of FormatFinding
        Tolerated deviations.
    """

    tags: dict[str, TagInfo]
    timezone: str
    plant: str | None
    n_rows: int
    findings: list[FormatFinding] = field(default_factory=list)


def open_hdf5(path: Path) -> h5py.File:
    """Open an HDF5 file read-only, mapping every failure to a clear error.

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    h5py.File
        The open file (mode ``"r"``).

    Raises
    ------
    DataError
        If the file does not exist, is a folder or cannot be read.
    HistorianFormatError
        If it is not HDF5 or is truncated or corrupt.
    """
    import h5py

    if not path.exists():
        raise DataError(f"cannot open '{path}': no such file")
    if path.is_dir():
        raise DataError(f"cannot open '{path}': it is a folder")
    try:
        if not h5py.is_hdf5(path):
            raise HistorianFormatError(
                f"{path}: not an HDF5 file (it does not start with the HDF5 signature)"
            )
        # best-effort locking: network shares without locks are read, not refused.
        return h5py.File(path, "r", locking="best-effort")
    except PermissionError:
        raise DataError(f"cannot open '{path}': permission denied") from None
    except OSError as exc:
        raise HistorianFormatError(
            f"{path}: not a readable HDF5 file (truncated or corrupt): {_first_line(exc)}"
        ) from None


def check_layout(h5file: h5py.File, path: Path) -> Layout:
    """Check a file's attributes and datasets against format v1.

    Parameters
    ----------
    h5file : h5py.File
        The open file.
    path : pathlib.Path
        Its path, for messages.

    Returns
    -------
    Layout
        Tag metadata, time zone, plant and tolerated deviations.

    Raises
    ------
    HistorianFormatError
        Naming the file and the first problem: another ``format`` or
        ``version``, no or a malformed ``/time``, no ``/tags``, a tag that is
        not a numeric 1-D dataset of the length of ``/time`` with a string
        ``unit`` attribute, a malformed ``/quality`` dataset, an unknown
        ``timezone``.
    """
    fmt = attr_text(h5file.attrs, "format")
    hint = "" if fmt else " (it has no 'format' attribute: is it an energyopt historian file?)"
    if fmt is not None and fmt != FORMAT_NAME:
        raise HistorianFormatError(
            f"{path}: root attribute 'format' is {fmt!r}, expected {FORMAT_NAME!r}"
        )
    time_ds = h5file.get(TIME_DATASET)
    if not is_dataset(time_ds):
        raise HistorianFormatError(f"{path}: no /{TIME_DATASET} dataset{hint}")
    if time_ds.dtype.kind not in "iu":
        raise HistorianFormatError(
            f"{path}: /{TIME_DATASET} has dtype {time_ds.dtype}; expected int64 "
            "milliseconds since 1970-01-01T00:00:00Z"
        )
    if time_ds.ndim != 1:
        raise HistorianFormatError(
            f"{path}: /{TIME_DATASET} has shape {time_ds.shape}; expected 1-D"
        )
    n = int(time_ds.shape[0])
    if n == 0:
        raise HistorianFormatError(f"{path}: /{TIME_DATASET} is empty (no samples)")
    findings: list[FormatFinding] = []
    quality = _check_quality(h5file, path, n)
    tags = _check_tags(h5file, path, n, quality, hint, findings)
    findings.extend(
        FormatFinding("orphan_quality", f"/{QUALITY_GROUP}/{name} has no tag; ignored", name)
        for name in sorted(quality - set(tags))
    )
    _check_version(h5file, path, fmt, findings)
    timezone = attr_text(h5file.attrs, "timezone") or DEFAULT_TIMEZONE
    try:
        load_timezone(timezone)
    except DataError:
        raise HistorianFormatError(
            f"{path}: root attribute 'timezone' is {timezone!r}, not an IANA time zone "
            "name such as 'Asia/Shanghai'"
        ) from None
    plant = attr_text(h5file.attrs, "plant")
    return Layout(tags=tags, timezone=timezone, plant=plant, n_rows=n, findings=findings)


#: Files whose checked layout :func:`checked_layout` remembers. [-]
LAYOUT_CACHE_FILES = 16
_layout_cache: OrderedDict[tuple[object, ...], Layout] = OrderedDict()
_layout_lock = threading.Lock()


def _file_identity(path: Path) -> tuple[object, ...]:
    """Key of a file's content as far as the file system tells: changes on any rewrite."""
    stat = path.stat()
    return (str(path.resolve()), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def checked_layout(h5file: h5py.File, path: Path) -> Layout:
    """Return :func:`check_layout` of a file, remembered while the file is unchanged.

    Opening a file of many tags should not pay for their metadata again on
    every reopen: the layouts of the last :data:`LAYOUT_CACHE_FILES` files
    checked are kept in memory, keyed by path, device, inode, size and
    modification time, so that any rewrite of the file (or another file at
    the same path) is checked again.  Broken files raise and are never kept.

    Parameters
    ----------
    h5file : h5py.File
        The open file.
    path : pathlib.Path
        Its path.

    Returns
    -------
    Layout
        A copy the caller may change.

    Raises
    ------
    HistorianFormatError
        As :func:`check_layout`.
    """
    key = _file_identity(path)
    with _layout_lock:
        cached = _layout_cache.get(key)
        if cached is not None:
            _layout_cache.move_to_end(key)
    if cached is None:
        cached = check_layout(h5file, path)  # raises for a broken file: never cached
        with _layout_lock:
            _layout_cache[key] = cached
            while len(_layout_cache) > LAYOUT_CACHE_FILES:
                _layout_cache.popitem(last=False)
    # Layout and its findings list are mutable: hand out copies.
    return Layout(
        tags=dict(cached.tags),
        timezone=cached.timezone,
        plant=cached.plant,
        n_rows=cached.n_rows,
        findings=list(cached.findings),
    )


def clear_layout_cache() -> None:
    """Forget every remembered layout check (the next open of each file checks it again)."""
    with _layout_lock:
        _layout_cache.clear()


def _check_version(
    h5file: h5py.File, path: Path, fmt: str | None, findings: list[FormatFinding]
) -> None:
    if fmt is None:
        findings.append(
            FormatFinding(
                "missing_format_attribute",
                f"no root attribute 'format' (expected {FORMAT_NAME!r}); the layout is "
                "valid format v1 and is read as such",
            )
        )
    version = h5file.attrs.get("version")
    if version is None:
        findings.append(
            FormatFinding(
                "missing_version_attribute",
                f"no root attribute 'version'; read as version {FORMAT_VERSION}",
            )
        )
    elif _as_int(version) != FORMAT_VERSION:
        raise HistorianFormatError(
            f"{path}: format version {plain(version)!r} is not supported "
            f"(this energyopt reads version {FORMAT_VERSION})"
        )


def _check_tags(
    h5file: h5py.File,
    path: Path,
    n: int,
    quality: set[str],
    hint: str,
    findings: list[FormatFinding],
) -> dict[str, TagInfo]:
    import h5py

    group = h5file.get(TAGS_GROUP)
    if not isinstance(group, h5py.Group):
        raise HistorianFormatError(f"{path}: no /{TAGS_GROUP} group{hint}")
    tags: dict[str, TagInfo] = {}
    for name in group:
        where = f"{path}: /{TAGS_GROUP}/{name}"
        dataset = group.get(name)  # None for a dangling link
        if not is_dataset(dataset):
            raise HistorianFormatError(f"{where} is not a dataset")
        if dataset.dtype.kind not in "fiub":
            raise HistorianFormatError(
                f"{where} has dtype {dataset.dtype}; tag values must be float64 or float32"
            )
        if dataset.ndim != 1:
            raise HistorianFormatError(f"{where} has shape {dataset.shape}; tag values must be 1-D")
        if dataset.shape[0] != n:
            raise HistorianFormatError(
                f"{where} has {dataset.shape[0]} rows but /{TIME_DATASET} has {n}"
            )
        # One pass over the attributes (4 lookups per tag cost 4 times as much).
        attrs = dict(dataset.attrs.items())
        unit = attrs.get("unit")
        if unit is None:
            raise HistorianFormatError(f"{where} has no 'unit' attribute")
        if not isinstance(plain(unit), str):
            raise HistorianFormatError(
                f"{where}: attribute 'unit' must be a string, got {plain(unit)!r}"
            )
        unit_text = str(plain(unit))
        try:
            parse_unit(unit_text, tag=name)
        except EnergyoptError as exc:
            findings.append(FormatFinding("unknown_unit", f"{exc}; read in its stored unit", name))
        tags[name] = TagInfo(
            name=name,
            unit=unit_text,
            description=attr_text(attrs, "description") or "",
            medium=attr_text(attrs, "medium") or "",
            kind=attr_text(attrs, "kind") or "",
            dtype=str(dataset.dtype),
            n_samples=n,
            has_quality=name in quality,
        )
    return tags


def _check_quality(h5file: h5py.File, path: Path, n: int) -> set[str]:
    import h5py

    group = h5file.get(QUALITY_GROUP)
    if group is None:
        return set()
    if not isinstance(group, h5py.Group):
        raise HistorianFormatError(f"{path}: /{QUALITY_GROUP} is not a group")
    for name in group:
        dataset = group.get(name)
        where = f"{path}: /{QUALITY_GROUP}/{name}"
        if not is_dataset(dataset) or dataset.dtype.kind not in "iu":
            raise HistorianFormatError(f"{where} must be a uint8 dataset of quality codes")
        if dataset.shape != (n,):
            raise HistorianFormatError(
                f"{where} has shape {dataset.shape} but /{TIME_DATASET} has {n} rows"
            )
    return set(group)


# --------------------------------------------------------------------- helpers


def _first_line(exc: BaseException) -> str:
    """Return the first line of an h5py error, without the HDF5 error stack."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def is_dataset(obj: object) -> TypeGuard[h5py.Dataset]:
    """Return whether ``obj`` is an HDF5 dataset."""
    import h5py

    return isinstance(obj, h5py.Dataset)


def plain(value: Any) -> Any:
    """Return an HDF5 attribute value as a Python scalar (bytes decoded as UTF-8)."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(-1)[0]
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, np.generic):
        return value.item()
    return value


def attr_text(attrs: Any, name: str) -> str | None:
    """Return a text attribute, stripped; ``None`` if absent."""
    value = attrs.get(name)
    if value is None:
        return None
    return str(plain(value)).strip()


def _as_int(value: Any) -> int | None:
    number = plain(value)
    if isinstance(number, bool):
        return None
    if isinstance(number, int):
        return number
    if isinstance(number, float) and number.is_integer():
        return int(number)
    if isinstance(number, str) and number.strip().isdigit():
        return int(number.strip())
    return None
