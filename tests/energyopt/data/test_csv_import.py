"""Tests of the CSV import (library and ``energyopt import-csv``)."""

from __future__ import annotations

import datetime as dt
import tracemalloc
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import energyopt.cli as cli
from energyopt.data import HistorianReader, Quality
from energyopt.data import csv_import as csv_import_module
from energyopt.data.csv_import import import_csv, read_tag_metadata
from energyopt.errors import DataError, OutputError, UnitConversionError

T0_MS = 1_709_251_200_000  # 2024-03-01T00:00:00Z = 2024-03-01 08:00 in Asia/Shanghai


@pytest.fixture
def cli_main(monkeypatch: pytest.MonkeyPatch):
    """The CLI with only the data commands registered: fast, and independent of the others."""
    monkeypatch.setattr(
        cli, "COMMAND_MODULES", ("energyopt.commands.inspect", "energyopt.commands.import_csv")
    )
    return cli.main


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


MESSY = """\
time,FI-101,TI 201,PI3
unit,t/h,degC,MPa(g)
2024-03-01 08:00:00,1.5,20,0.5
2024-03-01 08:01:00,,21,0.6
2024-03-01 08:03:00,1.7,22, 0.7
2024-03-01 08:02:00,1.6,22,0.7
2024-03-01 08:02:00,1.65,22.5,0.71
2024-03-01 08:04:00,1.8,23,0.8,
"""


def test_import_sorts_deduplicates_and_keeps_units(tmp_path: Path, checksum):
    source = write(tmp_path / "in.csv", MESSY)
    digest = checksum(source)
    result = import_csv(source, tmp_path / "out.h5", timezone="Asia/Shanghai", plant="demo")
    assert checksum(source) == digest  # the input is only read
    assert result.n_rows == 5
    assert result.tags == ["FI-101", "TI 201", "PI3"]
    issues = {finding.issue: finding for finding in result.findings}
    assert issues["non_monotonic_time"].first_line == 6
    assert issues["duplicate_time"].count == 1
    assert "line 6 dropped for line 7" in issues["duplicate_time"].detail
    with HistorianReader(result.path) as reader:
        assert (reader.timezone, reader.plant) == ("Asia/Shanghai", "demo")
        assert {n: i.unit for n, i in reader.tags.items()} == {
            "FI-101": "t/h",
            "TI 201": "degC",
            "PI3": "MPa(g)",
        }
        series = reader.read()
    assert_array_equal(series.time_ms, T0_MS + 60_000 * np.arange(5))
    # The duplicated 08:02 keeps the row that comes last in the file (1.65).
    assert_array_equal(series.values["FI-101"], [1.5, np.nan, 1.65, 1.7, 1.8])
    assert_array_equal(series.values["PI3"], [0.5, 0.6, 0.71, 0.7, 0.8])
    assert not series.quality["FI-101"].any()  # an empty cell is missing, not bad


def test_empty_cells_are_missing_whatever_the_width_of_the_other_cells(tmp_path: Path):
    # Every cell is at most 2 characters wide: a fixed-width string array would
    # truncate the "nan" placeholder and reject the empty cell.
    source = write(
        tmp_path / "narrow.csv",
        "time,F\nunit,t/h\n2024-03-01 08:00:00,10\n2024-03-01 08:01:00,\n2024-03-01 08:02:00,9\n",
    )
    result = import_csv(source, tmp_path / "out.h5", timezone="Asia/Shanghai")
    with HistorianReader(result.path) as reader:
        series = reader.read()
    assert_array_equal(series.values["F"], [10.0, np.nan, 9.0])
    assert not series.quality["F"].any()


def test_units_from_side_files_and_metadata(tmp_path: Path):
    body = "stamp,a,b\n2024-03-01T00:00:00Z,1,2\n2024-03-01T00:00:01Z,3,4\n"
    source = write(tmp_path / "in.csv", body)
    units_csv = write(
        tmp_path / "units.csv", "tag,unit,kind,description\na,Nm3/h,flow,BFG\nb,%,,\n"
    )
    result = import_csv(source, tmp_path / "a.h5", units=units_csv, time_column="stamp")
    with HistorianReader(result.path) as reader:
        assert reader.tags["a"].unit == "Nm3/h"
        assert (reader.tags["a"].kind, reader.tags["a"].description) == ("flow", "BFG")
        assert reader.tags["b"].unit == "%"
    toml = write(tmp_path / "units.toml", 'b = "MW"\n[a]\nunit = "kg/s"\nmedium = "steam"\n')
    assert read_tag_metadata(toml) == {
        "b": {"unit": "MW"},
        "a": {"unit": "kg/s", "medium": "steam"},
    }
    plain = write(tmp_path / "plain.csv", "a,t/h\nb,MW\n")  # no header: tag,unit
    assert read_tag_metadata(plain) == {"a": {"unit": "t/h"}, "b": {"unit": "MW"}}
    result = import_csv(source, tmp_path / "b.h5", units={"a": "t/h", "b": "MW"})
    assert result.n_rows == 2


