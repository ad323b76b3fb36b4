"""Round trips through the historian writer and reader (format v1)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from energyopt.data import HistorianReader, HistorianWriter, Quality, write_historian
from energyopt.data.format import (
    format_time_ms,
    to_duration_ms,
    to_epoch_ms,
    validate_tag_name,
)
from energyopt.data.resample import Aggregation, aggregation_for_kind, resample
from energyopt.errors import (
    DataError,
    OutputError,
    TagNotFoundError,
    UnitConversionError,
)

T0_MS = 1_709_251_200_000  # 2024-03-01T00:00:00Z
N_ROWS = 40_000  # several blocks of the sparse time index (8,192 rows)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """An irregular one-minute-ish history with NaNs, quality codes and three kinds."""
    rng = np.random.default_rng(42)
    steps = rng.integers(30_000, 90_001, N_ROWS - 1)
    time_ms = T0_MS + np.concatenate(([0], np.cumsum(steps))).astype(np.int64)
    flow = rng.normal(200.0, 10.0, N_ROWS)
    flow[rng.random(N_ROWS) < 0.02] = np.nan
    temperature = rng.normal(120.0, 2.0, N_ROWS)
    mode = np.repeat(rng.integers(0, 3, N_ROWS // 100 + 1), 100)[:N_ROWS].astype(np.float64)
    quality = rng.choice([0, 0, 0, 0, 0, 0, 0, 0, 1, 2], N_ROWS).astype(np.uint8)
    path = tmp_path_factory.mktemp("history") / "history.h5"
    values = {"FIC-101.PV": flow, "TI 201": temperature, "mode": mode}
    write_historian(
        path,
        time_ms,
        values,
        {"FIC-101.PV": "t/h", "TI 201": "degC", "mode": "1"},
        quality={"FIC-101.PV": quality},
        descriptions={"FIC-101.PV": "boiler 1 steam flow"},
        kinds={"FIC-101.PV": "flow", "TI 201": "temperature", "mode": "state"},
        media={"FIC-101.PV": "steam"},
        plant="steelworks demo",
        timezone="Asia/Shanghai",
    )
    return {"path": path, "time_ms": time_ms, "values": values, "quality": quality}


def test_round_trip_values_units_quality_and_attributes(history: dict, checksum):
    path = history["path"]
    digest = checksum(path)
    with HistorianReader(path) as reader:
        assert list(reader.tags) == ["FIC-101.PV", "TI 201", "mode"]  # column order kept
        info = reader.tags["FIC-101.PV"]
        assert (info.unit, info.description, info.kind, info.medium) == (
            "t/h",
            "boiler 1 steam flow",
            "flow",
            "steam",
        )
        assert info.has_quality
        assert not reader.tags["TI 201"].has_quality
        assert (reader.plant, reader.timezone, reader.n_samples) == (
            "steelworks demo",
            "Asia/Shanghai",
            N_ROWS,
        )
        assert reader.findings == []
        assert reader.time_span_ms == (int(history["time_ms"][0]), int(history["time_ms"][-1]))
        series = reader.read()
    assert_array_equal(series.time_ms, history["time_ms"])
    for tag, column in history["values"].items():
        assert_array_equal(series.values[tag], column)  # float64 stored exactly
    assert_array_equal(series.quality["FIC-101.PV"], history["quality"])
    assert_array_equal(series.quality["TI 201"], np.zeros(N_ROWS, np.uint8))
    assert series.units == {"FIC-101.PV": "t/h", "TI 201": "degC", "mode": "1"}
    with h5py.File(path) as h5file:
        assert h5file.attrs["format"] == "energyopt-historian"
        assert h5file.attrs["version"] == 1
        assert h5file["tags/TI 201"].compression == "gzip"
    assert checksum(path) == digest  # reading never modifies the file


def test_sampling_is_median_step(history: dict):
    with HistorianReader(history["path"]) as reader:
        # Steps are uniform integers in [30 s, 90 s]: the median of ~3000 of
        # them is within 2 s of 60 s (standard error about 0.3 s).
        assert abs(reader.sampling_ms - 60_000.0) < 2_000.0


@pytest.mark.parametrize(
    ("start_offset", "end_offset"),
    [
        (None, None),
        (-(10**9), 10**12),  # beyond both ends
        (0, 1),  # exactly the first sample, end exclusive
        (1, 10**6),
        (1_000_000_000, 1_500_000_000),  # crosses sparse-index blocks
        (2_000_000_123, 2_000_000_123),  # empty range
    ],
)
def test_time_range_read_equals_slicing(history: dict, start_offset, end_offset):
    t = history["time_ms"]
    start = None if start_offset is None else T0_MS + start_offset
    end = None if end_offset is None else T0_MS + end_offset
    lo = 0 if start is None else int(np.searchsorted(t, start, side="left"))
    hi = t.size if end is None else int(np.searchsorted(t, end, side="left"))
    with HistorianReader(history["path"]) as reader:
        series = reader.read(["TI 201", "FIC-101.PV"], start, end)
    assert_array_equal(series.time_ms, t[lo:hi])
    assert_array_equal(series.values["TI 201"], history["values"]["TI 201"][lo:hi])
    assert_array_equal(series.quality["FIC-101.PV"], history["quality"][lo:hi])
    assert series.tags == ["TI 201", "FIC-101.PV"]


def test_every_exact_sample_time_is_found(history: dict):
    t = history["time_ms"]
    with HistorianReader(history["path"]) as reader:
        for i in (0, 1, 8_191, 8_192, 8_193, 32_768, N_ROWS - 1):
            assert reader.axis.searchsorted(int(t[i])) == i
            assert reader.axis.searchsorted(int(t[i]) + 1) == i + 1


def test_time_forms_are_equivalent(history: dict):
    zone = ZoneInfo("Asia/Shanghai")
    local_start = dt.datetime(2024, 3, 5, 8, 0, tzinfo=zone)
    forms = [
        int(local_start.timestamp() * 1000),
        local_start,
        dt.datetime(2024, 3, 5, 8, 0),  # naive: the file's time zone
        "2024-03-05T08:00:00+08:00",
        "2024-03-05 08:00",
        "2024-03-05T00:00:00Z",
        np.datetime64("2024-03-05T00:00:00"),  # numpy: UTC
    ]
    with HistorianReader(history["path"]) as reader:
        reference = reader.read("mode", forms[0], forms[0] + 3_600_000)
        for form in forms[1:]:
            series = reader.read("mode", form, forms[0] + 3_600_000)
            assert_array_equal(series.time_ms, reference.time_ms)
        day = reader.read("mode", dt.date(2024, 3, 5), dt.date(2024, 3, 6))
    assert format_time_ms(int(day.time_ms[0]), zone).startswith("2024-03-05T00:0")
    assert len(reference) > 0


def test_chunked_iteration_equals_whole_read(history: dict):
    with HistorianReader(history["path"]) as reader:
        whole = reader.read(None, T0_MS + 10**8, T0_MS + 2 * 10**9)
        chunks = list(reader.iter_chunks(None, T0_MS + 10**8, T0_MS + 2 * 10**9, chunk_rows=7_001))
    assert len(chunks) > 2
    assert_array_equal(np.concatenate([c.time_ms for c in chunks]), whole.time_ms)
    for tag in whole.tags:
        assert_array_equal(np.concatenate([c.values[tag] for c in chunks]), whole.values[tag])
        assert_array_equal(np.concatenate([c.quality[tag] for c in chunks]), whole.quality[tag])


def _reference_resample(history: dict, tag: str, start: int, end: int, step: int, method, gap):
    """B's resample on the whole in-memory arrays, bad samples removed."""
    t = history["time_ms"]
    values = history["values"][tag].copy()
    if tag == "FIC-101.PV":
        values[history["quality"] == Quality.BAD] = np.nan
    lo, hi = np.searchsorted(t, start), np.searchsorted(t, end)
    prev = {} if lo == 0 else {"prev_time_ms": int(t[lo - 1]), "prev_value": values[lo - 1]}
    n_bins = -((start - end) // step)
    return resample(
        t[lo:hi],
        values[lo:hi],
        start_ms=start,
        step_ms=step,
        n_bins=n_bins,
        method=method,
        max_gap_ms=gap,
        **prev,
    )


@pytest.mark.parametrize("method", list(Aggregation))
@pytest.mark.parametrize("gap", [None, 150_000])
def test_resampled_read_equals_whole_array_resample(history: dict, method, gap):
    start, end, step = T0_MS + 12_345_678, T0_MS + 1_700_000_000, 900_000
    with HistorianReader(history["path"]) as reader:
        # chunk_rows=500 splits the range into about 60 chunks of whole bins.
        series = reader.read_resampled(
            None, start, end, step, aggregation=method, max_gap=gap, chunk_rows=500
        )
    assert series.time_ms[0] == start
    assert series.step_ms == step
    for tag in series.tags:
        expected = _reference_resample(history, tag, start, end, step, method, gap)
        # Chunks hold whole bins, so each bin sees the same rows in the same
        # order as in the whole-array call: the results are bit-identical.
        assert_array_equal(series.values[tag], expected)
        assert series.aggregation[tag] == method.value


def test_resampled_read_defaults_and_quality(history: dict):
    with HistorianReader(history["path"]) as reader:
        series = reader.read_resampled(None, None, None, "1 h")
        si = reader.read_resampled(["TI 201"], None, None, dt.timedelta(hours=1), si=True)
    # Grid starts on a local full hour (Asia/Shanghai is UTC+8, whole hours).
    assert (series.time_ms[0] + 8 * 3_600_000) % 3_600_000 == 0
    assert series.time_ms[0] <= history["time_ms"][0] < series.time_ms[0] + 3_600_000
    assert series.aggregation == {
        tag: aggregation_for_kind(kind).value
        for tag, kind in {"FIC-101.PV": "flow", "TI 201": "temperature", "mode": "state"}.items()
    }
    flow_codes = series.quality["FIC-101.PV"]
    # About 10 % of the ~60 samples of each hour are substituted (code 2).
    assert (flow_codes == Quality.SUBSTITUTED).mean() > 0.9
    assert_array_equal(series.quality["TI 201"], 0)
    # SI: degC -> K is an offset; 1e-12 relative covers the float rounding of +273.15.
    assert si.units == {"TI 201": "K"}
    assert_allclose(si.values["TI 201"], series.values["TI 201"] + 273.15, rtol=1e-12)
    assert_allclose(series.to_si().values["TI 201"], si.values["TI 201"], rtol=1e-12)


def test_read_si(history: dict):
    with HistorianReader(history["path"]) as reader:
        raw = reader.read("FIC-101.PV", None, T0_MS + 10**8)
        si = reader.read("FIC-101.PV", None, T0_MS + 10**8, si=True)
    # 1 t/h = 1000/3600 kg/s; one multiplication, 1e-15 relative.
    assert_allclose(si.values["FIC-101.PV"], raw.values["FIC-101.PV"] / 3.6, rtol=1e-15)
    assert si.units == {"FIC-101.PV": "kg/s"}
    assert_allclose(raw.to_si().values["FIC-101.PV"], si.values["FIC-101.PV"], rtol=0)


def test_unknown_tag_suggests_close_names(history: dict):
    with HistorianReader(history["path"]) as reader:
        with pytest.raises(TagNotFoundError, match=r"no tag 'FIC-101\.PB'.*'FIC-101\.PV'"):
            reader.read("FIC-101.PB")
        with pytest.raises(DataError, match="is before start"):
            reader.read(None, T0_MS + 10, T0_MS)
        with pytest.raises(DataError, match="unknown aggregation 'median'"):
            reader.read_resampled(None, None, None, "1 h", aggregation="median")


def test_reader_closes_and_unregisters(history: dict):
    reader = HistorianReader(history["path"])
    with pytest.raises(OutputError, match="open as an input"):
        write_historian(history["path"], [1], {"a": [1.0]}, {"a": "1"}, overwrite=True)
    reader.close()
    with pytest.raises(RuntimeError, match="is closed"):
        reader.read()


# ------------------------------------------------------------------ hypothesis

times_and_values = st.integers(min_value=1, max_value=300).flatmap(
    lambda n: st.tuples(
        st.integers(min_value=-(10**12), max_value=4 * 10**12),
        st.lists(st.integers(min_value=1, max_value=10**9), min_size=n - 1, max_size=n - 1),
        st.lists(
            st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64)),
            min_size=n,
            max_size=n,
        ),
    )
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(times_and_values)
def test_round_trip_property(case):
    start, steps, values = case
    time_ms = np.int64(start) + np.concatenate(([0], np.cumsum(steps, dtype=np.int64)))
    column = np.array(values, dtype=np.float64)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.h5"
        write_historian(path, time_ms, {"x": column}, {"x": "kPa"}, timezone="Europe/Berlin")
        with HistorianReader(path) as reader:
            series = reader.read()
            mid = int(time_ms[len(time_ms) // 2])
            part = reader.read("x", mid, None)
    assert_array_equal(series.time_ms, time_ms)
    assert_array_equal(series.values["x"], column)  # NaN == NaN for assert_array_equal
    assert_array_equal(part.time_ms, time_ms[len(time_ms) // 2 :])


# ------------------------------------------------------------------ writer


def test_streaming_writer_appends_and_adds_quality_later(tmp_path: Path):
    path = tmp_path / "s.h5"
    with HistorianWriter(path, {"a": "MW", "b": "t/h"}, dtype="float32", chunk_rows=8) as writer:
        writer.append(np.arange(10), {"a": np.arange(10.0), "b": np.ones(10)})
        writer.append(
            np.arange(10, 25),
            {"a": np.arange(10.0, 25.0), "b": np.ones(15)},
            quality={"b": np.full(15, 2)},
        )
        writer.append(np.arange(25, 30), {"a": np.zeros(5), "b": np.zeros(5)})
        assert writer.n_rows == 30
        assert not path.exists()  # only the temporary file exists while writing
    with HistorianReader(path) as reader:
        assert reader.tags["a"].dtype == "float32"
        series = reader.read()
    assert_array_equal(series.time_ms, np.arange(30))
    assert_array_equal(series.values["a"][:25], np.arange(25.0))
    assert series.values["a"].dtype == np.float64
    assert_array_equal(series.quality["b"], np.r_[np.zeros(10), np.full(15, 2), np.zeros(5)])


def _append_twice(path: Path, second_times: list[int]) -> None:
    with HistorianWriter(path, {"a": "1"}) as writer:
        writer.append([0, 1, 2], {"a": [1.0, 2.0, 3.0]})
        writer.append(second_times, {"a": [1.0] * len(second_times)})


def _interrupt_while_writing(path: Path) -> None:
    with HistorianWriter(path, {"a": "1"}) as writer:
        writer.append([0, 1], {"a": [1.0, 2.0]})
        raise KeyboardInterrupt


def test_writer_refuses_time_going_back_across_chunks(tmp_path: Path):
    path = tmp_path / "s.h5"
    with pytest.raises(DataError, match=r"row 3 \(2 ms\) is not after the last row written"):
        _append_twice(path, [2, 3])
    assert list(tmp_path.iterdir()) == []


def test_writer_interrupted_leaves_nothing(tmp_path: Path):
    with pytest.raises(KeyboardInterrupt):
        _interrupt_while_writing(tmp_path / "s.h5")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"time_ms": [0, 2, 1]}, DataError, r"row 2 \(1 ms\) is not after row 1"),
        ({"time_ms": [0, 1, 1]}, DataError, "strictly increasing"),
        ({"time_ms": [0.0, 1.0, 2.0]}, DataError, "integer milliseconds"),
        ({"values": {"a": [1.0, 2.0]}}, DataError, "have shape"),
        ({"values": {"a": ["x", "y", "z"]}}, DataError, "must be numeric"),
        ({"values": {"b": [1.0, 2.0, 3.0]}}, DataError, "units given for tags without values"),
        ({"units": {"a": "parsecs/fortnightx"}}, UnitConversionError, "tag 'a'"),
        ({"units": {"a/b": "1"}, "values": {"a/b": [1, 2, 3]}}, DataError, "path separator"),
        ({"quality": {"a": [0, 3, 0]}}, DataError, "code 3 at row 1"),
        ({"timezone": "Mars/Olympus"}, DataError, "unknown time zone"),
        ({"time_ms": [], "values": {"a": []}}, DataError, "no rows were appended"),
    ],
)
def test_writer_validation(tmp_path: Path, kwargs, error, fragment):
    arguments = {
        "time_ms": [0, 1, 2],
        "values": {"a": [1.0, 2.0, 3.0]},
        "units": {"a": "kPa"},
    }
    arguments.update(kwargs)
    path = tmp_path / "w.h5"
    with pytest.raises(error, match=fragment):
        write_historian(path, **arguments)
    assert list(tmp_path.iterdir()) == []


