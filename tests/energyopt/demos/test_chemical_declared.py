"""The chemical plant is declared in its project: loops, modes, settings, draws and their errors.

These tests compose flowsheets but never simulate them (composition takes
milliseconds; numba compiles only on the first simulation).
"""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.demos.chemical_history import build_chemical_flowsheet, mode_setpoints
from energyopt.errors import ProjectError
from energyopt.project import project_from_mapping

M3_H = 1.0 / 3600.0


@pytest.fixture
def data(chemical_project):
    """The demo project as an editable mapping."""
    return copy.deepcopy(chemical_project.model_dump(exclude_none=True))


def _build(data):
    return build_chemical_flowsheet(project_from_mapping(data, source="p.toml"))


def test_loops_are_wired_as_declared(chemical):
    model = chemical.model
    # Each loop's setpoint is a plant input and its measurement a wired signal:
    # the five loops of the file, in file order, after the utility inputs.
    setpoints = [v.name for v in model.inputs if v.name.endswith(".setpoint")]
    assert setpoints == [
        f"{n}.setpoint" for n in ("fic_101", "tic_102", "tic_110", "lic_201", "fic_203")
    ]
    names = {v.name for v in model.inputs} | {v.name for v in model.disturbances}
    for driven in ("reactor.valve_cooling", "flash.valve_draw", "fic_101.measurement"):
        assert driven not in names


def test_modes_are_read_in_si_units(chemical_modes):
    # The modes of the file: 18 and 11 m3/h, 118 and 110 degC, level 50 %,
    # flash steam 0.36 and 0.504 t/h; unit conversions are exact up to rounding.
    ht = chemical_modes["high_throughput"]
    hs = chemical_modes["high_selectivity"]
    assert_allclose(
        [ht["fic_101"], ht["tic_102"], ht["tic_110"], ht["lic_201"], ht["fic_203"]],
        [18.0 * M3_H, 391.15, 395.15, 0.5, 0.1],
        rtol=1e-12,
    )
    assert_allclose(
        [hs["fic_101"], hs["tic_102"], hs["fic_203"]], [11.0 * M3_H, 383.15, 0.14], rtol=1e-12
    )


def test_settings_and_feed_reach_the_parameter_vector(data, chemical):
    base = chemical.parameter_vector()
    model = chemical.model
    # The file's values: today's defaults (2108 kJ/kg steam, 10 kmol/m3 liquid).
    assert base[model.index("p", "flash.steam_latent_heat_j_kg")] == 2.108e6
    assert base[model.index("p", "flash.molar_density_mol_m3")] == 1.0e4
    data["units"]["flash"]["settings"]["steam_latent_heat_j_kg"] = "2000 kJ/kg"
    data["units"]["flash"]["settings"]["molar_density_mol_m3"] = "8 kmol/m^3"
    data["media"]["fresh_feed"]["feed"]["flow_max_m3_s"] = "30 m3/h"
    other = _build(data)
    p = other.parameter_vector()
    m = other.model
    assert p[m.index("p", "flash.steam_latent_heat_j_kg")] == pytest.approx(2.0e6, rel=1e-12)
    assert p[m.index("p", "flash.molar_density_mol_m3")] == pytest.approx(8.0e3, rel=1e-12)
    # Drum volume = holdup_max / molar density: 10000 mol / 8000 mol/m3.
    assert p[m.index("p", "flash.volume_max_m3")] == pytest.approx(1.25, rel=1e-12)
    assert p[m.index("p", "fresh_feed.flow_max_m3_s")] == pytest.approx(30.0 * M3_H, rel=1e-12)


@pytest.mark.parametrize(
    ("unit", "key", "value", "message"),
    [
        (
            "tic_102",
            "actuator",
            "reactor.valve_cool",
            (
                "units.tic_102.actuator: 'valve_cool' is not an input of 'reactor' "
                "(did you mean 'valve_cooling'?)"
            ),
        ),
        (
            "lic_201",
            "measurement",
            "flash.level",
            "units.lic_201.measurement: 'level' is not an output of 'flash'",
        ),
        (
            "fic_203",
            "actuator",
            "flash.valve_draw",
            "units.fic_203.actuator: 'flash.valve_draw' is already driven by loop 'lic_201'",
        ),
        (
            "tic_110",
            "setpoint",
            "reactor.nothing",
            "units.tic_110.setpoint: 'nothing' is not an output of 'reactor'",
        ),
    ],
)
def test_bad_loop_wiring_is_reported_at_its_key(data, unit, key, value, message):
    data["units"][unit][key] = value
    if key == "setpoint":
        # A wired setpoint is no longer an input, so the modes must not set it.
        for mode in data["modes"].values():
            del mode["setpoints"][unit]
    with pytest.raises(ProjectError, match="^" + re.escape(f"p.toml: {message}")):
        _build(data)


def test_bad_draw_is_reported_at_its_key(data):
    data["media"]["cooling_water"]["draws"] = ["flash.condenser_duty"]
    with pytest.raises(
        ProjectError, match=r"media\.cooling_water\.draws: 'condenser_duty' is not an output"
    ):
        _build(data)


def test_cascade_setpoint_is_wired_not_an_input(data):
    # TIC-110 takes its setpoint from the reactor temperature (a contrived
    # cascade): its setpoint leaves the plant inputs, and the modes drop it.
    data["units"]["tic_110"]["setpoint"] = "reactor.t_reactor_k"
    for mode in data["modes"].values():
        del mode["setpoints"]["tic_110"]
    names = [v.name for v in _build(data).model.inputs]
    assert "tic_110.setpoint" not in names
    assert "tic_102.setpoint" in names


def test_mode_setpoint_of_the_wrong_dimension_is_reported(data, chemical):
    data["modes"]["high_throughput"]["setpoints"]["fic_101"] = "18 degC"
    project = project_from_mapping(data, source="p.toml")
    with pytest.raises(
        ProjectError,
        match=r"p\.toml: modes\.high_throughput\.setpoints\.fic_101: "
        r".*fresh_feed\.supply in m\^3/s",
    ):
        mode_setpoints(project, chemical)


def test_plain_number_setpoints_are_si(data, chemical):
    data["modes"]["high_throughput"]["setpoints"]["tic_102"] = 390.0
    modes = mode_setpoints(project_from_mapping(data), chemical)
    assert modes["high_throughput"]["tic_102"] == 390.0
    assert np.isclose(modes["high_throughput"]["fic_101"], 0.005, rtol=1e-12)
