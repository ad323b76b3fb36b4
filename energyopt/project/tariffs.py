"""The ``[tariffs]`` section and the vectorised time-of-use electricity price.

A time-of-use (TOU) tariff names *periods* (``valley``, ``flat``, ``peak``...)
with a price per kWh, and *schedules* that assign hour blocks of the local day
to periods.  Each schedule applies to some months and days of the week, so a
summer schedule with a critical-peak block or a weekend schedule is one more
table.  Every hour of every day must belong to exactly one period, and every
(month, weekday) to exactly one schedule; the validator names the offending
hours otherwise.

:class:`TimeOfUseTariff` evaluates the price for arrays of UTC millisecond
timestamps in the site's time zone (zoneinfo, so daylight-saving changes are
honoured) without a Python loop over samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal, Self, get_args
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import Field, model_validator

from energyopt.errors import DataError
from energyopt.project.base import (
    Issue,
    Number,
    SchemaModel,
    did_you_mean,
    fmt_number,
    issues_error,
)

__all__ = [
    "DAY_NAMES",
    "ElectricityTariff",
    "MediumPrice",
    "Tariffs",
    "TimeOfUseTariff",
    "TouSchedule",
]

#: Day names used in ``days = [...]``, Monday first (ISO order).
DayName = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAY_NAMES: tuple[DayName, ...] = get_args(DayName)

_MINUTES_PER_DAY = 1440
_MS_PER_MINUTE = 60_000
_MS_PER_HOUR = 3_600_000
_MS_PER_DAY = 86_400_000

Price = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0.0)]
Month = Annotated[int, Field(strict=True, ge=1, le=12)]
HourPair = Annotated[tuple[Number, Number], Field()]


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Return ``[start, end)`` minute runs where ``mask`` is true."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _fmt_months(months: list[int]) -> str:
    """Format month numbers compactly: ``1-6, 9``."""
    parts: list[str] = []
    start = prev = months[0]
    for m in [*months[1:], None]:
        if m is not None and m == prev + 1:
            prev = m
            continue
        parts.append(f"{start}-{prev}" if prev > start else f"{start}")
        if m is not None:
            start = prev = m
    return ", ".join(parts)


class TouSchedule(SchemaModel):
    """Hour blocks of the local day for some months and weekdays."""

    months: list[Month] = Field(
        default_factory=lambda: list(range(1, 13)),
        description="Months (1-12) the schedule applies to; default all",
    )
    days: list[DayName] = Field(
        default_factory=lambda: list(DAY_NAMES),
        description="Days of the week it applies to (mon ... sun); default all",
    )
    blocks: dict[str, list[HourPair]] = Field(
        description=(
            "Period name -> list of [start, end] local hours (0-24, minute resolution; "
            "end < start wraps past midnight)"
        ),
    )

    @model_validator(mode="after")
    def _check_blocks(self) -> Self:
        issues: list[Issue] = []
        owner = np.full(_MINUTES_PER_DAY, -1, dtype=np.int64)
        count = np.zeros(_MINUTES_PER_DAY, dtype=np.int64)
        names = list(self.blocks)
        for k, (period, pairs) in enumerate(self.blocks.items()):
            for i, (start_h, end_h) in enumerate(pairs):
                path = ("blocks", period, i)
                bad = [h for h in (start_h, end_h) if not 0.0 <= h <= 24.0]
                if bad:
                    issues.append((path, f"hours must be within 0-24, got {fmt_number(bad[0])}"))
                    continue
                start, end = round(start_h * 60), round(end_h * 60)
                if not (
                    math.isclose(start, start_h * 60, abs_tol=1e-6)
                    and math.isclose(end, end_h * 60, abs_tol=1e-6)
                ):
                    issues.append((path, "hours must be whole minutes (11.5 is 11:30)"))
                    continue
                if start == end:
                    issues.append(
                        (path, (f"empty block [{fmt_number(start_h)}, {fmt_number(end_h)}]"))
                    )
                    continue
                minutes = (
                    np.arange(start, end)
                    if start < end
                    else np.r_[np.arange(start, _MINUTES_PER_DAY), np.arange(0, end)]
                )
                count[minutes] += 1
                owner[minutes] = k
        if issues:
            raise issues_error(issues)
        for a, b in _runs(count == 0):
            issues.append((("blocks",), f"hours {_hhmm(a)}-{_hhmm(b)} are not covered"))
        for a, b in _runs(count > 1):
            in_run = {
                names[k]
                for k, pairs in enumerate(self.blocks.values())
                for s, e in pairs
                if _overlaps(s, e, a, b)
            }
            issues.append(
                (
                    ("blocks",),
                    (
                        f"hours {_hhmm(a)}-{_hhmm(b)} are in more than one block "
                        f"({', '.join(sorted(in_run))})"
                    ),
                )
            )
        if issues:
            raise issues_error(issues)
        return self


def _overlaps(start_h: float, end_h: float, a: int, b: int) -> bool:
    """Whether the block [start_h, end_h) (hours, may wrap) meets minutes [a, b)."""
    s, e = round(start_h * 60), round(end_h * 60)
    spans = [(s, e)] if s < e else [(s, _MINUTES_PER_DAY), (0, e)]
    return any(lo < b and a < hi for lo, hi in spans)


class ElectricityTariff(SchemaModel):
    """Time-of-use purchase price of grid electricity."""

    periods: dict[str, Price] = Field(
        description="Period name -> purchase price [currency/kWh]",
    )
    schedules: dict[str, TouSchedule] = Field(
        description="Schedule name -> hour blocks; each (month, weekday) in exactly one",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        issues: list[Issue] = []
        if not self.periods:
            issues.append((("periods",), "at least one period is required"))
        for name, schedule in self.schedules.items():
            issues.extend(
                (
                    ("schedules", name, "blocks", period),
                    (
                        f"unknown period '{period}'{did_you_mean(period, self.periods)}; "
                        f"known: {', '.join(self.periods)}"
                    ),
                )
                for period in schedule.blocks
                if period not in self.periods
            )
        owners: dict[tuple[int, int], list[str]] = {}
        for name, schedule in self.schedules.items():
            for month in set(schedule.months):
                for day in set(schedule.days):
                    owners.setdefault((month, DAY_NAMES.index(day)), []).append(name)
        for d, day_name in enumerate(DAY_NAMES):
            missing = [m for m in range(1, 13) if (m, d) not in owners]
            if missing:
                issues.append(
                    (
                        ("schedules",),
                        f"no schedule for {day_name} in months {_fmt_months(missing)}",
                    )
                )
            clashes: dict[tuple[str, ...], list[int]] = {}
            for m in range(1, 13):
                names = owners.get((m, d), [])
                if len(names) > 1:
                    clashes.setdefault(tuple(names), []).append(m)
            issues.extend(
                (
                    ("schedules",),
                    (
                        f"schedules {', '.join(repr(n) for n in names)} all apply to {day_name} "
                        f"in months {_fmt_months(months)}"
                    ),
                )
                for names, months in clashes.items()
            )
        if issues:
            raise issues_error(issues)
        return self


class MediumPrice(SchemaModel):
    """Price of a medium bought or sold at a network node; give exactly one key."""

    price_per_m3: Price | None = Field(
        None, description="Per normal cubic metre (gases) or cubic metre (water) [currency/m3]"
    )
    price_per_gj: Price | None = Field(
        None,
        description="Per GJ of lower heating value (fuel gas) or enthalpy (steam) [currency/GJ]",
    )
    price_per_t: Price | None = Field(None, description="Per tonne (steam, water) [currency/t]")
    price_per_kwh: Price | None = Field(None, description="Per kWh (electricity) [currency/kWh]")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [k for k, v in self.model_dump().items() if v is not None]
        if len(given) != 1:
            got = ", ".join(given) if given else "none"
            raise issues_error(
                [((), f"give exactly one of {', '.join(type(self).model_fields)}; got {got}")]
            )
        return self

    @property
    def basis(self) -> str:
        """The priced key, for example ``"price_per_gj"``."""
        return next(k for k, v in self.model_dump().items() if v is not None)

    @property
    def price(self) -> float:
        """The price on :attr:`basis` [currency per basis unit]."""
        return float(getattr(self, self.basis))


class Tariffs(SchemaModel):
    """Energy prices and penalties, in the project's currency."""

    electricity: ElectricityTariff | None = Field(
        None, description="Time-of-use grid purchase tariff"
    )
    export_price_per_kwh: Price = Field(
        0.0, description="Price received for electricity exported to the grid [currency/kWh]"
    )
    demand_charge_per_kw_month: Price = Field(
        0.0, description="Capacity (maximum-demand) charge [currency/(kW month)]"
    )
    flare_penalty_per_m3: Price = Field(
        0.0, description="Penalty per normal cubic metre of gas flared [currency/m3]"
    )
    co2_price_per_t: Price = Field(0.0, description="Price of emitted CO2 [currency/t]")
    prices: dict[str, MediumPrice] = Field(
        default_factory=dict,
        description="Network node name -> purchase price of the medium bought there",
    )
    sales: dict[str, MediumPrice] = Field(
        default_factory=dict,
        description="Network node name -> value of the medium (product) delivered there",
    )