def test_writer_refuses_existing_file(tmp_path: Path, checksum):
    path = tmp_path / "w.h5"
    write_historian(path, [0], {"a": [1.0]}, {"a": "1"})
    digest = checksum(path)
    with pytest.raises(OutputError, match="refusing to overwrite"):
        write_historian(path, [0], {"a": [2.0]}, {"a": "1"})
    assert checksum(path) == digest
    write_historian(path, [0], {"a": [2.0]}, {"a": "1"}, overwrite=True)
    assert checksum(path) != digest


# ------------------------------------------------------------------ format helpers


def test_to_epoch_ms_forms():
    zone = ZoneInfo("Asia/Shanghai")
    assert to_epoch_ms("2024-03-01T08:00:00+08:00") == T0_MS
    assert to_epoch_ms("2024-03-01T08:00:00", zone) == T0_MS
    assert to_epoch_ms("2024-03-01 00:00:00Z") == T0_MS
    assert to_epoch_ms(dt.date(2024, 3, 1), "UTC") == T0_MS
    assert to_epoch_ms(np.datetime64("2024-03-01T00:00:00.001")) == T0_MS + 1
    assert to_epoch_ms(np.int64(5)) == 5
    with pytest.raises(DataError, match="ISO 8601"):
        to_epoch_ms("yesterday")
    with pytest.raises(DataError, match="boolean"):
        to_epoch_ms(True)
    with pytest.raises(DataError, match="as a time"):
        to_epoch_ms(1.5)  # type: ignore[arg-type]


