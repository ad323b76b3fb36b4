"""Time-of-use tariffs: block coverage, schedules, and vectorised prices across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from energyopt.errors import DataError, ProjectError
from energyopt.project import ElectricityTariff, TimeOfUseTariff, load_project
from energyopt.project.tariffs import DAY_NAMES

# HT/NT tariff: high tariff 06:00-22:00 on weekdays, low tariff otherwise.
HT_NT = {
    "periods": {"nt": 0.13, "ht": 0.19},
    "schedules": {
        "weekdays": {
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "blocks": {"nt": [[22, 6]], "ht": [[6, 22]]},
        },
        "weekends": {"days": ["sat", "sun"], "blocks": {"nt": [[0, 24]]}},
    },
}


def ms(*args: int) -> int:
    """UTC wall-clock time -> milliseconds since the epoch."""
    return round(datetime(*args, tzinfo=UTC).timestamp() * 1000)


def compile_tariff(spec: dict, timezone: str) -> TimeOfUseTariff:
    return TimeOfUseTariff.from_schema(ElectricityTariff.model_validate(spec), timezone)


def problems_of(path) -> list[str]:
    with pytest.raises(ProjectError) as exc:
        load_project(path)
    return [line.removeprefix(f"{path}: ") for line in str(exc.value).splitlines()]


def test_price_at_across_berlin_dst_changes():
    tariff = compile_tariff(HT_NT, "Europe/Berlin")
    # EU summer time (Directive 2000/84/EC) starts on the last Sunday of March and
    # ends on the last Sunday of October at 01:00 UTC: in 2024 on 31 March and
    # 27 October.  Local time is UTC+1 before and after, UTC+2 in between.
    # Expected local times and periods worked out by hand:
    cases = [
        (ms(2024, 3, 29, 4, 30), 0.13),  # Fri 05:30 CET: before 06:00 -> nt
        (ms(2024, 3, 29, 5, 30), 0.19),  # Fri 06:30 CET -> ht
        (ms(2024, 3, 30, 12, 0), 0.13),  # Sat 13:00 CET: weekend -> nt
        (ms(2024, 3, 31, 0, 59), 0.13),  # Sun 01:59 CET, last minute before the change
        (ms(2024, 4, 2, 4, 30), 0.19),  # Tue 06:30 CEST (05:30 if DST were ignored) -> ht
        (ms(2024, 4, 2, 20, 30), 0.13),  # Tue 22:30 CEST (21:30 without DST) -> nt
        (ms(2024, 10, 25, 4, 30), 0.19),  # Fri 06:30 CEST -> ht
        (ms(2024, 10, 28, 4, 30), 0.13),  # Mon 05:30 CET again -> nt
        (ms(2024, 10, 28, 5, 30), 0.19),  # Mon 06:30 CET -> ht
        (ms(2024, 10, 28, 20, 59), 0.19),  # Mon 21:59 CET -> ht
        (ms(2024, 10, 28, 21, 0), 0.13),  # Mon 22:00 CET -> nt
    ]
    times = np.array([t for t, _ in cases], dtype=np.int64)
    expected = np.array([p for _, p in cases])
    # Prices are copied, not computed: exact equality.
    assert_array_equal(tariff.price_at(times), expected)
    assert_array_equal(tariff.period_at(times[:2]), [0, 1])


def reference_prices(spec: dict, timezone: str, times_ms: np.ndarray) -> np.ndarray:
    """Per-sample reference: zoneinfo wall clock, then a linear search of the blocks."""
    zone = ZoneInfo(timezone)
    out = []
    for t in times_ms:
        local = datetime.fromtimestamp(int(t) / 1000, tz=UTC).astimezone(zone)
        minute = local.hour * 60 + local.minute
        day = DAY_NAMES[local.weekday()]
        (schedule,) = [
            s
            for s in spec["schedules"].values()
            if local.month in s.get("months", range(1, 13)) and day in s.get("days", DAY_NAMES)
        ]
        hits = []
        for period, pairs in schedule["blocks"].items():
            for start_h, end_h in pairs:
                start, end = round(start_h * 60), round(end_h * 60)
                inside = start <= minute < end if start < end else minute >= start or minute < end
                if inside:
                    hits.append(period)
        (period,) = hits
        out.append(spec["periods"][period])
    return np.array(out)


def test_price_at_matches_per_sample_reference_over_a_year():
    # Every 7 minutes of 2024 in Berlin (75,000 samples) crosses both DST changes
    # and every block edge at many offsets within the hour.
    times = np.arange(ms(2024, 1, 1), ms(2025, 1, 1), 7 * 60_000, dtype=np.int64)
    got = compile_tariff(HT_NT, "Europe/Berlin").price_at(times)
    assert_array_equal(got, reference_prices(HT_NT, "Europe/Berlin", times))


def test_price_at_with_transition_off_the_hour():
    # Lord Howe Island starts DST by moving 30 minutes at 02:00 local standard
    # time (+10:30), i.e. 15:30 UTC: a transition inside a UTC hour, the case
    # the per-hour offset grid must refine sample by sample.  Blocks at half
    # hours make the 30-minute shift visible.
    zone = ZoneInfo("Australia/Lord_Howe")
    before = datetime(2024, 10, 5, 15, 29, tzinfo=UTC).astimezone(zone).utcoffset()
    after = datetime(2024, 10, 5, 15, 30, tzinfo=UTC).astimezone(zone).utcoffset()
    assert (before, after) == (timedelta(hours=10.5), timedelta(hours=11))
    spec = {
        "periods": {"a": 1.0, "b": 2.0},
        "schedules": {"all": {"blocks": {"a": [[2.5, 3], [4, 5]], "b": [[3, 4], [5, 2.5]]}}},
    }
    start = ms(2024, 10, 4, 12, 0)
    times = np.arange(start, start + 3 * 86_400_000, 60_000, dtype=np.int64)
    got = compile_tariff(spec, "Australia/Lord_Howe").price_at(times)
    assert_array_equal(got, reference_prices(spec, "Australia/Lord_Howe", times))


def test_price_at_shapes_and_types():
    tariff = compile_tariff(HT_NT, "UTC")
    t0 = ms(2024, 1, 1, 12, 0)  # Monday noon UTC -> ht
    assert tariff.price_at(np.array([], dtype=np.int64)).shape == (0,)
    grid = np.full((2, 3), t0, dtype=np.int64)
    assert_array_equal(tariff.price_at(grid), np.full((2, 3), 0.19))
    assert_array_equal(tariff.price_at([float(t0)]), [0.19])
    assert_array_equal(tariff.price_at(np.array([t0], dtype=np.uint64)), [0.19])
    with pytest.raises(DataError, match="timestamps must be finite"):
        tariff.price_at([np.nan])
    with pytest.raises(DataError, match="timestamps must be integer milliseconds"):
        tariff.price_at(np.array(["2024-01-01"]))


def test_steelworks_demo_tariff_in_shanghai():
    path = Path(str(resources.files("energyopt.demos") / "steelworks.toml"))
    tariff = load_project(path).tou_tariff
    # Asia/Shanghai is UTC+8 all year (no DST): local = UTC + 8 h.
    cases = [
        (ms(2024, 1, 14, 23, 59), 0.30),  # Mon 07:59 -> valley
        (ms(2024, 1, 15, 0, 0), 1.10),  # Mon 08:00 -> peak
        (ms(2024, 1, 15, 2, 30), 1.10),  # Mon 10:30 in January -> peak
        (ms(2024, 7, 15, 2, 30), 1.32),  # Mon 10:30 in July -> critical peak
        (ms(2024, 7, 15, 6, 30), 1.32),  # Mon 14:30 in July -> critical peak
        (ms(2024, 1, 15, 6, 30), 0.65),  # Mon 14:30 in January -> flat
        (ms(2024, 1, 15, 13, 0), 0.65),  # 21:00 -> flat
        (ms(2024, 1, 20, 10, 0), 1.10),  # Sat 18:00: same schedule every day -> peak
    ]
    times = np.array([t for t, _ in cases], dtype=np.int64)
    assert_array_equal(tariff.price_at(times), [p for _, p in cases])


def test_mean_daily_price_of_demo_tariff():
    tariff = load_project(
        Path(str(resources.files("energyopt.demos") / "steelworks.toml"))
    ).tou_tariff
    # January day: 8 h valley, 8 h peak, 8 h flat -> (8*0.30 + 8*1.10 + 8*0.65)/24.
    day = np.arange(ms(2024, 1, 15, 16, 0), ms(2024, 1, 16, 16, 0), 60_000, dtype=np.int64)
    # Exact prices averaged over 1440 minutes: only summation rounding.
    assert_allclose(tariff.price_at(day).mean(), (8 * 0.30 + 8 * 1.10 + 8 * 0.65) / 24, rtol=1e-12)


def test_gap_and_overlap_name_the_hours(doc, write_project):
    doc["tariffs"]["electricity"]["schedules"]["weekdays"]["blocks"] = {
        "nt": [[22, 6]],
        "ht": [[6, 12], [11.5, 17]],
    }
    assert problems_of(write_project(doc)) == [
        "tariffs.electricity.schedules.weekdays.blocks: hours 17:00-22:00 are not covered",
        (
            "tariffs.electricity.schedules.weekdays.blocks: hours 11:30-12:00 are in more than one "
            "block (ht)"
        ),
    ]


def test_block_values_checked(doc, write_project):
    doc["tariffs"]["electricity"]["schedules"]["weekdays"]["blocks"] = {
        "nt": [[22, 6], [6, 6]],
        "ht": [[6, 25], [6.01, 22]],
    }
    assert problems_of(write_project(doc)) == [
        "tariffs.electricity.schedules.weekdays.blocks.nt[1]: empty block [6, 6]",
        "tariffs.electricity.schedules.weekdays.blocks.ht[0]: hours must be within 0-24, got 25",
        (
            "tariffs.electricity.schedules.weekdays.blocks.ht[1]: hours must be whole minutes "
            "(11.5 is 11:30)"
        ),
    ]


def test_unknown_period(doc, write_project):
    doc["tariffs"]["electricity"]["schedules"]["weekends"]["blocks"] = {"n": [[0, 24]]}
    assert problems_of(write_project(doc)) == [
        (
            "tariffs.electricity.schedules.weekends.blocks.n: unknown period 'n' (did you mean "
            "'nt'?); known: nt, ht"
        ),
    ]


def test_schedules_must_cover_every_day_once(doc, write_project):
    schedules = doc["tariffs"]["electricity"]["schedules"]
    schedules["weekends"]["days"] = ["sat"]
    schedules["summer"] = {"months": [7, 8], "days": ["mon"], "blocks": {"ht": [[0, 24]]}}
    assert problems_of(write_project(doc)) == [
        (
            "tariffs.electricity.schedules: schedules 'weekdays', 'summer' all apply to mon in "
            "months 7-8"
        ),
        "tariffs.electricity.schedules: no schedule for sun in months 1-12",
    ]


def test_tou_tariff_requires_electricity_section(doc, write_project):
    del doc["tariffs"]["electricity"]
    project = load_project(write_project(doc))
    with pytest.raises(ProjectError, match=r"no \[tariffs.electricity\] time-of-use tariff"):
        _ = project.tou_tariff


@pytest.mark.parametrize("years", [(1900, 2100), (1000, 3800)])
def test_far_apart_times_use_the_sparse_path(years):
    # More than 10^6 hours (and, for the second case, 10^6 days) apart: the
    # hour and day tables are built from the unique values instead of a range.
    tariff = compile_tariff(HT_NT, "Europe/Berlin")
    times = np.array(
        [ms(years[0], 1, 1, 12), ms(years[0], 1, 4, 12), ms(years[1], 1, 4, 12)], dtype=np.int64
    )
    assert_array_equal(tariff.price_at(times), reference_prices(HT_NT, "Europe/Berlin", times))


def test_dst_changes_are_really_in_the_reference():
    # Guard for the reference: the test year has two offset changes in Berlin.
    zone = ZoneInfo("Europe/Berlin")
    offsets = {
        (datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=d)).astimezone(zone).utcoffset()
        for d in range(366)
    }
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}
