"""History of the data-driven demo plant, recorded from a hidden truth simulator.

The project ``energyopt/demos/datadriven.toml`` declares a steam-heated
reactor and its boiler as generic data-driven units: it knows their tags, not
their physics.  This module is the physics it does not know -- the *truth*
that generates the recorded history and stands in for the real plant in
closed-loop tests:

Reactor (continuous stirred vessel, liquid hold-up ``M``)
    ``M cp dT/dt = F cp (T_in - T) + s_act h_s - UA (T - T_in)``;
    conversion ``dX/dt = -X F / M + k(T) (1 - X)`` with the Arrhenius rate
    ``k(T) = k_ref exp(-E/R (1/T - 1/T_ref))``; the steam flow loop follows
    its setpoint with lag ``tau_s`` (``ds_act/dt = (s - s_act) / tau_s``) and
    the quality analyser reads ``X`` through lag ``tau_a``.  Outputs: ``T``,
    the analyser's quality and the on-spec product flow ``F X``.  The feed
    flow is ``F = F_max v`` for the valve setpoint ``v``.
Boiler (static)
    Natural gas ``= s (h_steam - h_fw) / (LHV eta(load))`` with the part-load
    efficiency ``eta = eta_max - c (load - load_best)^2``.

So the identified models meet a nonlinear, fourth-order reactor and a curved
efficiency that their linear ARX and quadratic maps only approximate: the
controllers must cope with the mismatch (offset-free estimation, feedback).

Public API
----------
:class:`ReactorTruth` (the plant, stepped one sample at a time),
:func:`boiler_fuel_m3_s`, :func:`record_history` (``(time_ms, {tag: values})``
in the tags' units) and :func:`write_datadriven_history` (an HDF5 historian
file).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import os

__all__ = [
    "DT_S",
    "START_MS",
    "TAGS",
    "TAG_UNITS",
    "ReactorTruth",
    "boiler_fuel_m3_s",
    "record_history",
    "write_datadriven_history",
]

#: Sample time of the history and of the identified models. [s]
DT_S = 60.0
#: Start of the recorded history: 2026-01-05 00:00 UTC. [ms since epoch]
START_MS = 1_767_571_200_000
#: Integration step of the truth inside a sample (12 RK4 steps per sample). [s]
_H_S = 5.0
_S_PER_H = 3600.0

#: Signal -> historian tag.
TAGS: dict[str, str] = {
    "feed": "R1.FEED.VALVE.SP",
    "steam": "R1.STEAM.SP",
    "temperature": "R1.TEMP",
    "quality": "R1.QUALITY",
    "product": "R1.PRODUCT.FLOW",
    "boiler_steam": "B1.STEAM.FLOW",
    "fuel": "B1.NG.FLOW",
}
#: Historian tag -> engineering unit.
TAG_UNITS: dict[str, str] = {
    TAGS["feed"]: "%",
    TAGS["steam"]: "t/h",
    TAGS["temperature"]: "degC",
    TAGS["quality"]: "%",
    TAGS["product"]: "t/h",
    TAGS["boiler_steam"]: "t/h",
    TAGS["fuel"]: "Nm3/h",
}
_TAG_KINDS: dict[str, str] = {
    TAGS["feed"]: "setpoint",
    TAGS["steam"]: "setpoint",
    TAGS["temperature"]: "temperature",
    TAGS["quality"]: "property",
    TAGS["product"]: "flow",
    TAGS["boiler_steam"]: "flow",
    TAGS["fuel"]: "flow",
}
#: Standard deviation of the sensor noise, in tag units (setpoints are exact).
_NOISE: dict[str, float] = {
    TAGS["temperature"]: 0.1,
    TAGS["quality"]: 0.15,
    TAGS["product"]: 0.1,
    TAGS["boiler_steam"]: 0.03,
    TAGS["fuel"]: 2.0,
}

# Boiler truth: steam enthalpy rise from feed water, LHV and the efficiency curve.
_DH_STEAM_J_KG = 2.33e6
_LHV_NG_J_M3 = 36.0e6
_ETA_MAX = 0.92
_ETA_CURVE = 0.5
_LOAD_BEST = 0.8
_STEAM_MAX_KG_S = 10.0 / 3.6  # 10 t/h boiler


def boiler_fuel_m3_s(steam_kg_s: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Natural gas the truth boiler burns to raise a steam flow.

    Parameters
    ----------
    steam_kg_s : array_like
        Steam raised. [kg/s]

    Returns
    -------
    numpy.ndarray
        Natural gas flow. [Nm3/s]
    """
    steam = np.asarray(steam_kg_s, dtype=np.float64)
    load = steam / _STEAM_MAX_KG_S
    eta = _ETA_MAX - _ETA_CURVE * (load - _LOAD_BEST) ** 2
    return steam * _DH_STEAM_J_KG / (_LHV_NG_J_M3 * eta)


