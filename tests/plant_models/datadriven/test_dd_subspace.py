"""Subspace identification: poles of known systems, order choice, noise model, failures."""

from __future__ import annotations

import json

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.signal import dlsim

from plant_models.datadriven import (
    IdentificationError,
    StateSpaceModel,
    fit_subspace,
)
from plant_models.datadriven.subspace import noise_correlation_edge, select_order


def _mimo_4th_order() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-input two-output system with poles 0.95, 0.85 and 0.7 +- 0.3j."""
    rot = np.linalg.qr(np.random.default_rng(42).normal(size=(4, 4)))[0]
    modal = np.zeros((4, 4))
    modal[0, 0], modal[1, 1] = 0.95, 0.85
    modal[2:, 2:] = [[0.7, 0.3], [-0.3, 0.7]]
    a = rot @ modal @ rot.T
    b = rot @ np.array([[1.0, 0.2], [0.3, 1.0], [0.8, -0.5], [0.4, 0.9]])
    c = np.array([[1.0, 0.5, 0.8, 0.0], [0.2, 1.0, 0.0, 0.7]]) @ rot.T
    return a, b, c


def _simulate(a, b, c, n, noise_fraction, seed):
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(n, b.shape[1]))
    _, y, _ = dlsim((a, b, c, np.zeros((c.shape[0], b.shape[1])), 1.0), u)
    y = y.reshape(n, c.shape[0])
    return u, y, y + noise_fraction * y.std(axis=0) * rng.normal(size=y.shape)


def test_fourth_order_mimo_poles_within_one_percent_from_noisy_data() -> None:
    a, b, c = _mimo_4th_order()
    u, _, y_noisy = _simulate(a, b, c, 4000, 0.1, seed=0)
    # Offsets as in plant data: the identification must not care.
    result = fit_subspace(u + np.array([5.0, -2.0]), y_noisy + np.array([300.0, 40.0]), 60.0)
    assert result.order == 4
    true_poles = np.sort_complex(np.linalg.eigvals(a))
    found = np.sort_complex(result.model.poles())
    # Requirement of the issue: every pole within 1 % (relative to its modulus)
    # with output noise of 10 % of the signal's standard deviation.  Measured
    # over 8 noise seeds at 4000 samples: at most 0.52 %.
    assert np.all(np.abs(found - true_poles) / np.abs(true_poles) < 0.01)


def test_free_run_simulation_tracks_clean_output() -> None:
    a, b, c = _mimo_4th_order()
    u, y_clean, y_noisy = _simulate(a, b, c, 3000, 0.1, seed=1)
    result = fit_subspace(u, y_noisy + 100.0, dt_s=1.0)
    sim = result.model.simulate(u, result.x0)
    nrmse = np.sqrt(np.mean((sim - (y_clean + 100.0)) ** 2, axis=0)) / y_clean.std(axis=0)
    # The simulation reproduces the noise-free output well below the 10 %
    # measurement noise (measured about 1 %).
    assert np.all(nrmse < 0.03)


@pytest.mark.parametrize(
    ("poles", "n_inputs", "n_outputs"),
    [
        ([0.8 + 0.5j, 0.8 - 0.5j], 1, 1),
        ([0.95, 0.7 + 0.4j, 0.7 - 0.4j], 1, 1),
        ([0.9, 0.5, 0.3 + 0.6j, 0.3 - 0.6j], 2, 1),
    ],
)
def test_order_selection_finds_true_order_on_clean_data(
    make_system, poles: list[complex], n_inputs: int, n_outputs: int
) -> None:
    system = make_system(poles, n_inputs, n_outputs, 1500, 0.0, seed=3)
    result = fit_subspace(system.u, system.y_clean, dt_s=1.0)
    assert result.order == len(poles)
    # Noise-free data: the poles come out to round-off level.
    assert_allclose(np.sort_complex(result.model.poles()), system.poles, atol=1e-8)


def test_manual_order_overrides_the_choice(make_system) -> None:
    system = make_system([0.9, 0.6 + 0.3j, 0.6 - 0.3j], 1, 1, 1500, 0.05, seed=4)
    assert fit_subspace(system.u, system.y_noisy, 1.0).order == 3
    result = fit_subspace(system.u, system.y_noisy, 1.0, order=2)
    assert result.order == 2
    assert result.model.n_states == 2


def test_noise_model_gives_innovation_level_one_step_error() -> None:
    rng = np.random.default_rng(5)
    a = np.array([[0.9, 0.2], [0.0, 0.7]])
    b = np.array([[1.0], [0.5]])
    c = np.array([[1.0, 0.0]])
    k = np.array([[0.6], [0.3]])
    sigma_e = 0.2
    n = 4000
    u = rng.normal(size=(n, 1))
    e = sigma_e * rng.normal(size=(n, 1))
    x = np.zeros(2)
    y = np.empty((n, 1))
    for t in range(n):
        y[t] = c @ x + e[t]
        x = a @ x + b @ u[t] + k @ e[t]
    with_k = fit_subspace(u, y, 1.0, order=2)
    without_k = fit_subspace(u, y, 1.0, order=2, noise_model=False)
    assert not np.any(without_k.model.k)
    resid_k = (with_k.model.predict_one_step(u, y, with_k.x0) - y)[100:]
    resid_0 = (without_k.model.predict_one_step(u, y, without_k.x0) - y)[100:]
    # The Kalman predictor's error is the innovation: its standard deviation
    # is sigma_e within sampling error (+-1.2 % at 1 sigma for 3900 samples);
    # the output-error model's one-step error is clearly larger.
    assert_allclose(np.std(resid_k), sigma_e, rtol=0.05)
    assert np.std(resid_0) > 1.3 * sigma_e


def test_feedthrough_is_estimated_when_requested(make_system) -> None:
    system = make_system([0.8, 0.5], 1, 1, 1500, 0.0, seed=6)
    y = system.y_clean + 0.7 * system.u
    result = fit_subspace(system.u, y, 1.0, feedthrough=True)
    d_phys = result.model.d * result.model.output_scaling.scale / result.model.input_scaling.scale
    # Noise-free data: round-off level.
    assert_allclose(d_phys, [[0.7]], rtol=1e-8)
    assert not np.any(fit_subspace(system.u, system.y_clean, 1.0).model.d)


def test_json_round_trip(make_system) -> None:
    system = make_system([0.9, 0.5], 2, 1, 800, 0.05, seed=7)
    model = fit_subspace(system.u, system.y_noisy, 1.0).model
    restored = StateSpaceModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert np.array_equal(restored.simulate(system.u), model.simulate(system.u))


def test_select_order_counts_correlations_above_noise() -> None:
    edge = noise_correlation_edge(1000, 10, 20)
    # Wachter edge with f = 0.01, g = 0.02: (sqrt(0.01*0.98) + sqrt(0.02*0.99))^2.
    assert_allclose(edge, (np.sqrt(0.0098) + np.sqrt(0.0198)) ** 2, rtol=1e-14)
    corr = np.array([0.99, 0.9, 0.5, 0.2, 0.15])
    assert select_order(corr, edge, 4) == 3  # 2 * edge = 0.118: 0.5^2 in, 0.2^2 out
    assert select_order(corr, edge, 2) == 2  # capped at max_order
    with pytest.raises(IdentificationError, match="no dynamics above the noise level"):
        select_order(np.array([0.1, 0.05]), edge, 1)


def test_too_few_samples(make_system) -> None:
    system = make_system([0.9, 0.5], 1, 1, 60, 0.0, seed=8)
    with pytest.raises(IdentificationError, match="too few samples: 60 samples for horizon 10"):
        fit_subspace(system.u, system.y_clean, 1.0, order=2)


def test_nan_in_data(make_system) -> None:
    system = make_system([0.9, 0.5], 1, 1, 500, 0.0, seed=9)
    y = system.y_clean.copy()
    y[123, 0] = np.nan
    with pytest.raises(IdentificationError, match=r"outputs contains 1 NaN.*sample 123"):
        fit_subspace(system.u, y, 1.0)


def test_rank_deficient_excitation(make_system) -> None:
    system = make_system([0.9, 0.5], 1, 1, 800, 0.0, seed=10)
    # A single sinusoid is persistently exciting of order 2 only; the Hankel
    # matrices of 2 * 10 block rows need order 20.
    u = np.sin(0.3 * np.arange(800))[:, np.newaxis]
    _, y, _ = dlsim((system.a, system.b, system.c, [[0.0]], 1.0), u)
    with pytest.raises(IdentificationError, match=r"rank-deficient excitation.*not persistently"):
        fit_subspace(u, y, 1.0, order=2)


def test_constant_input(make_system) -> None:
    system = make_system([0.9, 0.5], 2, 1, 500, 0.0, seed=11)
    u = system.u.copy()
    u[:, 1] = 1.0
    with pytest.raises(IdentificationError, match=r"inputs column\(s\) \[1\] are constant"):
        fit_subspace(u, system.y_clean, 1.0)


def test_order_beyond_horizon() -> None:
    rng = np.random.default_rng(12)
    with pytest.raises(IdentificationError, match="horizon 3 with 1 output"):
        fit_subspace(rng.normal(size=(500, 1)), rng.normal(size=500), 1.0, order=4, horizon=3)