# ---------------------------------------------------------------- evaluation


@dataclass(frozen=True, eq=False)
class TimeOfUseTariff:
    """A compiled time-of-use tariff evaluated for arrays of timestamps.

    Build it with :meth:`from_schema` (``Project.tou_tariff`` does that with the
    site time zone).

    Attributes
    ----------
    timezone : str
        IANA time zone of the site, in which the hour blocks are read.
    period_names : tuple of str
        Period names, indexing :attr:`period_prices`.
    period_prices : numpy.ndarray
        Price of each period. [currency/kWh]
    schedule_index : numpy.ndarray
        Shape (12, 7): schedule applying in month ``m`` (0 = January) on weekday
        ``d`` (0 = Monday).
    period_of_minute : numpy.ndarray
        Shape (n_schedules, 1440): period index for each minute of the local day.
    """

    timezone: str
    period_names: tuple[str, ...]
    period_prices: NDArray[np.float64]
    schedule_index: NDArray[np.int64]
    period_of_minute: NDArray[np.int64]

    @classmethod
    def from_schema(cls, tariff: ElectricityTariff, timezone: str) -> TimeOfUseTariff:
        """Compile a validated :class:`ElectricityTariff` for the site time zone.

        Parameters
        ----------
        tariff : ElectricityTariff
            The validated ``[tariffs.electricity]`` section.
        timezone : str
            IANA time-zone name of the site (``"Asia/Shanghai"``).
        """
        ZoneInfo(timezone)  # fail early on an unknown zone
        names = tuple(tariff.periods)
        prices = np.array([tariff.periods[n] for n in names], dtype=np.float64)
        schedule_index = np.full((12, 7), -1, dtype=np.int64)
        minutes = np.full((len(tariff.schedules), _MINUTES_PER_DAY), -1, dtype=np.int64)
        for s, schedule in enumerate(tariff.schedules.values()):
            for month in schedule.months:
                for day in schedule.days:
                    schedule_index[month - 1, DAY_NAMES.index(day)] = s
            for period, pairs in schedule.blocks.items():
                for start_h, end_h in pairs:
                    start, end = round(start_h * 60), round(end_h * 60)
                    span = (
                        np.arange(start, end)
                        if start < end
                        else np.r_[np.arange(start, _MINUTES_PER_DAY), np.arange(0, end)]
                    )
                    minutes[s, span] = names.index(period)
        if (schedule_index < 0).any() or (minutes < 0).any():
            # ElectricityTariff's validator guarantees full coverage.
            raise DataError("time-of-use tariff does not cover every hour; validate it first")
        return cls(timezone, names, prices, schedule_index, minutes)

    def period_at(self, time_ms: ArrayLike) -> NDArray[np.int64]:
        """Return the index into :attr:`period_names` at each timestamp.

        Parameters
        ----------
        time_ms : array_like of int
            Timestamps, milliseconds since 1970-01-01T00:00:00Z. [ms]

        Returns
        -------
        numpy.ndarray of int64
            Period index, same shape as ``time_ms``.
        """
        t = _as_time_ms(time_ms)
        flat = t.reshape(-1)
        local_ms = flat + _utc_offsets_ms(flat, ZoneInfo(self.timezone))
        day = np.floor_divide(local_ms, _MS_PER_DAY)
        minute = (local_ms - day * _MS_PER_DAY) // _MS_PER_MINUTE
        schedule = self._schedule_of_day(day)
        period = self.period_of_minute.reshape(-1)[schedule * _MINUTES_PER_DAY + minute]
        return period.reshape(t.shape)

    def _schedule_of_day(self, day: NDArray[np.int64]) -> NDArray[np.int64]:
        """Schedule index for local day numbers (days since 1970-01-01)."""
        if day.size == 0:
            return day
        first, last = int(day.min()), int(day.max())
        # Month and weekday are computed once per calendar day of the span, not
        # per sample (a year at 1 s is 31.5 M samples but 365 days).
        days = (
            np.arange(first, last + 1, dtype=np.int64)
            if last - first < 1_000_000
            else np.unique(day)
        )
        month = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
        per_day = self.schedule_index[month, weekday]
        index = day - first if last - first < 1_000_000 else np.searchsorted(days, day)
        return per_day[index]

    def price_at(self, time_ms: ArrayLike) -> NDArray[np.float64]:
        """Return the purchase price of electricity at each timestamp.

        Parameters
        ----------
        time_ms : array_like of int
            Timestamps, milliseconds since 1970-01-01T00:00:00Z. [ms]

        Returns
        -------
        numpy.ndarray of float64
            Price, same shape as ``time_ms``. [currency/kWh]
        """
        return self.period_prices[self.period_at(time_ms)]


