"""Chemical closed-loop scenario: the operator's plan, PID-only on it, the NMPC's plan targets."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.advisor import ControlRequest, ControlSolution, SolveStatus
from energyopt.closedloop.chemical import build_chemical_scenario
from energyopt.closedloop.chemical_control import (
    ModeTrackingNmpc,
    OperatorPlanPid,
    chemical_pid_policy,
)
from energyopt.closedloop.harness import run_closed_loop
from energyopt.errors import ModelError


@pytest.fixture(scope="module")
def scenario():
    """One day of the scenario (several operator moves; numba kernels cached on disk)."""
    return build_chemical_scenario(days=1.0, seed=5)


def _request(scenario, t_s, mv_current):
    return ControlRequest(
        time_s=t_s,
        mv_current=np.asarray(mv_current, dtype=np.float64),
        mv_lower=scenario.mv_lower.copy(),
        mv_upper=scenario.mv_upper.copy(),
        mv_rate=scenario.mv_rate.copy(),
        measurements=np.zeros(1),
        measurement_valid=np.ones(1, dtype=bool),
        history=np.zeros((0, 1)),
        time_budget_s=1.0,
        plant_mode=scenario.plant_mode(t_s),
    )


def test_plan_follows_the_demo_history_law(scenario):
    """Mode nominal setpoints with the demo's operator moves, piecewise constant, u0 on it."""
    plan, modes = scenario.plan, scenario.mode_at_step
    assert plan.shape == (scenario.plant.n_steps, len(scenario.mv_inputs))
    # Operator moves of the demo history: +-1.5 K on temperatures, +-0.08 on
    # the level fraction, +-6 % on flows around the mode's nominal value.
    half_range = {
        "fic_101.setpoint": ("rel", 0.06),
        "tic_102.setpoint": ("abs", 1.5),
        "tic_110.setpoint": ("abs", 1.5),
        "lic_201.setpoint": ("abs", 0.08),
        "fic_203.setpoint": ("rel", 0.06),
    }
    for j, name in enumerate(scenario.mv_inputs):
        nominal = np.array([scenario.modes[scenario.mode_names[m]][name] for m in modes])
        kind, size = half_range[name]
        allowed = size * np.abs(nominal) if kind == "rel" else np.full(nominal.size, size)
        assert np.all(np.abs(plan[:, j] - nominal) <= allowed * (1.0 + 1e-12)), name
        # The operator does move: not every row sits on the nominal value.
        assert np.ptp(plan[:, j] - nominal) > 0.1 * size * (
            np.abs(nominal).min() if kind == "rel" else 1.0
        )
    # Segments: constant inside, a change at every boundary, moves every >= 2 h.
    seg = scenario.plan_segment
    assert seg[0] == 0
    assert np.all(np.diff(seg) >= 0)
    assert seg[-1] >= 4
    changes = np.flatnonzero(np.diff(seg)) + 1
    assert np.all(np.diff(changes) >= 2 * 60)
    assert np.all(np.any(plan[changes] != plan[changes - 1], axis=1))
    model = scenario.flowsheet.model
    for j, name in enumerate(scenario.mv_inputs):
        assert scenario.u0[model.index("u", name)] == plan[0, j]


def test_plan_lookups_agree(scenario):
    """plan_setpoints, plan_segment_name and plan_segments name the same row at any time."""
    segments = scenario.plan_segments()
    assert len(segments) == int(scenario.plan_segment[-1]) + 1
    for k in (0, 59, 600, 1000, scenario.plant.n_steps - 1):
        t = k * 60.0
        row = dict(zip(scenario.mv_inputs, scenario.plan[k], strict=True))
        assert scenario.plan_setpoints(t) == row
        assert segments[scenario.plan_segment_name(t)] == row
    # Times beyond the series clamp to its ends.
    assert scenario.plan_setpoints(-600.0) == scenario.plan_setpoints(0.0)
    assert scenario.plan_setpoints(1e9) == scenario.plan_setpoints(
        (scenario.plant.n_steps - 1) * 60.0
    )


