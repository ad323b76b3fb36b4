"""Polynomial and RBF regression: recovery of known maps, storage, failure paths."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plant_models.datadriven import (
    IdentificationError,
    ModelFormatError,
    PolynomialModel,
    RBFModel,
    fit_polynomial,
    fit_rbf,
)
from plant_models.datadriven.features import polynomial_exponents


def _known_polynomial(u: np.ndarray) -> np.ndarray:
    # A cubic in two inputs with every kind of term (constant, linear, cross, cubes).
    x, z = u[:, 0], u[:, 1]
    return np.column_stack(
        [
            3.0 + 2.0 * x - 0.5 * z + 0.3 * x * z - 0.1 * x**3 + 0.05 * z**2 * x,
            -1.0 + z**3 - x**2,
        ]
    )


@pytest.mark.parametrize(("n_inputs", "degree"), [(1, 1), (2, 3), (3, 2), (4, 4)])
def test_exponent_count_is_binomial(n_inputs: int, degree: int) -> None:
    # Monomials of total degree <= d in n variables: C(n + d, d).
    exps = polynomial_exponents(n_inputs, degree)
    assert exps.shape == (math.comb(n_inputs + degree, degree), n_inputs)
    assert len({tuple(r) for r in exps}) == exps.shape[0]
    assert exps.sum(axis=1).max() == degree


def test_polynomial_recovers_known_polynomial() -> None:
    rng = np.random.default_rng(0)
    u = rng.uniform([-2.0, 10.0], [3.0, 14.0], size=(120, 2))
    model = fit_polynomial(u, _known_polynomial(u), degree=3)
    u_test = rng.uniform([-2.0, 10.0], [3.0, 14.0], size=(500, 2))
    # Tolerance: noise-free data of an exact cubic; GCV then picks the smallest
    # penalty of the grid (1e-12 relative), leaving errors at the 1e-9 level
    # relative to outputs of order 10-3000.
    assert_allclose(model.predict(u_test), _known_polynomial(u_test), rtol=1e-7, atol=1e-7)
    assert model.degree == 3


def test_polynomial_with_noise_and_kfold_is_close() -> None:
    rng = np.random.default_rng(1)
    u = rng.uniform(-1.0, 1.0, size=(400, 2))
    y = _known_polynomial(u)
    sigma = 0.01
    model = fit_polynomial(u, y + sigma * rng.normal(size=y.shape), 3, penalty="kfold")
    u_test = rng.uniform(-1.0, 1.0, size=(300, 2))
    err = model.predict(u_test) - _known_polynomial(u_test)
    # Tolerance: 10 coefficients from 400 samples with noise 0.01 give a
    # prediction standard error of about 0.01 * sqrt(10 / 400) = 0.0016; the
    # RMS error must be within 3x of it.
    assert np.sqrt(np.mean(err**2)) < 3 * sigma * np.sqrt(10 / 400)


def test_rbf_fits_smooth_function() -> None:
    x = np.linspace(0.0, 2.0 * np.pi, 300)[:, np.newaxis]
    y = np.sin(x) + 0.5 * np.cos(2.0 * x)
    model = fit_rbf(x, y, n_centres=25, seed=0)
    x_test = np.linspace(0.0, 2.0 * np.pi, 1001)[:, np.newaxis]
    err = model.predict(x_test) - (np.sin(x_test) + 0.5 * np.cos(2.0 * x_test))
    # Stated accuracy: 25 Gaussians on a function of amplitude 1.5 reach a
    # maximum error below 2e-3 over the whole training range (measured 5e-4).
    assert np.max(np.abs(err)) < 2e-3
    assert model.n_centres <= 25


def test_rbf_is_reproducible_with_seed() -> None:
    rng = np.random.default_rng(2)
    u = rng.normal(size=(200, 2))
    y = np.tanh(u[:, :1]) * u[:, 1:]
    first = fit_rbf(u, y, 15, seed=4)
    second = fit_rbf(u, y, 15, seed=4)
    assert np.array_equal(first.centres, second.centres)
    assert np.array_equal(first.coef, second.coef)


@pytest.mark.parametrize("fit", [fit_polynomial, fit_rbf])
def test_json_round_trip(fit) -> None:
    rng = np.random.default_rng(3)
    u = rng.normal(size=(100, 2))
    y = np.column_stack([u[:, 0] ** 2, np.sin(u[:, 1])])
    model = fit(u, y)
    restored = type(model).from_dict(json.loads(json.dumps(model.to_dict())))
    # JSON keeps doubles exactly (repr round trip): identical predictions.
    assert np.array_equal(restored.predict(u), model.predict(u))


def test_single_sample_prediction_shape() -> None:
    rng = np.random.default_rng(4)
    u = rng.normal(size=(50, 2))
    model = fit_polynomial(u, u[:, 0] + u[:, 1], 1)
    assert model.predict(np.array([0.5, 0.5])).shape == (1,)
    # Tolerance: a noise-free linear map, GCV penalty ~1e-12 relative.
    assert_allclose(model.predict(np.array([0.5, 0.5])), [1.0], rtol=1e-8)


def test_too_few_samples() -> None:
    u = np.random.default_rng(5).normal(size=(9, 2))
    with pytest.raises(IdentificationError, match="too few samples: 9 samples for a degree-3"):
        fit_polynomial(u, u[:, 0], 3)
    with pytest.raises(IdentificationError, match="too few samples: 9 samples for 10 RBF"):
        fit_rbf(u, u[:, 0], 10)


def test_nan_in_data_is_named() -> None:
    u = np.random.default_rng(6).normal(size=(50, 2))
    y = u[:, 0].copy()
    y[7] = np.nan
    with pytest.raises(IdentificationError, match=r"outputs contains 1 NaN.*sample 7"):
        fit_polynomial(u, y, 2)


def test_constant_input_is_rank_deficient() -> None:
    u = np.random.default_rng(7).normal(size=(50, 2))
    u[:, 1] = 4.2
    with pytest.raises(IdentificationError, match=r"inputs column\(s\) \[1\] are constant"):
        fit_rbf(u, u[:, 0], 5)


def test_sample_count_mismatch() -> None:
    u = np.random.default_rng(8).normal(size=(50, 2))
    with pytest.raises(IdentificationError, match="outputs has 49 samples"):
        fit_polynomial(u, u[:49, 0], 2)


def test_from_dict_rejects_malformed() -> None:
    u = np.random.default_rng(9).normal(size=(50, 2))
    data = fit_polynomial(u, u[:, 0], 2).to_dict()
    with pytest.raises(ModelFormatError, match="expected a stored model of kind 'rbf'"):
        RBFModel.from_dict(data)
    broken = dict(data)
    del broken["coef"]
    with pytest.raises(ModelFormatError, match="missing key 'coef'"):
        PolynomialModel.from_dict(broken)
    broken = dict(data, coef=[[1.0]])
    with pytest.raises(ModelFormatError, match="coef must have shape"):
        PolynomialModel.from_dict(broken)
    broken = dict(data, format_version=99)
    with pytest.raises(ModelFormatError, match="unsupported format_version 99"):
        PolynomialModel.from_dict(broken)


def test_models_are_frozen() -> None:
    u = np.random.default_rng(10).normal(size=(50, 2))
    model = fit_polynomial(u, u[:, 0], 2)
    with pytest.raises(ValueError, match="read-only"):
        model.coef[0, 0] = 1.0
