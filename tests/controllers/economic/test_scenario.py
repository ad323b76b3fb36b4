"""Multi-stage (scenario-tree) economic MPC: hand-solved storage problems and the steelworks.

The storage problems use one gas holder of capacity C with an uncertain
inflow and a flare as the only MV, an interval T = 900 s.  Flows are written
as fractions of the holder per interval (``q``; ``q * C / T`` in m3/s), so the
level moves by ``d - q`` per interval and the LPs/QPs are solved by hand in
the test docstrings.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.advisor.contract import Controller, ControlRequest, SolveStatus
from controllers.economic import (
    CostTerm,
    EconomicMPC,
    EconomicMPCSettings,
    HardLimit,
    HorizonInputs,
    ManipulatedVariable,
    SoftBand,
)
from controllers.economic.scenario import ScenarioEconomicMPC
from controllers.economic.scenario_horizon import ScenarioHorizon, scenarios_from_forecasts
from controllers.errors import EconomicMPCError
from controllers.forecast import Forecast, ScenarioSet
from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.mathfuncs import zeros

C_M3 = 150_000.0  # holder capacity
T_S = 900.0  # control interval
Q = C_M3 / T_S  # m3/s that move the level by one full holder per interval
FLARE_PRICE = 0.05  # CNY/m3
#: Gaussian quantile of the 90 % interval and the interval-set weights (1/(2 z^2) each side).
Z90 = 1.6448536269514722
SIDE = 0.5 / Z90**2


@equation
def _f(x, u, d, p):
    dxdt = zeros(1)
    dxdt[0] = d[0] - u[0]
    return dxdt


@equation
def _g(x, u, d, p):
    y = zeros(2)
    y[0] = u[0]
    y[1] = x[0] / p[0]
    return y


HOLDER = EquationModel(
    name="holder",
    f=_f,
    g=_g,
    states=(Variable("volume_m3", "m^3", "Gas in the holder", 0.0, C_M3),),
    inputs=(Variable("flare_m3_s", "m^3/s", "Flare", 0.0, 2 * Q),),
    disturbances=(Variable("inflow_m3_s", "m^3/s", "Gas made", 0.0, 2 * Q),),
    outputs=(
        Variable("flare_m3_s", "m^3/s", "Flare"),
        Variable("level", "1", "Fill level", 0.0, 1.0),
    ),
    parameters=(Variable("capacity_m3", "m^3", "Holder capacity", 1.0, 1e7),),
)


def _holder_settings(horizon=2, rate_q=0.15, bands=(), **kw):
    return EconomicMPCSettings(
        mvs=(ManipulatedVariable("flare_m3_s", 0.0, Q, rate=rate_q * Q),),
        interval_s=T_S,
        horizon=horizon,
        cost_terms=(CostTerm("flare_m3_s", FLARE_PRICE, "flare"),),
        soft_bands=bands,
        hard_limits=(HardLimit("level", 0.0, 1.0),),
        # The level is linear in the held inputs: implicit Euler is exact.
        collocation_degree=1,
        tolerance=1e-10,
        **kw,
    )


def _inflows(q_values, weights, horizon=2, labels=()):
    """Constant inflow per scenario (fractions of the holder per interval)."""
    d = np.asarray(q_values, float)[:, None, None] * Q * np.ones((1, horizon, 1))
    return ScenarioHorizon(d, np.asarray(weights, float), np.zeros(horizon), labels=labels)


# Interval scenarios of the inflow: 0.25 +- 0.2 of the holder per interval.
INFLOW_Q = (0.05, 0.25, 0.45)
WEIGHTS = (SIDE, 1.0 - 2.0 * SIDE, SIDE)
LABELS = ("lower", "mean", "upper")
L0 = 0.45


def test_first_move_hedges_and_keeps_the_hard_limit_in_the_worst_scenario():
    """Hand-solved LP (N = 2, rate 0.15 per interval, flare in force 0).

    Mean inflow 0.25: the level reaches 0.45 + 0.5 = 0.95 <= 1 without
    flaring, so the nominal plan flares nothing.  Upper inflow 0.45 needs
    q0 + q1 >= 0.45 + 0.9 - 1 = 0.35 with q1 <= q0 + 0.15, i.e. q0 >= 0.1;
    the mean and lower scenarios then need no more (q1 = 0).  The expected
    cost ``q0 + w_up * q1_up = q0 (1 - w_up) + 0.35 w_up`` grows with q0, so
    the shared first move is q0 = 0.1 exactly and q1_up = 0.25.
    """
    settings = _holder_settings()
    scen = _inflows(INFLOW_Q, WEIGHTS, labels=LABELS)
    x0, mv0 = [L0 * C_M3], [0.0]
    mpc = ScenarioEconomicMPC(HOLDER, [C_M3], settings, n_scenarios=3)
    result = mpc.plan_scenarios(x0, mv0, scen)
    sol = result.solution
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    plans_q = result.mv_plans[:, :, 0] / Q
    # ipopt's LP solution at tol 1e-10: the vertex to ~1e-7 of the MV span (Q).
    assert_allclose(plans_q[:, 0], 0.1, atol=1e-6)
    assert_allclose(plans_q[:, 1], [0.0, 0.0, 0.25], atol=1e-6)
    # Each scenario's level keeps the hard limit; the upper one ends on it.
    level = result.cv_predicted[:, :, 0]
    assert_allclose(level[:, -1], [0.45 + 0.1 - 0.1, 0.95 - 0.1, 1.0], atol=1e-6)
    assert np.all(level <= 1.0 + 1e-7)
    # Costs by hand: 0.05 CNY/m3 x flared volume (q x C).
    expected = FLARE_PRICE * C_M3 * np.array([0.1, 0.1, 0.35])
    assert_allclose(result.objectives, expected, rtol=1e-6)  # LP optimum to ipopt's tol
    assert_allclose(sol.objective, np.dot(WEIGHTS, expected), rtol=1e-6)
    assert result.reported == 1  # the most probable scenario is reported
    assert_allclose(sol.mv_plan, result.mv_plans[1])
    assert "level.high" in sol.active_constraints
    assert "flare_m3_s.rate" in sol.active_constraints

    nominal = EconomicMPC(HOLDER, [C_M3], settings).plan(x0, mv0, scen.scenario(1))
    assert nominal.status is SolveStatus.OPTIMAL
    assert_allclose(nominal.mv_plan / Q, 0.0, atol=1e-6)
    # The nominal plan run in the upper scenario overfills the holder: 1.35 > 1.
    evals = mpc.evaluate(x0, nominal.mv_plan, mv0, scen)
    assert_allclose([e.hard_violation for e in evals], [0.0, 0.0, 0.35], atol=1e-6)
    # Holding (no flare) breaks the limit in the upper scenario: no hold objective.
    assert sol.objective_hold == math.inf


def test_recourse_is_worth_its_value_against_one_open_loop_plan():
    """With robust_horizon = N every scenario follows one plan.

    It must flare 0.35 in total for the upper scenario whatever happens
    (q0 + q1 >= 0.35), so its expected cost is 0.35 C x price, above the
    multi-stage 0.1 + w_up 0.25 of the previous test (value of recourse).
    """
    settings = _holder_settings()
    scen = _inflows(INFLOW_Q, WEIGHTS, labels=LABELS)
    mpc = ScenarioEconomicMPC(HOLDER, [C_M3], settings, n_scenarios=3, robust_horizon=2)
    result = mpc.plan_scenarios([L0 * C_M3], [0.0], scen)
    assert result.solution.status is SolveStatus.OPTIMAL
    assert np.ptp(result.mv_plans, axis=0).max() == 0.0  # one plan, bit for bit
    assert_allclose(result.solution.objective, FLARE_PRICE * C_M3 * 0.35, rtol=1e-6)
    multi = FLARE_PRICE * C_M3 * (0.1 + SIDE * 0.25)
    assert result.solution.objective > multi * 1.1


def test_probability_weights_set_the_first_move():
    """Hand-solved QP (N = 1): a quadratic normal band above 0.7, weight W.

    Only the upper scenario (inflow 0.45 from 0.45) exceeds the band; the
    expected objective ``c C q + w_up W (0.2 - q)^2`` is least at
    ``q = 0.2 - c C / (2 W w_up)``; with ``c C / (2 W) = 0.02``:
    0.16 at w_up = 0.5 and 0.12 at w_up = 0.25.  The nominal plan on the
    mean inflow (0.25) stays in the band and flares nothing.
    """
    cC = FLARE_PRICE * C_M3
    band = SoftBand("level", 0.0, 0.7, weight_linear=0.0, weight_quadratic=cC / 0.04)
    settings = _holder_settings(horizon=1, rate_q=math.inf, bands=(band,))
    mpc = ScenarioEconomicMPC(HOLDER, [C_M3], settings, n_scenarios=2)
    x0, mv0 = [L0 * C_M3], [0.0]
    for w_up, q_expected in ((0.5, 0.16), (0.25, 0.12)):
        result = mpc.plan_scenarios(x0, mv0, _inflows((0.05, 0.45), (1 - w_up, w_up), 1))
        assert result.solution.status is SolveStatus.OPTIMAL
        # A strictly convex QP solved to tol 1e-10: the minimiser to ~1e-8.
        assert_allclose(result.mv_plans[:, 0, 0] / Q, q_expected, atol=1e-6)
        objective = cC * q_expected + w_up * band.weight_quadratic * (0.2 - q_expected) ** 2
        assert_allclose(result.solution.objective, objective, rtol=1e-6)
    mean = HorizonInputs(np.full((1, 1), 0.25 * Q), np.zeros(1))
    nominal = EconomicMPC(HOLDER, [C_M3], settings).plan(x0, mv0, mean)
    assert_allclose(nominal.mv_plan / Q, 0.0, atol=1e-6)


def test_a_scenario_that_cannot_keep_a_hard_limit_is_named():
    # Inflow 0.9 from 0.45: even the full first move (0.15) leaves 1.2 > 1.
    mpc = ScenarioEconomicMPC(HOLDER, [C_M3], _holder_settings(), n_scenarios=2)
    scen = _inflows((0.25, 0.9), (0.5, 0.5), labels=("mean", "surge"))
    result = mpc.plan_scenarios([L0 * C_M3], [0.0], scen)
    sol = result.solution
    assert sol.status is SolveStatus.SUBOPTIMAL, sol.message
    assert "level (scenario surge)" in sol.message
    assert result.violated == (("surge", "level"),)
    assert "level.high_violated" in sol.active_constraints
    # The penalty dominates: the shared first move is the full ramp, 0.15.
    assert_allclose(result.mv_plans[:, 0, 0] / Q, 0.15, atol=1e-6)


def test_bad_configuration_and_inputs_raise_named_errors():
    settings = _holder_settings()
    with pytest.raises(EconomicMPCError, match="n_scenarios must be a positive integer"):
        ScenarioEconomicMPC(HOLDER, [C_M3], settings, n_scenarios=0)
    with pytest.raises(EconomicMPCError, match=r"robust_horizon must be in 1\.\.2, got 3"):
        ScenarioEconomicMPC(HOLDER, [C_M3], settings, n_scenarios=2, robust_horizon=3)
    with pytest.raises(EconomicMPCError, match="sum to 1"):
        _inflows((0.1, 0.2), (0.5, 0.6))
    with pytest.raises(EconomicMPCError, match=">= 0"):
        _inflows((0.1, 0.2), (1.5, -0.5))
    with pytest.raises(EconomicMPCError, match=r"need d \(S, N, n_d\)"):
        ScenarioHorizon(np.zeros((2, 2)), [0.5, 0.5], np.zeros(2))
    mpc = ScenarioEconomicMPC(HOLDER, [C_M3], settings, n_scenarios=2)
    with pytest.raises(EconomicMPCError, match=r"scenario d must have shape \(2, 2, 1\)"):
        mpc.plan([L0 * C_M3], [0.0], _inflows((0.1, 0.2, 0.3), (0.2, 0.3, 0.5)))
    with pytest.raises(EconomicMPCError, match="must be a ScenarioHorizon"):
        mpc.plan([L0 * C_M3], [0.0], HorizonInputs(np.zeros((2, 1)), np.zeros(2)))
    with pytest.raises(EconomicMPCError, match=r"x0 must have shape \(1,\)"):
        mpc.plan([0.0, 0.0], [0.0], _inflows((0.1, 0.2), (0.5, 0.5)))
    # Limits that contradict each other are a status, not an exception.
    sol = mpc.plan(
        [L0 * C_M3], [0.0], _inflows((0.1, 0.2), (0.5, 0.5)), mv_lower=[0.6 * Q], mv_upper=[0.5 * Q]
    )
    assert sol.status is SolveStatus.INFEASIBLE
    assert sol.mv_plan.shape == (0, 1)


def test_controller_contract_warm_start_and_failures():
    scen = _inflows(INFLOW_Q, WEIGHTS, labels=LABELS)
    mpc = ScenarioEconomicMPC(HOLDER, [C_M3], _holder_settings(), n_scenarios=3)
    assert isinstance(mpc, Controller)
    request = ControlRequest(
        time_s=0.0,
        mv_current=np.zeros(1),
        mv_lower=np.full(1, -np.inf),
        mv_upper=np.full(1, np.inf),
        mv_rate=np.full(1, np.inf),
        measurements=np.array([L0 * C_M3]),
        measurement_valid=np.ones(1, bool),
        history=np.zeros((0, 1)),
        time_budget_s=10.0,
    )
    assert mpc.solve(request).message == "no forecast source"
    mpc.forecast = lambda time_s: scen
    first = mpc.solve(request)
    second = mpc.solve(request)  # warm-started from the shifted first solution
    assert first.status is SolveStatus.OPTIMAL
    assert second.status is SolveStatus.OPTIMAL
    # Same problem, same LP optimum, to ipopt's tolerance.
    assert_allclose(second.mv_plan[0] / Q, 0.1, atol=1e-6)
    assert_allclose(second.objective, first.objective, rtol=1e-6)
    bad = ControlRequest(**{**request.__dict__, "measurements": np.array([np.nan])})
    assert mpc.solve(bad).status is SolveStatus.FAILED
    mpc.forecast = lambda time_s: _inflows((0.1, 0.2), (0.5, 0.5))  # wrong S
    failed = mpc.solve(request)
    assert failed.status is SolveStatus.FAILED
    assert "scenario d must have shape" in failed.message


# ---------------------------------------------------------------- adapter


def _forecast(mean, std, dt_s):
    z = Z90
    return Forecast(
        mean=mean,
        profile=mean,
        std=std,
        levels=np.array([0.9]),
        lower=(mean - z * std)[None],
        upper=(mean + z * std)[None],
        interval_method="analytic",
        fallback="none",
        origin_lag=0,
        ar_coefficients=np.array([0.9]),
        innovation_std=float(std[0]),
        dt_s=dt_s,
    )


def test_forecast_scenarios_become_interval_means_on_the_mpc_grid():
    # Two disturbances forecast at 60 s, the MPC at 300 s over 3 intervals.
    minutes = np.arange(15.0)
    gas = _forecast(100.0 + minutes, np.full(15, 2.0), 60.0)
    users = _forecast(np.full(15, 50.0), np.full(15, 1.0), 60.0)
    nominal = HorizonInputs(np.tile([7.0, 0.0, 0.0], (3, 1)), np.ones(3))
    sets = {"gas": gas.scenarios("interval"), "users": users.scenarios("interval")}
    scen = scenarios_from_forecasts(
        nominal, ("fixed", "gas", "users"), sets, 300.0, reverse=("users",)
    )
    assert scen.labels == ("lower", "mean", "upper")
    assert_allclose(scen.weights, WEIGHTS, rtol=1e-12)  # copied from the sets
    assert_allclose(scen.d[:, :, 0], 7.0)  # not forecast: the nominal rows
    # Mean over five 1-min samples of a ramp: its middle sample; bands +- z * 2.
    middle = 100.0 + np.array([2.0, 7.0, 12.0])
    shift = Z90 * 2.0
    # Sums of five doubles: round-off only.
    assert_allclose(scen.d[:, :, 1], [middle - shift, middle, middle + shift], rtol=1e-12)
    # Reversed: the users' upper band pairs with the gas's lower band.
    users_expected = np.array([[50.0 + Z90], [50.0], [50.0 - Z90]]) * np.ones((1, 3))
    assert_allclose(scen.d[:, :, 2], users_expected, rtol=1e-12)


def test_forecast_adapter_rejects_what_it_cannot_combine():
    nominal = HorizonInputs(np.zeros((3, 2)), np.ones(3))
    names = ("a", "b")
    fc = _forecast(np.ones(15), np.ones(15), 60.0)
    with pytest.raises(EconomicMPCError, match=r"unknown disturbances: \['c'\]"):
        scenarios_from_forecasts(nominal, names, {"c": fc.scenarios()}, 300.0)
    with pytest.raises(EconomicMPCError, match="differ from"):
        scenarios_from_forecasts(
            nominal, names, {"a": fc.scenarios(), "b": fc.scenarios("sampled", n=3)}, 300.0
        )
    with pytest.raises(EconomicMPCError, match="do not cover 4 intervals"):
        scenarios_from_forecasts(
            HorizonInputs(np.zeros((4, 2)), np.ones(4)), names, {"a": fc.scenarios()}, 300.0
        )
    skewed = ScenarioSet(np.ones((2, 15)), np.array([0.3, 0.7]), ("x", "y"), 60.0)
    with pytest.raises(EconomicMPCError, match="differ from"):
        scenarios_from_forecasts(nominal, names, {"a": skewed, "b": skewed}, 300.0, reverse=("b",))


# ---------------------------------------------------------------- steelworks

STEEL_INTERVAL_S = 60.0  # as in conftest.steelworks_case
STEEL_HORIZON = 12


@pytest.fixture(scope="module")
def steel(steelworks_case):
    """The nominal case plus a 3-scenario MPC on the same settings (built once)."""
    built, nominal, x0, mv0, horizon, sol = steelworks_case
    multi = ScenarioEconomicMPC(
        built.model, built.parameters(), nominal.settings, n_scenarios=3, reference=None
    )
    return built, nominal, multi, x0, mv0, horizon, sol


def _span(mpc):
    return np.array([m.high - m.low for m in mpc.settings.mvs])


def test_one_scenario_reproduces_the_nominal_steelworks_plan(steel):
    built, nominal, _, x0, mv0, horizon, sol = steel
    single = ScenarioEconomicMPC(built.model, built.parameters(), nominal.settings, n_scenarios=1)
    result = single.plan_scenarios(x0, mv0, ScenarioHorizon.from_nominal(horizon))
    assert result.solution.status is SolveStatus.OPTIMAL, result.solution.message
    # S = 1, R = 1 is the nominal NLP with its rows in another order (same
    # variables, same expressions): measured equal to 1e-15 of the spans;
    # 1e-6 of the spans leaves room for pivoting round-off in MUMPS.
    assert_allclose(
        result.solution.mv_plan / _span(nominal), sol.mv_plan / _span(nominal), atol=1e-6
    )
    assert_allclose(result.solution.objective, sol.objective, rtol=1e-9)
    assert_allclose(result.solution.objective_hold, sol.objective_hold, rtol=1e-12)


def test_identical_scenarios_reproduce_the_nominal_steelworks_plan(steel):
    _, nominal, multi, x0, mv0, horizon, sol = steel
    same = ScenarioHorizon(
        np.repeat(horizon.d[None], 3, axis=0), [0.2, 0.5, 0.3], horizon.price_per_j, horizon.u_base
    )
    result = multi.plan_scenarios(x0, mv0, same)
    assert result.solution.status is SolveStatus.OPTIMAL, result.solution.message
    # Three identical copies have the nominal optimum.  ipopt stops on the
    # scaled dual infeasibility, which in each copy is multiplied by its
    # weight (down to 0.2), so the copies stop up to 5x less close to the
    # optimum than the nominal NLP at the same tol: measured 4e-6 of the
    # objective and 3e-4 of the MV spans (the plan is flat where only the
    # move suppression decides it).
    assert_allclose(result.solution.objective, sol.objective, rtol=3e-5)
    for plan in result.mv_plans:
        assert_allclose(plan / _span(nominal), sol.mv_plan / _span(nominal), atol=3e-3)


def test_three_forecast_scenarios_solve_and_keep_every_hard_limit(steel):
    built, nominal, multi, x0, mv0, horizon, _ = steel
    names = [v.name for v in built.model.disturbances]
    # Blast-furnace gas made: the recorded mean +- 10 % (one sigma), 90 % band.
    mean = horizon.d[:, names.index("blast_furnaces.production_kg_s")]
    fc = _forecast(mean, 0.1 * mean, STEEL_INTERVAL_S)
    scen = scenarios_from_forecasts(
        horizon, names, {"blast_furnaces.production_kg_s": fc.scenarios()}, STEEL_INTERVAL_S
    )
    result = multi.plan_scenarios(x0, mv0, scen)
    sol = result.solution
    assert sol.status is SolveStatus.OPTIMAL, sol.message
    assert result.mv_plans.shape == (3, STEEL_HORIZON, len(nominal.mv_names))
    assert np.all(result.mv_plans[:, 0] == result.mv_plans[1, 0])  # one shared first move
    low = np.array([m.low for m in nominal.settings.mvs])
    high = np.array([m.high for m in nominal.settings.mvs])
    rate = np.array([m.rate for m in nominal.settings.mvs])
    assert np.all((result.mv_plans >= low) & (result.mv_plans <= high))
    moves = np.diff(np.concatenate([np.tile(mv0, (3, 1, 1)), result.mv_plans], axis=1), axis=1)
    assert np.all(np.abs(moves) <= rate)
    # Each scenario's plan simulated in its scenario keeps every hard limit
    # (holders, headers, grid): the scaled excursion is zero up to ipopt's
    # constraint tolerance (1e-8 scaled; allow 1e-6).
    evaluations = multi.evaluate(x0, result.mv_plans, mv0, scen)
    assert max(e.hard_violation for e in evaluations) <= 1e-6
    # More gas made, fuller holder: the scenarios are mapped in order.
    j = sol.cv_names.index("bfg_holder.level_fraction")
    end = result.cv_predicted[:, -1, j]
    assert end[0] < end[1] < end[2]
    assert sol.objective_hold == math.inf or sol.objective <= sol.objective_hold
