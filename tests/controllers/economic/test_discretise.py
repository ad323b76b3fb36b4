"""Radau IIA collocation of the economic MPC against closed forms."""

from __future__ import annotations

import math

import casadi as ca
import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.economic.discretise import radau_collocation
from plant_models.core.equations import EquationModel, Variable, equation, to_casadi
from plant_models.core.mathfuncs import zeros
from tests.controllers.economic.conftest import settings

LAMBDA = -0.2  # 1/s, the steelworks' fastest lag (5 s pressure-reducing station)


@equation
def _f(x, u, d, p):
    dxdt = zeros(1)
    dxdt[0] = p[0] * x[0] + u[0]
    return dxdt


@equation
def _g(x, u, d, p):
    y = zeros(1)
    y[0] = x[0]
    return y


LAG = EquationModel(
    name="lag",
    f=_f,
    g=_g,
    states=(Variable("x", "1", "State", -2.0, 2.0),),
    inputs=(Variable("u", "1/s", "Input", -1.0, 1.0),),
    disturbances=(),
    outputs=(Variable("y", "1", "Output"),),
    parameters=(Variable("lam", "1/s", "Eigenvalue", -10.0, 0.0),),
)


@pytest.mark.parametrize("degree", [1, 2, 3])
def test_step_is_the_radau_stability_function(degree):
    cm = to_casadi(LAG)
    z = LAMBDA * 900.0
    col = radau_collocation(cm, 900.0, degree)
    x_next, _ = col.step(1.0, 0.0, ca.DM(0, 1), LAMBDA)
    # Radau IIA stability functions (Hairer and Wanner, Table IV.5.x): Pade (s-1, s).
    expected = {
        1: 1.0 / (1.0 - z),
        2: (1.0 + z / 3.0) / (1.0 - 2.0 * z / 3.0 + z * z / 6.0),
        3: (1.0 + 2.0 * z / 5.0 + z * z / 20.0)
        / (1.0 - 3.0 * z / 5.0 + 3.0 * z * z / 20.0 - z**3 / 60.0),
    }[degree]
    # Newton on a linear system converges in one step: round-off only.
    assert_allclose(float(x_next), expected, rtol=1e-9)
    # L-stable: a 5 s lag over 15 min (z = -180) is damped below 2 %, never amplified.
    assert abs(float(x_next)) < 0.02
    # Radau quadrature weights (Butcher tableau last row) sum to the interval.
    assert_allclose(col.weights.sum(), 1.0, rtol=1e-12)  # round-off of polyint


def test_mild_step_is_accurate_to_order_2s_minus_1():
    cm = to_casadi(LAG)
    col = radau_collocation(cm, 1.0, 3)
    x_next, _ = col.step(1.0, 0.0, ca.DM(0, 1), LAMBDA)
    # Local error of order 5 at |lambda h| = 0.2: about (0.2)^6 / 7200 ~ 1e-8.
    assert_allclose(float(x_next), math.exp(LAMBDA), rtol=1e-7)


def test_unknown_discretisation_is_rejected():
    from dataclasses import replace

    from controllers.errors import EconomicMPCError

    with pytest.raises(EconomicMPCError, match="discretisation must be"):
        replace(settings(900.0, 4), discretisation="euler")
    with pytest.raises(EconomicMPCError, match="collocation_degree"):
        replace(settings(900.0, 4), collocation_degree=0)
    np.testing.assert_equal(settings(900.0, 4).discretisation, "radau")
