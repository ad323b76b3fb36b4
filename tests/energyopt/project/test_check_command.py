"""``energyopt check``: summary or errors, exit status 0/2, never a traceback."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from energyopt import cli
from energyopt.data.writer import write_historian


@pytest.fixture(autouse=True)
def only_check_command(monkeypatch):
    # Other sub-commands are developed in parallel; the contract under test is
    # energyopt.cli.main dispatching to this one.
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("energyopt.commands.check",))


def steelworks() -> str:
    return str(resources.files("energyopt.demos") / "steelworks.toml")


def test_valid_project_prints_summary(capsys):
    assert cli.main(["check", steelworks()]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.startswith(f"{steelworks()}: valid energyopt project (format 1)\n")
    assert "  units        31 (6 gas_consumer, 3 gas_producer, 3 gas_holder, 3 boiler" in out
    assert "  bindings     46 (16 measurement, 12 manipulated, 11 disturbance, 7 controlled)" in out
    assert "valley 0.3, flat 0.65, peak 1.1, critical 1.32 CNY/kWh" in out
    assert "warning" not in out


def test_invalid_project_exits_2_with_every_problem(doc, write_project, capsys):
    doc["units"]["boiler_1"]["params"]["efficiency_nominal"] = 1.3
    doc["project"]["nmae"] = "x"
    path = write_project(doc)
    assert cli.main(["check", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"energyopt: error: {path}: project.nmae: unknown key (did you mean 'name'?)\n"
        f"{path}: units.boiler_1.params.efficiency_nominal: must be between 0 and 1, got 1.3\n"
    )
    assert "Traceback" not in err


def test_missing_file_exits_2(tmp_path, capsys):
    path = tmp_path / "nope.toml"
    assert cli.main(["check", str(path)]) == 2
    assert capsys.readouterr().err == f"energyopt: error: {path}: project file not found\n"


def test_json_output_valid(capsys):
    assert cli.main(["check", steelworks(), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["valid"] is True
    assert result["errors"] == []
    summary = result["summary"]
    assert summary["units"]["boiler"] == 3
    assert summary["media"]["fuel_gas"] == 5
    assert summary["controller"] == {
        "mode": "ADVISE",
        "interval_s": 60.0,
        "horizon_s": 7200.0,
        "horizon_steps": 120,
        "solver": "ipopt",
    }
    assert summary["tariffs"]["prices"] == {
        "ng": {"price_per_m3": 3.4},
        "demin_water": {"price_per_t": 8.0},
    }


def test_json_output_invalid(doc, write_project, capsys):
    doc["units"]["boiler_1"]["params"]["efficiency_nominal"] = 1.3
    path = write_project(doc)
    assert cli.main(["check", str(path), "--json"]) == 2
    out, err = capsys.readouterr()
    assert err == ""
    result = json.loads(out)
    assert result["valid"] is False
    assert result["errors"] == [
        f"{path}: units.boiler_1.params.efficiency_nominal: must be between 0 and 1, got 1.3"
    ]


def _history(path: Path, tags: dict[str, str]) -> Path:
    time_ms = np.arange(4, dtype=np.int64) * 60_000
    write_historian(path, time_ms, {t: np.zeros(4) for t in tags}, tags)
    return path


def test_with_data_all_tags_found(doc, write_project, tmp_path, capsys, checksum):
    path = write_project(doc)
    h5 = _history(tmp_path / "h.h5", {"PP.B1.STEAM.FLOW": "kg/s", "STM.HP.PRESS": "MPa"})
    before = checksum(h5)
    assert cli.main(["check", str(path), "--data", str(h5)]) == 0
    out = capsys.readouterr().out
    assert f"historian    {h5}: all 2 bound tags found, units compatible" in out
    assert (
        f"warning: {path}: bindings.boiler_1_steam: tag 'PP.B1.STEAM.FLOW' is recorded in "
        "'kg/s', converted to 't/h'"
    ) in out
    assert checksum(h5) == before


def test_with_data_missing_tag_exits_2(doc, write_project, tmp_path, capsys):
    path = write_project(doc)
    h5 = _history(tmp_path / "h.h5", {"PP.B1.STEAM.FLOW": "t/h", "STM.HP.PRESSURE": "MPa"})
    assert cli.main(["check", str(path), "--data", str(h5)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"energyopt: error: {path}: bindings.hp_pressure.tag: tag 'STM.HP.PRESS' is not in "
        f"'{h5}'; did you mean 'STM.HP.PRESSURE'?\n"
    )


def test_with_missing_data_file_exits_2(doc, write_project, tmp_path, capsys):
    path = write_project(doc)
    assert cli.main(["check", str(path), "--data", str(tmp_path / "none.h5")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("energyopt: error: ")
    assert "none.h5" in err
    assert "Traceback" not in err
