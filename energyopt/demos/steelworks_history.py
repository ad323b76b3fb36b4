"""Clean recorded history of the steelworks demo: every bound tag from the truth simulation.

:func:`record_history` runs :func:`energyopt.demos.steelworks_truth.run_truth`
and reads each bound tag from the model variable it binds
(:class:`energyopt.plantbuild.BindingMap`), converted to the tag's unit.
Sensor noise and data defects are added by the common layer
(:func:`energyopt.demos.history.demo_history`), not here.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from energyopt.demos.history import DEMO_START_MS
from energyopt.plantbuild import build_plant
from energyopt.project import Project

__all__ = ["record_history"]


def record_history(
    project: Project, *, days: float, step_s: float = 60.0, seed: int = 0
) -> tuple[npt.NDArray[np.int64], dict[str, npt.NDArray[np.float64]]]:
    """Simulate the steelworks truth plant and return every bound tag, clean.

    Parameters
    ----------
    project : Project
        The steelworks project.
    days : float
        Length of the history. [d]
    step_s : float
        Sampling (and dispatch) interval. [s]
    seed : int
        Seed of the simulation's random choices.

    Returns
    -------
    time_ms : numpy.ndarray of int64
        Sample times. [ms since epoch]
    values : dict of str to numpy.ndarray
        Tag -> values in the tag's unit. [tag unit]

    Raises
    ------
    ModelError
        If the plant cannot be built or the simulation fails.
    """
    from energyopt.demos.steelworks_truth import run_truth

    built = build_plant(project)
    run = run_truth(built, days=days, step_s=step_s, seed=seed, start_ms=DEMO_START_MS)
    vectors = {
        "x": run.states[:-1],
        "u": run.inputs,
        "d": run.disturbances,
        "y": run.outputs,
    }
    time_ms = DEMO_START_MS + np.round(run.time_s * 1000.0).astype(np.int64)
    values = {
        entry.tag: entry.to_tag(vectors[entry.vector][:, entry.index])
        for entry in built.bindings.entries
    }
    return time_ms, values
