"""Largest stable RK4 step from the Jacobian spectrum (plant_models.core.stability)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.mathfuncs import zeros
from plant_models.core.simulate import simulate
from plant_models.core.stability import RK4_REAL_LIMIT, rk4_stable_step_s, rk4_step_limit_s


def _amplification(z: complex) -> float:
    return abs(1.0 + z + z * z / 2.0 + z**3 / 6.0 + z**4 / 24.0)


def test_known_extents_of_the_rk4_region():
    # Hairer & Wanner II, Fig. IV.2.1: the RK4 region meets the negative real
    # axis at -2.7853 and the imaginary axis at +-2 sqrt(2).  Bisection to
    # 1e-15 relative: checked to 1e-12.
    assert_allclose(rk4_stable_step_s([-1.0]), RK4_REAL_LIMIT, rtol=1e-12)
    assert_allclose(rk4_stable_step_s([-1e-12 + 1.0j]), 2.0 * math.sqrt(2.0), rtol=1e-9)
    # The step is set by the stiffest mode; a lag of 0.1 s allows 0.279 s.
    assert_allclose(rk4_stable_step_s([-0.5, -10.0, -2.0]), RK4_REAL_LIMIT / 10.0, rtol=1e-12)


def test_the_step_is_on_the_region_boundary():
    rng = np.random.default_rng(4)
    for _ in range(50):
        lam = complex(-rng.uniform(0.01, 5.0), rng.uniform(-5.0, 5.0))
        h = rk4_stable_step_s([lam])
        # Just inside stable, just outside unstable (independent evaluation of R).
        assert _amplification(h * (1.0 - 1e-7) * lam) <= 1.0
        assert _amplification(h * (1.0 + 1e-6) * lam) > 1.0


def test_modes_that_do_not_decay_set_no_limit():
    assert rk4_stable_step_s([0.0, 0.3, 0.2 + 1.0j]) == math.inf


@equation
def _lags_f(x, u, d, p):
    dxdt = zeros(2)
    dxdt[0] = (u[0] - x[0]) / p[0]  # a valve lag
    dxdt[1] = x[0] - d[0] * x[1] / p[1]  # a tank whose outflow scales with d
    return dxdt


@equation
def _lags_g(x, u, d, p):
    y = zeros(1)
    y[0] = x[1]
    return y


def _var(name, low, high):
    return Variable(name, "dimensionless", name, low, high)


LAGS = EquationModel(
    name="two_lags",
    f=_lags_f,
    g=_lags_g,
    states=(_var("valve", 0.0, 1.0), _var("level", 0.0, 10.0)),
    inputs=(_var("command", 0.0, 1.0),),
    disturbances=(_var("outflow_scale", 0.0, 10.0),),
    outputs=(_var("y", 0.0, 10.0),),
    parameters=(_var("tau_s", 0.1, 100.0), _var("residence_s", 0.1, 100.0)),
)


def test_model_limit_over_operating_points_and_the_simulation_agrees():
    p = np.array([4.0, 20.0])
    points = [(np.zeros(2), np.array([0.5]), np.array([d])) for d in (1.0, 10.0)]
    # Eigenvalues -1/tau = -0.25 and -d/residence: -0.05, then -0.5 at d = 10.
    limit = rk4_step_limit_s(LAGS, points, p)
    assert_allclose(limit, RK4_REAL_LIMIT / 0.5, rtol=1e-12)
    # Independent check: RK4 decays just below the limit and blows up above it.
    n = 400
    u = np.full((n, 1), 0.5)
    d = np.full((n, 1), 10.0)
    below = simulate(LAGS, [0.0, 5.0], u, d, p, 0.98 * limit, method="rk4")
    above = simulate(LAGS, [0.0, 5.0], u, d, p, 1.05 * limit, method="rk4")
    assert np.all(np.abs(below.states[-1]) < 10.0)
    assert abs(above.states[-1, 1]) > 1e3


def test_discrete_models_have_no_step():
    discrete = EquationModel(
        name="discrete_lag",
        f=_lags_f,
        g=_lags_g,
        states=LAGS.states,
        inputs=LAGS.inputs,
        disturbances=LAGS.disturbances,
        outputs=LAGS.outputs,
        parameters=LAGS.parameters,
        dt_s=1.0,
    )
    with pytest.raises(ValueError, match="discrete-time"):
        rk4_step_limit_s(discrete, [], [1.0, 1.0])
