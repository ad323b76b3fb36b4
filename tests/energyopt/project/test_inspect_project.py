"""``energyopt inspect FILE --project plant.toml``: the project's policy and bindings apply."""

from __future__ import annotations

import json

import numpy as np
import pytest

from energyopt import cli
from energyopt.data.quality import TagExpectation
from energyopt.data.writer import write_historian
from energyopt.project import load_project, tag_expectations

T0_MS = 1_709_251_200_000  # 2024-03-01T00:00:00Z
STEP_MS = 60_000
N = 1440


@pytest.fixture(autouse=True)
def only_inspect_command(monkeypatch):
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("energyopt.commands.inspect",))


@pytest.fixture
def history(tmp_path):
    """A day of one-minute data for the two bound tags of the test project, and one more.

    - ``PP.B1.STEAM.FLOW`` is recorded in kg/s (the binding says t/h, range
      0-250 t/h = 0-69.44 kg/s); 30 samples at 75 kg/s (270 t/h) are out of
      range.  Its file ``kind`` says setpoint, the binding says flow, and it
      holds still for 3 h.
    - ``STM.HP.PRESS`` is recorded in MW: not a pressure (unit_mismatch).
    - ``FIC-9.SP``, not bound, is a setpoint held for 6 h.
    """
    rng = np.random.default_rng(5)
    time_ms = T0_MS + STEP_MS * np.arange(N, dtype=np.int64)
    flow = 50.0 + rng.normal(0.0, 0.5, N)
    flow[100:130] = 75.0 + rng.normal(0.0, 0.5, 30)
    flow[600:780] = 48.0
    path = tmp_path / "h.h5"
    write_historian(
        path,
        time_ms,
        {
            "PP.B1.STEAM.FLOW": flow,
            "STM.HP.PRESS": 9.8 + rng.normal(0.0, 0.01, N),
            "FIC-9.SP": np.repeat([3.0, 4.0, 3.5, 4.5], 360),
        },
        {"PP.B1.STEAM.FLOW": "kg/s", "STM.HP.PRESS": "MW", "FIC-9.SP": "t/h"},
        kinds={"PP.B1.STEAM.FLOW": "setpoint", "FIC-9.SP": "setpoint"},
    )
    return {"path": path, "time_ms": time_ms}


def test_tag_expectations_from_bindings(doc, write_project):
    expectations = tag_expectations(load_project(write_project(doc)))
    assert expectations == {
        "PP.B1.STEAM.FLOW": TagExpectation(kind="flow", unit="t/h", range=(0.0, 250.0)),
        "STM.HP.PRESS": TagExpectation(kind="pressure", unit="MPa", range=(0.0, 12.0)),
    }


def test_inspect_with_project(doc, write_project, history, capsys, checksum):
    doc["data_quality"] = {"frozen_min_duration_s": "2 h", "kinds": {"setpoint": {"frozen": True}}}
    project = write_project(doc)
    before = checksum(history["path"])
    assert cli.main(["inspect", str(history["path"]), "--project", str(project), "--json"]) == 0
    assert checksum(history["path"]) == before
    report = json.loads(capsys.readouterr().out)
    t = history["time_ms"]
    found = sorted((f["tag"], f["issue"], f["start_ms"], f["count"]) for f in report["findings"])
    # The project turned the frozen check back on for setpoints: four 6-h holds.
    assert found == [("FIC-9.SP", "frozen", int(t[k]), 360) for k in (0, 360, 720, 1080)] + [
        # Bound as a flow: frozen 180 samples (>= 2 h); out of range exactly rows 100-129.
        ("PP.B1.STEAM.FLOW", "frozen", int(t[600]), 180),
        ("PP.B1.STEAM.FLOW", "out_of_range", int(t[100]), 30),
        ("STM.HP.PRESS", "unit_mismatch", int(t[0]), N),
    ]
    kinds = {tag["name"]: tag["checked_as"] for tag in report["tags"]}
    assert kinds == {"PP.B1.STEAM.FLOW": "flow", "STM.HP.PRESS": "pressure", "FIC-9.SP": "setpoint"}
    (out_of_range,) = [f for f in report["findings"] if f["issue"] == "out_of_range"]
    assert "outside [0, 69.4444]" in out_of_range["detail"]  # 250 t/h in kg/s
    assert report["missing_tags"] == []


def test_inspect_without_project_uses_file_kinds(history, capsys):
    assert cli.main(["inspect", str(history["path"]), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # Both tags say "setpoint" in the file: no frozen check, and no range or unit known.
    assert report["findings"] == []


def test_inspect_with_project_table_notes_missing_bound_tags(doc, write_project, tmp_path, capsys):
    write_historian(
        tmp_path / "one.h5",
        T0_MS + STEP_MS * np.arange(10, dtype=np.int64),
        {"STM.HP.PRESS": np.full(10, 9.8)},
        {"STM.HP.PRESS": "MPa"},
    )
    project = write_project(doc)
    assert cli.main(["inspect", str(tmp_path / "one.h5"), "--project", str(project)]) == 0
    out = capsys.readouterr().out
    assert "bound tags not in the file: PP.B1.STEAM.FLOW" in out
    assert "pressure" in out  # the kind the bindings give


def test_inspect_with_invalid_project_exits_2(doc, write_project, history, capsys):
    doc["data_quality"] = {"spike_z": "8"}
    project = write_project(doc)
    assert cli.main(["inspect", str(history["path"]), "--project", str(project)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"energyopt: error: {project}: data_quality.spike_z: expected a number, got string '8'\n"
    )