def test_format_time_ms_shows_offset_and_milliseconds():
    assert format_time_ms(T0_MS, "Asia/Shanghai") == "2024-03-01T08:00:00+08:00"
    assert format_time_ms(T0_MS + 5, "UTC") == "2024-03-01T00:00:00.005+00:00"


def test_to_duration_ms_forms():
    assert to_duration_ms("15 min") == to_duration_ms("15min") == 900_000
    assert to_duration_ms(dt.timedelta(hours=1)) == 3_600_000
    assert to_duration_ms(np.timedelta64(2, "s")) == 2_000
    assert to_duration_ms("1 day") == 86_400_000
    with pytest.raises(DataError, match="must be positive"):
        to_duration_ms(0)
    with pytest.raises(DataError, match="whole number of milliseconds"):
        to_duration_ms(dt.timedelta(microseconds=1500))
    with pytest.raises(DataError, match="cannot read duration"):
        to_duration_ms("15 kg")


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "empty"),
        ("a/b", "path separator"),
        ("a,b", "separates tag lists"),
        (" a", "white space"),
        (".", "reserved"),
        ("a\x00b", "control"),
        ("x" * 256, "longer than 255"),
    ],
)
def test_tag_name_rules(name: str, fragment: str):
    with pytest.raises(DataError, match=fragment):
        validate_tag_name(name)


def test_tag_name_allows_plant_spellings():
    for name in ("FIC-101.PV", "BFG flow", "高炉煤气流量", "TI:201"):
        assert validate_tag_name(name) == name
