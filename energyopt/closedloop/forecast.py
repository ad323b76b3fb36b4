"""The causal forecast of the steelworks closed-loop comparison (the ``mpc_forecast`` controller).

:func:`steelworks_forecast_source` is the ``forecast_factory`` of
:func:`energyopt.closedloop.steelworks.run_steelworks`: it gives the economic
MPC the forecast a deployed controller would have -- the causal profile+ARX
forecast of :func:`energyopt.controlbuild.causal.causal_forecast_source`, fed
with what the works' sensors record:

* a *training history* before the scenario start (``[controller.forecast]
  training_s``, rounded up to whole weeks): the demo history machinery
  (:func:`energyopt.demos.history.clean_history` and
  :func:`~energyopt.demos.history.add_sensor_noise`) with another seed, its
  clock shifted back by whole weeks so that it ends one sample before the
  scenario start.  The truth profiles depend on the local time of day and the
  weekday only, so a whole-week shift keeps them in phase with the
  timestamps (the site's zone, Asia/Shanghai, has no daylight saving);
* the *scenario period itself* as the sensors record it: the same machinery
  with the scenario's own seed reruns the truth simulation the scenario was
  cut from (identical disturbances, checked), maps it to the bound tags
  (:func:`energyopt.demos.steelworks_history.record_history`) and adds sensor
  noise; the causal source reads it only strictly before each decision time.

The scenario period is recorded under the rule-based dispatch (the run the
scenario was cut from), not under the MPC being evaluated: the forecast
reads the plant *disturbances* back from the tags, which is exact for any
controller as long as the consumers are not curtailed (the dispatch never
curtails them on the demo).  The training history and the scenario are two
realisations of the profiles, so the record has a seam at the scenario start
(the production plan and the holder levels jump); the ARX part forgets it
within its order (1.5 h at 15 min).

The closed-loop harness counts time from the scenario start
(:data:`energyopt.demos.history.DEMO_START_MS`, the clock of
:func:`~energyopt.closedloop.steelworks.build_steelworks_scenario`); the
returned source turns that into the epoch time the causal forecast works in.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import ModelError

if TYPE_CHECKING:
    from controllers.economic import EconomicMPCSettings, HorizonInputs
    from energyopt.closedloop.steelworks import SteelworksScenario
    from energyopt.controlbuild.causal import CausalForecastSource
    from energyopt.controlbuild.forecast import EconomicHorizon
    from energyopt.controlbuild.record import DisturbanceRecord

__all__ = [
    "HISTORY_SEED_OFFSET",
    "ScenarioForecastSource",
    "forecast_source_from_record",
    "steelworks_forecast_source",
    "steelworks_sensor_record",
]

_DAY_S = 86_400.0
_WEEK_S = 7.0 * _DAY_S
#: Training history when the project sets no ``[controller.forecast] training_s``. [s]
_DEFAULT_TRAINING_S = 14.0 * _DAY_S
#: The training history's seed is the scenario's plus this (another realisation).
HISTORY_SEED_OFFSET = 7919
#: Relative tolerance of the check that the rerun truth is the scenario's:
#: the bound heating values go through the tag's affine unit conversion and
#: back (a few ulp). [-]
_SAME_RUN_RTOL = 1e-9


class ScenarioForecastSource:
    """``source(time_s) -> HorizonInputs`` on the closed loop's clock.

    Build it with :func:`steelworks_forecast_source` or
    :func:`forecast_source_from_record`.

    Parameters
    ----------
    causal : CausalForecastSource
        The causal forecast on epoch time.
    start_ms : int
        Epoch time of the closed loop's ``t = 0``. [ms since epoch]

    Attributes
    ----------
    causal : CausalForecastSource
        The wrapped source (its ``refits`` counts the fits).
    start_ms : int
        Epoch time of ``t = 0``. [ms since epoch]
    """

    def __init__(self, causal: CausalForecastSource, start_ms: int) -> None:
        self.causal = causal
        self.start_ms = int(start_ms)

    def horizon(self, time_s: float) -> EconomicHorizon:
        """The full forecast (mean and prediction intervals) at ``time_s``.

        Parameters
        ----------
        time_s : float
            Decision time since the scenario start. [s]

        Returns
        -------
        EconomicHorizon
        """
        return self.causal.horizon(self.start_ms + round(time_s * 1000.0))

    def __call__(self, time_s: float) -> HorizonInputs:
        """Mean horizon inputs at ``time_s`` since the scenario start [s]: a ``ForecastSource``."""
        return self.horizon(time_s).inputs


def _training_weeks(training_s: float | None) -> int:
    """Whole weeks of training history covering ``training_s`` (default 14 d)."""
    span = _DEFAULT_TRAINING_S if training_s is None else float(training_s)
    if not (math.isfinite(span) and span > 0.0):
        raise ModelError(f"steelworks forecast: training_s must be positive, got {span:g}")
    return max(1, math.ceil(span / _WEEK_S - 1e-9))


def _recorded(
    scenario: SteelworksScenario, *, days: float, seed: int
) -> tuple[
    npt.NDArray[np.int64], dict[str, npt.NDArray[np.float64]], dict[str, npt.NDArray[np.float64]]
]:
    """Bound tags of a demo truth run from the demo start: clean, noisy. [tag unit]."""
    from energyopt.demos.history import add_sensor_noise, clean_history

    time_ms, clean = clean_history(
        scenario.project, "steelworks", days=days, step_s=scenario.step_s, seed=seed
    )
    # The demo history's noise stream (demo_history seeds it so too).
    noisy = add_sensor_noise(scenario.project, clean, np.random.default_rng([seed, 1]))
    return time_ms, clean, noisy


def _check_same_run(
    scenario: SteelworksScenario, tags: dict[str, npt.NDArray[np.float64]], seed: int
) -> None:
    """Raise unless the clean rerun has the scenario's disturbances (seed and clock agree)."""
    built = scenario.built
    truth = scenario.truth.disturbances
    for entry in built.bindings.entries:
        if entry.vector != "d":
            continue
        if not np.allclose(
            entry.to_model(tags[entry.tag]), truth[:, entry.index], rtol=_SAME_RUN_RTOL, atol=0.0
        ):
            raise ModelError(
                f"steelworks forecast: the truth rerun with seed {seed} does not reproduce the "
                f"scenario's {entry.name}; pass the seed the scenario was built with"
            )


