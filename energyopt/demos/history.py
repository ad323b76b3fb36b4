"""Synthetic recorded history for a project: one realistic signal per bound tag.

Each historian tag a project binds gets a signal shaped by its kind and role:
flows and powers follow a daily production profile with slow drift and
measurement noise; levels and other controlled variables wander inside their
normal band and occasionally leave it; manipulated variables and setpoints
are piecewise constant with operator moves every few hours.  The history then
receives the defects real exports have, at known places: missing rows (gaps),
a frozen sensor, a spike and scattered NaN samples, so that the data-quality
layer has something to find.

The signals are statistically realistic but not physically coupled (a holder
level does not integrate its flows); physically consistent histories come from
simulating the plant model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from energyopt.data.writer import write_historian
from energyopt.project import Project, TagBinding

__all__ = ["InjectedDefects", "synthesize_history", "write_synthetic_history"]

MS_PER_S = 1000
#: Start of every demo history: 2026-01-05 00:00 (a Monday) in UTC [ms].
DEMO_START_MS = 1_767_571_200_000


@dataclass(frozen=True)
class InjectedDefects:
    """Where the synthetic history's deliberate defects are.

    Attributes
    ----------
    gaps_ms : tuple of (int, int)
        Time ranges whose rows were removed. [ms]
    frozen_tag : str
        Tag whose sensor is frozen.
    frozen_range_ms : tuple of int
        Time range of the frozen sensor. [ms]
    spike_tag : str
        Tag with one spike sample.
    spike_time_ms : int
        Time of the spike. [ms]
    nan_tag : str
        Tag with scattered NaN samples.
    nan_count : int
        Number of NaN samples injected.
    """

    gaps_ms: tuple[tuple[int, int], ...]
    frozen_tag: str
    frozen_range_ms: tuple[int, int]
    spike_tag: str
    spike_time_ms: int
    nan_tag: str
    nan_count: int


def _band(binding: TagBinding) -> tuple[float, float]:
    if binding.range is not None:
        return float(binding.range[0]), float(binding.range[1])
    if binding.hard is not None:
        return float(binding.hard[0]), float(binding.hard[1])
    return 0.0, 100.0


def _ar1(rng: np.random.Generator, n: int, step_s: float, tau_s: float) -> npt.NDArray[np.float64]:
    """Unit-variance AR(1) noise with correlation time ``tau_s`` (vectorised via lfilter)."""
    from scipy.signal import lfilter

    phi = math.exp(-step_s / tau_s)
    white = rng.standard_normal(n) * math.sqrt(1.0 - phi * phi)
    out: npt.NDArray[np.float64] = lfilter([1.0], [1.0, -phi], white)
    return out


def _signal(
    binding: TagBinding, t_s: npt.NDArray[np.float64], rng: np.random.Generator, step_s: float
) -> npt.NDArray[np.float64]:
    lo, hi = _band(binding)
    span = hi - lo
    n = t_s.size
    day_phase = 2.0 * math.pi * (t_s % 86_400.0) / 86_400.0
    if binding.role in {"manipulated"} or binding.kind == "setpoint":
        centre = lo + 0.5 * span if binding.limits is None else float(np.mean(binding.limits))
        # Operator moves: a new setpoint every 2-8 h, steps of up to 5 % of span.
        values = np.empty(n)
        i = 0
        level = centre
        while i < n:
            hold = int(rng.uniform(2.0, 8.0) * 3600.0 / step_s)
            values[i : i + hold] = level
            level = float(
                np.clip(level + rng.normal(0.0, 0.05 * span), lo + 0.1 * span, hi - 0.1 * span)
            )
            i += hold
        return values
    if binding.normal is not None:
        n_lo, n_hi = float(binding.normal[0]), float(binding.normal[1])
        centre, half = 0.5 * (n_lo + n_hi), 0.5 * (n_hi - n_lo)
        # Wanders over the band with a 3 h correlation time; leaves it a few % of the time.
        values = centre + 0.55 * half * _ar1(rng, n, step_s, 3 * 3600.0)
        values += 0.01 * span * rng.standard_normal(n)
        return np.clip(values, lo, hi)
    # Flows, powers and other measurements: production profile + drift + noise.
    centre = lo + 0.6 * span
    values = centre * (1.0 + 0.06 * np.sin(day_phase - 1.2) + 0.03 * np.sin(2 * day_phase))
    values += 0.04 * span * _ar1(rng, n, step_s, 6 * 3600.0)
    values += 0.005 * span * rng.standard_normal(n)
    return np.clip(values, lo, hi)


def synthesize_history(
    project: Project, *, days: float = 7.0, step_s: float = 60.0, seed: int = 0
) -> tuple[npt.NDArray[np.int64], dict[str, npt.NDArray[np.float64]], InjectedDefects]:
    """Build a synthetic recorded history for every tag bound in a project.

    Parameters
    ----------
    project : Project
        Validated project; one signal per binding.
    days : float
        Length of the history. [d]
    step_s : float
        Sampling interval. [s]
    seed : int
        Seed of the random generator; the same seed gives the same history.

    Returns
    -------
    time_ms : ndarray of int64
        Sample times, with the injected gaps removed. [ms since epoch]
    values : dict of str to ndarray
        Tag name -> values in the binding's unit.
    defects : InjectedDefects
        Where the deliberate defects are.
    """
    rng = np.random.default_rng(seed)
    n = round(days * 86_400.0 / step_s)
    t_s: npt.NDArray[np.float64] = np.arange(n, dtype=np.float64) * step_s
    time_ms = DEMO_START_MS + np.round(t_s * MS_PER_S).astype(np.int64)
    bindings = list(project.bindings.values())
    values = {b.tag: _signal(b, t_s, rng, step_s) for b in bindings}

    # Defects at fixed fractions of the history so every length has them.
    def at(fraction: float) -> int:
        return min(n - 1, int(fraction * n))

    frozen = next((b for b in bindings if b.kind in {"pressure", "temperature"}), bindings[0])
    f0, f1 = at(0.30), min(n - 1, at(0.30) + int(4 * 3600 / step_s))
    values[frozen.tag][f0:f1] = values[frozen.tag][f0]
    flows = [b for b in bindings if b.kind in {"flow", "power"} and b.role != "manipulated"]
    spiky = flows[0] if flows else bindings[-1]
    s_i = at(0.55)
    lo, hi = _band(spiky)
    values[spiky.tag][s_i] = min(hi, values[spiky.tag][s_i] + 0.35 * (hi - lo))
    nan_b = flows[1] if len(flows) > 1 else bindings[0]
    nan_idx = rng.choice(n, size=max(1, n // 500), replace=False)
    values[nan_b.tag][nan_idx] = np.nan

    gap_specs = ((0.15, 20 * 60), (0.5, 45 * 60), (0.8, 2 * 3600))
    keep = np.ones(n, dtype=bool)
    gaps = []
    for fraction, length_s in gap_specs:
        g0 = at(fraction)
        g1 = min(n, g0 + int(length_s / step_s))
        keep[g0:g1] = False
        gaps.append((int(time_ms[g0]), int(time_ms[g1 - 1])))
    time_ms = time_ms[keep]
    values = {tag: v[keep] for tag, v in values.items()}
    defects = InjectedDefects(
        gaps_ms=tuple(gaps),
        frozen_tag=frozen.tag,
        frozen_range_ms=(
            int(DEMO_START_MS + t_s[f0] * MS_PER_S),
            int(DEMO_START_MS + t_s[f1 - 1] * MS_PER_S),
        ),
        spike_tag=spiky.tag,
        spike_time_ms=int(DEMO_START_MS + t_s[s_i] * MS_PER_S),
        nan_tag=nan_b.tag,
        nan_count=int(np.count_nonzero(keep[nan_idx])),
    )
    return time_ms, values, defects


def write_synthetic_history(
    project: Project,
    path: Path,
    *,
    days: float = 7.0,
    step_s: float = 60.0,
    seed: int = 0,
    overwrite: bool = False,
) -> InjectedDefects:
    """Write :func:`synthesize_history` to a historian file (atomically).

    Parameters
    ----------
    project : Project
        Validated project.
    path : Path
        Destination ``.h5`` file.
    days : float
        Length of the history. [d]
    step_s : float
        Sampling interval. [s]
    seed : int
        Random seed.
    overwrite : bool
        Replace an existing file.
    """
    time_ms, values, defects = synthesize_history(project, days=days, step_s=step_s, seed=seed)
    bindings = {b.tag: b for b in project.bindings.values()}
    write_historian(
        path,
        time_ms,
        values,
        units={tag: bindings[tag].unit for tag in values},
        descriptions={tag: bindings[tag].description or bindings[tag].variable for tag in values},
        kinds={tag: bindings[tag].kind for tag in values},
        plant=project.project.name,
        timezone=project.project.timezone,
        overwrite=overwrite,
    )
    return defects
