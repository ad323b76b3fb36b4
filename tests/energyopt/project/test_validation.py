"""Validation messages: every problem names the file, the key path and what is wrong."""

from __future__ import annotations

import pytest
from numpy.testing import assert_allclose

from energyopt.errors import ProjectError
from energyopt.project import load_project
from plant_models.registry import UNIT_TYPES


def problems_of(path) -> list[str]:
    """Load ``path`` expecting failure; return the message lines without the file prefix."""
    with pytest.raises(ProjectError) as exc:
        load_project(path)
    lines = str(exc.value).splitlines()
    prefix = f"{path}: "
    assert all(line.startswith(prefix) for line in lines), lines
    return [line.removeprefix(prefix) for line in lines]


def test_efficiency_out_of_range_exact_message(doc, write_project):
    doc["units"]["boiler_1"]["params"]["efficiency_nominal"] = 1.3
    path = write_project(doc)
    with pytest.raises(ProjectError) as exc:
        load_project(path)
    assert str(exc.value) == (
        f"{path}: units.boiler_1.params.efficiency_nominal: must be between 0 and 1, got 1.3"
    )


def test_all_problems_reported_at_once(doc, write_project):
    doc["units"]["boiler_1"]["params"]["efficiency_nominal"] = 1.3
    doc["units"]["boiler_1"]["params"]["min_load_fraction"] = -0.1
    doc["project"]["timezone"] = "Europe/Berln"
    doc["bindings"]["hp_pressure"]["kind"] = "presure"
    lines = problems_of(write_project(doc))
    assert sorted(lines) == sorted(
        [
            (
                "project.timezone: unknown IANA time zone 'Europe/Berln' "
                "(did you mean 'Europe/Berlin'?)"
            ),
            "units.boiler_1.params.min_load_fraction: must be between 0 and 1, got -0.1",
            "units.boiler_1.params.efficiency_nominal: must be between 0 and 1, got 1.3",
            (
                "bindings.hp_pressure.kind: got string 'presure' (did you mean 'pressure'?); must "
                "be one of 'flow', 'power', 'heat', 'temperature', 'pressure', 'level', "
                "'concentration', 'property', 'position', 'state', 'status', 'mode', 'setpoint', "
                "'counter', 'price'"
            ),
        ]
    )


def test_string_where_number_expected(doc, write_project):
    doc["media"]["bfg"]["co2_kg_m3"] = "lots"
    doc["bindings"]["boiler_1_steam"]["rate_limit_per_min"] = "5"
    lines = problems_of(write_project(doc))
    assert lines == [
        "media.bfg.co2_kg_m3: expected a number with a unit such as '220 t/h', got 'lots'",
        "bindings.boiler_1_steam.rate_limit_per_min: expected a number, got string '5'",
    ]


def test_boolean_is_not_a_number(doc, write_project):
    doc["units"]["boiler_1"]["params"]["efficiency_nominal"] = True
    lines = problems_of(write_project(doc))
    assert lines == [
        (
            "units.boiler_1.params.efficiency_nominal: expected a number or a string with a unit, "
            "got a boolean"
        )
    ]


def test_list_where_table_expected(doc, write_project):
    doc["media"]["bfg"] = ["fuel_gas"]
    doc["controller"] = {"tracking_weights": [1, 2]}
    lines = problems_of(write_project(doc))
    assert lines == [
        "media.bfg: expected a table, got an array",
        "controller.tracking_weights: expected a table, got an array",
    ]


def test_missing_required_key(doc, write_project):
    del doc["project"]["timezone"]
    assert problems_of(write_project(doc)) == ["project.timezone: required key is missing"]


def test_unknown_key_with_suggestion(doc, write_project):
    doc["bindings"]["hp_pressure"]["normall"] = [9.7, 9.9]
    doc["controller"] = {"intervall_s": 60}
    lines = problems_of(write_project(doc))
    assert lines == [
        "bindings.hp_pressure.normall: unknown key (did you mean 'normal'?)",
        "controller.intervall_s: unknown key (did you mean 'interval_s'?)",
    ]


def test_unknown_key_without_close_match_lists_allowed(doc, write_project):
    doc["project"]["owner"] = "someone"
    (line,) = problems_of(write_project(doc))
    assert line == (
        "project.owner: unknown key; allowed: format_version, name, description, site, "
        "timezone, currency"
    )


def test_unknown_top_level_table(doc, write_project):
    doc["tarifs"] = {}
    assert problems_of(write_project(doc)) == ["tarifs: unknown key (did you mean 'tariffs'?)"]


