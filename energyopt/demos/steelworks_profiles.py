"""Disturbance profiles of the steelworks truth simulation (deterministic by seed).

What drives a steelworks energy system over days, on the simulation grid:

* blast-furnace production follows a plan that changes every one to three
  days, with occasional blowdowns (hours at a fraction of the rate);
* coke-oven gas ripples with the pushing sequence of the batteries (an oven
  pushed every few minutes, a cycle of about two hours over the battery);
* converter gas arrives in pulses: a converter blows 30-40 min and gas is
  recovered only while it blows, then nothing until the next heat;
* gas users, steam users and the electric load follow shift patterns (day
  shift busier, weekends lighter), the hot strip mill stops for roll changes,
  and heating steam follows the outdoor temperature (a daily cycle plus
  weather fronts of a few days);
* the heating value of each gas drifts slowly (burden, coking time, blow
  practice);
* the grid price is the project's time-of-use tariff.

Every profile is a plain numpy array; :func:`steelworks_disturbances` fills
the plant's disturbance matrix by variable name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from energyopt.plantbuild import BuiltPlant, nominal_disturbances

__all__ = ["BLOW_MINUTES", "Profiles", "ar1", "converter_pulses", "steelworks_disturbances"]

#: Length of a converter blow. [min]
BLOW_MINUTES: tuple[float, float] = (30.0, 40.0)
_DAY_S = 86_400.0
_HOUR_S = 3_600.0


@dataclass(frozen=True)
class Profiles:
    """Disturbances and exogenous inputs on the simulation grid.

    Attributes
    ----------
    d : numpy.ndarray
        Disturbance matrix, shape ``(N, nd)``. [SI]
    air_demand_m3_s : numpy.ndarray
        Compressed-air demand of the works, shape ``(N,)``. [m3/s]
    blowing : numpy.ndarray of bool
        Whether a converter blows in each interval, shape ``(N,)``.
    """

    d: npt.NDArray[np.float64]
    air_demand_m3_s: npt.NDArray[np.float64]
    blowing: npt.NDArray[np.bool_]


def ar1(rng: np.random.Generator, n: int, step_s: float, tau_s: float) -> npt.NDArray[np.float64]:
    """Return unit-variance AR(1) noise with correlation time ``tau_s`` (scipy's lfilter).

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    n : int
        Number of samples.
    step_s : float
        Sampling interval. [s]
    tau_s : float
        Correlation time. [s]
    """
    from scipy.signal import lfilter

    phi = math.exp(-step_s / tau_s)
    white = rng.standard_normal(n) * math.sqrt(1.0 - phi * phi)
    start = rng.standard_normal()  # stationary start
    out: npt.NDArray[np.float64] = lfilter([1.0], [1.0, -phi], white, zi=[phi * start])[0]
    return out


def converter_pulses(
    rng: np.random.Generator, t_s: npt.NDArray[np.float64]
) -> npt.NDArray[np.bool_]:
    """Return whether a converter blows at each time: blows of 30-40 min between gaps.

    Gaps between blows (charging, sampling, tapping of the next converter)
    last 8-25 min; about once a day the shop pauses 1-3 h.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    t_s : numpy.ndarray
        Grid times, equally spaced. [s]
    """
    end = float(t_s[-1]) + 1.0
    edges: list[tuple[float, float]] = []
    now = float(t_s[0]) - rng.uniform(0.0, 60.0) * 60.0
    while now < end:
        blow = rng.uniform(*BLOW_MINUTES) * 60.0
        edges.append((now, now + blow))
        gap = rng.uniform(8.0, 25.0) * 60.0
        if rng.random() < 1.0 / 30.0:  # about one pause a day (30 heats)
            gap += rng.uniform(1.0, 3.0) * _HOUR_S
        now += blow + gap
    starts = np.array([a for a, _ in edges])
    stops = np.array([b for _, b in edges])
    i = np.searchsorted(starts, t_s, side="right") - 1
    return (i >= 0) & (t_s < stops[np.maximum(i, 0)])


def _plan(
    rng: np.random.Generator, t_s: npt.NDArray[np.float64], levels: tuple[float, ...]
) -> npt.NDArray[np.float64]:
    """Piecewise-constant production plan, new level every 1-3 days, 1 h ramps."""
    out = np.empty_like(t_s)
    now = float(t_s[0])
    level = 1.0
    edges = [now]
    values = [level]
    while now < t_s[-1]:
        now += rng.uniform(1.0, 3.0) * _DAY_S
        level = float(rng.choice(levels))
        edges.append(now)
        values.append(level)
    out[:] = values[0]
    for edge, before, after in zip(edges[1:], values[:-1], values[1:], strict=False):
        ramp = np.clip((t_s - edge) / _HOUR_S, 0.0, 1.0)
        out += (after - before) * ramp
    return out


def _blowdowns(rng: np.random.Generator, t_s: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Multiplier < 1 during blast-furnace blowdowns (about one every five days)."""
    factor = np.ones_like(t_s)
    days = (t_s[-1] - t_s[0]) / _DAY_S
    for _ in range(rng.poisson(max(days / 5.0, 0.0))):
        start = rng.uniform(t_s[0], t_s[-1])
        length = rng.uniform(2.0, 6.0) * _HOUR_S
        factor[(t_s >= start) & (t_s < start + length)] = rng.uniform(0.3, 0.5)
    return factor


def _shift(
    local_h: npt.NDArray[np.float64], weekday: npt.NDArray[np.int64], amp: float
) -> npt.NDArray[np.float64]:
    """Shift pattern: day shift (08-16) busier, night quieter, weekends lighter."""
    day = (local_h >= 8.0) & (local_h < 16.0)
    night = (local_h < 6.0) | (local_h >= 22.0)
    out = 1.0 + amp * day - 0.5 * amp * night
    return out - 0.6 * amp * (weekday >= 5)


def steelworks_disturbances(
    built: BuiltPlant,
    t_s: npt.NDArray[np.float64],
    start_ms: int,
    rng: np.random.Generator,
) -> Profiles:
    """Return the disturbance matrix and exogenous inputs on the grid ``t_s``.

    Parameters
    ----------
    built : BuiltPlant
        The steelworks plant (variable names and nominal values).
    t_s : numpy.ndarray
        Interval start times after ``start_ms``, equally spaced. [s]
    start_ms : int
        Absolute time of ``t_s = 0``. [ms since epoch]
    rng : numpy.random.Generator
        Random source (the only one: same seed, same profiles).

    Returns
    -------
    Profiles
    """
    model = built.model
    n = t_s.size
    step_s = float(t_s[1] - t_s[0]) if n > 1 else 60.0
    nominal = nominal_disturbances(built)
    d = np.tile(nominal, (n, 1))
    time_ms = start_ms + np.round(t_s * 1000.0).astype(np.int64)
    # Local clock of the site (the tariff's zone; China has no DST).
    local_s = t_s + 8.0 * _HOUR_S
    local_h = (local_s % _DAY_S) / _HOUR_S
    weekday = ((start_ms // 86_400_000 + 3 + (local_s // _DAY_S)) % 7).astype(np.int64)
    phase = 2.0 * math.pi * local_h / 24.0
    # Weather: January in the Yangtze delta, about 4 degC, +-5 K daily, fronts of days.
    outdoor_c = (
        4.0
        + 4.0 * np.sin(phase - 2.0 * math.pi * 9.0 / 24.0)
        + 3.0 * ar1(rng, n, step_s, 2.0 * _DAY_S)
    )
    blowing = converter_pulses(rng, t_s)
    bf = _plan(rng, t_s, (0.92, 0.97, 1.0, 1.03)) * _blowdowns(rng, t_s)
    bf *= 1.0 + 0.015 * ar1(rng, n, step_s, 2.0 * _HOUR_S)
    pushing = (
        1.0
        + 0.06 * np.sin(2.0 * math.pi * t_s / (115.0 * 60.0))
        + 0.02 * ar1(rng, n, step_s, 600.0)
    )
    mill = _shift(local_h, weekday, 0.05)
    roll_change = np.sin(2.0 * math.pi * t_s / (4.5 * _HOUR_S)) > 0.93  # ~30 min in 4.5 h
    mill = np.where(roll_change, 0.45, mill)

    def put(name: str, values: npt.NDArray[np.float64]) -> None:
        if any(v.name == name for v in model.disturbances):
            d[:, built.index("d", name)] = values

    def noisy(
        base: npt.NDArray[np.float64] | float, amp: float, tau_s: float
    ) -> npt.NDArray[np.float64]:
        return np.clip(base * (1.0 + amp * ar1(rng, n, step_s, tau_s)), 0.0, 1.45)

    i_bf, i_co, i_cv = (
        built.index("d", f"{u}.production_kg_s")
        for u in ("blast_furnaces", "coke_ovens", "converters")
    )
    d[:, i_bf] = nominal[i_bf] * bf
    d[:, i_co] = nominal[i_co] * np.clip(pushing, 0.0, 1.45)
    # Converters: the nominal rate is the shop average; while blowing gas comes
    # at 1.4 times it, between blows none is recovered.
    d[:, i_cv] = np.where(blowing, 1.4 * nominal[i_cv] * (1.0 + 0.03 * rng.standard_normal(n)), 0.0)
    put(
        "hot_stoves.demand_fraction",
        noisy(0.97 * bf / bf.mean(), 0.02, 1800.0)
        * (1.0 + 0.03 * np.sign(np.sin(2.0 * math.pi * t_s / (90.0 * 60.0)))),
    )
    put("coke_oven_heating.demand_fraction", noisy(1.0, 0.02, 4.0 * _HOUR_S))
    put("sinter_and_kilns.demand_fraction", noisy(_shift(local_h, weekday, 0.04), 0.03, _HOUR_S))
    put("steelshop_users.demand_fraction", noisy(np.where(blowing, 1.1, 0.9), 0.05, 900.0))
    put("reheating_furnaces.demand_fraction", noisy(mill, 0.03, 1200.0))
    put("annealing_lines.demand_fraction", noisy(_shift(local_h, weekday, 0.03), 0.03, _HOUR_S))
    put("mp_steam_users.demand_fraction", noisy(_shift(local_h, weekday, 0.06), 0.04, 1800.0))
    put(
        "lp_steam_users.demand_fraction",
        noisy(np.clip(1.0 + 0.04 * (4.0 - outdoor_c), 0.3, 1.45), 0.03, 1800.0),
    )
    put(
        "works_load.demand_fraction",
        noisy(0.75 * _shift(local_h, weekday, 0.06) + 0.25 * mill, 0.03, 900.0),
    )
    put("grid.price_per_j", built.electricity_price_per_j(time_ms))
    for node, rel in (("bfg", 0.025), ("cog", 0.015), ("ldg", 0.04), ("ng", 0.003)):
        name = f"{node}.lhv_j_m3"
        if any(v.name == name for v in model.disturbances):
            i = built.index("d", name)
            d[:, i] = nominal[i] * (1.0 + rel * ar1(rng, n, step_s, 6.0 * _HOUR_S))
    air = (9.0 + 1.0 * (_shift(local_h, weekday, 0.08) - 1.0) / 0.08) * (
        1.0 + 0.03 * ar1(rng, n, step_s, 1800.0)
    )
    return Profiles(d=d, air_demand_m3_s=np.clip(air, 0.0, None), blowing=blowing)
