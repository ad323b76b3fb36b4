"""ARX identification: coefficient recovery within standard errors, prediction, state space."""

from __future__ import annotations

import json

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plant_models.datadriven import ARXModel, IdentificationError, ModelFormatError, fit_arx

SIGMA_E = 0.1


def _siso_data(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """y[t] = 1.5 y[t-1] - 0.7 y[t-2] + 0.5 u0[t-1] + 0.2 u0[t-2] - 0.3 u1[t-2] + e[t]."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(n, 2)) * [2.0, 0.5] + [10.0, -3.0]
    e = SIGMA_E * rng.normal(size=n)
    y = np.full(n, 4.0)
    du = u - [10.0, -3.0]
    for t in range(2, n):
        y[t] = (
            4.0
            + 1.5 * (y[t - 1] - 4.0)
            - 0.7 * (y[t - 2] - 4.0)
            + 0.5 * du[t - 1, 0]
            + 0.2 * du[t - 2, 0]
            - 0.3 * du[t - 2, 1]
            + e[t]
        )
    return u, y


def _physical_coefficients(model: ARXModel) -> np.ndarray:
    """[a1, a2, b0(lag1), b0(lag2), b1(lag2)] in physical units (SISO output)."""
    ys = model.output_scaling.scale[0]
    us = model.input_scaling.scale
    return np.array(
        [
            model.a[0, 0, 0],
            model.a[1, 0, 0],
            model.b[1, 0, 0] * ys / us[0],
            model.b[2, 0, 0] * ys / us[0],
            model.b[2, 0, 1] * ys / us[1],
        ]
    )


def test_recovers_coefficients_within_standard_errors() -> None:
    u, y = _siso_data()
    model = fit_arx(u, y, dt_s=60.0, na=2, nb=[2, 1], nk=[1, 2])
    theta = _physical_coefficients(model)
    truth = np.array([1.5, -0.7, 0.5, 0.2, -0.3])
    # Independent standard errors: least squares on the physical regressor
    # (with intercept) has covariance sigma_e^2 (Phi^T Phi)^-1.
    n = y.size
    phi = np.column_stack(
        [
            y[1 : n - 1],
            y[0 : n - 2],
            u[1 : n - 1, 0],
            u[0 : n - 2, 0],
            u[0 : n - 2, 1],
            np.ones(n - 2),
        ]
    )
    se = SIGMA_E * np.sqrt(np.diag(np.linalg.inv(phi.T @ phi)))[:5]
    # Tolerance: 4 standard errors (a two-sided Gaussian bound exceeded with
    # probability 6e-5 per coefficient); the data are seeded, so deterministic.
    assert np.all(np.abs(theta - truth) < 4.0 * se), (theta - truth) / se
    assert model.n_lags == 2
    assert model.n_states == 2 + 2 * 2


def test_mimo_recovers_coupled_coefficients() -> None:
    rng = np.random.default_rng(1)
    n = 4000
    a1 = np.array([[0.6, 0.2], [-0.1, 0.5]])
    b1 = np.array([[1.0, 0.0], [0.4, -0.8]])
    u = rng.normal(size=(n, 2))
    y = np.zeros((n, 2))
    for t in range(1, n):
        y[t] = a1 @ y[t - 1] + b1 @ u[t - 1] + 0.05 * rng.normal(size=2)
    model = fit_arx(u, y, 1.0, na=1, nb=1, nk=1)
    ys, us = model.output_scaling.scale, model.input_scaling.scale
    a_phys = model.a[0] * ys[:, np.newaxis] / ys[np.newaxis, :]
    b_phys = model.b[1] * ys[:, np.newaxis] / us[np.newaxis, :]
    # Tolerance: standard errors are about 0.05 / sqrt(4000 * var(regressor))
    # ~ 1e-3 here; 0.01 is about 10 of them and still far below the
    # coefficients' size, so a wrong coupling structure would fail.
    assert_allclose(a_phys, a1, atol=0.01)
    assert_allclose(b_phys, b1, atol=0.01)


def test_one_step_prediction_matches_hand_computation() -> None:
    u, y = _siso_data(500)
    model = fit_arx(u, y, 1.0, 2, [2, 1], [1, 2])
    a1, a2, b01, b02, b12 = _physical_coefficients(model)
    pred = model.predict_one_step(u, y)
    # Offsets: y_phys = y_off + y_scale c + a1 (y[t-1] - y_off) + ... in physical units.
    y_off, u_off = model.output_scaling.offset[0], model.input_scaling.offset
    t = np.arange(2, 500)
    manual = (
        y_off
        + model.output_scaling.scale[0] * model.intercept[0]
        + a1 * (y[t - 1] - y_off)
        + a2 * (y[t - 2] - y_off)
        + b01 * (u[t - 1, 0] - u_off[0])
        + b02 * (u[t - 2, 0] - u_off[0])
        + b12 * (u[t - 2, 1] - u_off[1])
    )
    assert np.all(np.isnan(pred[:2]))
    # Tolerance: the same arithmetic in a different order (round-off only).
    assert_allclose(pred[2:, 0], manual, rtol=1e-12)
    residual_std = np.std(pred[2:, 0] - y[2:])
    # The one-step residual of the true structure is the equation noise.
    assert_allclose(residual_std, SIGMA_E, rtol=0.05)  # 3000-sample std: +-1.3 % (1 sigma)


def test_state_space_form_reproduces_predictions_and_simulation() -> None:
    u, y = _siso_data(400, seed=2)
    model = fit_arx(u, y, 1.0, 2, [2, 1], [1, 2])
    ss = model.to_state_space()
    lags = model.n_lags
    # Scaled lagged state at t = lags: [y_s[t-1], y_s[t-2], u_s[t-1], u_s[t-2]].
    x0 = np.concatenate(
        [
            ss.output_scaling.apply(y[[1, 0], np.newaxis]).ravel(),
            model.input_scaling.apply(u[[1, 0]]).ravel(),
        ]
    )
    pred_ss = ss.predict_one_step(u[lags:], y[lags:], x0)
    pred_arx = model.predict_one_step(u, y)[lags:]
    sim_ss = ss.simulate(u[lags:], x0)
    sim_arx = model.simulate(u, y[:lags])[lags:]
    # Tolerance: two exact formulations of one linear recursion; round-off
    # accumulates over 400 steps of a stable system (poles 0.84).
    assert_allclose(pred_ss, pred_arx, rtol=1e-10)
    assert_allclose(sim_ss, sim_arx, rtol=1e-10)
    # ARX poles are the roots of z^2 - a1 z - a2 (plus zeros for input lags).
    ar_poles = np.roots([1.0, -model.a[0, 0, 0], -model.a[1, 0, 0]])
    poles = ss.poles()
    nonzero = poles[np.abs(poles) > 1e-12]
    assert_allclose(np.sort_complex(nonzero), np.sort_complex(ar_poles), rtol=1e-10)


def test_step_and_state_from_history() -> None:
    u, y = _siso_data(50, seed=3)
    model = fit_arx(u, y, 1.0, 2, [2, 1], [1, 2])
    x = model.state_from_history(u[:2], y[:2])
    # State layout: [y[t-1], y[t-2], u0[t-1], u1[t-1], u0[t-2], u1[t-2]].
    assert_allclose(x, [y[1], y[0], u[1, 0], u[1, 1], u[0, 0], u[0, 1]], rtol=0)
    x_next, y_hat = model.step(x, u[2])
    # Tolerance: same arithmetic, different order.
    assert_allclose(y_hat, model.predict_one_step(u[:3], y[:3])[2], rtol=1e-12)
    assert_allclose(x_next, [y_hat[0], y[1], u[2, 0], u[2, 1], u[1, 0], u[1, 1]], rtol=1e-15)


def test_gcv_penalty_and_feedthrough_fit() -> None:
    rng = np.random.default_rng(4)
    u = rng.normal(size=(600, 1))
    y = np.zeros(600)
    for t in range(1, 600):
        y[t] = 0.8 * y[t - 1] + 1.0 * u[t, 0] + 0.01 * rng.normal()
    model = fit_arx(u, y, 1.0, na=1, nb=1, nk=0, penalty="gcv")
    assert model.has_feedthrough
    b0 = model.b[0, 0, 0] * model.output_scaling.scale[0] / model.input_scaling.scale[0]
    # Tolerance: noise 0.01 against unit input gives standard errors ~5e-4.
    assert_allclose([model.a[0, 0, 0], b0], [0.8, 1.0], atol=5e-3)


def test_json_round_trip() -> None:
    u, y = _siso_data(200)
    model = fit_arx(u, y, 1.0, 2, [2, 1], [1, 2])
    restored = ARXModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert np.array_equal(restored.simulate(u, y[:2]), model.simulate(u, y[:2]))
    assert restored.nb == (2, 1)
    assert restored.nk == (1, 2)
    broken = model.to_dict()
    broken["b"][0][0][0] = 1.0  # a coefficient outside the declared taps
    with pytest.raises(ModelFormatError, match="outside the taps"):
        ARXModel.from_dict(broken)


def test_too_few_samples() -> None:
    u, y = _siso_data(7)
    with pytest.raises(IdentificationError, match="too few samples: 7 samples give 5 equations"):
        fit_arx(u, y, 1.0, 2, [2, 1], [1, 2])


def test_nan_in_data() -> None:
    u, y = _siso_data(100)
    u[40, 0] = np.nan
    with pytest.raises(IdentificationError, match=r"inputs contains 1 NaN.*column 0 at sample 40"):
        fit_arx(u, y, 1.0, 2, 2, 1)


def test_collinear_inputs_are_rank_deficient() -> None:
    u, y = _siso_data(300)
    u[:, 1] = 3.0 * u[:, 0] + 1.0  # the second input copies the first
    with pytest.raises(IdentificationError, match="rank-deficient excitation: the ARX regressor"):
        fit_arx(u, y, 1.0, 2, 2, 1)


def test_constant_input() -> None:
    u, y = _siso_data(300)
    u[:, 0] = 10.0
    with pytest.raises(IdentificationError, match=r"inputs column\(s\) \[0\] are constant"):
        fit_arx(u, y, 1.0, 2, 2, 1)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"na": -1}, "na must be at least 0"),
        ({"nb": [1, 2, 3]}, "nb needs one entry per input"),
        ({"nk": 0, "nb": 1, "na": 0}, "static map"),
        ({"dt_s": 0.0}, "dt_s must be positive"),
    ],
)
def test_invalid_orders(kwargs: dict, fragment: str) -> None:
    u, y = _siso_data(100)
    args = {"dt_s": 1.0, "na": 2, "nb": 2, "nk": 1, **kwargs}
    with pytest.raises(IdentificationError, match=fragment):
        fit_arx(u, y, **args)


def test_intercept_removes_offset_error_on_clean_data() -> None:
    rng = np.random.default_rng(5)
    u = 50.0 + 5.0 * rng.normal(size=(300, 1))
    y = np.full(300, 1000.0)
    for t in range(1, 300):
        y[t] = 300.0 + 0.7 * y[t - 1] + 2.0 * u[t - 1, 0]  # equilibrium 1000 at u = 50
    model = fit_arx(u, y, 1.0, na=1, nb=1, nk=1)
    sim = model.simulate(u, y[:1])
    # Noise-free ARX data with a non-zero operating point: the unpenalised
    # intercept makes the simulation exact to round-off (no offset error).
    assert_allclose(sim[:, 0], y, rtol=1e-10)
    ss = model.to_state_space()
    # State at t = 1: [y_s[0], u_s[0]] in the state-space model's scaling.
    x0 = np.concatenate([ss.output_scaling.apply(y[:1]), ss.input_scaling.apply(u[0])])
    assert_allclose(ss.simulate(u[1:], x0)[:, 0], y[1:], rtol=1e-10)


def test_integrating_arx_has_no_state_space_form() -> None:
    rng = np.random.default_rng(6)
    u = rng.normal(size=(400, 1))
    y = np.cumsum(np.concatenate([[0.0], 0.5 * u[:-1, 0]]))  # a gas-holder-like integrator
    model = fit_arx(u, y + 7.0, 1.0, na=1, nb=1, nk=1)
    # Noise-free integrator: a1 = 1 to round-off.
    assert_allclose(model.a[0, 0, 0], 1.0, rtol=1e-9)
    with pytest.raises(IdentificationError, match="integrating"):
        model.to_state_space()
