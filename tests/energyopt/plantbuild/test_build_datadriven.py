"""A data-driven fan identified from HDF5 history, composed into a plant with a grid bus."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tomli_w
from numpy.testing import assert_allclose
from scipy.signal import cont2discrete, dlsim

from energyopt.data.reader import HistorianReader
from energyopt.data.writer import write_historian
from energyopt.errors import ModelError, ProjectError
from energyopt.identify import identify_units, save_identified
from energyopt.plantbuild import BuiltPlant, build_plant, nominal_disturbances
from energyopt.project import load_project
from plant_models.core.equations import random_envelope_points, to_casadi, to_numba
from plant_models.core.simulate import simulate
from plant_models.plant.datadriven import DataDrivenParams

DT_S = 60.0
STEP_MS = 60_000
T0_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
N = 1500
#: Truth: fan power = Y0 + K w^2 / (s^2 + 2 zeta w s + w^2) damper; w = 0.01 rad/s.
OMEGA, ZETA, GAIN_W, Y0_W = 0.01, 0.6, 8.0e6, 1.0e6
MILL_W = 10.0e6


def _truth_discrete() -> tuple[np.ndarray, ...]:
    a = np.array([[0.0, 1.0], [-(OMEGA**2), -2.0 * ZETA * OMEGA]])
    b = np.array([[0.0], [GAIN_W * OMEGA**2]])
    c = np.array([[1.0, 0.0]])
    ad, bd, cd, dd, _ = cont2discrete((a, b, c, np.zeros((1, 1))), DT_S, "zoh")
    return ad, bd, cd, dd


def _history() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    holds = rng.integers(2, 8, size=N)
    u = np.repeat(rng.uniform(0.4, 0.8, size=N), holds)[:N]
    ad, bd, cd, dd = _truth_discrete()
    x0 = np.linalg.solve(np.eye(2) - ad, bd @ [u[0]])  # steady state at the first damper
    _, y, _ = dlsim((ad, bd, cd, dd, DT_S), u, x0=x0)
    return T0_MS + STEP_MS * np.arange(N), u, Y0_W + y.ravel()


def _doc(**fan: Any) -> dict[str, Any]:
    fan_table: dict[str, Any] = {
        "type": "data_driven",
        "model": {
            "kind": "arx",
            "sample_time_s": "1 min",
            "na": 2,
            "nb": 2,
            "nk": 1,
            "inputs": [{"name": "damper", "tag": "FAN.DAMPER", "unit": "%"}],
            "outputs": [{"name": "power", "tag": "FAN.POWER", "unit": "MW"}],
        },
        "connections": {"power_in": {"node": "el_bus", "output": "power", "direction": "in"}},
    }
    fan_table.update(fan)
    return {
        "project": {
            "format_version": 1,
            "name": "Fan plant",
            "timezone": "UTC",
            "currency": "CNY",
        },
        "media": {
            "el_bus": {"kind": "electricity"},
            "lp_steam": {"kind": "steam", "pressure_pa": "1 MPa"},
        },
        "units": {
            "grid": {
                "type": "grid",
                "connections": {"power": "el_bus"},
                "params": {"import_capacity_w": "50 MW"},
            },
            "mill": {
                "type": "power_consumer",
                "connections": {"power_in": "el_bus"},
                "params": {"demand_nominal_w": MILL_W, "sheddable_fraction": 0.0},
            },
            "fan": fan_table,
        },
        "tariffs": {
            "export_price_per_kwh": 0.0,
            "electricity": {
                "periods": {"valley": 0.3, "flat": 0.65, "peak": 1.1},
                "schedules": {
                    "all": {
                        "months": list(range(1, 13)),
                        "blocks": {"valley": [[0, 8]], "peak": [[8, 12]], "flat": [[12, 24]]},
                    }
                },
            },
        },
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """History written, fan identified and saved, plant built (once for the module)."""
    folder = tmp_path_factory.mktemp("fanplant")
    time_ms, u, y = _history()
    history = write_historian(
        folder / "history.h5",
        time_ms,
        {"FAN.DAMPER": 100.0 * u, "FAN.POWER": y / 1.0e6},
        {"FAN.DAMPER": "%", "FAN.POWER": "MW"},
        kinds={"FAN.DAMPER": "position", "FAN.POWER": "power"},
    )
    path = folder / "plant.toml"
    path.write_text(tomli_w.dumps(_doc()), encoding="utf-8")
    project = load_project(path)
    with HistorianReader(history) as reader:
        report = identify_units(project, reader)
    save_identified(path, report)
    return {"folder": folder, "path": path, "project": project, "built": build_plant(project)}


def _fan(built: BuiltPlant) -> DataDrivenParams:
    (member,) = [u for u in built.plant.units if u.name == "fan"]
    assert isinstance(member.params, DataDrivenParams)
    return member.params


def _inputs(built: BuiltPlant, damper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u = np.zeros((damper.size, built.model.sizes["u"]))
    u[:, built.index("u", "fan.damper")] = damper
    d = np.tile(nominal_disturbances(built), (damper.size, 1))
    return u, d


def test_plant_is_continuous_and_binds_the_fan_signals(site: dict[str, Any]) -> None:
    built = site["built"]
    assert built.model.dt_s is None
    assert "fan.power" in [v.name for v in built.model.outputs]
    assert built.bindings["fan.damper"].vector == "u"
    power = built.bindings["fan.power"]
    assert (power.vector, power.role, power.tag) == ("y", "measurement", "FAN.POWER")
    assert_allclose(power.scale, 1e-6, rtol=1e-15)  # W -> MW, exact in pint


def test_bus_balance_closes_and_the_fan_matches_its_discrete_model(site: dict[str, Any]) -> None:
    built = site["built"]
    fan = _fan(built)
    unit = fan.unit
    rng = np.random.default_rng(5)
    damper = np.repeat(rng.uniform(0.45, 0.75, size=12), 5)
    u, d = _inputs(built, damper)
    # Both start from the discrete steady state at 0.6: lags of y_ss and u.
    y_ss = unit.simulate(np.full((400, 1), 0.6)).outputs[-1, 0]
    x_lag = np.array([y_ss, y_ss, 0.6, 0.6])
    standalone = unit.simulate(damper[:, None], x0=x_lag).outputs[:, 0]
    x0 = np.zeros(built.model.sizes["x"])
    x0[[built.index("x", f"fan.obs{i}") for i in range(2)]] = fan.form.state_from_discrete(x_lag)
    result = simulate(built.model, x0, u, d, built.parameters(), DT_S, substeps=20)
    in_plant = result.output("fan.power")
    # RK4 with 20 steps per sample on poles |lambda| dt ~ 0.6: local error
    # ~(0.03)^5, a few 1e-9 relative over 60 samples; 1e-7 leaves margin.
    assert_allclose(in_plant, standalone, rtol=1e-7)
    grid_import = result.output("grid.power_import_w")
    mill = result.output("mill.power_w")
    # The balance is one sum in the composed equations: exact to rounding.
    assert_allclose(grid_import, mill + in_plant, rtol=1e-12)
    assert_allclose(mill, MILL_W, rtol=1e-12)
    # The identified steady state is the truth's: Y0 + K u (noise-free data).
    assert_allclose(y_ss, Y0_W + GAIN_W * 0.6, rtol=1e-6)


def test_casadi_and_numba_agree_on_the_composed_plant(site: dict[str, Any]) -> None:
    built = site["built"]
    model, p = built.model, built.parameters()
    compiled, symbolic = to_numba(model), to_casadi(model)
    for x, u, d in random_envelope_points(model, 6, seed=2):
        # The same casadi graph printed to numba: agreement to the last bits.
        assert_allclose(compiled.f(x, u, d, p), symbolic.f(x, u, d, p).full().ravel(), rtol=1e-12)
        assert_allclose(compiled.g(x, u, d, p), symbolic.g(x, u, d, p).full().ravel(), rtol=1e-12)


def test_casadi_optimisation_keeps_grid_import_under_a_limit(site: dict[str, Any]) -> None:
    import casadi

    built = site["built"]
    model, p = built.model, built.parameters()
    fns = to_casadi(model)
    fan = _fan(built)
    limit_w = MILL_W + Y0_W + GAIN_W * 0.7  # the steady import at damper 0.7
    n_steps, sub = 15, 4
    i_damper = built.index("u", "fan.damper")
    i_import = built.index("y", "grid.power_import_w")
    d0 = nominal_disturbances(built)
    x = np.zeros(model.sizes["x"])
    y_ss = Y0_W + GAIN_W * 0.5
    x_fan = fan.form.state_from_discrete([y_ss, y_ss, 0.5, 0.5])
    x[[built.index("x", f"fan.obs{i}") for i in range(2)]] = x_fan
    opti = casadi.Opti()
    damper = opti.variable(n_steps)
    xk = casadi.DM(x)
    import_expr = []
    for k in range(n_steps):
        uk = casadi.MX.zeros(model.sizes["u"])
        uk[i_damper] = damper[k]
        h = DT_S / sub
        for _ in range(sub):  # explicit RK4 on the composed continuous plant
            k1 = fns.f(xk, uk, d0, p)
            k2 = fns.f(xk + h / 2 * k1, uk, d0, p)
            k3 = fns.f(xk + h / 2 * k2, uk, d0, p)
            k4 = fns.f(xk + h * k3, uk, d0, p)
            xk = xk + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        import_expr.append(fns.g(xk, uk, d0, p)[i_import])
        opti.subject_to(import_expr[-1] <= limit_w)
    opti.subject_to(opti.bounded(0.4, damper, 0.8))
    opti.minimize(-casadi.sum1(damper) + 1e-3 * casadi.sumsqr(casadi.diff(damper)))
    opti.solver("ipopt", {"print_time": False}, {"print_level": 0, "sb": "yes"})
    solution = opti.solve()
    assert solution.stats()["success"], solution.stats()["return_status"]
    imports = np.array([float(solution.value(expr)) for expr in import_expr])
    # The limit holds (IPOPT's constraint tolerance, 1e-8 scaled) and binds at the end.
    assert np.all(imports <= limit_w * (1.0 + 1e-8))
    assert_allclose(imports[-1], limit_w, rtol=1e-6)
    assert float(solution.value(damper[0])) > 0.7  # fast start while the fan is still slow


def test_unidentified_unit_names_it_and_says_run_identification(tmp_path: Path) -> None:
    path = tmp_path / "plant.toml"
    path.write_text(tomli_w.dumps(_doc()), encoding="utf-8")
    with pytest.raises(ModelError, match=r"units\.fan: no usable identified model .*run identif"):
        build_plant(load_project(path))


def test_port_signal_must_be_a_flow_of_the_medium(tmp_path: Path) -> None:
    doc = _doc(connections={"steam_in": {"node": "lp_steam", "output": "power", "direction": "in"}})
    path = tmp_path / "plant.toml"
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    with pytest.raises(ProjectError) as info:
        load_project(path)
    assert (
        "units.fan.connections.steam_in.output: signal 'power' is in MW, not a flow of steam"
        in str(info.value)
    )


def test_port_names_an_existing_signal(tmp_path: Path) -> None:
    doc = _doc(connections={"power_in": {"node": "el_bus", "output": "speed", "direction": "in"}})
    path = tmp_path / "plant.toml"
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    expected = r"power_in\.output: no output 'speed' in model\.outputs"
    with pytest.raises(ProjectError, match=expected):
        load_project(path)


def test_negative_real_pole_is_refused_naming_the_unit(site: dict[str, Any]) -> None:
    from dataclasses import replace

    unit = _fan(site["built"]).unit
    bad = replace(unit, model=replace(unit.model, a=np.array([[[-0.3]], [[0.0]]])))
    with pytest.raises(ModelError, match=r"units\.fan: cannot join the plant: .*negative real"):
        build_plant(site["project"], identified={"fan": bad})


def test_saved_model_round_trips_into_the_same_plant(site: dict[str, Any]) -> None:
    doc = tomllib.loads(site["path"].read_text(encoding="utf-8"))
    assert doc["units"]["fan"]["connections"]["power_in"]["node"] == "el_bus"
    p_file = site["built"].parameters()
    unit = _fan(site["built"]).unit
    p_given = build_plant(site["project"], identified={"fan": unit}).parameters()
    assert_allclose(p_given, p_file, rtol=0.0)  # same numbers, no re-conversion drift
