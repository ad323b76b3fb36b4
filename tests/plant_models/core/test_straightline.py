"""The straight-line emitter: reciprocal rewrite of f's divisions, fmin/fmax semantics."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plant_models.core.codegen import compile_model, generate_source
from plant_models.core.equations import EquationModel, Variable, equation, random_envelope_points
from plant_models.core.mathfuncs import exp, fmax, fmin, zeros
from plant_models.core.straightline import literal


@equation
def _div_f(x, u, d, p):
    # Divisions by: a parameter, an input times a parameter (state-free), a
    # literal, a state used twice, a state used once, and a state-free
    # division (stays in f_const_into).
    dxdt = zeros(4)
    dxdt[0] = x[0] / p[0] - x[1] / (u[0] * p[1] + 1.0)
    dxdt[1] = x[1] / 3.0 + x[0] / x[2]
    dxdt[2] = exp(-p[2] / x[2]) - d[0] / x[3]
    dxdt[3] = u[0] / p[1] + x[3] / x[2]
    return dxdt


@equation
def _minmax_f(x, u, d, p):
    dxdt = zeros(2)
    dxdt[0] = fmax(x[0], p[0])
    dxdt[1] = fmin(x[1], p[1])
    return dxdt


@equation
def _g(x, u, d, p):
    y = zeros(1)
    y[0] = x[0] / p[0]
    return y


def _var(name, low, high):
    return Variable(name, "dimensionless", name, low, high)


DIV = EquationModel(
    name="div_ops",
    f=_div_f,
    g=_g,
    states=tuple(_var(n, 0.5, 3.0) for n in ("a", "b", "c", "e")),
    inputs=(_var("q", 0.0, 1.0),),
    disturbances=(_var("r", 0.0, 2.0),),
    outputs=(_var("y", -10.0, 10.0),),
    parameters=(_var("k0", 0.5, 2.0), _var("k1", 0.5, 2.0), _var("k2", 0.5, 2.0)),
)
P_DIV = np.array([0.7, 1.3, 1.7])

MINMAX = EquationModel(
    name="minmax_ops",
    f=_minmax_f,
    g=_g,
    states=(_var("a", -1.0, 1.0), _var("b", -1.0, 1.0)),
    inputs=(),
    disturbances=(),
    outputs=(_var("y", -10.0, 10.0),),
    parameters=(_var("k0", -1.0, 1.0), _var("k1", -1.0, 1.0)),
)


def _function_text(source: str, name: str) -> str:
    start = source.index(f"def {name}(")
    return source[start : source.index("return None", start)]


def _reference_f(x, u, d, p):
    # The same equations in plain floats with true divisions.
    return np.array(
        [
            x[0] / p[0] - x[1] / (u[0] * p[1] + 1.0),
            x[1] / 3.0 + x[0] / x[2],
            math.exp(-p[2] / x[2]) - d[0] / x[3],
            u[0] / p[1] + x[3] / x[2],
        ]
    )


def test_state_part_multiplies_by_reciprocals():
    source = generate_source(DIV)
    state = _function_text(source, "f_state_into")
    # Left as divisions: only the reciprocals themselves, computed once per
    # call for x[2] (divides three times); x[3] divides once and stays a
    # division; the parameter and literal divisors become products.
    divisions = re.findall(r"= (\S+) / (\S+)", state)
    assert len(divisions) == 2
    assert divisions[0][0] == "1.0"  # 1 / x[2]
    assert divisions[1][0].startswith("c[")  # d[0] / x[3]
    assert "* 0.3333333333333333" in state  # x[1] / 3.0
    const = _function_text(source, "f_const_into")
    assert len(re.findall(r"c\[\d+\] = 1\.0 / ", const)) == 2  # 1/p[0], 1/(u p1 + 1)
    assert " / " in _function_text(source, "g_into")  # g is not rewritten


def test_rewritten_f_equals_true_division_to_rounding():
    kernels = compile_model(DIV)
    module = kernels.module
    c = np.empty(module.N_C)
    for x, u, d in random_envelope_points(DIV, 20, seed=4):
        got = kernels.f(x, u, d, P_DIV)
        # x * (1 / y) against x / y: two roundings instead of one, a
        # relative 2.2e-16 more per term; terms are at most 6 in this
        # envelope (3 / 0.5), so 4e-15 absolute bounds a difference of terms
        # that cancel (dxdt[0]).  A wrong operand would be off by O(1).
        # (The agreement tests of every plant hold 1e-12 against casadi.)
        assert_allclose(got, _reference_f(x, u, d, P_DIV), rtol=1e-14, atol=4e-15)
        module.f_const_into(u, d, P_DIV, c)
        out = np.empty(4)
        module.f_state_into(x, c, out)
        # The split form applies the same rewrite: identical bits.
        np.testing.assert_array_equal(out, got)


def test_fmin_fmax_follow_numpys_nan_rule():
    f = compile_model(MINMAX).f
    for x0, x1, p0, p1 in [
        (0.3, -0.2, 0.5, -0.5),
        (0.3, -0.2, math.nan, math.nan),  # NaN parameter: the state wins
        (math.nan, math.nan, 0.5, -0.5),  # NaN state: the parameter wins
        (math.nan, 0.4, math.nan, 0.6),  # both NaN: NaN; and a plain fmin
    ]:
        x = np.array([x0, x1])
        p = np.array([p0, p1])
        expected = [np.fmax(x0, p0), np.fmin(x1, p1)]
        # The same IEEE operations in the same order: identical bits.
        np.testing.assert_array_equal(f(x, np.zeros(0), np.zeros(0), p), expected)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.1, "0.1"), (math.nan, "math.nan"), (math.inf, "math.inf"), (-math.inf, "-math.inf")],
)
def test_literal_round_trips(value, text):
    assert literal(value) == text
