"""Tests of energyopt.data.inspect and ``energyopt inspect``."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

import energyopt.cli as cli
from energyopt.data import write_historian
from energyopt.data.inspect import inspect_file
from energyopt.data.quality import QualityPolicy, scan_series, scan_time_axis

T0_MS = 1_709_251_200_000  # 2024-03-01T00:00:00Z
STEP_MS = 60_000


@pytest.fixture
def cli_main(monkeypatch: pytest.MonkeyPatch):
    """The CLI with only the data commands registered: fast, and independent of the others."""
    monkeypatch.setattr(
        cli, "COMMAND_MODULES", ("energyopt.commands.inspect", "energyopt.commands.import_csv")
    )
    return cli.main


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two days of one-minute data with one problem of each kind at a known place."""
    n = 2 * 1440
    time_ms = T0_MS + STEP_MS * np.arange(n, dtype=np.int64)
    time_ms[1000:] += 30 * STEP_MS  # a 31-minute gap after row 999
    rng = np.random.default_rng(7)
    flow = 100.0 + rng.normal(0.0, 1.0, n)
    flow[200:210] = np.nan  # a NaN run of 10 samples
    flow[500] = 180.0  # a spike (80 sigma)
    flow[1500:1700] = 101.5  # frozen for 199 minutes
    quality = np.zeros(n, np.uint8)
    quality[2000:2005] = 1  # bad codes
    values = {"FI-1": flow, "dead": np.full(n, np.nan), "TI-2": 20.0 + rng.normal(0, 0.1, n)}
    path = tmp_path_factory.mktemp("inspect") / "messy.h5"
    write_historian(
        path,
        time_ms,
        values,
        {"FI-1": "t/h", "dead": "MW", "TI-2": "degC"},
        quality={"FI-1": quality},
        kinds={"FI-1": "flow"},
        timezone="Asia/Shanghai",
    )
    return {"path": path, "time_ms": time_ms, "values": values, "quality": quality}


def test_findings_match_whole_array_scans(messy: dict, checksum):
    digest = checksum(messy["path"])
    # chunk_rows=333 forces about 9 chunks per tag.
    report = inspect_file(messy["path"], chunk_rows=333)
    assert checksum(messy["path"]) == digest
    policy = QualityPolicy()
    t = messy["time_ms"]
    sampling = 60_000.0
    expected = scan_time_axis(t, sampling_ms=sampling)
    for tag, column in messy["values"].items():
        codes = messy["quality"] if tag == "FI-1" else None
        expected += scan_series(
            tag, t, column, codes, policy=policy, sampling_ms=sampling, check_time_axis=False
        )
    assert sorted(report.findings, key=repr) == sorted(expected, key=repr)
    issues = {(f.tag, f.issue) for f in report.findings}
    assert issues >= {
        ("time", "gap"),
        ("FI-1", "nan"),
        ("FI-1", "spike"),
        ("FI-1", "frozen"),
        ("FI-1", "bad_quality_flag"),
        ("dead", "all_nan"),
    }
    (gap,) = report.findings_of("time")
    assert (gap.start_ms, gap.end_ms) == (int(t[999]), int(t[1000]))
    (nan,) = [f for f in report.findings_of("FI-1") if f.issue == "nan"]
    assert (nan.start_ms, nan.count) == (int(t[200]), 10)


def test_report_metadata(messy: dict):
    report = inspect_file(messy["path"], tags=["TI-2"])
    assert [info.name for info in report.tags] == ["TI-2"]
    assert {f.tag for f in report.findings} <= {"time", "TI-2"}
    assert report.timezone == "Asia/Shanghai"
    assert report.n_samples == 2880
    assert report.sampling_ms == 60_000.0
    data = report.to_dict()
    assert data["time_start"] == "2024-03-01T08:00:00+08:00"
    assert data["time_start_ms"] == T0_MS
    json.dumps(data)  # JSON-ready


