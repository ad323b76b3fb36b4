"""The distillation column as a declared separation step of a flowsheet.

Two flowsheets, each composed and compiled once per module (tests that
simulate or compile are marked slow: 10-17 s per flowsheet with a cold kernel
cache, well under a second with a warm one):

- ``column_a``: Skogestad's column A (the unit's defaults) between a bought
  feed and two product nodes, its reflux driven by a composition loop on the
  distillate; for the published operating point and the loop test.
- ``variant``: the chemical demo project with the flash replaced by a column
  (distillate recycled to the reactor feed, bottoms the product), written as
  a TOML file, loaded with :func:`energyopt.project.load_project` and built
  with :func:`energyopt.demos.chemical_history.build_chemical_flowsheet`.
"""

from __future__ import annotations

import copy
import math
import re
import tomllib
from importlib import resources

import numpy as np
import pytest
import tomli_w
from numpy.testing import assert_allclose
from scipy.optimize import brentq

from energyopt.demos.chemical_history import build_chemical_flowsheet, mode_setpoints
from energyopt.errors import ProjectError
from energyopt.project import load_project, project_from_mapping
from plant_models.core.equations import random_envelope_points, to_casadi, to_numba
from plant_models.core.errors import EquationError
from plant_models.core.simulate import simulate
from plant_models.flowsheet import FlowsheetNode, FlowsheetUnit, LoopSpec, build_flowsheet
from plant_models.flowsheet import column as column_form
from plant_models.flowsheet.chemical import (
    SIMULATION_OPTIONS,
    initial_state,
    setpoint_inputs,
    steady_state,
)
from plant_models.flowsheet.separation import FlashDrumSettings
from plant_models.units.distillation import DistillationParams
from plant_models.units.pid import PidParams

M3_H = 1.0 / 3600.0
COLUMN_A = DistillationParams()
SETTINGS_A = column_form.ColumnSettings()
#: Column A's feed, 1 kmol/min, and its published reflux and boil-up (Skogestad 1997). [mol/s]
F_A = COLUMN_A.feed_nominal_mol_s
L_A = 2.706 * F_A
V_A = 3.206 * F_A
#: Liquid molar density of every stream (the settings' default). [mol/m3]
C_TOT = SETTINGS_A.molar_density_mol_m3
#: Molar gas constant. [J/(mol K)]
R_GAS = 8.314462618


def value(model, y, name):
    """Output ``name`` of output vector ``y``."""
    return float(y[model.index("y", name)])


# ---------------------------------------------------------------- column A alone


@pytest.fixture(scope="module")
def column_a():
    units = [
        FlowsheetUnit(
            "column",
            COLUMN_A,
            {
                "feed_in": ("feed",),
                "distillate_out": ("top",),
                "bottoms_out": ("bottom",),
                "steam_in": ("steam",),
                "cooling_water": ("cw",),
            },
            SETTINGS_A,
        )
    ]
    nodes = [
        FlowsheetNode("feed", "process"),
        FlowsheetNode("top", "process"),
        FlowsheetNode("bottom", "process"),
        FlowsheetNode("steam", "steam"),
        FlowsheetNode("cw", "cooling_water"),
    ]
    # Direct acting: more reflux purifies the top.  Gain 20 valve per unit of
    # mole fraction, integral time 1 h (column A's composition time constant
    # at fixed boil-up is about 3 h).
    loops = [
        LoopSpec(
            "aic_top",
            PidParams(gain=20.0, integral_time_s=3600.0, tracking_time_s=3600.0),
            "column.x_distillate",
            "column.valve_reflux",
        )
    ]
    return build_flowsheet("column_a", units, nodes, loops)


def _column_a_inputs(fs, x_top=0.99):
    """Feed 1 kmol/min with z = 0.5, boil-up 3.206 kmol/min, top setpoint ``x_top``."""
    model = fs.model
    u = np.zeros(len(model.inputs))
    u[model.index("u", "feed.valve")] = F_A / C_TOT / (25.0 * M3_H)
    steam_kg_s = V_A * COLUMN_A.latent_heat_j_mol / SETTINGS_A.steam_latent_heat_j_kg
    u[model.index("u", "column.valve_steam")] = steam_kg_s / SETTINGS_A.steam_max_kg_s
    u[model.index("u", "aic_top.setpoint")] = x_top
    d = np.zeros(len(model.disturbances))
    # Heavies: 40 % B, 20 % C, 10 % D, 30 % solvent.
    for species, mole_fraction in zip("abcd", (0.5, 0.2, 0.1, 0.05), strict=True):
        d[model.index("d", f"feed.in_c_{species}_mol_m3")] = mole_fraction * C_TOT
    d[model.index("d", "feed.in_t_k")] = 360.0
    return u, d


