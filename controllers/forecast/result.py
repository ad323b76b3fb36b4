"""Forecast results: mean trajectory, prediction intervals and scenarios for multi-stage MPC."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter
from scipy.stats import norm

from controllers.errors import ForecastError
from controllers.forecast import _serial

__all__ = ["FALLBACKS", "Forecast", "ScenarioSet"]

#: How the recent history was used: ``"none"`` (the last samples), ``"shifted"``
#: (NaN at the end: forecast from the last gap-free window, further back) or
#: ``"profile"`` (no usable window: profile plus the stationary deviation).
FALLBACKS = ("none", "shifted", "profile")


@dataclass(frozen=True, eq=False)
class ScenarioSet:
    """A small set of weighted disturbance trajectories (branches of a multi-stage MPC).

    Attributes
    ----------
    values : ndarray, shape (n_scenarios, horizon)
        Trajectories. [signal units]
    weights : ndarray, shape (n_scenarios,)
        Non-negative probabilities summing to one. [-]
    labels : tuple of str
        Name of each scenario (``"lower"``, ``"mean"``, ``"node0"``, ``"path3"``...).
    dt_s : float
        Sample time. [s]
    """

    kind: ClassVar[str] = "scenario_set"

    values: NDArray[np.float64]
    weights: NDArray[np.float64]
    labels: tuple[str, ...]
    dt_s: float

    def __post_init__(self) -> None:
        values = _serial.frozen(self.values)
        weights = _serial.frozen(self.weights)
        if values.ndim != 2 or weights.shape != (values.shape[0],):
            raise ForecastError(
                f"scenarios: values must be (n, horizon) and weights (n,), got "
                f"{values.shape} and {weights.shape}"
            )
        if len(self.labels) != values.shape[0]:
            raise ForecastError(f"scenarios: {len(self.labels)} labels for {values.shape[0]} rows")
        if np.any(weights < 0.0) or not np.isclose(weights.sum(), 1.0, rtol=0.0, atol=1e-9):
            raise ForecastError(f"scenario weights must be >= 0 and sum to 1, got {weights}")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "labels", tuple(str(s) for s in self.labels))
        object.__setattr__(self, "dt_s", float(self.dt_s))

    def to_dict(self) -> dict[str, Any]:
        """Return a plain dictionary (lists of numbers) for JSON or TOML storage."""
        return {
            **_serial.header(self.kind),
            "values": _serial.to_list(self.values),
            "weights": _serial.to_list(self.weights),
            "labels": list(self.labels),
            "dt_s": self.dt_s,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from :meth:`to_dict` output; raise ForecastError if malformed."""
        data = _serial.check_header(data, cls.kind)
        return cls(
            _serial.array(data, "values", cls.kind, 2),
            _serial.array(data, "weights", cls.kind, 1),
            tuple(_serial.get(data, "labels", cls.kind)),
            float(_serial.get(data, "dt_s", cls.kind)),
        )


