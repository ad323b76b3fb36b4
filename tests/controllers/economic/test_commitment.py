"""On/off decisions and minimum loads in the economic MPC (commitment MILP, then NLP).

A two-boiler heat plant whose optimal commitment is computed by hand: boiler
A (fuel 20 CNY/MWh) and boiler B (26 CNY/MWh), each off or between 40 and
100 MW; heat bought at 30 CNY/MWh (or 25); surplus heat vented for free;
heat balance held per interval.  Efficiency 1, so heat = fuel power.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.advisor.contract import SolveStatus
from controllers.economic import (
    CostTerm,
    EconomicMPC,
    EconomicMPCSettings,
    HorizonInputs,
    ManipulatedVariable,
)
from controllers.economic.settings import OnOffGroup
from controllers.errors import EconomicMPCError
from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.mathfuncs import zeros

MW = 1e6
MWH = 3.6e9  # J
DT = 900.0  # 15 min: an interval at P MW and c CNY/MWh costs 0.25 * P * c
A, B, BUY, VENT = range(4)


@equation
def _f(x, u, d, p):
    dxdt = zeros(1)
    dxdt[0] = u[3]  # vented heat, accumulated
    return dxdt


@equation
def _g(x, u, d, p):
    y = zeros(4)
    y[0] = u[0]
    y[1] = u[1]
    y[2] = u[2]
    y[3] = u[0] + u[1] + u[2] - u[3] - d[0]  # heat balance
    return y


HEAT = EquationModel(
    name="heat",
    f=_f,
    g=_g,
    states=(Variable("vented_j", "J", "Vented heat", 0.0, 1e13),),
    inputs=(
        Variable("fuel_a_w", "W", "Boiler A firing", 0.0, 100 * MW),
        Variable("fuel_b_w", "W", "Boiler B firing", 0.0, 100 * MW),
        Variable("buy_w", "W", "Heat bought", 0.0, 200 * MW),
        Variable("vent_w", "W", "Heat vented", 0.0, 200 * MW),
    ),
    disturbances=(Variable("demand_w", "W", "Heat demand", 0.0, 200 * MW),),
    outputs=(
        Variable("heat_a_w", "W", "Boiler A heat"),
        Variable("heat_b_w", "W", "Boiler B heat"),
        Variable("buy_w", "W", "Heat bought"),
        Variable("net_w", "W", "Heat balance"),
    ),
    parameters=(Variable("unused", "1", "Placeholder", 0.0, 1.0),),
)


def _settings(
    n,
    *,
    buy_price=30.0,
    startup=0.0,
    min_up=1,
    min_down=1,
    measure="heat_a_w",
    at_min=False,
    **kw,
):
    group_a = OnOffGroup(
        "boiler_a",
        ("fuel_a_w",),
        measure=measure,
        min_on=40 * MW,
        max_on=100 * MW,
        min_up_intervals=min_up,
        min_down_intervals=min_down,
        startup_cost=startup,
        switch_at_min_load=at_min,
    )
    group_b = OnOffGroup(
        "boiler_b",
        ("fuel_b_w",),
        min_on=40 * MW,
        min_up_intervals=min_up,
        min_down_intervals=min_down,
        startup_cost=startup,
        switch_at_min_load=at_min,
    )
    base = {
        "mvs": (
            ManipulatedVariable("fuel_a_w", 0.0, 100 * MW),
            ManipulatedVariable("fuel_b_w", 0.0, 100 * MW),
            ManipulatedVariable("buy_w", 0.0, 200 * MW),
            ManipulatedVariable("vent_w", 0.0, 200 * MW),
        ),
        "interval_s": DT,
        "horizon": n,
        "cost_terms": (
            CostTerm("heat_a_w", 20.0 / MWH, "fuel A"),
            CostTerm("heat_b_w", 26.0 / MWH, "fuel B"),
            CostTerm("buy_w", buy_price / MWH, "bought heat"),
        ),
        "balances": ("net_w",),
        "on_off_groups": (group_a, group_b),
        "tolerance": 1e-10,
    }
    base.update(kw)
    return EconomicMPCSettings(**base)


def _plan(settings, demand_mw, mv_prev=(0.0, 0.0, 0.0, 0.0), **kw):
    mpc = EconomicMPC(HEAT, [0.5], settings)
    demand = np.asarray(demand_mw, float)[:, None] * MW
    horizon = HorizonInputs(demand, np.zeros(settings.horizon))
    return mpc, mpc.plan([0.0], np.asarray(mv_prev) * MW, horizon, **kw)


# Objectives are sums of a few exact products; ipopt at tol 1e-10 on the
# scaled (1e-6) objective meets them to ~1e-7 relative.
RTOL_OBJ = 1e-6
# Plans in W: ipopt's bound tolerance on MVs scaled by their 100-200 MW spans.
ATOL_W = 1e-3 * MW


@pytest.mark.parametrize("measure", ["heat_a_w", None])
def test_demand_below_minimum_load_runs_the_cheap_boiler_at_its_minimum(measure):
    # 30 MW: A at its 40 MW minimum venting 10 (800 CNY/h) beats buying (900)
    # and B at its minimum (1040); by hand 4 x 0.25 h x 800 = 800 CNY.
    mpc, sol = _plan(_settings(4, measure=measure), [30.0] * 4)
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    assert "commitment MILP optimal" in sol.message
    assert_allclose(sol.objective, 800.0, rtol=RTOL_OBJ)
    assert_allclose(sol.mv_plan[:, A], 40 * MW, atol=ATOL_W)
    assert_allclose(sol.mv_plan[:, [B, BUY]], 0.0, atol=ATOL_W)
    assert_allclose(sol.mv_plan[:, VENT], 10 * MW, atol=ATOL_W)
    assert mpc.last_commitment is not None
    assert mpc.last_commitment.source == "milp"
    assert np.array_equal(mpc.last_commitment.on, np.tile([True, False], (4, 1)))
    assert "boiler_a.min_load" in sol.active_constraints
    assert "boiler_b.off" in sol.active_constraints


def test_cheaper_purchase_switches_both_boilers_off():
    # At 25 CNY/MWh buying 30 MW (750 CNY/h) beats A at its minimum (800).
    # The continuous relaxation would fire A at 30 MW (600 CNY/h): physically wrong.
    mpc, sol = _plan(_settings(4, buy_price=25.0), [30.0] * 4)
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    assert_allclose(sol.objective, 750.0, rtol=RTOL_OBJ)
    assert_allclose(sol.mv_plan[:, BUY], 30 * MW, atol=ATOL_W)
    assert_allclose(sol.mv_plan[:, [A, B]], 0.0, atol=0.0)  # pinned by the bounds
    assert not mpc.last_commitment.on.any()


@pytest.mark.parametrize(
    ("startup", "expected", "starts"), [(500.0, 2700.0, 1), (1000.0, 3000.0, 0)]
)
def test_startup_cost_over_the_horizon(startup, expected, starts):
    # 20 MW for an hour, then 80 MW. Low: buying (600 CNY/h) beats either
    # minimum load. High: A saves (30 - 20) x 80 = 800 CNY/h, 800 CNY over the
    # hour; worth a start at 500 (600 + 1600 + 500 = 2700), not at 1000 (all
    # bought: 600 + 2400 = 3000); B saves only 320.
    mpc, sol = _plan(_settings(8, startup=startup), [20.0] * 4 + [80.0] * 4)
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    assert_allclose(sol.objective, expected, rtol=RTOL_OBJ)
    on_a = mpc.last_commitment.on[:, 0]
    assert np.array_equal(on_a, [False] * 4 + [bool(starts)] * 4)
    assert mpc.last_commitment.startups.tolist() == [starts, 0]
    assert_allclose(mpc.last_commitment.startup_cost, startup * starts, rtol=0.0)


@pytest.mark.parametrize(("min_up", "expected"), [(1, 925.0), (3, 1125.0)])
def test_minimum_up_time(min_up, expected):
    # 10 MW except 80 MW in interval 2. A for that interval alone saves
    # 0.25 x 80 x 10 = 200 CNY (925 CNY in all); kept on 3 intervals, each
    # extra one at 40 MW costs 0.25 x (800 - 300) = 125 more: not worth it.
    demand = [10.0, 10.0, 80.0, 10.0, 10.0, 10.0, 10.0, 10.0]
    mpc, sol = _plan(_settings(8, min_up=min_up), demand)
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    assert_allclose(sol.objective, expected, rtol=RTOL_OBJ)
    on_a = mpc.last_commitment.on[:, 0]
    assert on_a.sum() == (1 if min_up == 1 else 0)


@pytest.mark.parametrize(
    ("min_down", "expected", "on_a"), [(1, 1350.0, "100111"), (3, 1400.0, "111111")]
)
def test_minimum_down_time(min_down, expected, on_a):
    # A on at 50 MW; 50 MW, two intervals of 10 MW, three of 50 MW; start 200.
    # A at 50 MW: 250 CNY an interval (buying: 375).  Off over the dip and
    # restarted: 250 + 150 + 750 + 200 = 1350; kept on at 40 MW (venting):
    # 250 + 400 + 750 = 1400, the best plan a 3-interval minimum down time allows.
    demand = [50.0, 10.0, 10.0, 50.0, 50.0, 50.0]
    mpc, sol = _plan(
        _settings(6, startup=200.0, min_down=min_down), demand, mv_prev=(50.0, 0.0, 0.0, 0.0)
    )
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    assert_allclose(sol.objective, expected, rtol=RTOL_OBJ)
    assert "".join("1" if v else "0" for v in mpc.last_commitment.on[:, 0]) == on_a


@pytest.mark.parametrize(
    ("at_min", "expected", "on_a"), [(False, 1100.0, "0011"), (True, 1150.0, "0111")]
)
def test_start_reaches_only_the_minimum_load(at_min, expected, on_a):
    # 20, 20, 80, 80 MW.  Free jumps: A starts in interval 2 at 80 MW:
    # 300 (bought) + 400 + 400 = 1100.  A start reaching only the minimum load:
    # starting in interval 1 at 40 MW (venting 20) costs 200 instead of 150
    # bought, but then A covers the 80 MW: 150 + 200 + 400 + 400 = 1150 (starting
    # in interval 2 at 40 MW and buying 40: 300 + 500 + 400 = 1200).
    mpc, sol = _plan(_settings(4, at_min=at_min), [20.0, 20.0, 80.0, 80.0])
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    assert_allclose(sol.objective, expected, rtol=RTOL_OBJ)
    assert "".join("1" if v else "0" for v in mpc.last_commitment.on[:, 0]) == on_a
    if at_min:
        assert_allclose(sol.mv_plan[1, A], 40 * MW, atol=ATOL_W)


def test_infeasible_milp_falls_back_and_says_so():
    # A has run for 0 intervals of its 3-interval minimum up time, so it must
    # stay on, yet its upper limit (30 MW) is below its minimum load (40 MW):
    # the MILP is infeasible, all units on cannot keep A's minimum either, so
    # the continuous relaxation is solved and labelled.
    settings = _settings(4, min_up=3)
    mpc, sol = _plan(
        settings,
        [30.0] * 4,
        mv_prev=(30.0, 0.0, 0.0, 0.0),
        mv_upper=np.array([30.0, 100.0, 200.0, 200.0]) * MW,
        time_in_state=[0, 10],
    )
    assert sol.status is SolveStatus.SUBOPTIMAL, sol.message
    assert "commitment MILP infeasible: all units on (minimum loads)" in sol.message
    assert "cannot keep the load limits of boiler_a: continuous relaxation" in sol.message
    assert mpc.last_commitment.source == "continuous"
    # The continuous optimum: A at 30 MW covers the demand (0.25 x 4 x 30 x 20).
    # Warm-started from the failed fixed-commitment solve, ipopt leaves ~1e-6 of
    # the 200 MW span bought instead of fired (10 CNY/MWh dearer): 1e-5 relative.
    assert_allclose(sol.objective, 600.0, rtol=1e-5)
    assert_allclose(sol.mv_plan[:, A], 30 * MW, atol=ATOL_W)


def test_milp_time_limit_falls_back_to_all_on_then_to_the_shifted_commitment():
    settings = _settings(4, commitment_time_limit_s=1e-9)
    mpc, first = _plan(settings, [30.0] * 4)
    assert "commitment MILP time or iteration limit: all units on" in first.message
    # Both on at their 40 MW minimum, 50 MW vented: 0.25 x 4 x (800 + 1040).
    assert first.status is SolveStatus.OPTIMAL, first.message
    assert_allclose(first.objective, 1840.0, rtol=RTOL_OBJ)
    assert mpc.last_commitment.source == "all_on"
    horizon = HorizonInputs(np.full((4, 1), 30 * MW), np.zeros(4))
    second = mpc.plan([0.0], first.mv_plan[0], horizon)
    assert "previous commitment shifted" in second.message
    assert mpc.last_commitment.source == "previous"


def test_given_commitment_and_bad_inputs():
    settings = _settings(4)
    mpc, sol = _plan(settings, [30.0] * 4, commitment=np.tile([False, True], (4, 1)))
    assert "commitment given" in sol.message
    # B forced on at its 40 MW minimum, A off: 0.25 x 4 x 1040.
    assert_allclose(sol.objective, 1040.0, rtol=RTOL_OBJ)
    horizon = HorizonInputs(np.full((4, 1), 30 * MW), np.zeros(4))
    with pytest.raises(EconomicMPCError, match=r"commitment must have shape \(4, 2\)"):
        mpc.plan([0.0], np.zeros(4), horizon, commitment=np.ones((3, 2), bool))
    with pytest.raises(EconomicMPCError, match="time_in_state must be"):
        mpc.plan([0.0], np.zeros(4), horizon, time_in_state=[-1.0, 0.0])
    with pytest.raises(EconomicMPCError, match=r"MV limits must have shape \(4,\) or \(4, 4\)"):
        mpc.plan([0.0], np.zeros(4), horizon, mv_upper=np.ones(3))
    with pytest.raises(EconomicMPCError, match="'nope' is not an MV"):
        dataclasses.replace(settings, on_off_groups=(OnOffGroup("x", ("nope",)),))
    with pytest.raises(EconomicMPCError, match="more than one on/off group"):
        dataclasses.replace(
            settings,
            on_off_groups=(OnOffGroup("x", ("fuel_a_w",)), OnOffGroup("y", ("fuel_a_w",))),
        )
    with pytest.raises(EconomicMPCError, match="without a measure the group must have one MV"):
        OnOffGroup("x", ("fuel_a_w", "fuel_b_w"))
    with pytest.raises(EconomicMPCError, match="need finite min_on <= max_on"):
        OnOffGroup("x", ("fuel_a_w",), min_on=2.0, max_on=1.0)
    with pytest.raises(EconomicMPCError, match="min_up_intervals and min_down_intervals"):
        OnOffGroup("x", ("fuel_a_w",), min_up_intervals=0)
    plain = dataclasses.replace(settings, on_off_groups=())
    with pytest.raises(EconomicMPCError, match="need on/off groups"):
        EconomicMPC(HEAT, [0.5], plain).plan(
            [0.0], np.zeros(4), horizon, commitment=np.ones((4, 2), bool)
        )


def test_per_interval_mv_limits():
    # No groups: the bought heat capped at 10 MW in intervals 0-1 only.
    settings = dataclasses.replace(_settings(4), on_off_groups=())
    upper = np.tile(np.array([100.0, 100.0, 200.0, 200.0]) * MW, (4, 1))
    upper[:2, BUY] = 10 * MW
    mpc = EconomicMPC(HEAT, [0.5], settings)
    horizon = HorizonInputs(np.full((4, 1), 30 * MW), np.zeros(4))
    sol = mpc.plan([0.0], np.zeros(4), horizon, mv_upper=upper)
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    assert np.all(sol.mv_plan <= upper)
    # Without minimum loads A (20 CNY/MWh) covers all 30 MW: 600 CNY.
    assert_allclose(sol.objective, 600.0, rtol=RTOL_OBJ)


def test_steelworks_boilers_never_below_their_minimum_load_unless_off():
    # conftest.py of this folder by path ("conftest" alone may name another folder's).
    spec = importlib.util.spec_from_file_location(
        "economic_conftest", Path(__file__).with_name("conftest.py")
    )
    assert spec is not None
    assert spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    scenario, steelworks_settings = demo.scenario, demo.settings
    interval_s, n = 60.0, 12  # the 1-min x 12 case of conftest
    built, run, d, price = scenario(interval_s, n)
    p = built.parameters()
    groups = []
    for boiler, n_fuels, min_fraction in (
        ("boiler_1", 2, 0.4),
        ("boiler_2", 2, 0.4),
        ("boiler_3", 4, 0.35),
    ):
        # Minimum firing power: min load x capacity x enthalpy rise / efficiency
        # (the steelworks.toml boilers' parameters).
        cap, dh, eta = (
            p[built.index("p", f"{boiler}.{name}")]
            for name in ("capacity_steam_kg_s", "enthalpy_rise_j_kg", "efficiency_nominal")
        )
        groups.append(
            OnOffGroup(
                boiler,
                tuple(f"{boiler}.fuel_{i}_m3_s" for i in range(n_fuels)),
                measure=f"{boiler}.fuel_power_w",
                min_on=min_fraction * cap * dh / eta,
                min_up_intervals=2,
                min_down_intervals=2,
                startup_cost=5000.0,
            )
        )
    settings = dataclasses.replace(steelworks_settings(interval_s, n), on_off_groups=tuple(groups))
    mpc = EconomicMPC(
        built.model, p, settings, reference=(run.states[0], run.inputs[0], run.disturbances[0])
    )
    x0, u0 = run.states[0], run.inputs[0]
    mv0 = np.clip(u0[mpc._mv_index], mpc._mv_low, mpc._mv_high)
    horizon = HorizonInputs(d, price, u0)
    sol = mpc.plan(x0, mv0, horizon)
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    assert "commitment MILP optimal" in sol.message
    on = mpc.last_commitment.on
    ev = mpc.evaluate(x0, sol.mv_plan, mv0, horizon)
    for gi, g in enumerate(groups):
        power = ev.values[:, mpc._vnames.index(g.measure)]
        cols = [mpc.mv_names.index(name) for name in g.mvs]
        # Off: every fuel exactly at zero (pinned by the bounds).
        assert np.all(sol.mv_plan[~on[:, gi]][:, cols] == 0.0), g.name
        # On: at least the minimum firing power, to ipopt's constraint tolerance
        # (1e-6 of the ~70 MW row scale).
        assert np.all(power[on[:, gi]] >= g.min_on * (1.0 - 1e-5)), g.name
    # The plan keeps its hard limits (exact penalties unused).
    assert ev.hard_violation < 1e-5