@pytest.fixture(scope="module")
def column_a_steady(column_a):
    """(x, u, d, y) at the steady state with the top held at 0.99."""
    model = column_a.model
    u, d = _column_a_inputs(column_a)
    start = {f"column.x_{i + 1}": 0.01 + 0.98 * i / 40 for i in range(41)}
    start |= {f"column.holdup_{i + 1}_mol": 500.0 for i in range(41)}
    start |= {
        "column.heavy_share_b": 0.4,
        "column.reflux_mol_s": L_A,
        "column.steam_kg_s": 0.81,
        "feed.flow_m3_s": F_A / C_TOT,
        "aic_top.integral": L_A / (SETTINGS_A.reflux_max_m3_s * C_TOT),
    }
    x = steady_state(column_a, u, d, x0=initial_state(column_a, start), settle_s=4 * 3600.0)
    y = np.asarray(to_numba(model).g(x, u, d, column_a.parameters))
    return x, u, d, y


@pytest.mark.slow
def test_column_a_published_operating_point(column_a, column_a_steady):
    model = column_a.model
    _, _, _, y = column_a_steady
    # Skogestad (1997), column A: with x_D = 0.99 held by the loop and
    # V = 3.206 kmol/min, the published reflux is 2.706 kmol/min (4 digits:
    # within half a unit of the last, 5e-4 F) and x_B = 0.01 (to 5e-5, the
    # tolerance of the unit's own test against the same figures).
    assert_allclose(value(model, y, "column.x_distillate"), 0.99, atol=1e-9)
    assert_allclose(value(model, y, "column.reflux_mol_s") / F_A, 2.706, atol=5e-4)
    assert_allclose(value(model, y, "column.x_bottoms"), 0.01, atol=5e-5)
    # Steady state solved to a scaled residual of 1e-9: balances to ~1e-8.
    feed = value(model, y, "feed.supply") * C_TOT
    assert_allclose(
        value(model, y, "column.distillate_mol_s") + value(model, y, "column.bottoms_mol_s"),
        feed,
        rtol=1e-8,
    )
    # Boil-up from steam: V lambda = m_s h_fg; the total condenser rejects V lambda.
    duty = V_A * COLUMN_A.latent_heat_j_mol
    assert_allclose(value(model, y, "column.boilup_mol_s"), V_A, rtol=1e-9)
    assert_allclose(value(model, y, "cw.demand"), duty, rtol=1e-9)
    assert_allclose(value(model, y, "steam.demand"), duty / 2.108e6, rtol=1e-9)


@pytest.mark.slow
def test_stage_temperatures_are_bubble_points(column_a, column_a_steady):
    model = column_a.model
    x, _, _, y = column_a_steady
    alpha, latent = COLUMN_A.relative_volatility, COLUMN_A.latent_heat_j_mol
    t_heavy = SETTINGS_A.boiling_point_heavy_k

    def bubble(x_light):
        # Independent: Raoult's law sum x P_A + (1 - x) P_H = P solved for T,
        # heavy vapour pressure by Clausius-Clapeyron, P_A = alpha P_H.
        def excess(t):
            p_heavy = math.exp(-latent / R_GAS * (1.0 / t - 1.0 / t_heavy))
            return x_light * alpha * p_heavy + (1.0 - x_light) * p_heavy - 1.0

        return brentq(excess, 250.0, t_heavy + 1.0, xtol=1e-13)

    for stage in (1, 10, 21, 35, 41):
        x_light = x[model.index("x", f"column.x_{stage}")]
        # brentq to 1e-13 K against the closed form: agreement to rounding.
        assert_allclose(value(model, y, f"column.t_stage_{stage}_k"), bubble(x_light), rtol=1e-12)
    assert_allclose(value(model, y, "top.temperature"), bubble(0.99), rtol=1e-9)
    # The reboiler (x_B = 0.01) is hotter than the condenser (x_D = 0.99).
    assert value(model, y, "column.t_stage_1_k") > value(model, y, "column.t_stage_41_k") + 10.0


