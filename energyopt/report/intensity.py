"""Energy intensity over time: comprehensive energy per tonne of product in a rolling window.

The energy carriers are the ones of the replay's ``comprehensive_energy``
KPI (:func:`energyopt.replay.kpi_spec`: purchased electricity at the GB/T
2589 equivalent 0.1229 kgce/kWh, priced fuels at their heating value, 1 kgce
= 29.3076 MJ), so the curve's end value over the whole period equals the
KPI's energy divided by the product made.  The product flow is the main
product of the plant's producers (:func:`product_variable`); a plant without
one has no intensity curve.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import DataError
from energyopt.report.flows import MODEL_PREFIX

if TYPE_CHECKING:
    from energyopt.plantbuild import BuiltPlant
    from energyopt.report.inputs import RunFile

__all__ = [
    "DEFAULT_WINDOW_S",
    "energy_rate_kgce_s",
    "product_variable",
    "rolling_intensity_kgce_t",
    "run_intensity",
]

#: Length of the rolling window of the energy intensity. [s]
DEFAULT_WINDOW_S = 4 * 3600.0

_KG_PER_T = 1000.0


def product_variable(built: BuiltPlant) -> str | None:
    """Return the model variable of the plant's product flow, ``None`` if it has none.

    The product is the largest nominal ``production_kg_s`` of the in-service
    producer units (on the steelworks demo the converters' crude steel,
    630 t/h, ahead of hot metal and coke), the basis of the tonne-of-steel
    intensity (吨钢综合能耗).

    Parameters
    ----------
    built : BuiltPlant
        The plant.

    Returns
    -------
    str or None
        For example ``"converters.production_kg_s"``. [kg/s]
    """
    names = {v.name for v in built.model.disturbances}
    best: tuple[float, str] | None = None
    for unit in built.plant.units:
        variable = f"{unit.name}.production_kg_s"
        nominal = getattr(unit.params, "production_nominal_kg_s", None)
        if variable in names and isinstance(nominal, int | float) and nominal > 0.0:
            candidate = (float(nominal), variable)
            best = candidate if best is None or candidate[0] > best[0] else best
    return None if best is None else best[1]


def energy_rate_kgce_s(
    built: BuiltPlant, values: dict[str, npt.NDArray[np.float64]]
) -> npt.NDArray[np.float64]:
    """Return the comprehensive energy consumption rate of each sample.

    Parameters
    ----------
    built : BuiltPlant
        The plant (its KPI spec names the carriers).
    values : dict of str to numpy.ndarray
        Model variable -> samples in SI (the variables of
        :func:`energy_variables`).

    Returns
    -------
    numpy.ndarray
        Energy rate; NaN where a carrier is missing. [kgce/s]
    """
    from energyopt.data.units import conversion_affine
    from energyopt.kpis.energy import ELECTRICITY_KGCE_PER_KWH

    electricity, fuels = energy_variables(built)
    j_per_kgce, _ = conversion_affine("kgce", "J")
    j_per_kwh, _ = conversion_affine("kWh", "J")
    n = len(next(iter(values.values()))) if values else 0
    rate = np.zeros(n)
    for variable in electricity:
        rate += values[variable] / j_per_kwh * ELECTRICITY_KGCE_PER_KWH
    for variable, lhv_j_nm3 in fuels:
        rate += values[variable] * lhv_j_nm3 / j_per_kgce
    return rate


def energy_variables(built: BuiltPlant) -> tuple[tuple[str, ...], tuple[tuple[str, float], ...]]:
    """Return the energy carriers: electricity purchase variables, (fuel flow, LHV) pairs.

    Parameters
    ----------
    built : BuiltPlant
        The plant.

    Returns
    -------
    electricity : tuple of str
        Purchased electric power variables. [W]
    fuels : tuple of (str, float)
        Fuel flow variable [Nm3/s] and its lower heating value [J/Nm3].
    """
    from energyopt.replay import kpi_spec

    spec = kpi_spec(built)
    fuels = tuple((variable, lhv) for variable, lhv, _price in spec.fuels.values())
    return spec.power_purchased, fuels


def rolling_intensity_kgce_t(
    time_ms: npt.ArrayLike,
    energy_kgce_s: npt.ArrayLike,
    product_kg_s: npt.ArrayLike,
    window_s: float = DEFAULT_WINDOW_S,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Return the energy intensity over a trailing window at the end of each step.

    Each sample is the mean over its step (the KPI convention): the step's
    energy is rate x step; the last step repeats the one before.  The value
    at the end of step ``i`` is the energy of the steps ending in
    ``(t_i - window, t_i]`` over the product of the same steps; before a full
    window has passed, the window starts at the period's start.  Steps with
    a missing value (NaN) add nothing to either sum.

    Parameters
    ----------
    time_ms : array_like
        Sample times, strictly increasing. [ms since epoch]
    energy_kgce_s : array_like
        Comprehensive energy consumption rate. [kgce/s]
    product_kg_s : array_like
        Product flow. [kg/s]
    window_s : float
        Window length. [s]

    Returns
    -------
    time_ms : numpy.ndarray
        End of each step. [ms since epoch]
    intensity : numpy.ndarray
        Energy per tonne of product; NaN where the window made no product. [kgce/t]

    Raises
    ------
    DataError
        If the arrays differ in length, have fewer than two samples, the
        times do not increase or the window is not positive.
    """
    t = np.asarray(time_ms, dtype=np.int64)
    energy = np.asarray(energy_kgce_s, dtype=np.float64)
    product = np.asarray(product_kg_s, dtype=np.float64)
    if not (t.ndim == energy.ndim == product.ndim == 1 and t.size == energy.size == product.size):
        raise DataError("energy intensity: time, energy and product must be 1-D of equal length")
    if t.size < 2:
        raise DataError("energy intensity: needs at least two samples")
    if np.any(np.diff(t) <= 0):
        raise DataError("energy intensity: times must increase strictly")
    if not (np.isfinite(window_s) and window_s > 0.0):
        raise DataError(f"energy intensity: window must be positive, got {window_s!r} s")
    step_s = np.diff(t) / 1000.0
    step_s = np.append(step_s, step_s[-1])
    end_ms = t + np.round(step_s * 1000.0).astype(np.int64)
    cum_energy = np.concatenate(([0.0], np.cumsum(np.nan_to_num(energy * step_s))))
    cum_product_t = np.concatenate(([0.0], np.cumsum(np.nan_to_num(product * step_s)))) / _KG_PER_T
    # Step j lies in the window of step i when end_ms[j] > end_ms[i] - window.
    first = np.searchsorted(end_ms, end_ms - window_s * 1000.0, side="right")
    last = np.arange(1, t.size + 1)
    made_t = cum_product_t[last] - cum_product_t[first]
    used = cum_energy[last] - cum_energy[first]
    with np.errstate(divide="ignore", invalid="ignore"):
        intensity = np.where(made_t > 0.0, used / made_t, np.nan)
    return end_ms, intensity


