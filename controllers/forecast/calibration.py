"""Empirical calibration of multi-step prediction intervals on the training data.

From every forecast origin of the training history (strided to at most
``max_origins``), the deviation model predicts ``horizon`` steps with the
recorded exogenous inputs; each error is divided by the analytic forecast
standard deviation of its step, and the quantiles of these standardised
errors are stored per step on a fixed probability grid.  An empirical
interval is then ``mean + std * q_step(p)``: it keeps the analytic widening
with the horizon but takes skew and heavy tails (gas pulses, trips) from the
data.  Missing samples propagate as NaN through the recursion and drop out,
so no error is computed across a gap.  The errors are in-sample (the model
was fitted on the same data); with tens of coefficients and thousands of
equations that optimism is a fraction of a percent of the variance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from scipy.stats import norm

from controllers.errors import ForecastError
from controllers.forecast import _serial
from controllers.forecast.deviation import DeviationModel, psi_weights

__all__ = ["PROBABILITIES", "EmpiricalCalibration", "calibrate"]

#: Probability grid of the stored quantiles: dense in the tails that intervals use.
PROBABILITIES = np.array(
    [
        0.001,
        0.005,
        0.01,
        0.025,
        *np.round(np.linspace(0.05, 0.95, 19), 10),
        0.975,
        0.99,
        0.995,
        0.999,
    ]
)

#: Fewest finite errors per horizon step for its quantiles to mean anything.
_MIN_ERRORS_PER_STEP = 50


@dataclass(frozen=True, eq=False)
class EmpiricalCalibration:
    """Quantiles of standardised multi-step errors.

    Attributes
    ----------
    z_quantiles : ndarray, shape (horizon, n_probabilities)
        Quantile of ``error / std`` at each step and probability of
        :data:`PROBABILITIES`. [-]
    n_errors : ndarray, shape (horizon,)
        Errors behind each step's quantiles.
    """

    kind: ClassVar[str] = "empirical_calibration"

    z_quantiles: NDArray[np.float64]
    n_errors: NDArray[np.float64]

    def __post_init__(self) -> None:
        zq = _serial.frozen(self.z_quantiles)
        if zq.ndim != 2 or zq.shape[1] != PROBABILITIES.size or zq.shape[0] < 1:
            raise ForecastError(
                f"calibration: z_quantiles must have shape (horizon, {PROBABILITIES.size})"
            )
        if not np.all(np.isfinite(zq)) or np.any(np.diff(zq, axis=1) < 0.0):
            raise ForecastError("calibration: quantiles must be finite and non-decreasing")
        object.__setattr__(self, "z_quantiles", zq)
        object.__setattr__(self, "n_errors", _serial.frozen(self.n_errors))

    @property
    def horizon(self) -> int:
        """Calibrated steps; later steps reuse the last one. [samples]."""
        return int(self.z_quantiles.shape[0])

    def z(self, steps: NDArray[np.intp], probability: float) -> NDArray[np.float64]:
        """Standardised error quantile at each (0-based) step for one probability.

        Interpolates linearly against the Gaussian quantile of the grid, which
        is exact for Gaussian errors and smooth otherwise.
        """
        if not PROBABILITIES[0] <= probability <= PROBABILITIES[-1]:
            raise ForecastError(
                f"empirical intervals cover probabilities {PROBABILITIES[0]}..{PROBABILITIES[-1]}"
                f"; {probability} is outside (lower the level)"
            )
        rows = self.z_quantiles[np.minimum(steps, self.horizon - 1)]
        grid = norm.ppf(PROBABILITIES)
        target = float(norm.ppf(probability))
        idx = int(np.clip(np.searchsorted(grid, target) - 1, 0, grid.size - 2))
        w = (target - grid[idx]) / (grid[idx + 1] - grid[idx])
        return np.asarray((1.0 - w) * rows[:, idx] + w * rows[:, idx + 1], dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """Return a plain dictionary (lists of numbers) for JSON or TOML storage."""
        return {
            **_serial.header(self.kind),
            "probabilities": _serial.to_list(PROBABILITIES),
            "z_quantiles": _serial.to_list(self.z_quantiles),
            "n_errors": _serial.to_list(self.n_errors),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from :meth:`to_dict` output; raise ForecastError if malformed."""
        data = _serial.check_header(data, cls.kind)
        probs = _serial.array(data, "probabilities", cls.kind, 1)
        if probs.shape != PROBABILITIES.shape or not np.allclose(probs, PROBABILITIES):
            raise ForecastError("stored calibration uses another probability grid")
        return cls(
            _serial.array(data, "z_quantiles", cls.kind, 2),
            _serial.array(data, "n_errors", cls.kind, 1),
        )


def calibrate(
    model: DeviationModel,
    deviation: NDArray[np.float64],
    exog: NDArray[np.float64],
    horizon: int,
    *,
    max_origins: int = 20000,
) -> EmpiricalCalibration:
    """Quantiles of standardised in-sample multi-step errors of ``model``.

    Parameters
    ----------
    model : DeviationModel
        Fitted deviation model.
    deviation : ndarray, shape (N,)
        Training deviations from the profile; NaN marks gaps. [signal units]
    exog : ndarray, shape (N, n_exog)
        Training exogenous inputs (taken as perfectly known in the future). [exog units]
    horizon : int
        Steps to calibrate. [samples]
    max_origins : int
        Largest number of forecast origins (evenly strided).

    Raises
    ------
    ForecastError
        If some step has fewer than 50 finite errors.
    """
    p, m, n = model.order, model.exog_lags, deviation.size
    lags = max(p, m)
    n_origins_all = n - lags
    if horizon < 1 or n_origins_all < 1:
        raise ForecastError(f"cannot calibrate {horizon} steps on {n} samples")
    stride = max(1, -(-n_origins_all // max_origins))
    origins = np.arange(lags, n, stride)
    r_pad = np.concatenate([deviation, np.full(horizon, np.nan)])
    r_past = sliding_window_view(r_pad, p)[origins - p] if p else np.zeros((origins.size, 0))
    x_pad = np.vstack([exog, np.full((horizon, exog.shape[1]), np.nan)])
    x_win = sliding_window_view(x_pad, m + horizon, axis=0)[origins - m].transpose(0, 2, 1)
    pred = model.propagate(r_past, x_win, horizon)
    actual = sliding_window_view(r_pad, horizon)[origins]
    std = model.innovation_std * np.sqrt(np.cumsum(psi_weights(model.a, horizon) ** 2))
    z = (actual - pred) / std
    counts = np.sum(np.isfinite(z), axis=0)
    if counts.min() < _MIN_ERRORS_PER_STEP:
        raise ForecastError(
            f"too few gap-free forecast origins to calibrate {horizon} steps: step "
            f"{int(np.argmin(counts)) + 1} has {int(counts.min())} errors, need "
            f"{_MIN_ERRORS_PER_STEP} (shorten calibration_horizon)"
        )
    zq = np.nanquantile(z, PROBABILITIES, axis=0).T
    return EmpiricalCalibration(np.maximum.accumulate(zq, axis=1), counts.astype(np.float64))
