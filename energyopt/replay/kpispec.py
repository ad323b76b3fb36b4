"""Which model variables feed which KPI, derived from the project alone.

:func:`kpi_spec` reads the project's structure -- unit types, media, tariffs
and bindings -- never a plant's name:

=========================== ===================================================
KPI input                   from
=========================== ===================================================
electricity bought          ``<grid>.power_purchased_w`` of every ``grid`` unit
                            (a record without it: the grid's net import, or
                            on a site without generation the demand of the
                            grid's electricity node, ``<node>.demand``)
electricity generated       ``<unit>.power_w`` of every unit with a
                            ``power_out`` connection
fuels bought                ``<node>.demand`` of ``fuel_gas`` media with a
                            ``[tariffs.prices.<node>] price_per_m3``; LHV from
                            the node
gas made / flared           ``<unit>.flow_m3_s`` of ``gas_producer`` /
                            ``flare`` units, per node (made only for gases
                            that can be flared)
holder levels               ``<unit>.level_fraction`` of ``gas_holder`` units,
                            bands from their binding (``normal``, ``hard``)
stability, violations       ``normal`` / ``hard`` of ``controlled`` bindings
                            on a plant output or state: the CVs the
                            controllers keep in a band (the soft bands of
                            :func:`energyopt.controlbuild.economic_settings`,
                            the zones of :mod:`energyopt.controlbuild.nmpc`)
MV utilisation              ``limits`` (else ``range``) of ``manipulated``
                            bindings on plant inputs
=========================== ===================================================

Bands are converted to the model's SI units by the binding map (pint), the
price per step from the time-of-use tariff.  :func:`compute_replay_kpis`
maps the spec and a series getter (a simulated run's variables, or the
recorded tags) to :class:`energyopt.kpis.KpiInputs` and calls
:func:`energyopt.kpis.compute_kpis`: nothing is computed twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.replay.energy import ProcessEnergy, energy_kpi_inputs, process_energy

if TYPE_CHECKING:
    from energyopt.closedloop.protection import HolderProtection
    from energyopt.kpis import KpiResult
    from energyopt.plantbuild import BoundVariable, BuiltPlant

__all__ = [
    "ReplayKpiSpec",
    "compute_replay_kpis",
    "key_cv_bindings",
    "kpi_spec",
    "protection_kpi",
]

Band = tuple[float | None, float | None]
SeriesGetter = Callable[[str], "npt.NDArray[np.float64] | None"]


@dataclass(frozen=True)
class ReplayKpiSpec:
    """Model variables behind each KPI of a replay (names; bands in SI).

    Attributes
    ----------
    power_purchased : tuple of str
        Variables of the electric power bought. [W]
    power_import : tuple of str
        Net import of the same grid units (a record may bind this one instead;
        purchase = max(import, 0)). [W]
    power_demand : tuple of str
        Demand of the grids' electricity nodes, the purchase of a site
        without generation when neither of the above is available. [W]
    power_generated : tuple of str
        Variables of the power generated on site. [W]
    fuels : mapping of str to (str, float, float)
        Fuel -> (variable of its flow [Nm3/s], LHV [J/Nm3], price [currency/Nm3]).
    gas_made, gas_flared : mapping of str to tuple of str
        Gas -> variables of the flows made and flared. [Nm3/s]
    holders : mapping of str to (str, Band, Band)
        Holder -> (level variable [1], normal band, hard limits).
    cv_bands, cv_hard : mapping of str to Band
        Key controlled variable -> band, hard limits (:func:`key_cv_bindings`). [SI]
    mv_limits : mapping of str to Band
        Manipulated input -> limits. [SI]
    energy : ProcessEnergy
        Heat carriers (bought steam at its enthalpy, cooling duty) and product
        streams of a process plant (:func:`energyopt.replay.energy.process_energy`);
        empty for energy systems.
    """

    power_purchased: tuple[str, ...] = ()
    power_import: tuple[str, ...] = ()
    power_demand: tuple[str, ...] = ()
    power_generated: tuple[str, ...] = ()
    fuels: Mapping[str, tuple[str, float, float]] = field(default_factory=dict)
    gas_made: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    gas_flared: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    holders: Mapping[str, tuple[str, Band, Band]] = field(default_factory=dict)
    cv_bands: Mapping[str, Band] = field(default_factory=dict)
    cv_hard: Mapping[str, Band] = field(default_factory=dict)
    mv_limits: Mapping[str, Band] = field(default_factory=dict)
    energy: ProcessEnergy = field(default_factory=ProcessEnergy)


def _band(bound: BoundVariable, band: object) -> Band:
    """A ``[lo, hi]`` band in the tag's unit -> (lo, hi) in SI, in order."""
    if band is None:
        return (None, None)
    lo, hi = sorted(float(v) for v in bound.to_model(np.asarray(band, dtype=np.float64)))
    return (lo, hi)


