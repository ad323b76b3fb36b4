"""A causal forecast source for replays: the economic forecast that never sees the future.

A replay asks the economic MPC what it would have done at each decision
time ``t`` of a recorded period.  Its forecast may use only the record
before ``t``: :func:`causal_forecast_source` wraps
:class:`~energyopt.controlbuild.forecast.EconomicForecast` so that

* before every forecast the forecaster's record is cut to the samples
  strictly before the decision time (a view, no copy), so no code path can
  read a later sample;
* the profile+ARX forecasters are refitted on the record before ``t`` at
  most once per ``refit_every_s`` (a day by default: the daily profiles move
  slowly, and a refit costs tens of milliseconds per disturbance).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import ModelError

if TYPE_CHECKING:
    from controllers.economic import HorizonInputs
    from energyopt.controlbuild.forecast import EconomicForecast, EconomicHorizon
    from energyopt.controlbuild.record import DisturbanceRecord
    from energyopt.plantbuild import BuiltPlant

__all__ = ["CausalForecastSource", "causal_forecast_source"]

_DAY_S = 86_400.0


class CausalForecastSource:
    """``source(time_s) -> HorizonInputs`` using only the record before ``time_s``.

    Build it with :func:`causal_forecast_source`.

    Attributes
    ----------
    forecast : EconomicForecast
        The wrapped forecast (its ``record`` is the cut view after a call).
    refits : int
        Number of fits so far (the first included).
    """

    def __init__(
        self, forecast: EconomicForecast, record: DisturbanceRecord, refit_every_s: float
    ) -> None:
        self.forecast = forecast
        self._full = record
        self._refit_ms = round(refit_every_s * 1000.0)
        self._fitted_ms = int(record.time_ms[0]) - 1
        self.refits = 0

    def _cut(self, time_ms: int) -> None:
        """Give the forecaster the record strictly before ``time_ms``."""
        from energyopt.controlbuild.record import DisturbanceRecord

        t = self._full.time_ms
        k = int(np.searchsorted(t, time_ms, side="left"))
        if k < 1:
            raise ModelError(
                f"causal forecast: no recorded disturbance before {time_ms} ms "
                f"(the record starts at {int(t[0])} ms)"
            )
        self.forecast.record = DisturbanceRecord(
            t[:k], {name: v[:k] for name, v in self._full.values.items()}
        )

    def horizon(self, time_ms: int) -> EconomicHorizon:
        """Forecast the horizon at ``time_ms`` (refitting first when due).

        Parameters
        ----------
        time_ms : int
            Decision time. [ms since epoch]

        Returns
        -------
        EconomicHorizon
        """
        time_ms = int(time_ms)
        self._cut(time_ms)
        if self.refits == 0 or time_ms - self._fitted_ms >= self._refit_ms:
            self.forecast.refit(time_ms)
            self._fitted_ms = time_ms
            self.refits += 1
        return self.forecast.forecast(time_ms)

    def __call__(self, time_s: float) -> HorizonInputs:
        """Mean horizon inputs at ``time_s`` (seconds since epoch): a ``ForecastSource``."""
        return self.horizon(round(time_s * 1000.0)).inputs


def causal_forecast_source(
    built: BuiltPlant,
    record: DisturbanceRecord,
    *,
    start_ms: int,
    refit_every_s: float = _DAY_S,
    u_base: npt.ArrayLike | None = None,
    parameters: npt.ArrayLike | None = None,
) -> CausalForecastSource:
    """Return the causal forecast source of a replay starting at ``start_ms``.

    Parameters
    ----------
    built : BuiltPlant
        The project's plant (``[controller.economic]`` and ``[controller.forecast]``).
    record : DisturbanceRecord
        Recorded disturbance tags in SI, covering history before ``start_ms``
        (``[controller.forecast] training_s`` of it is used) and the period.
    start_ms : int
        First decision time; the first fit uses the record before it. [ms since epoch]
    refit_every_s : float
        Refit at most this often. [s]
    u_base : array_like, optional
        Plant inputs held over the horizon. [SI]
    parameters : array_like, optional
        Parameters the tags are read back with. [SI]

    Returns
    -------
    CausalForecastSource

    Raises
    ------
    ModelError
        If there is no usable history before ``start_ms`` or a forecaster
        cannot be fitted on it.
    """
    from energyopt.controlbuild.forecast import EconomicForecast
    from energyopt.controlbuild.record import DisturbanceRecord

    if not refit_every_s > 0.0:
        raise ModelError(f"causal forecast: refit_every_s must be positive, got {refit_every_s}")
    t = record.time_ms
    k = int(np.searchsorted(t, int(start_ms), side="left"))
    if k < 2:
        raise ModelError(
            f"causal forecast: the record has no history before the replay start ({start_ms} ms); "
            "start the replay later or give the file more history"
        )
    head = DisturbanceRecord(t[:k], {name: v[:k] for name, v in record.values.items()})
    forecast = EconomicForecast(
        built, head, fit_until_ms=int(start_ms), u_base=u_base, parameters=parameters
    )
    source = CausalForecastSource(forecast, record, refit_every_s)
    source._fitted_ms = int(start_ms)
    source.refits = 1
    return source