def test_non_monotonic_file_is_inspected_not_refused(tmp_path: Path):
    path = tmp_path / "nm.h5"
    write_historian(path, np.arange(6), {"a": np.arange(6.0)}, {"a": "1"})
    with h5py.File(path, "r+") as h5file:
        h5file["time"][...] = [0, 60_000, 180_000, 120_000, 120_000, 240_000]
    report = inspect_file(path)
    assert [f.issue for f in report.file_findings] == ["time_repaired"]
    assert "1 rows with a repeated timestamp dropped" in report.file_findings[0].detail
    issues = {f.issue for f in report.findings_of("time")}
    assert {"non_monotonic_time", "duplicate_time"} <= issues
    assert report.n_samples == 5


def test_cli_inspect_json(messy: dict, cli_main, capsys):
    assert cli_main(["inspect", str(messy["path"]), "--json", "--tags", "FI-1,dead"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert [tag["name"] for tag in data["tags"]] == ["FI-1", "dead"]
    assert any(f["issue"] == "all_nan" and f["tag"] == "dead" for f in data["findings"])
    assert all(f["start_local"].endswith("+08:00") for f in data["findings"])


def test_cli_inspect_table(messy: dict, cli_main, capsys):
    assert cli_main(["inspect", str(messy["path"])]) == 0
    out = capsys.readouterr().out
    for text in ("Asia/Shanghai", "FI-1", "all_nan", "frozen", "2880"):
        assert text in out


def test_cli_inspect_unknown_tag(messy: dict, cli_main, capsys):
    assert cli_main(["inspect", str(messy["path"]), "--tags", "FI-11"]) == 2
    err = capsys.readouterr().err
    assert "no tag 'FI-11'; did you mean 'FI-1'" in err
    assert "Traceback" not in err


def test_setpoints_holding_still_are_not_frozen(tmp_path: Path):
    # A day of one-minute data: a setpoint stepping every 5 h and a flow
    # sensor stuck for 2 h.  Only the stuck sensor is a finding.
    n = 1440
    time_ms = T0_MS + STEP_MS * np.arange(n, dtype=np.int64)
    setpoint = np.repeat([50.0, 55.0, 52.0, 58.0, 51.0], 300)[:n]
    flow = 100.0 + np.random.default_rng(3).normal(0.0, 1.0, n)
    flow[600:720] = flow[600]
    counter = np.floor(np.arange(n) / 400.0)  # steps every 400 min
    path = tmp_path / "sp.h5"
    write_historian(
        path,
        time_ms,
        {"FIC-1.SP": setpoint, "FIC-1.PV": flow, "FQ-1": counter, "FIC-2.SP": setpoint},
        {"FIC-1.SP": "t/h", "FIC-1.PV": "t/h", "FQ-1": "t", "FIC-2.SP": "t/h"},
        kinds={"FIC-1.SP": "setpoint", "FIC-1.PV": "flow", "FQ-1": "Totaliser"},
    )
    report = inspect_file(path)
    frozen = [(f.tag, f.start_ms, f.count) for f in report.findings if f.issue == "frozen"]
    # FIC-2.SP has no kind attribute: it is checked like a sensor.
    assert sorted(frozen) == sorted(
        [("FIC-1.PV", int(time_ms[600]), 120)]
        + [("FIC-2.SP", int(time_ms[k]), min(300, n - k)) for k in range(0, n, 300)]
    )
    assert report.kinds == {
        "FIC-1.SP": "setpoint",
        "FIC-1.PV": "flow",
        "FQ-1": "Totaliser",
        "FIC-2.SP": "",
    }
    # A policy can turn the check back on for setpoints.
    strict = QualityPolicy.model_validate({"kinds": {"setpoint": {"frozen": True}}})
    report = inspect_file(path, tags=["FIC-1.SP"], policy=strict)
    assert [f.count for f in report.findings] == [300, 300, 300, 300, 240]


def test_time_findings_use_the_public_time_axis_scanner(messy: dict, monkeypatch):
    from energyopt.data import quality

    fed: list[int] = []
    original = quality.TimeAxisScanner.feed

    def spy(self, time_ms):
        fed.append(len(time_ms))
        original(self, time_ms)

    monkeypatch.setattr(quality.TimeAxisScanner, "feed", spy)
    report = inspect_file(messy["path"], chunk_rows=1000)
    assert fed == [1000, 1000, 880]  # the raw axis in file order, chunk by chunk
    assert report.findings_of("time") == scan_time_axis(messy["time_ms"], sampling_ms=60_000.0)