def key_cv_bindings(built: BuiltPlant) -> tuple[str, ...]:
    """Return the bindings whose variables are the key CVs of the stability rate.

    The rule of the controllers (``economic_settings``'s soft bands, the
    NMPC's zone CVs): every ``controlled`` binding with a ``normal`` band on a
    plant output or state, in project order.  The stability rate (GUIDE
    section 5) is the share of samples with all of them inside their bands.

    Parameters
    ----------
    built : BuiltPlant
        The project's plant.

    Returns
    -------
    tuple of str
        Binding names.
    """
    project = built.project
    return tuple(
        name
        for name, binding in project.bindings.items()
        if binding.role == "controlled"
        and binding.normal is not None
        and built.bindings[name].vector in ("x", "y")
    )


def kpi_spec(built: BuiltPlant) -> ReplayKpiSpec:
    """Derive the KPI spec of a project (see the module docstring).

    Parameters
    ----------
    built : BuiltPlant
        The project's plant.

    Returns
    -------
    ReplayKpiSpec
    """
    project = built.project
    names = {v.name for k in ("x", "u", "d", "y") for v in built.model.variables(k)}

    def have(name: str) -> bool:
        return name in names

    units = project.units
    grids = [n for n, u in units.items() if u.type == "grid"]
    purchased = tuple(f"{g}.power_purchased_w" for g in grids if have(f"{g}.power_purchased_w"))
    imported = tuple(f"{g}.power_import_w" for g in grids if have(f"{g}.power_import_w"))
    generated = tuple(
        f"{n}.power_w"
        for n, u in units.items()
        if "power_out" in u.connections
        if have(f"{n}.power_w")
    )
    buses = {units[g].connections.get("power") for g in grids}
    demand = tuple(
        f"{b}.demand" for b in sorted(b for b in buses if isinstance(b, str)) if have(f"{b}.demand")
    )
    fuels: dict[str, tuple[str, float, float]] = {}
    tariffs = project.tariffs
    for node, medium in project.media.items():
        price = tariffs.prices.get(node) if tariffs is not None else None
        if (
            medium.kind == "fuel_gas"
            and price is not None
            and price.price_per_m3 is not None
            and have(f"{node}.demand")
        ):
            lhv = float(medium.lhv_j_m3 or 0.0)
            fuels[node] = (f"{node}.demand", lhv, float(price.price_per_m3))

    def per_node(unit_type: str, port: str) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        for n, u in units.items():
            node = u.connections.get(port)
            if u.type == unit_type and isinstance(node, str) and have(f"{n}.flow_m3_s"):
                out.setdefault(node, []).append(f"{n}.flow_m3_s")
        return {k: tuple(v) for k, v in out.items()}

    flared = per_node("flare", "gas")
    made = {k: v for k, v in per_node("gas_producer", "gas_out").items() if k in flared}
    flared = {k: v for k, v in flared.items() if k in made}
    by_variable = {e.name: e for e in built.bindings.entries}
    holders: dict[str, tuple[str, Band, Band]] = {}
    for n, u in units.items():
        level = f"{n}.level_fraction"
        if u.type == "gas_holder" and level in by_variable:
            bound = by_variable[level]
            binding = project.bindings[bound.binding]
            holders[n] = (level, _band(bound, binding.normal), _band(bound, binding.hard))
    cv_bands: dict[str, Band] = {}
    cv_hard: dict[str, Band] = {}
    mv_limits: dict[str, Band] = {}
    for name in key_cv_bindings(built):
        binding, bound = project.bindings[name], built.bindings[name]
        cv_bands[bound.name] = _band(bound, binding.normal)
        if binding.hard is not None:
            cv_hard[bound.name] = _band(bound, binding.hard)
    for name, binding in project.bindings.items():
        bound = built.bindings[name]
        if binding.role == "manipulated" and bound.vector == "u":
            band = binding.limits or binding.range
            if band is not None:
                mv_limits[bound.name] = _band(bound, band)
    return ReplayKpiSpec(
        power_purchased=purchased,
        power_import=imported,
        power_demand=() if generated else demand,
        power_generated=generated,
        fuels=fuels,
        gas_made=made,
        gas_flared=flared,
        holders=holders,
        cv_bands=cv_bands,
        cv_hard=cv_hard,
        mv_limits=mv_limits,
        energy=process_energy(built),
    )


def _sum(getter: SeriesGetter, names: tuple[str, ...]) -> npt.NDArray[np.float64] | None:
    parts = [getter(n) for n in names]
    if not parts or any(p is None for p in parts):
        return None
    return np.sum([np.asarray(p, dtype=np.float64) for p in parts], axis=0)


