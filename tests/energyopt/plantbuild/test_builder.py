"""Project -> plant builder: composition, derived parameters, binding map and its units."""

from __future__ import annotations

import copy
import tomllib

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.demos import demo_project_text
from energyopt.errors import ModelError, ProjectError
from energyopt.plantbuild import build_plant, nominal_disturbances
from energyopt.project import project_from_mapping

DOC = tomllib.loads(demo_project_text("steelworks"))
BUILT = build_plant(project_from_mapping(DOC))


def _built(doc):
    return build_plant(project_from_mapping(doc))


def test_one_heating_value_per_fuel_gas_node():
    names = [v.name for v in BUILT.model.disturbances]
    assert [n for n in names if "lhv" in n] == [
        "bfg.lhv_j_m3",
        "cog.lhv_j_m3",
        "ldg.lhv_j_m3",
        "ng.lhv_j_m3",
    ]
    # The mixed-gas node's quality is made by the mixing station.
    assert BUILT.plant.node_lhv["mixed_gas"] == ("x", "gas_mixing.lhv_mixed_j_m3")
    d = nominal_disturbances(BUILT)
    # Nominal value = the node's lhv_j_m3 ("3.2 MJ/Nm3" parsed by pint: exact).
    assert_allclose(d[BUILT.index("d", "bfg.lhv_j_m3")], 3.2e6, rtol=1e-12)


def test_unit_parameters_are_derived_from_nodes_and_tariffs():
    params = {u.name: u.params for u in BUILT.plant.units}
    # Exact copies of the node and tariff values (float division only: 1e-12).
    assert_allclose(params["coke_ovens"].lhv_j_m3, 17.6e6, rtol=1e-12)
    assert_allclose(params["cog_flare"].co2_kg_m3, 0.81, rtol=1e-12)
    assert_allclose(params["cog_flare"].penalty_per_m3, 0.05, rtol=1e-12)
    assert_allclose(
        [params["boiler_1"].lhv_lean_j_m3, params["boiler_1"].lhv_rich_j_m3],
        [3.2e6, 17.6e6],
        rtol=1e-12,
    )
    assert_allclose(params["boiler_3"].lhv_rich_j_m3, 36e6, rtol=1e-12)
    # Highest period price of [tariffs.electricity]: critical peak 1.32 CNY/kWh.
    assert_allclose(params["grid"].price_peak_per_j, 1.32 / 3.6e6, rtol=1e-12)
    assert_allclose(params["grid"].price_valley_per_j, 0.30 / 3.6e6, rtol=1e-12)


def test_price_disturbance_follows_the_project_tariff():
    # 2026-01-05 02:30 UTC = 10:30 in Shanghai, a January peak hour: 1.10 CNY/kWh.
    t = np.array([1_767_580_200_000], dtype=np.int64)
    assert_allclose(BUILT.electricity_price_per_j(t), [1.10 / 3.6e6], rtol=1e-12)


def test_duplicated_parameter_is_rejected():
    doc = copy.deepcopy(DOC)
    doc["units"]["bfg_flare"]["params"]["co2_kg_m3"] = 0.9
    with pytest.raises(ProjectError, match=r"units\.bfg_flare\.params\.co2_kg_m3: set by the"):
        _built(doc)


def test_binding_map_converts_units():
    level = BUILT.bindings["bfg_holder_level"]
    assert (level.vector, level.name) == ("y", "bfg_holder.level_fraction")
    # Fraction <-> %: exactly 100.
    assert_allclose(level.to_tag([0.0, 0.5, 0.9]), [0.0, 50.0, 90.0], rtol=1e-12)
    steam = BUILT.bindings["boiler_1_steam"]
    # 1 kg/s = 3.6 t/h (3600 s/h / 1000 kg/t).
    assert_allclose(steam.to_tag(1.0), 3.6, rtol=1e-12)
    fuel = BUILT.bindings["boiler_3_ldg"]
    assert (fuel.vector, fuel.name) == ("u", "boiler_3.fuel_2_m3_s")
    assert_allclose(fuel.to_model(3600.0), 1.0, rtol=1e-12)
    # Gauge pressure: 9.8 MPa absolute = 9.8 - 0.101325 MPa(g).
    hp = BUILT.bindings["hp_pressure"]
    assert_allclose(hp.to_tag(9.8e6), 9.698675, rtol=1e-12)
    values = np.array([9.1e6, 9.8e6, 10.3e6])
    assert_allclose(hp.to_model(hp.to_tag(values)), values, rtol=1e-12)
    ng = BUILT.bindings["ng_import"]
    assert ng.name == "ng.demand"


def test_unknown_variable_names_binding_and_suggests():
    doc = copy.deepcopy(DOC)
    doc["bindings"]["tg_1_power"]["variable"] = "tg_1.power"
    with pytest.raises(ModelError, match=r"bindings\.tg_1_power: .*did you mean 'power_w'"):
        _built(doc)


def test_incompatible_unit_names_binding():
    doc = copy.deepcopy(DOC)
    doc["bindings"]["tg_1_power"]["unit"] = "t/h"
    with pytest.raises(ModelError, match=r"bindings\.tg_1_power: unit 't/h' does not fit"):
        _built(doc)


def test_node_without_modelled_pressure_is_a_model_error():
    doc = copy.deepcopy(DOC)
    doc["bindings"]["ng_import"]["variable"] = "ng.pressure"
    doc["bindings"]["ng_import"]["unit"] = "kPa"
    with pytest.raises(ModelError, match="the model has no pressure of node ng"):
        _built(doc)


def test_plant_name_is_a_valid_casadi_function_name():
    # "Steelworks energy system (demo)": casadi rejects consecutive underscores.
    assert BUILT.model.name == "Steelworks_energy_system_demo"
