"""Input checks shared by the KPI functions (one message style, one NaN rule).

Every check raises :class:`~energyopt.errors.DataError` with a message that
starts with the KPI key and names the argument and the problem, for example
``"energy_cost: price_per_kwh has 3 samples but power_purchased_w has 4"``.

Missing samples
    A sample is *missing* when it is not finite (NaN or +-inf), as in
    :mod:`energyopt.data.resample`.  KPIs omit missing samples: a sum skips
    them, a share or ratio leaves out the whole step from numerator and
    denominator (:func:`valid_mask` combines the arrays of one KPI).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from energyopt.data.units import conversion_affine
from energyopt.errors import DataError

__all__ = [
    "Bound",
    "FloatArray",
    "as_bound",
    "as_per_step",
    "as_series",
    "check_band",
    "check_keys",
    "check_positive",
    "check_same_length",
    "joules_per",
    "valid_mask",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]
#: A band limit: one number, or one number per sample (a time-varying band).
Bound: TypeAlias = float | npt.ArrayLike


def as_series(kpi: str, name: str, values: npt.ArrayLike) -> FloatArray:
    """Return ``values`` as a 1-D float64 array, or raise naming the KPI.

    Parameters
    ----------
    kpi : str
        KPI key named in the error message.
    name : str
        Argument name named in the error message.
    values : array_like
        One value per step; NaN where missing.

    Returns
    -------
    numpy.ndarray
        The values, float64, shape (N,).

    Raises
    ------
    DataError
        If the values are not numeric or not one-dimensional.
    """
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{kpi}: {name} must be numeric, got {type(values).__name__}") from None
    if array.ndim != 1:
        raise DataError(f"{kpi}: {name} must be one-dimensional, got shape {array.shape}")
    return array


def check_positive(kpi: str, name: str, value: float) -> float:
    """Return ``value`` as float if it is finite and > 0, else raise.

    Parameters
    ----------
    kpi : str
        KPI key named in the error message.
    name : str
        Argument name named in the error message.
    value : float
        The number to check (a step length, a duration, a mass).

    Returns
    -------
    float
        ``value``.

    Raises
    ------
    DataError
        If ``value`` is not a finite positive number.
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DataError(f"{kpi}: {name} must be a number, got {value!r}") from None
    if not (math.isfinite(number) and number > 0.0):
        raise DataError(f"{kpi}: {name} must be a finite positive number, got {number:g}")
    return number


def check_same_length(kpi: str, arrays: Mapping[str, FloatArray]) -> int:
    """Return the common length of ``arrays``, or raise naming the mismatch.

    Parameters
    ----------
    kpi : str
        KPI key named in the error message.
    arrays : mapping of str to numpy.ndarray
        Argument name -> 1-D array.

    Returns
    -------
    int
        The number of samples N shared by all arrays (0 if ``arrays`` is empty).

    Raises
    ------
    DataError
        If two arrays differ in length.
    """
    items = list(arrays.items())
    if not items:
        return 0
    first_name, first = items[0]
    for name, array in items[1:]:
        if array.size != first.size:
            raise DataError(
                f"{kpi}: {name} has {array.size} samples but {first_name} has {first.size}"
            )
    return int(first.size)


def check_keys(
    kpi: str, name_a: str, keys_a: Mapping[str, object], name_b: str, keys_b: Mapping[str, object]
) -> None:
    """Raise unless two mappings have the same keys.

    Parameters
    ----------
    kpi : str
        KPI key named in the error message.
    name_a, name_b : str
        Argument names named in the error message.
    keys_a, keys_b : mapping
        The mappings whose keys must agree.

    Raises
    ------
    DataError
        Naming the keys present in one mapping only.
    """
    only_a = sorted(set(keys_a) - set(keys_b))
    only_b = sorted(set(keys_b) - set(keys_a))
    if only_a:
        raise DataError(f"{kpi}: {name_b} has no entry for {', '.join(map(repr, only_a))}")
    if only_b:
        raise DataError(
            f"{kpi}: {name_b} has {', '.join(map(repr, only_b))} which {name_a} does not have"
        )


def as_per_step(kpi: str, name: str, value: float | npt.ArrayLike, n: int) -> FloatArray:
    """Return one number or one number per step broadcast to ``n`` samples.

    Parameters
    ----------
    kpi : str
        KPI key named in the error message.
    name : str
        Argument name named in the error message.
    value : float or array_like
        A constant (a price, an enthalpy) or one value per step; NaN is missing.
    n : int
        Number of samples.

    Returns
    -------
    numpy.ndarray
        Values, float64, shape (n,).

    Raises
    ------
    DataError
        If ``value`` is not numeric or its length is not ``n``.
    """
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{kpi}: {name} must be numeric, got {value!r}") from None
    if array.ndim == 0:
        return np.full(n, float(array))
    if array.shape != (n,):
        raise DataError(f"{kpi}: {name} has shape {array.shape} but the series has {n} samples")
    return array


def as_bound(kpi: str, name: str, bound: Bound | None, n: int, default: float) -> FloatArray:
    """Return a band limit broadcast to ``n`` samples.

    Parameters
    ----------
    kpi : str
        KPI key named in the error message.
    name : str
        Argument name named in the error message.
    bound : float, array_like or None
        One limit, or one limit per sample (a time-varying band); None means
        ``default`` (``-inf`` for a lower, ``+inf`` for an upper limit).
    n : int
        Number of samples.
    default : float
        Value used when ``bound`` is None.

    Returns
    -------
    numpy.ndarray
        Limits, float64, shape (n,).

    Raises
    ------
    DataError
        If a limit is NaN or the array length is not ``n``.
    """
    if bound is None:
        return np.full(n, default)
    array = as_per_step(kpi, name, bound, n)
    if np.isnan(array).any():
        raise DataError(f"{kpi}: {name} contains NaN; give -inf or inf for an open side")
    return array


def check_band(kpi: str, name: str, lo: FloatArray, hi: FloatArray) -> None:
    """Raise if a band has a lower limit above its upper limit.

    Parameters
    ----------
    kpi : str
        KPI key named in the error message.
    name : str
        Variable whose band it is, named in the error message.
    lo, hi : numpy.ndarray
        Lower and upper limits, shape (N,).

    Raises
    ------
    DataError
        Naming the first sample where ``lo > hi``.
    """
    bad = np.flatnonzero(lo > hi)
    if bad.size:
        k = int(bad[0])
        raise DataError(
            f"{kpi}: band of {name!r} has lower limit {lo[k]:g} above upper limit {hi[k]:g}"
            + (f" (sample {k})" if lo.size > 1 and bad.size < lo.size else "")
        )


def valid_mask(*arrays: FloatArray) -> npt.NDArray[np.bool_]:
    """Return where every array has a finite value (the steps a KPI can use).

    Parameters
    ----------
    *arrays : numpy.ndarray
        Arrays of one shape.

    Returns
    -------
    numpy.ndarray
        Boolean mask, True where all arrays are finite.
    """
    mask = np.isfinite(arrays[0])
    for array in arrays[1:]:
        mask &= np.isfinite(array)
    return mask


def joules_per(unit: str) -> float:
    """Return the number of joules in one ``unit`` (``"kWh"``, ``"kgce"``), from pint.

    The definitions live once, in :mod:`energyopt.data.units` (for example
    ``1 kgce = 29.3076 MJ``, GB/T 2589); nothing here restates them.

    Parameters
    ----------
    unit : str
        An energy unit known to :func:`energyopt.data.units.unit_registry`.

    Returns
    -------
    float
        Joules per ``unit``. [J]
    """
    scale, _ = conversion_affine(unit, "J")
    return scale
