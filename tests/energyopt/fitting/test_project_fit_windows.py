"""Training and hold-out windows of ``energyopt fit``: RANGE parsing, defaults and refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from energyopt.data.reader import HistorianReader
from energyopt.data.writer import write_historian
from energyopt.errors import DataError
from energyopt.fitting import HOLDOUT_FRACTION, parse_time_range, resolve_windows

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: 2026-01-05T00:00:00+08:00, one sample a minute for 1000 minutes.
T0_MS = 1_767_542_400_000
STEP_MS = 60_000
N = 1000


def _ms(*args: int, tz: dt.tzinfo = SHANGHAI) -> int:
    """Epoch ms of a wall-clock time, computed with the standard library only."""
    return int(dt.datetime(*args, tzinfo=tz).timestamp() * 1000)


@pytest.fixture(scope="module")
def historian(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("windows") / "h.h5"
    time_ms = T0_MS + STEP_MS * np.arange(N, dtype=np.int64)
    write_historian(
        path, time_ms, {"X": np.zeros(N)}, {"X": "MW"}, plant="p", timezone="Asia/Shanghai"
    )
    return path


def test_t0_is_midnight_in_shanghai():
    assert _ms(2026, 1, 5) == T0_MS


def test_parse_naive_times_in_the_project_zone():
    start, end = parse_time_range("2026-01-05T06:00..2026-01-06", "Asia/Shanghai")
    assert start == _ms(2026, 1, 5, 6)
    assert end == _ms(2026, 1, 6)


def test_parse_explicit_offset_wins_over_the_zone():
    start, end = parse_time_range("2026-01-05T00:00Z..2026-01-05 12:30+01:00", "Asia/Shanghai")
    assert start == _ms(2026, 1, 5, tz=dt.UTC)
    assert end == _ms(2026, 1, 5, 11, 30, tz=dt.UTC)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2026-01-05", "expected START..END"),
        ("2026-01-05..", "expected START..END"),
        ("..2026-01-05", "expected START..END"),
        ("2026-01-05..2026-01-06..2026-01-07", "expected START..END"),
        ("yesterday..2026-01-06", "cannot read time 'yesterday'"),
        ("2026-01-06..2026-01-05", "is not after the start"),
        ("2026-01-05..2026-01-05", "is not after the start"),
    ],
)
def test_parse_rejects(text, fragment):
    with pytest.raises(DataError, match=fragment):
        parse_time_range(text, "UTC")


def test_default_holds_out_the_end_of_the_file(historian):
    with HistorianReader(historian) as reader:
        windows = resolve_windows(reader)
    end = T0_MS + N * STEP_MS  # one sample after the last: the file's whole span
    cut = T0_MS + round((1 - HOLDOUT_FRACTION) * N) * STEP_MS
    assert windows.train == (T0_MS, cut)
    assert windows.validate == (cut, end)
    assert windows.default_split


def test_default_split_of_a_given_training_window(historian):
    with HistorianReader(historian) as reader:
        windows = resolve_windows(reader, "2026-01-05T01:00..2026-01-05T11:00")
    # 600 minutes: the last 120 are held out.
    assert windows.train == (_ms(2026, 1, 5, 1), _ms(2026, 1, 5, 9))
    assert windows.validate == (_ms(2026, 1, 5, 9), _ms(2026, 1, 5, 11))


def test_validate_only_trains_on_the_longer_side(historian):
    with HistorianReader(historian) as reader:
        early = resolve_windows(reader, validate="2026-01-05T02:00..2026-01-05T04:00")
        late = resolve_windows(reader, validate=(dt.datetime(2026, 1, 5, 13), None))
    assert early.train == (_ms(2026, 1, 5, 4), T0_MS + N * STEP_MS)
    assert early.validate == (_ms(2026, 1, 5, 2), _ms(2026, 1, 5, 4))
    assert not early.default_split
    assert late.train == (T0_MS, _ms(2026, 1, 5, 13))


def test_explicit_windows_in_another_zone(historian):
    with HistorianReader(historian) as reader:
        windows = resolve_windows(
            reader,
            "2026-01-04T16:00..2026-01-05T00:00",
            "2026-01-05T00:00..2026-01-05T02:00",
            timezone="UTC",
        )
    assert windows.train == (T0_MS, _ms(2026, 1, 5, 8))


@pytest.mark.parametrize(
    ("train", "validate", "fragment"),
    [
        ("2026-01-04..2026-01-05T10:00", None, "training window .* is outside the file"),
        (None, "2026-01-05T10:00..2026-01-07", "hold-out window .* is outside the file"),
        (
            "2026-01-05T00:00..2026-01-05T10:00",
            "2026-01-05T09:00..2026-01-05T12:00",
            "overlap",
        ),
        (None, (None, None), "covers the whole file"),
        (("2026-01-05T03:00", "2026-01-05T03:00"), None, "is empty"),
    ],
)
def test_bad_windows(historian, train, validate, fragment):
    with HistorianReader(historian) as reader, pytest.raises(DataError, match=fragment):
        resolve_windows(reader, train, validate)


def test_error_shows_the_file_span(historian):
    with (
        HistorianReader(historian) as reader,
        pytest.raises(DataError, match=r"holds 2026-01-05T00:00:00\+08:00\.\."),
    ):
        resolve_windows(reader, "2025-01-01..2025-01-02")


def test_whole_days_may_end_one_sample_after_the_last(historian):
    last_plus_step = T0_MS + N * STEP_MS
    with HistorianReader(historian) as reader:
        windows = resolve_windows(reader, (T0_MS, last_plus_step))
        assert windows.validate[1] == last_plus_step
        with pytest.raises(DataError, match="outside the file"):
            resolve_windows(reader, (T0_MS, last_plus_step + 1))
