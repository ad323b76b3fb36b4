"""Holder-level protection of the DCS layer, crossing diagnosis and the conformal holder margin."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.closedloop.holder_diagnosis import DecisionRecorder, diagnose_holder_crossings
from energyopt.closedloop.holder_margin import (
    ConformalBackoffSource,
    HolderMarginCalibration,
    worst_deficit_scores,
)
from energyopt.closedloop.policies import Decision, EveryStepOverlay
from energyopt.closedloop.protection import HolderGuard, HolderProtection
from energyopt.errors import ModelError

# ------------------------------------------------------------------ protection


def _guard(**kw):
    base = {
        "holder": "ldg_holder",
        "level": 0,
        "consumers": (0, 1),
        "low_start": 0.25,
        "low_stop": 0.16,
        "flare": 2,
        "flare_capacity": 10.0,
        "high_start": 0.87,
        "high_full": 0.90,
    }
    base.update(kw)
    return HolderGuard(**base)


def test_cutback_scales_consumers_linearly_and_counts_minutes():
    prot = HolderProtection((_guard(),), step_s=60.0)
    u = np.array([8.0, 4.0, 0.0])
    prot.apply(u, np.array([0.205]))  # half-way from 0.25 to 0.16: factor 0.5
    assert_allclose(u, [4.0, 2.0, 0.0], rtol=1e-12)  # exact up to round-off
    u = np.array([8.0, 4.0, 0.0])
    prot.apply(u, np.array([0.10]))  # below the stop level: cut to zero
    assert_allclose(u, [0.0, 0.0, 0.0], atol=0.0)
    u = np.array([8.0, 4.0, 0.0])
    prot.apply(u, np.array([0.40]))  # inside: untouched, not counted
    assert_allclose(u, [8.0, 4.0, 0.0], atol=0.0)
    assert prot.acted_minutes() == {
        "ldg_holder_cutback_min": 2.0,
        "ldg_holder_high_override_min": 0.0,
    }
    prot.reset()
    assert prot.acted_minutes()["ldg_holder_cutback_min"] == 0.0


def test_cutback_sheds_curtailable_users_in_proportion():
    prot = HolderProtection((_guard(consumers=(0,), shed=(1,)),), step_s=60.0)
    u = np.array([8.0, 0.1, 0.0])
    prot.apply(u, np.array([0.2275]))  # a quarter of the way from 0.25 to 0.16: factor 0.75
    # Boiler firing x 0.75; the shed command raised to 1 - 0.75 = 0.25.
    assert_allclose(u, [6.0, 0.25, 0.0], rtol=1e-12)
    u = np.array([8.0, 0.6, 0.0])  # a controller already shedding more keeps it
    prot.apply(u, np.array([0.2275]))
    assert_allclose(u[1], 0.6, rtol=0.0)


def test_consumers_already_off_are_not_counted():
    prot = HolderProtection((_guard(),), step_s=60.0)
    u = np.zeros(3)
    prot.apply(u, np.array([0.18]))
    assert prot.acted_minutes()["ldg_holder_cutback_min"] == 0.0


def test_high_level_opens_the_flare_proportionally_never_closes_it():
    prot = HolderProtection((_guard(),), step_s=30.0)
    u = np.array([1.0, 1.0, 0.0])
    prot.apply(u, np.array([0.885]))  # half-way from 0.87 to 0.90
    assert_allclose(u[2], 5.0, rtol=1e-12)  # 0.5 x capacity 10, round-off only
    u = np.array([1.0, 1.0, 9.0])  # the controller already flares more
    prot.apply(u, np.array([0.885]))
    assert u[2] == 9.0
    assert prot.acted_minutes()["ldg_holder_high_override_min"] == 0.5  # one 30-s step


def test_high_level_without_flare_raises_the_consumers():
    guard = _guard(flare=None, flare_capacity=0.0, consumer_max=(20.0, 10.0))
    prot = HolderProtection((guard,), step_s=60.0)
    u = np.array([2.0, 8.0, 0.0])
    prot.apply(u, np.array([0.8925]))  # 3/4 of the way from 0.87 to 0.90
    # Floors 15 and 7.5: the first consumer is raised, the second keeps its 8.
    assert_allclose(u, [15.0, 8.0, 0.0], rtol=1e-12)
    assert prot.acted_minutes()["ldg_holder_high_override_min"] == 1.0


def test_steelworks_protection_resolves_the_demo_holders():
    from energyopt.closedloop.protection import steelworks_protection
    from energyopt.demos import demo_project_file
    from energyopt.plantbuild import build_plant
    from energyopt.project import load_project

    built = build_plant(load_project(demo_project_file("steelworks")))
    guards = {g.holder: g for g in steelworks_protection(built, 60.0).guards}
    ldg = guards["ldg_holder"]
    inputs = [v.name for v in built.model.inputs]
    # Only boiler 3 burns converter gas; no LDG flare, so its firing is raised
    # at high level, up to the binding's 80,000 Nm3/h.
    assert [inputs[i] for i in ldg.consumers] == ["boiler_3.fuel_2_m3_s"]
    assert ldg.flare is None
    assert_allclose(ldg.consumer_max, [80_000.0 / 3600.0], rtol=1e-12)  # unit conversion only
    # Hard limits of the bindings (LDG 15-90 %, BFG 10-90 %) plus the default offsets.
    assert_allclose([ldg.low_start, ldg.low_stop, ldg.high_start], [0.25, 0.16, 0.87], rtol=1e-12)
    bfg = guards["bfg_holder"]
    # The hot stoves and the coke-oven heating may shed part of their BFG.
    assert sorted(inputs[i] for i in bfg.shed) == [
        "coke_oven_heating.curtail_fraction",
        "hot_stoves.curtail_fraction",
    ]
    # The ladle preheaters switch to their natural-gas burners near hard low.
    assert [inputs[i] for i in ldg.shed] == ["steelshop_users.curtail_fraction"]
    assert inputs[bfg.flare] == "bfg_flare.flow_command_m3_s"
    assert_allclose(bfg.flare_capacity, 300_000.0 / 3600.0, rtol=1e-12)  # 300,000 Nm3/h
    assert len(bfg.consumers) == 3  # every boiler burns BFG


def test_nan_level_leaves_inputs_alone():
    prot = HolderProtection((_guard(),), step_s=60.0)
    u = np.array([8.0, 4.0, 0.0])
    prot.apply(u, np.array([np.nan]))
    assert_allclose(u, [8.0, 4.0, 0.0], atol=0.0)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"low_stop": 0.3}, "must be below low_start"),
        ({"low_stop": None}, "give low_start and low_stop"),
        ({"high_full": 0.8}, "must be below high_full"),
        ({"flare": None}, "needs a flare input"),
        ({"flare": None, "consumer_max": (1.0,)}, "one largest flow per consumer"),
    ],
)
def test_guard_rejects_bad_levels(kw, match):
    with pytest.raises(ModelError, match=match):
        _guard(**kw)


def test_protection_rejects_bad_step():
    with pytest.raises(ModelError, match="step_s must be positive"):
        HolderProtection((), step_s=0.0)


@dataclass
class _Hold:
    """A policy holding one input vector, remembering what it was told was applied."""

    interval_s: float = 120.0
    seen: list | None = None
    u: tuple = (8.0, 4.0, 0.0)

    def reset(self, u0, x0):
        self.seen = []

    def decide(self, t_s, y_meas, d_now, plant_mode):
        return Decision(np.array(self.u), 0.0, "optimal", {"lvl": 0.5})

    def observe_applied(self, u):
        self.seen.append(np.array(u))


class _NoDcs:
    def reset(self):
        pass

    def rebase(self, absorbed, cv_targets=None):
        pass

    def apply(self, u, y_meas, k):
        pass


class _Overlay(EveryStepOverlay):
    def overlay(self, u, k):
        pass


def test_overlay_applies_protection_every_step_and_reports_it_to_the_controller():
    inner = _Hold()
    prot = HolderProtection((_guard(),), step_s=60.0)
    policy = _Overlay(inner, 60.0, "test", dcs=_NoDcs(), protection=prot)
    policy.reset(np.zeros(3), np.zeros(1))
    u1 = policy.decide(0.0, np.array([0.205]), np.zeros(0), None).u
    u2 = policy.decide(60.0, np.array([0.50]), np.zeros(0), None).u
    policy.decide(120.0, np.array([0.50]), np.zeros(0), None)
    assert_allclose(u1, [4.0, 2.0, 0.0], rtol=1e-12)  # cut at step 0
    assert_allclose(u2, [8.0, 4.0, 0.0], rtol=1e-12)  # restored at step 1 (stateless)
    # At the second decision the controller reads the inputs applied last (step 1).
    assert_allclose(inner.seen[-1], [8.0, 4.0, 0.0], rtol=1e-12)
    assert prot.acted_minutes()["ldg_holder_cutback_min"] == 1.0


def test_controller_is_not_told_the_protections_clamp():
    # The cut-back acts in the step just before a decision: the controller is
    # told its own setpoints (after the DCS), not the clamped ones -- else a
    # shed the controller does not own (input 1, a gas user's curtailment)
    # would stay in force after the level recovered.
    inner = _Hold(u=(8.0, 0.0, 0.0))
    prot = HolderProtection((_guard(consumers=(0,), shed=(1,)),), step_s=60.0)
    policy = _Overlay(inner, 60.0, "test", dcs=_NoDcs(), protection=prot)
    policy.reset(np.zeros(3), np.zeros(1))
    policy.decide(0.0, np.array([0.50]), np.zeros(0), None)
    u_low = policy.decide(60.0, np.array([0.205]), np.zeros(0), None).u
    assert_allclose(u_low, [4.0, 0.5, 0.0], rtol=1e-12)  # cut by half, half shed
    policy.decide(120.0, np.array([0.50]), np.zeros(0), None)
    assert_allclose(inner.seen[-1], [8.0, 0.0, 0.0], rtol=1e-12)


# ------------------------------------------------------------------ diagnosis


@dataclass
class _Run:
    """The parts of a ClosedLoopResult the diagnosis reads."""

    level: np.ndarray
    supply: np.ndarray
    step_s: float = 60.0
    interval_s: float = 60.0

    @property
    def time_s(self):
        return np.arange(self.level.size) * self.step_s

    def series(self, name):
        if name == "h.level_fraction":
            return self.level
        if name == "gas":
            return self.supply
        raise ModelError(f"no variable {name!r}")


def test_diagnosis_splits_minutes_by_offset_and_cause():
    level = np.full(60, 0.5)
    level[17:20] = 0.1  # episode 1: minutes 2-4 of the interval starting at 15
    level[31:36] = 0.1  # episode 2: minutes 1-5 of the interval starting at 30
    supply = np.ones(60)
    supply[17] = 0.0  # episode 1 starts in a gas pause
    run = _Run(level, supply)
    planned = (np.array([0.0, 900.0, 1800.0, 2700.0]), np.array([0.5, 0.30, 0.152, 0.4]))
    d = diagnose_holder_crossings(
        run, "h", 0.15, planned=planned, decision_interval_s=900.0, supply="gas"
    )
    assert d.minutes_total == 8.0
    assert d.episodes == 2
    # Interval at 900 s planned to end 0.15 above the limit: within the interval;
    # the one at 1800 s planned 0.002 above it (< 0.005): planned at the limit.
    assert (d.episodes_within_interval, d.minutes_within_interval) == (1, 3.0)
    assert (d.episodes_planned_at_limit, d.minutes_planned_at_limit) == (1, 5.0)
    assert d.episodes_at_gas_pause == 1
    expected = np.zeros(15)
    expected[[2, 3, 4]] += 1.0
    expected[[1, 2, 3, 4, 5]] += 1.0
    assert_allclose(d.minutes_by_offset, expected, atol=0.0)
    assert_allclose(d.planned_margin_at_crossing, [0.15, 0.002], atol=1e-12)
    assert "8 min in 2 episodes" in d.summary()


def test_diagnosis_without_plans_says_so():
    level = np.full(30, 0.5)
    level[3:5] = 0.1
    d = diagnose_holder_crossings(_Run(level, np.ones(30)), "h", 0.15, decision_interval_s=900.0)
    assert d.episodes_within_interval == 1
    assert not d.plan_recorded
    assert "no plan recorded" in d.summary()


def test_diagnosis_rejects_interval_off_the_grid():
    with pytest.raises(ModelError, match="not a whole number"):
        diagnose_holder_crossings(
            _Run(np.ones(10), np.ones(10)), "h", 0.1, decision_interval_s=90.0
        )


def test_recorder_keeps_decisions_with_targets_only():
    inner = _Hold()
    rec = DecisionRecorder(inner)
    rec.reset(np.zeros(3), np.zeros(1))
    rec.decide(0.0, np.zeros(1), np.zeros(0), None)
    rec.decide(120.0, np.zeros(1), np.zeros(0), None)
    t, v = rec.planned("lvl")
    assert_allclose(t, [0.0, 120.0], atol=0.0)
    assert_allclose(v, [0.5, 0.5], atol=0.0)
    assert np.isnan(rec.planned("other")[1]).all()
    assert rec.interval_s == 120.0


# ------------------------------------------------------------------ conformal margin


def test_worst_deficit_by_hand():
    # Two 3-step intervals, 10-s steps, planned 2 then 1 m3/s.  Actual 2, 0, 0 | 4, 1, 1:
    # f - a = 0, 2, 2 | -3, 0, 0 -> cumulative x10 s: 0, 20, 40 | 10, 10, 10 m3.
    deficit, surplus = worst_deficit_scores([2.0, 1.0], [2, 0, 0, 4, 1, 1], 10.0, 3)
    assert_allclose(deficit, [40.0, 40.0], rtol=1e-15)  # worst so far, not the end value
    assert_allclose(surplus, [0.0, 0.0], atol=0.0)
    # The mirror image: the surplus side.
    deficit, surplus = worst_deficit_scores([0.0, 0.0], [1, 1, 1, -5, 0, 0], 10.0, 3)
    assert_allclose(surplus, [30.0, 30.0], rtol=1e-15)
    assert_allclose(deficit, [0.0, 20.0], rtol=1e-15)


def test_worst_deficit_nan_poisons_later_leads_and_checks_shape():
    deficit, _ = worst_deficit_scores([1.0, 1.0], [1, 1, np.nan, 1, 1, 1], 1.0, 3)
    assert np.isnan(deficit).all()
    with pytest.raises(ModelError, match="must have shape"):
        worst_deficit_scores([1.0], [1.0, 1.0], 1.0, 3)


class _Src:
    def __call__(self, time_s):
        from controllers.economic import HorizonInputs

        return HorizonInputs(np.zeros((4, 1)), np.ones(4), np.zeros(1))


def _cal(low_m3, high_m3):
    n = len(low_m3)
    return HolderMarginCalibration(
        holder="h",
        quantile=0.999,
        interval_s=900.0,
        margin_low_m3=np.array(low_m3),
        margin_high_m3=np.array(high_m3),
        volume_m3=1000.0,
        n_calibration=1000,
        n_test=200,
        coverage_low=np.ones(n),
        coverage_high=np.ones(n),
    )


def test_conformal_source_backs_off_both_limits_and_holds_the_last_margin():
    src = ConformalBackoffSource(
        _Src(), {"h.level": (_cal([100.0, 200.0], [50.0, 50.0]), 0.15, 0.9)}
    )
    inputs = src(0.0)
    # Low: 0.15 + 0.1, 0.15 + 0.2 then held; high: 0.9 - 0.05.  Exact arithmetic
    # up to round-off of the fraction.
    assert_allclose(inputs.limit_low["h.level"], [0.25, 0.35, 0.35, 0.35], rtol=1e-12)
    assert_allclose(inputs.limit_high["h.level"], [0.85] * 4, rtol=1e-12)
    # Margins larger than the span meet at the middle (0.525).
    wide = ConformalBackoffSource(_Src(), {"h.level": (_cal([900.0], [900.0]), 0.15, 0.9)})
    assert_allclose(wide(0.0).limit_low["h.level"], [0.525] * 4, rtol=1e-12)
    assert_allclose(wide(0.0).limit_high["h.level"], [0.525] * 4, rtol=1e-12)
    assert "0.999 split-conformal" in _cal([1.0], [1.0]).summary()


def test_conformal_source_one_side_stops_short_of_the_other_limit():
    cal = _cal([100.0, 900.0], [500.0, 500.0])
    src = ConformalBackoffSource(_Src(), {"h.level": (cal, 0.15, 0.9)}, sides=("low",))
    inputs = src(0.0)
    # Low: 0.25, then 0.15 + 0.9 capped at 0.9 - min_gap 0.1 = 0.8; high untouched.
    assert_allclose(inputs.limit_low["h.level"], [0.25, 0.8, 0.8, 0.8], rtol=1e-12)
    assert_allclose(inputs.limit_high["h.level"], [0.9] * 4, rtol=1e-12)
    with pytest.raises(ModelError, match="sides must be"):
        ConformalBackoffSource(_Src(), {}, sides=("middle",))
    with pytest.raises(ModelError, match="min_gap must be"):
        ConformalBackoffSource(_Src(), {}, min_gap=-1.0)


class _Plan:
    names = ("gas",)

    def reconstruct(self, values, u_base, interval_s):
        return np.asarray(values["gas_tag"])[:, None]


class _Forecast:
    interval_s = 300.0
    plan = _Plan()
    u_base = np.zeros(0)


class _Causal:
    forecast = _Forecast()

    def horizon(self, time_ms):
        from types import SimpleNamespace

        return SimpleNamespace(inputs=SimpleNamespace(d=np.ones((4, 1))))


class _Source:
    causal = _Causal()


def test_calibrated_margin_is_the_conformal_order_statistic_of_the_worst_deficit():
    from types import SimpleNamespace

    from energyopt.closedloop.holder_margin import calibrate_holder_margin

    # Gas arrives at 0 or 2 m3/s each minute (i.i.d., mean 1); the forecast
    # says 1 throughout; 5-min intervals, gain 1.  Origins: 400 for the
    # calibration, 400 held out.
    rng = np.random.default_rng(5)
    n_min = 5 * 810
    gas = 2.0 * (rng.random(n_min) < 0.5)
    time_ms = np.arange(n_min, dtype=np.int64) * 60_000
    record = SimpleNamespace(time_ms=time_ms, values={"gas_tag": gas})
    cal = calibrate_holder_margin(
        _Source(),
        record,
        "h",
        {"gas": 1.0},
        1000.0,
        calibration_ms=(0, 400 * 300_000),
        test_ms=(400 * 300_000, 800 * 300_000),
        quantile=0.95,
        lead_intervals=2,
    )
    # Independent computation: per origin, the running maximum of the
    # cumulative shortfall (1 - gas) x 60 s over 5 and 10 minutes.
    short = (1.0 - gas) * 60.0
    worst = np.array(
        [
            [max(0.0, np.cumsum(short[5 * o : 5 * o + 5 * k]).max()) for k in (1, 2)]
            for o in range(800)
        ]
    )
    rank = int(np.ceil(401 * 0.95))  # 381st of 400
    expected = np.sort(worst[:400], axis=0)[rank - 1]
    assert_allclose(cal.margin_low_m3, np.maximum.accumulate(expected), rtol=1e-12)  # round-off
    assert cal.n_calibration == 400
    assert cal.n_test == 400
    # Held-out coverage of a 0.95 bound on 400 i.i.d. origins: binomial sd
    # 0.011; 0.04 is about 3.5 of them (plus the discreteness of the scores).
    assert_allclose(cal.coverage_low, 0.95, atol=0.04)
    assert_allclose(cal.margin_low_fraction, cal.margin_low_m3 / 1000.0, rtol=1e-15)
    with pytest.raises(ModelError, match="need at least 999"):
        calibrate_holder_margin(
            _Source(),
            record,
            "h",
            {"gas": 1.0},
            1000.0,
            calibration_ms=(0, 400 * 300_000),
            quantile=0.999,
        )
    with pytest.raises(ModelError, match="volume_m3 must be positive"):
        calibrate_holder_margin(
            _Source(), record, "h", {"gas": 1.0}, 0.0, calibration_ms=(0, 400 * 300_000)
        )


def test_recorder_keeps_what_the_solver_said_of_non_optimal_decisions():
    from energyopt.closedloop.holder_diagnosis import DecisionRecorder

    @dataclass
    class _Says:
        interval_s: float = 60.0
        statuses: tuple = ("optimal", "failed", "none", "suboptimal")

        def reset(self, u0, x0):
            self.k = 0

        def decide(self, t_s, y_meas, d_now, plant_mode):
            status = self.statuses[self.k]
            self.k += 1
            return Decision(np.zeros(1), 0.0, status, None, f"{status} message")

    rec = DecisionRecorder(_Says())
    rec.reset(np.zeros(1), np.zeros(1))
    for k in range(4):
        rec.decide(60.0 * k, np.zeros(1), np.zeros(0), None)
    assert rec.not_optimal == [
        (60.0, "failed", "failed message"),
        (180.0, "suboptimal", "suboptimal message"),
    ]
