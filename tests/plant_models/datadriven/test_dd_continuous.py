"""Continuous-time equivalent of identified discrete models (zero-order-hold inverse)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.signal import cont2discrete

from plant_models.core.equations import random_envelope_points, to_casadi, to_numba
from plant_models.datadriven import ARXModel, DataDrivenSpec, DataDrivenUnit, Scaling
from plant_models.datadriven.continuous import (
    continuous_unit,
    discrete_affine_form,
    to_continuous,
)
from plant_models.datadriven.errors import ConversionError
from plant_models.datadriven.identification import state_variables
from plant_models.datadriven.statespace import StateSpaceModel

DT_S = 10.0
#: Truth: a damped 2nd-order system, omega 0.05 rad/s, zeta 0.5, gain 2e6 W per unit input.
OMEGA, ZETA, GAIN = 0.05, 0.5, 2.0e6
A_TRUE = np.array([[0.0, 1.0], [-(OMEGA**2), -2.0 * ZETA * OMEGA]])
B_TRUE = np.array([[0.0], [GAIN * OMEGA**2]])
C_TRUE = np.array([[1.0, 0.0]])
U_SCALING = Scaling(np.array([0.6]), np.array([0.1]))
Y_SCALING = Scaling(np.array([1.2e6]), np.array([2.0e5]))
Y0_W = 1.0e5  # output at u = 0 (an offset the intercept carries) [W]


def _arx_from_truth(nk: int = 1, nb: int = 2) -> ARXModel:
    """The ARX on scaled signals equal to the ZOH sampling of the truth (derived by hand)."""
    ad, bd, cd, _, _ = cont2discrete((A_TRUE, B_TRUE, C_TRUE, np.zeros((1, 1))), DT_S, "zoh")
    # Transfer function of the sampled system: (b1 z + b2) / (z^2 + a1 z + a2).
    den = np.poly(ad)
    adj = np.array([[ad[1, 1], -ad[0, 1]], [-ad[1, 0], ad[0, 0]]])  # adj(zI - A) = zI - adj
    num1 = (cd @ bd)[0, 0]
    num2 = -(cd @ adj @ bd)[0, 0]
    a1, a2 = -den[1], -den[2]
    us, ys = U_SCALING.scale[0], Y_SCALING.scale[0]
    uo, yo = U_SCALING.offset[0], Y_SCALING.offset[0]
    m = nk + nb - 1
    b = np.zeros((m + 1, 1, 1))
    b[nk, 0, 0] = num1 * us / ys
    b[nk + 1, 0, 0] = num2 * us / ys
    # y = Y0 + G u  =>  y_s = A y_s + B u_s + c with c from the offsets (see docstring).
    intercept = ((a1 + a2 - 1.0) * yo + (num1 + num2) * uo + (1.0 - a1 - a2) * Y0_W) / ys
    return ARXModel(
        np.array([[[a1]], [[a2]]]),
        b,
        (nb,),
        (nk,),
        U_SCALING,
        Y_SCALING,
        DT_S,
        np.zeros(1),
        np.array([intercept]),
    )


def _unit(model: ARXModel | StateSpaceModel) -> DataDrivenUnit:
    spec = DataDrivenSpec(
        "arx" if isinstance(model, ARXModel) else "statespace",
        inputs=({"name": "damper", "unit": "dimensionless"},),
        outputs=({"name": "power", "unit": "W"},),
    )
    (damper,) = spec.inputs
    (power,) = spec.outputs
    states = state_variables(spec, model, None, None, None)
    return DataDrivenUnit(
        "fan",
        spec,
        model,
        DT_S,
        (replace(damper, low=0.4, high=0.8),),
        (),
        (replace(power, low=0.8e6, high=1.7e6),),
        tuple(replace(s, low=-3.0, high=3.0) for s in states),
    )


def test_zoh_sampling_of_the_continuous_form_reproduces_the_discrete_model() -> None:
    discrete = discrete_affine_form(_arx_from_truth())
    cont = to_continuous(discrete)
    inputs = np.column_stack([cont.b, cont.e])
    n = cont.n_states
    ad, bd, _, _, _ = cont2discrete((cont.a, inputs, np.eye(n), np.zeros((n, 2))), DT_S, "zoh")
    # logm/expm round trip in double precision: ~1e-13 relative; 1e-9 leaves a margin
    # while still catching any error in the block layout (order-1 differences).
    assert_allclose(ad, discrete.a, rtol=1e-9, atol=1e-12)
    assert_allclose(bd, np.column_stack([discrete.b, discrete.e]), rtol=1e-9, atol=1e-12)


def test_continuous_poles_are_the_true_ones() -> None:
    cont = to_continuous(discrete_affine_form(_arx_from_truth()))
    # Independent reference: the poles of the continuous truth the ARX was sampled from.
    expected = np.sort_complex(np.linalg.eigvals(A_TRUE))
    assert_allclose(np.sort_complex(np.linalg.eigvals(cont.a)), expected, rtol=1e-9)


def test_observer_form_and_state_mapping_reproduce_the_arx_free_run() -> None:
    arx = _arx_from_truth()
    unit = _unit(arx)
    form = continuous_unit(unit)
    rng = np.random.default_rng(3)
    u = rng.uniform(0.4, 0.8, size=(60, 1))
    y_hist = np.array([[1.1e6], [1.3e6]])
    reference = arx.simulate(u, y_hist)  # the ARX's own numpy recursion
    disc = form.discrete
    assert disc is not None
    x = form.state_from_discrete(arx.state_from_history(u[:2], y_hist))
    out = []
    for k in range(2, u.shape[0]):
        v_s = U_SCALING.apply(u[k])
        out.append(Y_SCALING.invert(disc.c @ x + disc.d @ v_s))
        x = disc.a @ x + disc.b @ v_s + disc.e
    # Same arithmetic reordered: agreement to rounding (1e-10 relative on MW values).
    assert_allclose(np.array(out), reference[2:], rtol=1e-10)
    # The ARX steady state at u = 0.6 equals the truth's Y0 + GAIN * u.
    x_ss = -np.linalg.solve(form.continuous.a, form.continuous.b @ [0.0] + form.continuous.e)
    y_ss = Y_SCALING.invert(form.continuous.c @ x_ss)
    assert_allclose(y_ss, [Y0_W + GAIN * 0.6], rtol=1e-9)  # exact ZOH: DC gain preserved


def test_casadi_and_numba_agree_on_the_continuous_unit() -> None:
    form = continuous_unit(_unit(_arx_from_truth()))
    model, p = form.model, form.parameters
    assert model.dt_s is None
    assert len(p) == model.sizes["p"]
    compiled, symbolic = to_numba(model), to_casadi(model)
    for x, u, d in random_envelope_points(model, 8, seed=1):
        # Same expression graph evaluated twice: agreement to the last bits.
        assert_allclose(compiled.f(x, u, d, p), symbolic.f(x, u, d, p).full().ravel(), rtol=1e-12)
        assert_allclose(compiled.g(x, u, d, p), symbolic.g(x, u, d, p).full().ravel(), rtol=1e-12)


def test_negative_real_pole_is_refused() -> None:
    a = np.array([[-0.5, 0.0], [0.0, 0.9]])
    model = StateSpaceModel(
        a,
        np.ones((2, 1)),
        np.ones((1, 2)),
        np.zeros((1, 1)),
        np.zeros((2, 1)),
        U_SCALING,
        Y_SCALING,
        DT_S,
    )
    with pytest.raises(
        ConversionError, match=r"unit fan: discrete pole -0\.5 lies on the negative"
    ):
        continuous_unit(_unit(model))


def test_pure_delay_beyond_the_output_order_is_refused() -> None:
    # nk = 2, nb = 2: input lag 3 > na = 2, so the observer form has a pole at zero.
    with pytest.raises(ConversionError, match=r"is \(near\) zero"):
        continuous_unit(_unit(_arx_from_truth(nk=2)))


def test_statespace_unit_keeps_its_coordinates() -> None:
    discrete = discrete_affine_form(_arx_from_truth())
    model = StateSpaceModel(
        discrete.a,
        discrete.b,
        discrete.c,
        discrete.d,
        np.zeros((2, 1)),
        U_SCALING,
        Y_SCALING,
        DT_S,
    )
    form = continuous_unit(_unit(model))
    assert [v.name for v in form.model.states] == ["x0", "x1"]
    assert_allclose(form.state_from_discrete([0.5, -0.2]), [0.5, -0.2], rtol=0.0)
