"""Replay windows of a tune, spread evenly over the recorded period."""

from __future__ import annotations

import os

from energyopt.errors import DataError

__all__ = ["data_windows", "spread_windows"]

_MINUTE_MS = 60_000


def spread_windows(start_ms: int, end_ms: int, count: int, window_ms: int) -> list[tuple[int, int]]:
    """Return ``count`` windows of ``window_ms`` spread evenly over ``[start_ms, end_ms]``.

    The period is cut into ``count`` equal parts and each window is centred
    in its part (three one-day windows over three days are the three days);
    when the windows are longer than a part they overlap, the first starting
    at ``start_ms`` and the last ending at ``end_ms``.  Starts are rounded
    down to a whole minute.

    Parameters
    ----------
    start_ms, end_ms : int
        The recorded period. [ms since epoch]
    count : int
        Number of windows.
    window_ms : int
        Length of a window. [ms]

    Returns
    -------
    list of (int, int)
        ``(start_ms, end_ms)`` of each window, in time order.

    Raises
    ------
    DataError
        If ``count`` or ``window_ms`` is not positive or one window is longer
        than the period.
    """
    if count < 1:
        raise DataError(f"tune: the number of windows must be at least 1, got {count}")
    if window_ms <= 0:
        raise DataError(f"tune: the window length must be positive, got {window_ms} ms")
    span = end_ms - start_ms
    if window_ms > span:
        raise DataError(
            f"tune: a window of {window_ms / 3.6e6:g} h is longer than the data "
            f"({span / 3.6e6:g} h)"
        )
    part = span / count
    if window_ms <= part:
        starts = [start_ms + k * part + (part - window_ms) / 2 for k in range(count)]
    else:
        gap = (span - window_ms) / (count - 1) if count > 1 else 0.0
        starts = [start_ms + k * gap for k in range(count)]
    out = []
    for start in starts:
        first = max(start_ms, int(start) // _MINUTE_MS * _MINUTE_MS)
        out.append((first, first + window_ms))
    return out


def data_windows(
    data_path: str | os.PathLike[str], count: int, window_s: float, history_s: float = 0.0
) -> list[tuple[int, int]]:
    """Return the windows of :func:`spread_windows` over a historian file's period.

    The windows are spread over the period after the first ``history_s`` of
    the file, which is left for what is fitted on past data (the MPC's
    forecasters).

    Parameters
    ----------
    data_path : str or path-like
        Historian file (format v1).
    count : int
        Number of windows.
    window_s : float
        Length of a window. [s]
    history_s : float
        History left before the first window. [s]

    Returns
    -------
    list of (int, int)
        ``(start_ms, end_ms)`` per window.

    Raises
    ------
    DataError
        If the file cannot be read or is shorter than a window.
    """
    from energyopt.data import HistorianReader

    with HistorianReader(data_path) as reader:
        first, last = reader.time_span_ms
    history_ms = round(history_s * 1000.0)
    if first + history_ms + round(window_s * 1000.0) > last:
        raise DataError(
            f"tune: {data_path}: {(last - first) / 8.64e7:.3g} days of data do not hold "
            f"{history_s / 86_400.0:g} days of history plus a window of "
            f"{window_s / 86_400.0:g} days (set [tune] history_s and window_s)"
        )
    return spread_windows(int(first) + history_ms, int(last), count, round(window_s * 1000.0))
