"""Closed-loop harness: steelworks truth loop reproduced, hold, cancel, divergence, KPIs."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.advisor import ControlRequest, ControlSolution, SolveStatus
from energyopt.closedloop import (
    BaselinePolicy,
    ControllerPolicy,
    Decision,
    MeasurementNoise,
    TruthPlant,
    run_closed_loop,
)
from energyopt.closedloop.chemical import build_chemical_scenario
from energyopt.errors import CancelledError, ModelError
from energyopt.kpis import (
    compute_time_stats,
    constraint_violation_integral,
    mv_utilisation_pct,
    stability_rate_pct,
)
from energyopt.progress import CancelToken


@pytest.fixture(scope="module")
def scenario():
    """The chemical scenario over 2 h (numba kernels are cached on disk)."""
    return build_chemical_scenario(days=2.0 / 24.0, seed=3)


class _Hold:
    """A controller that always plans to hold the current MVs."""

    def __init__(self, names):
        self.mv_names = tuple(names)
        self.calls = 0

    def solve(self, request: ControlRequest) -> ControlSolution:
        self.calls += 1
        return ControlSolution(SolveStatus.OPTIMAL, request.mv_current[None, :], objective=0.0)


def _hold_policy(scenario, interval_s=60.0):
    return ControllerPolicy(
        _Hold(scenario.mv_inputs),
        scenario.flowsheet.model,
        scenario.mv_inputs,
        scenario.mv_lower,
        scenario.mv_upper,
        scenario.mv_rate,
        interval_s=interval_s,
    )


@pytest.mark.slow  # about 6 s: builds the steelworks plant and its numba kernels
def test_baseline_reproduces_steelworks_truth_loop():
    from controllers.baselines import Baseline
    from energyopt.demos import demo_project_file
    from energyopt.demos.chemical_history import DEMO_START_MS
    from energyopt.demos.steelworks_profiles import steelworks_disturbances
    from energyopt.demos.steelworks_truth import (
        DISPATCH_NOISE,
        SUBSTEPS_PER_MINUTE,
        _initial_state,
        run_truth,
        steelworks_dispatch,
        truth_parameters,
    )
    from energyopt.plantbuild import build_plant
    from energyopt.project.loader import load_project

    built = build_plant(load_project(demo_project_file("steelworks")))
    days, seed = 2.0 / 24.0, 7
    truth = run_truth(built, days=days, seed=seed, start_ms=DEMO_START_MS, warmup_s=0.0)
    # The same loop through the harness: same profiles, rng state, parameters,
    # dispatch, air-compressor rule, integrator and start state.
    rng = np.random.default_rng(seed)
    n = truth.time_s.size
    profiles = steelworks_disturbances(built, truth.time_s, DEMO_START_MS, rng)
    p = truth_parameters(built)
    air_idx = [built.index("u", f"{u}.flow_m3_s") for u in ("air_compressor_1", "air_compressor_2")]
    air_cap = [built.parameters()[built.index("p", f"{u}.capacity_m3_s")]
               for u in ("air_compressor_1", "air_compressor_2")]  # fmt: skip
    dispatch = steelworks_dispatch(built)

    class WithAir:
        interval_s = dispatch.interval_s

        def __init__(self):
            self.k = 0

        def reset(self, u0=None):
            dispatch.reset(u0)
            self.k = 0

        def step(self, t_s, y_meas):
            u = dispatch.step(t_s, y_meas)
            demand = profiles.air_demand_m3_s[self.k]
            u[air_idx[0]] = min(demand, air_cap[0])
            u[air_idx[1]] = min(max(demand - air_cap[0], 0.0), air_cap[1])
            self.k += 1
            return u

    assert isinstance(WithAir(), Baseline)
    plant = TruthPlant(built.model, p, _initial_state(built, profiles.d[0], p), profiles.d,
                       step_s=60.0, substeps=SUBSTEPS_PER_MINUTE, method="rk4")  # fmt: skip
    result = run_closed_loop(
        plant,
        BaselinePolicy(WithAir()),
        np.zeros(built.model.sizes["u"]),
        noise=MeasurementNoise(relative_std=DISPATCH_NOISE, rng=rng),
    )
    # Bit for bit: identical arithmetic in the identical order.
    assert result.time_s.size == n
    np.testing.assert_array_equal(result.inputs, truth.inputs)
    np.testing.assert_array_equal(result.states, truth.states)
    np.testing.assert_array_equal(result.outputs, truth.outputs)


def test_hold_controller_keeps_inputs_constant(scenario):
    policy = _hold_policy(scenario, interval_s=300.0)
    result = run_closed_loop(scenario.plant, policy, scenario.u0, noise=scenario.noise(0))
    n = scenario.plant.n_steps
    assert result.inputs.shape == (n, scenario.u0.size)
    # Holding is exact: the first move equals mv_current, projected onto limits
    # it is inside of, so not one bit changes.
    np.testing.assert_array_equal(result.inputs, np.broadcast_to(scenario.u0, result.inputs.shape))
    assert result.decision_time_s.size == n // 5
    assert result.status_counts() == {"optimal": n // 5}
    # Inner grid between decisions: 5 recorded steps per 300 s decision, and the
    # states are continuous (each step starts where the previous ended).
    assert_allclose(np.diff(result.time_s), 60.0, rtol=0, atol=0)
    assert np.all(np.isfinite(result.states))


def test_failed_solve_holds_and_is_recorded(scenario):
    class Failing(_Hold):
        def solve(self, request):
            return ControlSolution(
                SolveStatus.INFEASIBLE,
                np.zeros((0, len(self.mv_names))),
                message="Infeasible_Problem_Detected (12 iterations)",
            )

    policy = ControllerPolicy(Failing(scenario.mv_inputs), scenario.flowsheet.model,
                              scenario.mv_inputs, scenario.mv_lower, scenario.mv_upper,
                              scenario.mv_rate, interval_s=600.0)  # fmt: skip
    result = run_closed_loop(scenario.plant, policy, scenario.u0)
    np.testing.assert_array_equal(result.inputs[-1], scenario.u0)
    assert result.status_counts() == {"infeasible": result.decision_time_s.size}
    # The decision carries what the solver said (diagnosis of non-optimal decisions).
    policy.reset(scenario.u0, scenario.plant.x0)
    y0 = np.zeros(scenario.flowsheet.model.sizes["y"])
    decision = policy.decide(0.0, y0, scenario.plant.disturbances[0], None)
    assert decision.message == "Infeasible_Problem_Detected (12 iterations)"


def test_cancel_stops_cleanly(scenario):
    token = CancelToken()
    seen = []

    def progress(done, total, message):
        seen.append(done)
        if done >= 600.0:
            token.cancel()

    policy = _hold_policy(scenario)
    with pytest.raises(CancelledError, match="cancelled"):
        run_closed_loop(scenario.plant, policy, scenario.u0, progress=progress, cancel=token)
    # Stopped at the first decision after the request: 600 s of the 7200 s.
    assert max(seen) == pytest.approx(600.0)
    assert policy._controller.calls == 10


def test_divergence_names_the_time(scenario):
    model = scenario.flowsheet.model
    i = model.index("u", "cw_pump.speed_fraction")

    class Wild:
        interval_s = 60.0

        def reset(self, u0, x0):
            self.u = u0.copy()

        def decide(self, t_s, y_meas, d_now, plant_mode):
            u = self.u.copy()
            if t_s >= 180.0:
                u[i] = 1e300  # a pump speed no plant survives (overflows)
            return Decision(u, 0.0)

    with pytest.raises(ModelError, match=r"diverged at t = 180 s"):
        run_closed_loop(scenario.plant, Wild(), scenario.u0)


def test_unusable_inputs_and_grid_errors(scenario):
    class NanPolicy:
        interval_s = 60.0

        def reset(self, u0, x0):
            self.n = u0.size

        def decide(self, t_s, y_meas, d_now, plant_mode):
            return Decision(np.full(self.n, np.nan), 0.0)

    with pytest.raises(ModelError, match=r"unusable input at t = 0 s"):
        run_closed_loop(scenario.plant, NanPolicy(), scenario.u0)
    with pytest.raises(ModelError, match="not a whole multiple"):
        run_closed_loop(scenario.plant, _hold_policy(scenario, interval_s=90.0), scenario.u0)
    with pytest.raises(ModelError, match="n_steps must be a positive multiple"):
        run_closed_loop(scenario.plant, _hold_policy(scenario), scenario.u0, n_steps=10_000)
    with pytest.raises(ModelError, match="not inputs of"):
        ControllerPolicy(_Hold(("x",)), scenario.flowsheet.model, ("nope.setpoint",), [0], [1],
                         [1], interval_s=60.0)  # fmt: skip


def test_kpis_equal_the_kpi_module_on_the_same_arrays(scenario):
    from energyopt.closedloop.chemical_control import chemical_pid_policy

    result = run_closed_loop(scenario.plant, chemical_pid_policy(scenario), scenario.u0,
                             noise=scenario.noise(2), plant_mode=scenario.plant_mode,
                             mode_names=scenario.mode_names)  # fmt: skip
    spec = scenario.kpi_spec()
    kpis = result.kpis(spec)
    values = {name: result.outputs[:, scenario.flowsheet.model.index("y", name)]
              for name in spec.cv_bands}  # fmt: skip
    direct = stability_rate_pct(values, spec.cv_bands)
    # Same function on the same arrays: equal to the last bit.
    assert kpis["stability_rate"].value == direct.overall_pct
    assert kpis["stability_rate"].detail == direct.per_variable_pct
    violation = sum(
        constraint_violation_integral(values[k], *band, 60.0) / (band[1] - band[0])
        for k, band in spec.cv_hard.items()
    )
    # Summation order may differ: 1e-12 relative covers rounding of a few terms.
    assert_allclose(kpis["constraint_violation"].value, violation, rtol=1e-12, atol=1e-15)
    mv = result.inputs[:, scenario.flowsheet.model.index("u", "tic_110.setpoint")]
    assert kpis["mv_utilisation"].detail["tic_110.setpoint"] == mv_utilisation_pct(
        mv, *spec.mv_limits["tic_110.setpoint"]
    )
    stats = compute_time_stats(result.compute_time_s, 60.0)
    assert kpis["solve_time_median"].value == stats.median_s
    # The PID-only baseline holds the mode setpoints (no composition feedback).
    assert result.status_counts() == {"optimal": result.decision_time_s.size}
    assert kpis["energy_intensity"].value > 0.0