def steelworks_sensor_record(
    scenario: SteelworksScenario,
    *,
    seed: int = 0,
    training_s: float | None = None,
) -> tuple[DisturbanceRecord, int]:
    """The forecast bindings as the sensors record them: training history, then the scenario.

    Parameters
    ----------
    scenario : SteelworksScenario
        From :func:`~energyopt.closedloop.steelworks.build_steelworks_scenario`.
    seed : int
        The seed the scenario was built with (checked); the training history
        uses ``seed + HISTORY_SEED_OFFSET``.
    training_s : float, optional
        Training history before the start, rounded up to whole weeks; default
        ``[controller.forecast] training_s`` (14 d if unset). [s]

    Returns
    -------
    record : DisturbanceRecord
        Every binding of :func:`energyopt.controlbuild.record.forecast_bindings`,
        in SI, from ``start_ms - weeks`` to the end of the scenario's
        disturbance rows.
    start_ms : int
        Epoch time of the scenario start. [ms since epoch]

    Raises
    ------
    ModelError
        If the rerun truth does not reproduce the scenario (wrong ``seed``) or
        ``training_s`` is not positive.
    """
    from energyopt.controlbuild.record import DisturbanceRecord, forecast_bindings
    from energyopt.demos.history import DEMO_START_MS

    built = scenario.built
    if training_s is None:
        training_s = built.project.controller.forecast.training_s
    weeks = _training_weeks(training_s)
    rows = scenario.truth.disturbances.shape[0]
    period_ms, clean, period = _recorded(scenario, days=rows * scenario.step_s / _DAY_S, seed=seed)
    _check_same_run(scenario, clean, seed)
    history_ms, _, history = _recorded(scenario, days=7.0 * weeks, seed=seed + HISTORY_SEED_OFFSET)
    shift_ms = round(weeks * _WEEK_S * 1000.0)
    time_ms = np.concatenate([history_ms - shift_ms, period_ms])
    values = {
        name: built.bindings[name].to_model(
            np.concatenate([history[built.bindings[name].tag], period[built.bindings[name].tag]])
        )
        for name in forecast_bindings(built)
    }
    return DisturbanceRecord(time_ms, values), int(DEMO_START_MS)


def forecast_source_from_record(
    scenario: SteelworksScenario,
    settings: EconomicMPCSettings,
    record: DisturbanceRecord,
    start_ms: int,
) -> ScenarioForecastSource:
    """The causal forecast source of the scenario on a given record.

    Parameters
    ----------
    scenario : SteelworksScenario
        The scenario (plant, start inputs held over the horizon).
    settings : EconomicMPCSettings
        The MPC's settings; interval and horizon must be the project's
        ``[controller.economic]`` ones the forecast is made on.
    record : DisturbanceRecord
        Recorded forecast bindings in SI (:func:`steelworks_sensor_record`).
    start_ms : int
        Epoch time of the scenario start. [ms since epoch]

    Returns
    -------
    ScenarioForecastSource

    Raises
    ------
    ModelError
        If the settings disagree with the project's economic interval or
        horizon, or the record has too little history before the start.
    """
    from energyopt.controlbuild.causal import causal_forecast_source

    ctl = scenario.project.controller
    if not (
        math.isclose(settings.interval_s, float(ctl.economic_interval_s))
        and settings.horizon == int(ctl.economic_horizon_steps)
    ):
        raise ModelError(
            f"steelworks forecast: the MPC runs {settings.horizon} intervals of "
            f"{settings.interval_s:g} s, the project's forecast "
            f"{int(ctl.economic_horizon_steps)} of {float(ctl.economic_interval_s):g} s"
        )
    causal = causal_forecast_source(scenario.built, record, start_ms=start_ms, u_base=scenario.u0)
    return ScenarioForecastSource(causal, start_ms)


def steelworks_forecast_source(
    scenario: SteelworksScenario,
    settings: EconomicMPCSettings,
    *,
    seed: int = 0,
    training_s: float | None = None,
) -> ScenarioForecastSource:
    """The ``forecast_factory`` of the steelworks comparison: a causal forecast source.

    Parameters
    ----------
    scenario : SteelworksScenario
        From :func:`~energyopt.closedloop.steelworks.build_steelworks_scenario`.
    settings : EconomicMPCSettings
        The MPC's settings (interval and horizon checked against the project).
    seed : int
        The seed the scenario was built with.
    training_s : float, optional
        Training history before the start (whole weeks); default the
        project's ``[controller.forecast] training_s``. [s]

    Returns
    -------
    ScenarioForecastSource
        ``source(time_s) -> HorizonInputs`` with ``time_s`` counted from the
        scenario start, as the closed-loop harness does. [s]

    Raises
    ------
    ModelError
        See :func:`steelworks_sensor_record` and
        :func:`forecast_source_from_record`.
    """
    record, start_ms = steelworks_sensor_record(scenario, seed=seed, training_s=training_s)
    return forecast_source_from_record(scenario, settings, record, start_ms)
