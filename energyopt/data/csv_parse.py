"""Vectorised parsing of CSV row chunks for :mod:`energyopt.data.csv_import`.

The csv module splits lines into cells (in C); this module turns a chunk of
rows into arrays: times through :class:`TimeParser`, values through numpy's
string-to-float conversion of the whole chunk at once.  Only when that fails
are the cells of the failing column parsed one by one, to name the first bad
cell (or, in lenient mode, to turn the bad cells into NaN).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from energyopt.data.format import Quality, to_epoch_ms
from energyopt.errors import DataError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["CSV_ISSUES", "ChunkParser", "CsvFinding", "TimeParser"]

#: Issues of :class:`CsvFinding`.
CSV_ISSUES: tuple[str, ...] = (
    "non_numeric",
    "malformed_row",
    "bad_timestamp",
    "duplicate_time",
    "non_monotonic_time",
)
#: Epoch numbers at or above this magnitude are milliseconds, below it seconds
#: (10^11 s is the year 5138; 10^11 ms is 1973-03-03).
_EPOCH_MS_THRESHOLD = 1e11


@dataclass(frozen=True)
class CsvFinding:
    """Something a CSV import repaired or skipped.

    Attributes
    ----------
    issue : str
        One of :data:`CSV_ISSUES`.
    detail : str
        What was found and what was done.
    count : int
        Cells or rows concerned. [-]
    first_line : int
        Line of the first occurrence in the CSV (1 is the header).
    tag : str
        Column concerned, ``""`` for whole rows.
    """

    issue: str
    detail: str
    count: int
    first_line: int
    tag: str = ""

    def __post_init__(self) -> None:
        if self.issue not in CSV_ISSUES:
            raise DataError(f"unknown CSV issue {self.issue!r}; expected one of {CSV_ISSUES}")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of the fields."""
        return asdict(self)