def test_operator_plan_pid_ramps_to_the_stretch_in_force(scenario):
    """Each request ramps at the rate limits to the setpoints of the plan at its time."""
    pid = OperatorPlanPid(scenario)
    assert pid.mv_names == scenario.mv_inputs
    k = int(np.flatnonzero(np.diff(scenario.plan_segment))[1]) + 1  # start of the third stretch
    target = scenario.plan[k]
    current = scenario.plan[k - 1].copy()
    sol = pid.solve(_request(scenario, k * 60.0, current))
    assert sol.status is SolveStatus.OPTIMAL
    # First row: one rate-limited move from the current value towards the target
    # (exact arithmetic on a clip of sums: 1e-12 relative covers rounding).
    expected = np.clip(target, current - scenario.mv_rate, current + scenario.mv_rate)
    assert_allclose(sol.mv_plan[0], expected, rtol=1e-12)
    # The plan reaches the stretch's setpoints within its horizon.
    assert_allclose(sol.mv_plan[-1], target, rtol=1e-12)


def test_pid_only_runs_the_loops_on_the_plan(scenario):
    """Over two hours, the applied MV setpoints end on the plan (every move is within rate)."""
    result = run_closed_loop(scenario.plant, chemical_pid_policy(scenario), scenario.u0,
                             n_steps=120, plant_mode=scenario.plant_mode,
                             mode_names=scenario.mode_names)  # fmt: skip
    model = scenario.flowsheet.model
    applied = np.column_stack([result.inputs[:, model.index("u", n)] for n in scenario.mv_inputs])
    # The plan's first stretch lasts >= 2 h and u0 is on it: the MVs never leave it.
    assert_allclose(applied, scenario.plan[:120], rtol=0, atol=0)


class _FakeNmpc:
    mv_names = ("fic_101.setpoint", "tic_110.setpoint", "fic_203.setpoint")

    def __init__(self):
        self.setpoints = []
        self.resets = 0
        self.tuning = SimpleNamespace(mv_target=np.array([np.nan, 380.0, 0.03]))

    def set_tuning(self, values):
        self.tuning = SimpleNamespace(mv_target=np.asarray(values["mv_target"]))

    def set_setpoints(self, values):
        self.setpoints.append(dict(values))

    def solve(self, request):
        return ControlSolution(SolveStatus.OPTIMAL, request.mv_current[None, :], objective=0.0)

    def reset(self):
        self.resets += 1


def test_mode_tracking_nmpc_takes_the_plan_at_the_request_time(scenario):
    """Tracked feed flow and temperature, and the preheat's resting target, are the plan's."""
    fake = _FakeNmpc()
    wrapper = ModeTrackingNmpc(fake, scenario.plan_setpoints)  # type: ignore[arg-type]
    t = 700 * 60.0
    sub = dataclasses.replace(scenario, mv_inputs=fake.mv_names,
                              mv_lower=scenario.mv_lower[[0, 2, 4]],
                              mv_upper=scenario.mv_upper[[0, 2, 4]],
                              mv_rate=scenario.mv_rate[[0, 2, 4]])  # fmt: skip
    sol = wrapper.solve(_request(sub, t, scenario.plan[700, [0, 2, 4]]))
    assert sol.status is SolveStatus.OPTIMAL
    plan = scenario.plan_setpoints(t)
    assert fake.setpoints == [
        {
            "fresh_feed.supply": plan["fic_101.setpoint"],
            "reactor.t_reactor_k": plan["tic_102.setpoint"],
        }
    ]
    # Only the preheat's target follows the plan; the flash steam keeps its
    # economic target and the feed flow (tracked as a CV) has none.
    assert_allclose(fake.tuning.mv_target, [np.nan, plan["tic_110.setpoint"], 0.03], rtol=0)
    wrapper.reset()
    assert fake.resets == 1
    assert wrapper.mv_names == fake.mv_names


def test_scenario_rejects_a_non_positive_length():
    with pytest.raises(ModelError, match="days must be positive"):
        build_chemical_scenario(days=0.0)
