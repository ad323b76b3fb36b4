"""Recorded disturbance signals of a project in SI, their interval means and local phases.

The forecasts of the economic MPC start from the historian: the tags of the
``disturbance`` bindings (gas made and used, steam and power demands) and of
every binding on a plant disturbance (a heating-value calorimeter), read and
cleaned by the one rule of :mod:`energyopt.tagdata`, converted to the model's
SI units by the binding map.  :class:`DisturbanceRecord` holds them;
:func:`bin_means` averages them over the control intervals (epoch-aligned,
gaps left as NaN); :func:`local_phases` gives the local time of day and day of
week the daily profiles are indexed by.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from energyopt.errors import DataError

if TYPE_CHECKING:
    from energyopt.data.format import TimeLike
    from energyopt.data.reader import HistorianReader
    from energyopt.plantbuild import BuiltPlant

__all__ = [
    "DisturbanceRecord",
    "bin_means",
    "forecast_bindings",
    "local_phases",
    "read_disturbance_record",
]

_MS_PER_HOUR = 3_600_000
_MS_PER_DAY = 86_400_000
#: An interval mean needs at least this share of the interval's samples. [-]
MIN_COVERAGE = 0.5


@dataclass(frozen=True)
class DisturbanceRecord:
    """Recorded signals of the disturbance bindings, in the model's SI units.

    Attributes
    ----------
    time_ms : numpy.ndarray
        Sample times, int64, strictly increasing, shape ``(N,)``. [ms since epoch]
    values : mapping of str to numpy.ndarray
        Binding name -> samples, shape ``(N,)``, NaN where unusable. [SI]
    """

    time_ms: npt.NDArray[np.int64]
    values: Mapping[str, npt.NDArray[np.float64]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        t = np.asarray(self.time_ms, dtype=np.int64)
        if t.ndim != 1 or t.size < 1:
            raise DataError(f"disturbance record: time_ms must be 1-D and non-empty, got {t.shape}")
        if t.size > 1 and not np.all(np.diff(t) > 0):
            raise DataError("disturbance record: time_ms must be strictly increasing")
        values = {}
        for name, v in self.values.items():
            arr = np.asarray(v, dtype=np.float64)
            if arr.shape != t.shape:
                raise DataError(
                    f"disturbance record: binding {name} has shape {arr.shape}, time {t.shape}"
                )
            values[name] = arr
        object.__setattr__(self, "time_ms", t)
        object.__setattr__(self, "values", values)

    @property
    def step_ms(self) -> int:
        """Median sample spacing (one interval for a single sample). [ms]."""
        return int(np.median(np.diff(self.time_ms))) if self.time_ms.size > 1 else 0


def forecast_bindings(built: BuiltPlant) -> tuple[str, ...]:
    """Names of the bindings an economic forecast reads.

    Every ``disturbance`` binding, every binding on a plant disturbance
    (vector ``d``, such as a node's heating value), and every binding on a
    plant state (a header pressure, the mixed-gas heating value: the operating
    point at which disturbances are read back from their tags).
    """
    states = {v.name for v in built.model.states}
    return tuple(
        e.binding
        for e in built.bindings.entries
        if e.role == "disturbance" or e.vector == "d" or e.name in states
    )


def read_disturbance_record(
    built: BuiltPlant,
    reader: HistorianReader,
    window: tuple[TimeLike | None, TimeLike | None],
    step_ms: int,
) -> DisturbanceRecord:
    """Read the forecast bindings' tags, cleaned by their data-quality policy, in SI.

    Parameters
    ----------
    built : BuiltPlant
        The project's plant (bindings and their unit conversions).
    reader : HistorianReader
        Open historian file.
    window : (start, end)
        Time window; ``None`` for the file's start or end.
    step_ms : int
        Grid step of the read (the control interval reads interval means
        directly). [ms]

    Returns
    -------
    DisturbanceRecord

    Raises
    ------
    DataQualityError
        If a tag has no usable sample in the window.
    """
    from energyopt.tagdata import read_clean_tags

    names = forecast_bindings(built)
    tags = {built.bindings[n].tag: n for n in names}
    clean = read_clean_tags(
        built.project,
        reader,
        list(tags),
        window,
        step_ms,
        owner="controller.forecast",
        describe=lambda tag: f"bindings.{tags[tag]} (tag '{tag}')",
    )
    values = {tags[tag]: built.bindings[tags[tag]].to_model(v) for tag, v in clean.values.items()}
    return DisturbanceRecord(clean.time_ms, values)


def bin_means(
    time_ms: npt.ArrayLike, values: npt.ArrayLike, interval_ms: int, first: int, count: int
) -> npt.NDArray[np.float64]:
    """Average samples over epoch-aligned intervals ``[k T, (k + 1) T)``, NaN-aware.

    Parameters
    ----------
    time_ms : array_like
        Sample times, shape ``(N,)``; each sample counts for the interval it
        falls in. [ms since epoch]
    values : array_like
        Samples, shape ``(N,)`` or ``(N, m)``; NaN are skipped. [SI]
    interval_ms : int
        Interval ``T``. [ms]
    first : int
        Index ``k`` of the first interval returned (``time // T``).
    count : int
        Number of intervals returned.

    Returns
    -------
    numpy.ndarray
        Means, shape ``(count,)`` or ``(count, m)``; NaN where fewer than
        :data:`MIN_COVERAGE` of the interval's expected samples are finite. [SI]
    """
    t = np.asarray(time_ms, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    flat = v.reshape(t.size, -1)
    k = t // interval_ms - first
    inside = (k >= 0) & (k < count)
    step = float(np.median(np.diff(t))) if t.size > 1 else float(interval_ms)
    expected = max(1.0, interval_ms / step)
    out = np.full((count, flat.shape[1]), np.nan)
    for j in range(flat.shape[1]):
        col = flat[inside, j]
        good = np.isfinite(col)
        idx = k[inside][good]
        total = np.bincount(idx, weights=col[good], minlength=count)
        n = np.bincount(idx, minlength=count)
        ok = n >= MIN_COVERAGE * expected
        out[ok, j] = total[ok] / n[ok]
    return out.reshape((count, *v.shape[1:]))


def local_phases(
    time_ms: npt.ArrayLike, timezone: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Local time of day and day of week (0 = Monday) of UTC timestamps.

    Parameters
    ----------
    time_ms : array_like of int
        Timestamps. [ms since epoch]
    timezone : str
        IANA time zone of the site.

    Returns
    -------
    time_of_day_s : numpy.ndarray
        In ``[0, 86400)``. [s]
    day_of_week : numpy.ndarray of int64
        0 (Monday) .. 6 (Sunday).
    """
    t = np.asarray(time_ms, dtype=np.int64)
    zone = ZoneInfo(timezone)
    # zoneinfo answers one instant at a time: ask once per UTC hour spanned
    # (offsets change on whole UTC hours in every zone in use), not per sample.
    hours, inverse = np.unique(t // _MS_PER_HOUR, return_inverse=True)
    offsets = np.array(
        [
            (
                datetime.fromtimestamp(int(h) * 3600, tz=UTC).astimezone(zone).utcoffset()
            ).total_seconds()  # type: ignore[union-attr]
            * 1000.0
            for h in hours
        ],
        dtype=np.int64,
    )
    local = t + offsets[inverse.reshape(t.shape)]
    day = np.floor_divide(local, _MS_PER_DAY)
    tod = (local - day * _MS_PER_DAY) / 1000.0
    dow = (day + 3) % 7  # 1970-01-01 was a Thursday
    return tod.astype(np.float64), dow.astype(np.int64)