def run_intensity(
    built: BuiltPlant, run: RunFile, window_s: float = DEFAULT_WINDOW_S
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Return a run's rolling energy intensity from its result file.

    Parameters
    ----------
    built : BuiltPlant
        The plant of the run's project.
    run : RunFile
        The result file (model variables as ``model.<name>`` in SI).
    window_s : float
        Window length. [s]

    Returns
    -------
    time_ms : numpy.ndarray
        End of each step. [ms since epoch]
    intensity : numpy.ndarray
        :func:`rolling_intensity_kgce_t`. [kgce/t]

    Raises
    ------
    DataError
        If the plant has no product flow or no energy carrier, or the file
        lacks one of their variables.
    """
    from energyopt.data import HistorianReader

    product = product_variable(built)
    if product is None:
        raise DataError("the plant has no product flow (no producer with a production rate)")
    electricity, fuels = energy_variables(built)
    carriers = [*electricity, *(variable for variable, _ in fuels)]
    if not carriers:
        raise DataError("the plant has no priced energy carrier (grid purchase or fuel)")
    needed = [*carriers, product]
    with HistorianReader(run.path) as reader:
        missing = [v for v in needed if MODEL_PREFIX + v not in reader.tags]
        if missing:
            raise DataError(f"{run.path}: no model variable {', '.join(missing)}")
        data = reader.read([MODEL_PREFIX + v for v in needed], si=True)
    values = {v: np.asarray(data.values[MODEL_PREFIX + v], dtype=np.float64) for v in needed}
    rate = energy_rate_kgce_s(built, {v: values[v] for v in carriers})
    return rolling_intensity_kgce_t(data.time_ms, rate, values[product], window_s)
