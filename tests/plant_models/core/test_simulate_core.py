"""Numba integrators: order of accuracy, stiff stability, batching, failure reports."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.linalg import expm

from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.errors import SimulationError
from plant_models.core.mathfuncs import zeros
from plant_models.core.simulate import simulate, simulate_batch


@equation
def _linear_f(x, u, d, p):
    # dx/dt = A x + B u with A = [[p0, p1], [p2, p3]], B = [1, 0]^T.
    dxdt = zeros(2)
    dxdt[0] = p[0] * x[0] + p[1] * x[1] + u[0]
    dxdt[1] = p[2] * x[0] + p[3] * x[1]
    return dxdt


@equation
def _linear_g(x, u, d, p):
    y = zeros(1)
    y[0] = x[0] + x[1]
    return y


def _var(name):
    return Variable(name, "dimensionless", name, -10.0, 10.0)


LINEAR = EquationModel(
    name="linear2",
    f=_linear_f,
    g=_linear_g,
    states=(_var("x0"), _var("x1")),
    inputs=(_var("u0"),),
    disturbances=(),
    outputs=(_var("y0"),),
    parameters=(_var("a00"), _var("a01"), _var("a10"), _var("a11")),
)
# A lightly damped oscillator (eigenvalues -0.2 +- 1.99i).
P_OSC = np.array([-0.2, 2.0, -2.0, -0.2])
X0 = np.array([1.0, 0.0])


def _exact(p, t_end):
    return expm(p.reshape(2, 2) * t_end) @ X0


def _error(method, n_steps, substeps=1, t_end=2.0):
    res = simulate(
        LINEAR,
        X0,
        np.zeros((n_steps, 1)),
        None,
        P_OSC,
        t_end / n_steps,
        method=method,
        substeps=substeps,
        newton_tol=1e-13,
    )
    return np.linalg.norm(res.states[-1] - _exact(P_OSC, t_end))


@pytest.mark.parametrize(
    ("method", "order", "n_coarse"),
    [("rk4", 4, 20), ("sdirk2", 2, 40), ("implicit_euler", 1, 80)],
)
def test_order_of_accuracy_on_a_linear_system(method, order, n_coarse):
    # Halving the step divides the global error by 2**order asymptotically;
    # the observed order is within 0.15 of the theory at these step sizes.
    e1 = _error(method, n_coarse)
    e2 = _error(method, 2 * n_coarse)
    e3 = _error(method, 4 * n_coarse)
    observed = np.log2([e1 / e2, e2 / e3])
    assert_allclose(observed, order, atol=0.15)


def test_substeps_equal_a_finer_grid():
    # Same arithmetic: 4 substeps of h/4 equals 4 intervals of h/4 (rounding only).
    n = 25
    fine = simulate(LINEAR, X0, np.zeros((4 * n, 1)), None, P_OSC, 0.02, method="rk4")
    sub = simulate(LINEAR, X0, np.zeros((n, 1)), None, P_OSC, 0.08, method="rk4", substeps=4)
    assert_allclose(sub.states[-1], fine.states[-1], rtol=1e-13)
    assert sub.time_s[-1] == pytest.approx(2.0)


def test_zero_order_hold_of_the_input():
    # x0' = u with a00 = a01 = 0: the state integrates the held input exactly.
    p = np.array([0.0, 0.0, 0.0, 0.0])
    u = np.array([[1.0], [3.0], [-2.0]])
    res = simulate(LINEAR, [0.0, 0.0], u, None, p, 0.5, method="rk4")
    # Exact cumulative integral of a piecewise-constant input, up to rounding.
    assert_allclose(res.state("x0"), [0.0, 0.5, 2.0, 1.0], rtol=1e-15, atol=1e-15)
    assert_allclose(res.output("y0"), [0.0, 0.5, 2.0], rtol=1e-15, atol=1e-15)


def test_implicit_method_is_stable_and_accurate_on_a_stiff_problem():
    # Eigenvalues -1e6 and -1: h * lambda = -1e5 at h = 0.1.
    p = np.array([-1.0e6, 1.0e6 - 1.0, 0.0, -1.0])
    x0 = np.array([2.0, 1.0])
    n, h = 50, 0.1
    exact = expm(p.reshape(2, 2) * n * h) @ x0
    res = simulate(LINEAR, x0, np.zeros((n, 1)), None, p, h, method="sdirk2")
    # Second-order global error on the slow mode exp(-t): about 1e-3 relative
    # at h = 0.1 (C h**2 with C ~ 0.1); the fast mode is damped (L-stability).
    assert_allclose(res.states[-1], exact, rtol=3e-3)
    with pytest.raises(SimulationError, match=r"NaN or infinite.*use an implicit method"):
        simulate(LINEAR, x0, np.zeros((n, 1)), None, p, h, method="rk4")


@pytest.mark.parametrize("method", ["rk4", "sdirk2"])
def test_batch_equals_serial(method):
    rng = np.random.default_rng(5)
    n_s, n = 6, 40
    p = P_OSC * rng.uniform(0.5, 1.5, (n_s, 4))
    u = rng.normal(size=(n_s, n, 1))
    batch = simulate_batch(LINEAR, X0, u, None, p, 0.05, method=method)
    assert batch.states.shape == (n_s, n + 1, 2)
    for s in range(n_s):
        serial = simulate(LINEAR, X0, u[s], None, p[s], 0.05, method=method)
        # Same compiled arithmetic per scenario: identical up to rounding.
        assert_allclose(batch.states[s], serial.states, rtol=1e-14, atol=1e-300)
        assert_allclose(batch.outputs[s], serial.outputs, rtol=1e-14, atol=1e-300)


def test_non_finite_state_and_failed_newton_are_reported_with_time():
    # A state near the float64 limit makes f overflow to inf in the second interval.
    huge = np.array([1.0e300, 0.0])
    p = np.array([1.0e10, 0.0, 0.0, 0.0])
    u = np.zeros((3, 1))
    with pytest.raises(SimulationError, match=r"linear2: state became NaN.*t = 0 s"):
        simulate(LINEAR, huge, u, None, p, 1.0, method="rk4")
    with pytest.raises(SimulationError, match=r"implicit step failed to converge.*t = 0 s"):
        simulate(LINEAR, huge, u, None, p, 1.0, method="implicit_euler")
    x0 = np.array([X0, huge])
    with pytest.raises(SimulationError, match="scenario 1: model linear2"):
        simulate_batch(LINEAR, x0, u, None, p, 1.0, method="rk4")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"u": np.zeros((5, 2))}, r"u must have shape \(N, n\) with n = 1"),
        ({"u": np.full((5, 1), np.nan)}, "u contains NaN"),
        ({"dt_s": -1.0}, "dt_s must be a positive"),
        ({"substeps": 0}, "substeps must be a positive integer"),
        ({"method": "euler"}, "unknown method 'euler'"),
        ({"u": None}, "has 1 inputs: u is required"),
        ({"x0": [1.0]}, r"x0 must have shape \(2,\)"),
        ({"n_steps": 7}, "u has 5 time steps, expected 7"),
    ],
)
def test_bad_arguments_raise_simulation_error(kwargs, message):
    args = {"x0": X0, "u": np.zeros((5, 1)), "d": None, "p": P_OSC, "dt_s": 0.1}
    args.update(kwargs)
    extra = {k: args.pop(k) for k in ("substeps", "method", "n_steps") if k in args}
    with pytest.raises(SimulationError, match=message):
        simulate(LINEAR, args["x0"], args["u"], args["d"], args["p"], args["dt_s"], **extra)


def test_batch_needs_a_scenario_count():
    with pytest.raises(SimulationError, match="give n_scenarios"):
        simulate_batch(LINEAR, X0, np.zeros((5, 1)), None, P_OSC, 0.1)
    res = simulate_batch(LINEAR, X0, np.zeros((5, 1)), None, P_OSC, 0.1, n_scenarios=3)
    assert res.states.shape == (3, 6, 2)
