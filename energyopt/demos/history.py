"""Recorded demo histories: a clean simulated signal per bound tag, then noise and defects.

Every demo plant's history goes through one common layer:

1. a *clean* history of every bound tag, in the tag's unit, from the plant's
   truth simulator -- :func:`energyopt.demos.steelworks_history.record_history`
   and ``energyopt.demos.chemical_history.record_history`` share the
   signature ``record_history(project, *, days, step_s, seed) ->
   (time_ms, {tag: values})``;
2. :func:`add_sensor_noise`: white measurement noise scaled to each tag's
   range (setpoints are exact);
3. :func:`inject_defects`: the defects real exports have, at known places --
   missing rows (gaps), a frozen sensor, a spike and scattered NaN samples --
   so that the data-quality layer has something to find.

"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from energyopt.data.writer import write_historian
from energyopt.project import Project, TagBinding

__all__ = [
    "InjectedDefects",
    "add_sensor_noise",
    "clean_history",
    "demo_history",
    "inject_defects",
    "write_demo_history",
]

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
    """Plausible span of a tag: its range, else its hard limits, else 0-100."""
    if binding.range is not None:
        return float(binding.range[0]), float(binding.range[1])
    if binding.hard is not None:
        return float(binding.hard[0]), float(binding.hard[1])
    return 0.0, 100.0


#: Standard deviation of the measurement noise as a fraction of the tag's span, by kind.
_NOISE_OF_SPAN: dict[str, float] = {
    "flow": 2e-3,
    "power": 1e-3,
    "pressure": 5e-4,
    "level": 5e-4,
    "property": 2e-3,
    "temperature": 5e-4,
}


def add_sensor_noise(
    project: Project,
    values: dict[str, npt.NDArray[np.float64]],
    rng: np.random.Generator,
) -> dict[str, npt.NDArray[np.float64]]:
    """Return the values with white measurement noise added (setpoints stay exact).

    The noise's standard deviation is a share of the tag's range
    (:data:`_NOISE_OF_SPAN` by kind, 0.1 % otherwise); values stay inside the
    range.

    Parameters
    ----------
    project : Project
        The project whose bindings give kinds and ranges.
    values : dict of str to ndarray
        Tag -> clean values. [tag unit]
    rng : numpy.random.Generator
        Random source.
    """
    out: dict[str, npt.NDArray[np.float64]] = {}
    for binding in project.bindings.values():
        clean = np.asarray(values[binding.tag], dtype=np.float64)
        if binding.kind == "setpoint" or binding.role == "manipulated":
            out[binding.tag] = clean.copy()
            continue
        lo, hi = _band(binding)
        sigma = _NOISE_OF_SPAN.get(binding.kind, 1e-3) * (hi - lo)
        noisy = clean + sigma * rng.standard_normal(clean.size)
        out[binding.tag] = np.clip(noisy, lo, hi) if binding.range is not None else noisy
    return out


def inject_defects(
    project: Project,
    time_ms: npt.NDArray[np.int64],
    values: dict[str, npt.NDArray[np.float64]],
    rng: np.random.Generator,
    *,
    step_s: float = 60.0,
) -> tuple[npt.NDArray[np.int64], dict[str, npt.NDArray[np.float64]], InjectedDefects]:
    """Put the defects of real exports into a history, at fixed fractions of its length.

    Three gaps (rows removed: 20 min, 45 min, 2 h), a sensor frozen for 4 h
    (the first pressure or temperature tag), one spike (the first measured
    flow or power) and scattered NaN samples (the second one).

    Parameters
    ----------
    project : Project
        The project whose bindings choose the tags.
    time_ms : ndarray of int64
        Regular sample times. [ms since epoch]
    values : dict of str to ndarray
        Tag -> values. [tag unit]
    rng : numpy.random.Generator
        Random source (NaN positions).
    step_s : float
        Sampling interval. [s]

    Returns
    -------
    time_ms, values, defects
        The history with the defects, and where they are.
    """
    values = {tag: np.array(v, dtype=np.float64, copy=True) for tag, v in values.items()}
    n = time_ms.size
    bindings = list(project.bindings.values())

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
    defects = InjectedDefects(
        gaps_ms=tuple(gaps),
        frozen_tag=frozen.tag,
        frozen_range_ms=(int(time_ms[f0]), int(time_ms[f1 - 1])),
        spike_tag=spiky.tag,
        spike_time_ms=int(time_ms[s_i]),
        nan_tag=nan_b.tag,
        nan_count=int(np.count_nonzero(keep[nan_idx])),
    )
    return time_ms[keep], {tag: v[keep] for tag, v in values.items()}, defects


def clean_history(
    project: Project, plant: str, *, days: float = 7.0, step_s: float = 60.0, seed: int = 0
) -> tuple[npt.NDArray[np.int64], dict[str, npt.NDArray[np.float64]]]:
    """Return the clean history of a demo plant from its truth simulator.

    Parameters
    ----------
    project : Project
        The demo project.
    plant : str
        Demo plant name (``steelworks`` or ``chemical``).
    days : float
        Length. [d]
    step_s : float
        Sampling interval. [s]
    seed : int
        Random seed.
    """
    if plant == "steelworks":
        from energyopt.demos.steelworks_history import record_history

        return record_history(project, days=days, step_s=step_s, seed=seed)
    from energyopt.demos.chemical_history import record_history as chemical_record

    result: tuple[npt.NDArray[np.int64], dict[str, npt.NDArray[np.float64]]] = chemical_record(
        project, days=days, step_s=step_s, seed=seed
    )
    return result


def demo_history(
    project: Project, plant: str, *, days: float = 7.0, step_s: float = 60.0, seed: int = 0
) -> tuple[npt.NDArray[np.int64], dict[str, npt.NDArray[np.float64]], InjectedDefects]:
    """Return a demo plant's recorded history: clean signals, sensor noise, defects.

    Deterministic for a given seed.

    Parameters
    ----------
    project : Project
        The demo project.
    plant : str
        Demo plant name (``steelworks`` or ``chemical``).
    days : float
        Length. [d]
    step_s : float
        Sampling interval. [s]
    seed : int
        Random seed.

    Returns
    -------
    time_ms, values, defects
        Sample times [ms since epoch], tag -> values [tag unit], and where the
        injected defects are.
    """
    time_ms, clean = clean_history(project, plant, days=days, step_s=step_s, seed=seed)
    rng = np.random.default_rng([seed, 1])  # independent of the simulator's stream
    noisy = add_sensor_noise(project, clean, rng)
    return inject_defects(project, time_ms, noisy, rng, step_s=step_s)


def write_demo_history(
    project: Project,
    plant: str,
    path: Path,
    *,
    days: float = 7.0,
    step_s: float = 60.0,
    seed: int = 0,
    overwrite: bool = False,
) -> InjectedDefects:
    """Write :func:`demo_history` to a historian file (atomically).

    Parameters
    ----------
    project : Project
        Validated demo project.
    plant : str
        Demo plant name.
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
    time_ms, values, defects = demo_history(project, plant, days=days, step_s=step_s, seed=seed)
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