@pytest.mark.slow
def test_reflux_loop_reaches_a_new_top_composition(column_a, column_a_steady):
    model = column_a.model
    x0, u0, d, y0 = column_a_steady
    n, dt_s = 360, 30.0
    u = np.tile(u0, (n, 1))
    u[:, model.index("u", "aic_top.setpoint")] = 0.995
    run = simulate(
        model, x0, u, np.tile(d, (n, 1)), column_a.parameters, dt_s, **SIMULATION_OPTIONS
    )
    top = run.output("column.x_distillate")
    # After 1 h the top stays within 5e-5 of the new setpoint (a tenth of the
    # step); at 3 h the integral action has removed the offset to 2e-5.
    assert np.all(np.abs(top[120:] - 0.995) < 5e-5)
    assert_allclose(top[-1], 0.995, atol=2e-5)
    valve = run.output("aic_top.output")
    assert 0.0 < valve[-1] < 1.0  # not saturated: the loop is in control
    # More reflux at fixed boil-up: less distillate, so the bottoms get more A.
    assert run.output("column.reflux_mol_s")[-1] > value(model, y0, "column.reflux_mol_s")
    assert run.output("column.x_bottoms")[-1] > value(model, y0, "column.x_bottoms")


# ---------------------------------------------------------------- declared variant


#: The column, its two loops and a binding, replacing the demo's flash (as in
#: docs/project-file.md, "Distillation column in a flowsheet").
COLUMN_TOML = """
[units.column]
type = "distillation"
description = "A overhead to the recycle, B, C, D and solvent to the product"
connections = { feed_in = "flash_feed", distillate_out = "feed_hot", bottoms_out = "product", \
steam_in = "lp_steam", cooling_water = "cooling_water" }
params = { n_stages = 12, feed_stage = 5, relative_volatility = 8.0, \
latent_heat_j_mol = "30 kJ/mol", holdup_condenser_mol = 2000, holdup_reboiler_mol = 2000, \
feed_nominal_mol_s = "200 kmol/h" }
settings = { molar_density_mol_m3 = "10 kmol/m3", reflux_max_m3_s = "20 m3/h", \
steam_max_kg_s = "3 t/h", boiling_point_heavy_k = "110 degC" }

[units.fic_203]
type = "pid"
description = "FIC-203 reboiler steam -> steam valve"
measurement = "column.steam_kg_s"
actuator = "column.valve_steam"
params = { gain = 3.0, integral_time_s = 10.0, tracking_time_s = 10.0 }

[units.tic_204]
type = "pid"
description = "TIC-204 rectifying tray 9 temperature -> reflux valve (reverse acting)"
measurement = "column.t_stage_9_k"
actuator = "column.valve_reflux"
params = { gain = -0.05, integral_time_s = 600.0, tracking_time_s = 300.0 }

[bindings.column_tray_temperature]
variable = "column.t_stage_9_k"
tag = "TIC-204.PV"
unit = "degC"
kind = "temperature"
role = "measurement"
range = [0, 150]
"""