def _as_time_ms(time_ms: ArrayLike) -> NDArray[np.int64]:
    t = np.asarray(time_ms)
    if t.dtype.kind == "f":
        if not np.isfinite(t).all():
            raise DataError("timestamps must be finite milliseconds since 1970-01-01 UTC")
        return np.floor(t).astype(np.int64)
    if t.dtype.kind not in "iu":
        raise DataError(f"timestamps must be integer milliseconds, got dtype {t.dtype}")
    return t.astype(np.int64, copy=False)


def _offset_ms(zone: ZoneInfo, utc_ms: int) -> int:
    instant = datetime.fromtimestamp(utc_ms / 1000.0, tz=UTC)
    offset = instant.astimezone(zone).utcoffset()
    return 0 if offset is None else int(offset.total_seconds() * 1000)


def _utc_offsets_ms(t: NDArray[np.int64], zone: ZoneInfo) -> NDArray[np.int64]:
    """UTC offset of ``zone`` at each UTC timestamp [ms].

    zoneinfo answers one instant at a time, so calling it per sample would be a
    Python loop over millions of samples.  Offsets only change at transitions,
    so we ask zoneinfo at the start and end of each UTC hour spanned by the
    data, and per sample only inside an hour whose two offsets differ (one
    that contains a transition not on a whole UTC hour).
    """
    if t.size == 0:
        return np.zeros(t.shape, dtype=np.int64)
    hours = np.floor_divide(t, _MS_PER_HOUR)
    first, last = int(hours.min()), int(hours.max())
    grid = (
        np.arange(first, last + 1, dtype=np.int64)
        if last - first < 1_000_000  # about 114 years of hours
        else np.unique(hours)
    )
    start_offsets = np.array([_offset_ms(zone, int(h) * _MS_PER_HOUR) for h in grid])
    end_offsets = np.array([_offset_ms(zone, (int(h) + 1) * _MS_PER_HOUR - 1) for h in grid])
    pos = hours - first if last - first < 1_000_000 else np.searchsorted(grid, hours)
    offsets = start_offsets[pos].astype(np.int64)
    changing = (start_offsets != end_offsets)[pos]
    if changing.any():
        flat = offsets.reshape(-1)
        flat_t = t.reshape(-1)
        for i in np.flatnonzero(changing.ravel()):
            flat[i] = _offset_ms(zone, int(flat_t[i]))
        offsets = flat.reshape(t.shape)
    return offsets
