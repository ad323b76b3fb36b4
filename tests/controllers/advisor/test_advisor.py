"""The advisor end to end: modes, fallback chain, diagnosis, sanitising, guarantees."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from controllers.advisor import (
    Advisor,
    AdvisorMode,
    AdvisorSettings,
    ControlSolution,
    FallbackLevel,
    ManipulatedVariable,
    MoveLimitation,
    SolveStatus,
)
from controllers.errors import AdvisorError

FAULTS = ("none", "raise", "nan_plan", "infeasible", "timeout", "slow", "outside", "bad_shape",
          "nan_objective", "not_a_solution")  # fmt: skip


class FakeController:
    """Returns a scripted plan or one of several faults; counts its calls."""

    def __init__(self, mv_names, fault="none", plan=None, clock=None):
        self._names = tuple(mv_names)
        self.fault = fault
        self.plan = plan
        self.calls = 0
        self.clock = clock

    @property
    def mv_names(self):
        return self._names

    def solve(self, request):
        self.calls += 1
        n = len(self._names)
        plan = (
            np.tile(0.5 * (request.mv_lower + request.mv_upper), (4, 1))
            if self.plan is None
            else np.array(self.plan, float)
        )
        cv = np.zeros((plan.shape[0] + 1, 1))
        kwargs = {"cv_names": ("y",), "cv_predicted": cv, "objective": 1.0, "objective_hold": 3.0}
        if self.fault == "raise":
            raise RuntimeError("solver crashed")
        if self.fault == "not_a_solution":
            return "nonsense"
        if self.fault == "nan_plan":
            plan = plan.copy()
            plan[0, 0] = np.nan
        if self.fault == "outside":
            plan = plan + 10.0 * (request.mv_upper - request.mv_lower + 1.0)
        if self.fault == "bad_shape":
            plan = np.zeros((3, n + 1))
        if self.fault == "nan_objective":
            kwargs["objective"] = math.nan
        if self.fault == "slow" and self.clock is not None:
            self.clock.advance(10.0 * request.time_budget_s)
        status = {"infeasible": SolveStatus.INFEASIBLE, "timeout": SolveStatus.TIMEOUT}.get(
            self.fault, SolveStatus.OPTIMAL
        )
        return ControlSolution(status, plan, message=self.fault, **kwargs)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self):
        self.now = 0.0

    def advance(self, dt):
        self.now += dt

    def __call__(self):
        return self.now


def _settings(mvs, **kw):
    base = {"measurement_names": ("y",), "interval_s": 60.0, "time_budget_s": 1.0}
    base.update(kw)
    return AdvisorSettings(mvs=tuple(mvs), **base)


# ---------------------------------------------------------------- end to end


def test_advise_end_to_end_with_real_solve(di_mpc, di_settings):
    advisor = Advisor(di_mpc, di_settings)
    rec = advisor.recommend(0.0, [0.0], [4.0, 0.0])
    assert rec.fallback is FallbackLevel.NONE
    assert rec.solve_status is SolveStatus.OPTIMAL
    mv = rec.mvs[0]
    # MPC pushes back from +4 as fast as the 0.5 rate limit allows (solver tol 1e-7).
    assert_allclose(mv.setpoint, -0.5, atol=1e-7)
    assert mv.limitation in (MoveLimitation.NONE, MoveLimitation.RATE)
    assert "force.rate" in rec.active_constraints
    assert rec.expected_saving is not None
    assert rec.expected_saving > 0.0
    assert rec.prediction is not None
    assert rec.prediction.cv.shape == (11, 2)
    assert rec.prediction.mv_plan.shape == (10, 1)
    assert_allclose(rec.prediction.time_s[:3], [0.0, 1.0, 2.0], rtol=0)  # interval 1 s
    assert "lower force" in mv.reason
    assert rec.setpoints == {"force": mv.setpoint}


def test_infeasible_falls_back_and_names_the_conflict(di_mpc):
    settings_ = AdvisorSettings(
        # No rate limit: with one, {position.upper, force.rate} would be a second
        # irreducible conflict (one unit-rate step cannot stop the mass either).
        mvs=(ManipulatedVariable("force", -0.1, 0.1),),
        measurement_names=("position", "velocity"),
        interval_s=1.0,
        time_budget_s=5.0,
    )
    advisor = Advisor(di_mpc, settings_)
    rec = advisor.recommend(0.0, [0.05], [4.9, 3.0])
    assert rec.solve_status is SolveStatus.INFEASIBLE
    assert rec.fallback is FallbackLevel.HOLD
    assert set(rec.infeasible_constraints) == {"position.upper", "force.lower"}
    assert "position.upper" in rec.fallback_reason
    assert rec.mvs[0].setpoint == 0.05  # held exactly
    assert rec.expected_saving == 0.0


def test_fallback_chain_shifted_plan_then_hold():
    plan = [[1.0], [2.0], [3.0], [4.0]]
    ctl = FakeController(("u",), plan=plan)
    advisor = Advisor(ctl, _settings([ManipulatedVariable("u", 0.0, 10.0, 5.0)],
                                     max_plan_age_intervals=2))  # fmt: skip
    first = advisor.recommend(0.0, [0.0], [1.0])
    assert first.fallback is FallbackLevel.NONE
    assert first.mvs[0].setpoint == 1.0
    ctl.fault = "raise"
    second = advisor.recommend(60.0, [1.0], [1.0])
    assert second.fallback is FallbackLevel.SHIFTED_PLAN
    assert second.mvs[0].setpoint == 2.0  # row 1 of the accepted plan
    assert "RuntimeError: solver crashed" in second.fallback_reason
    assert second.expected_saving is None
    assert second.prediction is not None
    assert second.prediction.mv_plan[:, 0].tolist() == [2.0, 3.0, 4.0]
    third = advisor.recommend(120.0, [2.0], [1.0])
    assert third.fallback is FallbackLevel.SHIFTED_PLAN
    assert third.mvs[0].setpoint == 3.0
    fourth = advisor.recommend(180.0, [3.0], [1.0])  # plan 3 intervals old > 2
    assert fourth.fallback is FallbackLevel.HOLD
    assert fourth.mvs[0].setpoint == 3.0
    assert "hold current setpoints" in fourth.mvs[0].reason


def test_late_result_is_discarded():
    clock = FakeClock()
    ctl = FakeController(("u",), fault="slow", clock=clock)
    advisor = Advisor(ctl, _settings([ManipulatedVariable("u", 0.0, 10.0, 1.0)]), clock=clock)
    rec = advisor.recommend(0.0, [4.0], [1.0])
    assert rec.fallback is FallbackLevel.HOLD
    assert "over the time budget" in rec.fallback_reason
    assert rec.solve_time_s == 10.0


@pytest.mark.parametrize(
    ("fault", "fragment"),
    [
        ("nan_plan", "NaN"),
        ("outside", "violates the MV limits"),
        ("bad_shape", "shape"),
        ("nan_objective", "objective is not finite"),
        ("timeout", "status timeout"),
        ("not_a_solution", "not a ControlSolution"),
    ],
)
def test_faulty_solution_rejected_with_reason(fault, fragment):
    ctl = FakeController(("u",), fault=fault)
    advisor = Advisor(ctl, _settings([ManipulatedVariable("u", 0.0, 10.0, 1.0)]))
    rec = advisor.recommend(0.0, [4.0], [1.0])
    assert rec.fallback is FallbackLevel.HOLD
    assert fragment in rec.fallback_reason
    assert rec.mvs[0].setpoint == 4.0


def test_rate_violating_plan_rejected():
    ctl = FakeController(("u",), plan=[[4.5], [9.0]])
    advisor = Advisor(ctl, _settings([ManipulatedVariable("u", 0.0, 10.0, 1.0)]))
    rec = advisor.recommend(0.0, [4.0], [1.0])
    assert rec.fallback is FallbackLevel.HOLD
    assert "rate limits" in rec.fallback_reason


# ---------------------------------------------------------------- modes and inputs


def test_mode_off_does_nothing_and_predict_only_predicts():
    ctl = FakeController(("u",), plan=[[5.0], [5.0]])
    advisor = Advisor(ctl, _settings([ManipulatedVariable("u", 0.0, 10.0, 2.0)],
                                     mode=AdvisorMode.OFF))  # fmt: skip
    off = advisor.recommend(0.0, [4.0], [1.0])
    assert ctl.calls == 0
    assert off.setpoints == {}
    assert off.prediction is None
    advisor.mode = AdvisorMode.PREDICT
    pred = advisor.recommend(60.0, [4.0], [1.0])
    assert ctl.calls == 1
    assert pred.setpoints == {}
    assert pred.prediction is not None
    assert pred.prediction.mv_plan[0, 0] == 5.0
    assert pred.mvs[0].reason.startswith("mode PREDICT")
    advisor.mode = AdvisorMode.ADVISE
    assert advisor.recommend(120.0, [4.0], [1.0]).setpoints == {"u": 5.0}
    with pytest.raises(AdvisorError, match="AdvisorMode"):
        advisor.mode = "advise"


def test_invalid_critical_measurement_blocks_the_controller():
    ctl = FakeController(("u",))
    advisor = Advisor(ctl, _settings([ManipulatedVariable("u", 0.0, 10.0, 1.0)],
                                     max_stale_samples=1))  # fmt: skip
    hist = np.array([[1.0], [np.nan], [np.nan]])
    rec = advisor.recommend(0.0, [4.0], [np.nan], history=hist)
    assert ctl.calls == 0
    assert rec.fallback is FallbackLevel.HOLD
    assert "critical measurement 'y' is invalid" in rec.fallback_reason
    assert any("missing for 3 samples" in s for s in rec.measurement_issues)


def test_frozen_noncritical_measurement_passed_on_flagged():
    seen = {}

    class Spy(FakeController):
        def solve(self, request):
            seen["valid"] = request.measurement_valid.copy()
            return super().solve(request)

    settings_ = _settings(
        [ManipulatedVariable("u", 0.0, 10.0, 1.0)],
        measurement_names=("y", "z"),
        critical_measurements=("y",),
        frozen_samples=3,
    )
    advisor = Advisor(Spy(("u",)), settings_)
    hist = np.array([[1.0, 7.0], [1.1, 7.0]])
    rec = advisor.recommend(0.0, [4.0], [1.2, 7.0], history=hist)
    assert seen["valid"].tolist() == [True, False]
    assert rec.fallback is FallbackLevel.NONE
    assert any("'z' is frozen" in s for s in rec.measurement_issues)


def test_missing_mv_value_bridged_then_unknown():
    ctl = FakeController(("u", "v"), plan=[[5.0, 5.0]])
    mvs = [ManipulatedVariable("u", 0.0, 10.0, 1.0), ManipulatedVariable("v", 0.0, 10.0, 1.0)]
    advisor = Advisor(ctl, _settings(mvs, max_stale_samples=1))
    advisor.recommend(0.0, [4.0, 4.0], [1.0])
    bridged = advisor.recommend(60.0, [4.5, np.nan], [1.0])
    assert bridged.mvs[1].current == 4.0  # last known value
    assert bridged.fallback is FallbackLevel.NONE
    unknown = advisor.recommend(120.0, [4.5, np.nan], [1.0])  # 2 calls missing > 1
    assert unknown.mvs[1].setpoint is None
    assert "unknown" in unknown.mvs[1].reason
    assert unknown.fallback is not FallbackLevel.NONE
    assert unknown.mvs[0].setpoint is not None


def test_construction_errors():
    with pytest.raises(AdvisorError, match="differ"):
        Advisor(FakeController(("a",)), _settings([ManipulatedVariable("u", 0.0, 1.0)]))
    with pytest.raises(AdvisorError, match="above upper"):
        ManipulatedVariable("u", 2.0, 1.0)
    with pytest.raises(AdvisorError, match="rate limit"):
        ManipulatedVariable("u", 0.0, 1.0, 0.0)
    with pytest.raises(AdvisorError, match="critical measurements"):
        _settings([ManipulatedVariable("u", 0.0, 1.0)], critical_measurements=("q",))
    with pytest.raises(AdvisorError, match="expected 1 current MV"):
        Advisor(FakeController(("u",)), _settings([ManipulatedVariable("u", 0.0, 1.0)])).recommend(
            0.0, [1.0, 2.0], [1.0]
        )


# ---------------------------------------------------------------- guarantees


def _mv_strategy():
    return st.tuples(
        st.floats(-1e3, 1e3),
        st.floats(0.0, 1e3),
        st.one_of(st.floats(1e-3, 1e3), st.just(math.inf)),
    )


values = st.one_of(st.floats(-3e3, 3e3), st.just(math.nan), st.just(math.inf))


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    limits=st.lists(_mv_strategy(), min_size=1, max_size=3),
    steps=st.lists(
        st.tuples(
            st.lists(values, min_size=3, max_size=3),
            st.sampled_from(FAULTS),
            st.one_of(st.floats(-3e3, 3e3), st.just(math.nan)),
            st.sampled_from(tuple(AdvisorMode)),
        ),
        min_size=1,
        max_size=5,
    ),
)
def test_property_every_setpoint_safe(limits, steps):
    mvs = [ManipulatedVariable(f"mv{i}", lo, lo + span, r) for i, (lo, span, r) in
           enumerate(limits)]  # fmt: skip
    names = tuple(mv.name for mv in mvs)
    clock = FakeClock()
    ctl = FakeController(names, clock=clock)
    advisor = Advisor(ctl, _settings(mvs), clock=clock)
    for k, (currents, fault, plan_value, mode) in enumerate(steps):
        ctl.fault = fault
        ctl.plan = np.full((4, len(mvs)), plan_value)  # random (maybe NaN, maybe out of range)
        advisor.mode = mode
        current = np.array(currents[: len(mvs)])
        rec = advisor.recommend(60.0 * k, current, [1.0])
        for mv, out in zip(mvs, rec.mvs, strict=True):
            if out.setpoint is None:
                continue
            assert mode is AdvisorMode.ADVISE
            c = out.current
            assert c is not None
            s = out.setpoint
            assert math.isfinite(s)
            # c +/- r rounds to a few ulps (2.2e-16) of the largest operand.
            tol = 1e-14 * max(1.0, abs(c), abs(mv.lower), abs(mv.upper))
            assert abs(s - c) <= mv.rate_per_interval + tol
            if out.limitation is MoveLimitation.RECOVERING:
                toward = (s > c) if c < mv.lower else (s < c)
                assert toward
                assert abs(abs(s - c) - mv.rate_per_interval) <= tol  # a full step
            else:
                assert mv.lower <= s <= mv.upper
        if rec.prediction is not None:
            assert np.isfinite(rec.prediction.mv_plan).all()
            assert np.isfinite(rec.prediction.cv).all()
        if rec.expected_saving is not None:
            assert math.isfinite(rec.expected_saving)


def test_every_fault_is_exercised():
    # Direct sweep of every fault x (inside, outside, unknown current), so each
    # fault path is covered whatever examples hypothesis draws.
    mvs = [ManipulatedVariable("u", 0.0, 1.0, 0.1)]
    for fault, current in itertools.product(FAULTS, (0.5, -3.0, math.nan)):
        advisor = Advisor(FakeController(("u",), fault=fault), _settings(mvs))
        rec = advisor.recommend(0.0, [current], [1.0])
        if math.isnan(current):
            assert rec.mvs[0].setpoint is None
        else:
            assert rec.mvs[0].setpoint is not None
            assert abs(rec.mvs[0].setpoint - current) <= 0.1 + 1e-15
