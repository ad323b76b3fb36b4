"""The ``mpc_conformal`` controller: holder limits backed off by split-conformal margins.

The nominal economic MPC on the causal mean forecast, with each listed
holder's hard limits tightened in the plan by the margins of
:func:`energyopt.closedloop.holder_margin.calibrate_holder_margin`: the
worst level deviation from the plan over the lead time (1-min resolution,
so a converter pause between two decisions counts), at a high quantile,
calibrated on recorded history the forecaster had not been fitted on and
checked on a later held-out part.

The calibration record is the scenario's sensor record with a longer
history before the start (:func:`energyopt.closedloop.forecast.steelworks_sensor_record`,
another realisation of the same profiles); the calibration forecast is the
closed loop's causal forecast restarted ``calibration_days + test_days``
before the start (fitted on the ``[controller.forecast] training_s`` before
each origin, refitted daily, never reading ahead).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from energyopt.errors import ModelError

if TYPE_CHECKING:
    from controllers.economic import EconomicMPC, EconomicMPCSettings
    from energyopt.closedloop.forecast import ScenarioForecastSource
    from energyopt.closedloop.holder_margin import (
        ConformalBackoffSource,
        HolderMarginCalibration,
    )
    from energyopt.closedloop.steelworks import SteelworksScenario

__all__ = ["ConformalConfig", "calibrate_scenario_margins", "conformal_source"]

_DAY_MS = 86_400_000


@dataclasses.dataclass(frozen=True)
class ConformalConfig:
    """How ``mpc_conformal`` calibrates its holder margins.

    Attributes
    ----------
    holders : dict of str to str
        Holder unit -> its hard-limited variable.
    quantile : float
        Split-conformal coverage of each margin (0.999 needs at least 999
        calibration origins: 10.4 days at 15 min). [-]
    lead_intervals : int
        Lead intervals calibrated; later intervals keep the last margin.
    sides : tuple of str
        Limits backed off in the plan (``"low"`` and/or ``"high"``); the
        other side is left to the DCS layer's protection.
    calibration_days : float
        Calibration part of the history before the test part. [d]
    test_days : float
        Held-out part just before the start, for the coverage check. [d]
    seed : int
        The scenario's seed (its sensor record is rebuilt and checked).
    """

    holders: dict[str, str] = dataclasses.field(
        default_factory=lambda: {"ldg_holder": "ldg_holder.level_fraction"}
    )
    quantile: float = 0.999
    lead_intervals: int = 3
    sides: tuple[str, ...] = ("low",)
    calibration_days: float = 11.0
    test_days: float = 3.0
    seed: int = 0


def calibrate_scenario_margins(
    scenario: SteelworksScenario,
    settings: EconomicMPCSettings,
    mpc: EconomicMPC,
    config: ConformalConfig,
) -> dict[str, tuple[HolderMarginCalibration, float, float]]:
    """Calibrate every configured holder's margins on the scenario's history.

    Parameters
    ----------
    scenario : SteelworksScenario
        The scenario (its seed must be ``config.seed``).
    settings : EconomicMPCSettings
        The MPC settings (interval, horizon, hard limits).
    mpc : EconomicMPC
        The MPC whose model gives the holders' inflow gains and volumes.
    config : ConformalConfig
        Holders, quantile and history parts.

    Returns
    -------
    dict
        Variable -> (calibration, hard low, hard high).

    Raises
    ------
    ModelError
        If a holder's variable has no hard limit in the settings, or the
        calibration part is too short for the quantile.
    """
    import math

    from energyopt.closedloop.backoff import holder_inflow_gains, holder_volume_per_unit
    from energyopt.closedloop.forecast import (
        forecast_source_from_record,
        steelworks_sensor_record,
    )
    from energyopt.closedloop.holder_margin import calibrate_holder_margin

    span_days = config.calibration_days + config.test_days
    if not (config.calibration_days > 0.0 and config.test_days >= 0.0):
        raise ModelError("conformal back-off: calibration_days > 0 and test_days >= 0 needed")
    training_s = scenario.project.controller.forecast.training_s or 14.0 * 86_400.0
    record, start_ms = steelworks_sensor_record(
        scenario, seed=config.seed, training_s=float(training_s) + span_days * 86_400.0
    )
    cal_start = start_ms - round(span_days * _DAY_MS)
    test_start = start_ms - round(config.test_days * _DAY_MS)
    source = forecast_source_from_record(scenario, settings, record, cal_start)
    first = source.horizon(0.0)
    mv_idx = [scenario.built.index("u", m.name) for m in settings.mvs]
    out = {}
    for holder, variable in config.holders.items():
        limits = [h for h in settings.hard_limits if h.variable == variable]
        if not limits:
            raise ModelError(
                f"conformal back-off of {holder}: no hard limit on {variable!r} in the settings"
            )
        state, x0, mv = f"{holder}.volume_m3", scenario.truth.x0, scenario.u0[mv_idx]
        gains = holder_inflow_gains(mpc, state, tuple(first.forecasts), x0, mv, first.inputs)
        feeding = {k: v for k, v in gains.items() if abs(v) > 1e-9}
        volume = holder_volume_per_unit(mpc, state, variable, x0, mv, first.inputs)
        cal = calibrate_holder_margin(
            source,
            record,
            holder,
            feeding,
            volume,
            calibration_ms=(cal_start, test_start),
            test_ms=(test_start, start_ms) if config.test_days > 0.0 else None,
            quantile=config.quantile,
            lead_intervals=config.lead_intervals,
        )
        low = max(h.low for h in limits)
        high = min(h.high for h in limits)
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ModelError(f"conformal back-off of {holder}: {variable} needs finite limits")
        out[variable] = (cal, low, high)
    return out


def conformal_source(
    scenario: SteelworksScenario,
    settings: EconomicMPCSettings,
    source: ScenarioForecastSource,
    mpc: EconomicMPC,
    config: ConformalConfig,
) -> ConformalBackoffSource:
    """The ``mpc_conformal`` forecast: ``source``'s mean with calibrated holder back-offs.

    Parameters
    ----------
    scenario : SteelworksScenario
        The scenario.
    settings : EconomicMPCSettings
        The MPC settings.
    source : ScenarioForecastSource
        The closed loop's causal forecast.
    mpc : EconomicMPC
        The MPC (its model gives gains and volumes).
    config : ConformalConfig
        Holders, quantile and history parts.

    Returns
    -------
    ConformalBackoffSource
        Its ``margins`` hold the calibrations (margins, coverage).

    Raises
    ------
    ModelError
        See :func:`calibrate_scenario_margins`.
    """
    from energyopt.closedloop.holder_margin import ConformalBackoffSource

    margins = calibrate_scenario_margins(scenario, settings, mpc, config)
    return ConformalBackoffSource(source, margins, sides=config.sides)
