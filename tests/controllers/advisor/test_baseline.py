"""The expected saving against "operators change nothing", checked against an independent LP.

The plant is the storage plant of the economic MPC's LP tests: a 6 MWh
store fed by grid purchase (the operators' setpoint, held in the baseline)
and own generation (a balancing MV, re-optimised), against a 10 MW demand,
4 valley (0.3 CNY/kWh) then 4 peak (1.1 CNY/kWh) intervals of 15 min.  Both
the recommended plan and the baseline are linear programs solved here again
with ``scipy.optimize.linprog`` (HiGHS), independently of casadi/ipopt.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
from numpy.testing import assert_allclose

from controllers.advisor import (
    Advisor,
    AdvisorSettings,
    ControlRequest,
    ControlSolution,
    FallbackLevel,
    InfeasibilityDiagnosis,
    ManipulatedVariable,
    SolveStatus,
    solve_baseline,
)
from controllers.economic import (
    CostTerm,
    EconomicMPC,
    EconomicMPCSettings,
    HardLimit,
    RecordedHorizon,
)
from controllers.economic import ManipulatedVariable as EconomicMV
from controllers.errors import AdvisorError
from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.mathfuncs import zeros

MW = 1e6
KWH = 3.6e6
E_MAX_J = 6.0 * 1000 * KWH  # 6 MWh store
N = 8
DT = 900.0
GRID_MAX_W = 20 * MW
GEN_MAX_W = 5 * MW
PRICE = np.array([0.3] * 4 + [1.1] * 4) / KWH  # CNY/J
GEN_PRICE = 0.65 / KWH  # CNY/J


@equation
def _f(x, u, d, p):
    dxdt = zeros(1)
    dxdt[0] = u[0] + u[1] - d[0]
    return dxdt


@equation
def _g(x, u, d, p):
    y = zeros(3)
    y[0] = u[0]
    y[1] = u[1]
    y[2] = x[0] / p[0]
    return y


STORE = EquationModel(
    name="store",
    f=_f,
    g=_g,
    states=(Variable("energy_j", "J", "Stored energy", 0.0, E_MAX_J),),
    inputs=(
        Variable("grid_w", "W", "Grid purchase", 0.0, 30 * MW),
        Variable("gen_w", "W", "Own generation", 0.0, 5 * MW),
    ),
    disturbances=(Variable("demand_w", "W", "Demand", 0.0, 20 * MW),),
    outputs=(
        Variable("grid_w", "W", "Grid purchase"),
        Variable("gen_w", "W", "Own generation"),
        Variable("level", "1", "Fill level"),
    ),
    parameters=(Variable("capacity_j", "J", "Store capacity", 1.0, 1e12),),
)


def _mpc(demand_w):
    settings = EconomicMPCSettings(
        mvs=(EconomicMV("grid_w", 0.0, GRID_MAX_W), EconomicMV("gen_w", 0.0, GEN_MAX_W)),
        interval_s=DT,
        horizon=N,
        electricity_variable="grid_w",
        cost_terms=(CostTerm("gen_w", GEN_PRICE, "fuel"),),
        hard_limits=(HardLimit("level", 0.0, 1.0),),
        tolerance=1e-10,
    )
    source = RecordedHorizon(np.arange(N) * DT, np.full((N, 1), demand_w), PRICE, N)
    return EconomicMPC(STORE, [E_MAX_J], settings, forecast=source)


def _advisor(mpc, **kw):
    settings = AdvisorSettings(
        mvs=(
            ManipulatedVariable("grid_w", 0.0, GRID_MAX_W),
            ManipulatedVariable("gen_w", 0.0, GEN_MAX_W),
        ),
        measurement_names=("energy_j",),
        interval_s=DT,
        time_budget_s=60.0,
        baseline_held=("grid_w",),
        **kw,
    )
    return Advisor(mpc, settings)


def _lp_cost(e0_j, demand_w, grid_held_w=None, hold=0):
    """Least cost by scipy's LP: z = [grid_0..grid_7, gen_0..gen_7]. [CNY]

    Store ``E_k = e0 + DT * sum_{j<k} (grid_j + gen_j - demand)`` kept in
    ``[0, E_MAX]`` at every interval end; grid held at ``grid_held_w`` over
    the first ``hold`` intervals.
    """
    cost = DT * np.concatenate([PRICE, np.full(N, GEN_PRICE)])
    lower_tri = np.tril(np.ones((N, N))) * DT
    a_energy = np.hstack([lower_tri, lower_tri])  # E_k - e0 + DT * demand * k
    offset = e0_j - DT * demand_w * np.arange(1, N + 1)
    a_ub = np.vstack([a_energy, -a_energy])
    b_ub = np.concatenate([E_MAX_J - offset, offset])
    bounds = [(0.0, GRID_MAX_W)] * N + [(0.0, GEN_MAX_W)] * N
    for k in range(hold):
        bounds[k] = (grid_held_w, grid_held_w)
    result = scipy.optimize.linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    assert result.status == 0, result.message
    return result.fun


@pytest.mark.parametrize(
    ("hold", "by_hand"),
    [
        # Whole horizon: grid held at 10 MW = demand, the store is useless:
        # 10 MWh at 0.3 + 10 MWh at 1.1.  The plan fills the empty store in the
        # valley (16 MWh at 0.3) and covers the peak by it and 4 MWh of own
        # generation at 0.65: 4800 + 2600.
        (N, 14_000.0 - 7_400.0),
        # Held for 30 min: the last valley half-hour buys at most 20 MW x 0.5 h
        # = 10 MWh (5 demand + 5 into the store), the peak is covered by the
        # store (5) and own generation at its limit (5): 0.3 x 15,000 + 0.65 x
        # 5,000 = 7750.
        (2, 7_750.0 - 7_400.0),
    ],
)
def test_saving_equals_the_independent_lp(hold, by_hand):
    mpc = _mpc(10 * MW)
    advisor = _advisor(mpc, baseline_hold_intervals=(hold,))
    rec = advisor.recommend(0.0, [10 * MW, 0.0], [0.0])
    assert rec.fallback is FallbackLevel.NONE
    base = rec.baseline
    assert base is not None
    assert base.comparable
    assert base.reason == ""
    assert base.hold_intervals == hold
    assert base.held_mvs == ("grid_w",)
    independent = _lp_cost(0.0, 10 * MW, 10 * MW, hold) - _lp_cost(0.0, 10 * MW)
    assert_allclose(independent, by_hand, rtol=1e-9)  # HiGHS simplex: exact vertices
    # ipopt at tol 1e-10 on the objective scaled by 1e-6 and slacks relaxed by
    # ~1e-8: the objectives of both plans (~1e4 CNY) agree with the LP to ~1e-7.
    assert_allclose(rec.expected_saving, independent, rtol=1e-5, atol=1e-2)
    # The baseline holds the grid purchase (exactly: the MV bounds are equal)
    # and re-optimises own generation.
    assert_allclose(base.mv_plan[:hold, 0], 10 * MW, rtol=1e-12)
    assert base.mv_plan.shape == (N, 2)
    assert rec.saving_horizon_s == N * DT
    assert "1 operator setpoint(s) held" in base.describe()
    assert rec.saving_note == ""


def test_hold_breaking_a_hard_limit_gives_a_named_reason():
    # 12 MW demand from an empty store, grid held at 5 MW, own generation at
    # most 5 MW: the store would go below empty within the first interval.
    mpc = _mpc(12 * MW)
    advisor = _advisor(mpc, baseline_hold_intervals=(4, 1))
    rec = advisor.recommend(0.0, [5 * MW, 0.0], [0.0])
    assert rec.fallback is FallbackLevel.NONE
    assert rec.solve_status is SolveStatus.OPTIMAL  # the plan raises the purchase
    assert rec.expected_saving is None
    base = rec.baseline
    assert base is not None
    assert not base.comparable
    assert base.violated_constraints == ("level.low_violated",)
    assert len(base.attempts) == 2  # 1 h, then 15 min
    assert (
        "holding the operators' setpoints for 1 h breaks hard limits the plan keeps: "
        "level.low_violated" in base.reason
    )
    assert "for 15 min" in base.reason
    assert rec.saving_note == base.reason


def test_legacy_saving_without_a_configured_baseline():
    mpc = _mpc(10 * MW)
    settings = AdvisorSettings(
        mvs=(
            ManipulatedVariable("grid_w", 0.0, GRID_MAX_W),
            ManipulatedVariable("gen_w", 0.0, GEN_MAX_W),
        ),
        measurement_names=("energy_j",),
        interval_s=DT,
        time_budget_s=60.0,
    )
    rec = Advisor(mpc, settings).recommend(0.0, [10 * MW, 0.0], [0.5 * E_MAX_J])
    assert rec.baseline is None
    # Every MV held from a half-full store: 14,000 CNY (test_lp_dispatch); the
    # plan: 3 MWh into the store in the valley, 6 MWh of store and 4 MWh of own
    # generation at peak: 0.3 x 13,000 + 0.65 x 4,000 = 6,500.
    assert_allclose(rec.expected_saving, 14_000.0 - 6_500.0, rtol=1e-5)  # ipopt, see above


# ------------------------------------------------------------------ failure paths


class ScriptedController:
    """Answers the plan request normally and the baseline request(s) as scripted."""

    def __init__(self, baseline):
        self.baseline = baseline
        self.requests = []

    @property
    def mv_names(self):
        return ("u", "v")

    def solve(self, request):
        self.requests.append(request)
        plan = np.tile([5.0, 5.0], (4, 1))
        kwargs = {"cv_names": ("y",), "cv_predicted": np.zeros((5, 1)), "objective": 10.0}
        if len(self.requests) == 1:
            return ControlSolution(SolveStatus.OPTIMAL, plan, **kwargs)
        if self.baseline == "raise":
            raise RuntimeError("baseline crashed")
        if self.baseline == "infeasible":
            diagnosis = InfeasibilityDiagnosis(conflicting=("balance.mixed_gas",))
            return ControlSolution(SolveStatus.INFEASIBLE, np.zeros((0, 2)), diagnosis=diagnosis)
        if self.baseline == "ignores_hold":
            return ControlSolution(SolveStatus.OPTIMAL, plan, **kwargs)
        if self.baseline == "bad_shape":
            return ControlSolution(SolveStatus.OPTIMAL, np.zeros((3, 2)), **kwargs)
        if self.baseline == "failed":
            return ControlSolution(SolveStatus.FAILED, np.zeros((0, 2)), message="no convergence")
        held = plan.copy()
        held[:, 0] = np.clip(held[:, 0], request.mv_lower[..., 0], request.mv_upper[..., 0])
        return ControlSolution(SolveStatus.OPTIMAL, held, **{**kwargs, "objective": 12.5})


def _scripted_advisor(ctl, **kw):
    settings = AdvisorSettings(
        mvs=(ManipulatedVariable("u", 0.0, 10.0), ManipulatedVariable("v", 0.0, 10.0)),
        measurement_names=("y",),
        interval_s=60.0,
        time_budget_s=5.0,
        baseline_held=("u",),
        **kw,
    )
    return Advisor(ctl, settings)


@pytest.mark.parametrize(
    ("script", "fragment"),
    [
        ("raise", "the controller raised RuntimeError: baseline crashed"),
        ("infeasible", "is infeasible (conflicting constraints: balance.mixed_gas)"),
        ("ignores_hold", "did not hold the held MVs"),
        ("bad_shape", "baseline plan has shape (3, 2)"),
        ("failed", "status failed: no convergence"),
    ],
)
def test_baseline_failures_are_named(script, fragment):
    advisor = _scripted_advisor(ScriptedController(script), baseline_hold_intervals=(2,))
    rec = advisor.recommend(0.0, [3.0, 4.0], [1.0])
    assert rec.fallback is FallbackLevel.NONE  # the plan itself is still recommended
    assert rec.setpoints == {"u": 5.0, "v": 5.0}
    assert rec.expected_saving is None
    assert rec.baseline is not None
    assert fragment in rec.baseline.reason
    assert fragment in rec.saving_note
    if script == "infeasible":
        assert rec.baseline.violated_constraints == ("balance.mixed_gas",)


def test_baseline_request_holds_only_the_held_mvs_over_the_window():
    ctl = ScriptedController("ok")
    rec = _scripted_advisor(ctl, baseline_hold_intervals=(2,)).recommend(0.0, [3.0, 4.0], [1.0])
    request = ctl.requests[1]
    assert request.mv_lower.shape == (4, 2)  # per interval: the window is shorter
    assert request.mv_lower[:2, 0].tolist() == [3.0, 3.0]
    assert request.mv_upper[:2, 0].tolist() == [3.0, 3.0]
    assert request.mv_lower[2:, 0].tolist() == [0.0, 0.0]
    assert request.mv_upper[:, 1].tolist() == [10.0] * 4  # the balancing MV stays free
    assert request.previous_plan[:2, 0].tolist() == [3.0, 3.0]
    assert rec.expected_saving == 2.5  # 12.5 - 10.0, exact binary fractions
    # A window at least as long as the horizon: the usual per-MV limits.
    ctl = ScriptedController("ok")
    _scripted_advisor(ctl, baseline_hold_intervals=(9,)).recommend(0.0, [3.0, 4.0], [1.0])
    assert ctl.requests[1].mv_lower.tolist() == [3.0, 0.0]


def test_trim_band_and_held_setpoint_outside_its_limits():
    ctl = ScriptedController("ok")
    advisor = _scripted_advisor(ctl, baseline_trim=0.05)
    advisor.recommend(0.0, [3.0, 4.0], [1.0])
    # 5 % of the 0..10 span either way around the current 3.
    assert_allclose(ctl.requests[1].mv_lower, [2.5, 0.0], rtol=1e-15)
    assert_allclose(ctl.requests[1].mv_upper, [3.5, 10.0], rtol=1e-15)
    ctl = ScriptedController("ok")
    rec = _scripted_advisor(ctl).recommend(0.0, [12.0, 4.0], [1.0])
    assert len(ctl.requests) == 1  # no baseline solve: holding breaks the limit now
    assert rec.expected_saving is None
    assert rec.baseline.violated_constraints == ("u.upper",)
    assert "outside its limits now" in rec.baseline.reason


def test_solve_baseline_over_budget_is_not_compared():
    clock = iter([0.0, 100.0])
    ctl = ScriptedController("ok")
    ctl.requests.append(None)  # the next call is answered as a baseline
    request_plan = np.tile([5.0, 5.0], (4, 1))
    request = ControlRequest(
        time_s=0.0,
        mv_current=np.array([3.0, 4.0]),
        mv_lower=np.zeros(2),
        mv_upper=np.full(2, 10.0),
        mv_rate=np.full(2, math.inf),
        measurements=np.ones(1),
        measurement_valid=np.ones(1, bool),
        history=np.zeros((0, 1)),
        time_budget_s=5.0,
    )
    base = solve_baseline(
        ctl, request, request_plan, ("u",), (), interval_s=60.0, tolerance=1e-6,
        diagnose=False, clock=lambda: next(clock),
    )  # fmt: skip
    assert not base.comparable
    assert "was not solved in time (100 s, budget 5 s)" in base.reason
    assert base.hold_intervals == 4  # the whole horizon


def test_settings_validation():
    mvs = (ManipulatedVariable("u", 0.0, 1.0),)
    common = {"measurement_names": ("y",), "interval_s": 60.0, "time_budget_s": 1.0}
    with pytest.raises(AdvisorError, match=r"baseline_held names unknown MVs: \['w'\]"):
        AdvisorSettings(mvs=mvs, baseline_held=("w",), **common)
    with pytest.raises(AdvisorError, match="baseline_hold_intervals must be integers >= 1"):
        AdvisorSettings(mvs=mvs, baseline_held=("u",), baseline_hold_intervals=(0,), **common)
    with pytest.raises(AdvisorError, match="baseline_trim must be finite and >= 0"):
        AdvisorSettings(mvs=mvs, baseline_held=("u",), baseline_trim=-0.1, **common)
