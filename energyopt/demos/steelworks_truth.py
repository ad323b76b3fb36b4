"""The steelworks "truth": the project's plant with perturbed parameters, run by today's dispatch.

The truth plant is the composed project model with the parameters of
:data:`TRUTH_PERTURBATIONS` changed -- what a real works differs from its
design data by, and what calibration has to find.  It is driven by the
profiles of :mod:`energyopt.demos.steelworks_profiles` and operated, interval
by interval, by the rule-based dispatch of
:class:`controllers.baselines.SteelworksDispatch` built from the *nominal*
plant, acting on noisy measurements.

Closed loop: each interval the measured outputs (true outputs plus sensor
noise) go to the dispatch, its inputs are held while
:func:`plant_models.core.simulate.simulate` integrates the plant (RK4 with
sub-steps).  Stepping with ``simulate`` costs about 0.3 ms an interval
(a week at one minute in a few seconds); a closed loop compiled in one numba
kernel would need the dispatch rules rewritten in the equations-once
convention, and would tie the baseline to numba while the MPC comparison
needs it behind the ``step(t_s, y_meas) -> u`` interface.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from controllers.baselines import DispatchSettings, GasNetworkRule, SteelworksDispatch
from energyopt.demos.steelworks_profiles import Profiles, steelworks_disturbances
from energyopt.errors import ModelError
from energyopt.plantbuild import BuiltPlant
from plant_models.core.equations import to_numba
from plant_models.core.errors import SimulationError
from plant_models.core.simulate import simulate

__all__ = [
    "TRUTH_PERTURBATIONS",
    "Perturbation",
    "TruthRun",
    "run_truth",
    "steelworks_dispatch",
    "truth_parameters",
]

#: Integration sub-steps per one-minute interval: RK4 at 5 s, stable and
#: accurate for the fastest lag of the plant (reducing stations, 5 s).
SUBSTEPS_PER_MINUTE = 12
#: Relative sensor noise on what the dispatch measures. [1]
DISPATCH_NOISE = 0.002


@dataclass(frozen=True)
class Perturbation:
    """One truth parameter that differs from the project's nominal value.

    Attributes
    ----------
    parameter : str
        Plant parameter name ``<unit>.<field>``.
    scale : float
        Factor on the nominal value (1 for none).
    shift : float
        Added after scaling. [SI]
    reason : str
        Why a real plant differs this way.
    """

    parameter: str
    scale: float = 1.0
    shift: float = 0.0
    reason: str = ""


#: How the truth plant differs from the project (calibration has to find these).
TRUTH_PERTURBATIONS: tuple[Perturbation, ...] = (
    Perturbation("boiler_1.efficiency_nominal", shift=-0.015, reason="fouled economiser"),
    Perturbation("boiler_2.efficiency_nominal", shift=-0.015, reason="air heater leakage"),
    Perturbation("boiler_3.efficiency_nominal", shift=-0.010, reason="burner wear"),
    Perturbation("tg_1.specific_work_j_kg", scale=1.03, reason="Willans slope after overhaul"),
    Perturbation("tg_2.specific_work_j_kg", scale=1.03, reason="Willans slope after overhaul"),
    Perturbation("bfg_holder.volume_m3", scale=0.95, reason="piston travel limited"),
    Perturbation("coke_ovens.specific_yield_m3_kg", scale=1.04, reason="coal blend volatiles"),
    Perturbation("blast_furnaces.specific_yield_m3_kg", scale=0.97, reason="lower coke rate"),
)


def truth_parameters(built: BuiltPlant) -> npt.NDArray[np.float64]:
    """Return the truth parameter vector: nominal with :data:`TRUTH_PERTURBATIONS`.

    Parameters
    ----------
    built : BuiltPlant
        The project's plant.

    Raises
    ------
    ModelError
        If a perturbed parameter is not in the plant.
    """
    p = built.parameters().copy()
    for item in TRUTH_PERTURBATIONS:
        i = built.index("p", item.parameter)
        p[i] = p[i] * item.scale + item.shift
    return p


def steelworks_dispatch(built: BuiltPlant) -> SteelworksDispatch:
    """Return the rule-based dispatch of the steelworks demo plant (nominal parameters).

    Rate and fuel limits come from the manipulated bindings' ``limits`` and
    ``rate_limit_per_min``, converted to SI.
    """
    project = built.project

    def lhv(node: str) -> float:
        return float(project.media[node].lhv_j_m3 or 0.0)

    limits: dict[str, float] = {}
    rates: dict[str, float] = {}
    fuel_nodes = {u.name: tuple(u.connections.get("fuel", ())) for u in built.plant.units}
    for name, entry in built.bindings.items():
        binding = project.bindings[name]
        if entry.vector != "u" or not entry.name.split(".")[1].startswith("fuel_"):
            continue
        unit, var = entry.name.split(".")
        node = fuel_nodes[unit][int(var.split("_")[1])]
        if binding.limits is not None:
            limits[f"{unit}.{node}"] = float(entry.to_model(binding.limits[1]))
        if binding.rate_limit_per_min is not None:
            rate = float(entry.to_model(binding.rate_limit_per_min) - entry.to_model(0.0)) / 60.0
            rates[node] = rates.get(node, 0.0) + rate
    gases = tuple(
        GasNetworkRule(
            node=node,
            holder=f"{node}_holder",
            flare=f"{node}_flare" if f"{node}_flare" in project.units else None,
            lhv_j_m3=lhv(node),
            level_time_s=level_time,
            rate_limit_m3_s2=rates.get(node, np.inf),
            curtail_users=curtail,
        )
        for node, level_time, curtail in (
            ("bfg", 4.0 * 3600.0, ("coke_oven_heating", "hot_stoves")),
            ("cog", 3.0 * 3600.0, ("sinter_and_kilns",)),
            ("ldg", 1800.0, ()),
        )
    )
    settings = DispatchSettings(
        gases=gases,
        boilers=("boiler_1", "boiler_2", "boiler_3"),
        makeup_node="ng",
        makeup_lhv_j_m3=lhv("ng"),
        turbines=("tg_1", "tg_2"),
        hp_header="hp_header",
        mp_header="mp_header",
        lp_header="lp_header",
        prds_hp_mp="prds_hp_mp",
        prds_mp_lp="prds_mp_lp",
        mp_users=("mp_steam_users",),
        lp_users=("lp_steam_users",),
        mixer="gas_mixing",
        mixer_users=("reheating_furnaces",),
        fuel_limits_m3_s=limits,
    )
    return SteelworksDispatch(built.plant, settings)


@dataclass(frozen=True)
class TruthRun:
    """A closed-loop truth simulation on a regular grid.

    Attributes
    ----------
    time_s : numpy.ndarray
        Interval starts, shape ``(N,)``. [s]
    states : numpy.ndarray
        States at the interval starts and the end, shape ``(N + 1, nx)``. [SI]
    inputs, disturbances, outputs : numpy.ndarray
        Per interval, shapes ``(N, nu)``, ``(N, nd)``, ``(N, ny)``; outputs at
        the interval start with that interval's inputs. [SI]
    parameters : numpy.ndarray
        Truth parameter vector. [SI]
    profiles : Profiles
        The driving profiles.
    """

    time_s: npt.NDArray[np.float64]
    states: npt.NDArray[np.float64]
    inputs: npt.NDArray[np.float64]
    disturbances: npt.NDArray[np.float64]
    outputs: npt.NDArray[np.float64]
    parameters: npt.NDArray[np.float64]
    profiles: Profiles


def _initial_state(
    built: BuiltPlant, d0: npt.NDArray[np.float64], p: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    model = built.model
    params = {u.name: u.params for u in built.plant.units}
    x = np.zeros(model.sizes["x"])
    for i, var in enumerate(model.states):
        unit, name = var.name.split(".")
        if name == "pressure_pa":
            x[i] = float(getattr(params[unit], "pressure_nominal_pa"))  # noqa: B009
        elif name == "volume_m3":
            x[i] = 0.5 * p[built.index("p", f"{unit}.volume_m3")]
        elif name == "lhv_mixed_j_m3":
            x[i] = p[built.index("p", f"{unit}.lhv_target_j_m3")]
        elif unit in ("blast_furnaces", "coke_ovens", "converters"):
            x[i] = (
                d0[built.index("d", f"{unit}.production_kg_s")]
                * p[built.index("p", f"{unit}.specific_yield_m3_kg")]
                * p[built.index("p", f"{unit}.recovery_fraction")]
            )
        elif name == "steam_kg_s":
            x[i] = 0.6 * p[built.index("p", f"{unit}.capacity_steam_kg_s")]
    return x


def run_truth(
    built: BuiltPlant,
    *,
    days: float,
    step_s: float = 60.0,
    seed: int = 0,
    start_ms: int,
    warmup_s: float = 6.0 * 3600.0,
) -> TruthRun:
    """Simulate the steelworks truth plant under the rule-based dispatch.

    Parameters
    ----------
    built : BuiltPlant
        The project's plant.
    days : float
        Length. [d]
    step_s : float
        Control and recording interval. [s]
    seed : int
        Seed of every random choice (profiles and sensor noise).
    start_ms : int
        Absolute time of the first interval. [ms since epoch]
    warmup_s : float
        Closed-loop run before the record starts, from a rough initial state
        (discarded). [s]

    Returns
    -------
    TruthRun

    Raises
    ------
    ModelError
        If the simulation diverges (the message gives the time).
    """
    rng = np.random.default_rng(seed)
    model = built.model
    n_warm = round(warmup_s / step_s)
    n = round(days * 86_400.0 / step_s)
    t_all = (np.arange(n_warm + n, dtype=np.float64) - n_warm) * step_s
    profiles = steelworks_disturbances(built, t_all, start_ms, rng)
    p = truth_parameters(built)
    dispatch = steelworks_dispatch(built)
    g = to_numba(model).g
    air_idx = [built.index("u", f"{u}.flow_m3_s") for u in ("air_compressor_1", "air_compressor_2")]
    air_cap = [
        built.parameters()[built.index("p", f"{u}.capacity_m3_s")]
        for u in ("air_compressor_1", "air_compressor_2")
    ]
    substeps = max(1, round(SUBSTEPS_PER_MINUTE * step_s / 60.0))
    x = _initial_state(built, profiles.d[0], p)
    u = np.zeros(model.sizes["u"])
    dispatch.reset(u)
    xs = np.empty((n + 1, x.size))
    us = np.empty((n, u.size))
    ys = np.empty((n, model.sizes["y"]))
    noise = rng.standard_normal((n_warm + n, model.sizes["y"])) * DISPATCH_NOISE
    for k in range(n_warm + n):
        d_k = profiles.d[k]
        y_meas = np.asarray(g(x, u, d_k, p)) * (1.0 + noise[k])
        u = dispatch.step(float(t_all[k]), y_meas)
        # The works' compressed air: the first machine base-loaded, the second trims.
        demand = profiles.air_demand_m3_s[k]
        u[air_idx[0]] = min(demand, air_cap[0])
        u[air_idx[1]] = min(max(demand - air_cap[0], 0.0), air_cap[1])
        try:
            res = simulate(
                model, x, u[None, :], d_k[None, :], p, step_s, substeps=substeps, method="rk4"
            )
        except SimulationError as exc:
            raise ModelError(
                f"steelworks truth simulation failed at t = {t_all[k]:g} s: {exc}"
            ) from None
        if k >= n_warm:
            j = k - n_warm
            xs[j] = x
            us[j] = u
            ys[j] = res.outputs[0]
        x = res.states[1]
    xs[n] = x
    return TruthRun(
        time_s=t_all[n_warm:],
        states=xs,
        inputs=us,
        disturbances=np.ascontiguousarray(profiles.d[n_warm:]),
        outputs=ys,
        parameters=p,
        profiles=dataclasses.replace(
            profiles,
            d=profiles.d[n_warm:],
            air_demand_m3_s=profiles.air_demand_m3_s[n_warm:],
            blowing=profiles.blowing[n_warm:],
        ),
    )