@dataclass
class ReactorTruth:
    """The hidden reactor: a nonlinear fourth-order system stepped one sample at a time.

    Parameters
    ----------
    feed_max_kg_s : float
        Feed flow at a fully open valve. [kg/s]
    holdup_kg : float
        Liquid hold-up. [kg]
    cp_j_kg_k : float
        Specific heat of the liquid. [J/(kg K)]
    h_steam_j_kg : float
        Heat released per kg of condensing steam. [J/kg]
    t_in_k : float
        Feed (and ambient) temperature. [K]
    ua_w_k : float
        Heat-loss conductance. [W/K]
    k_ref_1_s : float
        Reaction rate constant at ``t_ref_k``. [1/s]
    t_ref_k : float
        Reference temperature of the rate constant. [K]
    e_over_r_k : float
        Activation temperature ``E/R``. [K]
    tau_steam_s : float
        Lag of the steam flow loop. [s]
    tau_analyser_s : float
        Lag of the quality analyser. [s]
    state : numpy.ndarray
        ``(T [K], X [-], s_act [kg/s], X_meas [-])``; default the steady
        state at 60 % feed valve and 5 t/h steam.
    """

    feed_max_kg_s: float = 20.0
    holdup_kg: float = 4000.0
    cp_j_kg_k: float = 4000.0
    h_steam_j_kg: float = 2.1e6
    t_in_k: float = 293.15
    ua_w_k: float = 2000.0
    k_ref_1_s: float = 0.03
    t_ref_k: float = 353.15
    e_over_r_k: float = 6000.0
    tau_steam_s: float = 60.0
    tau_analyser_s: float = 120.0
    state: npt.NDArray[np.float64] = field(
        default_factory=lambda: np.array([351.65, 0.90, 5.0 / 3.6, 0.90])
    )

    def __post_init__(self) -> None:
        self.state = np.asarray(self.state, dtype=np.float64).copy()
        if self.state.shape != (4,):
            raise ValueError(f"state must have 4 entries (T, X, s_act, X_meas), got {self.state}")

    def _rates(
        self, z: npt.NDArray[np.float64], feed_kg_s: float, steam_kg_s: float
    ) -> npt.NDArray[np.float64]:
        t_k, x, s_act, x_meas = z
        k = self.k_ref_1_s * math.exp(-self.e_over_r_k * (1.0 / t_k - 1.0 / self.t_ref_k))
        heat_w = (
            feed_kg_s * self.cp_j_kg_k * (self.t_in_k - t_k)
            + s_act * self.h_steam_j_kg
            - self.ua_w_k * (t_k - self.t_in_k)
        )
        return np.array(
            [
                heat_w / (self.holdup_kg * self.cp_j_kg_k),
                -x * feed_kg_s / self.holdup_kg + k * (1.0 - x),
                (steam_kg_s - s_act) / self.tau_steam_s,
                (x - x_meas) / self.tau_analyser_s,
            ]
        )

    def outputs(self, feed_frac: float) -> npt.NDArray[np.float64]:
        """True outputs now: temperature [K], quality [-], product flow [kg/s]."""
        t_k, x, _, x_meas = self.state
        return np.array([t_k, x_meas, self.feed_max_kg_s * feed_frac * x])

    def step(
        self, feed_frac: float, steam_kg_s: float, dt_s: float = DT_S
    ) -> npt.NDArray[np.float64]:
        """Advance the truth over ``dt_s`` with the setpoints held; return its outputs.

        A fixed-step RK4 (5 s, twelve steps a minute against the fastest lag
        of 30 s) is used rather than an adaptive solver: inputs are held over
        each sample, so the integration restarts every minute and the fixed
        step keeps the history bit-reproducible across scipy versions.

        Parameters
        ----------
        feed_frac : float
            Feed valve setpoint. [-]
        steam_kg_s : float
            Heating-steam setpoint. [kg/s]
        dt_s : float
            Duration. [s]

        Returns
        -------
        numpy.ndarray
            :meth:`outputs` at the end of the step. [K, -, kg/s]
        """
        feed_kg_s = self.feed_max_kg_s * feed_frac
        n = max(1, round(dt_s / _H_S))
        h = dt_s / n
        z = self.state
        for _ in range(n):
            k1 = self._rates(z, feed_kg_s, steam_kg_s)
            k2 = self._rates(z + 0.5 * h * k1, feed_kg_s, steam_kg_s)
            k3 = self._rates(z + 0.5 * h * k2, feed_kg_s, steam_kg_s)
            k4 = self._rates(z + h * k3, feed_kg_s, steam_kg_s)
            z = z + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        self.state = z
        return self.outputs(feed_frac)

    def settle(
        self, feed_frac: float, steam_kg_s: float, minutes: int = 120
    ) -> npt.NDArray[np.float64]:
        """Hold the setpoints long enough to reach the steady state; return its outputs."""
        for _ in range(minutes):
            out = self.step(feed_frac, steam_kg_s)
        return out


