"""Validation metrics of a model against measured data, per output.

Conventions (one definition each, reused by calibration and the reports):

- residual ``e = y_pred - y_meas`` (prediction minus measurement);
- ``bias = mean(e)``, in the output's unit;
- ``rmse = sqrt(mean(e**2))``, in the output's unit;
- ``nrmse = rmse / std(y_meas)`` (population standard deviation), or
  ``rmse / (max(y_meas) - min(y_meas))`` with ``normalization="range"``;
  dimensionless, 0 for a perfect fit and about 1 for predicting the mean;
- ``r2 = 1 - sum(e**2) / sum((y_meas - mean(y_meas))**2)``, the coefficient
  of determination; 1 for a perfect fit, 0 for predicting the mean, negative
  for worse.

An output whose measurement is constant has no spread to normalise by: its
``nrmse`` and ``r2`` are ``nan`` (its ``bias`` and ``rmse`` are still defined).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["FitMetrics", "MetricsInputError", "bias", "fit_metrics", "nrmse", "r2", "rmse"]


class MetricsInputError(ValueError):
    """Measured and predicted arrays do not match or contain non-finite values."""


def _pair(y_meas: ArrayLike, y_pred: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    meas = np.asarray(y_meas, dtype=np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    if meas.ndim == 1:
        meas = meas[:, np.newaxis]
    if pred.ndim == 1:
        pred = pred[:, np.newaxis]
    if meas.shape != pred.shape or meas.ndim != 2:
        raise MetricsInputError(
            f"measured shape {meas.shape} and predicted shape {pred.shape} differ "
            "(expected equal (n_samples, n_outputs))"
        )
    if meas.shape[0] == 0:
        raise MetricsInputError("no samples to compare")
    if not (np.all(np.isfinite(meas)) and np.all(np.isfinite(pred))):
        raise MetricsInputError("measured or predicted values contain NaN or infinity")
    return meas, pred


def _safe_divide(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.full(num.shape, np.nan)
    ok = den > 0.0
    out[ok] = num[ok] / den[ok]
    return out


def bias(y_meas: ArrayLike, y_pred: ArrayLike) -> NDArray[np.float64]:
    """Mean residual ``mean(y_pred - y_meas)`` per output.

    Parameters
    ----------
    y_meas, y_pred : array_like, shape (n_samples,) or (n_samples, n_outputs)
        Measured and predicted outputs. [output unit]

    Returns
    -------
    ndarray, shape (n_outputs,)
        Bias per output. [output unit]
    """
    meas, pred = _pair(y_meas, y_pred)
    return np.mean(pred - meas, axis=0)


def rmse(y_meas: ArrayLike, y_pred: ArrayLike) -> NDArray[np.float64]:
    """Root-mean-square residual per output, in the output's unit."""
    meas, pred = _pair(y_meas, y_pred)
    return np.sqrt(np.mean((pred - meas) ** 2, axis=0))


def nrmse(
    y_meas: ArrayLike,
    y_pred: ArrayLike,
    normalization: Literal["std", "range"] = "std",
) -> NDArray[np.float64]:
    """Normalised root-mean-square error per output.

    Parameters
    ----------
    y_meas, y_pred : array_like, shape (n_samples,) or (n_samples, n_outputs)
        Measured and predicted outputs. [output unit]
    normalization : {"std", "range"}
        Divide the RMSE by the standard deviation or by the range of the
        measurement.

    Returns
    -------
    ndarray, shape (n_outputs,)
        NRMSE per output (``nan`` for a constant measurement). [-]
    """
    meas, pred = _pair(y_meas, y_pred)
    err = np.sqrt(np.mean((pred - meas) ** 2, axis=0))
    if normalization == "std":
        den = meas.std(axis=0)
    elif normalization == "range":
        den = np.ptp(meas, axis=0)
    else:
        raise MetricsInputError(f"normalization must be 'std' or 'range', got {normalization!r}")
    return _safe_divide(err, den)


def r2(y_meas: ArrayLike, y_pred: ArrayLike) -> NDArray[np.float64]:
    """Coefficient of determination per output (``nan`` for a constant measurement)."""
    meas, pred = _pair(y_meas, y_pred)
    ss_res = np.sum((pred - meas) ** 2, axis=0)
    ss_tot = np.sum((meas - meas.mean(axis=0)) ** 2, axis=0)
    return 1.0 - _safe_divide(ss_res, ss_tot)


@dataclass(frozen=True, eq=False)
class FitMetrics:
    """Validation metrics of one comparison, one entry per output.

    Attributes
    ----------
    names : tuple of str
        Output names.
    nrmse : ndarray
        RMSE divided by the measurement's standard deviation. [-]
    r2 : ndarray
        Coefficient of determination. [-]
    bias : ndarray
        Mean of prediction minus measurement. [output unit]
    rmse : ndarray
        Root-mean-square residual. [output unit]
    n_samples : int
        Number of compared samples.
    """

    names: tuple[str, ...]
    nrmse: NDArray[np.float64]
    r2: NDArray[np.float64]
    bias: NDArray[np.float64]
    rmse: NDArray[np.float64]
    n_samples: int

    def as_rows(self) -> list[dict[str, float | str]]:
        """Return one ``{"output", "nrmse", "r2", "bias", "rmse"}`` dict per output."""
        return [
            {
                "output": name,
                "nrmse": float(self.nrmse[i]),
                "r2": float(self.r2[i]),
                "bias": float(self.bias[i]),
                "rmse": float(self.rmse[i]),
            }
            for i, name in enumerate(self.names)
        ]


def fit_metrics(
    y_meas: ArrayLike,
    y_pred: ArrayLike,
    names: tuple[str, ...] | list[str] | None = None,
) -> FitMetrics:
    """Compute NRMSE, R2, bias and RMSE per output.

    Parameters
    ----------
    y_meas, y_pred : array_like, shape (n_samples,) or (n_samples, n_outputs)
        Measured and predicted outputs. [output unit]
    names : sequence of str, optional
        Output names (default ``y0, y1, ...``).

    Raises
    ------
    MetricsInputError
        If the shapes differ, there are no samples, the values are not
        finite, or the number of names differs from the number of outputs.
    """
    meas, pred = _pair(y_meas, y_pred)
    n_out = meas.shape[1]
    labels = tuple(names) if names is not None else tuple(f"y{i}" for i in range(n_out))
    if len(labels) != n_out:
        raise MetricsInputError(f"{len(labels)} names given for {n_out} outputs")
    return FitMetrics(
        names=labels,
        nrmse=nrmse(meas, pred),
        r2=r2(meas, pred),
        bias=bias(meas, pred),
        rmse=rmse(meas, pred),
        n_samples=int(meas.shape[0]),
    )
