"""Compute the whole KPI set of one run from its series: :func:`compute_kpis`.

A workflow (replay, recommend, tune) maps the project's tags to the fields of
:class:`KpiInputs` (SI units, one regular step) and calls :func:`compute_kpis`;
every KPI whose inputs are present is computed with the functions of
:mod:`energyopt.kpis` (nothing is defined twice) and returned as a
:class:`~energyopt.kpis.results.KpiResult` carrying the count of steps left out
because an input was missing.

To compare runs fairly (recorded against simulated), give them the same
missing steps: set NaN in the simulated series where the recorded data is
missing, so each KPI sums over the same steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from energyopt.errors import DataError
from energyopt.kpis._validation import (
    Bound,
    FloatArray,
    as_per_step,
    as_series,
    check_keys,
    check_positive,
    check_same_length,
    valid_mask,
)
from energyopt.kpis.compute_time import compute_time_stats
from energyopt.kpis.control import (
    constraint_violation_integral,
    manual_interventions_per_hour,
    mv_utilisation_pct,
    stability_rate_pct,
)
from energyopt.kpis.energy import (
    ELECTRICITY_KGCE_PER_KWH,
    comprehensive_energy_breakdown_kgce,
    energy_cost_breakdown,
    energy_intensity_kgce_per_t,
    purchased_electricity_mwh,
    self_generation_share_pct,
)
from energyopt.kpis.gas import (
    flared_gas_nm3,
    flaring_rate_pct,
    holder_time_outside_band_min,
    holder_time_outside_hard_min,
)
from energyopt.kpis.registry import KPIS
from energyopt.kpis.results import KpiResult

__all__ = ["KpiInputs", "compute_kpis"]

Band = tuple[Bound | None, Bound | None]
Series = Mapping[str, npt.ArrayLike]


@dataclass(frozen=True)
class KpiInputs:
    """Series of one run, in SI, on one regular step; every field but ``step_s`` optional.

    Attributes
    ----------
    step_s : float
        Step length of every series. [s]
    power_purchased_w, power_exported_w, power_generated_w : array_like, optional
        Electric power bought, sold and generated on site. [W]
    price_per_kwh : float or array_like, optional
        Purchase price (time-of-use, per step). [currency/kWh]
    export_price_per_kwh : float or array_like
        Price received for exports. [currency/kWh]
    fuel_flows_nm3_s : mapping of str to array_like
        Fuel bought -> flow consumed across the plant boundary. [Nm3/s]
    fuel_prices_per_nm3 : mapping of str to float or array_like
        Fuel -> price (needed for the cost when fuels are given). [currency/Nm3]
    fuel_lhv_j_nm3 : mapping of str to float
        Fuel -> lower heating value (needed for the comprehensive energy). [J/Nm3]
    steam_flows_kg_s, steam_enthalpy_j_kg : mapping
        Steam bought -> flow [kg/s] and specific enthalpy [J/kg].
    electricity_kgce_per_kwh : float
        Electricity conversion coefficient. [kgce/kWh]
    output_t : float, optional
        Product made in the period, for the energy intensity. [t]
    gas_made_nm3_s, gas_flared_nm3_s : mapping of str to array_like
        By-product gas -> flow made and flow flared. [Nm3/s]
    holder_levels : mapping of str to array_like
        Gas holder -> level (fraction of its volume). [1]
    holder_normal, holder_hard : mapping of str to (lo, hi)
        Gas holder -> normal band and hard limits. [1]
    cv_values : mapping of str to array_like
        Key controlled variable -> values. [SI unit of the variable]
    cv_bands : mapping of str to (lo, hi)
        CV -> band for the stability rate, same keys as ``cv_values``.
    cv_hard : mapping of str to (lo, hi)
        CV -> hard limits for the constraint-violation integral (a subset of
        ``cv_values``).
    cv_scales : mapping of str to float
        CV -> scale dividing its violation integral before summing; default
        the width of its hard limits. [SI unit of the variable]
    mv_values : mapping of str to array_like
        Manipulated variable -> values. [SI unit]
    mv_limits : mapping of str to (lo, hi)
        MV -> finite limits, same keys as ``mv_values``.
    mv_tol : mapping of str to float
        MV -> tolerance for "at a limit"; default 1 % of its range. [SI unit]
    intervention_flags : array_like of bool, optional
        True where an operator changed a setpoint, shape (N,) or (n_mv, N).
    solve_times_s : array_like, optional
        Wall-clock time of each controller step. [s]
    control_interval_s : float, optional
        Control interval, needed with ``solve_times_s``. [s]
    """

    step_s: float
    power_purchased_w: npt.ArrayLike | None = None
    price_per_kwh: float | npt.ArrayLike | None = None
    power_exported_w: npt.ArrayLike | None = None
    export_price_per_kwh: float | npt.ArrayLike = 0.0
    power_generated_w: npt.ArrayLike | None = None
    fuel_flows_nm3_s: Series = field(default_factory=dict)
    fuel_prices_per_nm3: Mapping[str, float | npt.ArrayLike] = field(default_factory=dict)
    fuel_lhv_j_nm3: Mapping[str, float] = field(default_factory=dict)
    steam_flows_kg_s: Series = field(default_factory=dict)
    steam_enthalpy_j_kg: Mapping[str, float | npt.ArrayLike] = field(default_factory=dict)
    electricity_kgce_per_kwh: float = ELECTRICITY_KGCE_PER_KWH
    output_t: float | None = None
    gas_made_nm3_s: Series = field(default_factory=dict)
    gas_flared_nm3_s: Series = field(default_factory=dict)
    holder_levels: Series = field(default_factory=dict)
    holder_normal: Mapping[str, Band] = field(default_factory=dict)
    holder_hard: Mapping[str, Band] = field(default_factory=dict)
    cv_values: Series = field(default_factory=dict)
    cv_bands: Mapping[str, Band] = field(default_factory=dict)
    cv_hard: Mapping[str, Band] = field(default_factory=dict)
    cv_scales: Mapping[str, float] = field(default_factory=dict)
    mv_values: Series = field(default_factory=dict)
    mv_limits: Mapping[str, Band] = field(default_factory=dict)
    mv_tol: Mapping[str, float] = field(default_factory=dict)
    intervention_flags: npt.ArrayLike | None = None
    solve_times_s: npt.ArrayLike | None = None
    control_interval_s: float | None = None


def _series(inputs: KpiInputs) -> dict[str, FloatArray]:
    """Return every per-step series of ``inputs`` by argument name, checked for one length."""
    kpi = "kpi inputs"
    out: dict[str, FloatArray] = {}
    for name in ("power_purchased_w", "power_exported_w", "power_generated_w"):
        values = getattr(inputs, name)
        if values is not None:
            out[name] = as_series(kpi, name, values)
    for name in (
        "fuel_flows_nm3_s",
        "steam_flows_kg_s",
        "gas_made_nm3_s",
        "gas_flared_nm3_s",
        "holder_levels",
        "cv_values",
        "mv_values",
    ):
        for key, values in getattr(inputs, name).items():
            out[f"{name}[{key!r}]"] = as_series(kpi, f"{name}[{key!r}]", values)
    check_same_length(kpi, out)
    return out


def _total(series: Mapping[str, FloatArray]) -> FloatArray:
    """Return the sum of several series per step (NaN where any of them is NaN)."""
    return np.vstack(list(series.values())).sum(axis=0)


def _missing(n: int, *arrays: FloatArray) -> int:
    return n - int(np.count_nonzero(valid_mask(*arrays))) if arrays else 0


def _energy(inputs: KpiInputs, s: dict[str, FloatArray], n: int) -> list[KpiResult]:
    out: list[KpiResult] = []
    purchased = s.get("power_purchased_w")
    exported = s.get("power_exported_w")
    fuels = [s[f"fuel_flows_nm3_s[{k!r}]"] for k in inputs.fuel_flows_nm3_s]
    steams = [s[f"steam_flows_kg_s[{k!r}]"] for k in inputs.steam_flows_kg_s]
    if purchased is not None and inputs.price_per_kwh is not None:
        cost_arrays = [
            purchased,
            as_per_step("energy_cost", "price_per_kwh", inputs.price_per_kwh, n),
            *fuels,
        ]
        if exported is not None:
            cost_arrays.append(exported)
        parts = energy_cost_breakdown(
            purchased,
            inputs.price_per_kwh,
            inputs.step_s,
            power_exported_w=exported,
            export_price_per_kwh=inputs.export_price_per_kwh,
            fuel_flows_nm3_s=inputs.fuel_flows_nm3_s,
            fuel_prices_per_nm3=inputs.fuel_prices_per_nm3,
        )
        out.append(
            KpiResult("energy_cost", sum(parts.values()), n, _missing(n, *cost_arrays), parts)
        )
    if purchased is not None:
        value = purchased_electricity_mwh(purchased, inputs.step_s)
        out.append(KpiResult("purchased_electricity", value, n, _missing(n, purchased)))
    if purchased is not None and "power_generated_w" in s:
        generated = s["power_generated_w"]
        share = self_generation_share_pct(generated, purchased, power_exported_w=exported)
        joint = [generated, purchased] + ([exported] if exported is not None else [])
        out.append(KpiResult("self_generation_share", share, n, _missing(n, *joint)))
    carriers = [a for a in (purchased, exported) if a is not None] + fuels + steams
    if carriers:
        parts = comprehensive_energy_breakdown_kgce(
            inputs.step_s,
            power_purchased_w=purchased,
            power_exported_w=exported,
            fuel_flows_nm3_s=inputs.fuel_flows_nm3_s,
            fuel_lhv_j_nm3=inputs.fuel_lhv_j_nm3,
            steam_flows_kg_s=inputs.steam_flows_kg_s,
            steam_enthalpy_j_kg=inputs.steam_enthalpy_j_kg,
            electricity_kgce_per_kwh=inputs.electricity_kgce_per_kwh,
        )
        total = sum(parts.values())
        missing = _missing(n, *carriers)
        out.append(KpiResult("comprehensive_energy", total, n, missing, parts))
        if inputs.output_t is not None:
            intensity = energy_intensity_kgce_per_t(total, inputs.output_t)
            out.append(KpiResult("energy_intensity", intensity, n, missing))
    return out


def _gas(inputs: KpiInputs, s: dict[str, FloatArray], n: int) -> list[KpiResult]:
    out: list[KpiResult] = []
    flared = {k: s[f"gas_flared_nm3_s[{k!r}]"] for k in inputs.gas_flared_nm3_s}
    if flared:
        per_gas = {k: flared_gas_nm3(v, inputs.step_s) for k, v in flared.items()}
        missing = _missing(n, *flared.values())
        out.append(KpiResult("flared_gas", sum(per_gas.values()), n, missing, per_gas))
    if inputs.gas_made_nm3_s:
        check_keys(
            "flaring_rate", "gas_made_nm3_s", inputs.gas_made_nm3_s, "gas_flared_nm3_s", flared
        )
        made = {k: s[f"gas_made_nm3_s[{k!r}]"] for k in inputs.gas_made_nm3_s}
        per_gas = {k: flaring_rate_pct(flared[k], made[k]) for k in made}
        # Sum across gases first: a step missing for any gas drops out of the total.
        rate = flaring_rate_pct(_total(flared), _total(made))
        missing = _missing(n, *flared.values(), *made.values())
        out.append(KpiResult("flaring_rate", rate, n, missing, per_gas))
    levels = {k: s[f"holder_levels[{k!r}]"] for k in inputs.holder_levels}
    for key, field_name, func in (
        ("holder_time_outside_band", "holder_normal", holder_time_outside_band_min),
        ("holder_time_outside_hard", "holder_hard", holder_time_outside_hard_min),
    ):
        bands: Mapping[str, Band] = getattr(inputs, field_name)
        if levels and bands:
            check_keys(key, "holder_levels", levels, field_name, bands)
            per_holder = {h: func(levels[h], *bands[h], inputs.step_s) for h in levels}
            missing = _missing(n, *levels.values())
            out.append(KpiResult(key, sum(per_holder.values()), n, missing, per_holder))
    return out


def _scale(name: str, band: Band, scales: Mapping[str, float]) -> float:
    if name in scales:
        return check_positive("constraint_violation", f"cv_scales[{name!r}]", scales[name])
    lo, hi = (np.asarray(b, dtype=np.float64) if b is not None else None for b in band)
    if lo is None or hi is None or lo.ndim or hi.ndim or not np.isfinite(hi - lo) or hi <= lo:
        raise DataError(
            f"constraint_violation: give cv_scales[{name!r}]: its hard limits have no finite "
            "constant width to normalise by"
        )
    return float(hi - lo)


def _control(inputs: KpiInputs, s: dict[str, FloatArray], n: int) -> list[KpiResult]:
    out: list[KpiResult] = []
    cvs = {k: s[f"cv_values[{k!r}]"] for k in inputs.cv_values}
    if cvs and inputs.cv_bands:
        rate = stability_rate_pct(cvs, inputs.cv_bands)
        out.append(
            KpiResult("stability_rate", rate.overall_pct, n, rate.n_excluded, rate.per_variable_pct)
        )
    if inputs.cv_hard:
        unknown = sorted(set(inputs.cv_hard) - set(cvs))
        if unknown:
            raise DataError(f"constraint_violation: cv_hard names {unknown} not in cv_values")
        raw = {
            k: constraint_violation_integral(cvs[k], *band, inputs.step_s)
            for k, band in inputs.cv_hard.items()
        }
        total = sum(
            raw[k] / _scale(k, band, inputs.cv_scales) for k, band in inputs.cv_hard.items()
        )
        missing = _missing(n, *(cvs[k] for k in raw))
        out.append(
            KpiResult(
                "constraint_violation",
                total,
                n,
                missing,
                raw,
                note="detail in each variable's own unit x h",
            )
        )
    mvs = {k: s[f"mv_values[{k!r}]"] for k in inputs.mv_values}
    if mvs:
        check_keys("mv_utilisation", "mv_values", mvs, "mv_limits", inputs.mv_limits)
        per_mv = {
            k: mv_utilisation_pct(v, *inputs.mv_limits[k], tol=inputs.mv_tol.get(k))
            for k, v in mvs.items()
        }
        mean = float(np.mean(list(per_mv.values())))
        out.append(KpiResult("mv_utilisation", mean, n, _missing(n, *mvs.values()), per_mv))
    if inputs.intervention_flags is not None:
        flags = np.asarray(inputs.intervention_flags)
        steps = int(flags.shape[-1]) if flags.ndim else 0
        if steps == 0:
            raise DataError("manual_interventions: intervention_flags is empty")
        if n and steps != n:
            raise DataError(
                f"manual_interventions: intervention_flags has {steps} steps "
                f"but the series have {n}"
            )
        rate_h = manual_interventions_per_hour(steps * inputs.step_s, flags=flags)
        out.append(KpiResult("manual_interventions", rate_h, steps))
    return out


def _compute_time(inputs: KpiInputs) -> list[KpiResult]:
    if inputs.solve_times_s is None:
        return []
    if inputs.control_interval_s is None:
        raise DataError("compute_time_ratio: give control_interval_s with solve_times_s")
    stats = compute_time_stats(inputs.solve_times_s, inputs.control_interval_s)
    n = stats.n_solves + stats.n_missing
    return [
        KpiResult("solve_time_median", stats.median_s, n, stats.n_missing),
        KpiResult("solve_time_p95", stats.p95_s, n, stats.n_missing),
        KpiResult(
            "compute_time_ratio",
            stats.time_ratio,
            n,
            stats.n_missing,
            {"mean_s": stats.mean_s, "max_s": stats.max_s},
        ),
    ]


def compute_kpis(inputs: KpiInputs) -> dict[str, KpiResult]:
    """Return every KPI whose inputs are given, keyed and ordered as the registry.

    Parameters
    ----------
    inputs : KpiInputs
        The run's series and parameters.

    Returns
    -------
    dict of str to KpiResult
        KPI key -> result.  Totals over several items (holders, gases) are sums;
        ``mv_utilisation`` is the mean over MVs; ``detail`` holds the items.

    Raises
    ------
    DataError
        If ``step_s`` is not positive, series differ in length, keys of
        related mappings differ, or any KPI function rejects its input.
    """
    check_positive("kpi inputs", "step_s", inputs.step_s)
    series = _series(inputs)
    n = next((a.size for a in series.values()), 0)
    results = [
        *_energy(inputs, series, n),
        *_gas(inputs, series, n),
        *_control(inputs, series, n),
        *_compute_time(inputs),
    ]
    by_key = {r.key: r for r in results}
    return {key: by_key[key] for key in KPIS if key in by_key}