def compute_replay_kpis(
    spec: ReplayKpiSpec,
    series: SeriesGetter,
    step_s: float,
    price_per_kwh: npt.ArrayLike,
    *,
    solve_times_s: npt.ArrayLike | None = None,
    control_interval_s: float | None = None,
    missing: npt.NDArray[np.bool_] | None = None,
) -> dict[str, KpiResult]:
    """Compute the KPI set of one run from a series getter.

    Parameters
    ----------
    spec : ReplayKpiSpec
        Which variables feed which KPI.
    series : callable
        ``series(variable) -> array or None`` per fine step, in SI (None: not
        available, the KPIs needing it are skipped).
    step_s : float
        Fine step. [s]
    price_per_kwh : array_like
        Electricity price per step. [currency/kWh]
    solve_times_s : array_like, optional
        Wall-clock time of each decision (a controller run). [s]
    control_interval_s : float, optional
        Control interval, with ``solve_times_s``. [s]
    missing : numpy.ndarray of bool, optional
        Steps to leave out (set NaN in every series): the steps where the
        record itself is missing, so that recorded and simulated runs sum
        over the same steps.

    Returns
    -------
    dict of str to KpiResult
    """
    from energyopt.kpis import KpiInputs, compute_kpis

    def get(name: str) -> npt.NDArray[np.float64] | None:
        value = series(name)
        if value is None:
            return None
        arr = np.array(value, dtype=np.float64)
        if missing is not None:
            arr[missing] = np.nan
        return arr

    purchased = _sum(get, spec.power_purchased)
    if purchased is None and spec.power_import:
        imported = _sum(get, spec.power_import)
        purchased = None if imported is None else np.maximum(imported, 0.0)
    if purchased is None and spec.power_demand:
        purchased = _sum(get, spec.power_demand)
    fuels = {k: (get(v[0]), v[1], v[2]) for k, v in spec.fuels.items()}
    fuels_ok = {k: v for k, v in fuels.items() if v[0] is not None}
    made = {k: _sum(get, v) for k, v in spec.gas_made.items()}
    flared = {k: _sum(get, v) for k, v in spec.gas_flared.items()}
    gases = [k for k in flared if flared[k] is not None and made.get(k) is not None]
    levels = {h: get(v[0]) for h, v in spec.holders.items()}
    holders = [h for h, v in levels.items() if v is not None]
    cvs = {k: get(k) for k in spec.cv_bands}
    cv_ok = [k for k, v in cvs.items() if v is not None]
    mvs = {k: get(k) for k in spec.mv_limits}
    mv_ok = [k for k, v in mvs.items() if v is not None]
    times = None if solve_times_s is None else np.asarray(solve_times_s, dtype=np.float64)
    inputs = KpiInputs(
        step_s=step_s,
        power_purchased_w=purchased,
        price_per_kwh=None if purchased is None else np.asarray(price_per_kwh),
        power_generated_w=_sum(get, spec.power_generated) if spec.power_generated else None,
        fuel_flows_nm3_s={k: v[0] for k, v in fuels_ok.items()},  # type: ignore[misc]
        fuel_lhv_j_nm3={k: v[1] for k, v in fuels_ok.items()},
        fuel_prices_per_nm3={k: v[2] for k, v in fuels_ok.items()},
        gas_made_nm3_s={k: made[k] for k in gases},  # type: ignore[misc]
        gas_flared_nm3_s={k: flared[k] for k in gases},  # type: ignore[misc]
        holder_levels={h: levels[h] for h in holders},  # type: ignore[misc]
        holder_normal={h: spec.holders[h][1] for h in holders if spec.holders[h][1][0] is not None},
        holder_hard={h: spec.holders[h][2] for h in holders if spec.holders[h][2][0] is not None},
        cv_values={k: cvs[k] for k in cv_ok},  # type: ignore[misc]
        cv_bands={k: spec.cv_bands[k] for k in cv_ok},
        cv_hard={k: spec.cv_hard[k] for k in cv_ok if k in spec.cv_hard},
        mv_values={k: mvs[k] for k in mv_ok},  # type: ignore[misc]
        mv_limits={k: spec.mv_limits[k] for k in mv_ok},
        solve_times_s=times if times is not None and times.size else None,
        control_interval_s=control_interval_s,
        **energy_kpi_inputs(spec.energy, get, step_s),
    )
    return compute_kpis(inputs)


def protection_kpi(protection: HolderProtection, n_steps: int) -> KpiResult:
    """The minutes the DCS holder protection acted in a run (``holder_protection_time``).

    Parameters
    ----------
    protection : HolderProtection
        The run's protection, after the run (its action counts).
    n_steps : int
        Fine steps of the run.

    Returns
    -------
    KpiResult
        Total over holders and sides; detail ``<holder>.cutback`` (low-level
        cut-back and shedding) and ``<holder>.high_override`` (flare opening,
        or firing raised). [min]
    """
    from energyopt.kpis import KpiResult

    minutes = protection.acted_minutes()
    detail: dict[str, float] = {}
    for guard in protection.guards:
        detail[f"{guard.holder}.cutback"] = minutes[f"{guard.holder}_cutback_min"]
        detail[f"{guard.holder}.high_override"] = minutes[f"{guard.holder}_high_override_min"]
    return KpiResult("holder_protection_time", float(sum(detail.values())), n_steps, 0, detail)
