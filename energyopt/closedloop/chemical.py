"""The chemical plant's closed-loop scenario: PID-only against the NMPC over days.

Plant
    The demo project's flowsheet (``energyopt/demos/chemical.toml``: Van de
    Vusse CSTR, feed/effluent preheat with steam trim, flash with recycle,
    utilities, five DCS PID loops) with the demo's truth parameters
    (:data:`energyopt.demos.chemical_history.TRUTH_FACTORS`: A -> B kinetics
    3 % slower, jacket heat transfer 8 % and preheater UA 10 % lower).  The
    controllers use the project's *nominal* parameters: that is the model
    mismatch.  SDIRK2 with 5 s sub-steps on a 60 s grid, as the demo history.
Disturbances
    As the demo history (:func:`energyopt.demos.chemical_history.record_history`):
    operating-mode switches every 12-36 h between ``high_throughput`` and
    ``high_selectivity``, the operator's moves of every loop setpoint inside a
    mode every 2-6 h (+-1.5 K on temperatures, +-8 % of span on the level,
    +-6 % on flows; the same schedule law, drawn by the demo's own function),
    fresh-feed temperature with a daily cycle, cooling water warmest in the
    afternoon, motor load, and the truth's fouled heat transfer and slower
    kinetics (constant, as in the history) -- with one deliberate change: the
    **fresh-feed strength**.  The demo's +-60 mol/m3 AR(1) wander leaves the
    product analyser (c_B, band 1.0-1.3 mol/L) inside its band at every
    mode's nominal setpoints -- PID-only would score ~100 % and the
    comparison would test nothing.  A real plant's composition is not under
    PID control and its feed comes in tank batches: here each tank (6-18 h)
    is either the purchased design grade (5.1 +- 0.1 mol/L, 70 % of tanks) or
    a concentrated in-house recovered grade (6.15 +- 0.1 mol/L, 30 %),
    blended into the feed line over about 20 min, with a 0.5 % AR(1) wander.
    On the concentrated grade the nominal setpoints put c_B above 1.3 mol/L
    (steady state 1.31 in high throughput, 1.34 in high selectivity), which
    PID-only cannot see; the NMPC sees it through the analyser and its
    estimated feed-strength disturbance.  The unmeasured feed strength is
    what the EKF's disturbance state estimates (offset-free); the
    controllers know the feed and cooling-water temperatures, the motor load
    and the pump data (measured).
Production plan
    The operator's setpoints per fine step (:attr:`ChemicalScenario.plan`),
    starting on the first mode's nominal setpoints (the hand-over point, the
    initial steady state); the moves begin with the second stretch.
    PID-only runs the loops on them, as the recorded history does; the NMPC
    takes the plan's feed flow as its throughput target and its reactor
    temperature as a loose reference, rests the preheat setpoint on the
    plan's and chooses the other setpoints.
Measurements
    Sensor noise on what the controllers read (:data:`SENSOR_STD`); KPIs are
    computed on the true outputs.
Specific energy
    LP steam (at its enthalpy, :data:`LP_STEAM_ENTHALPY_J_KG`), purchased
    electricity (GB/T 2589 equivalent) and the cooling duty rejected to the
    cooling water (counted as heat, 1 J per J), in kgce, per tonne of
    product (flash liquid, 934.2 kg/m3) -- the comprehensive energy of
    :mod:`energyopt.kpis` with the duty passed as a heat carrier.

Controllers (:mod:`energyopt.closedloop.chemical_control`): PID-only
(:class:`~controllers.baselines.chemical_pid.ChemicalPidBaseline`) and the
NMPC (:class:`~controllers.nmpc.NonlinearMPC`, 60 s, offset-free with an
EKF), both through :class:`~energyopt.closedloop.policies.ControllerPolicy`
with the project's MV limits and rate limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.closedloop.plant import MeasurementNoise, TruthPlant
from energyopt.closedloop.result import KpiSpec
from energyopt.errors import ModelError

if TYPE_CHECKING:
    from energyopt.project import Project
    from plant_models.flowsheet import ComposedModel

__all__ = [
    "CONTROLLED",
    "LP_STEAM_ENTHALPY_J_KG",
    "MANIPULATED",
    "PRODUCT_DENSITY_KG_M3",
    "SENSOR_STD",
    "ChemicalScenario",
    "build_chemical_scenario",
]

#: Specific enthalpy of the site LP steam, 0.5 MPa and 200 degC (IAPWS-IF97: 2855.8 kJ/kg). [J/kg]
LP_STEAM_ENTHALPY_J_KG = 2.8558e6
#: Product (flash liquid) density, the project's 934.2 kg/m3. [kg/m3]
PRODUCT_DENSITY_KG_M3 = 934.2
#: Key controlled variables: binding name -> model output.
CONTROLLED: dict[str, str] = {
    "reactor_conc_b": "reactor.c_b_mol_m3",
    "reactor_temperature": "reactor.t_reactor_k",
    "flash_level": "flash.level_fraction",
}
#: Manipulated variables: binding name -> model input (the PID loops' setpoints).
MANIPULATED: dict[str, str] = {
    "feed_flow_sp": "fic_101.setpoint",
    "reactor_temperature_sp": "tic_102.setpoint",
    "preheat_temperature_sp": "tic_110.setpoint",
    "flash_level_sp": "lic_201.setpoint",
    "flash_steam_sp": "fic_203.setpoint",
}
#: Sensor noise (standard deviation, SI) of what the controllers read: analysers
#: 10-20 mol/m3, thermometers 0.1 K, level 0.5 %, flows about 0.5 % of range.
SENSOR_STD: dict[str, float] = {
    "reactor.c_b_mol_m3": 10.0,
    "reactor.c_a_mol_m3": 20.0,
    "reactor.t_reactor_k": 0.1,
    "reactor.t_jacket_k": 0.1,
    "feed_preheater.t_cold_out_k": 0.1,
    "flash.level_fraction": 0.005,
    "fresh_feed.supply": 2.5e-5,
    "flash.steam_kg_s": 0.002,
    "feed_preheater.steam_kg_s": 0.002,
    "reactor.cooling_water_kg_s": 0.005,
}
#: Fresh-feed grades: (share of tanks, mean, standard deviation) of the A concentration. [mol/m3]
FEED_GRADES: tuple[tuple[float, float, float], ...] = ((0.7, 5100.0, 100.0), (0.3, 6150.0, 100.0))
_DEG_C = 273.15
_DAY_S = 86400.0
#: Fine step of the record and the control interval of both controllers. [s]
STEP_S = 60.0


@dataclass(frozen=True, eq=False)
class ChemicalScenario:
    """Everything both controllers of the comparison share.

    Attributes
    ----------
    project : Project
        The chemical demo project.
    flowsheet : ComposedModel
        Its flowsheet (nominal parameters: the controllers' model).
    plant : TruthPlant
        Truth plant: truth parameters, initial steady state, disturbances.
    u0 : numpy.ndarray
        Input vector in force at the start (the plan's first setpoints). [SI]
    modes : dict
        Mode name -> MV input name -> nominal setpoint. [SI]
    mode_at_step : numpy.ndarray of int
        Index into ``mode_names`` of the production plan per fine step.
    plan : numpy.ndarray, shape (N, n_mv)
        The operator's setpoints per fine step, in ``mv_inputs`` order: the
        mode's nominal values with the operator's moves. [SI]
    plan_segment : numpy.ndarray of int, shape (N,)
        Index of the constant stretch of ``plan`` each fine step belongs to.
    mode_names : tuple of str
        Operating modes.
    mv_inputs : tuple of str
        MV model inputs, in order.
    mv_lower, mv_upper, mv_rate : numpy.ndarray
        MV limits and largest move per control interval (project bindings). [SI]
    cv_bands, cv_hard : dict
        Model output -> normal band and hard limits (project bindings). [SI]
    measured_disturbances : numpy.ndarray of bool
        Which disturbance inputs the controllers measure.
    nominal_disturbances : numpy.ndarray
        What the controllers assume for the unmeasured ones. [SI]
    noise_std : numpy.ndarray
        Sensor noise per output. [SI]
    """

    project: Project
    flowsheet: ComposedModel
    plant: TruthPlant
    u0: npt.NDArray[np.float64]
    modes: dict[str, dict[str, float]]
    mode_at_step: npt.NDArray[np.int64]
    plan: npt.NDArray[np.float64]
    plan_segment: npt.NDArray[np.int64]
    mode_names: tuple[str, ...]
    mv_inputs: tuple[str, ...]
    mv_lower: npt.NDArray[np.float64]
    mv_upper: npt.NDArray[np.float64]
    mv_rate: npt.NDArray[np.float64]
    cv_bands: dict[str, tuple[float, float]]
    cv_hard: dict[str, tuple[float, float]]
    measured_disturbances: npt.NDArray[np.bool_]
    nominal_disturbances: npt.NDArray[np.float64]
    noise_std: npt.NDArray[np.float64]

    def _step(self, t_s: float) -> int:
        return int(min(max(round(t_s / self.plant.step_s), 0), self.mode_at_step.size - 1))

    def plant_mode(self, t_s: float) -> str:
        """Return the production plan's mode at time ``t_s``.

        Parameters
        ----------
        t_s : float
            Time since the start of the run. [s]
        """
        return self.mode_names[int(self.mode_at_step[self._step(t_s)])]

    def plan_setpoints(self, t_s: float) -> dict[str, float]:
        """Return the operator's setpoints at time ``t_s``: MV input -> value. [SI].

        Parameters
        ----------
        t_s : float
            Time since the start of the run. [s]
        """
        row = self.plan[self._step(t_s)]
        return {name: float(v) for name, v in zip(self.mv_inputs, row, strict=True)}

    def plan_segments(self) -> dict[str, dict[str, float]]:
        """Return every constant stretch of the plan: ``"plan<i>"`` -> MV input -> value. [SI]."""
        out: dict[str, dict[str, float]] = {}
        for i in range(int(self.plan_segment[-1]) + 1):
            k = int(np.argmax(self.plan_segment == i))
            out[f"plan{i}"] = dict(zip(self.mv_inputs, map(float, self.plan[k]), strict=True))
        return out

    def plan_segment_name(self, t_s: float) -> str:
        """Return the key of :meth:`plan_segments` in force at time ``t_s``.

        Parameters
        ----------
        t_s : float
            Time since the start of the run. [s]
        """
        return f"plan{int(self.plan_segment[self._step(t_s)])}"

    def noise(self, seed: int) -> MeasurementNoise:
        """Return the sensor noise of the scenario with its own seed."""
        return MeasurementNoise(absolute_std=self.noise_std, seed=seed)

    def kpi_spec(self) -> KpiSpec:
        """Return the KPI inputs: bands, MV limits, energy carriers and product."""
        return KpiSpec(
            cv_bands=dict(self.cv_bands),
            cv_hard=dict(self.cv_hard),
            mv_limits={
                name: (float(lo), float(hi))
                for name, lo, hi in zip(self.mv_inputs, self.mv_lower, self.mv_upper, strict=True)
            },
            power_purchased="grid.power_purchased_w",
            price_per_kwh=0.19,
            steam={
                "lp_steam": ("lp_steam.demand", LP_STEAM_ENTHALPY_J_KG),
                "cooling_duty": ("cooling_water.demand", 1.0),
            },
            product_flow="product.supply",
            product_density_kg_per_unit=PRODUCT_DENSITY_KG_M3,
        )


def _ar1(rng: np.random.Generator, n: int, tau_s: float) -> npt.NDArray[np.float64]:
    """Unit-variance AR(1) noise with correlation time ``tau_s`` on the fine grid."""
    from scipy.signal import lfilter

    phi = math.exp(-STEP_S / tau_s)
    white = rng.standard_normal(n) * math.sqrt(1.0 - phi * phi)
    white[0] = rng.standard_normal()
    return np.asarray(lfilter([1.0], [1.0, -phi], white), dtype=np.float64)


def _feed_strength(rng: np.random.Generator, n: int) -> npt.NDArray[np.float64]:
    """Fresh-feed A concentration: tank batches of two grades, blended, with wander. [mol/m3]."""
    from scipy.signal import lfilter

    tanks = np.empty(n)
    k = 0
    shares = np.array([g[0] for g in FEED_GRADES])
    while k < n:
        end = min(n, k + int(rng.uniform(6.0, 18.0) * 3600.0 / STEP_S))
        grade = FEED_GRADES[int(rng.choice(len(FEED_GRADES), p=shares / shares.sum()))]
        tanks[k:end] = grade[1] + grade[2] * rng.standard_normal()
        k = end
    # Blending in the feed line: first order, 20 min.
    phi = math.exp(-STEP_S / 1200.0)
    blended = lfilter([1.0 - phi], [1.0, -phi], tanks, zi=[phi * tanks[0]])[0]
    return np.asarray(blended * (1.0 + 0.005 * _ar1(rng, n, 2 * 3600.0)), dtype=np.float64)


def _binding_si(project: Project, model_unit: str, binding: str, values: object) -> np.ndarray:
    from energyopt.data.units import convert

    unit = project.bindings[binding].unit
    return convert(np.asarray(values, dtype=np.float64), unit, model_unit)


def build_chemical_scenario(*, days: float, seed: int = 0) -> ChemicalScenario:
    """Build the truth plant, disturbances, modes, limits and bands of the comparison.

    Parameters
    ----------
    days : float
        Length of the disturbance series. [d]
    seed : int
        Seed of the disturbances and the mode schedule.

    Raises
    ------
    ModelError
        If ``days`` is not positive or the initial steady state is not found.
    ProjectError
        If the demo project cannot be built.
    """
    from energyopt.demos import demo_project_file
    from energyopt.demos.chemical_history import (
        TRUTH_FACTORS,
        build_chemical_flowsheet,
        mode_setpoints,
        setpoint_schedule,
    )
    from energyopt.project.loader import load_project
    from plant_models.flowsheet.chemical import simulation_options, steady_state

    if not (math.isfinite(days) and days > 0.0):
        raise ModelError(f"days must be positive, got {days}")
    project = load_project(demo_project_file("chemical"))
    flowsheet = build_chemical_flowsheet(project)
    model = flowsheet.model
    n = max(round(days * _DAY_S / STEP_S), 1)
    rng = np.random.default_rng(seed)
    loop_modes = mode_setpoints(project, flowsheet)
    modes = {
        name: {f"{loop}.setpoint": value for loop, value in sp.items()}
        for name, sp in loop_modes.items()
    }
    mode_names = tuple(modes)

    def col(kind: str, name: str) -> int:
        return model.index(kind, name)

    units = {v.name: v.unit for v in model.variables("y")}
    mv_inputs = tuple(MANIPULATED.values())
    loops = [name.split(".")[0] for name in mv_inputs]
    # The demo history's own schedule law: modes every 12-36 h, operator moves
    # every 2-6 h (one rule, in energyopt.demos.chemical_history).
    plan, mode_at_step = setpoint_schedule(
        rng,
        n,
        STEP_S,
        list(loop_modes.values()),
        {loop: units[project.units[loop].measurement or ""] for loop in loops},
    )
    # Hand-over at the first mode's nominal setpoints: the operator's moves
    # start with the plan's second stretch (a cold first NMPC solve from a
    # moved start took ipopt past its iteration limit).
    first_stretch = int(np.argmax(np.any(plan[1:] != plan[:-1], axis=1))) + 1
    if np.all(plan[1:] == plan[:-1]):
        first_stretch = n
    first_mode = loop_modes[mode_names[int(mode_at_step[0])]]
    plan[:first_stretch] = [first_mode[loop] for loop in loops]
    changed = np.any(plan[1:] != plan[:-1], axis=1)
    plan_segment = np.concatenate(([0], np.cumsum(changed))).astype(np.int64)

    hour = (np.arange(n) * STEP_S / 3600.0) % 24.0
    d = np.zeros((n, len(model.disturbances)))
    d[:, col("d", "fresh_feed.in_c_a_mol_m3")] = _feed_strength(rng, n)
    daily = np.cos(2.0 * math.pi * (hour - 15.0) / 24.0)
    d[:, col("d", "fresh_feed.in_t_k")] = (
        _DEG_C + 25.0 + 4.0 * daily + 1.5 * _ar1(rng, n, 6 * 3600.0)
    )
    d[:, col("d", "reactor.t_cooling_water_k")] = (
        _DEG_C
        + 26.0
        + 3.0 * np.cos(2.0 * math.pi * (hour - 17.0) / 24.0)
        + 0.8 * _ar1(rng, n, 4 * 3600.0)
    )
    pump = project.unit_params("cw_pump")
    d[:, col("d", "cw_pump.static_head_m")] = 5.0
    d[:, col("d", "cw_pump.resistance_s2_m5")] = (
        pump.head_rated_m / pump.flow_rated_m3_s**2  # type: ignore[attr-defined]
    )
    d[:, col("d", "plant_motors.demand_fraction")] = np.clip(
        0.8 + 0.05 * _ar1(rng, n, 3600.0), 0.5, 1.1
    )
    d[:, col("d", "grid.price_per_j")] = 0.19 / 3.6e6
    measured = np.ones(len(model.disturbances), dtype=bool)
    nominal = d[0].copy()
    for name in ("fresh_feed.in_c_a_mol_m3",):
        measured[col("d", name)] = False
        nominal[col("d", name)] = 5100.0

    u0 = np.zeros(len(model.inputs))
    u0[col("u", "cw_pump.speed_fraction")] = 0.9
    u0[col("u", "cooling_tower.fan_speed_fraction")] = 0.8
    for i, name in enumerate(mv_inputs):
        u0[col("u", name)] = plan[0, i]
    lower, upper, rate = [], [], []
    for binding, name in MANIPULATED.items():
        loop = name.split(".")[0]
        unit = units[project.units[loop].measurement or ""]
        lo, hi = project.bindings[binding].limits or (math.nan, math.nan)
        limits = _binding_si(project, unit, binding, [lo, hi])
        per_min = project.bindings[binding].rate_limit_per_min or math.inf
        step = _binding_si(project, unit, binding, [0.0, per_min])
        lower.append(float(limits[0]))
        upper.append(float(limits[1]))
        rate.append(float(step[1] - step[0]) * STEP_S / 60.0)
    bands: dict[str, tuple[float, float]] = {}
    hard: dict[str, tuple[float, float]] = {}
    for binding, name in CONTROLLED.items():
        spec = project.bindings[binding]
        for table, values in ((bands, spec.normal), (hard, spec.hard)):
            if values is None:  # pragma: no cover - the demo project has both
                raise ModelError(f"bindings.{binding}: needs normal and hard limits")
            si = _binding_si(project, units[name], binding, list(values))
            table[name] = (float(si[0]), float(si[1]))
    noise_std = np.zeros(len(model.outputs))
    for name, std in SENSOR_STD.items():
        noise_std[col("y", name)] = std

    p_truth = flowsheet.parameter_vector(
        {
            name: flowsheet.parameters[col("p", name)] * factor
            for name, factor in TRUTH_FACTORS.items()
        }
    )
    try:
        x0 = steady_state(flowsheet, u0, d[0], p=p_truth, settle_s=4 * 3600.0, tol=1e-6)
    except ValueError as exc:
        raise ModelError(f"chemical scenario: no initial steady state: {exc}") from exc
    plant = TruthPlant(
        model=model,
        parameters=p_truth,
        x0=x0,
        disturbances=d,
        step_s=STEP_S,
        # The product's integrator for this plant: RK4 at 2 s (stable to 3.9 s
        # along the demo run; more accurate and cheaper than SDIRK2 at 5 s).
        **simulation_options(STEP_S),
    )
    return ChemicalScenario(
        project=project,
        flowsheet=flowsheet,
        plant=plant,
        u0=u0,
        modes=modes,
        mode_at_step=mode_at_step,
        plan=plan,
        plan_segment=plan_segment,
        mode_names=mode_names,
        mv_inputs=mv_inputs,
        mv_lower=np.array(lower),
        mv_upper=np.array(upper),
        mv_rate=np.array(rate),
        cv_bands=bands,
        cv_hard=hard,
        measured_disturbances=measured,
        nominal_disturbances=nominal,
        noise_std=noise_std,
    )
