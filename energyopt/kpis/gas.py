"""By-product gas KPIs: flared gas, flaring rate, gas-holder time outside its bands.

Inputs are regular series in SI (flows in Nm3/s as the mean over each step;
holder levels in any unit, the same as their limits).  Missing (non-finite)
steps are omitted; the time outside a band counts only valid steps, and a
total over no valid step is NaN.

A holder level is judged on the resampled series: a step counts wholly
inside or outside its band by the step's mean level, so an excursion shorter
than a step can be hidden.  Resample more finely when that matters.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from energyopt.kpis._validation import (
    Bound,
    as_bound,
    as_series,
    check_band,
    check_positive,
    check_same_length,
    valid_mask,
)

__all__ = [
    "flared_gas_nm3",
    "flaring_rate_pct",
    "holder_time_outside_band_min",
    "holder_time_outside_hard_min",
    "time_outside_band_min",
]

#: 1 min = 60 s.
_S_PER_MIN = 60.0


def flared_gas_nm3(flow_flared_nm3_s: npt.ArrayLike, step_s: float) -> float:
    """Return the volume of gas flared (放散量) in a period.

    Parameters
    ----------
    flow_flared_nm3_s : array_like
        Flow to the flare stack, mean over each step. [Nm3/s]
    step_s : float
        Step length of the series. [s]

    Returns
    -------
    float
        Flared gas over the valid steps; NaN if no step is valid. [Nm3]

    Raises
    ------
    DataError
        If ``step_s`` is not positive or the series is not 1-D numeric.
    """
    kpi = "flared_gas"
    step = check_positive(kpi, "step_s", step_s)
    flared = as_series(kpi, "flow_flared_nm3_s", flow_flared_nm3_s)
    finite = np.isfinite(flared)
    if not finite.any():
        return math.nan
    return float(np.sum(flared[finite])) * step


def flaring_rate_pct(flow_flared_nm3_s: npt.ArrayLike, flow_made_nm3_s: npt.ArrayLike) -> float:
    """Return the flaring rate (放散率): gas flared as a share of gas made.

    ``rate = sum V_flared / sum V_made * 100`` over the steps where both
    series are valid (the step length cancels).  For several gases pass the
    summed flows, or call once per gas.

    Parameters
    ----------
    flow_flared_nm3_s : array_like
        Flow to the flare stack. [Nm3/s]
    flow_made_nm3_s : array_like
        Flow of gas made (blast furnaces, coke ovens, converters). [Nm3/s]

    Returns
    -------
    float
        Flaring rate; NaN if no step is valid or no gas was made. [%]

    Raises
    ------
    DataError
        If the series differ in length.
    """
    kpi = "flaring_rate"
    flared = as_series(kpi, "flow_flared_nm3_s", flow_flared_nm3_s)
    made = as_series(kpi, "flow_made_nm3_s", flow_made_nm3_s)
    check_same_length(kpi, {"flow_flared_nm3_s": flared, "flow_made_nm3_s": made})
    mask = valid_mask(flared, made)
    total_made = float(np.sum(made[mask]))
    if not mask.any() or total_made <= 0.0:
        return math.nan
    return 100.0 * float(np.sum(flared[mask])) / total_made


def time_outside_band_min(
    kpi: str, values: npt.ArrayLike, lo: Bound | None, hi: Bound | None, step_s: float
) -> float:
    """Return the time a variable spends outside ``[lo, hi]`` (limits inclusive).

    The one definition behind :func:`holder_time_outside_band_min` and
    :func:`holder_time_outside_hard_min`.

    Parameters
    ----------
    kpi : str
        KPI key named in error messages.
    values : array_like
        The variable, one value per step. [any unit]
    lo, hi : float, array_like or None
        Lower and upper limit, one value or one per step; None is open. [unit of values]
    step_s : float
        Step length of the series. [s]

    Returns
    -------
    float
        Time outside the band over the valid steps; NaN if no step is valid. [min]

    Raises
    ------
    DataError
        If ``step_s`` is not positive, a limit is NaN or ``lo > hi``.
    """
    step = check_positive(kpi, "step_s", step_s)
    level = as_series(kpi, "values", values)
    lower = as_bound(kpi, "lo", lo, level.size, -math.inf)
    upper = as_bound(kpi, "hi", hi, level.size, math.inf)
    check_band(kpi, "values", lower, upper)
    finite = np.isfinite(level)
    if not finite.any():
        return math.nan
    outside = finite & ((level < lower) | (level > upper))
    return float(np.count_nonzero(outside)) * step / _S_PER_MIN


def holder_time_outside_band_min(
    level: npt.ArrayLike, normal_lo: Bound | None, normal_hi: Bound | None, step_s: float
) -> float:
    """Return the time a gas holder spends outside its normal operating band.

    Parameters
    ----------
    level : array_like
        Holder level (fraction, volume, ...), mean over each step. [any unit]
    normal_lo, normal_hi : float, array_like or None
        Normal band, for example 0.30 and 0.70; None is open. [unit of level]
    step_s : float
        Step length of the series. [s]

    Returns
    -------
    float
        Time below ``normal_lo`` or above ``normal_hi``; NaN if no step is valid. [min]

    Raises
    ------
    DataError
        If ``step_s`` is not positive, a limit is NaN or ``normal_lo > normal_hi``.
    """
    return time_outside_band_min("holder_time_outside_band", level, normal_lo, normal_hi, step_s)


def holder_time_outside_hard_min(
    level: npt.ArrayLike, hard_lo: Bound | None, hard_hi: Bound | None, step_s: float
) -> float:
    """Return the time a gas holder spends outside its hard limits.

    Parameters
    ----------
    level : array_like
        Holder level, mean over each step. [any unit]
    hard_lo, hard_hi : float, array_like or None
        Hard limits, for example 0.10 and 0.90; None is open. [unit of level]
    step_s : float
        Step length of the series. [s]

    Returns
    -------
    float
        Time below ``hard_lo`` or above ``hard_hi``; NaN if no step is valid. [min]

    Raises
    ------
    DataError
        If ``step_s`` is not positive, a limit is NaN or ``hard_lo > hard_hi``.
    """
    return time_outside_band_min("holder_time_outside_hard", level, hard_lo, hard_hi, step_s)
