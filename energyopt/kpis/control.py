"""Control-quality KPIs: stability rate, constraint violation, MV utilisation, interventions.

Inputs are regular series (one value per step, NaN where missing) in any
consistent unit; limits are one number or one number per step (a band that
moves with a setpoint).  A value on a limit is inside the band.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from energyopt.errors import DataError
from energyopt.kpis._validation import (
    Bound,
    FloatArray,
    as_bound,
    as_series,
    check_band,
    check_keys,
    check_positive,
    check_same_length,
)

__all__ = [
    "StabilityRate",
    "constraint_violation_integral",
    "manual_interventions_per_hour",
    "mv_utilisation_pct",
    "setpoint_change_flags",
    "stability_rate_pct",
]

#: 1 h = 3600 s.
_S_PER_H = 3600.0

#: Default MV tolerance: an MV within 1 % of its range from a limit is "at the limit".
_DEFAULT_MV_TOL_FRACTION = 0.01


@dataclass(frozen=True)
class StabilityRate:
    """Result of :func:`stability_rate_pct`.

    Attributes
    ----------
    overall_pct : float
        Share of the steps, with every variable valid, in which every variable
        is inside its band; NaN if no such step exists. [%]
    per_variable_pct : dict of str to float
        Variable -> share of its valid steps inside its band. [%]
    n_samples : int
        Steps in the series.
    n_excluded : int
        Steps left out of ``overall_pct`` because at least one variable is missing.
    n_excluded_per_variable : dict of str to int
        Variable -> steps left out of its own rate (missing values).
    """

    overall_pct: float
    per_variable_pct: dict[str, float] = field(default_factory=dict)
    n_samples: int = 0
    n_excluded: int = 0
    n_excluded_per_variable: dict[str, int] = field(default_factory=dict)


def _band_arrays(
    kpi: str, name: str, band: tuple[Bound | None, Bound | None], n: int
) -> tuple[FloatArray, FloatArray]:
    if len(band) != 2:
        raise DataError(f"{kpi}: band of {name!r} must be (lo, hi), got {band!r}")
    lo = as_bound(kpi, f"lower limit of {name!r}", band[0], n, -math.inf)
    hi = as_bound(kpi, f"upper limit of {name!r}", band[1], n, math.inf)
    check_band(kpi, name, lo, hi)
    return lo, hi


def _pct(count: int, total: int) -> float:
    return 100.0 * count / total if total else math.nan


def stability_rate_pct(
    values: Mapping[str, npt.ArrayLike],
    bands: Mapping[str, tuple[Bound | None, Bound | None]],
) -> StabilityRate:
    """Return the stability rate (稳定率): share of steps with every key CV inside its band.

    Missing values: a step where any variable is missing is excluded from the
    overall denominator (and counted in ``n_excluded``); for the per-variable
    rates only that variable's missing steps are excluded.

    Parameters
    ----------
    values : mapping of str to array_like
        Key controlled variable name -> values, all the same length. [any unit]
    bands : mapping of str to (lo, hi)
        Variable name -> band, same keys as ``values``; each limit one number,
        one per step, or None (open). [unit of the variable]

    Returns
    -------
    StabilityRate
        Overall and per-variable rates with the counts of excluded steps.

    Raises
    ------
    DataError
        If ``values`` is empty, keys differ, lengths differ, a limit is NaN or
        a band has ``lo > hi``.
    """
    kpi = "stability_rate"
    if not values:
        raise DataError(f"{kpi}: give at least one controlled variable")
    check_keys(kpi, "values", values, "bands", bands)
    series = {name: as_series(kpi, f"values[{name!r}]", v) for name, v in values.items()}
    n = check_same_length(kpi, {f"values[{name!r}]": x for name, x in series.items()})
    all_valid = np.ones(n, dtype=bool)
    all_inside = np.ones(n, dtype=bool)
    per_variable: dict[str, float] = {}
    excluded: dict[str, int] = {}
    for name, x in series.items():
        lo, hi = _band_arrays(kpi, name, bands[name], n)
        valid = np.isfinite(x)
        inside = valid & (x >= lo) & (x <= hi)
        all_valid &= valid
        all_inside &= inside
        per_variable[name] = _pct(int(np.count_nonzero(inside)), int(np.count_nonzero(valid)))
        excluded[name] = n - int(np.count_nonzero(valid))
    n_valid = int(np.count_nonzero(all_valid))
    return StabilityRate(
        overall_pct=_pct(int(np.count_nonzero(all_inside)), n_valid),
        per_variable_pct=per_variable,
        n_samples=n,
        n_excluded=n - n_valid,
        n_excluded_per_variable=excluded,
    )


def constraint_violation_integral(
    values: npt.ArrayLike, lo: Bound | None, hi: Bound | None, step_s: float
) -> float:
    """Return the time integral of the distance outside ``[lo, hi]``.

    ``I = sum_k (max(lo_k - x_k, 0) + max(x_k - hi_k, 0)) * dt / 3600`` over the
    valid steps (the discomfort integral of BOPTEST, in plant units).

    Parameters
    ----------
    values : array_like
        The constrained variable, mean over each step. [unit]
    lo, hi : float, array_like or None
        Constraint limits; None is open. [unit]
    step_s : float
        Step length of the series. [s]

    Returns
    -------
    float
        Violation integral; NaN if no step is valid. [unit x h]

    Raises
    ------
    DataError
        If ``step_s`` is not positive, a limit is NaN or ``lo > hi``.
    """
    kpi = "constraint_violation"
    step = check_positive(kpi, "step_s", step_s)
    x = as_series(kpi, "values", values)
    lower = as_bound(kpi, "lo", lo, x.size, -math.inf)
    upper = as_bound(kpi, "hi", hi, x.size, math.inf)
    check_band(kpi, "values", lower, upper)
    finite = np.isfinite(x)
    if not finite.any():
        return math.nan
    x, lower, upper = x[finite], lower[finite], upper[finite]
    distance = np.maximum(lower - x, 0.0) + np.maximum(x - upper, 0.0)
    return float(np.sum(distance)) * step / _S_PER_H


def mv_utilisation_pct(
    mv: npt.ArrayLike, lo: Bound | None, hi: Bound | None, tol: float | None = None
) -> float:
    """Return the share of time a manipulated variable is not at a limit.

    An MV is *at a limit* when it is within ``tol`` of ``lo`` or ``hi`` (or
    beyond); a saturated MV gives the controller no room to act.

    Parameters
    ----------
    mv : array_like
        MV values (setpoint or valve position), one per step. [unit]
    lo, hi : float or array_like
        MV limits, finite (None is rejected: an MV always has limits). [unit]
    tol : float, optional
        Distance from a limit still counted as at the limit; default 1 % of
        ``hi - lo``. [unit]

    Returns
    -------
    float
        Share of valid steps with ``lo + tol < mv < hi - tol``; NaN if no step
        is valid. [%]

    Raises
    ------
    DataError
        If a limit is not finite, ``lo > hi`` or ``tol`` is negative.
    """
    kpi = "mv_utilisation"
    x = as_series(kpi, "mv", mv)
    lower = as_bound(kpi, "lo", lo, x.size, math.nan)
    upper = as_bound(kpi, "hi", hi, x.size, math.nan)
    if not (np.isfinite(lower).all() and np.isfinite(upper).all()):
        raise DataError(f"{kpi}: MV limits lo and hi must be finite")
    check_band(kpi, "mv", lower, upper)
    if tol is None:
        margin = _DEFAULT_MV_TOL_FRACTION * (upper - lower)
    else:
        if not (math.isfinite(tol) and tol >= 0.0):
            raise DataError(f"{kpi}: tol must be a finite non-negative number, got {tol:g}")
        margin = np.full(x.size, float(tol))
    finite = np.isfinite(x)
    free = finite & (x > lower + margin) & (x < upper - margin)
    return _pct(int(np.count_nonzero(free)), int(np.count_nonzero(finite)))


def manual_interventions_per_hour(
    duration_s: float,
    *,
    flags: npt.ArrayLike | None = None,
    event_times_s: npt.ArrayLike | None = None,
) -> float:
    """Return the rate of manual operator interventions.

    Give exactly one of ``flags`` (True at each step, and for each MV, where an
    operator changed a setpoint; see :func:`setpoint_change_flags`) or
    ``event_times_s`` (one time per intervention, from an operator log).

    Parameters
    ----------
    duration_s : float
        Length of the period the events were counted in. [s]
    flags : array_like of bool, optional
        Intervention flags, any shape (for example (n_mv, N)); each True is one
        intervention.
    event_times_s : array_like, optional
        Times of the interventions, finite. [s]

    Returns
    -------
    float
        Interventions per hour. [1/h]

    Raises
    ------
    DataError
        If both or neither of ``flags`` and ``event_times_s`` are given,
        ``flags`` is not boolean, an event time is not finite or
        ``duration_s`` is not positive.
    """
    kpi = "manual_interventions"
    duration = check_positive(kpi, "duration_s", duration_s)
    if (flags is None) == (event_times_s is None):
        raise DataError(f"{kpi}: give exactly one of flags and event_times_s")
    if event_times_s is None:
        flag_array = np.asarray(flags)
        if flag_array.dtype != np.bool_:
            raise DataError(f"{kpi}: flags must be boolean, got dtype {flag_array.dtype}")
        count = int(np.count_nonzero(flag_array))
    else:
        times = as_series(kpi, "event_times_s", event_times_s)
        if not np.isfinite(times).all():
            raise DataError(f"{kpi}: event_times_s must be finite")
        count = int(times.size)
    return count * _S_PER_H / duration


def setpoint_change_flags(
    setpoint: npt.ArrayLike, min_change: float = 0.0
) -> npt.NDArray[np.bool_]:
    """Return where a setpoint series changes by more than ``min_change``.

    In recorded history without an advisor every setpoint change is manual;
    in a replay, mask the changes the advisor made before counting.

    Parameters
    ----------
    setpoint : array_like
        Setpoint, one value per step; NaN where missing. [unit]
    min_change : float, optional
        Changes of at most this size (numeric noise, rounding) are ignored. [unit]

    Returns
    -------
    numpy.ndarray of bool
        Shape (N,); True at step k if ``abs(sp[k] - sp[k-1]) > min_change``
        with both values valid (the first step is False).

    Raises
    ------
    DataError
        If ``min_change`` is negative or not finite.
    """
    kpi = "manual_interventions"
    sp = as_series(kpi, "setpoint", setpoint)
    if not (math.isfinite(min_change) and min_change >= 0.0):
        raise DataError(f"{kpi}: min_change must be a finite non-negative number")
    flags = np.zeros(sp.size, dtype=bool)
    if sp.size > 1:
        with np.errstate(invalid="ignore"):
            change = np.abs(np.diff(sp))
        flags[1:] = np.isfinite(change) & (change > min_change)
    return flags
