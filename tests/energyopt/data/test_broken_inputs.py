"""A corpus of broken inputs, generated here, and the errors each one must give.

Every broken file must raise the right :class:`~energyopt.errors.EnergyoptError`
subclass with a message naming the file and the problem, and the CLI must exit
with status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

import energyopt.cli as cli
from energyopt.data import HistorianReader, write_historian
from energyopt.data.csv_import import import_csv
from energyopt.errors import (
    DataError,
    DataQualityError,
    EnergyoptError,
    HistorianFormatError,
    UnitConversionError,
)

N = 50


@pytest.fixture
def cli_main(monkeypatch: pytest.MonkeyPatch):
    """The CLI with only the data commands registered: fast, and independent of the others."""
    monkeypatch.setattr(
        cli, "COMMAND_MODULES", ("energyopt.commands.inspect", "energyopt.commands.import_csv")
    )
    return cli.main


def valid_file(path: Path) -> Path:
    write_historian(
        path,
        1_709_251_200_000 + 60_000 * np.arange(N),
        {"a": np.linspace(0.0, 1.0, N), "b": np.ones(N)},
        {"a": "t/h", "b": "MW"},
    )
    return path


def edit(path: Path, change: Callable[[h5py.File], None]) -> Path:
    valid_file(path)
    with h5py.File(path, "r+") as h5file:
        change(h5file)
    return path


def truncated(path: Path) -> Path:
    valid_file(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def text_file(path: Path) -> Path:
    path.write_text("time,a\n2024-03-01,1\n")
    return path


def replace(name: str, data: object, **attrs: str) -> Callable[[h5py.File], None]:
    def change(h5file: h5py.File) -> None:
        del h5file[name]
        h5file[name] = data
        h5file[name].attrs.update(attrs)

    return change


def set_attr(name: str, value: object) -> Callable[[h5py.File], None]:
    def change(h5file: h5py.File) -> None:
        h5file.attrs[name] = value

    return change


def write_empty(path: Path) -> Path:
    with h5py.File(path, "w") as h5file:
        h5file.attrs.update({"format": "energyopt-historian", "version": 1})
        h5file.create_dataset("time", data=np.zeros(0, np.int64))
        h5file.create_group("tags")
    return path


# (case id, builder, exception class, fragment of the message after the file name)
CORPUS: list[tuple[str, Callable[[Path], Path], type[EnergyoptError], str]] = [
    (
        "truncated",
        truncated,
        HistorianFormatError,
        "not a readable HDF5 file (truncated or corrupt",
    ),
    ("text named .h5", text_file, HistorianFormatError, "not an HDF5 file"),
    (
        "string tag",
        lambda p: edit(p, replace("tags/a", np.array([b"x"] * N), unit="t/h")),
        HistorianFormatError,
        "/tags/a has dtype |S1; tag values must be float64 or float32",
    ),
    (
        "2-D tag",
        lambda p: edit(p, replace("tags/a", np.zeros((N, 2)), unit="t/h")),
        HistorianFormatError,
        "/tags/a has shape (50, 2); tag values must be 1-D",
    ),
    (
        "missing /time",
        lambda p: edit(p, lambda f: f.__delitem__("time")),
        HistorianFormatError,
        "no /time dataset",
    ),
    (
        "float time",
        lambda p: edit(p, replace("time", np.arange(N, dtype=float))),
        HistorianFormatError,
        "/time has dtype float64; expected int64 milliseconds",
    ),
    (
        "empty time",
        write_empty,
        HistorianFormatError,
        "/time is empty",
    ),
    (
        "mismatched lengths",
        lambda p: edit(p, replace("tags/b", np.ones(N - 1), unit="MW")),
        HistorianFormatError,
        "/tags/b has 49 rows but /time has 50",
    ),
    (
        "missing unit attribute",
        lambda p: edit(p, lambda f: f["tags/a"].attrs.__delitem__("unit")),
        HistorianFormatError,
        "/tags/a has no 'unit' attribute",
    ),
    (
        "missing /tags",
        lambda p: edit(p, lambda f: f.__delitem__("tags")),
        HistorianFormatError,
        "no /tags group",
    ),
    (
        "wrong version",
        lambda p: edit(p, set_attr("version", 2)),
        HistorianFormatError,
        "format version 2 is not supported",
    ),
    (
        "wrong format",
        lambda p: edit(p, set_attr("format", "other-tool")),
        HistorianFormatError,
        "root attribute 'format' is 'other-tool'",
    ),
    (
        "bad timezone",
        lambda p: edit(p, set_attr("timezone", "Moon/Base")),
        HistorianFormatError,
        "'timezone' is 'Moon/Base', not an IANA time zone",
    ),
    (
        "bad quality dataset",
        lambda p: edit(p, lambda f: f.create_dataset("quality/a", data=np.zeros(3, np.uint8))),
        HistorianFormatError,
        "/quality/a has shape (3,) but /time has 50 rows",
    ),
    ("missing file", lambda p: p, DataError, "no such file"),
]


@pytest.mark.parametrize(("case", "build", "error", "fragment"), CORPUS, ids=[c[0] for c in CORPUS])
def test_broken_file_raises(tmp_path: Path, case, build, error, fragment):
    path = build(tmp_path / "broken.h5")
    with pytest.raises(error) as caught:
        HistorianReader(path)
    assert type(caught.value) is error
    message = str(caught.value)
    assert str(path) in message
    assert fragment in message
    assert "\n" not in message  # one line, no HDF5 error stack


@pytest.mark.parametrize(("case", "build", "error", "fragment"), CORPUS, ids=[c[0] for c in CORPUS])
def test_broken_file_cli_exits_2(tmp_path: Path, case, build, error, fragment, cli_main, capsys):
    path = build(tmp_path / "broken.h5")
    assert cli_main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("energyopt: error: ")
    assert fragment in err
    assert str(path) in err
    assert "Traceback" not in err


def test_non_monotonic_time_names_the_row(tmp_path: Path):
    path = edit(tmp_path / "nm.h5", lambda f: f["time"].__setitem__(slice(10, 12), [0, 0]))
    with pytest.raises(
        HistorianFormatError, match=r"nm\.h5: /time is not strictly increasing at row 10"
    ):
        HistorianReader(path)
    with HistorianReader(path, repair_time=True) as reader:  # tolerated on request
        assert reader.repaired
        assert reader.n_samples == N - 1
        series = reader.read()
    assert np.all(np.diff(series.time_ms) > 0)
    # Of the two rows at time 0 the one stored last (row 11) is kept.
    assert series.values["a"][0] == np.linspace(0.0, 1.0, N)[11]


def test_missing_format_attribute_is_a_finding(tmp_path: Path):
    path = edit(
        tmp_path / "nf.h5",
        lambda f: (f.attrs.__delitem__("format"), f.attrs.__delitem__("version")),
    )
    with HistorianReader(path) as reader:
        assert [f.issue for f in reader.findings] == [
            "missing_format_attribute",
            "missing_version_attribute",
        ]
        assert len(reader.read()) == N


def test_unknown_unit_is_a_finding_until_converted(tmp_path: Path, cli_main, capsys):
    path = edit(tmp_path / "u.h5", lambda f: f["tags/b"].attrs.__setitem__("unit", "bogons"))
    with HistorianReader(path) as reader:
        (finding,) = reader.findings
        assert (finding.issue, finding.tag) == ("unknown_unit", "b")
        assert reader.read("b").units == {"b": "bogons"}  # raw values stay readable
        with pytest.raises(UnitConversionError, match=r"u\.h5: unknown unit 'bogons' of tag 'b'"):
            reader.read("b", si=True)
        with pytest.raises(UnitConversionError, match=r"u\.h5: unknown unit 'bogons'"):
            reader.read_resampled("b", None, None, "10 min", si=True)
    assert cli_main(["inspect", str(path), "--json"]) == 0
    assert "unknown_unit" in capsys.readouterr().out


def test_nan_only_tag(tmp_path: Path):
    path = tmp_path / "nan.h5"
    write_historian(
        path, np.arange(N), {"a": np.full(N, np.nan), "b": np.ones(N)}, {"a": "1", "b": "1"}
    )
    with HistorianReader(path) as reader:
        reader.read()  # reading is fine
        with pytest.raises(DataQualityError, match=r"nan\.h5: no finite value of 'a' between"):
            reader.read(require_data=True)
        with pytest.raises(DataQualityError, match="no finite value of 'a'"):
            reader.read_resampled(None, None, None, 10, require_data=True)


def test_unknown_unit_in_csv_exits_2(tmp_path: Path, cli_main, capsys):
    source = tmp_path / "u.csv"
    source.write_text("t,a\nunit,bogons\n2024-03-01,1\n")
    with pytest.raises(UnitConversionError, match=r"u\.csv: unknown unit 'bogons' of tag 'a'"):
        import_csv(source, tmp_path / "u.h5")
    assert cli_main(["import-csv", str(source), "--out", str(tmp_path / "u.h5")]) == 2
    err = capsys.readouterr().err
    assert "unknown unit 'bogons'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "u.h5").exists()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("t,a\nunit,1\n2024-03-01,1,2,3\n", "line 3: expected 2 fields, found 4"),
        ("t,a\nunit,1\n2024-03-01,one\n", "line 3, column 'a': cannot read 'one' as a number"),
        ("t,a\nunit,1\n2024-13-01,1\n", "line 3: cannot read time '2024-13-01'"),
        ('t,a\nunit,1\n2024-03-01,"1\n', "malformed CSV"),
    ],
)
def test_malformed_csv_cli_exits_2(tmp_path: Path, text: str, fragment: str, cli_main, capsys):
    source = tmp_path / "bad.csv"
    source.write_text(text)
    status = cli_main(["import-csv", str(source), "--out", str(tmp_path / "bad.h5")])
    err = capsys.readouterr().err
    assert status == 2
    assert fragment in err
    assert str(source) in err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]