def test_unit_conflicts_and_missing_units(tmp_path: Path):
    source = write(tmp_path / "in.csv", "time,a,b\nunit,t/h,\n2024-03-01,1,2\n")
    with pytest.raises(DataError, match=r"in\.csv: no unit for tag 'b'.*--units"):
        import_csv(source, tmp_path / "o.h5")
    with pytest.raises(DataError, match="unit 't/h' in the unit row but 'MW' in the units file"):
        import_csv(source, tmp_path / "o.h5", units={"a": "MW", "b": "1"})
    with pytest.raises(UnitConversionError, match=r"in\.csv: unknown unit 'bogus' of tag 'b'"):
        import_csv(source, tmp_path / "o.h5", units={"b": "bogus"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


@pytest.mark.parametrize(
    ("cells", "expected_ms"),
    [
        (["1709251200", "1709251260.5"], [T0_MS, T0_MS + 60_500]),  # epoch seconds
        (["1709251200000", "1709251260000"], [T0_MS, T0_MS + 60_000]),  # epoch ms
        (["2024-03-01T08:00:00+08:00", "2024-03-01T00:01:00Z"], [T0_MS, T0_MS + 60_000]),
        (["2024-03-01 08:00", "2024-03-01 08:01"], [T0_MS, T0_MS + 60_000]),  # naive: zone
    ],
)
def test_time_forms(tmp_path: Path, cells: list[str], expected_ms: list[int]):
    rows = "".join(f"{cell},{k}\n" for k, cell in enumerate(cells))
    source = write(tmp_path / "t.csv", "t,x\nunits,MW\n" + rows)
    result = import_csv(source, tmp_path / "t.h5", timezone="Asia/Shanghai")
    with HistorianReader(result.path) as reader:
        assert_array_equal(reader.read().time_ms, expected_ms)


def test_daylight_saving_naive_times(tmp_path: Path):
    # Europe/Berlin: 2024-03-31 02:30 does not exist; 2024-10-27 02:30 occurs
    # twice (fold=0, the first, summer time, is taken).
    source = write(tmp_path / "d.csv", "t,x\nunit,1\n2024-10-27 01:30,1\n2024-10-27 02:30,2\n")
    result = import_csv(source, tmp_path / "d.h5", timezone="Europe/Berlin")
    zone = ZoneInfo("Europe/Berlin")
    expected = [
        int(dt.datetime(2024, 10, 27, h, 30, tzinfo=zone).timestamp() * 1000) for h in (1, 2)
    ]
    with HistorianReader(result.path) as reader:
        assert_array_equal(reader.read().time_ms, expected)
    assert expected[1] - expected[0] == 3_600_000


def test_semicolons_and_decimal_comma(tmp_path: Path):
    source = write(
        tmp_path / "e.csv", "Zeit;Dampf\nunit;t/h\n2024-03-01 00:00;1,5\n2024-03-01 00:01;2,25\n"
    )
    result = import_csv(source, tmp_path / "e.h5", decimal=",")
    with HistorianReader(result.path) as reader:
        assert_array_equal(reader.read().values["Dampf"], [1.5, 2.25])


def test_non_numeric_value_strict_and_lenient(tmp_path: Path):
    source = write(
        tmp_path / "n.csv", "t,a,b\nunit,1,1\n2024-03-01,1,2\n2024-03-02,x,3\n2024-03-03,4,err\n"
    )
    with pytest.raises(DataError, match=r"n\.csv: line 4, column 'a': cannot read 'x' as a number"):
        import_csv(source, tmp_path / "n.h5")
    assert not (tmp_path / "n.h5").exists()
    result = import_csv(source, tmp_path / "n.h5", lenient=True)
    findings = {(f.issue, f.tag): f for f in result.findings}
    assert findings["non_numeric", "a"].first_line == 4
    assert findings["non_numeric", "b"].count == 1
    with HistorianReader(result.path) as reader:
        series = reader.read()
    assert_array_equal(series.values["a"], [1.0, np.nan, 4.0])
    assert_array_equal(series.quality["a"], [0, Quality.BAD, 0])
    assert_array_equal(series.quality["b"], [0, 0, Quality.BAD])


def test_malformed_rows_and_bad_times(tmp_path: Path):
    text = "t,a,b\nunit,1,1\n2024-03-01,1,2\n2024-03-02,3\n\nnot a time,5,6\n2024-03-04,7,8\n"
    source = write(tmp_path / "m.csv", text)
    with pytest.raises(DataError, match=r"m\.csv: line 4: expected 3 fields, found 2"):
        import_csv(source, tmp_path / "m.h5")
    fixed = write(tmp_path / "m2.csv", text.replace("2024-03-02,3\n", ""))
    with pytest.raises(DataError, match=r"m2\.csv: line 5: cannot read time 'not a time'"):
        import_csv(fixed, tmp_path / "m.h5")
    result = import_csv(source, tmp_path / "m.h5", lenient=True)
    issues = {f.issue: f for f in result.findings}
    assert issues["malformed_row"].first_line == 4
    assert issues["bad_timestamp"].first_line == 6
    assert result.n_rows == 2


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty file"),
        ("t,a\nunit,1\n", "no data rows"),
        ("t\n2024-03-01\n", "no tag columns"),
        ("t,a,a\nunit,1,1\n2024-03-01,1,2\n", "duplicated column names a"),
        ("t,a/b\nunit,1\n2024-03-01,1\n", "header column 2: invalid tag name 'a/b'"),
    ],
)
def test_malformed_files(tmp_path: Path, text: str, fragment: str):
    source = write(tmp_path / "bad.csv", text)
    with pytest.raises(DataError, match=fragment):
        import_csv(source, tmp_path / "bad.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_missing_time_column_and_encoding(tmp_path: Path):
    source = write(tmp_path / "g.csv", "时间,高炉煤气\nunit,Nm3/h\n2024-03-01,1\n", "gbk")
    with pytest.raises(DataError, match=r"cannot decode the file as utf-8-sig.*--encoding gbk"):
        import_csv(source, tmp_path / "g.h5")
    with pytest.raises(DataError, match="no column named 'time'; columns are '时间'"):
        import_csv(source, tmp_path / "g.h5", encoding="gbk", time_column="time")
    result = import_csv(source, tmp_path / "g.h5", encoding="gbk")
    assert result.tags == ["高炉煤气"]


@pytest.mark.slow  # about 8 s: tracemalloc slows the parsing of 1e6 cells
def test_streaming_keeps_memory_below_the_data_size(tmp_path: Path, monkeypatch):
    # 20,000 rows x 50 tags = 8 MB of float64 (and ~60 MB as Python strings).
    # With small chunks the import must stay far below that: it holds times
    # and line numbers (0.32 MB), their sort, and one chunk at a time.
    monkeypatch.setattr(csv_import_module, "_CELLS_PER_CHUNK", 20_000)
    monkeypatch.setattr(csv_import_module, "_CELLS_PER_WRITE", 50_000)
    n_rows, n_tags = 20_000, 50
    rng = np.random.default_rng(3)
    data = rng.integers(0, 10_000, (n_rows, n_tags)) / 8.0  # short, exact decimals
    times = 1_709_251_200 + np.arange(n_rows)
    # Swap two rows far apart so the sorted write path (gather) is exercised.
    times[[10, 15_000]] = times[[15_000, 10]]
    header = ["t," + ",".join(f"x{j}" for j in range(n_tags)), "unit," + ",".join(["MW"] * n_tags)]
    body = np.char.add(times.astype(str), ",")
    body = np.char.add(body, [",".join(row) for row in data.astype(str)])
    source = write(tmp_path / "big.csv", "\n".join([*header, *body.tolist()]) + "\n")
    # Warm-up: pint's registry (about 20 MB, built once per process) is not the import's.
    import_csv(write(tmp_path / "w.csv", "t,a\nunit,MW\n0,1\n"), tmp_path / "w.h5")
    tracemalloc.start()
    try:
        result = import_csv(source, tmp_path / "big.h5")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4e6, f"peak traced memory {peak / 1e6:.1f} MB"
    assert {f.issue for f in result.findings} == {"non_monotonic_time"}
    order = np.argsort(times)
    with HistorianReader(result.path) as reader:
        series = reader.read(["x0", "x49"])
    assert_array_equal(series.time_ms, times[order] * 1000)
    assert_array_equal(series.values["x49"], data[order, 49])


def test_cli_import_csv(tmp_path: Path, cli_main, capsys, checksum):
    source = write(tmp_path / "in.csv", MESSY)
    out = tmp_path / "out.h5"
    status = cli_main(["import-csv", str(source), "--out", str(out), "--timezone", "Asia/Shanghai"])
    captured = capsys.readouterr()
    assert status == 0
    assert "5 rows x 3 tags" in captured.out
    assert "duplicate_time" in captured.out
    digest = checksum(out)
    status = cli_main(["import-csv", str(source), "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 2
    assert "refusing to overwrite existing file" in captured.err
    assert "Traceback" not in captured.err
    assert checksum(out) == digest
    assert cli_main(["import-csv", str(source), "--out", str(out), "--force"]) == 0


def test_output_open_as_input_is_refused(tmp_path: Path):
    source = write(tmp_path / "in.csv", MESSY)
    out = import_csv(source, tmp_path / "out.h5").path
    with HistorianReader(out), pytest.raises(OutputError, match="open as an input"):
        import_csv(source, out, overwrite=True)
