"""Profile-plus-ARX disturbance forecaster: ``y = profile(phase) + r``, ``r`` an AR(X) process.

Fit with :func:`fit_forecaster` from a history with gaps; forecast with
:meth:`ProfileARXForecaster.forecast` from the recent samples and the phases
(local time of day, day of week) of the next steps.  Intervals are analytic
(Gaussian, from the psi-weights and the innovation variance) or empirical
(the analytic standard deviation times quantiles of standardised in-sample
multi-step errors, see :mod:`controllers.forecast.calibration`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import norm

from controllers.errors import ForecastError
from controllers.forecast import _serial
from controllers.forecast.calibration import EmpiricalCalibration, calibrate
from controllers.forecast.deviation import DeviationModel, fit_deviation_model, psi_weights
from controllers.forecast.phase import check_phases, step_phases
from controllers.forecast.profile import PeriodicProfile, fit_profile
from controllers.forecast.result import Forecast

__all__ = ["ForecastSettings", "ProfileARXForecaster", "fit_forecaster"]

#: Tail of the squared psi-weights below which the deviation counts as
#: forgotten (profile fallback): 1e-10 of the stationary variance.
_FORGET_TOL = 1e-10
#: Longest burn-in used to reach the stationary variance. [samples]
_MAX_BURN_IN = 20000


@dataclass(frozen=True)
class ForecastSettings:
    """How a profile-plus-ARX forecaster is fitted.

    Attributes
    ----------
    n_bins : int
        Time-of-day bins per day (96: 15 min).
    weekend_days : tuple of int, optional
        Days (0 = Monday) with a separate profile, e.g. ``(5, 6)``; ``None``: one profile.
    profile_estimator : {"median", "trimmed_mean"}
        Robust estimate per bin.
    trim_fraction : float
        Fraction cut from each end by the trimmed mean. [-]
    smoothing_bins : int
        Circular Savitzky-Golay window across bins (odd >= 3, or 1: none). [bins]
    min_samples_per_bin : int
        Bins with fewer samples are interpolated from neighbours.
    max_order : int
        Largest AR order tried.
    criterion : {"aic", "bic"}
        Order selection criterion.
    penalty : {"gcv", "kfold"} or float
        Ridge penalty of the AR(X) fit (float: fixed ``alpha`` per sample).
    exog_taps, exog_delay : int
        Taps ``nb`` and delay ``nk`` of every exogenous input. [samples]
    calibration_horizon : int
        Steps of empirical interval calibration (0: analytic intervals only). [samples]
    """

    n_bins: int = 96
    weekend_days: tuple[int, ...] | None = None
    profile_estimator: Literal["median", "trimmed_mean"] = "median"
    trim_fraction: float = 0.1
    smoothing_bins: int = 5
    min_samples_per_bin: int = 3
    max_order: int = 6
    criterion: Literal["aic", "bic"] = "bic"
    penalty: Literal["gcv", "kfold"] | float = "gcv"
    exog_taps: int = 1
    exog_delay: int = 0
    calibration_horizon: int = 0

    def __post_init__(self) -> None:
        for name in ("n_bins", "min_samples_per_bin", "exog_taps"):
            if int(getattr(self, name)) < 1:
                raise ForecastError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_order", "exog_delay", "calibration_horizon"):
            if int(getattr(self, name)) < 0:
                raise ForecastError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.weekend_days is not None:
            object.__setattr__(self, "weekend_days", tuple(int(d) for d in self.weekend_days))

    def to_dict(self) -> dict[str, Any]:
        """Return a plain dictionary for JSON or TOML storage."""
        out = asdict(self)
        out["weekend_days"] = None if self.weekend_days is None else list(self.weekend_days)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from :meth:`to_dict` output; raise ForecastError on unknown keys."""
        if not isinstance(data, Mapping):
            raise ForecastError("stored forecast settings must be a mapping")
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ForecastError(f"unknown forecast setting(s): {sorted(unknown)}")
        values = dict(data)
        if values.get("weekend_days") is not None:
            values["weekend_days"] = tuple(values["weekend_days"])
        return cls(**values)