def _variant_mapping() -> dict:
    """The chemical demo with the flash (and its two loops) replaced by a 12-stage column."""
    text = (resources.files("energyopt.demos") / "chemical.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    removed = ("flash", "lic_201", "fic_203")
    for name in removed:
        del data["units"][name]
    data["bindings"] = {
        k: b for k, b in data["bindings"].items() if b["variable"].split(".")[0] not in removed
    }
    del data["media"]["cooling_water"]["draws"]  # the column has its own port
    del data["controller"]["tracking_weights"]["flash_level"]
    column = tomllib.loads(COLUMN_TOML)
    data["units"] |= column["units"]
    data["bindings"] |= column["bindings"]
    for mode, steam in (("high_throughput", "1.6 t/h"), ("high_selectivity", "1.4 t/h")):
        setpoints = data["modes"][mode]["setpoints"]
        del setpoints["lic_201"]
        setpoints |= {"fic_203": steam, "tic_204": "60 degC"}
    return data


@pytest.fixture(scope="module")
def variant_project(tmp_path_factory):
    path = tmp_path_factory.mktemp("column") / "plant.toml"
    path.write_text(tomli_w.dumps(_variant_mapping()), encoding="utf-8")
    return load_project(path)


@pytest.fixture(scope="module")
def variant(variant_project):
    return build_chemical_flowsheet(variant_project)


@pytest.fixture(scope="module")
def variant_d(variant):
    model = variant.model
    d = np.zeros(len(model.disturbances))
    d[model.index("d", "fresh_feed.in_c_a_mol_m3")] = 5100.0
    d[model.index("d", "fresh_feed.in_t_k")] = 303.15
    d[model.index("d", "reactor.t_cooling_water_k")] = 303.15
    return d


@pytest.fixture(scope="module")
def variant_steady(variant_project, variant, variant_d):
    """Mode name -> (x, u, y) at the steady state of that mode."""
    start = {
        "reactor.c_c_mol_m3": 1000.0,
        "reactor.c_d_mol_m3": 400.0,
        "reactor.cooling_water_kg_s": 0.1,
        "feed_preheater.t_hot_out_k": 330.0,
        "feed_preheater.t_cold_exchanger_k": 360.0,
        "feed_preheater.steam_kg_s": 0.1,
        "fresh_feed.flow_m3_s": 0.005,
        "fic_101.integral": 0.7,
        "tic_102.integral": 0.05,
        "tic_110.integral": 0.2,
        "fic_203.integral": 0.15,
        "tic_204.integral": 0.3,
        "column.heavy_share_b": 0.15,
        "column.heavy_share_c": 0.1,
        "column.heavy_share_d": 0.05,
        "column.steam_kg_s": 0.4,
        "column.reflux_mol_s": 20.0,
    }
    start |= {f"column.x_{i + 1}": 0.005 + 0.9 * i / 11 for i in range(12)}
    x0 = initial_state(variant, start)
    g = to_numba(variant.model).g
    out = {}
    for name, setpoints in mode_setpoints(variant_project, variant).items():
        u = setpoint_inputs(variant, setpoints)
        x = steady_state(variant, u, variant_d, x0=x0, settle_s=6 * 3600.0)
        out[name] = (x, u, np.asarray(g(x, u, variant_d, variant.parameters)))
    return out


def test_variant_is_declared_as_written(variant_project, variant):
    model = variant.model
    p = variant.parameter_vector()
    # The TOML's settings in SI: 20 m3/h, 3 t/h, 110 degC; params: 12 stages.
    assert_allclose(p[model.index("p", "column.reflux_max_m3_s")], 20.0 * M3_H, rtol=1e-12)
    assert_allclose(p[model.index("p", "column.steam_max_kg_s")], 3000.0 / 3600.0, rtol=1e-12)
    assert_allclose(p[model.index("p", "column.boiling_point_heavy_k")], 383.15, rtol=1e-12)
    assert sum(v.name.startswith("column.t_stage_") for v in model.outputs) == 12
    setpoints = [v.name for v in model.inputs if v.name.endswith(".setpoint")]
    assert setpoints == [
        f"{n}.setpoint" for n in ("fic_101", "tic_102", "tic_110", "fic_203", "tic_204")
    ]
    modes = mode_setpoints(variant_project, variant)
    # Mode setpoints converted to the loops' SI units: 1.6 t/h, 60 degC.
    assert_allclose(modes["high_throughput"]["fic_203"], 1600.0 / 3600.0, rtol=1e-12)
    assert_allclose(modes["high_selectivity"]["tic_204"], 333.15, rtol=1e-12)


@pytest.mark.slow
def test_casadi_and_numba_agree_on_the_column_flowsheets(variant, variant_project, column_a):
    rng = np.random.default_rng(11)
    modes = mode_setpoints(variant_project, variant)
    for fs, base_u in (
        (variant, setpoint_inputs(variant, modes["high_throughput"])),
        (column_a, _column_a_inputs(column_a)[0]),
    ):
        model = fs.model
        cas = to_casadi(model)
        nb = to_numba(model)
        p = fs.parameters
        for x, _, d in random_envelope_points(model, 6, seed=7):
            u = base_u * rng.uniform(0.9, 1.1, base_u.size)
            # Same source, same operations: agreement to rounding (guide section 2).
            assert_allclose(
                nb.f(x, u, d, p), np.array(cas.f(x, u, d, p)).ravel(), rtol=1e-12, atol=1e-12
            )
            assert_allclose(
                nb.g(x, u, d, p), np.array(cas.g(x, u, d, p)).ravel(), rtol=1e-12, atol=1e-9
            )


def test_stream_form_source_agrees_on_every_path():
    # The stream form's own source, run with numpy and compiled by numba
    # directly (math names rebound): both independent of the casadi graph that
    # the generated kernels come from.  Same operations: agreement to rounding.
    params = DistillationParams(n_stages=7, feed_stage=4)
    model = column_form.model(params)
    p = column_form.parameter_vector(params, column_form.ColumnSettings())
    cas = to_casadi(model)
    rebound = to_numba(model, backend="rebind")
    for x, u, d in random_envelope_points(model, 5, seed=3):
        f_cas = np.array(cas.f(x, u, d, p)).ravel()
        g_cas = np.array(cas.g(x, u, d, p)).ravel()
        for f_other, g_other in ((model.f, model.g), (rebound.f, rebound.g)):
            assert_allclose(f_other(x, u, d, p), f_cas, rtol=1e-12, atol=1e-12)
            assert_allclose(g_other(x, u, d, p), g_cas, rtol=1e-12, atol=1e-9)


@pytest.mark.slow
def test_species_balance_closes_around_the_column(variant, variant_steady):
    model = variant.model
    for _, _, y in variant_steady.values():
        q_feed = value(model, y, "flash_feed.supply")
        q_top = value(model, y, "column.distillate_out_flow_m3_s")
        q_bottom = value(model, y, "column.bottoms_out_flow_m3_s")
        for s in "abcd":
            feed = q_feed * value(model, y, f"flash_feed.c_{s}_mol_m3")
            split = q_top * value(model, y, f"column.distillate_out_c_{s}_mol_m3") + q_bottom * (
                value(model, y, f"column.bottoms_out_c_{s}_mol_m3")
            )
            # Steady state solved to a scaled residual of 1e-9: balances to ~1e-8.
            assert_allclose(split, feed, rtol=1e-7)
        # The heavies leave in their feed proportions (pseudo-binary split).
        heavy_feed = C_TOT - value(model, y, "flash_feed.c_a_mol_m3")
        heavy_top = C_TOT - value(model, y, "column.distillate_out_c_a_mol_m3")
        for s in "bcd":
            assert_allclose(
                value(model, y, f"column.distillate_out_c_{s}_mol_m3") / heavy_top,
                value(model, y, f"flash_feed.c_{s}_mol_m3") / heavy_feed,
                rtol=1e-7,
            )
        # A units around the whole plant (A -> B -> C keeps one, 2 A -> D two).
        fresh_a = value(model, y, "fresh_feed.supply") * 5100.0
        out_a = value(model, y, "product.supply") * (
            value(model, y, "product.c_a_mol_m3")
            + value(model, y, "product.c_b_mol_m3")
            + value(model, y, "product.c_c_mol_m3")
            + 2.0 * value(model, y, "product.c_d_mol_m3")
        )
        assert_allclose(out_a, fresh_a, rtol=1e-7)


@pytest.mark.slow
def test_column_loops_and_utilities_at_the_mode_steady_states(variant, variant_steady, variant_d):
    model = variant.model
    for name, (_, u, y) in variant_steady.items():
        # Both loops at their setpoints, neither valve saturated.
        assert_allclose(
            value(model, y, "column.t_stage_9_k"),
            u[model.index("u", "tic_204.setpoint")],
            atol=1e-6,
        )
        assert_allclose(
            value(model, y, "column.steam_kg_s"), u[model.index("u", "fic_203.setpoint")], rtol=1e-7
        )
        assert 0.0 < value(model, y, "tic_204.output") < 1.0, name
        # The distillate is A-rich and recycled: the reactor gets more than the fresh feed.
        assert value(model, y, "column.x_distillate") > 0.9
        assert value(model, y, "feed_hot.supply") > 1.2 * value(model, y, "fresh_feed.supply")
        # Utility draws: the column's steam and its condenser on the site networks.
        steam = value(model, y, "column.steam_kg_s") + value(model, y, "feed_preheater.steam_kg_s")
        assert_allclose(value(model, y, "lp_steam.demand"), steam, rtol=1e-12)
        heat = value(model, y, "column.condenser_heat_w") + value(
            model, y, "reactor.heat_removed_w"
        )
        assert_allclose(value(model, y, "cooling_water.demand"), heat, rtol=1e-12)
    # The slower mode separates better: less A lost with the product.
    x_b = {name: value(model, y, "column.x_bottoms") for name, (_, _, y) in variant_steady.items()}
    assert x_b["high_selectivity"] < x_b["high_throughput"]


# ---------------------------------------------------------------- declaration errors


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda u: u["connections"].update(distilate_out=u["connections"].pop("distillate_out")),
            (
                "units.column.connections.distilate_out: unknown port 'distilate_out' of unit type "
                "'distillation' (did you mean 'distillate_out'?)"
            ),
        ),
        (
            lambda u: u["connections"].pop("bottoms_out"),
            (
                "units.column.connections: required port 'bottoms_out' (process, Bottom "
                "product) is not connected"
            ),
        ),
        (
            lambda u: u["connections"].update(steam_in="cooling_water"),
            "units.column.connections.steam_in",
        ),
        (
            lambda u: u["settings"].update(reflux_max_m3s="20 m3/h"),
            (
                "units.column.settings.reflux_max_m3s: unknown settings key of this unit type (did "
                "you mean 'reflux_max_m3_s'?)"
            ),
        ),
        (
            lambda u: u["settings"].update(valve_time_s=0.0),
            "units.column.settings.valve_time_s: must be between 0.1 and 600, got 0",
        ),
        (
            lambda u: u["settings"].update(steam_max_kg_s="3 m3/h"),
            "units.column.settings.steam_max_kg_s:",
        ),
        (
            lambda u: u["params"].update(feed_stage=12),
            "units.column.params.feed_stage: must lie between 2 and n_stages - 1 (11), got 12",
        ),
    ],
)
def test_bad_column_declarations_name_the_key(edit, message):
    data = _variant_mapping()
    edit(data["units"]["column"])
    with pytest.raises(ProjectError, match=re.escape(message)):
        project_from_mapping(data, source="p.toml")


