"""Periodic time-of-day profile of a signal, robustly estimated from its history.

One value per time-of-day bin and day type (all days, or weekdays and
weekends apart).  Each bin's value is the median (or a trimmed mean) of the
finite samples that fall into it, so spikes and short upsets barely move
it; the bin values are then smoothed across bins with a circular
Savitzky-Golay filter (:func:`scipy.signal.savgol_filter`, ``mode="wrap"``),
which removes the bin-to-bin sampling noise while keeping the height of
morning and evening peaks better than a moving average.  Between bin
nodes (the mean phase of each bin's samples) the profile is interpolated
linearly, circularly across midnight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.signal import savgol_filter
from scipy.stats import trim_mean

from controllers.errors import ForecastError
from controllers.forecast import _serial
from controllers.forecast.phase import SECONDS_PER_DAY, check_phases, day_type_index

__all__ = ["PeriodicProfile", "fit_profile"]

#: A profile bin is filled by interpolation when it has fewer samples than this
#: fraction of bins still need data: with fewer than half the bins populated
#: the "profile" would be mostly invented.
_MIN_POPULATED_FRACTION = 0.5


@dataclass(frozen=True, eq=False)
class PeriodicProfile:
    """Daily profile by time-of-day bin and day type.

    Attributes
    ----------
    values : ndarray, shape (n_day_types, n_bins)
        Profile value at each bin centre; row 0 is every day (or weekdays),
        row 1 weekends. [signal units]
    nodes_s : ndarray, shape (n_bins,)
        Time of day each bin value belongs to: the mean phase of the bin's
        samples (the bin centre for empty bins).  Hourly data in hourly bins
        thus puts the node at the sampled phase, not half a bin later. [s]
    weekend_days : tuple of int, optional
        Days of week (0 = Monday) of row 1; ``None`` for a single profile.
    """

    kind: ClassVar[str] = "periodic_profile"

    values: NDArray[np.float64]
    nodes_s: NDArray[np.float64]
    weekend_days: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        values = _serial.frozen(self.values)
        if values.ndim != 2 or values.shape[1] < 1 or not np.all(np.isfinite(values)):
            raise ForecastError(
                f"profile values must be a finite 2-D array (day types x bins), "
                f"got shape {values.shape}"
            )
        expected_rows = 1 if self.weekend_days is None else 2
        if values.shape[0] != expected_rows:
            raise ForecastError(
                f"profile needs {expected_rows} row(s) of bins, got {values.shape[0]}"
            )
        if self.weekend_days is not None:
            days = tuple(int(d) for d in self.weekend_days)
            if not days or any(not 0 <= d <= 6 for d in days) or len(set(days)) != len(days):
                raise ForecastError(f"weekend_days must be distinct days 0..6, got {days}")
            object.__setattr__(self, "weekend_days", days)
        nodes = _serial.frozen(self.nodes_s)
        width = SECONDS_PER_DAY / values.shape[1]
        edges = np.arange(values.shape[1]) * width
        if nodes.shape != (values.shape[1],) or np.any(
            ~((nodes >= edges) & (nodes <= edges + width))
        ):
            raise ForecastError("profile nodes_s must lie one in each time-of-day bin, in order")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "nodes_s", nodes)

    @property
    def n_bins(self) -> int:
        """Number of time-of-day bins."""
        return int(self.values.shape[1])

    @property
    def bin_width_s(self) -> float:
        """Width of one bin. [s]."""
        return SECONDS_PER_DAY / self.n_bins

    def evaluate(
        self, time_of_day_s: ArrayLike, day_of_week: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """Profile at given phases (linear between bin centres, circular across midnight).

        Parameters
        ----------
        time_of_day_s : array_like, shape (N,)
            Local time of day. [s]
        day_of_week : array_like of int, shape (N,), optional
            Day of week, 0 = Monday; required for weekday/weekend profiles. [-]

        Returns
        -------
        ndarray, shape (N,)
            Profile values. [signal units]
        """
        tod, dow = check_phases(time_of_day_s, day_of_week, None, "profile")
        return self._evaluate(tod, dow)

    def _evaluate(
        self, tod: NDArray[np.float64], dow: NDArray[np.int64] | None
    ) -> NDArray[np.float64]:
        rows = day_type_index(dow, tod.size, self.weekend_days)
        out = np.empty(tod.size)
        for r in range(self.values.shape[0]):
            sel = rows == r
            out[sel] = np.interp(tod[sel], self.nodes_s, self.values[r], period=SECONDS_PER_DAY)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return a plain dictionary (lists of numbers) for JSON or TOML storage."""
        out: dict[str, Any] = {**_serial.header(self.kind), "values": _serial.to_list(self.values)}
        out["nodes_s"] = _serial.to_list(self.nodes_s)
        out["weekend_days"] = None if self.weekend_days is None else list(self.weekend_days)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from :meth:`to_dict` output; raise ForecastError if malformed."""
        data = _serial.check_header(data, cls.kind)
        days = data.get("weekend_days")
        return cls(
            _serial.array(data, "values", cls.kind, 2),
            _serial.array(data, "nodes_s", cls.kind, 1),
            None if days is None else tuple(int(d) for d in days),
        )


def _bin_statistic(
    values: NDArray[np.float64], estimator: Literal["median", "trimmed_mean"], trim: float
) -> float:
    if estimator == "median":
        return float(np.median(values))
    return float(trim_mean(values, trim))


def fit_profile(
    values: ArrayLike,
    time_of_day_s: ArrayLike,
    day_of_week: ArrayLike | None = None,
    *,
    n_bins: int = 96,
    weekend_days: tuple[int, ...] | None = None,
    estimator: Literal["median", "trimmed_mean"] = "median",
    trim_fraction: float = 0.1,
    smoothing_bins: int = 5,
    min_samples_per_bin: int = 3,
) -> PeriodicProfile:
    """Estimate a daily profile from a history with gaps.

    Parameters
    ----------
    values : array_like, shape (N,)
        Signal history; NaN marks missing samples, which are ignored. [signal units]
    time_of_day_s : array_like, shape (N,)
        Local time of day of each sample. [s]
    day_of_week : array_like of int, shape (N,), optional
        Day of week (0 = Monday); required when ``weekend_days`` is given. [-]
    n_bins : int
        Time-of-day bins per day (96 gives 15-min bins).
    weekend_days : tuple of int, optional
        Days with their own profile (e.g. ``(5, 6)``); ``None``: one profile.
    estimator : {"median", "trimmed_mean"}
        Robust location estimate of each bin.
    trim_fraction : float
        Fraction cut from each end by the trimmed mean, in ``[0, 0.5)``.
    smoothing_bins : int
        Window of the circular Savitzky-Golay smoother (odd, >= 3), or 1 for none.
        [bins]
    min_samples_per_bin : int
        Bins with fewer finite samples are filled by circular interpolation
        from their neighbours.

    Returns
    -------
    PeriodicProfile

    Raises
    ------
    ForecastError
        For bad settings or phases, or when fewer than half of the bins of a
        day type have ``min_samples_per_bin`` samples (too little history).
    """
    y = np.asarray(values, dtype=np.float64)
    if y.ndim != 1:
        raise ForecastError(f"values must be 1-D, got shape {y.shape}")
    tod, dow = check_phases(time_of_day_s, day_of_week, y.size, "training")
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ForecastError(f"n_bins must be a positive integer, got {n_bins!r}")
    if estimator not in ("median", "trimmed_mean"):
        raise ForecastError(f"estimator must be 'median' or 'trimmed_mean', got {estimator!r}")
    if not 0.0 <= trim_fraction < 0.5:
        raise ForecastError(f"trim_fraction must be in [0, 0.5), got {trim_fraction}")
    if smoothing_bins != 1 and (smoothing_bins < 3 or smoothing_bins % 2 == 0):
        raise ForecastError(f"smoothing_bins must be 1 or an odd number >= 3, got {smoothing_bins}")
    if smoothing_bins > n_bins:
        raise ForecastError(f"smoothing_bins ({smoothing_bins}) exceeds n_bins ({n_bins})")
    if min_samples_per_bin < 1:
        raise ForecastError(f"min_samples_per_bin must be >= 1, got {min_samples_per_bin}")
    rows = day_type_index(dow, y.size, weekend_days)
    bins = np.minimum((tod * (n_bins / SECONDS_PER_DAY)).astype(np.intp), n_bins - 1)
    finite = np.isfinite(y)
    n_rows = 1 if weekend_days is None else 2
    table = np.full((n_rows, n_bins), np.nan)
    # Group samples by (row, bin) once; a per-bin loop over sorted slices is cheap.
    key = rows[finite] * n_bins + bins[finite]
    order = np.argsort(key, kind="stable")
    sorted_key, sorted_y = key[order], y[finite][order]
    bounds = np.searchsorted(sorted_key, np.arange(n_rows * n_bins + 1))
    counts = np.diff(bounds)
    for flat in np.flatnonzero(counts >= min_samples_per_bin):
        chunk = sorted_y[bounds[flat] : bounds[flat + 1]]
        table[flat // n_bins, flat % n_bins] = _bin_statistic(chunk, estimator, trim_fraction)
    names = ("every day",) if weekend_days is None else ("weekdays", "weekend days")
    centres = np.arange(n_bins)
    for r in range(n_rows):
        ok = np.isfinite(table[r])
        if ok.sum() < max(1, _MIN_POPULATED_FRACTION * n_bins):
            raise ForecastError(
                f"too little history for the {names[r]} profile: only {int(ok.sum())} of "
                f"{n_bins} time-of-day bins have at least {min_samples_per_bin} finite "
                f"samples (need at least half; give about {min_samples_per_bin} days of data)"
            )
        if not ok.all():
            table[r, ~ok] = np.interp(centres[~ok], centres[ok], table[r, ok], period=n_bins)
        if smoothing_bins >= 3:
            table[r] = savgol_filter(
                table[r], smoothing_bins, polyorder=min(2, smoothing_bins - 2), mode="wrap"
            )
    # Node of each bin: mean phase of its samples (all day types together).
    tod_finite = tod[finite]
    bins_finite = bins[finite]
    n_in_bin = np.bincount(bins_finite, minlength=n_bins)
    phase_sum = np.bincount(bins_finite, weights=tod_finite, minlength=n_bins)
    width = SECONDS_PER_DAY / n_bins
    nodes = np.where(
        n_in_bin > 0, phase_sum / np.maximum(n_in_bin, 1), (np.arange(n_bins) + 0.5) * width
    )
    return PeriodicProfile(table, nodes, weekend_days)
