"""Phases of the daily cycle: time-of-day bins, day types and stepping in time.

The application layer converts timestamps to *local* time of day [s] and day
of week (0 = Monday ... 6 = Sunday, as :meth:`datetime.date.weekday`); this
package never sees a time zone.  Phases are validated here once, so every
entry point reports a bad phase with the same message.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from controllers.errors import ForecastError

__all__ = ["SECONDS_PER_DAY", "check_phases", "day_type_index", "step_phases"]

#: Length of the daily cycle. [s]
SECONDS_PER_DAY = 86400.0


def check_phases(
    time_of_day_s: ArrayLike,
    day_of_week: ArrayLike | None,
    n_samples: int | None,
    name: str,
) -> tuple[NDArray[np.float64], NDArray[np.int64] | None]:
    """Validate and return phase arrays.

    Parameters
    ----------
    time_of_day_s : array_like, shape (N,)
        Local time of day of each sample, in ``[0, 86400)``. [s]
    day_of_week : array_like of int, shape (N,), optional
        Day of week of each sample, 0 = Monday ... 6 = Sunday. [-]
    n_samples : int, optional
        Expected length; ``None`` accepts any non-empty length.
    name : str
        What the phases belong to, for messages (e.g. ``"training"``).

    Returns
    -------
    tuple of ndarray
        ``(time_of_day_s, day_of_week)``; the second is ``None`` if not given.

    Raises
    ------
    ForecastError
        For a wrong shape, a non-finite time of day or one outside ``[0, 86400)``,
        or a day of week that is not an integer in 0..6.
    """
    tod = np.asarray(time_of_day_s, dtype=np.float64)
    if tod.ndim != 1 or tod.size == 0:
        raise ForecastError(f"{name} time_of_day_s must be a non-empty 1-D array, got {tod.shape}")
    if n_samples is not None and tod.size != n_samples:
        raise ForecastError(f"{name} time_of_day_s has {tod.size} samples, expected {n_samples}")
    bad = ~np.isfinite(tod) | (tod < 0.0) | (tod >= SECONDS_PER_DAY)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ForecastError(
            f"{name} time_of_day_s must be finite and in [0, 86400) s; "
            f"{int(bad.sum())} value(s) are not, first {tod[first]!r} at sample {first}"
        )
    if day_of_week is None:
        return tod, None
    dow_raw = np.asarray(day_of_week)
    if dow_raw.shape != tod.shape:
        raise ForecastError(
            f"{name} day_of_week has shape {dow_raw.shape}, time_of_day_s has {tod.shape}"
        )
    dow_f = dow_raw.astype(np.float64)
    bad = ~np.isfinite(dow_f) | (dow_f != np.round(dow_f)) | (dow_f < 0) | (dow_f > 6)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ForecastError(
            f"{name} day_of_week must be integers 0 (Monday) .. 6 (Sunday); "
            f"{int(bad.sum())} value(s) are not, first {dow_raw[first]!r} at sample {first}"
        )
    return tod, dow_f.astype(np.int64)


def day_type_index(
    day_of_week: NDArray[np.int64] | None,
    n_samples: int,
    weekend_days: tuple[int, ...] | None,
) -> NDArray[np.intp]:
    """Profile row of each sample: 0 (weekday or single profile) or 1 (weekend).

    Parameters
    ----------
    day_of_week : ndarray of int, shape (N,), optional
        Day of week, 0 = Monday. [-]
    n_samples : int
        Number of samples.
    weekend_days : tuple of int, optional
        Days with their own profile; ``None`` means one profile for all days.

    Raises
    ------
    ForecastError
        If separate weekend profiles are wanted but ``day_of_week`` is missing.
    """
    if weekend_days is None:
        return np.zeros(n_samples, dtype=np.intp)
    if day_of_week is None:
        raise ForecastError(
            "this forecaster has separate weekday/weekend profiles: pass day_of_week"
        )
    return np.isin(day_of_week, weekend_days).astype(np.intp)


def step_phases(
    time_of_day_s: float,
    day_of_week: int | None,
    dt_s: float,
    steps: NDArray[np.int64],
) -> tuple[NDArray[np.float64], NDArray[np.int64] | None]:
    """Phases ``steps * dt_s`` away from a reference phase (negative steps go back).

    Uses the fixed-length day of the local clock, so it does not know about
    daylight-saving changes: callers that care pass explicit phases instead.

    Parameters
    ----------
    time_of_day_s : float
        Reference time of day. [s]
    day_of_week : int, optional
        Reference day of week, 0 = Monday. [-]
    dt_s : float
        Sample time. [s]
    steps : ndarray of int
        Offsets from the reference. [samples]

    Returns
    -------
    tuple of ndarray
        ``(time_of_day_s, day_of_week)`` of each offset.
    """
    total = time_of_day_s + np.asarray(steps, dtype=np.float64) * dt_s
    days = np.floor(total / SECONDS_PER_DAY)
    tod = np.clip(total - days * SECONDS_PER_DAY, 0.0, np.nextafter(SECONDS_PER_DAY, 0.0))
    if day_of_week is None:
        return tod, None
    return tod, ((day_of_week + days.astype(np.int64)) % 7).astype(np.int64)
