"""Import of wide CSV historian exports into format v1.

Layout of the CSV
-----------------
- A header row of column names: the time column (``time_column``, else the
  first column) and one column per tag (names must follow the tag-name rules
  of :mod:`energyopt.data.format`).
- Optionally a unit row right after the header, recognised by ``unit`` or
  ``units`` (any case) in the time column, giving each tag's unit.  Units
  can also come from a side file (:func:`read_tag_metadata`); a tag given
  different units by both is an error, and every tag needs a unit.
- Data rows.  Times are ISO 8601 (``2024-03-01T08:00:00+08:00``,
  ``2024-03-01 08:00:00``, ``...Z``) or numbers of seconds or milliseconds
  since the epoch (UTC); which of the two is decided on the first data row
  (an absolute value of 10^11 or more is milliseconds).  Naive ISO times are
  wall-clock times in ``timezone`` (an IANA name; ambiguous times at the end of
  daylight saving time take the first occurrence).  Values are numbers with
  ``.`` (or ``decimal``) as decimal mark; an empty cell is a missing value (NaN).

The delimiter is detected among ``, ; tab |`` unless given.  The encoding
defaults to UTF-8 (with or without BOM); exports from Chinese systems may
need ``encoding="gbk"``.

Problems
--------
A non-numeric value, a row with the wrong number of fields or an unreadable
time stops the import with a :class:`~energyopt.errors.DataError` naming the
file, line and column, unless ``lenient``: then the value becomes NaN with
quality code 1 (bad), or the row is skipped, and a :class:`CsvFinding`
records it.  Rows out of time order are sorted and duplicated timestamps
keep the row that comes last in the file; both are reported as findings.

Memory
------
The file is parsed in chunks; parsed values are staged in an anonymous
temporary file next to the output, and only the time axis (16 bytes a row,
with line numbers) stays in memory, so a 1 GB CSV needs tens of MB of RAM,
not the size of the file.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
import numpy.typing as npt

from energyopt.data.csv_metadata import merge_metadata, read_tag_metadata
from energyopt.data.csv_parse import ChunkParser, CsvFinding, TimeParser
from energyopt.data.format import DEFAULT_TIMEZONE, Quality, load_timezone, validate_tag_name
from energyopt.data.writer import HistorianWriter
from energyopt.errors import DataError
from energyopt.fileio import check_destination

if TYPE_CHECKING:
    import os

    from energyopt.progress import CancelToken, ProgressCallback

__all__ = ["CsvFinding", "CsvImportResult", "import_csv", "read_tag_metadata"]

_UNIT_ROW_MARKERS = frozenset({"unit", "units"})
#: Cells parsed per chunk (about 20 MB of numpy strings). [-]
_CELLS_PER_CHUNK = 250_000
#: Values written per chunk to the HDF5 file (32 MB of float64). [-]
_CELLS_PER_WRITE = 4_000_000


@dataclass(frozen=True)
class CsvImportResult:
    """Outcome of :func:`import_csv`.

    Attributes
    ----------
    path : pathlib.Path
        The written historian file.
    n_rows : int
        Rows written (after sorting and dropping duplicates). [-]
    tags : list of str
        Tags written, in column order.
    time_span_ms : tuple of int
        First and last time written. [ms since epoch]
    findings : list of CsvFinding
        What was repaired or skipped.
    """

    path: Path
    n_rows: int
    tags: list[str]
    time_span_ms: tuple[int, int]
    findings: list[CsvFinding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        out = asdict(self)
        out["path"] = str(self.path)
        out["time_span_ms"] = list(self.time_span_ms)
        out["findings"] = [finding.to_dict() for finding in self.findings]
        return out


def import_csv(
    csv_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    units: Mapping[str, str] | str | os.PathLike[str] | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    time_column: str | None = None,
    delimiter: str | None = None,
    decimal: str = ".",
    encoding: str = "utf-8-sig",
    lenient: bool = False,
    plant: str | None = None,
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> CsvImportResult:
    """Convert a wide CSV export into a historian file (format v1), atomically.

    Parameters
    ----------
    csv_path : str or path-like
        The CSV file (see the module docstring for its layout).
    out_path : str or path-like
        The ``.h5`` file to write.
    units : mapping or path, optional
        Tag -> unit, or a side file for :func:`read_tag_metadata`; merged
        with the CSV's unit row.
    timezone : str
        IANA time zone of naive timestamps; stored in the output file.
    time_column : str, optional
        Name of the time column; the first column if omitted.
    delimiter : str, optional
        Field delimiter; detected if omitted.
    decimal : str
        Decimal mark of the values (``","`` for many European exports).
    encoding : str
        Text encoding of the CSV.
    lenient : bool
        Turn unreadable values into bad NaNs and skip malformed rows, with
        findings, instead of stopping.
    plant : str, optional
        Plant name stored in the output file.
    overwrite : bool
        Replace an existing output file.
    progress : ProgressCallback, optional
        Called with ``(done, total, message)``: bytes read, then rows written.
    cancel : CancelToken, optional
        Checked between chunks; cancelling leaves no output.

    Returns
    -------
    CsvImportResult
        Output path, row count, tags and findings.

    Raises
    ------
    DataError
        If the CSV is malformed (file, line, column named), has no data rows,
        or a tag lacks a unit.
    UnitConversionError
        If a unit string is unknown.
    OutputError
        If the output exists (without ``overwrite``), is an open input, or
        cannot be written.
    """
    source, target = Path(csv_path), Path(out_path)
    check_destination(target, overwrite=overwrite)  # fail before parsing, not after
    zone = load_timezone(timezone)
    side = _side_metadata(units)
    if not source.is_file():
        raise DataError(f"cannot read CSV '{source}': no such file")
    try:
        size = source.stat().st_size
        with source.open("rb") as raw:
            staged = _parse(
                source,
                raw,
                size=size,
                side=side,
                zone=zone,
                time_column=time_column,
                delimiter=delimiter,
                decimal=decimal,
                encoding=encoding,
                lenient=lenient,
                target=target,
                progress=progress,
                cancel=cancel,
            )
            with staged:
                return _write(
                    staged,
                    target,
                    timezone=timezone,
                    plant=plant,
                    overwrite=overwrite,
                    progress=progress,
                    cancel=cancel,
                )
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{source}: cannot decode the file as {encoding} ({exc.reason}); "
            "pass the right encoding (for example --encoding gbk)"
        ) from None
    except csv.Error as exc:
        raise DataError(f"{source}: malformed CSV: {exc}") from None


def _side_metadata(
    units: Mapping[str, str] | str | os.PathLike[str] | None,
) -> dict[str, dict[str, str]]:
    if units is None:
        return {}
    if isinstance(units, Mapping):
        return {tag: {"unit": unit} for tag, unit in units.items()}
    return read_tag_metadata(units)


@dataclass
class _Staged:
    """Parsed rows staged on disk, with their times and metadata in memory."""

    source: Path
    tags: list[str]
    metadata: dict[str, dict[str, str]]
    values_file: BinaryIO
    quality_file: BinaryIO | None
    times: npt.NDArray[np.int64]
    lines: npt.NDArray[np.int64]
    findings: list[CsvFinding]
    cleanup: contextlib.ExitStack

    def __enter__(self) -> _Staged:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup.close()


def _parse(
    source: Path,
    raw: BinaryIO,
    *,
    size: int,
    side: dict[str, dict[str, str]],
    zone: Any,
    time_column: str | None,
    delimiter: str | None,
    decimal: str,
    encoding: str,
    lenient: bool,
    target: Path,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> _Staged:
    sample = raw.read(65_536).decode(encoding, errors="ignore")
    raw.seek(0)
    dialect_delimiter = delimiter or _sniff_delimiter(sample)
    text = io.TextIOWrapper(raw, encoding=encoding, newline="")
    # strict: a broken quote is an error, not a field swallowing the rest of the file.
    reader = csv.reader(text, delimiter=dialect_delimiter, strict=True)
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        raise DataError(f"{source}: empty file (no header row)")
    names = [cell.strip() for cell in header]
    time_index = _time_index(source, names, time_column)
    tag_columns = [i for i in range(len(names)) if i != time_index]
    tags = [_tag_name(source, names[i], i) for i in tag_columns]
    if not tags:
        raise DataError(f"{source}: no tag columns besides the time column")
    first = next(reader, None)
    first_line = reader.line_num
    row_units: dict[str, str] = {}
    pending: tuple[int, list[str]] | None = None
    if first is not None:
        if len(first) > time_index and first[time_index].strip().lower() in _UNIT_ROW_MARKERS:
            row_units = {
                tags[k]: first[i].strip()
                for k, i in enumerate(tag_columns)
                if i < len(first) and first[i].strip()
            }
        else:
            pending = (first_line, first)
    metadata = merge_metadata(source, tags, row_units, side)

    parser = ChunkParser(
        source,
        n_fields=len(names),
        time_index=time_index,
        tag_columns=tag_columns,
        tags=tags,
        time_parser=TimeParser(source, zone),
        decimal=decimal,
        lenient=lenient,
    )
    folder = target.parent if target.parent.is_dir() else None
    with contextlib.ExitStack() as stack:
        # Anonymous temporary files next to the output: the staging needs as
        # much disk as the values, and /tmp may be a RAM disk.
        values_file = stack.enter_context(tempfile.TemporaryFile(dir=folder))
        quality_file = stack.enter_context(tempfile.TemporaryFile(dir=folder)) if lenient else None
        times: list[npt.NDArray[np.int64]] = []
        lines: list[npt.NDArray[np.int64]] = []
        chunk_rows = max(256, _CELLS_PER_CHUNK // len(names))
        rows = _numbered(source, reader, pending)
        while batch := list(itertools.islice(rows, chunk_rows)):
            if cancel is not None:
                cancel.raise_if_cancelled()
            parsed = parser.parse(batch)
            if parsed is None:
                continue
            chunk_times, chunk_lines, values, quality = parsed
            times.append(chunk_times)
            lines.append(chunk_lines)
            values_file.write(np.ascontiguousarray(values, dtype=np.float64).data)
            if quality_file is not None:
                quality_file.write(np.ascontiguousarray(quality, dtype=np.uint8).data)
            if progress is not None:
                progress(raw.tell(), size, "reading CSV")
        if not times:
            raise DataError(f"{source}: no data rows")
        return _Staged(
            source=source,
            tags=tags,
            metadata=metadata,
            values_file=values_file,
            quality_file=quality_file,
            times=np.concatenate(times),
            lines=np.concatenate(lines),
            findings=parser.findings(),
            cleanup=stack.pop_all(),
        )


def _numbered(
    source: Path, reader: Any, pending: tuple[int, list[str]] | None
) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line, cells)``; the line is where the row ends (quoted newlines counted)."""
    if pending is not None:
        yield pending
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise DataError(f"{source}: line {reader.line_num}: malformed CSV: {exc}") from None


