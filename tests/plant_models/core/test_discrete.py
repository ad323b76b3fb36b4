"""Discrete-time models in the core: exact stepping, batch, casadi form, step contract."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plant_models.core.equations import EquationModel, Variable, equation, to_casadi
from plant_models.core.errors import EquationError, SimulationError
from plant_models.core.mathfuncs import zeros
from plant_models.core.simulate import simulate, simulate_batch

# x[k+1] = A x[k] + B u[k],  y = C x + D u, A, B, C, D packed in p (row-major).
A = np.array([[1.5, -0.7], [1.0, 0.0]])  # poles 0.75 +- 0.37j
B = np.array([[1.0], [0.0]])
C = np.array([[0.4, 0.3]])
D = np.array([[0.1]])
P = np.concatenate([A.ravel(), B.ravel(), C.ravel(), D.ravel()])


@equation
def _step(x: Any, u: Any, d: Any, p: Any) -> Any:
    x_next = zeros(2)
    x_next[0] = p[0] * x[0] + p[1] * x[1] + p[4] * u[0]
    x_next[1] = p[2] * x[0] + p[3] * x[1] + p[5] * u[0]
    return x_next


@equation
def _out(x: Any, u: Any, d: Any, p: Any) -> Any:
    y = zeros(1)
    y[0] = p[6] * x[0] + p[7] * x[1] + p[8] * u[0]
    return y


def _model(dt_s: float | None = 30.0) -> EquationModel:
    return EquationModel(
        name="second_order",
        f=_step,
        g=_out,
        states=(Variable("x0", "1", "state 0"), Variable("x1", "1", "state 1")),
        inputs=(Variable("u", "1", "input"),),
        disturbances=(),
        outputs=(Variable("y", "1", "output"),),
        parameters=tuple(Variable(f"p{i}", "1", f"coefficient {i}") for i in range(9)),
        dt_s=dt_s,
    )


def _recursion(x0: np.ndarray, u: np.ndarray, hold: int) -> tuple[np.ndarray, np.ndarray]:
    """Independent reference: the matrix recursion, each input held ``hold`` model steps."""
    xs, ys = [x0], []
    x = x0
    for uk in u:
        ys.append(C @ x + D @ uk)
        for _ in range(hold):
            x = A @ x + B @ uk
        xs.append(x)
    return np.array(xs), np.array(ys)


def test_discrete_model_is_stepped_exactly() -> None:
    rng = np.random.default_rng(0)
    u = rng.normal(size=(200, 1))
    x0 = np.array([0.5, -0.2])
    result = simulate(_model(), x0, u, None, P, 30.0)
    xs, ys = _recursion(x0, u, 1)
    # Same arithmetic in another order (numba scalar loop vs numpy matmul):
    # round-off only, damped by the stable poles.
    assert_allclose(result.states, xs, rtol=1e-12, atol=1e-14)
    assert_allclose(result.outputs, ys, rtol=1e-12, atol=1e-14)
    assert_allclose(result.time_s[[0, -1]], [0.0, 6000.0])


def test_control_step_multiple_of_sample_time_holds_the_input() -> None:
    u = np.linspace(-1.0, 1.0, 40)[:, None]
    x0 = np.zeros(2)
    result = simulate(_model(), x0, u, None, P, 90.0)  # 3 model steps per interval
    xs, ys = _recursion(x0, u, 3)
    # Round-off only (see above).
    assert_allclose(result.states, xs, rtol=1e-12, atol=1e-14)
    assert_allclose(result.outputs, ys, rtol=1e-12, atol=1e-14)


def test_batch_equals_single_runs() -> None:
    rng = np.random.default_rng(1)
    u = rng.normal(size=(3, 50, 1))
    x0 = rng.normal(size=(3, 2))
    batch = simulate_batch(_model(), x0, u, None, P, 30.0)
    for s in range(3):
        xs, _ = _recursion(x0[s], u[s], 1)
        # Round-off only.
        assert_allclose(batch.states[s], xs, rtol=1e-12, atol=1e-14)


def test_casadi_form_exposes_the_step() -> None:
    cas = to_casadi(_model())
    assert cas.dt_s == 30.0
    assert cas.state_output == "x_next"
    x = np.array([0.3, 0.1])
    out = cas.f(x=x, u=[2.0], d=np.zeros(0), p=P)
    # One step of the recursion; casadi and numpy evaluate the same sums.
    assert_allclose(np.array(out["x_next"]).ravel(), A @ x + B @ [2.0], rtol=1e-14)
    assert to_casadi(_model(None)).state_output == "dxdt"


@pytest.mark.parametrize(
    ("dt_s", "kwargs", "fragment"),
    [
        (45.0, {}, "must be a whole multiple of it"),
        (15.0, {}, "must be a whole multiple of it"),
        (30.0, {"method": "rk4"}, "method 'rk4' does not apply"),
        (30.0, {"substeps": 2}, "substeps must be 1"),
    ],
)
def test_step_contract_errors(dt_s: float, kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(SimulationError, match=fragment) as info:
        simulate(_model(), np.zeros(2), np.zeros((5, 1)), None, P, dt_s, **kwargs)
    assert "second_order" in str(info.value)


def test_batch_step_contract_error() -> None:
    with pytest.raises(SimulationError, match="whole multiple"):
        simulate_batch(_model(), np.zeros((2, 2)), np.zeros((5, 1)), None, P, 40.0)


def test_unstable_discrete_model_reports_the_interval() -> None:
    p = P.copy()
    p[0] = 1e200  # explodes to inf within two steps
    with pytest.raises(SimulationError, match="discrete-time model is unstable"):
        simulate(_model(), np.ones(2), np.ones((10, 1)), None, p, 30.0)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), True])
def test_invalid_sample_time(bad: Any) -> None:
    with pytest.raises(EquationError, match="dt_s must be a positive sample time"):
        _model(bad)


def test_stiff_discrete_model_is_refused() -> None:
    with pytest.raises(EquationError, match="stiff applies to continuous-time"):
        EquationModel(
            name="m",
            f=_step,
            g=_out,
            states=(),
            inputs=(),
            disturbances=(),
            outputs=(),
            parameters=(),
            stiff=True,
            dt_s=1.0,
        )
