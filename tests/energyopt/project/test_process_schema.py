"""Schema of declared process plants: PID loop keys, modes, flowsheet settings, feeds, draws."""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path

import pytest

from energyopt.errors import ProjectError
from energyopt.project import dumps_project, load_project, project_from_mapping


@pytest.fixture(scope="module")
def demo():
    return load_project(Path(str(resources.files("energyopt.demos") / "chemical.toml")))


@pytest.fixture
def data(demo):
    return copy.deepcopy(demo.model_dump(exclude_none=True))


def _lines(data):
    with pytest.raises(ProjectError) as info:
        project_from_mapping(data, source="p.toml")
    return str(info.value).splitlines()


def test_demo_declares_loops_modes_and_settings(demo):
    tic = demo.units["tic_102"]
    assert (tic.measurement, tic.actuator, tic.setpoint) == (
        "reactor.t_reactor_k",
        "reactor.valve_cooling",
        None,
    )
    assert set(demo.modes) == {"high_throughput", "high_selectivity"}
    assert demo.setpoint_loops() == ("fic_101", "tic_102", "tic_110", "lic_201", "fic_203")
    settings = demo.units["flash"].flowsheet_settings
    # "1.8 t/h" of steam is 0.5 kg/s; "10 kmol/m3" is 1e4 mol/m3 (exact up to rounding).
    assert settings.steam_max_kg_s == pytest.approx(0.5, rel=1e-12)
    assert settings.molar_density_mol_m3 == pytest.approx(1.0e4, rel=1e-12)
    assert demo.media["fresh_feed"].feed_settings.valve_time_s == 5.0
    assert demo.media["cooling_water"].draws == ["flash.condenser_heat_w"]


def test_new_keys_survive_a_save(demo):
    # dumps_project validates the text again and compares it with the project.
    text = dumps_project(demo)
    assert 'measurement = "reactor.t_reactor_k"' in text
    assert "[modes.high_throughput" in text


def test_pid_keys_are_required_and_only_for_pid(data):
    del data["units"]["tic_102"]["actuator"]
    data["units"]["reactor"]["measurement"] = "reactor.t_reactor_k"
    data["units"]["fic_101"]["setpoint"] = "no dots"
    lines = _lines(data)
    assert 'p.toml: units.tic_102.actuator: required for type = "pid"' in lines
    assert 'p.toml: units.reactor.measurement: only for type = "pid"' in lines
    assert (
        "p.toml: units.fic_101.setpoint: expected '<unit or node>.<variable>', got 'no dots'"
        in lines
    )


def test_loop_paths_name_existing_units(data):
    data["units"]["tic_102"]["measurement"] = "reactr.t_reactor_k"
    data["units"]["plant_motors"]["in_service"] = False
    data["units"]["lic_201"]["actuator"] = "plant_motors.shed_fraction"
    lines = _lines(data)
    assert (
        "p.toml: units.tic_102.measurement: no unit or media node 'reactr' "
        "(did you mean 'reactor'?)" in lines
    )
    assert "p.toml: units.lic_201.actuator: unit 'plant_motors' is out of service" in lines


def test_modes_must_set_every_setpoint_loop_and_only_those(data):
    setpoints = data["modes"]["high_selectivity"]["setpoints"]
    del setpoints["tic_110"]
    setpoints["tic_111"] = "110 degC"
    setpoints["reactor"] = 1.0
    lines = _lines(data)
    assert "p.toml: modes.high_selectivity.setpoints: no setpoint for loop(s) tic_110" in lines
    assert (
        "p.toml: modes.high_selectivity.setpoints.tic_111: no pid unit 'tic_111' "
        "(did you mean 'tic_110'?)" in lines
    )
    assert "p.toml: modes.high_selectivity.setpoints.reactor: no pid unit 'reactor'" in lines


def test_mode_tables_are_checked_by_themselves(data):
    data["modes"]["empty"] = {"setpoints": {}}
    data["modes"]["bad_unit"] = copy.deepcopy(data["modes"]["high_throughput"])
    data["modes"]["bad_unit"]["setpoints"]["fic_101"] = "18 furlongs_per_h"
    data["modes"]["no_unit"] = copy.deepcopy(data["modes"]["high_throughput"])
    data["modes"]["no_unit"]["setpoints"]["tic_102"] = "118"
    lines = _lines(data)
    assert "p.toml: modes.empty.setpoints: a mode needs at least one setpoint" in lines
    assert (
        "p.toml: modes.no_unit.setpoints.tic_102: expected a number with a unit such as "
        "'18 m3/h' (or a plain number), got '118'" in lines
    )
    assert any(
        line.startswith("p.toml: modes.bad_unit.setpoints.fic_101: unknown unit") for line in lines
    )


def test_settings_are_validated_like_params(data):
    data["units"]["flash"]["settings"]["steam_max"] = 1.0
    data["units"]["flash"]["settings"]["valve_time_s"] = "2 h"
    data["units"]["grid"]["settings"] = {"x": 1.0}
    data["media"]["fresh_feed"]["feed"]["flow_max_m3_s"] = "25 degC"
    data["media"]["el_bus"]["feed"] = {"valve_time_s": 5.0}
    data["media"]["product"]["draws"] = ["flash.condenser_heat_w"]
    lines = _lines(data)
    assert any(
        line.startswith(
            "p.toml: units.flash.settings.steam_max: unknown settings key of this unit type "
            "(did you mean 'steam_max_kg_s'?)"
        )
        for line in lines
    )
    assert (
        "p.toml: units.flash.settings.valve_time_s: must be between 0.1 and 600, got 7200" in lines
    )
    assert any(
        line.startswith("p.toml: units.grid.settings: unit type 'grid' has no flowsheet settings")
        for line in lines
    )
    assert any(line.startswith("p.toml: media.fresh_feed.feed.flow_max_m3_s: ") for line in lines)
    assert "p.toml: media.el_bus.feed: not used for kind 'electricity'" in lines
    assert (
        "p.toml: media.product.draws: not used for kind 'process' (streams are connected)" in lines
    )
