"""Lazy validation of the time axis and the cheap open of historian files."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from numpy.testing import assert_array_equal

import energyopt.data.layout as layout_module
from energyopt.data import HistorianReader, write_historian
from energyopt.data.inspect import inspect_file
from energyopt.data.time_axis import DEFAULT_BLOCK_ROWS, TimeAxis
from energyopt.errors import HistorianFormatError

T0_MS = 1_709_251_200_000
STEP_MS = 60_000
N_BIG = 100_000  # 13 blocks of 8192 rows


def write(path: Path, time_ms: np.ndarray) -> Path:
    write_historian(
        path, np.arange(time_ms.size), {"a": np.arange(time_ms.size, dtype=float)}, {"a": "MW"}
    )
    with h5py.File(path, "r+") as h5file:  # the writer refuses a broken axis: break it afterwards
        h5file["time"][...] = time_ms
    return path


def regular(n: int) -> np.ndarray:
    return T0_MS + STEP_MS * np.arange(n, dtype=np.int64)


@pytest.fixture
def rows_read(monkeypatch):
    """Count the /time rows the axis reads from the file."""
    counter = {"rows": 0}
    original = TimeAxis._read_file

    def counting(self, start, stop):
        counter["rows"] += stop - start
        return original(self, start, stop)

    monkeypatch.setattr(TimeAxis, "_read_file", counting)
    return counter


def test_open_reads_only_the_first_and_last_blocks(tmp_path, rows_read):
    path = write(tmp_path / "big.h5", regular(N_BIG))
    with HistorianReader(path) as reader:
        assert rows_read["rows"] <= 2 * DEFAULT_BLOCK_ROWS
        assert reader.time_span_ms == (T0_MS, T0_MS + STEP_MS * (N_BIG - 1))
        rows_read["rows"] = 0
        week = reader.read("a", T0_MS + STEP_MS * 50_000, T0_MS + STEP_MS * 60_080)
        # Two bisections over 13 blocks (at most 4 probes each, the last one
        # reused) plus the 10,080 rows returned and the row before them.
        assert rows_read["rows"] <= 8 * DEFAULT_BLOCK_ROWS + 10_081
    assert_array_equal(week.values["a"], np.arange(50_000, 60_080, dtype=float))


@pytest.mark.parametrize("block_rows", [1, 3, 7, 64])
def test_searchsorted_matches_numpy(tmp_path, block_rows):
    rng = np.random.default_rng(block_rows)
    times = np.cumsum(rng.integers(1, 50, 500)).astype(np.int64)
    path = write(tmp_path / "t.h5", times)
    with h5py.File(path, "r") as h5file:
        axis = TimeAxis(h5file["time"], path, block_rows=block_rows)
        queries = np.concatenate([times, times + 1, times - 1, [-5, 10**9]])
        for query in rng.permutation(queries):
            assert axis.searchsorted(int(query)) == np.searchsorted(times, query), query
        assert_array_equal(axis.read_times(123, 321), times[123:321])


def test_problem_in_the_middle_is_reported_by_the_read_that_meets_it(tmp_path):
    times = regular(N_BIG)
    times[50_000] = times[49_999]  # a duplicated timestamp in block 6
    path = write(tmp_path / "mid.h5", times)
    with HistorianReader(path) as reader:  # opening checks only the ends
        early = reader.read("a", None, T0_MS + STEP_MS * 1000)
        assert len(early) == 1000
        with pytest.raises(
            HistorianFormatError, match=r"mid\.h5: /time is not strictly increasing at row 50000: "
        ) as caught:
            reader.read("a")
        assert "repair_time=True" in str(caught.value)
    # inspect repairs and reports it.
    report = inspect_file(path)
    assert [f.issue for f in report.findings_of("time")] == ["duplicate_time"]


def test_chunked_reads_are_checked_across_their_boundary(tmp_path):
    times = regular(3 * DEFAULT_BLOCK_ROWS)
    times[12_000] = times[11_999] - 1  # steps back exactly at a chunk boundary
    path = write(tmp_path / "edge.h5", times)
    with HistorianReader(path) as reader:
        chunks = reader.iter_chunks("a", chunk_rows=12_000)
        assert len(next(chunks)) == 12_000
        with pytest.raises(HistorianFormatError, match="at row 12000: "):
            next(chunks)


def test_blocks_probed_by_a_bisection_are_checked_against_each_other(tmp_path):
    times = 10 * np.arange(40, dtype=np.int64)
    times[20] = 5  # block 5 (rows 20-23) starts below block 0's last time
    path = write(tmp_path / "b.h5", times)
    with h5py.File(path, "r") as h5file:
        axis = TimeAxis(h5file["time"], path, block_rows=4)
        with pytest.raises(HistorianFormatError, match=r"at rows 3\.\.20: 5 \(.*\) follows 30"):
            axis.searchsorted(195)  # the first probe is block 5
        with pytest.raises(HistorianFormatError, match=r"at row 20: 5 .* follows 190"):
            axis.read_times(20, 24)


def last_block_moved_back() -> np.ndarray:
    times = regular(N_BIG)
    times[12 * DEFAULT_BLOCK_ROWS :] -= STEP_MS * N_BIG  # increasing, but before block 0
    return times


@pytest.mark.parametrize(
    ("times", "fragment"),
    [
        (last_block_moved_back(), "at rows 8191..98304: "),
        (np.r_[regular(N_BIG)[:-1], T0_MS], "at row 99999: "),
        (np.r_[regular(10), [T0_MS]], "at row 10: "),
    ],
)
def test_broken_ends_are_refused_on_open(tmp_path, times, fragment):
    path = write(tmp_path / "ends.h5", times)
    with pytest.raises(HistorianFormatError, match=fragment):
        HistorianReader(path)


def test_layout_check_is_remembered_per_unchanged_file(tmp_path, monkeypatch):
    calls: list[Path] = []
    original = layout_module.check_layout

    def counting(h5file, path):
        calls.append(path)
        return original(h5file, path)

    monkeypatch.setattr(layout_module, "check_layout", counting)
    layout_module.clear_layout_cache()
    path = write(tmp_path / "c.h5", regular(100))
    with HistorianReader(path) as reader:
        reader.findings.append("scribble")  # type: ignore[arg-type]
    with HistorianReader(path) as reader:
        assert reader.findings == []  # each reader gets its own copy
        assert reader.tags["a"].unit == "MW"
    assert len(calls) == 1
    with h5py.File(path, "r+") as h5file:  # a change to the file: checked again
        h5file["tags/a"].attrs["unit"] = "kW"
    with HistorianReader(path) as reader:
        assert reader.tags["a"].unit == "kW"
    assert len(calls) == 2
    layout_module.clear_layout_cache()
    HistorianReader(path).close()
    assert len(calls) == 3