@pytest.mark.parametrize(
    ("loop", "key", "value", "message", "listed"),
    [
        (
            "tic_204",
            "measurement",
            "column.t_stage_13_k",
            "units.tic_204.measurement: 't_stage_13_k' is not an output of 'column'",
            "t_stage_12_k",
        ),
        (
            "fic_203",
            "actuator",
            "column.valve_stream",
            (
                "units.fic_203.actuator: 'valve_stream' is not an input of 'column' (did you mean "
                "'valve_steam'?)"
            ),
            "valve_reflux",
        ),
    ],
)
def test_bad_column_loop_paths_name_the_key(loop, key, value, message, listed):
    # Loop paths are checked when the flowsheet is composed (no compilation).
    data = _variant_mapping()
    data["units"][loop][key] = value
    project = project_from_mapping(data, source="p.toml")
    with pytest.raises(ProjectError, match=re.escape(f"p.toml: {message}")) as info:
        build_chemical_flowsheet(project)
    # The column's variables of that kind are listed (its last stage, its other valve).
    assert f"{listed}," in str(info.value) or str(info.value).endswith(listed)


def test_settings_of_another_type_and_defaults():
    connections = {
        "feed_in": ("feed",),
        "distillate_out": ("top",),
        "bottoms_out": ("bottom",),
    }
    nodes = [FlowsheetNode(n, "process") for n in ("feed", "top", "bottom")]
    params = DistillationParams(n_stages=5, feed_stage=3)
    wrong = FlowsheetUnit("column", params, connections, FlashDrumSettings())
    with pytest.raises(
        EquationError, match="settings FlashDrumSettings do not belong to type 'distillation'"
    ):
        build_flowsheet("bad", [wrong], nodes)
    # No settings: the defaults of ColumnSettings; no utility port: no utility node.
    fs = build_flowsheet("ok", [FlowsheetUnit("column", params, connections)], nodes)
    p = fs.parameter_vector()
    expected = column_form.parameter_vector(params, column_form.ColumnSettings())
    # The settings are copied, not computed: exact equality.
    first = fs.model.index("p", "column.relative_volatility")
    np.testing.assert_array_equal(p[first : first + expected.size], expected)
    assert [v.name for v in fs.model.inputs] == [
        "column.valve_reflux",
        "column.valve_steam",
        "feed.valve",
    ]
    one_port = copy.deepcopy(connections)
    one_port["distillate_out"] = ()
    with pytest.raises(EquationError, match="stream port 'distillate_out' must connect to one"):
        build_flowsheet("bad", [FlowsheetUnit("column", params, one_port)], nodes)


def test_column_settings_are_validated():
    with pytest.raises(ValueError, match="reflux_max_m3_s: must be between"):
        column_form.ColumnSettings(reflux_max_m3_s=0.0)
    with pytest.raises(ValueError, match="boiling_point_heavy_k: must be between"):
        column_form.ColumnSettings(boiling_point_heavy_k=100.0)
