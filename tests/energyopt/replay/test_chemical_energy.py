"""Energy of a chemical replay: motor load read back from the bus, steam and cooling duty."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.demos import demo_project_file
from energyopt.errors import ModelError, ProjectError
from energyopt.plantbuild import build_plant
from energyopt.project import Project, load_project
from energyopt.replay import ReplayRun, prepare_replay, run_prepared
from energyopt.replay.energy import (
    STEAM_ENTHALPY_TABLE,
    energy_kpi_inputs,
    process_energy,
    steam_enthalpy_j_kg,
)
from energyopt.replay.run import recorded_series

#: Replay window. [h]
HOURS = 1.0


@pytest.fixture(scope="module")
def recorded(chemical_demo: tuple[Path, Path]) -> ReplayRun:
    from energyopt.data.reader import HistorianReader

    project_path, history = chemical_demo
    with HistorianReader(history) as reader:
        start = reader.time_span_ms[0]
    prepared = prepare_replay(
        load_project(project_path), history, end_ms=start + round(HOURS * 3.6e6)
    )
    return run_prepared(prepared, "recorded")


def _variant(edit: Callable[[dict[str, Any]], None]) -> Project:
    data = load_project(demo_project_file("chemical")).to_toml_dict()
    edit(data)
    return Project.model_validate(data)


def test_motor_load_is_read_back_from_the_bus(recorded: ReplayRun) -> None:
    assert "disturbance plant_motors.demand_fraction read back from el_bus.demand" in (
        recorded.case.notes
    )
    rec = recorded_series(recorded.case)
    sim, meas = recorded.result.series("el_bus.demand"), rec["el_bus.demand"]
    ok = np.isfinite(meas)
    assert ok.sum() > 100
    # The bus balance is algebraic in the read-back pump and fan speeds and the
    # read-back motor load, so the simulated bus equals the record up to the
    # inversions' round-off; 1e-6 leaves room for float32 tags and would catch a
    # load clipped at its envelope or held nominal (then ~27 % high).
    assert_allclose(sim[ok], meas[ok], rtol=1e-6)
    # Same for the electricity KPI of the simulated run against the record's.
    assert_allclose(
        recorded.kpis["purchased_electricity"].value,
        recorded.recorded_kpis["purchased_electricity"].value,
        rtol=1e-6,
    )


def test_specific_energy_matches_the_closed_loop(recorded: ReplayRun) -> None:
    from energyopt.closedloop.chemical import build_chemical_scenario
    from energyopt.kpis import KpiInputs, compute_kpis

    result = recorded.result

    def series(name: str) -> np.ndarray | None:
        try:
            return result.series(name)
        except ModelError:
            return None

    energy = process_energy(recorded.case.built)
    assert dict(energy.heat) == {
        "lp_steam": ("lp_steam.demand", 2.8558e6),
        "cooling_water": ("cooling_water.demand", 1.0),
    }
    assert dict(energy.product) == {"product": ("product.supply", 934.2)}
    mine = compute_kpis(
        KpiInputs(
            step_s=result.step_s,
            power_purchased_w=series("grid.power_purchased_w"),
            **energy_kpi_inputs(energy, series, result.step_s),
        )
    )
    # Reference: the chemical closed loop's own KPI spec on the same series
    # (its hand-set LP-steam enthalpy and product density).
    spec = build_chemical_scenario(days=0.05).kpi_spec()
    reference = result.kpis(spec)
    for key in ("comprehensive_energy", "energy_intensity"):
        # Same carriers and factors, summed in another order: round-off only.
        assert_allclose(mine[key].value, reference[key].value, rtol=1e-12)
    # Electricity alone is a fraction of it: the heat carriers count.
    total = mine["comprehensive_energy"]
    assert total.detail["electricity"] < 0.5 * total.value
    # The replay's own KPI set counts the same carriers (kpispec wiring); its
    # value differs from the one above by the record's missing steps.
    replayed = recorded.kpis["comprehensive_energy"]
    assert set(replayed.detail) == set(total.detail)
    assert replayed.detail["steam:lp_steam"] > replayed.detail["electricity"]


def test_media_network_plants_get_no_heat_carriers() -> None:
    built = build_plant(load_project(demo_project_file("steelworks")))
    energy = process_energy(built)
    assert not energy.heat
    assert not energy.product
    assert energy_kpi_inputs(energy, lambda name: None, 60.0)["output_t"] is None


def test_steam_enthalpy_from_the_table() -> None:
    project = load_project(demo_project_file("chemical"))
    built = build_plant(project)
    # chemical.toml: LP steam at 0.5 MPa and 200 degC.
    assert steam_enthalpy_j_kg(project, built, "lp_steam") == STEAM_ENTHALPY_TABLE[(0.5e6, 473.15)]


def test_steam_state_outside_the_table_is_refused() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["media"]["lp_steam"]["pressure_pa"] = 0.6e6

    project = _variant(edit)
    with pytest.raises(ProjectError, match=r"media\.lp_steam: no steam enthalpy for 0\.6 MPa"):
        process_energy(build_plant(project))


def test_steam_without_a_state_is_refused() -> None:
    def edit(data: dict[str, Any]) -> None:
        del data["media"]["lp_steam"]["temperature_k"]

    project = _variant(edit)
    with pytest.raises(ProjectError, match=r"pressure_pa and temperature_k are needed"):
        process_energy(build_plant(project))


def test_two_unknown_loads_on_one_bus_pin_neither() -> None:
    from energyopt.replay.readback import find_readback

    built = build_plant(load_project(demo_project_file("chemical")))
    motors = built.index("d", "plant_motors.demand_fraction")
    head = built.index("d", "cw_pump.static_head_m")
    alone = find_readback(built, "d", motors, {"el_bus.demand"})
    assert alone is not None
    assert alone.output == "el_bus.demand"
    # The pump's head also enters the bus balance: unknown too, the balance pins neither.
    assert find_readback(built, "d", motors, {"el_bus.demand"}, exclude_disturbances=[head]) is None
    # A node the unit is not connected to is not a balance of its load.
    assert find_readback(built, "d", motors, {"lp_steam.demand"}) is None
