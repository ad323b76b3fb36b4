"""Key performance indicators (design guide section 5), each defined once.

Pure numpy functions on regular time series: arrays in SI (W, kg/s, Nm3/s,
J) plus the step length in seconds, one value per step being the mean over
that step, NaN where missing.  Results are in the engineering units of the
registry (MWh, kgce, kgce/t, Nm3, %, min, currency).

Missing data
    Non-finite samples are omitted: sums skip them, shares and ratios drop the
    whole step from numerator and denominator.  A total with no valid step is
    NaN.  :func:`compute_kpis` reports the steps left out for each KPI.

Modules
    :mod:`~energyopt.kpis.energy` (cost, purchased electricity,
    self-generation share, comprehensive energy and intensity),
    :mod:`~energyopt.kpis.gas` (flaring, gas-holder bands),
    :mod:`~energyopt.kpis.control` (stability rate, constraint violation, MV
    utilisation, manual interventions), :mod:`~energyopt.kpis.compute_time`
    (solve-time statistics, BOPTEST ``time_rat``),
    :mod:`~energyopt.kpis.registry` (keys, bilingual names, units, direction),
    :mod:`~energyopt.kpis.results` (:class:`KpiResult`, :class:`KpiReport`),
    :mod:`~energyopt.kpis.compute` (the whole set for one run).

Every invalid input raises :class:`~energyopt.errors.DataError` naming the KPI.
"""

from __future__ import annotations

from energyopt.kpis.compute import KpiInputs, compute_kpis
from energyopt.kpis.compute_time import ComputeTimeStats, compute_time_stats
from energyopt.kpis.control import (
    StabilityRate,
    constraint_violation_integral,
    manual_interventions_per_hour,
    mv_utilisation_pct,
    setpoint_change_flags,
    stability_rate_pct,
)
from energyopt.kpis.energy import (
    ELECTRICITY_KGCE_PER_KWH,
    comprehensive_energy_breakdown_kgce,
    comprehensive_energy_kgce,
    energy_cost,
    energy_cost_breakdown,
    energy_intensity_kgce_per_t,
    purchased_electricity_mwh,
    self_generation_share_pct,
    total_mass_t,
)
from energyopt.kpis.gas import (
    flared_gas_nm3,
    flaring_rate_pct,
    holder_time_outside_band_min,
    holder_time_outside_hard_min,
    time_outside_band_min,
)
from energyopt.kpis.registry import KPIS, Direction, KpiInfo, kpi_info
from energyopt.kpis.results import KpiDifference, KpiReport, KpiResult

__all__ = [
    "ELECTRICITY_KGCE_PER_KWH",
    "KPIS",
    "ComputeTimeStats",
    "Direction",
    "KpiDifference",
    "KpiInfo",
    "KpiInputs",
    "KpiReport",
    "KpiResult",
    "StabilityRate",
    "comprehensive_energy_breakdown_kgce",
    "comprehensive_energy_kgce",
    "compute_kpis",
    "compute_time_stats",
    "constraint_violation_integral",
    "energy_cost",
    "energy_cost_breakdown",
    "energy_intensity_kgce_per_t",
    "flared_gas_nm3",
    "flaring_rate_pct",
    "holder_time_outside_band_min",
    "holder_time_outside_hard_min",
    "kpi_info",
    "manual_interventions_per_hour",
    "mv_utilisation_pct",
    "purchased_electricity_mwh",
    "self_generation_share_pct",
    "setpoint_change_flags",
    "stability_rate_pct",
    "time_outside_band_min",
    "total_mass_t",
]
