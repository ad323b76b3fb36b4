"""Training and hold-out time windows of a fit: parsed, defaulted and checked against the file.

A window is a half-open ``[start_ms, end_ms)`` range of historian time.  On
the command line it is written ``START..END`` with ISO 8601 times
(``2026-01-05..2026-01-07T12:00``; naive times are in the project's time
zone, an explicit offset wins), parsed by :func:`parse_time_range`.
:func:`resolve_windows` completes what the user left out -- by default the
fitting package's hold-out rule: the last :data:`HOLDOUT_FRACTION` of the
training window is held out and not fitted -- and refuses windows outside the
file, empty windows and overlapping training and hold-out windows, so that a
validation never reuses training samples.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from energyopt.errors import DataError
from energyopt.fitting.workflow import HOLDOUT_FRACTION

if TYPE_CHECKING:
    from energyopt.data.format import TimeLike
    from energyopt.data.reader import HistorianReader

__all__ = ["RANGE_SEPARATOR", "FitWindows", "parse_time_range", "resolve_windows"]

#: Separator of the start and end of a range on the command line.
RANGE_SEPARATOR = ".."


@dataclass(frozen=True)
class FitWindows:
    """The training and hold-out windows of a fit, end exclusive.

    Attributes
    ----------
    train : (int, int)
        Training window. [ms since epoch]
    validate : (int, int)
        Hold-out window. [ms since epoch]
    default_split : bool
        Whether the hold-out window is the default end of the training span.
    """

    train: tuple[int, int]
    validate: tuple[int, int]
    default_split: bool


def parse_time_range(text: str, timezone: dt.tzinfo | str) -> tuple[int, int]:
    """Parse ``START..END`` into a ``[start_ms, end_ms)`` window.

    Parameters
    ----------
    text : str
        Two ISO 8601 times joined by ``..`` (``2026-01-05T06:00..2026-01-06``),
        the end exclusive.
    timezone : tzinfo or str
        Time zone of naive times (the project's).

    Returns
    -------
    tuple of int
        ``(start_ms, end_ms)``. [ms since epoch]

    Raises
    ------
    DataError
        If the text has no ``..``, a time is not ISO 8601, or the end is not
        after the start.
    """
    from energyopt.data.format import format_time_ms, to_epoch_ms

    parts = text.split(RANGE_SEPARATOR)
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise DataError(
            f"cannot read time range {text!r}: expected START..END such as "
            "'2026-01-05..2026-01-07T12:00'"
        )
    start_ms = to_epoch_ms(parts[0].strip(), timezone)
    end_ms = to_epoch_ms(parts[1].strip(), timezone)
    if end_ms <= start_ms:
        raise DataError(
            f"time range {text!r}: the end {format_time_ms(end_ms, timezone)} is not after the "
            f"start {format_time_ms(start_ms, timezone)}"
        )
    return start_ms, end_ms


def _window_ms(
    reader: HistorianReader,
    window: tuple[TimeLike | None, TimeLike | None] | str,
    timezone: dt.tzinfo | str,
) -> tuple[int, int]:
    from energyopt.data.format import to_epoch_ms

    if isinstance(window, str):
        return parse_time_range(window, timezone)
    first_ms, last_ms = reader.time_span_ms
    start, end = window
    return (
        first_ms if start is None else to_epoch_ms(start, timezone),
        last_ms + 1 if end is None else to_epoch_ms(end, timezone),
    )


def _describe(reader: HistorianReader, window: tuple[int, int]) -> str:
    return f"{reader.format_time(window[0])}..{reader.format_time(window[1])}"


def _check_inside(
    reader: HistorianReader, label: str, window: tuple[int, int], span: tuple[int, int]
) -> None:
    if window[1] <= window[0]:
        raise DataError(f"{reader.path}: the {label} window {_describe(reader, window)} is empty")
    if window[0] < span[0] or window[1] > span[1]:
        raise DataError(
            f"{reader.path}: the {label} window {_describe(reader, window)} is outside the "
            f"file, which holds {_describe(reader, span)}"
        )


def resolve_windows(
    reader: HistorianReader,
    train: tuple[TimeLike | None, TimeLike | None] | str | None = None,
    validate: tuple[TimeLike | None, TimeLike | None] | str | None = None,
    *,
    timezone: dt.tzinfo | str | None = None,
) -> FitWindows:
    """Complete and check the training and hold-out windows of a fit.

    Parameters
    ----------
    reader : HistorianReader
        The open historian (time span, sampling, time zone).
    train : (start, end) or str, optional
        Training window (``"START..END"`` or a pair; ``None`` in a pair is the
        file's first or last time).  Omitted: the whole file, or, with only
        ``validate`` given, the longer part of the file before or after it.
    validate : (start, end) or str, optional
        Hold-out window.  Omitted: the last :data:`HOLDOUT_FRACTION` of the
        training window, which is then shortened to end where it starts.
    timezone : tzinfo or str, optional
        Time zone of naive times (the project's); default the historian's.

    Returns
    -------
    FitWindows

    Raises
    ------
    DataError
        If a window cannot be read, is empty, reaches outside the file (by
        more than one sampling interval at the end, so that whole days can be
        given), or the two windows overlap.
    """
    zone = reader.tzinfo if timezone is None else timezone
    first_ms, last_ms = reader.time_span_ms
    step_ms = round(reader.sampling_ms or 1.0)
    span = (first_ms, last_ms + step_ms)
    if validate is None:
        whole = span if train is None else _window_ms(reader, train, zone)
        _check_inside(reader, "training", whole, span)
        cut = whole[0] + round((1.0 - HOLDOUT_FRACTION) * (whole[1] - whole[0]) / step_ms) * step_ms
        if not whole[0] < cut < whole[1]:
            raise DataError(
                f"{reader.path}: the training window {_describe(reader, whole)} is too short to "
                f"hold out its last {HOLDOUT_FRACTION:.0%}"
            )
        return FitWindows((whole[0], cut), (cut, whole[1]), default_split=True)
    hold = _window_ms(reader, validate, zone)
    _check_inside(reader, "hold-out", hold, span)
    if train is None:
        # A side holds samples only if it starts at or before the last one.
        before = (span[0], hold[0])
        after = (hold[1], span[1]) if hold[1] <= last_ms else (span[1], span[1])
        fit = before if before[1] - before[0] >= after[1] - after[0] else after
        if fit[1] <= fit[0]:
            raise DataError(
                f"{reader.path}: the hold-out window {_describe(reader, hold)} covers the whole "
                "file: nothing is left to train on"
            )
    else:
        fit = _window_ms(reader, train, zone)
        _check_inside(reader, "training", fit, span)
    if fit[0] < hold[1] and hold[0] < fit[1]:
        raise DataError(
            f"{reader.path}: the training window {_describe(reader, fit)} and the hold-out window "
            f"{_describe(reader, hold)} overlap: a validation must not reuse training samples"
        )
    return FitWindows(fit, hold, default_split=False)
