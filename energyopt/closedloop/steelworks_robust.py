"""The steelworks closed loop's robust causal controllers: back-off MPC and scenario MPC.

Both see the causal forecast of :mod:`energyopt.closedloop.forecast` (its mean
*and* its prediction intervals):

* ``mpc_backoff`` -- the nominal economic MPC whose holder hard limits are
  tightened per interval by the quantiles of the cumulative inflow forecast
  error (:mod:`energyopt.closedloop.backoff`);
* ``mpc_scenario`` -- :class:`controllers.economic.ScenarioEconomicMPC` on the
  forecaster's interval scenarios (``lower``/``mean``/``upper``, gas made and
  gas used in opposite branches: the holders' worst cases), one first move for
  all of them.

:func:`holder_limit_minutes` splits the hard-limit KPI per holder and side.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from energyopt.closedloop.backoff import (
    BackoffForecastSource,
    HolderBackoff,
    holder_inflow_gains,
    holder_volume_per_unit,
)
from energyopt.closedloop.conformal_backoff import ConformalConfig, conformal_source
from energyopt.closedloop.harness import run_closed_loop
from energyopt.closedloop.plant import MeasurementNoise
from energyopt.closedloop.policies import ControllerPolicy
from energyopt.closedloop.steelworks import AirCompressorRule, StateFromOutputs
from energyopt.errors import ModelError

if TYPE_CHECKING:
    from controllers.economic import EconomicMPCSettings, ScenarioHorizon
    from energyopt.closedloop.forecast import ScenarioForecastSource
    from energyopt.closedloop.policies import Policy
    from energyopt.closedloop.protection import HolderProtection
    from energyopt.closedloop.result import ClosedLoopResult
    from energyopt.closedloop.steelworks import SteelworksScenario

__all__ = [
    "ROBUST_CONTROLLERS",
    "BackoffConfig",
    "IntervalScenarioSource",
    "holder_limit_minutes",
    "run_steelworks_robust",
    "with_band_weight",
]

ROBUST_CONTROLLERS = ("mpc_backoff", "mpc_conformal", "mpc_scenario")
_HOLDERS = ("bfg_holder", "cog_holder", "ldg_holder")


@dataclasses.dataclass(frozen=True)
class BackoffConfig:
    """How the back-off MPC tightens the holders.

    Attributes
    ----------
    holders : dict of str to str
        Holder unit -> its hard-limited variable, whose per-interval lower and
        upper limits (``HorizonInputs.limit_low``/``limit_high``) carry the
        margins.
    level : float
        Prediction-interval level read from the forecast. [-]
    quantile : float or None
        One-sided quantile of the margin (``None``: the interval's, 0.95 at
        level 0.9). [-]
    recourse_intervals : int or None
        Intervals over which the margin grows (``None``: the whole horizon).
    """

    holders: dict[str, str] = dataclasses.field(
        default_factory=lambda: {"ldg_holder": "ldg_holder.level_fraction"}
    )
    level: float = 0.9
    quantile: float | None = None
    recourse_intervals: int | None = 2


class IntervalScenarioSource:
    """``source(time_s) -> ScenarioHorizon``: the forecast's interval scenarios.

    Parameters
    ----------
    source : ScenarioForecastSource
        The causal forecast (mean and intervals).
    level : float
        Interval level of the scenarios. [-]
    reverse_suffix : str
        Disturbances whose names end with it (consumers' demand) take the
        opposite branch: the ``lower`` scenario is little gas made *and* much
        used.
    """

    def __init__(
        self,
        source: ScenarioForecastSource,
        *,
        level: float = 0.9,
        reverse_suffix: str = ".demand_fraction",
    ) -> None:
        self.source = source
        self.level = level
        self.reverse_suffix = reverse_suffix

    def __call__(self, time_s: float) -> ScenarioHorizon:
        """The scenario horizon at ``time_s`` since the scenario start. [s]."""
        from controllers.economic import ScenarioHorizon

        horizon = self.source.horizon(time_s)
        sets = {
            name: fc.scenarios("interval", level=self.level)
            for name, fc in horizon.forecasts.items()
        }
        if not sets:
            base = horizon.inputs
            return ScenarioHorizon.from_nominal(base, 3)
        first = next(iter(sets.values()))
        n_s = len(first.labels)
        d = np.repeat(np.asarray(horizon.inputs.d, dtype=np.float64)[None], n_s, axis=0)
        for name, scen in sets.items():
            j = horizon.names.index(name)
            rows = scen.values[::-1] if name.endswith(self.reverse_suffix) else scen.values
            d[:, :, j] = np.clip(rows[:, : d.shape[1]], horizon.low[j], horizon.high[j])
        return ScenarioHorizon(
            d,
            np.asarray(first.weights, dtype=np.float64),
            horizon.inputs.price_per_j,
            horizon.inputs.u_base,
            tuple(first.labels),
        )


def with_band_weight(
    settings: EconomicMPCSettings, variable: str, weight_linear: float
) -> EconomicMPCSettings:
    """Settings with one soft band's linear weight replaced.

    Parameters
    ----------
    settings : EconomicMPCSettings
        The MPC settings.
    variable : str
        The band's variable (``ldg_holder.level_fraction``).
    weight_linear : float
        New L1 weight. [currency / SI unit]

    Returns
    -------
    EconomicMPCSettings

    Raises
    ------
    ModelError
        If no band has that variable.
    """
    if variable not in [b.variable for b in settings.soft_bands]:
        raise ModelError(f"no soft band on {variable}")
    bands = tuple(
        dataclasses.replace(b, weight_linear=weight_linear) if b.variable == variable else b
        for b in settings.soft_bands
    )
    return dataclasses.replace(settings, soft_bands=bands)


def _policy(
    scenario: SteelworksScenario,
    settings: EconomicMPCSettings,
    controller: Any,
    protection: HolderProtection | None = None,
) -> AirCompressorRule:
    built = scenario.built
    inner = ControllerPolicy(
        controller,
        built.model,
        tuple(m.name for m in settings.mvs),
        [m.low for m in settings.mvs],
        [m.high for m in settings.mvs],
        [m.rate for m in settings.mvs],
        interval_s=settings.interval_s,
        measurements=StateFromOutputs(built),
        time_budget_s=settings.max_wall_time_s,
    )
    from energyopt.closedloop.dcs import build_dcs_layer

    # The project's DCS loops under the MPC, as run_steelworks runs them.
    dcs = build_dcs_layer(built, scenario.step_s, "mpc")
    return AirCompressorRule(
        inner, built, scenario.air_demand_m3_s, scenario.step_s, dcs=dcs, protection=protection
    )


def backoff_source(
    scenario: SteelworksScenario,
    settings: EconomicMPCSettings,
    source: ScenarioForecastSource,
    mpc: Any,
    config: BackoffConfig,
) -> BackoffForecastSource:
    """The back-off source of the scenario: gains probed on the MPC's model at the start.

    Parameters
    ----------
    scenario : SteelworksScenario
        The scenario (start state and inputs).
    settings : EconomicMPCSettings
        The MPC's settings.
    source : ScenarioForecastSource
        The causal forecast.
    mpc : EconomicMPC
        The MPC the gains are probed on.
    config : BackoffConfig
        Holders and margin settings.

    Returns
    -------
    BackoffForecastSource

    Raises
    ------
    ModelError
        If a holder's variable has no hard limit in the settings.
    """
    start = source.horizon(0.0)
    mv_idx = [scenario.built.index("u", m.name) for m in settings.mvs]
    holders = []
    for holder, variable in config.holders.items():
        limits = [h for h in settings.hard_limits if h.variable == variable]
        if not limits:
            raise ModelError(f"back-off of {holder}: no hard limit on {variable!r} in the settings")
        state, x0, mv = f"{holder}.volume_m3", scenario.truth.x0, scenario.u0[mv_idx]
        gains = holder_inflow_gains(mpc, state, tuple(start.forecasts), x0, mv, start.inputs)
        feeding = {k: v for k, v in gains.items() if abs(v) > 1e-9}
        holders.append(
            HolderBackoff(
                holder,
                feeding,
                variable,
                holder_volume_per_unit(mpc, state, variable, x0, mv, start.inputs),
                max(h.low for h in limits),
                min(h.high for h in limits),
            )
        )
    return BackoffForecastSource(
        source,
        tuple(holders),
        settings.interval_s,
        level=config.level,
        quantile=config.quantile,
        recourse_intervals=config.recourse_intervals,
    )


def run_steelworks_robust(
    scenario: SteelworksScenario,
    controller: str,
    *,
    days: float,
    forecast_factory: Callable[[SteelworksScenario, EconomicMPCSettings], Any],
    settings: EconomicMPCSettings | None = None,
    backoff: BackoffConfig | None = None,
    n_scenarios: int = 3,
    progress: Callable[[int, int, str], None] | None = None,
    protection: HolderProtection | None = None,
    wrap: Callable[[Policy], Policy] | None = None,
    conformal: ConformalConfig | None = None,
    report: Callable[[str], None] | None = None,
) -> ClosedLoopResult:
    """Run ``mpc_backoff`` or ``mpc_scenario`` on the scenario for ``days``.

    Parameters
    ----------
    scenario : SteelworksScenario
        From :func:`~energyopt.closedloop.steelworks.build_steelworks_scenario`.
    controller : {"mpc_backoff", "mpc_scenario"}
        Which controller.
    days : float
        Length of the run. [d]
    forecast_factory : callable
        ``(scenario, settings) -> ScenarioForecastSource`` (mean and intervals).
    settings : EconomicMPCSettings, optional
        Default from the project (:func:`energyopt.controlbuild.economic_settings`).
    backoff : BackoffConfig, optional
        For ``mpc_backoff`` (default :class:`BackoffConfig()`).
    n_scenarios : int
        Scenarios of ``mpc_scenario`` (3 for interval scenarios).
    progress : callable, optional
        ``progress(done, total, message)``.
    protection : HolderProtection, optional
        Holder-level overrides of the DCS layer (as for every controller).
    wrap : callable, optional
        ``wrap(policy) -> policy`` around the controller as the harness sees it.
    conformal : ConformalConfig, optional
        For ``mpc_conformal`` (default :class:`ConformalConfig()`).
    report : callable, optional
        Receives a line per calibrated holder of ``mpc_conformal`` (margins,
        held-out coverage).

    Returns
    -------
    ClosedLoopResult

    Raises
    ------
    ModelError
        For an unknown controller name.
    """
    from controllers.economic import EconomicMPC, ScenarioEconomicMPC

    built = scenario.built
    if settings is None:
        from energyopt.controlbuild import economic_settings

        settings = economic_settings(scenario.project, built)
    source = forecast_factory(scenario, settings)
    controller_obj: Any
    if controller == "mpc_backoff":
        mpc = EconomicMPC(built.model, built.parameters(), settings)
        mpc.forecast = backoff_source(scenario, settings, source, mpc, backoff or BackoffConfig())
        controller_obj = mpc
    elif controller == "mpc_conformal":
        mpc = EconomicMPC(built.model, built.parameters(), settings)
        backed = conformal_source(scenario, settings, source, mpc, conformal or ConformalConfig())
        if report is not None:
            for variable, (cal, low, high) in backed.margins.items():
                report(f"{cal.summary()}; {variable} hard limits [{low:g}, {high:g}]")
        mpc.forecast = backed
        controller_obj = mpc
    elif controller == "mpc_scenario":
        controller_obj = ScenarioEconomicMPC(
            built.model,
            built.parameters(),
            # Its multi-stage NLP plans every interval at the control interval.
            dataclasses.replace(settings, grid=()),
            n_scenarios=n_scenarios,
            robust_horizon=1,
            forecast=IntervalScenarioSource(source),
        )
    else:
        raise ModelError(
            f"closed loop: unknown robust controller {controller!r}; choose "
            f"{' or '.join(ROBUST_CONTROLLERS)}"
        )
    n_steps = round(days * 86_400.0 / scenario.step_s)
    n_steps -= n_steps % round(settings.interval_s / scenario.step_s)
    kwargs: dict[str, Any] = {}
    if progress is not None:
        kwargs["progress"] = progress
    policy: Any = _policy(scenario, settings, controller_obj, protection)
    return run_closed_loop(
        scenario.truth,
        policy if wrap is None else wrap(policy),
        scenario.u0,
        noise=MeasurementNoise(relative_std=scenario.noise_relative_std, seed=1),
        n_steps=n_steps,
        **kwargs,
    )


def holder_limit_minutes(
    scenario: SteelworksScenario, result: ClosedLoopResult
) -> dict[str, float]:
    """Minutes below the lower and above the upper hard limit, per holder.

    Parameters
    ----------
    scenario : SteelworksScenario
        The scenario (the holder-level bindings carry the hard limits in %).
    result : ClosedLoopResult
        The run.

    Returns
    -------
    dict
        ``<holder>_below_hard_min`` and ``<holder>_above_hard_min``. [min]
    """
    from energyopt.kpis import holder_time_outside_hard_min

    bindings = {b.variable: b for b in scenario.project.bindings.values()}
    out = {}
    for holder in _HOLDERS:
        hard = bindings[f"{holder}.level_fraction"].hard
        level: npt.NDArray[np.float64] = result.series(f"{holder}.level_fraction")
        lo, hi = (None, None) if hard is None else (hard[0] / 100.0, hard[1] / 100.0)
        step = scenario.step_s
        out[f"{holder}_below_hard_min"] = holder_time_outside_hard_min(level, lo, None, step)
        out[f"{holder}_above_hard_min"] = holder_time_outside_hard_min(level, None, hi, step)
    return out
