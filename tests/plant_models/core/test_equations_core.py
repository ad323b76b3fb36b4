"""The equations-once convention: compilation both ways and its enforcement."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plant_models.core.equations import (
    EquationModel,
    Variable,
    equation,
    is_equation,
    parameter_variables,
    random_envelope_points,
    to_casadi,
    to_numba,
)
from plant_models.core.errors import EquationError
from plant_models.core.mathfuncs import MATH_NAMES, casadi_namespace, exp, numba_namespace, zeros
from plant_models.core.smooth import clip, smooth_abs, smooth_max, smooth_min, smooth_step
from plant_models.units.boiler import BoilerParams
from plant_models.units.gas_holder import GasHolderParams

SCALE = 3.0


@equation
def _f_ok(x, u, d, p):
    dxdt = zeros(1)
    dxdt[0] = -p[0] * x[0] + SCALE * u[0] + exp(-d[0])
    return dxdt


@equation
def _g_ok(x, u, d, p):
    y = zeros(2)
    y[0] = smooth_max(x[0], u[0], 0.1)
    y[1] = clip(x[0], 0.2, 0.8)
    return y


def _var(name, low=0.0, high=1.0):
    return Variable(name, "dimensionless", name, low, high)


def _model(f=_f_ok, g=_g_ok, **kw):
    fields = {
        "name": "toy",
        "f": f,
        "g": g,
        "states": (_var("a"),),
        "inputs": (_var("b"),),
        "disturbances": (_var("c"),),
        "outputs": (_var("y0"), _var("y1")),
        "parameters": (_var("k"),),
    }
    fields.update(kw)
    return EquationModel(**fields)


def test_math_name_set_is_complete_in_every_binding():
    assert set(casadi_namespace("SX")) == set(MATH_NAMES)
    assert set(casadi_namespace("MX")) == set(MATH_NAMES)
    assert set(numba_namespace()) == set(MATH_NAMES)


def test_toy_model_compiles_both_ways_and_matches_hand_computation():
    model = _model()
    x, u, d, p = np.array([0.5]), np.array([0.25]), np.array([0.1]), np.array([2.0])
    expected_dx = -2.0 * 0.5 + 3.0 * 0.25 + math.exp(-0.1)
    expected_y0 = 0.5 * (0.5 + 0.25 + math.sqrt(0.25**2 + 0.1**2))
    compiled = to_numba(model)
    symbolic = to_casadi(model)
    # Hand evaluation of the same formula in double precision: rounding only.
    assert_allclose(compiled.f(x, u, d, p), [expected_dx], rtol=1e-15)
    assert_allclose(np.asarray(symbolic.f(x, u, d, p)).ravel(), [expected_dx], rtol=1e-15)
    assert_allclose(compiled.g(x, u, d, p), [expected_y0, 0.5], rtol=1e-15)
    mx = to_casadi(model, "MX")
    assert_allclose(np.asarray(mx.g(x, u, d, p)).ravel(), [expected_y0, 0.5], rtol=1e-15)
    assert symbolic.f.name_in() == ["x", "u", "d", "p"]
    assert symbolic.f.name_out() == ["dxdt"]


def test_casadi_function_gives_exact_derivatives():
    import casadi

    sym = to_casadi(_model())
    x = casadi.SX.sym("x")
    jac = casadi.Function("j", [x], [casadi.jacobian(sym.f(x, 0.3, 0.1, 2.0), x)])
    # d(dx/dt)/dx = -k exactly.
    assert float(jac(0.7)) == -2.0


def test_smooth_helpers_match_their_definitions():
    a, b, w = 1.0, 1.3, 0.2
    assert smooth_abs(0.0, w) == pytest.approx(w, rel=1e-15)
    # smooth_max exceeds the true max by at most width/2 (equality when a == b).
    assert max(a, b) <= smooth_max(a, b, w) <= max(a, b) + w / 2
    assert min(a, b) - w / 2 <= smooth_min(a, b, w) <= min(a, b)
    assert smooth_max(2.0, 2.0, w) == pytest.approx(2.0 + w / 2, rel=1e-15)
    assert smooth_step(0.0, 5.0) == 0.5
    assert clip(-3.0, 0.0, 1.0) == 0.0
    assert clip(3.0, 0.0, 1.0) == 1.0
    assert is_equation(smooth_max)
    assert not is_equation(math.exp)


def test_numpy_call_in_an_equation_is_rejected_with_its_name():
    @equation
    def bad_f(x, u, d, p):
        dxdt = zeros(1)
        dxdt[0] = np.exp(x[0])
        return dxdt

    with pytest.raises(EquationError, match="uses global 'np'"):
        to_casadi(_model(f=bad_f))


def test_builtin_min_is_rejected():
    @equation
    def bad_f(x, u, d, p):
        dxdt = zeros(1)
        dxdt[0] = min(x[0], 1.0)
        return dxdt

    with pytest.raises(EquationError, match="builtin 'min'"):
        to_numba(_model(f=bad_f))


def test_closure_over_an_object_is_rejected():
    holder = {"k": 1.0}

    @equation
    def bad_f(x, u, d, p):
        dxdt = zeros(1)
        dxdt[0] = holder["k"] * x[0]
        return dxdt

    with pytest.raises(EquationError, match="closes over 'holder'"):
        to_casadi(_model(f=bad_f))


def test_undecorated_function_is_rejected():
    def plain(x, u, d, p):
        return zeros(1)

    with pytest.raises(EquationError, match="decorated with @equation"):
        _model(f=plain)


def test_wrong_result_length_is_reported():
    @equation
    def short_g(x, u, d, p):
        return zeros(1)

    with pytest.raises(EquationError, match=r"toy.g returned shape \(1, 1\), expected \(2, 1\)"):
        to_casadi(_model(g=short_g))


def test_unknown_symbol_type_is_rejected():
    with pytest.raises(EquationError, match="symbol_type must be"):
        to_casadi(_model(), "DM")


def test_variable_and_model_validation():
    with pytest.raises(EquationError, match="not an identifier"):
        Variable("flow rate", "m^3/s", "bad")
    with pytest.raises(EquationError, match=r"low 2\.0 above high 1\.0"):
        Variable("a", "1", "bad", 2.0, 1.0)
    with pytest.raises(EquationError, match="duplicate states a"):
        _model(states=(_var("a"), _var("a")))


def test_index_bounds_and_sizes():
    model = _model()
    assert model.sizes == {"x": 1, "u": 1, "d": 1, "y": 2, "p": 1}
    assert model.index("y", "y1") == 1
    with pytest.raises(EquationError, match="no y variable 'nope'; known: y0, y1"):
        model.index("y", "nope")
    with pytest.raises(EquationError, match="unknown vector kind 'q'"):
        model.variables("q")
    low, high = model.bounds("x")
    assert low.tolist() == [0.0]
    assert high.tolist() == [1.0]


def test_parameter_vector_follows_declared_fields():
    variables = parameter_variables(GasHolderParams, ("volume_m3", "level_hard_high_fraction"))
    assert [v.unit for v in variables] == ["m^3", "dimensionless"]
    model = _model(parameters=variables)
    p = model.pack_parameters(GasHolderParams(volume_m3=150000.0))
    assert p.tolist() == [150000.0, 0.9]
    with pytest.raises(EquationError, match="BoilerParams lacks parameter 'volume_m3'"):
        model.pack_parameters(BoilerParams())
    with pytest.raises(EquationError, match="has no parameter field 'volume'"):
        parameter_variables(GasHolderParams, ("volume",))


def test_random_points_stay_inside_the_envelope_and_need_finite_bounds():
    model = _model(inputs=(_var("b", -2.0, -1.0),))
    for x, u, d in random_envelope_points(model, 50, seed=1):
        assert 0.0 <= x[0] <= 1.0
        assert -2.0 <= u[0] <= -1.0
        assert 0.0 <= d[0] <= 1.0
    unbounded = _model(states=(Variable("a", "1", "a"),))
    with pytest.raises(EquationError, match="unbounded envelope of a"):
        random_envelope_points(unbounded, 1)
