"""The steelworks closed-loop comparison: rule-based dispatch against the economic MPC.

The truth plant is the demo steelworks with its *truth* parameters
(:func:`energyopt.demos.steelworks_truth.truth_parameters`: efficiencies,
holder volumes and lags perturbed against the project's nominal values, so
every model-based controller runs with model mismatch), driven by the
disturbance profiles of :func:`~energyopt.demos.steelworks_truth.run_truth`
(production, converter-gas pulses, steam and power demand) on a 1-min grid
with RK4 sub-steps, and read through sensors with the history's relative
noise.  The works' compressed air follows its demand every minute in every
run (first machine base-loaded, the second trims: :class:`AirCompressorRule`),
as in the recorded history.

Controllers:

* ``rule_based`` -- :class:`controllers.baselines.SteelworksDispatch`, the
  holder-level-driven dispatch that operated the recorded history (every
  minute).
* ``mpc_perfect`` -- the economic MPC with perfect foresight of the
  disturbances and prices (interval means of the true record): the bound no
  causal controller beats.
* ``mpc_forecast`` -- the same MPC with a causal forecast source
  (``forecast_factory``), i.e. with forecast error.

Both MPCs decide every control interval of the project's economic settings
(15 min) on the nominal model, from a state read off the measured outputs
(:class:`StateFromOutputs`: holder volumes from their levels and the design
volumes, every other state measured directly).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from energyopt.closedloop.harness import run_closed_loop
from energyopt.closedloop.plant import MeasurementNoise, TruthPlant
from energyopt.closedloop.policies import (
    BaselinePolicy,
    ControllerPolicy,
    EveryStepOverlay,
    Policy,
)
from energyopt.errors import ModelError

if TYPE_CHECKING:
    from controllers.economic import EconomicMPCSettings
    from controllers.economic.horizon import ForecastSource
    from energyopt.closedloop.dcs import DcsLayer
    from energyopt.closedloop.protection import HolderProtection
    from energyopt.closedloop.result import ClosedLoopResult
    from energyopt.plantbuild import BuiltPlant
    from energyopt.project import Project

__all__ = [
    "AirCompressorRule",
    "StateFromOutputs",
    "SteelworksScenario",
    "build_steelworks_scenario",
    "run_steelworks",
    "steelworks_kpis",
]

_AIR_UNITS = ("air_compressor_1", "air_compressor_2")
_HOLDERS = ("bfg_holder", "cog_holder", "ldg_holder")


@dataclass(frozen=True)
class SteelworksScenario:
    """Everything a steelworks closed-loop run needs.

    Attributes
    ----------
    project : Project
        The demo project.
    built : BuiltPlant
        Its plant (nominal parameters).
    truth : TruthPlant
        Truth model, parameters, start state and disturbances (1-min grid).
    u0 : numpy.ndarray
        Inputs in force at the start (the dispatch's, after its warm-up). [SI]
    air_demand_m3_s : numpy.ndarray
        Compressed-air demand per fine step. [Nm3/s]
    price_per_j : numpy.ndarray
        Electricity price per fine step. [CNY/J]
    step_s : float
        Fine step. [s]
    noise_relative_std : float
        Relative sensor noise. [1]
    """

    project: Project
    built: BuiltPlant
    truth: TruthPlant
    u0: npt.NDArray[np.float64]
    air_demand_m3_s: npt.NDArray[np.float64]
    price_per_j: npt.NDArray[np.float64]
    step_s: float
    noise_relative_std: float


def build_steelworks_scenario(*, days: float, seed: int = 0) -> SteelworksScenario:
    """Build the demo steelworks scenario over ``days`` (plus an MPC look-ahead).

    Parameters
    ----------
    days : float
        Length of the comparison. [d]
    seed : int
        Seed of the profiles and the sensor noise.

    Returns
    -------
    SteelworksScenario
        The disturbance record is one day longer than ``days`` so that a
        24-h horizon near the end still reads recorded values.
    """
    from energyopt.demos import demo_project_file
    from energyopt.demos.history import DEMO_START_MS
    from energyopt.demos.steelworks_truth import (
        DISPATCH_NOISE,
        SUBSTEPS_PER_MINUTE,
        run_truth,
    )
    from energyopt.plantbuild import build_plant
    from energyopt.project import load_project

    if not days > 0.0:
        raise ModelError(f"steelworks scenario: days must be positive, got {days:g}")
    project = load_project(demo_project_file("steelworks"))
    built = build_plant(project)
    step_s = 60.0
    run = run_truth(built, days=days + 1.0, step_s=step_s, seed=seed, start_ms=DEMO_START_MS)
    n_warm = run.profiles.d.shape[0] - run.time_s.size
    t_ms = DEMO_START_MS + (run.time_s * 1000.0).astype(np.int64)
    truth = TruthPlant(
        built.model,
        run.parameters,
        run.states[0],
        run.disturbances,
        step_s,
        substeps=max(1, round(SUBSTEPS_PER_MINUTE * step_s / 60.0)),
        method="rk4",
    )
    return SteelworksScenario(
        project=project,
        built=built,
        truth=truth,
        u0=run.inputs[0].copy(),
        air_demand_m3_s=np.asarray(run.profiles.air_demand_m3_s[n_warm:], dtype=np.float64),
        price_per_j=np.asarray(built.electricity_price_per_j(t_ms), dtype=np.float64),
        step_s=step_s,
        noise_relative_std=float(DISPATCH_NOISE),
    )


class AirCompressorRule(EveryStepOverlay):
    """Wrap a policy: every fine step the compressors follow the air demand.

    Parameters
    ----------
    inner : Policy
        The energy controller; decides every ``inner.interval_s`` (a whole
        multiple of ``step_s``), its inputs held in between.
    built : BuiltPlant
        The plant (compressor inputs and capacities).
    air_demand_m3_s : numpy.ndarray
        Demand per fine step. [Nm3/s]
    step_s : float
        Fine step, the interval of this policy. [s]
    dcs : DcsLayer, optional
        The project's DCS loops (header pressures), applied every fine step
        on top of the controller's decision (:mod:`energyopt.closedloop.dcs`).
    protection : HolderProtection, optional
        Holder-level overrides after the DCS loops
        (:mod:`energyopt.closedloop.protection`).
    """

    def __init__(
        self,
        inner: Policy,
        built: BuiltPlant,
        air_demand_m3_s: npt.NDArray[np.float64],
        step_s: float,
        *,
        dcs: DcsLayer | None = None,
        protection: HolderProtection | None = None,
    ) -> None:
        super().__init__(inner, step_s, "closed loop", dcs=dcs, protection=protection)
        self._demand = air_demand_m3_s
        p = built.parameters()
        self._idx = [built.index("u", f"{u}.flow_m3_s") for u in _AIR_UNITS]
        self._cap = [float(p[built.index("p", f"{u}.capacity_m3_s")]) for u in _AIR_UNITS]

    def overlay(self, u: npt.NDArray[np.float64], k: int) -> None:
        """First machine base-loaded, the second trims. [Nm3/s]."""
        demand = float(self._demand[min(k, self._demand.size - 1)])
        u[self._idx[0]] = min(demand, self._cap[0])
        u[self._idx[1]] = min(max(demand - self._cap[0], 0.0), self._cap[1])


class StateFromOutputs:
    """Measurement builder: the steelworks state read off its measured outputs.

    Every state but the holder volumes is an output of the same name; a
    holder volume is its measured level times its design volume (the
    nominal parameter: with mismatch, the truth volume differs).

    Parameters
    ----------
    built : BuiltPlant
        The plant with its nominal parameters.
    """

    def __init__(self, built: BuiltPlant) -> None:
        model = built.model
        outputs = [v.name for v in model.outputs]
        p = built.parameters()
        self._index, self._factor = [], []
        for var in model.states:
            unit, name = var.name.split(".", 1)
            if unit in _HOLDERS and name == "volume_m3":
                self._index.append(outputs.index(f"{unit}.level_fraction"))
                self._factor.append(float(p[built.index("p", f"{unit}.volume_m3")]))
            elif var.name in outputs:
                self._index.append(outputs.index(var.name))
                self._factor.append(1.0)
            else:
                raise ModelError(f"closed loop: state {var.name} is not measured")
        self._idx = np.array(self._index, dtype=np.intp)
        self._fac = np.array(self._factor, dtype=np.float64)

    def reset(self, u0: npt.NDArray[np.float64], x0: npt.NDArray[np.float64]) -> None:
        """Nothing to forget."""

    def build(
        self,
        t_s: float,
        y_meas: npt.NDArray[np.float64],
        u_applied: npt.NDArray[np.float64],
        d_now: npt.NDArray[np.float64],
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """Return the state estimate and its finiteness."""
        x = y_meas[self._idx] * self._fac
        return x, np.isfinite(x)


def _mpc_policy(
    scenario: SteelworksScenario,
    settings: EconomicMPCSettings,
    forecast: ForecastSource,
    *,
    dcs: DcsLayer | None = None,
    protection: HolderProtection | None = None,
) -> AirCompressorRule:
    from controllers.economic import EconomicMPC

    built = scenario.built
    mpc = EconomicMPC(built.model, built.parameters(), settings, forecast=forecast)
    inner = ControllerPolicy(
        mpc,
        built.model,
        mpc.mv_names,
        [m.low for m in settings.mvs],
        [m.high for m in settings.mvs],
        [m.rate for m in settings.mvs],
        interval_s=settings.interval_s,
        measurements=StateFromOutputs(built),
        time_budget_s=settings.max_wall_time_s,
    )
    return AirCompressorRule(
        inner, built, scenario.air_demand_m3_s, scenario.step_s, dcs=dcs, protection=protection
    )


def perfect_foresight(scenario: SteelworksScenario, settings: EconomicMPCSettings) -> Any:
    """Return the perfect-foresight horizon source (interval means of the true record)."""
    from controllers.economic import RecordedHorizon

    truth = scenario.truth
    n = truth.disturbances.shape[0]
    time_s = np.arange(n) * scenario.step_s
    return RecordedHorizon.from_fine_record(
        time_s,
        truth.disturbances,
        scenario.price_per_j[:n],
        settings.interval_s,
        settings.horizon,
        scenario.u0,
    )


def run_steelworks(
    scenario: SteelworksScenario,
    controller: str,
    *,
    days: float,
    settings: EconomicMPCSettings | None = None,
    forecast_factory: Callable[[SteelworksScenario, EconomicMPCSettings], Any] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    dcs: bool = True,
    wrap: Callable[[Policy], Policy] | None = None,
    protection: HolderProtection | None = None,
) -> ClosedLoopResult:
    """Run one controller on the scenario for ``days``.

    Parameters
    ----------
    scenario : SteelworksScenario
        From :func:`build_steelworks_scenario`.
    controller : {"rule_based", "mpc_perfect", "mpc_forecast"}
        Which controller.
    days : float
        Length of the run (at most the scenario's length). [d]
    settings : EconomicMPCSettings, optional
        Economic MPC settings; default from the project
        (:func:`energyopt.controlbuild.economic_settings`).
    forecast_factory : callable, optional
        ``(scenario, settings) -> ForecastSource`` for ``mpc_forecast``.
    progress : callable, optional
        ``progress(done, total, message)``.
    dcs : bool
        Run the project's DCS loops (``[controller.dcs]``: header pressure PI
        loops) under the controller, as the replay does: the rule-based
        dispatch as the replay's ``baseline``, the MPCs as ``mpc``.
    wrap : callable, optional
        ``wrap(policy) -> policy`` around the controller as the harness sees
        it (a :class:`~energyopt.closedloop.holder_diagnosis.DecisionRecorder`).
    protection : HolderProtection, optional
        Holder-level overrides of the DCS layer under the controller, the
        same for every controller (:func:`~energyopt.closedloop.protection.steelworks_protection`);
        its :meth:`~energyopt.closedloop.protection.HolderProtection.acted_minutes`
        counts its actions in the run.

    Returns
    -------
    ClosedLoopResult
    """
    from energyopt.closedloop.dcs import build_dcs_layer
    from energyopt.demos.steelworks_truth import steelworks_dispatch

    built = scenario.built
    under = "baseline" if controller == "rule_based" else "mpc"
    layer = build_dcs_layer(built, scenario.step_s, under) if dcs else None
    n_steps = round(days * 86_400.0 / scenario.step_s)
    policy: Policy
    if controller == "rule_based":
        policy = AirCompressorRule(
            BaselinePolicy(steelworks_dispatch(built)),
            built,
            scenario.air_demand_m3_s,
            scenario.step_s,
            dcs=layer,
            protection=protection,
        )
    elif controller in ("mpc_perfect", "mpc_forecast"):
        if settings is None:
            from energyopt.controlbuild import economic_settings

            settings = economic_settings(scenario.project, built)
        if controller == "mpc_perfect":
            source = perfect_foresight(scenario, settings)
        elif forecast_factory is None:
            raise ModelError("closed loop: mpc_forecast needs a forecast_factory")
        else:
            source = forecast_factory(scenario, settings)
        policy = _mpc_policy(scenario, settings, source, dcs=layer, protection=protection)
        n_steps -= n_steps % round(settings.interval_s / scenario.step_s)
    else:
        raise ModelError(
            f"closed loop: unknown steelworks controller {controller!r}; choose "
            "rule_based, mpc_perfect or mpc_forecast"
        )
    kwargs: dict[str, Any] = {}
    if progress is not None:
        kwargs["progress"] = progress
    return run_closed_loop(
        scenario.truth,
        policy if wrap is None else wrap(policy),
        scenario.u0,
        noise=MeasurementNoise(relative_std=scenario.noise_relative_std, seed=1),
        n_steps=n_steps,
        **kwargs,
    )


def steelworks_kpis(scenario: SteelworksScenario, result: ClosedLoopResult) -> dict[str, float]:
    """Return the comparison's KPIs of one run (names with units).

    Energy cost = purchased electricity at the TOU price + natural gas; the
    total adds the flare penalty and the CO2 price of flared gas (the terms
    the economic MPC minimises), all from :mod:`energyopt.kpis`, and the cost
    of the gas users' energy shed (``curtailment_cost_cny``: the DCS
    protection's shedding, priced by each user's ``curtailment_cost_per_j``
    -- the steelshop's natural-gas backup).

    Parameters
    ----------
    scenario : SteelworksScenario
        The scenario the run used (prices, bands).
    result : ClosedLoopResult
        The run.

    Returns
    -------
    dict
        KPI name -> value.
    """
    from energyopt.kpis import energy_cost, flared_gas_nm3, holder_time_outside_hard_min
    from energyopt.kpis.gas import holder_time_outside_band_min

    project = scenario.project
    tariffs = project.tariffs
    step = scenario.step_s
    purchased = result.series("grid.power_purchased_w")
    n = purchased.size
    price_kwh = scenario.price_per_j[:n] * 3.6e6
    ng = tariffs.prices.get("ng") if tariffs is not None else None
    ng_price = float(ng.price_per_m3) if ng is not None and ng.price_per_m3 is not None else 0.0
    cost = energy_cost(
        purchased,
        price_kwh,
        step,
        fuel_flows_nm3_s={"ng": result.series("ng.demand")},
        fuel_prices_per_nm3={"ng": ng_price},
    )
    flared = {
        gas: flared_gas_nm3(result.series(f"{gas}_flare.flow_m3_s"), step) for gas in ("bfg", "cog")
    }
    co2_t = sum(
        float(np.sum(result.series(f"{gas}_flare.co2_kg_s"))) * step / 1000.0
        for gas in ("bfg", "cog")
    )
    penalty = float(tariffs.flare_penalty_per_m3) if tariffs is not None else 0.0
    co2_price = float(tariffs.co2_price_per_t) if tariffs is not None else 0.0
    flare_cost = penalty * sum(flared.values()) + co2_price * co2_t
    shed_cost = sum(
        float(np.sum(result.series(v.name))) * step
        for v in result.model.outputs
        if v.name.endswith(".curtailment_cost_per_s")
    )
    bindings = {b.variable: b for b in project.bindings.values()}
    outside_hard = outside_normal = 0.0
    for holder in _HOLDERS:
        binding = bindings[f"{holder}.level_fraction"]
        if binding.unit != "%":
            raise ModelError(f"steelworks KPIs: {holder} level is bound in {binding.unit!r}, not %")
        level = result.series(f"{holder}.level_fraction")
        hard_lo, hard_hi = _fraction(binding.hard)
        normal_lo, normal_hi = _fraction(binding.normal)
        outside_hard += holder_time_outside_hard_min(level, hard_lo, hard_hi, step)
        outside_normal += holder_time_outside_band_min(level, normal_lo, normal_hi, step)
    out = {
        "energy_cost_cny": float(cost),
        "total_cost_cny": float(cost) + flare_cost + shed_cost,
        "curtailment_cost_cny": shed_cost,
        "purchased_electricity_mwh": float(np.sum(purchased)) * step / 3.6e9,
        "natural_gas_nm3": float(np.sum(result.series("ng.demand"))) * step,
        "flared_bfg_nm3": flared["bfg"],
        "flared_cog_nm3": flared["cog"],
        "flared_total_nm3": sum(flared.values()),
        "holder_outside_hard_min": float(outside_hard),
        "holder_outside_normal_min": float(outside_normal),
    }
    times = result.compute_time_s[result.status > 0]
    if times.size:
        out["solve_median_s"] = float(np.median(times))
        out["solve_p95_s"] = float(np.percentile(times, 95))
    return out


def _fraction(band: Any) -> tuple[float | None, float | None]:
    """A holder-level band of a binding (in %, the tag's unit) as fractions."""
    if band is None:
        return None, None
    lo, hi = band
    return float(lo) / 100.0, float(hi) / 100.0
