"""A finished tune left beside a project, written by the real workflow without replaying.

:func:`write_stored_tune` runs :func:`energyopt.tune.tune_project` on the tune
case of the tune tests (``tests.energyopt.tune.tune_helpers``) with the trial
loop (:func:`energyopt.tune.engine.run_tune`) replaced by a fixed
:class:`~energyopt.tune.TuneResult`: the workflow writes the tuned project
and its evidence as after a real tune, in milliseconds and without worker
processes.  Each record's energy cost is the bowl of the tune helpers
(a paraboloid in log10 of the two weights), so tests check the values shown
against :func:`bowl_cost`.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from unittest import mock

from energyopt.project.overrides import project_value
from energyopt.tune import Objective, TrialRecord, TuneOutcome, TuneResult, search_space
from energyopt.tune.report import input_identity
from energyopt.tune.workflow import load_tune_project, tune_project
from tests.energyopt.tune.tune_helpers import (
    BEST_LOG_BAND,
    BEST_LOG_MOVE,
    DAY_MS,
    START_MS,
    TUNE_SECTION,
    write_case,
)

BAND = "controller.band_weight"
MOVE = "controller.economic.move_weight"

#: Settings of the stored trials (band weight, move weight); trial 2 breaks the
#: stability constraint (move weight below 10**2.5).
TRIAL_SETTINGS = ((100.0, 1000.0), (316.0, 3162.0), (30.0, 100.0))

#: The evidence's modification time set by :func:`write_stored_tune`: 2026-11-20 10:00 UTC. [ms]
MADE_MS = 1_795_168_800_000


def bowl_cost(band: float, move: float) -> float:
    """Energy cost of the bowl in a window starting at midnight (offset 0). [CNY]"""
    return (
        1000.0 * ((math.log10(band) - BEST_LOG_BAND) ** 2 + (math.log10(move) - BEST_LOG_MOVE) ** 2)
        + 100.0
    )


def _record(objective: Objective, number: int | None, band: float, move: float) -> TrialRecord:
    kpis = {
        "energy_cost": bowl_cost(band, move),
        "stability_rate": 100.0 if math.log10(move) >= 2.5 else 95.0,
        "holder_time_outside_hard": math.nan,
    }
    params = {BAND: band, MOVE: move}
    return TrialRecord(number, "complete", params, (kpis,), (0.5,), objective.score([kpis]), "")


def set_mtime(path: Path, ms: int) -> None:
    """Set a file's modification time. [ms since epoch]"""
    os.utime(path, ns=(ms * 1_000_000, ms * 1_000_000))


def write_stored_tune(folder: Path, section: str = TUNE_SECTION) -> tuple[Path, Path, TuneOutcome]:
    """Write the tune case, then a finished tune's tuned project and evidence beside it.

    The project and data files are dated a day before the evidence
    (:data:`MADE_MS`), so the stored result holds for them.

    Returns
    -------
    (project path, data path, outcome of ``tune_project``)
    """
    project_path, data = write_case(folder, section)
    project, settings = load_tune_project(project_path)
    objective = Objective(
        settings.objective, {k: (c.min, c.max) for k, c in settings.constraint_bounds.items()}
    )
    current = _record(objective, None, project_value(project, BAND), project_value(project, MOVE))
    trials = tuple(_record(objective, n, b, m) for n, (b, m) in enumerate(TRIAL_SETTINGS))
    best = min(
        [current, *trials], key=lambda r: (objective.rank_key(r.score), r.number is not None)
    )
    result = TuneResult(
        folder / "plant.tune",
        search_space(project, settings),
        objective,
        ((START_MS, START_MS + DAY_MS),),
        current,
        trials,
        best,
        len(trials),
    )
    with mock.patch("energyopt.tune.engine.run_tune", return_value=result):
        outcome = tune_project(project_path, data, budget=len(trials))
    set_mtime(project_path, MADE_MS - DAY_MS)
    set_mtime(data, MADE_MS - DAY_MS)
    # The evidence records the inputs as the tune read them: with these times.
    content = json.loads(outcome.evidence_path.read_text(encoding="utf-8"))
    content["inputs"] = outcome.evidence["inputs"] = input_identity(project_path, data)
    outcome.evidence_path.write_text(json.dumps(content), encoding="utf-8")
    set_mtime(outcome.evidence_path, MADE_MS)
    return project_path, data, outcome
