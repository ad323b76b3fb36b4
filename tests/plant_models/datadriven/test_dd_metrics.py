"""Validation metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plant_models.datadriven.metrics import (
    MetricsInputError,
    bias,
    fit_metrics,
    nrmse,
    r2,
    rmse,
)

# y_meas = [1, 2, 3, 4], y_pred = [1.5, 2, 2.5, 5]: residuals 0.5, 0, -0.5, 1.
# mean residual 0.25; mean square 1.5 / 4 = 0.375; std(y_meas) = sqrt(1.25);
# sum((y - 2.5)^2) = 5, so r2 = 1 - 1.5 / 5 = 0.7; range 3.
MEAS = np.array([1.0, 2.0, 3.0, 4.0])
PRED = np.array([1.5, 2.0, 2.5, 5.0])


def test_hand_computed_values() -> None:
    # Tolerance: the reference values are exact; only float rounding differs.
    assert_allclose(bias(MEAS, PRED), [0.25], rtol=1e-14)
    assert_allclose(rmse(MEAS, PRED), [np.sqrt(0.375)], rtol=1e-14)
    assert_allclose(nrmse(MEAS, PRED), [np.sqrt(0.375) / np.sqrt(1.25)], rtol=1e-14)
    assert_allclose(nrmse(MEAS, PRED, "range"), [np.sqrt(0.375) / 3.0], rtol=1e-14)
    assert_allclose(r2(MEAS, PRED), [0.7], rtol=1e-14)


def test_per_output_columns_and_names() -> None:
    meas = np.column_stack([MEAS, 10.0 * MEAS])
    pred = np.column_stack([PRED, 10.0 * MEAS])
    m = fit_metrics(meas, pred, ["steam", "power"])
    # Tolerance: exact reference values, float rounding only.
    assert_allclose(m.r2, [0.7, 1.0], rtol=1e-14)
    assert_allclose(m.bias, [0.25, 0.0], atol=1e-14)
    assert m.n_samples == 4
    rows = m.as_rows()
    assert [r["output"] for r in rows] == ["steam", "power"]
    assert rows[1]["nrmse"] == 0.0


def test_perfect_and_mean_predictions() -> None:
    # Predicting the mean gives r2 = 0 and nrmse = 1 by definition.
    mean_pred = np.full_like(MEAS, MEAS.mean())
    assert_allclose(r2(MEAS, mean_pred), [0.0], atol=1e-15)
    assert_allclose(nrmse(MEAS, mean_pred), [1.0], rtol=1e-14)


def test_constant_measurement_gives_nan_not_a_warning() -> None:
    m = fit_metrics(np.ones(5), np.ones(5) * 1.1)
    assert np.isnan(m.nrmse[0])
    assert np.isnan(m.r2[0])
    assert_allclose(m.bias, [0.1], rtol=1e-12)  # float rounding of 1.1 - 1


@pytest.mark.parametrize(
    ("meas", "pred", "fragment"),
    [
        (np.ones(4), np.ones(5), "differ"),
        (np.array([1.0, np.nan]), np.ones(2), "NaN"),
        (np.zeros(0), np.zeros(0), "no samples"),
    ],
)
def test_bad_inputs_raise(meas: np.ndarray, pred: np.ndarray, fragment: str) -> None:
    with pytest.raises(MetricsInputError, match=fragment):
        fit_metrics(meas, pred)


def test_name_count_mismatch() -> None:
    with pytest.raises(MetricsInputError, match="2 names given for 1 outputs"):
        fit_metrics(MEAS, PRED, ["a", "b"])


def test_unknown_normalization() -> None:
    with pytest.raises(MetricsInputError, match="normalization"):
        nrmse(MEAS, PRED, "mean")  # type: ignore[arg-type]
