"""Fixtures: economic MPC settings for the demo steelworks (limits from steelworks.toml, in SI)."""

from __future__ import annotations

import numpy as np
import pytest

from controllers.economic import (
    CostTerm,
    EconomicMPC,
    EconomicMPCSettings,
    HardLimit,
    HorizonInputs,
    ManipulatedVariable,
    SoftBand,
    interval_means,
)
from energyopt.demos import demo_project_file
from energyopt.demos.history import DEMO_START_MS
from energyopt.demos.steelworks_truth import run_truth
from energyopt.plantbuild import build_plant
from energyopt.project import load_project

NM3H = 1.0 / 3600.0  # Nm3/h -> Nm3/s (and t/h -> kg/s is 1/3.6)
TH = 1.0 / 3.6
#: Move suppression: a full-span move costs 10,000 CNY (a 10 % move 100 CNY), small
#: against a day's bill (~2.8 million CNY) but enough to make the plan unique
#: where the economics are flat (which boiler burns which gas).
MOVE_WEIGHT = 1.0e4


def mvs(interval_s: float) -> tuple[ManipulatedVariable, ...]:
    """MVs with the project's limits and per-minute rate limits scaled to the interval."""
    per = interval_s / 60.0
    fuel = [
        ("boiler_1.fuel_0_m3_s", 210000, 5000),
        ("boiler_1.fuel_1_m3_s", 35000, 1000),
        ("boiler_2.fuel_0_m3_s", 210000, 5000),
        ("boiler_2.fuel_1_m3_s", 35000, 1000),
        ("boiler_3.fuel_0_m3_s", 210000, 5000),
        ("boiler_3.fuel_1_m3_s", 35000, 1000),
        ("boiler_3.fuel_2_m3_s", 80000, 3000),
        ("boiler_3.fuel_3_m3_s", 15000, 500),
    ]
    out = [
        ManipulatedVariable(n, 0.0, hi * NM3H, rate=r * NM3H * per, move_weight=MOVE_WEIGHT)
        for n, hi, r in fuel
    ]
    for tg in ("tg_1", "tg_2"):
        out.append(
            ManipulatedVariable(f"{tg}.flow_in_kg_s", 60 * TH, 220 * TH, 4 * TH * per, MOVE_WEIGHT)
        )
        out.append(
            ManipulatedVariable(
                f"{tg}.flow_extraction_kg_s", 0.0, 100 * TH, 4 * TH * per, MOVE_WEIGHT
            )
        )
    out += [
        ManipulatedVariable(
            "prds_hp_mp.flow_in_command_kg_s", 0.0, 100 * TH, move_weight=MOVE_WEIGHT
        ),
        ManipulatedVariable(
            "prds_mp_lp.flow_in_command_kg_s", 0.0, 60 * TH, move_weight=MOVE_WEIGHT
        ),
        ManipulatedVariable(
            "bfg_flare.flow_command_m3_s", 0.0, 300000 * NM3H, move_weight=MOVE_WEIGHT
        ),
        ManipulatedVariable(
            "cog_flare.flow_command_m3_s", 0.0, 40000 * NM3H, move_weight=MOVE_WEIGHT
        ),
        ManipulatedVariable(
            "gas_mixing.flow_mixed_m3_s", 0.0, 150000 * NM3H, move_weight=MOVE_WEIGHT
        ),
    ]
    return tuple(out)


def settings(interval_s: float, horizon: int) -> EconomicMPCSettings:
    """The steelworks economic MPC: grid at TOU, NG 3.4 CNY/Nm3, flare 0.05 CNY/Nm3."""
    bands = (
        SoftBand("bfg_holder.level_fraction", 0.3, 0.7, 1.0e5),
        SoftBand("cog_holder.level_fraction", 0.3, 0.7, 1.0e5),
        SoftBand("ldg_holder.level_fraction", 0.3, 0.7, 1.0e4),  # priority 2
    )
    hard = (
        HardLimit("bfg_holder.level_fraction", 0.1, 0.9),
        HardLimit("cog_holder.level_fraction", 0.1, 0.9),
        HardLimit("ldg_holder.level_fraction", 0.15, 0.9),
        HardLimit("hp_header.pressure_pa", 9.3e6, 10.3e6),
        HardLimit("mp_header.pressure_pa", 0.85e6, 1.15e6),
        HardLimit("lp_header.pressure_pa", 0.42e6, 0.58e6),
        HardLimit("grid.power_import_w", 0.0, 300e6),
    )
    costs = (
        CostTerm("ng.demand", 3.4, "natural gas"),
        CostTerm("bfg_flare.flow_m3_s", 0.05, "BFG flare"),
        CostTerm("cog_flare.flow_m3_s", 0.05, "COG flare"),
        CostTerm("bfg_flare.co2_kg_s", 80.0e-3, "CO2"),
        CostTerm("cog_flare.co2_kg_s", 80.0e-3, "CO2"),
    )
    return EconomicMPCSettings(
        mvs=mvs(interval_s),
        interval_s=interval_s,
        horizon=horizon,
        electricity_variable="grid.power_purchased_w",
        cost_terms=costs,
        soft_bands=bands,
        hard_limits=hard,
        balances=("mixed_gas.net_supply",),
        # On the objective scaled by 1e-6 (a 12-min bill ~7e4 CNY -> 0.07): at 1e-8
        # the monotone barrier stopped 5e-5 short of the optimum, at 1e-9 2e-8.
        tolerance=1e-9,
    )


def scenario(interval_s: float, horizon: int, seed: int = 3):
    """Built plant, a truth-run start state, inputs and the true disturbances on the MPC grid."""
    built = build_plant(load_project(demo_project_file("steelworks")))
    days = max(horizon * interval_s / 86400.0 + 0.05, 0.1)
    run = run_truth(built, days=days, seed=seed, start_ms=DEMO_START_MS)
    # Interval means of the 1-min truth record (converter gas comes in pulses).
    starts, d = interval_means(run.time_s, run.disturbances, interval_s)
    d = d[:horizon]
    t_ms = DEMO_START_MS + (starts[:horizon] * 1000).astype(np.int64)
    price = built.electricity_price_per_j(t_ms)
    return built, run, d, price


#: The project's control interval (RK4 then needs 5 sub-steps) and a short horizon.
INTERVAL_S = 60.0
HORIZON = 12


@pytest.fixture(scope="module")
def steelworks_case():
    """Built plant, MPC, start state, MVs in force, horizon inputs and the first solution."""
    built, run, d, price = scenario(INTERVAL_S, HORIZON)
    mpc = EconomicMPC(
        built.model,
        built.parameters(),
        settings(INTERVAL_S, HORIZON),
        reference=(run.states[0], run.inputs[0], run.disturbances[0]),
    )
    x0, u0 = run.states[0], run.inputs[0]
    mv_index = [built.index("u", name) for name in mpc.mv_names]
    low = np.array([m.low for m in mpc.settings.mvs])
    high = np.array([m.high for m in mpc.settings.mvs])
    mv0 = np.clip(u0[mv_index], low, high)
    horizon = HorizonInputs(d, price, u0)
    return built, mpc, x0, mv0, horizon, mpc.plan(x0, mv0, horizon)