def test_unknown_unit_type_lists_known_types(doc, write_project):
    doc["units"]["boiler_1"]["type"] = "boilr"
    (line,) = problems_of(write_project(doc))
    assert line.startswith(
        "units.boiler_1.type: unknown unit type 'boilr' (did you mean 'boiler'?)"
    )
    assert line.endswith("known types: " + ", ".join(sorted(UNIT_TYPES)))


def test_unknown_parameter(doc, write_project):
    doc["units"]["boiler_1"]["params"]["efficiency_nominall"] = 0.9
    (line,) = problems_of(write_project(doc))
    assert line.startswith(
        "units.boiler_1.params.efficiency_nominall: unknown parameter of unit type 'boiler' "
        "(did you mean 'efficiency_nominal'?); known: capacity_steam_kg_s"
    )


def test_unknown_port(doc, write_project):
    doc["units"]["boiler_1"]["connections"]["steam"] = "hp_steam"
    del doc["units"]["boiler_1"]["connections"]["steam_out"]
    lines = problems_of(write_project(doc))
    assert lines == [
        (
            "units.boiler_1.connections.steam: unknown port 'steam' of unit type 'boiler' (did you "
            "mean 'steam_out'?); ports: fuel, steam_out, power_aux"
        ),
        (
            "units.boiler_1.connections: required port 'steam_out' (steam, Live-steam header "
            "supplied) is not connected"
        ),
    ]


def test_several_nodes_on_single_port(doc, write_project):
    doc["units"]["boiler_1"]["connections"]["steam_out"] = ["hp_steam", "hp_steam"]
    assert problems_of(write_project(doc)) == [
        "units.boiler_1.connections.steam_out: port 'steam_out' takes one node, got 2"
    ]


def test_wrong_medium_kind_and_missing_node(doc, write_project):
    doc["units"]["boiler_1"]["connections"] = {"fuel": ["bfg", "cgo"], "steam_out": "bfg"}
    lines = problems_of(write_project(doc))
    assert lines == [
        "units.boiler_1.connections.fuel: no media node 'cgo'",
        (
            "units.boiler_1.connections.steam_out: port 'steam_out' needs a steam node, 'bfg' is "
            "fuel_gas"
        ),
    ]


def test_missing_node_with_suggestion(doc, write_project):
    doc["units"]["boiler_1"]["connections"]["steam_out"] = "hp_stem"
    assert problems_of(write_project(doc)) == [
        "units.boiler_1.connections.steam_out: no media node 'hp_stem' (did you mean 'hp_steam'?)"
    ]


def test_medium_kind_rules(doc, write_project):
    doc["media"]["bfg"] = {"kind": "fuel_gas", "lhv_j_m3": 3.2e6, "temperature_k": 300}
    doc["media"]["hp_steam"]["kind"] = "stem"
    lines = problems_of(write_project(doc))
    assert lines == [
        "media.bfg.co2_kg_m3: required for kind 'fuel_gas'",
        "media.bfg.temperature_k: not used for kind 'fuel_gas'",
        (
            "media.hp_steam.kind: unknown medium kind 'stem' (did you mean 'steam'?); known: "
            "electricity, steam, fuel_gas, water, cooling_water, compressed_air, process"
        ),
    ]


def test_invalid_names(doc, write_project):
    doc["media"]["hp steam"] = doc["media"].pop("hp_steam")
    (line,) = problems_of(write_project(doc))
    assert line == (
        "media.\"hp steam\": invalid name 'hp steam': use letters, digits and '_', starting "
        "with a letter"
    )


def test_unit_and_node_names_must_differ(doc, write_project):
    doc["units"]["bfg"] = {"type": "flare", "connections": {"gas": "bfg"}}
    assert problems_of(write_project(doc)) == ["units.bfg: name already used by media node 'bfg'"]


def test_unit_strings_are_converted(doc, write_project):
    doc["media"]["hp_steam"]["pressure_pa"] = "9.8 MPa(g)"
    doc["media"]["hp_steam"]["temperature_k"] = "540 degC"
    doc["controller"] = {"interval_s": "1 min", "horizon_s": "2 h"}
    project = load_project(write_project(doc))
    # Independent arithmetic: 220 t/h = 220000 kg / 3600 s; 9.8 MPa gauge plus the
    # standard atmosphere 101.325 kPa; 540 degC + 273.15 K.  Float rounding only.
    assert_allclose(project.unit_params("boiler_1").capacity_steam_kg_s, 61.111111, rtol=1e-7)
    assert_allclose(project.media["hp_steam"].pressure_pa, 9.8e6 + 101325.0, rtol=1e-12)
    assert_allclose(project.media["hp_steam"].temperature_k, 813.15, rtol=1e-12)
    assert_allclose(project.media["bfg"].lhv_j_m3, 3.2e6, rtol=1e-12)
    assert project.controller.interval_s == 60.0
    assert project.controller.horizon_steps == 120


