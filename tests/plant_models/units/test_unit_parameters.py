"""The unit library's parameter classes: registry, defaults, cross-field rules."""

from __future__ import annotations

import dataclasses

import pytest

from plant_models.parameters import MEDIUM_KINDS, ParameterError, param_specs
from plant_models.registry import UNIT_TYPES, unit_params_class
from plant_models.units.boiler import BoilerParams
from plant_models.units.chiller import ChillerParams
from plant_models.units.distillation import DistillationParams
from plant_models.units.gas_holder import GasHolderParams
from plant_models.units.grid import GridParams
from plant_models.units.pid import PidParams
from plant_models.units.prv_station import PrvStationParams
from plant_models.units.pump import PumpParams
from plant_models.units.steam_header import SteamHeaderParams
from plant_models.units.turbogenerator import TurbogeneratorParams

EXPECTED_TYPES = {
    "gas_holder",
    "boiler",
    "turbogenerator",
    "prv_station",
    "steam_header",
    "grid",
    "flare",
    "gas_mixer",
    "chiller",
    "air_compressor",
    "pump",
    "cooling_tower",
    "gas_producer",
    "gas_consumer",
    "steam_consumer",
    "power_consumer",
    "cstr_vdv",
    "heat_exchanger",
    "flash",
    "distillation",
    "pid",
}


def test_every_library_type_is_registered():
    unit_params_class("boiler")  # loads the library
    assert set(UNIT_TYPES) >= EXPECTED_TYPES


@pytest.mark.parametrize("type_name", sorted(EXPECTED_TYPES))
def test_defaults_are_valid_and_documented(type_name):
    cls = unit_params_class(type_name)
    params = cls()
    specs = param_specs(cls)
    assert specs, type_name
    declared = {f.name for f in dataclasses.fields(cls)}
    assert {s.name for s in specs} == declared  # every field carries unit/range/description
    for s in specs:
        assert s.description
        assert s.unit
        assert s.low <= getattr(params, s.name) <= s.high
    for port in cls.ports:
        assert port.medium_kind in MEDIUM_KINDS


@pytest.mark.parametrize(
    ("build", "field", "fragment"),
    [
        (lambda: BoilerParams(lhv_lean_j_m3=40e6), "lhv_lean_j_m3", "must be below lhv_rich"),
        (
            lambda: GasHolderParams(level_normal_low_fraction=0.8),
            "level_normal_low_fraction",
            "level limits must increase",
        ),
        (
            lambda: TurbogeneratorParams(min_inlet_flow_kg_s=70.0),
            "min_inlet_flow_kg_s",
            "must be below max_inlet_flow_kg_s",
        ),
        (
            lambda: PrvStationParams(pressure_out_pa=5e6),
            "pressure_out_pa",
            "must be below pressure_in_pa",
        ),
        (
            lambda: SteamHeaderParams(pressure_min_pa=1.05e6),
            "pressure_nominal_pa",
            "pressure_min_pa < pressure_nominal_pa",
        ),
        (lambda: GridParams(valley_end_s=0.0, valley_start_s=3600.0), "valley_end_s", "before"),
        (lambda: ChillerParams(eir_plr_a=0.5), "eir_plr_c", "must be 1"),
        (lambda: PumpParams(shutoff_head_m=30.0), "shutoff_head_m", "must exceed head_rated_m"),
        (lambda: DistillationParams(feed_stage=41), "feed_stage", "must lie between 2 and"),
        (lambda: DistillationParams(n_stages=20.5), "n_stages", "whole number"),
        (lambda: PidParams(output_low=2.0), "output_high", "must exceed output_low"),
        (lambda: PidParams(gain=0.0), "gain", "must be nonzero"),
        (lambda: BoilerParams(efficiency_nominal=1.3), "efficiency_nominal", "between 0 and 1"),
    ],
)
def test_cross_field_rules_raise_parameter_error(build, field, fragment):
    with pytest.raises(ParameterError, match=fragment) as info:
        build()
    assert info.value.field == field
