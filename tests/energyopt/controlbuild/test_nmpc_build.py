"""Project -> process NMPC settings and EKF layout (energyopt.controlbuild.nmpc)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.controlbuild.nmpc import (
    BAND_MARGIN,
    MAX_HORIZON,
    PLAN_WEIGHT,
    THROUGHPUT_WEIGHT,
    NmpcBuild,
    nmpc_build,
)
from energyopt.errors import ProjectError
from energyopt.plantbuild import BuiltPlant, build_plant
from energyopt.project import load_project


def _built(text: str | None, tmp_path: Path) -> BuiltPlant:
    from energyopt.demos import demo_project_text

    path = tmp_path / "plant.toml"
    path.write_text(text or demo_project_text("chemical"), encoding="utf-8")
    return build_plant(load_project(path))


@pytest.fixture(scope="module")
def chemical(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuiltPlant, NmpcBuild]:
    built = _built(None, tmp_path_factory.mktemp("nmpc"))
    u = np.zeros(built.model.sizes["u"])
    u[built.index("u", "fic_101.setpoint")] = 11.0 / 3600.0
    u[built.index("u", "cw_pump.speed_fraction")] = 0.9
    return built, nmpc_build(built, u)


def test_mvs_from_the_manipulated_bindings(chemical: tuple[BuiltPlant, NmpcBuild]) -> None:
    _, build = chemical
    mvs = {m.name: m for m in build.settings.mvs}
    assert build.mv_bindings == (
        "feed_flow_sp",
        "reactor_temperature_sp",
        "preheat_temperature_sp",
        "flash_level_sp",
        "flash_steam_sp",
    )
    feed = mvs["fic_101.setpoint"]
    # limits [8, 20] m3/h; 0.5 m3/h per min over the 30 s interval = 0.25 m3/h (exact factors).
    assert_allclose([feed.low, feed.high], [8.0 / 3600.0, 20.0 / 3600.0], rtol=1e-12)
    assert_allclose(feed.rate, 0.25 / 3600.0, rtol=1e-12)
    assert feed.target_weight == THROUGHPUT_WEIGHT
    assert_allclose(feed.target, 11.0 / 3600.0, rtol=1e-12)
    # move_suppression 0.5 over the default 0.1.
    assert_allclose(feed.move_weight, 5.0, rtol=1e-12)
    temp = mvs["tic_102.setpoint"]
    assert_allclose([temp.low, temp.high], [378.15, 395.15], rtol=1e-12)
    assert temp.target_weight == PLAN_WEIGHT
    # Target 0 K is outside the limits: clipped to the lower limit.
    assert_allclose(temp.target, 378.15, rtol=1e-12)
    assert build.settings.fixed_inputs["cw_pump.speed_fraction"] == 0.9


def test_cvs_are_tightened_bands_by_priority(chemical: tuple[BuiltPlant, NmpcBuild]) -> None:
    _, build = chemical
    cvs = {c.name: c for c in build.settings.cvs}
    assert set(cvs) == {"reactor.c_b_mol_m3", "reactor.t_reactor_k", "flash.level_fraction"}
    cb = cvs["reactor.c_b_mol_m3"]
    # Band 1.0-1.3 mol/L = 1000-1300 mol/m3, tightened by 10 % of its width each side.
    margin = BAND_MARGIN * 300.0
    assert_allclose([cb.low, cb.high], [1000.0 + margin, 1300.0 - margin], rtol=1e-12)
    assert cb.priority == 1
    # tracking_weights.reactor_conc_b = 1.0 pulls c_B to the band's centre.
    assert cb.weight == 1.0
    assert_allclose(cb.setpoint, 1150.0, rtol=1e-12)
    assert cvs["reactor.t_reactor_k"].setpoint is None
    assert cvs["flash.level_fraction"].priority == 3
    # horizon 1 h / 30 s = 120 intervals, capped.
    assert build.settings.horizon == MAX_HORIZON
    assert build.settings.dt_s == 30.0


def test_estimator_layout(chemical: tuple[BuiltPlant, NmpcBuild]) -> None:
    built, build = chemical
    (state,) = build.disturbance_states
    assert state.target == "fresh_feed.in_c_a_mol_m3"
    # 0.3 % of the 5100 mol/m3 design strength per interval, as the closed loop's 15.
    assert_allclose(state.std_per_step, 15.3, rtol=1e-12)
    names = [m.name for m in build.measurements]
    assert "reactor.c_b_mol_m3" in names
    assert "el_bus.demand" in names
    cb = build.measurements[names.index("reactor.c_b_mol_m3")]
    # 0.5 % of the 0-2 mol/L range = 10 mol/m3 (the closed loop's analyser noise).
    assert_allclose(cb.std, 10.0, rtol=1e-12)
    assert [built.model.outputs[k].name for k in build.measured_index] == names
    measured = {
        built.model.disturbances[j].name for j in np.flatnonzero(build.measured_disturbances)
    }
    assert measured == {"fresh_feed.in_t_k", "reactor.t_cooling_water_k"}


def test_an_mv_without_limits_is_rejected(tmp_path: Path) -> None:
    from energyopt.demos import demo_project_text

    text = demo_project_text("chemical").replace("limits = [8, 20]\n", "")
    built = _built(text, tmp_path)
    with pytest.raises(
        ProjectError, match=r"bindings\.feed_flow_sp: the NMPC needs the MV.s limits"
    ):
        nmpc_build(built, np.zeros(built.model.sizes["u"]))


def test_the_policy_builds_and_decides(chemical: tuple[BuiltPlant, NmpcBuild]) -> None:
    """One decision from the demo's steady state: a usable plan inside the MV limits."""
    from energyopt.controlbuild.nmpc import build_nmpc_policy
    from plant_models.flowsheet.chemical import steady_state

    built, _ = chemical
    model = built.model
    u = np.zeros(model.sizes["u"])
    for name, value in {
        "fic_101.setpoint": 11.0 / 3600.0,
        "tic_102.setpoint": 383.15,
        "tic_110.setpoint": 397.15,
        "lic_201.setpoint": 0.5,
        "fic_203.setpoint": 0.504 / 3.6,
        "cw_pump.speed_fraction": 0.9,
        "cooling_tower.fan_speed_fraction": 0.8,
    }.items():
        u[model.index("u", name)] = value
    from energyopt.plantbuild import nominal_disturbances

    d = nominal_disturbances(built)
    x0 = steady_state(built.flowsheet, u, d, settle_s=4 * 3600.0, tol=1e-6)
    policy = build_nmpc_policy(built, x0, u)
    policy.reset(u, x0)
    from plant_models.core.equations import to_casadi

    y = np.asarray(to_casadi(model).g(x0, u, d, built.parameters())).ravel()
    decision = policy.decide(0.0, y, d, None)
    assert decision.status in ("optimal", "acceptable")
    assert np.all(np.isfinite(decision.u))
    build = nmpc_build(built, u)
    for mv in build.settings.mvs:
        value = decision.u[model.index("u", mv.name)]
        # Solver tolerance 1e-6 on the scaled NLP: limits hold to that share of the span.
        assert mv.low - 1e-6 * mv.scale <= value <= mv.high + 1e-6 * mv.scale


def test_the_chemical_closed_loop_uses_the_shared_assembly() -> None:
    """chemical_nmpc_policy builds through nmpc_policy and decides from the scenario's start."""
    from energyopt.closedloop.chemical import build_chemical_scenario
    from energyopt.closedloop.chemical_control import chemical_nmpc_policy

    # Seed 1 starts on the normal feed.  (Seed 3 starts on a concentrated tank
    # with c_B above its band, where the first, cold solve runs out of ipopt
    # iterations and the closed loop holds for one interval: docs/controllers.md.)
    scenario = build_chemical_scenario(days=1.0 / 24.0, seed=1)
    policy = chemical_nmpc_policy(scenario)
    model = scenario.flowsheet.model
    policy.reset(scenario.u0, scenario.plant.x0)
    from plant_models.core.equations import to_casadi

    d = scenario.plant.disturbances[0]
    y = np.asarray(
        to_casadi(model).g(scenario.plant.x0, scenario.u0, d, scenario.flowsheet.parameters)
    )
    decision = policy.decide(0.0, y.ravel(), d, scenario.mode_names[0])
    assert decision.status in ("optimal", "acceptable")
    assert policy.interval_s == 60.0