class TimeParser:
    """Parse the time cells of a CSV: ISO 8601 or epoch seconds/milliseconds.

    The form is fixed by the first cell parsed (see
    :mod:`energyopt.data.csv_import`).

    Parameters
    ----------
    source : pathlib.Path
        CSV path, for messages.
    zone : datetime.tzinfo
        Time zone of naive ISO times.
    """

    def __init__(self, source: Path, zone: dt.tzinfo) -> None:
        self._source = source
        self._zone = zone
        self._epoch_factor: float | None = None  # 1000.0 for seconds, 1.0 for ms
        self._decided = False

    def parse(self, cells: list[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Parse time cells.

        Parameters
        ----------
        cells : list of str
            One time cell per row.

        Returns
        -------
        time_ms : numpy.ndarray
            Times, int64 (0 where unreadable). [ms since epoch]
        ok : numpy.ndarray
            Whether each cell was readable.
        """
        if not self._decided and cells:
            self._decide(cells[0])
        if self._epoch_factor is not None:
            return self._parse_epoch(cells, self._epoch_factor)
        out = np.zeros(len(cells), dtype=np.int64)
        ok = np.ones(len(cells), dtype=bool)
        for i, cell in enumerate(cells):
            try:
                out[i] = to_epoch_ms(cell, self._zone)
            except DataError:
                ok[i] = False
        return out, ok

    def _decide(self, cell: str) -> None:
        self._decided = True
        try:
            number = float(cell)
        except ValueError:
            return
        self._epoch_factor = 1.0 if abs(number) >= _EPOCH_MS_THRESHOLD else 1000.0

    def _parse_epoch(
        self, cells: list[str], factor: float
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        numbers, ok = _to_float(np.array(cells, dtype=str))
        ok &= np.isfinite(numbers)
        ms = np.where(ok, np.round(numbers * factor), 0.0)
        return ms.astype(np.int64), ok


def _to_float(cells: npt.NDArray[np.str_]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Convert strings to float64; unreadable cells give NaN and ``ok = False``."""
    try:
        return cells.astype(np.float64), np.ones(cells.shape, dtype=bool)
    except ValueError:
        pass
    out = np.full(cells.shape, np.nan)
    ok = np.zeros(cells.shape, dtype=bool)
    flat_out, flat_ok = out.reshape(-1), ok.reshape(-1)
    # Per-cell fallback, only for chunks that hold an unreadable cell.
    for k, cell in enumerate(cells.reshape(-1).tolist()):
        try:
            flat_out[k] = float(cell)
            flat_ok[k] = True
        except ValueError:
            continue
    return out, ok


@dataclass
class _Tally:
    count: int
    first_line: int
    example: str


class ChunkParser:
    """Turn chunks of CSV rows into times, values and quality codes.

    Parameters
    ----------
    source : pathlib.Path
        CSV path, for messages.
    n_fields : int
        Fields per row (header length).
    time_index : int
        Index of the time column.
    tag_columns : list of int
        Indices of the tag columns.
    tags : list of str
        Tag names, matching ``tag_columns``.
    time_parser : TimeParser
        Parser of the time cells.
    decimal : str
        Decimal mark of the values.
    lenient : bool
        Record and repair problems instead of raising.
    """

    def __init__(
        self,
        source: Path,
        *,
        n_fields: int,
        time_index: int,
        tag_columns: list[int],
        tags: list[str],
        time_parser: TimeParser,
        decimal: str,
        lenient: bool,
    ) -> None:
        if len(decimal) != 1:
            raise DataError(f"decimal mark must be one character, got {decimal!r}")
        self._source = source
        self._n_fields = n_fields
        self._time_index = time_index
        self._tag_columns = tag_columns
        self._tags = tags
        self._time_parser = time_parser
        self._decimal = decimal
        self._lenient = lenient
        self._malformed: _Tally | None = None
        self._bad_time: _Tally | None = None
        self._non_numeric: dict[str, _Tally] = {}

    def parse(
        self, batch: list[tuple[int, list[str]]]
    ) -> (
        tuple[
            npt.NDArray[np.int64],
            npt.NDArray[np.int64],
            npt.NDArray[np.float64],
            npt.NDArray[np.uint8],
        ]
        | None
    ):
        """Parse a chunk of ``(line number, cells)`` rows.

        Returns
        -------
        tuple or None
            ``(time_ms, lines, values, quality)`` with values of shape
            (rows, tags); ``None`` if every row of the chunk was skipped.

        Raises
        ------
        DataError
            On the first problem, naming file, line and column (unless lenient).
        """
        rows, lines = self._well_formed(batch)
        if not rows:
            return None
        times, ok = self._time_parser.parse([row[self._time_index] for row in rows])
        if not ok.all():
            bad = np.flatnonzero(~ok)
            first = int(bad[0])
            cell = rows[first][self._time_index]
            if not self._lenient:
                raise DataError(
                    f"{self._source}: line {lines[first]}: cannot read time {cell!r}; expected "
                    "ISO 8601 (2024-03-01T08:00:00+08:00) or seconds/milliseconds since 1970"
                )
            self._bad_time = _add(self._bad_time, bad.size, lines[first], cell)
            rows = [row for row, good in zip(rows, ok.tolist(), strict=True) if good]
            lines = [line for line, good in zip(lines, ok.tolist(), strict=True) if good]
            times = times[ok]
            if not rows:
                return None
        values, quality = self._values(rows, lines)
        return times, np.asarray(lines, dtype=np.int64), values, quality

    def _well_formed(self, batch: list[tuple[int, list[str]]]) -> tuple[list[list[str]], list[int]]:
        rows, lines = [], []
        n = self._n_fields
        for line, cells in batch:
            row = cells
            if len(row) != n:
                if not row or not any(cell.strip() for cell in row):
                    continue  # blank line
                if len(row) > n and not any(cell.strip() for cell in row[n:]):
                    row = row[:n]  # trailing delimiters
                else:
                    if not self._lenient:
                        raise DataError(
                            f"{self._source}: line {line}: expected {n} fields, found {len(row)}"
                        )
                    self._malformed = _add(self._malformed, 1, line, str(len(row)))
                    continue
            rows.append(row)
            lines.append(line)
        return rows, lines

    def _values(
        self, rows: list[list[str]], lines: list[int]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint8]]:
        columns = self._tag_columns
        if columns == list(range(1, self._n_fields)):
            cells = np.array([row[1:] for row in rows], dtype=str)
        else:
            cells = np.array([[row[i] for i in columns] for row in rows], dtype=str)
        cells = np.char.strip(cells)
        if self._decimal != ".":
            cells = np.char.replace(cells, self._decimal, ".")
        empty = np.char.str_len(cells) == 0
        # np.where widens the fixed-width string dtype; assigning "nan" in place
        # would truncate it to the widest cell (e.g. "na" when all cells are "10").
        cells = np.where(empty, "nan", cells)
        values, ok = _to_float(cells)
        quality = np.zeros(values.shape, dtype=np.uint8)
        if ok.all():
            return values, quality
        for j in np.flatnonzero(~ok.all(axis=0)).tolist():
            bad = np.flatnonzero(~ok[:, j])
            first = int(bad[0])
            tag = self._tags[j]
            if not self._lenient:
                raise DataError(
                    f"{self._source}: line {lines[first]}, column '{tag}': cannot read "
                    f"{str(cells[first, j])!r} as a number (--lenient imports it as a bad value)"
                )
            self._non_numeric[tag] = _add(
                self._non_numeric.get(tag), bad.size, lines[first], str(cells[first, j])
            )
            quality[bad, j] = int(Quality.BAD)
        return values, quality

    def findings(self) -> list[CsvFinding]:
        """Return what lenient parsing repaired or skipped so far."""
        out = []
        if self._malformed is not None:
            tally = self._malformed
            out.append(
                CsvFinding(
                    "malformed_row",
                    f"{tally.count} row{'s' * (tally.count > 1)} with a wrong number of fields "
                    f"skipped (expected {self._n_fields}; line {tally.first_line} has "
                    f"{tally.example})",
                    tally.count,
                    tally.first_line,
                )
            )
        if self._bad_time is not None:
            tally = self._bad_time
            out.append(
                CsvFinding(
                    "bad_timestamp",
                    f"{tally.count} row{'s' * (tally.count > 1)} with an unreadable time "
                    f"skipped (line {tally.first_line}: {tally.example!r})",
                    tally.count,
                    tally.first_line,
                )
            )
        for tag, tally in self._non_numeric.items():
            out.append(
                CsvFinding(
                    "non_numeric",
                    f"{tally.count} non-numeric value{'s' * (tally.count > 1)} imported as "
                    f"NaN with quality 1 (bad) (line {tally.first_line}: {tally.example!r})",
                    tally.count,
                    tally.first_line,
                    tag,
                )
            )
        return out


def _add(tally: _Tally | None, count: int, line: int, example: str) -> _Tally:
    if tally is None:
        return _Tally(count, line, example)
    tally.count += count
    return tally
