"""Plants declared from units and network nodes: balances, naming, declaration errors."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plant_models.core.equations import random_envelope_points, to_casadi, to_numba
from plant_models.core.errors import EquationError
from plant_models.core.simulate import simulate
from plant_models.plant.compose import NodeSpec, UnitSpec, compose_plant
from plant_models.units.boiler import BoilerParams
from plant_models.units.consumers import PowerConsumerParams, SteamConsumerParams
from plant_models.units.cstr_vdv import CstrVdvParams
from plant_models.units.gas_holder import GasHolderParams
from plant_models.units.gas_producer import GasProducerParams
from plant_models.units.grid import GridParams
from plant_models.units.steam_header import SteamHeaderParams

NODES = (NodeSpec("bfg", "fuel_gas"), NodeSpec("steam", "steam"), NodeSpec("bus", "electricity"))


def _units(**overrides):
    units = {
        "bf": UnitSpec("bf", GasProducerParams(), {"gas_out": ("bfg",)}),
        "holder": UnitSpec("holder", GasHolderParams(), {"gas": ("bfg",)}),
        "boiler_1": UnitSpec(
            "boiler_1",
            BoilerParams(),
            {"fuel": ("bfg",), "steam_out": ("steam",), "power_aux": ("bus",)},
        ),
        "boiler_2": UnitSpec(
            "boiler_2", BoilerParams(), {"fuel": ("bfg",), "steam_out": ("steam",)}
        ),
        "header": UnitSpec("header", SteamHeaderParams(), {"steam": ("steam",)}),
        "users": UnitSpec("users", SteamConsumerParams(), {"steam_in": ("steam",)}),
        "mill": UnitSpec("mill", PowerConsumerParams(), {"power_in": ("bus",)}),
        "grid": UnitSpec("grid", GridParams(), {"power": ("bus",)}),
    }
    units.update(overrides)
    return [u for u in units.values() if u is not None]


PLANT = compose_plant("mini", _units(), NODES)
MODEL = PLANT.model
P = PLANT.pack_parameters()


def _names(kind):
    return [v.name for v in MODEL.variables(kind)]


def test_plant_vectors_are_named_after_units_and_exclude_slack_variables():
    assert _names("x") == [
        "bf.flow_m3_s",
        "holder.volume_m3",
        "boiler_1.steam_kg_s",
        "boiler_2.steam_kg_s",
        "header.pressure_pa",
    ]
    # Holder inflow, header inflow and grid import are set by the balances.
    assert _names("u") == ["boiler_1.fuel_0_m3_s", "boiler_2.fuel_0_m3_s", "mill.shed_fraction"]
    assert "holder.flow_in_m3_s" not in _names("d")
    assert "grid.power_import_w" not in _names("u")
    assert _names("y")[-9:-6] == ["bfg.net_supply", "steam.net_supply", "bus.net_supply"]
    assert _names("y")[-6:] == [
        "bfg.supply",
        "steam.supply",
        "bus.supply",
        "bfg.demand",
        "steam.demand",
        "bus.demand",
    ]
    assert MODEL.variables("y")[-1].unit == "W"
    # Both boilers burn the gas of node bfg: one heating value, last in d.
    assert _names("d")[-1] == "bfg.lhv_j_m3"
    assert not any(".lhv_0_j_m3" in n for n in _names("d"))
    assert PLANT.node_lhv == {"bfg": ("d", "bfg.lhv_j_m3")}
    assert len(P) == MODEL.sizes["p"]


def _point():
    names = {"x": _names("x"), "u": _names("u"), "d": _names("d")}
    x = np.array([200.0, 1.0e5, 50.0, 40.0, 1.0e6])
    u = np.array([60.0, 45.0, 0.0])
    values_d = {
        "bf.production_kg_s": 150.0,
        "bfg.lhv_j_m3": 3.2e6,
        "users.demand_fraction": 1.2,
        "mill.demand_fraction": 0.9,
        "grid.price_per_j": 1.1 / 3.6e6,
    }
    d = np.array([values_d[n] for n in names["d"]])
    return x, u, d


def test_node_balances_close_with_slack_units_taking_the_imbalance():
    x, u, d = _point()
    symbolic = to_casadi(MODEL)
    dxdt = np.asarray(symbolic.f(x, u, d, P)).ravel()
    y = dict(zip(_names("y"), np.asarray(symbolic.g(x, u, d, P)).ravel(), strict=True))
    # Fuel gas: BF makes 200 Nm3/s, the boilers burn 105: 95 Nm3/s fill the holder.
    assert_allclose(y["bfg.net_supply"], 200.0 - 105.0, rtol=1e-15)
    assert_allclose([y["bfg.supply"], y["bfg.demand"]], [200.0, 105.0], rtol=1e-15)
    assert_allclose(dxdt[1], 95.0, rtol=1e-15)
    # Steam: 50 + 40 kg/s made, 1.2 x 11.1 used; the header stores the rest.
    surplus = 90.0 - 1.2 * 11.1
    assert_allclose(y["steam.net_supply"], surplus, rtol=1e-14)
    assert_allclose(dxdt[4], surplus / (60.0 * 4.3e-6), rtol=1e-14)
    # Electricity: the grid imports the mill's 0.9 x 250 MW plus boiler 1's
    # auxiliaries (boiler 2's auxiliary port is not connected).
    demand = 0.9 * 250e6 + 3.0e4 * 50.0
    assert_allclose(y["grid.power_import_w"], demand, rtol=1e-15)
    assert_allclose(y["bus.net_supply"], -demand, rtol=1e-15)
    # The grid is the slack: it is neither supply nor demand of the bus.
    assert_allclose([y["bus.supply"], y["bus.demand"]], [0.0, demand], rtol=1e-15)
    assert_allclose(y["grid.cost_rate_per_s"], demand * 1.1 / 3.6e6, rtol=1e-15)


@pytest.mark.slow
def test_composed_plant_numba_agrees_with_casadi_and_conserves_gas():
    compiled = to_numba(MODEL)
    symbolic = to_casadi(MODEL)
    for x, u, d in random_envelope_points(MODEL, 10, seed=4):
        # Same operations in the same order: agreement to rounding (guide section 2).
        assert_allclose(
            compiled.f(x, u, d, P), np.asarray(symbolic.f(x, u, d, P)).ravel(), rtol=1e-12
        )
        assert_allclose(
            compiled.g(x, u, d, P), np.asarray(symbolic.g(x, u, d, P)).ravel(), rtol=1e-12
        )
    x0, u, d = _point()
    n, dt = 120, 30.0
    res = simulate(MODEL, x0, np.tile(u, (n, 1)), np.tile(d, (n, 1)), P, dt, substeps=4)
    # Holder volume = initial + integral of (gas made - gas burnt), where the
    # BF flow relaxes exponentially (its own lag state).
    made = res.state("bf.flow_m3_s")
    bf_tau = GasProducerParams().time_constant_s
    steady = 1.5 * 150.0
    # q_bf(t) = steady + (q0 - steady) exp(-t / tau), so its integral is exact:
    t = res.time_s
    integral = steady * t + (200.0 - steady) * bf_tau * (1.0 - np.exp(-t / bf_tau))
    expected = 1.0e5 + integral - 105.0 * t
    # RK4 at h/tau = 1/8 makes a local error of (h/tau)**5 / 120 = 2.5e-7 of
    # the 1,500 Nm3 transient per step: about 1e-3 Nm3 in all (5e-3 allowed),
    # against a volume of 1e5 Nm3 and more.
    assert_allclose(res.state("holder.volume_m3"), expected, rtol=0.0, atol=5e-3)
    assert_allclose(made[-1], steady, rtol=1e-12, atol=1e-9 * steady)


@pytest.mark.parametrize(
    ("units", "nodes", "message"),
    [
        (
            _units(users=UnitSpec("users", SteamConsumerParams(), {"steam_in": ("bus",)})),
            NODES,
            "users.steam_in carries steam, but node bus is electricity",
        ),
        (
            _units(users=UnitSpec("users", SteamConsumerParams(), {"steam_in": ("nowhere",)})),
            NODES,
            "unknown node 'nowhere'",
        ),
        (
            _units(grid2=UnitSpec("grid2", GridParams(), {"power": ("bus",)})),
            NODES,
            "node bus has two slack ports: grid.power and grid2.power",
        ),
        (
            _units(users=UnitSpec("users", SteamConsumerParams(), {})),
            NODES,
            "port 'steam_in' is not connected",
        ),
        (
            _units(mill=UnitSpec("mill", PowerConsumerParams(), {"power": ("bus",)})),
            NODES,
            "no port 'power'",
        ),
        (
            _units(reactor=UnitSpec("reactor", CstrVdvParams(), {})),
            NODES,
            "type 'cstr_vdv' cannot join media networks yet",
        ),
        (_units(), (*NODES, NodeSpec("bus", "electricity")), "node bus declared twice"),
        (_units(), (*NODES, NodeSpec("feed", "process")), "medium kind must be one of"),
        (
            _units(mill=UnitSpec("bf", PowerConsumerParams(), {"power_in": ("bus",)})),
            NODES,
            "unit bf declared twice",
        ),
    ],
)
def test_declaration_errors_name_the_problem(units, nodes, message):
    with pytest.raises(EquationError, match=message):
        compose_plant("bad", units, nodes)
