"""Energy KPIs: cost, purchased electricity, self-generation share, comprehensive energy.

All inputs are regular series in SI (one value per step of ``step_s`` seconds,
NaN where missing).  A value is the *mean over its step* (rates are resampled
as time-weighted bin means, :mod:`energyopt.data.resample`), so the energy of a
step is exactly ``value * step_s`` and a total is a plain sum: no trapezoid.
Missing steps are omitted (see :mod:`energyopt.kpis._validation`); a total
over no valid step at all is NaN, never a silent zero.

Comprehensive energy consumption (综合能耗) follows GB/T 2589-2020: every
energy carrier crossing the plant boundary is converted to kilograms of
standard coal equivalent, ``1 kgce = 29.3076 MJ``; electricity at the
calorific equivalent coefficient ``0.1229 kgce/kWh`` (电力当量值, that is
3.6 MJ / 29.3076 MJ rounded as the standard prints it), fuels by their lower
heating value and steam by its enthalpy.  Plants that report electricity on
the *equivalent-value* basis (等价值, coal burnt per kWh generated) pass their
coefficient in ``electricity_kgce_per_kwh``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from energyopt.errors import DataError
from energyopt.kpis._validation import (
    FloatArray,
    as_per_step,
    as_series,
    check_keys,
    check_positive,
    check_same_length,
    joules_per,
    valid_mask,
)

__all__ = [
    "ELECTRICITY_KGCE_PER_KWH",
    "comprehensive_energy_breakdown_kgce",
    "comprehensive_energy_kgce",
    "energy_cost",
    "energy_cost_breakdown",
    "energy_intensity_kgce_per_t",
    "purchased_electricity_mwh",
    "self_generation_share_pct",
    "total_mass_t",
]

#: GB/T 2589-2020 calorific equivalent coefficient of electricity. [kgce/kWh]
ELECTRICITY_KGCE_PER_KWH = 0.1229

#: 1 t = 1000 kg (SI definition of the tonne).
_KG_PER_T = 1000.0


def _step_sum(integrand: FloatArray) -> float:
    """Return the sum of the finite entries, NaN if there is none (no silent zero)."""
    finite = np.isfinite(integrand)
    if not finite.any():
        return math.nan
    return float(np.sum(integrand[finite]))


def _series_map(
    kpi: str, name: str, series: Mapping[str, npt.ArrayLike] | None
) -> dict[str, FloatArray]:
    if series is None:
        return {}
    return {key: as_series(kpi, f"{name}[{key!r}]", values) for key, values in series.items()}


def energy_cost_breakdown(
    power_purchased_w: npt.ArrayLike,
    price_per_kwh: float | npt.ArrayLike,
    step_s: float,
    *,
    power_exported_w: npt.ArrayLike | None = None,
    export_price_per_kwh: float | npt.ArrayLike = 0.0,
    fuel_flows_nm3_s: Mapping[str, npt.ArrayLike] | None = None,
    fuel_prices_per_nm3: Mapping[str, float | npt.ArrayLike] | None = None,
) -> dict[str, float]:
    """Return the energy cost of a period split by carrier.

    Parameters
    ----------
    power_purchased_w : array_like
        Electric power bought from the grid, mean over each step. [W]
    price_per_kwh : float or array_like
        Purchase price, one value or one per step (the time-of-use price from
        the project tariff, ``TimeOfUseTariff.price_at``). [currency/kWh]
    step_s : float
        Step length of the series. [s]
    power_exported_w : array_like, optional
        Electric power sold to the grid. [W]
    export_price_per_kwh : float or array_like, optional
        Price received for exported electricity. [currency/kWh]
    fuel_flows_nm3_s : mapping of str to array_like, optional
        Fuel name -> purchased fuel flow (natural gas, ...). [Nm3/s]
    fuel_prices_per_nm3 : mapping of str to float or array_like, optional
        Fuel name -> price, same keys as ``fuel_flows_nm3_s`` (a price per GJ
        becomes one per Nm3 as ``price_per_gj * lhv_j_nm3 / 1e9``). [currency/Nm3]

    Returns
    -------
    dict of str to float
        ``"electricity"``, then ``"electricity_export"`` (a credit, <= 0 for
        non-negative prices) if exports are given, then ``"fuel:<name>"`` per
        fuel. [currency]  A component with no valid step is NaN.

    Raises
    ------
    DataError
        If lengths differ, ``step_s`` is not positive, or fuel keys differ.
    """
    kpi = "energy_cost"
    step = check_positive(kpi, "step_s", step_s)
    j_per_kwh = joules_per("kWh")
    purchased = as_series(kpi, "power_purchased_w", power_purchased_w)
    n = purchased.size
    price = as_per_step(kpi, "price_per_kwh", price_per_kwh, n)
    out = {"electricity": _step_sum(purchased * price * step / j_per_kwh)}
    if power_exported_w is not None:
        exported = as_series(kpi, "power_exported_w", power_exported_w)
        check_same_length(kpi, {"power_purchased_w": purchased, "power_exported_w": exported})
        export_price = as_per_step(kpi, "export_price_per_kwh", export_price_per_kwh, n)
        out["electricity_export"] = -_step_sum(exported * export_price * step / j_per_kwh)
    flows = _series_map(kpi, "fuel_flows_nm3_s", fuel_flows_nm3_s)
    prices = dict(fuel_prices_per_nm3 or {})
    check_keys(kpi, "fuel_flows_nm3_s", flows, "fuel_prices_per_nm3", prices)
    for fuel, flow in flows.items():
        check_same_length(
            kpi, {"power_purchased_w": purchased, f"fuel_flows_nm3_s[{fuel!r}]": flow}
        )
        fuel_price = as_per_step(kpi, f"fuel_prices_per_nm3[{fuel!r}]", prices[fuel], n)
        out[f"fuel:{fuel}"] = _step_sum(flow * fuel_price * step)
    return out


def energy_cost(
    power_purchased_w: npt.ArrayLike,
    price_per_kwh: float | npt.ArrayLike,
    step_s: float,
    *,
    power_exported_w: npt.ArrayLike | None = None,
    export_price_per_kwh: float | npt.ArrayLike = 0.0,
    fuel_flows_nm3_s: Mapping[str, npt.ArrayLike] | None = None,
    fuel_prices_per_nm3: Mapping[str, float | npt.ArrayLike] | None = None,
) -> float:
    """Return the energy cost of a period: electricity at its (time-of-use) price plus fuels.

    ``cost = sum_k P_buy[k] * price[k] * dt / 3.6e6 - sum_k P_sell[k] * price_sell[k] * dt / 3.6e6
    + sum_fuels sum_k V[k] * price_fuel[k] * dt``, over the valid steps of each term.

    Parameters
    ----------
    power_purchased_w : array_like
        Electric power bought from the grid, mean over each step. [W]
    price_per_kwh : float or array_like
        Purchase price, one value or one per step. [currency/kWh]
    step_s : float
        Step length of the series. [s]
    power_exported_w : array_like, optional
        Electric power sold to the grid. [W]
    export_price_per_kwh : float or array_like, optional
        Price received for exported electricity. [currency/kWh]
    fuel_flows_nm3_s : mapping of str to array_like, optional
        Fuel name -> purchased fuel flow. [Nm3/s]
    fuel_prices_per_nm3 : mapping of str to float or array_like, optional
        Fuel name -> price, same keys as ``fuel_flows_nm3_s``. [currency/Nm3]

    Returns
    -------
    float
        Net energy cost; NaN if a component has no valid step. [currency]

    Raises
    ------
    DataError
        See :func:`energy_cost_breakdown`.
    """
    parts = energy_cost_breakdown(
        power_purchased_w,
        price_per_kwh,
        step_s,
        power_exported_w=power_exported_w,
        export_price_per_kwh=export_price_per_kwh,
        fuel_flows_nm3_s=fuel_flows_nm3_s,
        fuel_prices_per_nm3=fuel_prices_per_nm3,
    )
    return float(sum(parts.values()))


def purchased_electricity_mwh(power_purchased_w: npt.ArrayLike, step_s: float) -> float:
    """Return the electricity bought from the grid in a period.

    Parameters
    ----------
    power_purchased_w : array_like
        Electric power bought, mean over each step. [W]
    step_s : float
        Step length of the series. [s]

    Returns
    -------
    float
        Purchased electricity; NaN if no step is valid. [MWh]

    Raises
    ------
    DataError
        If ``step_s`` is not positive or the series is not 1-D numeric.
    """
    kpi = "purchased_electricity"
    step = check_positive(kpi, "step_s", step_s)
    purchased = as_series(kpi, "power_purchased_w", power_purchased_w)
    return _step_sum(purchased * step) / joules_per("MWh")


def self_generation_share_pct(
    power_generated_w: npt.ArrayLike,
    power_purchased_w: npt.ArrayLike,
    *,
    power_exported_w: npt.ArrayLike | None = None,
) -> float:
    """Return the share of the site's electricity use covered by its own generation.

    ``share = (E_gen - E_export) / (E_gen + E_buy - E_export) * 100``, with the
    energies summed over the steps where every given series is valid (the step
    length cancels).  Exports are taken to come from own generation.

    Parameters
    ----------
    power_generated_w : array_like
        Electric power generated on site (gross of exports). [W]
    power_purchased_w : array_like
        Electric power bought from the grid. [W]
    power_exported_w : array_like, optional
        Electric power sold to the grid. [W]

    Returns
    -------
    float
        Self-generation share; NaN if no step is valid or the site used no
        electricity. [%]

    Raises
    ------
    DataError
        If the series differ in length.
    """
    kpi = "self_generation_share"
    generated = as_series(kpi, "power_generated_w", power_generated_w)
    purchased = as_series(kpi, "power_purchased_w", power_purchased_w)
    arrays = {"power_generated_w": generated, "power_purchased_w": purchased}
    if power_exported_w is not None:
        arrays["power_exported_w"] = as_series(kpi, "power_exported_w", power_exported_w)
    n = check_same_length(kpi, arrays)
    exported = arrays.get("power_exported_w", np.zeros(n))
    mask = valid_mask(generated, purchased, exported)
    own = float(np.sum(generated[mask] - exported[mask]))
    used = own + float(np.sum(purchased[mask]))
    if not mask.any() or used <= 0.0:
        return math.nan
    return 100.0 * own / used


def comprehensive_energy_breakdown_kgce(
    step_s: float,
    *,
    power_purchased_w: npt.ArrayLike | None = None,
    power_exported_w: npt.ArrayLike | None = None,
    fuel_flows_nm3_s: Mapping[str, npt.ArrayLike] | None = None,
    fuel_lhv_j_nm3: Mapping[str, float] | None = None,
    steam_flows_kg_s: Mapping[str, npt.ArrayLike] | None = None,
    steam_enthalpy_j_kg: Mapping[str, float | npt.ArrayLike] | None = None,
    electricity_kgce_per_kwh: float = ELECTRICITY_KGCE_PER_KWH,
) -> dict[str, float]:
    """Return the comprehensive energy consumption split by carrier (GB/T 2589).

    Parameters
    ----------
    step_s : float
        Step length of the series. [s]
    power_purchased_w : array_like, optional
        Electric power bought from the grid. [W]
    power_exported_w : array_like, optional
        Electric power delivered outside the plant, subtracted. [W]
    fuel_flows_nm3_s : mapping of str to array_like, optional
        Fuel name -> flow of fuel consumed across the plant boundary. [Nm3/s]
    fuel_lhv_j_nm3 : mapping of str to float, optional
        Fuel name -> lower heating value, same keys. [J/Nm3]
    steam_flows_kg_s : mapping of str to array_like, optional
        Steam name -> flow of steam bought. [kg/s]
    steam_enthalpy_j_kg : mapping of str to float or array_like, optional
        Steam name -> specific enthalpy on the basis the steam is billed, same
        keys. [J/kg]
    electricity_kgce_per_kwh : float, optional
        Conversion coefficient of electricity; default the GB/T 2589
        calorific equivalent 0.1229. [kgce/kWh]

    Returns
    -------
    dict of str to float
        ``"electricity"``, ``"electricity_export"`` (<= 0), ``"fuel:<name>"``,
        ``"steam:<name>"`` for the carriers given. [kgce]

    Raises
    ------
    DataError
        If no carrier is given, lengths or keys differ, ``step_s``, a heating
        value or the coefficient is not positive.
    """
    kpi = "comprehensive_energy"
    step = check_positive(kpi, "step_s", step_s)
    coefficient = check_positive(kpi, "electricity_kgce_per_kwh", electricity_kgce_per_kwh)
    j_per_kgce, j_per_kwh = joules_per("kgce"), joules_per("kWh")
    arrays: dict[str, FloatArray] = {}
    out: dict[str, float] = {}
    for name, values, key, sign in (
        ("power_purchased_w", power_purchased_w, "electricity", 1.0),
        ("power_exported_w", power_exported_w, "electricity_export", -1.0),
    ):
        if values is not None:
            arrays[name] = as_series(kpi, name, values)
            out[key] = sign * _step_sum(arrays[name] * step) / j_per_kwh * coefficient
    fuels = _series_map(kpi, "fuel_flows_nm3_s", fuel_flows_nm3_s)
    lhvs = dict(fuel_lhv_j_nm3 or {})
    check_keys(kpi, "fuel_flows_nm3_s", fuels, "fuel_lhv_j_nm3", lhvs)
    steams = _series_map(kpi, "steam_flows_kg_s", steam_flows_kg_s)
    enthalpies = dict(steam_enthalpy_j_kg or {})
    check_keys(kpi, "steam_flows_kg_s", steams, "steam_enthalpy_j_kg", enthalpies)
    arrays |= {f"fuel_flows_nm3_s[{k!r}]": v for k, v in fuels.items()}
    arrays |= {f"steam_flows_kg_s[{k!r}]": v for k, v in steams.items()}
    if not arrays:
        raise DataError(f"{kpi}: give at least one energy carrier (electricity, fuel or steam)")
    n = check_same_length(kpi, arrays)
    for fuel, flow in fuels.items():
        lhv = check_positive(kpi, f"fuel_lhv_j_nm3[{fuel!r}]", lhvs[fuel])
        out[f"fuel:{fuel}"] = _step_sum(flow * lhv * step) / j_per_kgce
    for steam, flow in steams.items():
        enthalpy = as_per_step(kpi, f"steam_enthalpy_j_kg[{steam!r}]", enthalpies[steam], n)
        out[f"steam:{steam}"] = _step_sum(flow * enthalpy * step) / j_per_kgce
    return out


def comprehensive_energy_kgce(
    step_s: float,
    *,
    power_purchased_w: npt.ArrayLike | None = None,
    power_exported_w: npt.ArrayLike | None = None,
    fuel_flows_nm3_s: Mapping[str, npt.ArrayLike] | None = None,
    fuel_lhv_j_nm3: Mapping[str, float] | None = None,
    steam_flows_kg_s: Mapping[str, npt.ArrayLike] | None = None,
    steam_enthalpy_j_kg: Mapping[str, float | npt.ArrayLike] | None = None,
    electricity_kgce_per_kwh: float = ELECTRICITY_KGCE_PER_KWH,
) -> float:
    """Return the comprehensive energy consumption of a period (综合能耗, GB/T 2589).

    ``E = (E_buy - E_export)[kWh] * c_el + sum_fuels V * LHV / 29.3076e6
    + sum_steam m * h / 29.3076e6``, each carrier summed over its valid steps.

    Parameters
    ----------
    step_s : float
        Step length of the series. [s]
    power_purchased_w : array_like, optional
        Electric power bought from the grid. [W]
    power_exported_w : array_like, optional
        Electric power delivered outside the plant, subtracted. [W]
    fuel_flows_nm3_s : mapping of str to array_like, optional
        Fuel name -> flow of fuel consumed across the plant boundary. [Nm3/s]
    fuel_lhv_j_nm3 : mapping of str to float, optional
        Fuel name -> lower heating value, same keys. [J/Nm3]
    steam_flows_kg_s : mapping of str to array_like, optional
        Steam name -> flow of steam bought. [kg/s]
    steam_enthalpy_j_kg : mapping of str to float or array_like, optional
        Steam name -> specific enthalpy, same keys. [J/kg]
    electricity_kgce_per_kwh : float, optional
        Conversion coefficient of electricity. [kgce/kWh]

    Returns
    -------
    float
        Comprehensive energy consumption; NaN if a carrier has no valid step. [kgce]

    Raises
    ------
    DataError
        See :func:`comprehensive_energy_breakdown_kgce`.
    """
    parts = comprehensive_energy_breakdown_kgce(
        step_s,
        power_purchased_w=power_purchased_w,
        power_exported_w=power_exported_w,
        fuel_flows_nm3_s=fuel_flows_nm3_s,
        fuel_lhv_j_nm3=fuel_lhv_j_nm3,
        steam_flows_kg_s=steam_flows_kg_s,
        steam_enthalpy_j_kg=steam_enthalpy_j_kg,
        electricity_kgce_per_kwh=electricity_kgce_per_kwh,
    )
    return float(sum(parts.values()))


def energy_intensity_kgce_per_t(energy_kgce: float, output_t: float) -> float:
    """Return the comprehensive energy consumption per tonne of product (单位产品综合能耗).

    For a steelworks with crude steel as the product this is 吨钢综合能耗.

    Parameters
    ----------
    energy_kgce : float
        Comprehensive energy consumption of the period
        (:func:`comprehensive_energy_kgce`). [kgce]
    output_t : float
        Product made in the same period (:func:`total_mass_t`). [t]

    Returns
    -------
    float
        Energy intensity; NaN if ``energy_kgce`` is NaN. [kgce/t]

    Raises
    ------
    DataError
        If ``output_t`` is not a finite positive number.
    """
    output = check_positive("energy_intensity", "output_t", output_t)
    return float(energy_kgce) / output


def total_mass_t(flow_kg_s: npt.ArrayLike, step_s: float) -> float:
    """Return the mass that flowed in a period (the product made, for an intensity).

    Parameters
    ----------
    flow_kg_s : array_like
        Mass flow, mean over each step. [kg/s]
    step_s : float
        Step length of the series. [s]

    Returns
    -------
    float
        Total mass over the valid steps; NaN if no step is valid. [t]

    Raises
    ------
    DataError
        If ``step_s`` is not positive or the series is not 1-D numeric.
    """
    kpi = "energy_intensity"
    step = check_positive(kpi, "step_s", step_s)
    flow = as_series(kpi, "flow_kg_s", flow_kg_s)
    return _step_sum(flow * step) / _KG_PER_T
