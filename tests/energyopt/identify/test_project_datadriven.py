"""Declaring a data-driven unit in the project TOML: validation with key paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from energyopt.errors import ProjectError
from energyopt.project import dumps_project, load_project

Make = Callable[..., Any]


def _lines(plant: Any) -> list[str]:
    with pytest.raises(ProjectError) as info:
        load_project(plant.project)
    prefix = f"{plant.project}: "
    return [line.removeprefix(prefix) for line in str(info.value).splitlines()]


def test_valid_declaration_builds_the_spec_in_si(recorded: Make) -> None:
    project = load_project(recorded().project)
    unit = project.units["sinter_fan"]
    assert unit.is_data_driven
    spec = unit.model.spec
    assert spec.model_type == "arx"
    assert [v.unit for v in spec.inputs + spec.disturbances + spec.outputs] == ["1", "m", "W"]
    assert unit.model.sample_time_s == 60.0
    assert unit.declared_variables == ("damper", "bed_height", "power")
    # The project saves and loads back unchanged (defaults are not written out).
    assert "na = 2" in dumps_project(project)
    with pytest.raises(ProjectError, match="has no parameter set"):
        project.unit_params("sinter_fan")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"na": -1}, "units.sinter_fan.model.na: must be at least 0, got integer -1"),
        (
            {"nb": [2]},
            "units.sinter_fan.model.nb: needs one entry per model input (2), got 1",
        ),
        ({"degree": 3}, "units.sinter_fan.model.degree: not used for kind 'arx'"),
        (
            {"kind": "statespace"},
            "units.sinter_fan.model.kind: got string 'statespace' (did you mean 'state_space'?)",
        ),
        ({"sample_time_s": 0}, "units.sinter_fan.model.sample_time_s: must be greater than 0"),
        ({"outputs": []}, "units.sinter_fan.model.outputs: a data-driven unit needs at least"),
        (
            {"inputs": [{"name": "damper", "tag": "SINTER.FAN.DAMPER", "unit": "blorps"}]},
            "units.sinter_fan.model.inputs[0].unit: ",
        ),
    ],
)
def test_invalid_declarations(recorded: Make, overrides: dict[str, Any], expected: str) -> None:
    lines = _lines(recorded(**overrides))
    assert any(line.startswith(expected) for line in lines), lines


def _doc(recorded_plant: Any) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(recorded_plant.project.read_text(encoding="utf-8"))


def test_data_driven_ports_are_tables_and_the_model_is_required(recorded: Make) -> None:
    doc = _doc(recorded())
    doc["units"]["sinter_fan"]["connections"] = {"power_in": "grid"}
    del doc["units"]["sinter_fan"]["model"]
    lines = _lines(recorded(doc))
    assert 'units.sinter_fan.model: required for type = "data_driven"' in lines
    assert any(
        line.startswith(
            "units.sinter_fan.connections.power_in: a data_driven unit's port is a table"
        )
        for line in lines
    )


def test_model_table_only_for_data_driven_units(recorded: Make) -> None:
    doc = _doc(recorded())
    doc["units"]["sinter_fan"]["type"] = "boiler"
    assert 'units.sinter_fan.model: only for type = "data_driven"' in _lines(recorded(doc))


def test_bindings_name_the_signals(recorded: Make) -> None:
    doc = _doc(recorded())
    doc["bindings"] = {
        "fan_power": {
            "variable": "sinter_fan.speed",
            "tag": "SINTER.FAN.POWER",
            "unit": "MW",
            "kind": "power",
            "role": "measurement",
        }
    }
    (line,) = _lines(recorded(doc))
    assert line.startswith(
        "bindings.fan_power.variable: 'speed' is not a variable of unit type 'data_driven'"
    )
    doc["bindings"]["fan_power"]["variable"] = "sinter_fan.power"
    assert load_project(recorded(doc).project).bindings["fan_power"].variable == "sinter_fan.power"


def test_a_data_driven_unit_is_identified_not_calibrated(recorded: Make) -> None:
    from energyopt.data.reader import HistorianReader
    from energyopt.errors import ModelError
    from energyopt.fitting import UnitFitSpec, calibrate_units

    plant = recorded()
    project = load_project(plant.project)
    with (
        HistorianReader(plant.history) as reader,
        pytest.raises(ModelError, match=r"units\.sinter_fan: a data-driven unit .* identify it"),
    ):
        calibrate_units(project, reader, [UnitFitSpec(unit="sinter_fan", parameters=("a",))])
