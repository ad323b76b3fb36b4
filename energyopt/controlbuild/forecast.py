"""Forecast sources of the economic MPC: causal profile+ARX forecasts and perfect foresight.

:class:`EconomicForecast` turns the recorded disturbance tags
(:class:`~energyopt.controlbuild.record.DisturbanceRecord`) into
:class:`~controllers.economic.HorizonInputs`: interval means of every plant
disturbance over the horizon -- forecast, held or nominal as
:func:`~energyopt.controlbuild.disturbances.plan_disturbances` decides -- the
time-of-use price, and the plant inputs held over the horizon.  Only samples
before the forecast time are used (a causal source for replays).  Each
forecast disturbance has its own :class:`~controllers.forecast.ProfileARXForecaster`
fitted on interval means, so its prediction intervals are for what the MPC
uses.  :func:`perfect_foresight` is the same source cut from the true record.

Times given to the sources (``source(time_s)``) are seconds since
1970-01-01 UTC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from energyopt.controlbuild.disturbances import DisturbancePlan, plan_disturbances
from energyopt.controlbuild.record import DisturbanceRecord, bin_means, local_phases
from energyopt.errors import DataError, ModelError

if TYPE_CHECKING:
    from controllers.economic import HorizonInputs, RecordedHorizon
    from controllers.forecast import Forecast, ProfileARXForecaster
    from energyopt.plantbuild import BuiltPlant

__all__ = ["EconomicForecast", "EconomicHorizon", "ScenarioInputs", "perfect_foresight"]

_DAY_S = 86400.0
#: Recent intervals handed to a forecaster (it uses its AR order of them). [intervals]
_RECENT = 96


@dataclass(frozen=True)
class ScenarioInputs:
    """One weighted scenario of the horizon inputs.

    Attributes
    ----------
    label : str
        ``"lower"``, ``"mean"``, ``"upper"``, ``"node0"``, ``"path3"``...
    weight : float
        Probability; a scenario set's weights sum to one. [-]
    inputs : HorizonInputs
        Disturbances, price and held inputs of the scenario. [SI]
    """

    label: str
    weight: float
    inputs: HorizonInputs


@dataclass(frozen=True)
class EconomicHorizon:
    """A forecast over the horizon, with its per-disturbance prediction intervals.

    Attributes
    ----------
    time_ms : numpy.ndarray
        Start of each interval, shape ``(horizon,)``. [ms since epoch]
    inputs : HorizonInputs
        The mean forecast (what the nominal MPC uses). [SI]
    forecasts : dict of str to Forecast
        Plant disturbance name -> its forecast (mean, intervals, scenarios). [SI]
    names : tuple of str
        Plant disturbance names, in ``d`` column order.
    low, high : numpy.ndarray
        Bounds of the plant disturbances (the model's envelope) that
        scenarios are clipped to, shape ``(n_d,)``. [SI]
    """

    time_ms: npt.NDArray[np.int64]
    inputs: HorizonInputs
    forecasts: dict[str, Forecast]
    names: tuple[str, ...]
    low: npt.NDArray[np.float64]
    high: npt.NDArray[np.float64]

    def scenarios(
        self,
        kind: Literal["interval", "quadrature", "sampled"] = "interval",
        *,
        level: float = 0.9,
        n: int = 3,
        seed: int = 0,
    ) -> tuple[ScenarioInputs, ...]:
        """Weighted scenarios for a scenario (multi-stage or robust) MPC.

        Every forecast disturbance takes the same branch in a scenario
        (``"lower"`` is low production *and* low demand): the branches of
        :meth:`controllers.forecast.Forecast.scenarios` share their weights,
        and comonotone branches are the conservative choice for holder
        levels.  ``"sampled"`` paths are drawn independently per disturbance
        (seed ``seed + k`` for the ``k``-th).  Values are clipped to the model's
        envelope.

        Parameters
        ----------
        kind : {"interval", "quadrature", "sampled"}
            See :meth:`controllers.forecast.Forecast.scenarios`.
        level : float
            Interval level of ``"interval"`` (the level the forecast computed). [-]
        n : int
            Scenarios of ``"quadrature"`` and ``"sampled"``.
        seed : int
            Random seed of ``"sampled"``.

        Returns
        -------
        tuple of ScenarioInputs
        """
        from controllers.economic import HorizonInputs

        base = self.inputs
        if not self.forecasts:
            return (ScenarioInputs("mean", 1.0, base),)
        sets = {
            name: fc.scenarios(kind, level=level, n=n, seed=seed + k)
            for k, (name, fc) in enumerate(self.forecasts.items())
        }
        first = next(iter(sets.values()))
        columns = {name: self.names.index(name) for name in sets}
        out = []
        for s, (label, weight) in enumerate(zip(first.labels, first.weights, strict=True)):
            d = base.d.copy()
            for name, scen in sets.items():
                j = columns[name]
                d[:, j] = np.clip(scen.values[s], self.low[j], self.high[j])
            out.append(
                ScenarioInputs(
                    label, float(weight), HorizonInputs(d, base.price_per_j, base.u_base)
                )
            )
        return tuple(out)


def _interval_prices(
    built: BuiltPlant, starts_ms: npt.NDArray[np.int64], interval_s: float
) -> npt.NDArray[np.float64]:
    """Mean time-of-use price over each interval. [currency/J].

    Tariff blocks are whole minutes, so sampling the middle of every minute
    of the interval gives the exact mean when the interval is whole minutes.
    """
    m = max(1, math.ceil(interval_s / 60.0))
    offsets = np.round((np.arange(m) + 0.5) * interval_s * 1000.0 / m).astype(np.int64)
    return np.asarray(built.electricity_price_per_j(starts_ms[:, None] + offsets)).mean(axis=1)


class EconomicForecast:
    """Causal disturbance forecast of a project's plant for the economic MPC.

    Parameters
    ----------
    built : BuiltPlant
        The project's plant; ``[controller.economic]`` gives interval and
        horizon, ``[controller.forecast]`` the forecaster settings.
    record : DisturbanceRecord
        Recorded disturbance tags in SI
        (:func:`~energyopt.controlbuild.record.read_disturbance_record`).
    fit_until_ms : int or None
        Fit the forecasters on the record before this time (default: all of
        it); ``[controller.forecast] training_s`` limits how far back. [ms]
    u_base : array_like or None
        Plant inputs held over the horizon (non-MV entries), shape ``(n_u,)``;
        default zeros. [SI]
    parameters : array_like or None
        Plant parameters the tags are read back with (default nominal). [SI]

    Raises
    ------
    ModelError
        If a disturbance binding cannot be read back to a plant disturbance,
        or a forecaster cannot be fitted (too little history).
    DataError
        If the record lacks a binding the forecast needs.
    """

    def __init__(
        self,
        built: BuiltPlant,
        record: DisturbanceRecord,
        *,
        fit_until_ms: int | None = None,
        u_base: npt.ArrayLike | None = None,
        parameters: npt.ArrayLike | None = None,
    ) -> None:
        ctl = built.project.controller
        self.built = built
        self.settings = ctl.forecast
        self.interval_s = float(ctl.economic_interval_s)
        self.horizon = int(ctl.economic_horizon_steps)
        self._interval_ms = round(self.interval_s * 1000.0)
        self.plan: DisturbancePlan = plan_disturbances(built, tuple(self.settings.held), parameters)
        n_u = built.model.sizes["u"]
        self.u_base = np.zeros(n_u) if u_base is None else np.asarray(u_base, dtype=np.float64)
        if self.u_base.shape != (n_u,):
            raise DataError(f"u_base must have shape ({n_u},), got {self.u_base.shape}")
        needed = {s for s in self.plan.sources if s is not None} | {
            b for b, _ in self.plan._state_sources
        }
        missing = sorted(needed - set(record.values))
        if missing:
            raise DataError(f"the disturbance record lacks binding(s) {', '.join(missing)}")
        self.record = record
        self.low, self.high = built.model.bounds("d")
        self.forecasters: dict[int, ProfileARXForecaster] = {}
        self.refit(record.time_ms[-1] + 1 if fit_until_ms is None else fit_until_ms)

    # ------------------------------------------------------------ history

    def _history(self, until_ms: int, since_ms: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Interval starts and reconstructed disturbances of the intervals before ``until_ms``."""
        t = self.record.time_ms
        last = until_ms // self._interval_ms  # first interval not used
        start = int(t[0]) if since_ms is None else max(int(t[0]), since_ms)
        first = -(-start // self._interval_ms)  # first whole interval
        count = last - first
        if count < 1:
            raise ModelError(
                f"no complete {self.interval_s:g}-s interval of recorded disturbances before "
                f"{until_ms} ms"
            )
        lo, hi = np.searchsorted(t, [first * self._interval_ms, last * self._interval_ms])
        means = {
            name: bin_means(t[lo:hi], v[lo:hi], self._interval_ms, first, count)
            for name, v in self.record.values.items()
        }
        starts = (first + np.arange(count, dtype=np.int64)) * self._interval_ms
        return starts, self.plan.reconstruct(means, self.u_base, self.interval_s)

    def refit(self, until_ms: int) -> None:
        """Fit the forecasters on the record before ``until_ms`` (within ``training_s``).

        Raises
        ------
        ModelError
            If a forecaster cannot be fitted (the message names the disturbance).
        """
        from controllers.errors import ForecastError
        from controllers.forecast import ForecastSettings, fit_forecaster

        cfg = self.settings
        since = None if cfg.training_s is None else until_ms - round(cfg.training_s * 1000.0)
        starts, d = self._history(until_ms, since)
        tod, dow = local_phases(starts, self.built.project.project.timezone)
        n_bins = max(1, round(_DAY_S / self.interval_s))
        fs = ForecastSettings(
            n_bins=n_bins,
            weekend_days=(5, 6) if cfg.weekend_profile else None,
            max_order=cfg.max_order,
            smoothing_bins=5 if n_bins >= 5 else 1,
        )
        fitted = {}
        for j in self.plan.indices("forecast"):
            try:
                fitted[j] = fit_forecaster(
                    d[:, j],
                    tod,
                    dow if cfg.weekend_profile else None,
                    dt_s=self.interval_s,
                    settings=fs,
                )
            except ForecastError as exc:
                raise ModelError(
                    f"controller.forecast: cannot fit the forecast of {self.plan.names[j]} "
                    f"(bindings.{self.plan.sources[j]}): {exc}"
                ) from None
        self.forecasters = fitted

    # ------------------------------------------------------------ forecasts

    def forecast(self, time_ms: int) -> EconomicHorizon:
        """Forecast the horizon starting at the interval that contains ``time_ms``.

        Parameters
        ----------
        time_ms : int
            Now. [ms since epoch]

        Returns
        -------
        EconomicHorizon
            Mean inputs and, per forecast disturbance, its
            :class:`~controllers.forecast.Forecast` at ``[controller.forecast] level``.
        """
        from controllers.economic import HorizonInputs

        k0 = int(time_ms) // self._interval_ms
        start_ms = k0 * self._interval_ms
        since = start_ms - _RECENT * self._interval_ms
        starts = (k0 + np.arange(self.horizon, dtype=np.int64)) * self._interval_ms
        recent_t, recent_d = self._history(start_ms, since)
        tod, dow = local_phases(starts, self.built.project.project.timezone)
        r_tod, r_dow = local_phases(recent_t, self.built.project.project.timezone)
        weekly = self.settings.weekend_profile
        price = _interval_prices(self.built, starts, self.interval_s)
        d = np.tile(self.plan.nominal, (self.horizon, 1))
        for j in self.plan.indices("held"):
            known = recent_d[np.isfinite(recent_d[:, j]), j]
            d[:, j] = known[-1] if known.size else self.plan.nominal[j]
        for j in self.plan.indices("price"):
            d[:, j] = price
        forecasts: dict[str, Forecast] = {}
        for j, model in self.forecasters.items():
            fc = model.forecast(
                recent_d[:, j],
                tod,
                dow if weekly else None,
                levels=(self.settings.level,),
                recent_time_of_day_s=r_tod,
                recent_day_of_week=r_dow if weekly else None,
            )
            d[:, j] = np.clip(fc.mean, self.low[j], self.high[j])
            forecasts[self.plan.names[j]] = fc
        return EconomicHorizon(
            starts,
            HorizonInputs(d, price, self.u_base.copy()),
            forecasts,
            self.plan.names,
            self.low,
            self.high,
        )

    def __call__(self, time_s: float) -> HorizonInputs:
        """The mean horizon inputs at ``time_s`` (seconds since epoch): a ``ForecastSource``."""
        return self.forecast(round(time_s * 1000.0)).inputs


def perfect_foresight(
    built: BuiltPlant,
    time_ms: npt.ArrayLike,
    d: npt.ArrayLike,
    *,
    u_base: npt.ArrayLike | None = None,
) -> RecordedHorizon:
    """The perfect-foresight source: the true disturbances' interval means.

    Parameters
    ----------
    built : BuiltPlant
        The project's plant (interval and horizon from ``[controller.economic]``,
        the tariff for the price).
    time_ms : array_like of int
        Sample times of the true record, shape ``(n,)``. [ms since epoch]
    d : array_like
        True plant disturbances, shape ``(n, n_d)``. [SI]
    u_base : array_like or None
        Plant inputs held over the horizon. [SI]

    Returns
    -------
    RecordedHorizon
        Called with seconds since epoch; intervals start at ``time_ms[0]``.
    """
    from controllers.economic import RecordedHorizon

    ctl = built.project.controller
    t = np.asarray(time_ms, dtype=np.int64)
    price = built.electricity_price_per_j(t)
    return RecordedHorizon.from_fine_record(
        t / 1000.0,
        d,
        price,
        float(ctl.economic_interval_s),
        int(ctl.economic_horizon_steps),
        u_base,
    )
