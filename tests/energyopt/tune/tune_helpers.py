"""Cheap deterministic evaluate functions for the tune tests (run in worker processes).

Referenced as ``tests.energyopt.tune.tune_helpers:<name>``: the tune's
workers import them by that name, so they live at module level.

:func:`bowl` has a known optimum: its energy cost is smallest at
``band_weight = 10**2.5`` and ``move_weight = 10**3.5`` (a paraboloid in the
log10 of both), and the stability-rate constraint (>= 99 %) fails when
``move_weight < 10**2.5``.  Every call appends one JSON line (the overrides
seen, the window) to ``<data file>.calls`` so tests can count evaluations.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np

from energyopt.data import write_historian
from energyopt.demos import demo_project_text
from energyopt.errors import SolverError

#: Optimum of :func:`bowl` in log10 of band_weight and move_weight.
BEST_LOG_BAND = 2.5
BEST_LOG_MOVE = 3.5


#: Evaluate function references (workers import this module by that name).
BOWL = "tests.energyopt.tune.tune_helpers:bowl"
SLOW_BOWL = "tests.energyopt.tune.tune_helpers:slow_bowl"
PICKY = "tests.energyopt.tune.tune_helpers:picky"

#: 2023-11-15 00:00 UTC: the start of the tiny data file. [ms]
START_MS = 1_700_006_400_000
DAY_MS = 86_400_000

#: A [tune] section searching two keys (the bowl's arguments) over log ranges.
TUNE_SECTION = """
[tune]
budget = 12
windows = 2
window_s = "1 d"
history_s = 0
defaults = false

[tune.params."controller.band_weight"]
low = 10
high = 10000
scale = "log"

[tune.params."controller.economic.move_weight"]
low = 10
high = 100000
scale = "log"
"""


def write_case(folder: Path, section: str = TUNE_SECTION) -> tuple[Path, Path]:
    """Write ``plant.toml`` (steelworks demo + ``section``) and 3-day ``data.h5`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    project = folder / "plant.toml"
    project.write_text(demo_project_text("steelworks") + section, encoding="utf-8")
    time_ms = START_MS + np.arange(0, 3 * DAY_MS + 1, 600_000, dtype=np.int64)
    data = folder / "data.h5"
    write_historian(data, time_ms, {"X": np.zeros(time_ms.size)}, {"X": "MW"})
    return project, data


def calls(data: Path) -> list[str]:
    """Lines the helper evaluate functions appended (one per window evaluated)."""
    path = Path(f"{data}.calls")
    return path.read_text().splitlines() if path.exists() else []


def _log(project, data_path, start_ms, end_ms) -> tuple[float, float]:
    band = project.controller.band_weight
    move = project.controller.economic.move_weight
    line = json.dumps({"band": band, "move": move, "start_ms": start_ms, "pid": os.getpid()})
    fd = os.open(f"{data_path}.calls", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)
    return math.log10(band), math.log10(move)


def bowl(project, data_path, start_ms, end_ms):
    """KPIs of a paraboloid in log10(band_weight), log10(move_weight); +1 per later window."""
    lb, lm = _log(project, data_path, start_ms, end_ms)
    offset = (start_ms % 86_400_000) / 86_400_000.0
    cost = 1000.0 * ((lb - BEST_LOG_BAND) ** 2 + (lm - BEST_LOG_MOVE) ** 2) + 100.0 + offset
    return {
        "energy_cost": cost,
        "stability_rate": 100.0 if lm >= 2.5 else 95.0,
        "holder_time_outside_hard": float("nan"),
    }


def slow_bowl(project, data_path, start_ms, end_ms):
    """:func:`bowl` taking 0.3 s (for cancellation tests)."""
    time.sleep(0.3)
    return bowl(project, data_path, start_ms, end_ms)


def picky(project, data_path, start_ms, end_ms):
    """:func:`bowl`, but move_weight above 1e5 makes the controller fail."""
    if project.controller.economic.move_weight > 1.0e5:
        raise SolverError("economic MPC: infeasible at this move weight")
    return bowl(project, data_path, start_ms, end_ms)


not_callable = 42