@dataclass(frozen=True, eq=False)
class Forecast:
    """Forecast of one disturbance signal over a horizon.

    Attributes
    ----------
    mean : ndarray, shape (horizon,)
        Conditional mean: profile plus predicted deviation. [signal units]
    profile : ndarray, shape (horizon,)
        Profile part of the mean. [signal units]
    std : ndarray, shape (horizon,)
        Analytic forecast standard deviation, ``sigma sqrt(sum psi_j^2)``. [signal units]
    levels : ndarray, shape (n_levels,)
        Central coverage of each interval (0.9 is the 5 %-95 % band). [-]
    lower, upper : ndarray, shape (n_levels, horizon)
        Interval bounds per level. [signal units]
    interval_method : {"analytic", "empirical"}
        Gaussian bounds from ``std``, or ``std`` times empirical quantiles of
        standardised multi-step errors on the training data.
    fallback : {"none", "shifted", "profile"}
        How recent history was used (see :data:`FALLBACKS`).
    origin_lag : int
        Steps between the last used recent sample and the first forecast step
        (0 normally). [samples]
    ar_coefficients : ndarray, shape (p,)
        AR coefficients of the deviation model (for sampled paths). [-]
    innovation_std : float
        Innovation standard deviation. [signal units]
    dt_s : float
        Sample time. [s]
    """

    kind: ClassVar[str] = "forecast"

    mean: NDArray[np.float64]
    profile: NDArray[np.float64]
    std: NDArray[np.float64]
    levels: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    interval_method: Literal["analytic", "empirical"]
    fallback: Literal["none", "shifted", "profile"]
    origin_lag: int
    ar_coefficients: NDArray[np.float64]
    innovation_std: float
    dt_s: float

    def __post_init__(self) -> None:
        for name in ("mean", "profile", "std", "levels", "lower", "upper", "ar_coefficients"):
            object.__setattr__(self, name, _serial.frozen(getattr(self, name)))
        h, n_lev = self.mean.size, self.levels.size
        if self.mean.ndim != 1 or self.profile.shape != (h,) or self.std.shape != (h,):
            raise ForecastError("forecast: mean, profile and std must be 1-D of equal length")
        if self.lower.shape != (n_lev, h) or self.upper.shape != (n_lev, h):
            raise ForecastError(f"forecast: lower and upper must have shape ({n_lev}, {h})")
        if self.interval_method not in ("analytic", "empirical"):
            raise ForecastError(f"forecast: unknown interval_method {self.interval_method!r}")
        if self.fallback not in FALLBACKS:
            raise ForecastError(f"forecast: fallback must be one of {FALLBACKS}")
        object.__setattr__(self, "origin_lag", int(self.origin_lag))
        object.__setattr__(self, "innovation_std", float(self.innovation_std))
        object.__setattr__(self, "dt_s", float(self.dt_s))

    @property
    def horizon(self) -> int:
        """Number of forecast steps."""
        return int(self.mean.size)

    def interval(self, level: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return ``(lower, upper)`` of a level computed with the forecast. [signal units]."""
        hits = np.flatnonzero(np.isclose(self.levels, level, rtol=0.0, atol=1e-9))
        if not hits.size:
            raise ForecastError(
                f"level {level} was not computed; this forecast has levels {self.levels.tolist()}"
            )
        return self.lower[hits[0]], self.upper[hits[0]]

    def scenarios(
        self,
        kind: Literal["interval", "quadrature", "sampled"] = "interval",
        *,
        level: float = 0.9,
        n: int = 3,
        seed: int = 0,
    ) -> ScenarioSet:
        """Weighted trajectories for scenario-based (multi-stage or robust) MPC.

        Parameters
        ----------
        kind : {"interval", "quadrature", "sampled"}
            ``"interval"``: lower / mean / upper at ``level`` (whole trajectories
            at the band edges), weighted ``1/(2 z^2)``, ``1 - 1/z^2``, ``1/(2 z^2)``
            with ``z`` the Gaussian quantile of the level, so the scenario set
            has the forecast's variance at every step (needs ``level >= 0.683``).
            ``"quadrature"``: ``n`` Gauss-Hermite nodes ``mean + node * std``
            with their weights (exact Gaussian moments up to order ``2n - 1``).
            ``"sampled"``: ``n`` equally weighted paths of the AR model with
            Gaussian innovations (correct correlation between steps).
        level : float
            Interval level for ``"interval"`` (must be one of :attr:`levels`). [-]
        n : int
            Number of scenarios for ``"quadrature"`` and ``"sampled"``.
        seed : int
            Random seed of ``"sampled"``.

        Raises
        ------
        ForecastError
            For an unknown kind, a level not computed or below 0.683, or ``n < 1``.
        """
        if kind == "interval":
            low, up = self.interval(level)
            z = float(norm.ppf(0.5 + 0.5 * level))
            if z < 1.0:
                raise ForecastError(
                    f"interval scenarios need level >= 0.683 (z >= 1) for non-negative "
                    f"weights, got {level}"
                )
            side = 0.5 / z**2
            return ScenarioSet(
                np.vstack([low, self.mean, up]),
                np.array([side, 1.0 - 2.0 * side, side]),
                ("lower", "mean", "upper"),
                self.dt_s,
            )
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ForecastError(f"n must be a positive integer, got {n!r}")
        if kind == "quadrature":
            nodes, weights = np.polynomial.hermite_e.hermegauss(int(n))
            weights = weights / weights.sum()
            values = self.mean + nodes[:, np.newaxis] * self.std
            return ScenarioSet(values, weights, tuple(f"node{i}" for i in range(n)), self.dt_s)
        if kind == "sampled":
            rng = np.random.default_rng(seed)
            n_steps = self.origin_lag + self.horizon
            eps = rng.standard_normal((int(n), n_steps)) * self.innovation_std
            den = np.concatenate([[1.0], -self.ar_coefficients])
            dev = lfilter([1.0], den, eps, axis=1)[:, self.origin_lag :]
            return ScenarioSet(
                self.mean + dev, np.full(n, 1.0 / n), tuple(f"path{i}" for i in range(n)), self.dt_s
            )
        raise ForecastError(f"kind must be 'interval', 'quadrature' or 'sampled', got {kind!r}")

    def to_dict(self) -> dict[str, Any]:
        """Return a plain dictionary (lists of numbers) for JSON or TOML storage."""
        return {
            **_serial.header(self.kind),
            **{
                name: _serial.to_list(getattr(self, name))
                for name in ("mean", "profile", "std", "levels", "lower", "upper")
            },
            "ar_coefficients": _serial.to_list(self.ar_coefficients),
            "interval_method": self.interval_method,
            "fallback": self.fallback,
            "origin_lag": self.origin_lag,
            "innovation_std": self.innovation_std,
            "dt_s": self.dt_s,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from :meth:`to_dict` output; raise ForecastError if malformed."""
        data = _serial.check_header(data, cls.kind)
        k = cls.kind
        return cls(
            mean=_serial.array(data, "mean", k, 1),
            profile=_serial.array(data, "profile", k, 1),
            std=_serial.array(data, "std", k, 1),
            levels=_serial.array(data, "levels", k, 1),
            lower=_serial.array(data, "lower", k, 2),
            upper=_serial.array(data, "upper", k, 2),
            interval_method=_serial.get(data, "interval_method", k),
            fallback=_serial.get(data, "fallback", k),
            origin_lag=int(_serial.get(data, "origin_lag", k)),
            ar_coefficients=_serial.array(data, "ar_coefficients", k, 1),
            innovation_std=float(_serial.get(data, "innovation_std", k)),
            dt_s=float(_serial.get(data, "dt_s", k)),
        )