def test_incompatible_unit_string(doc, write_project):
    doc["units"]["boiler_1"]["params"]["capacity_steam_kg_s"] = "220 MW"
    (line,) = problems_of(write_project(doc))
    assert line.startswith("units.boiler_1.params.capacity_steam_kg_s: unit 'MW'")
    assert "is not compatible with 'kg/s'" in line


def test_unknown_unit_in_string(doc, write_project):
    doc["units"]["boiler_1"]["params"]["capacity_steam_kg_s"] = "220 tph"
    (line,) = problems_of(write_project(doc))
    assert line.startswith("units.boiler_1.params.capacity_steam_kg_s: unknown unit 'tph'")


def test_controller_rules(doc, write_project):
    doc["controller"] = {"interval_s": 60, "horizon_s": 1000, "max_solve_time_s": 90}
    lines = problems_of(write_project(doc))
    assert lines == [
        "controller.horizon_s: must be a whole multiple of interval_s (60 s), got 1000 s",
        "controller.max_solve_time_s: must be shorter than interval_s (60 s), got 90 s",
    ]


def test_controller_weights_name_bindings_of_the_right_role(doc, write_project):
    doc["controller"] = {
        "tracking_weights": {"boiler_1_steam": 1.0, "hp_presure": 2.0},
        "move_suppression": {"hp_pressure": -1.0},
    }
    lines = problems_of(write_project(doc))
    assert lines == ["controller.move_suppression.hp_pressure: must be at least 0, got float -1"]
    doc["controller"]["move_suppression"]["hp_pressure"] = 1.0
    lines = problems_of(write_project(doc))
    assert lines == [
        (
            "controller.tracking_weights.boiler_1_steam: binding 'boiler_1_steam' is manipulated, "
            "not controlled"
        ),
        (
            "controller.tracking_weights.hp_presure: no binding 'hp_presure' (did you mean "
            "'hp_pressure'?)"
        ),
        (
            "controller.move_suppression.hp_pressure: binding 'hp_pressure' is controlled, not "
            "manipulated"
        ),
    ]


def test_price_basis_must_suit_the_node(doc, write_project):
    doc["tariffs"]["prices"] = {"hp_steam": {"price_per_m3": 1.0}, "ng": {"price_per_m3": 3.0}}
    doc["tariffs"]["sales"] = {"bfg": {"price_per_t": 1.0, "price_per_gj": 2.0}}
    lines = problems_of(write_project(doc))
    assert lines == [
        (
            "tariffs.sales.bfg: give exactly one of price_per_m3, price_per_gj, price_per_t, "
            "price_per_kwh; got price_per_gj, price_per_t"
        ),
    ]
    doc["tariffs"]["sales"] = {"bfg": {"price_per_t": 1.0}}
    lines = problems_of(write_project(doc))
    assert lines == [
        (
            "tariffs.prices.hp_steam.price_per_m3: not a price basis for steam; use price_per_t or "
            "price_per_gj"
        ),
        "tariffs.prices.ng: no media node 'ng'",
        (
            "tariffs.sales.bfg.price_per_t: not a price basis for fuel_gas; use price_per_m3 or "
            "price_per_gj"
        ),
    ]


def test_data_quality_values_are_strict(doc, write_project):
    doc["data_quality"] = {
        "spike_z": "8",
        "frozen": "no",
        "frozen_min_duration_s": "3600",
        "spike_window": 31.0,
        "kinds": {"setpiont": {"frozen": False}, "state": {"spike_z": -1}},
    }
    lines = problems_of(write_project(doc))
    assert lines == [
        "data_quality.frozen: expected true or false, got string 'no'",
        (
            "data_quality.frozen_min_duration_s: a string needs a unit (write a plain number "
            "for s), got '3600'"
        ),
        "data_quality.spike_z: expected a number, got string '8'",
        "data_quality.spike_window: expected an integer, got float 31",
        (
            "data_quality.kinds.setpiont: got string 'setpiont' (did you mean 'setpoint'?); "
            "must be one of 'flow', 'power', 'heat', 'temperature', 'pressure', 'level', "
            "'concentration', 'property', 'position', 'state', 'status', 'mode', 'setpoint', "
            "'counter', 'price'"
        ),
        "data_quality.kinds.state.spike_z: must be greater than 0, got integer -1",
    ]