def _sniff_delimiter(sample: str) -> str:
    lines = "\n".join(sample.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(lines, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _time_index(source: Path, names: list[str], time_column: str | None) -> int:
    if time_column is None:
        return 0
    if time_column not in names:
        raise DataError(
            f"{source}: no column named {time_column!r}; columns are "
            + ", ".join(repr(name) for name in names[:20])
            + (" ..." if len(names) > 20 else "")
        )
    return names.index(time_column)


def _tag_name(source: Path, name: str, column: int) -> str:
    try:
        return validate_tag_name(name)
    except DataError as exc:
        raise DataError(f"{source}: header column {column + 1}: {exc}") from None


def _write(
    staged: _Staged,
    target: Path,
    *,
    timezone: str,
    plant: str | None,
    overwrite: bool,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> CsvImportResult:
    times, findings = staged.times, list(staged.findings)
    order = _time_order(staged, findings)
    n_tags = len(staged.tags)
    values = _memmap(staged.values_file, np.float64, times.size, n_tags)
    quality = (
        _memmap(staged.quality_file, np.uint8, times.size, n_tags)
        if staged.quality_file is not None
        else None
    )
    meta = staged.metadata
    n_rows = times.size if order is None else order.size
    step = max(1024, _CELLS_PER_WRITE // n_tags)
    with HistorianWriter(
        target,
        {tag: meta[tag]["unit"] for tag in staged.tags},
        descriptions={tag: meta[tag].get("description", "") for tag in staged.tags},
        kinds={tag: meta[tag].get("kind", "") for tag in staged.tags},
        media={tag: meta[tag].get("medium", "") for tag in staged.tags},
        plant=plant,
        timezone=timezone,
        overwrite=overwrite,
    ) as writer:
        for start in range(0, n_rows, step):
            if cancel is not None:
                cancel.raise_if_cancelled()
            rows: slice | npt.NDArray[np.int64] = (
                slice(start, min(start + step, n_rows))
                if order is None
                else order[start : start + step]
            )
            block = np.asarray(values[rows])
            chunk_quality = None
            if quality is not None:
                codes = np.asarray(quality[rows])
                chunk_quality = {
                    tag: codes[:, j]
                    for j, tag in enumerate(staged.tags)
                    if (codes[:, j] != int(Quality.GOOD)).any()
                }
            writer.append(
                times[rows],
                {tag: block[:, j] for j, tag in enumerate(staged.tags)},
                chunk_quality,
            )
            if progress is not None:
                progress(min(start + step, n_rows), n_rows, "writing HDF5")
    written = times if order is None else times[order]
    return CsvImportResult(
        path=writer.path,
        n_rows=int(n_rows),
        tags=list(staged.tags),
        time_span_ms=(int(written[0]), int(written[-1])),
        findings=findings,
    )


def _memmap(file: BinaryIO | None, dtype: Any, n_rows: int, n_cols: int) -> Any:
    if file is None:  # pragma: no cover - callers pass a file
        raise RuntimeError("no staging file")
    file.flush()
    if n_rows * n_cols == 0:
        return np.zeros((n_rows, n_cols), dtype=dtype)
    return np.memmap(file, dtype=dtype, mode="r", shape=(n_rows, n_cols))


def _time_order(staged: _Staged, findings: list[CsvFinding]) -> npt.NDArray[np.int64] | None:
    """Return the row order that sorts the times and drops duplicates (keep last), or ``None``."""
    times, lines = staged.times, staged.lines
    steps = np.diff(times)
    if times.size < 2 or bool((steps > 0).all()):
        return None
    backward = np.flatnonzero(steps < 0)
    if backward.size:
        i = int(backward[0]) + 1
        findings.append(
            CsvFinding(
                "non_monotonic_time",
                f"{backward.size} time step{'s' * (backward.size > 1)} back; first at line "
                f"{int(lines[i])} (after line {int(lines[i - 1])}); rows sorted by time",
                count=int(backward.size),
                first_line=int(lines[i]),
            )
        )
    order = np.argsort(times, kind="stable")
    ordered = times[order]
    keep = np.ones(ordered.size, dtype=bool)
    keep[:-1] = ordered[1:] != ordered[:-1]
    n_dup = int(ordered.size - np.count_nonzero(keep))
    if n_dup:
        j = int(np.flatnonzero(~keep)[0])
        findings.append(
            CsvFinding(
                "duplicate_time",
                f"{n_dup} row{'s' * (n_dup > 1)} with a repeated timestamp dropped, keeping "
                f"the row that comes last in the file; first: line {int(lines[order[j]])} "
                f"dropped for line {int(lines[order[j + 1]])} (same time)",
                count=n_dup,
                first_line=int(lines[order[j]]),
            )
        )
    return order[keep].astype(np.int64)
