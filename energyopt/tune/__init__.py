"""Tuning of controller settings against recorded data (``energyopt tune``).

A tune searches project keys (controller weights, horizons, forecast
settings, soft-constraint priorities) with optuna's seeded TPE sampler for
the best KPI score over several replay windows of a historian file, under
per-window KPI constraints, with trials in parallel local processes or on a
dask.distributed cluster, every finished trial stored so that an
interrupted tune resumes.

Public API
----------
:func:`tune_project` (files in, ``<name>.tuned.toml`` and its evidence
``<name>.tuned.tune.json`` out), :func:`run_tune` (a validated project, a
tune folder -> :class:`TuneResult`), :class:`TuneSettings` (the optional
``[tune]`` project section), :func:`search_space` / :class:`ParamSpec`,
:class:`Objective`, :func:`spread_windows`, :func:`load_tune_project`.

The names are imported on first use (PEP 562): a worker process imports
:mod:`energyopt.tune.evaluate` without numpy, so it can limit BLAS threads
before numpy loads; and no module here imports :mod:`energyopt.project` at
import time, so the project model may hold :class:`TuneSettings` without an
import cycle.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from energyopt.tune.engine import TuneResult, run_tune
    from energyopt.tune.evaluate import DEFAULT_EVALUATE, resolve_evaluate
    from energyopt.tune.objective import Objective, Score
    from energyopt.tune.schema import TuneSettings
    from energyopt.tune.space import ParamSpec, search_space
    from energyopt.tune.store import TrialRecord
    from energyopt.tune.windows import data_windows, spread_windows
    from energyopt.tune.workflow import (
        TuneOutcome,
        default_paths,
        load_tune_project,
        tune_project,
    )

#: Public name -> the module defining it.
_WHERE: dict[str, str] = {
    "DEFAULT_EVALUATE": "evaluate",
    "Objective": "objective",
    "ParamSpec": "space",
    "Score": "objective",
    "TrialRecord": "store",
    "TuneOutcome": "workflow",
    "TuneResult": "engine",
    "TuneSettings": "schema",
    "data_windows": "windows",
    "default_paths": "workflow",
    "load_tune_project": "workflow",
    "resolve_evaluate": "evaluate",
    "run_tune": "engine",
    "search_space": "space",
    "spread_windows": "windows",
    "tune_project": "workflow",
}

__all__ = [
    "DEFAULT_EVALUATE",
    "Objective",
    "ParamSpec",
    "Score",
    "TrialRecord",
    "TuneOutcome",
    "TuneResult",
    "TuneSettings",
    "data_windows",
    "default_paths",
    "load_tune_project",
    "resolve_evaluate",
    "run_tune",
    "search_space",
    "spread_windows",
    "tune_project",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'energyopt.tune' has no attribute {name!r}")
    return getattr(importlib.import_module(f"energyopt.tune.{module}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