@dataclass(frozen=True, eq=False)
class ProfileARXForecaster:
    """Fitted forecaster of one disturbance signal.

    Attributes
    ----------
    profile : PeriodicProfile
        Daily profile. [signal units]
    deviation : DeviationModel
        AR(X) model of ``y - profile``.
    dt_s : float
        Sample time of the training data and of every forecast. [s]
    settings : ForecastSettings
        Settings used for the fit.
    calibration : EmpiricalCalibration, optional
        Empirical interval calibration (``None`` if not computed).
    """

    kind: ClassVar[str] = "profile_arx_forecaster"

    profile: PeriodicProfile
    deviation: DeviationModel
    dt_s: float
    settings: ForecastSettings
    calibration: EmpiricalCalibration | None = None

    def __post_init__(self) -> None:
        if not (np.isfinite(self.dt_s) and self.dt_s > 0.0):
            raise ForecastError(f"dt_s must be positive, got {self.dt_s}")
        object.__setattr__(self, "dt_s", float(self.dt_s))

    @property
    def n_exog(self) -> int:
        """Number of exogenous inputs."""
        return self.deviation.n_exog

    def forecast(
        self,
        recent_values: ArrayLike,
        time_of_day_s: ArrayLike,
        day_of_week: ArrayLike | None = None,
        *,
        levels: Sequence[float] = (0.9,),
        interval: Literal["analytic", "empirical"] = "analytic",
        exog_recent: ArrayLike | None = None,
        exog_future: ArrayLike | None = None,
        recent_time_of_day_s: ArrayLike | None = None,
        recent_day_of_week: ArrayLike | None = None,
        missing: Literal["fallback", "raise"] = "fallback",
    ) -> Forecast:
        """Forecast the next steps from the recent history.

        Parameters
        ----------
        recent_values : array_like, shape (n_recent,)
            Most recent samples at the model's sample time, oldest first; the
            last is one step before the first forecast step.  NaN marks
            missing samples. [signal units]
        time_of_day_s : array_like, shape (horizon,)
            Local time of day of each forecast step; its length is the horizon. [s]
        day_of_week : array_like of int, shape (horizon,), optional
            Day of week (0 = Monday) of each step; needed for weekend profiles. [-]
        levels : sequence of float
            Central coverage of the intervals, each in (0, 1). [-]
        interval : {"analytic", "empirical"}
            Gaussian intervals, or the calibrated ones (needs ``calibration_horizon > 0``).
        exog_recent : array_like, shape (n_recent, n_exog), optional
            Exogenous inputs at the recent samples (required with inputs). [exog units]
        exog_future : array_like, shape (horizon, n_exog), optional
            Planned exogenous inputs over the horizon (required with inputs). [exog units]
        recent_time_of_day_s, recent_day_of_week : array_like, optional
            Phases of the recent samples; by default stepped back from the
            first forecast step by ``dt_s`` (pass them across a daylight-saving change).
        missing : {"fallback", "raise"}
            With NaN in the last ``p`` recent samples: forecast from the last
            gap-free window further back (``"shifted"``) or, without one, from
            the profile and the stationary deviation (``"profile"``); or raise.

        Returns
        -------
        Forecast

        Raises
        ------
        ForecastError
            For bad shapes or phases, missing or non-finite exogenous inputs,
            a level outside (0, 1), empirical intervals without calibration,
            or unusable recent history with ``missing="raise"``.
        """
        tod, dow = check_phases(time_of_day_s, day_of_week, None, "forecast")
        horizon = tod.size
        level_arr = np.asarray(levels, dtype=np.float64).ravel()
        if level_arr.size == 0 or np.any(~((level_arr > 0.0) & (level_arr < 1.0))):
            raise ForecastError(f"levels must be a non-empty list in (0, 1), got {list(levels)}")
        if interval == "empirical" and self.calibration is None:
            raise ForecastError(
                "empirical intervals need a calibrated forecaster: fit with "
                "ForecastSettings(calibration_horizon=...) > 0"
            )
        if interval not in ("analytic", "empirical"):
            raise ForecastError(f"interval must be 'analytic' or 'empirical', got {interval!r}")
        if missing not in ("fallback", "raise"):
            raise ForecastError(f"missing must be 'fallback' or 'raise', got {missing!r}")
        y = np.asarray(recent_values, dtype=np.float64)
        if y.ndim != 1:
            raise ForecastError(f"recent_values must be 1-D, got shape {y.shape}")
        x_recent, x_future = self._exog_arrays(exog_recent, exog_future, y.size, horizon)
        if recent_time_of_day_s is None:
            back = -np.arange(y.size, 0, -1, dtype=np.int64)
            r_tod, r_dow = step_phases(
                float(tod[0]), None if dow is None else int(dow[0]), self.dt_s, back
            )
        else:
            r_tod, r_dow = check_phases(recent_time_of_day_s, recent_day_of_week, y.size, "recent")
        r_recent = y - self.profile._evaluate(r_tod, r_dow) if y.size else y
        profile_future = self.profile._evaluate(tod, dow)
        dev_mean, lag, fallback = self._deviation_mean(r_recent, x_recent, x_future, missing)
        psi = psi_weights(self.deviation.a, lag + horizon)
        std = self.deviation.innovation_std * np.sqrt(np.cumsum(psi**2))[lag:]
        mean = profile_future + dev_mean
        steps = lag + np.arange(horizon)
        lower = np.empty((level_arr.size, horizon))
        upper = np.empty((level_arr.size, horizon))
        for i, level in enumerate(level_arr):
            if interval == "analytic" or self.calibration is None:
                z = float(norm.ppf(0.5 + 0.5 * level))
                lower[i], upper[i] = mean - z * std, mean + z * std
            else:
                lower[i] = mean + std * self.calibration.z(steps, 0.5 - 0.5 * level)
                upper[i] = mean + std * self.calibration.z(steps, 0.5 + 0.5 * level)
        return Forecast(
            mean=mean,
            profile=profile_future,
            std=std,
            levels=level_arr,
            lower=lower,
            upper=upper,
            interval_method=interval,
            fallback=fallback,
            origin_lag=lag,
            ar_coefficients=self.deviation.a,
            innovation_std=self.deviation.innovation_std,
            dt_s=self.dt_s,
        )

    def _exog_arrays(
        self, exog_recent: ArrayLike | None, exog_future: ArrayLike | None, n: int, h: int
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        k = self.n_exog
        if k == 0:
            if exog_recent is not None or exog_future is not None:
                raise ForecastError("this forecaster has no exogenous inputs: do not pass any")
            return np.zeros((n, 0)), np.zeros((h, 0))
        if exog_recent is None or exog_future is None:
            raise ForecastError(
                f"this forecaster has {k} exogenous input(s): pass exog_recent and exog_future"
            )
        x_r = np.asarray(exog_recent, dtype=np.float64).reshape(n, -1) if n else np.zeros((0, k))
        x_f = np.asarray(exog_future, dtype=np.float64)
        x_f = x_f.reshape(-1, 1) if x_f.ndim == 1 and k == 1 else x_f
        if x_r.shape != (n, k) or x_f.shape != (h, k):
            raise ForecastError(
                f"exog_recent must be ({n}, {k}) and exog_future ({h}, {k}), got "
                f"{x_r.shape} and {x_f.shape}"
            )
        if not np.all(np.isfinite(x_f)):
            raise ForecastError("exog_future contains NaN or infinite values: give a plan")
        return x_r, x_f

    def _deviation_mean(
        self,
        r_recent: NDArray[np.float64],
        x_recent: NDArray[np.float64],
        x_future: NDArray[np.float64],
        missing: str,
    ) -> tuple[NDArray[np.float64], int, Literal["none", "shifted", "profile"]]:
        """Predicted deviation over the horizon, the origin lag and the fallback used."""
        model = self.deviation
        p, m, n, h = model.order, model.exog_lags, r_recent.size, x_future.shape[0]
        x_all = np.vstack([x_recent, x_future])
        end = _last_valid_window_end(np.isfinite(r_recent), p)
        if end is not None and end + 1 - m < 0:
            end = None  # not enough exogenous history before that window
        if end is None or (end < n - 1 and missing == "raise"):
            if missing == "raise":
                raise ForecastError(
                    f"the last {p} recent values must be finite (got {n} with "
                    f"{int(np.sum(~np.isfinite(r_recent[-p:])))} missing at the end) "
                    "and, with exogenous inputs, the last "
                    f"{m} inputs known; pass missing='fallback' to forecast anyway"
                )
            return self._stationary_mean(x_future), self._burn_in(), "profile"
        lag = n - 1 - end
        x_win = x_all[end + 1 - m : n + h]
        if not np.all(np.isfinite(x_win)):
            raise ForecastError("exog_recent has NaN where the forecast needs it")
        pred = model.propagate(
            r_recent[end + 1 - p : end + 1][np.newaxis], x_win[np.newaxis], lag + h
        )
        return pred[0, lag:], lag, "none" if lag == 0 else "shifted"

    def _stationary_mean(self, x_future: NDArray[np.float64]) -> NDArray[np.float64]:
        """Deviation mean with no usable history: stationary level at the first planned input."""
        model = self.deviation
        if model.spectral_radius() >= 1.0 - 1e-9:
            raise ForecastError(
                "no usable recent history and the deviation model is not stationary "
                f"(AR root modulus {model.spectral_radius():.6f} >= 1): cannot fall back "
                "to the profile"
            )
        p, m, h = model.order, model.exog_lags, x_future.shape[0]
        x0 = x_future[:1]
        level = (model.intercept + float(np.sum(model.b * x0))) / (1.0 - float(np.sum(model.a)))
        x_win = np.vstack([np.repeat(x0, m, axis=0), x_future]) if model.n_exog else x_future
        pred = model.propagate(np.full((1, p), level), x_win[np.newaxis], h)
        return pred[0]

    def _burn_in(self) -> int:
        """Steps after which the deviation has forgotten its start (stationary variance)."""
        psi2 = psi_weights(self.deviation.a, _MAX_BURN_IN) ** 2
        tail = np.cumsum(psi2[::-1])[::-1]
        forgotten = np.flatnonzero(tail <= _FORGET_TOL * tail[0])
        return max(int(forgotten[0]) if forgotten.size else _MAX_BURN_IN - 1, 1)

    def to_dict(self) -> dict[str, Any]:
        """Return a plain dictionary (lists of numbers) for JSON or TOML storage."""
        return {
            **_serial.header(self.kind),
            "dt_s": self.dt_s,
            "settings": self.settings.to_dict(),
            "profile": self.profile.to_dict(),
            "deviation": self.deviation.to_dict(),
            "calibration": None if self.calibration is None else self.calibration.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from :meth:`to_dict` output; raise ForecastError if malformed."""
        data = _serial.check_header(data, cls.kind)
        cal = data.get("calibration")
        return cls(
            profile=PeriodicProfile.from_dict(_serial.get(data, "profile", cls.kind)),
            deviation=DeviationModel.from_dict(_serial.get(data, "deviation", cls.kind)),
            dt_s=float(_serial.get(data, "dt_s", cls.kind)),
            settings=ForecastSettings.from_dict(_serial.get(data, "settings", cls.kind)),
            calibration=None if cal is None else EmpiricalCalibration.from_dict(cal),
        )


def _last_valid_window_end(valid: NDArray[np.bool_], p: int) -> int | None:
    """Index of the last sample ending ``p`` consecutive valid samples (``p = 0``: the last)."""
    n = valid.size
    if p == 0:
        return n - 1
    if n < p:
        return None
    run = np.convolve(valid.astype(np.int64), np.ones(p, dtype=np.int64), mode="valid")
    ends = np.flatnonzero(run == p)
    return int(ends[-1]) + p - 1 if ends.size else None


def fit_forecaster(
    values: ArrayLike,
    time_of_day_s: ArrayLike,
    day_of_week: ArrayLike | None = None,
    *,
    dt_s: float,
    exog: ArrayLike | None = None,
    settings: ForecastSettings | None = None,
) -> ProfileARXForecaster:
    """Fit a profile-plus-ARX forecaster to a regularly sampled history with gaps.

    Parameters
    ----------
    values : array_like, shape (N,)
        Signal history at a constant sample time; NaN marks gaps. [signal units]
    time_of_day_s : array_like, shape (N,)
        Local time of day of each sample. [s]
    day_of_week : array_like of int, shape (N,), optional
        Day of week (0 = Monday); needed with ``settings.weekend_days``. [-]
    dt_s : float
        Sample time. [s]
    exog : array_like, shape (N,) or (N, n_exog), optional
        Exogenous inputs (e.g. production rate); NaN marks gaps. [exog units]
    settings : ForecastSettings, optional
        Fit settings (defaults if omitted).

    Returns
    -------
    ProfileARXForecaster

    Raises
    ------
    ForecastError
        For bad shapes, phases or settings, or too little history (see
        :func:`~controllers.forecast.profile.fit_profile` and
        :func:`~controllers.forecast.deviation.fit_deviation_model`).
    """
    cfg = settings if settings is not None else ForecastSettings()
    if not (np.isfinite(dt_s) and dt_s > 0.0):
        raise ForecastError(f"dt_s must be positive, got {dt_s}")
    y = np.asarray(values, dtype=np.float64)
    if y.ndim != 1:
        raise ForecastError(f"values must be 1-D, got shape {y.shape}")
    tod, dow = check_phases(time_of_day_s, day_of_week, y.size, "training")
    if exog is None:
        x = np.zeros((y.size, 0))
    else:
        x = np.asarray(exog, dtype=np.float64)
        x = x[:, np.newaxis] if x.ndim == 1 else x
        if x.ndim != 2 or x.shape[0] != y.size:
            raise ForecastError(f"exog must have {y.size} rows, got shape {x.shape}")
    profile = fit_profile(
        y,
        tod,
        dow,
        n_bins=cfg.n_bins,
        weekend_days=cfg.weekend_days,
        estimator=cfg.profile_estimator,
        trim_fraction=cfg.trim_fraction,
        smoothing_bins=cfg.smoothing_bins,
        min_samples_per_bin=cfg.min_samples_per_bin,
    )
    deviation_values = y - profile._evaluate(tod, dow)
    model = fit_deviation_model(
        deviation_values,
        x,
        max_order=cfg.max_order,
        criterion=cfg.criterion,
        penalty=cfg.penalty,
        nb=cfg.exog_taps,
        nk=cfg.exog_delay,
    )
    calibration = (
        calibrate(model, deviation_values, x, cfg.calibration_horizon)
        if cfg.calibration_horizon
        else None
    )
    return ProfileARXForecaster(profile, model, dt_s, cfg, calibration)