def _held_levels(
    rng: np.random.Generator, n: int, low: float, high: float, hold_min: int, hold_max: int
) -> npt.NDArray[np.float64]:
    """Random levels in ``[low, high]``, each held ``hold_min..hold_max`` samples.

    Persistently exciting: every frequency the identification needs is present.
    """
    holds = rng.integers(hold_min, hold_max + 1, size=n)
    return np.repeat(rng.uniform(low, high, size=n), holds)[:n]


def record_history(
    n_samples: int = 3000, *, seed: int = 0
) -> tuple[npt.NDArray[np.int64], dict[str, npt.NDArray[np.float64]]]:
    """Simulate the truth under an operator's setpoint moves and record every tag.

    The feed valve moves between 45 and 75 % and the steam setpoint between
    3.5 and 6.5 t/h, each held 5-20 minutes (the excitation an identification
    needs); sensors add white noise.

    Parameters
    ----------
    n_samples : int
        Number of one-minute samples.
    seed : int
        Seed of the setpoint moves and the noise.

    Returns
    -------
    time_ms : numpy.ndarray
        Sample times, int64, shape ``(n_samples,)``. [ms since epoch]
    values : dict of str to numpy.ndarray
        Tag -> values, in the tag's unit (:data:`TAG_UNITS`).
    """
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    rng = np.random.default_rng(seed)
    feed = _held_levels(rng, n_samples, 0.45, 0.75, 5, 20)
    steam_kg_s = _held_levels(rng, n_samples, 3.5, 6.5, 5, 20) / 3.6
    truth = ReactorTruth()
    truth.settle(feed[0], steam_kg_s[0])
    y = np.empty((n_samples, 3))
    s_actual = np.empty(n_samples)
    y[0] = truth.outputs(feed[0])
    s_actual[0] = truth.state[2]
    for k in range(1, n_samples):
        y[k] = truth.step(feed[k - 1], steam_kg_s[k - 1])
        s_actual[k] = truth.state[2]
    values = {
        TAGS["feed"]: 100.0 * feed,
        TAGS["steam"]: steam_kg_s * 3.6,
        TAGS["temperature"]: y[:, 0] - 273.15,
        TAGS["quality"]: 100.0 * y[:, 1],
        TAGS["product"]: y[:, 2] * 3.6,
        TAGS["boiler_steam"]: s_actual * 3.6,
        TAGS["fuel"]: boiler_fuel_m3_s(s_actual) * _S_PER_H,
    }
    for tag, std in _NOISE.items():
        values[tag] = values[tag] + std * rng.standard_normal(n_samples)
    time_ms = START_MS + round(DT_S * 1000.0) * np.arange(n_samples, dtype=np.int64)
    return time_ms, values


def write_datadriven_history(
    path: str | os.PathLike[str], n_samples: int = 3000, *, seed: int = 0, overwrite: bool = False
) -> Path:
    """Write the recorded history of the data-driven demo plant as an HDF5 historian file.

    Parameters
    ----------
    path : str or path-like
        Destination file (written atomically).
    n_samples : int
        Number of one-minute samples.
    seed : int
        Seed of the setpoint moves and the noise.
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    from energyopt.data.writer import write_historian

    time_ms, values = record_history(n_samples, seed=seed)
    return write_historian(
        path,
        time_ms,
        values,
        TAG_UNITS,
        kinds=_TAG_KINDS,
        plant="Data-driven reactor and boiler (demo)",
        overwrite=overwrite,
    )
