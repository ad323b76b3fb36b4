"""Replay a recorded period with a controller on the project's plant model.

Public API
----------
:func:`run_replay` (``project, data_path, controller -> ReplayRun``) and
:func:`prepare_replay` + :func:`run_prepared` (one recorded period read
once, several controllers run on it), :func:`replay_to_dir` (the
``energyopt replay`` workflow: ``results.h5``, ``compare_*.h5``,
``kpis.json``, written atomically).  Building blocks:
:func:`build_case` (:class:`ReplayCase`), :func:`kpi_spec` and
:func:`compute_replay_kpis`, :func:`build_policy`.
"""

from __future__ import annotations

from energyopt.replay.case import ReplayCase, build_case
from energyopt.replay.kpispec import ReplayKpiSpec, compute_replay_kpis, kpi_spec
from energyopt.replay.output import replay_to_dir
from energyopt.replay.policies import CONTROLLERS, build_policy
from energyopt.replay.run import (
    PreparedReplay,
    ReplayRun,
    prepare_replay,
    run_prepared,
    run_replay,
)

__all__ = [
    "CONTROLLERS",
    "PreparedReplay",
    "ReplayCase",
    "ReplayKpiSpec",
    "ReplayRun",
    "build_case",
    "build_policy",
    "compute_replay_kpis",
    "kpi_spec",
    "prepare_replay",
    "replay_to_dir",
    "run_prepared",
    "run_replay",
]
