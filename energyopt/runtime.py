"""Process set-up shared by every entry point (CLI, GUI, frozen app).

numba reads ``NUMBA_CACHE_DIR`` when it is first imported, and the generated
model kernels (:mod:`plant_models.core.codegen`) are written to
``ENERGYOPT_KERNEL_DIR``: both must point to a writable per-user folder before
any model is compiled, or a frozen app without a writable working directory
recompiles every time or fails.  :func:`configure_caches` sets them from
platformdirs unless the user (or a test) already did.

:func:`warm_numba_cache` fills that cache on first start (the GUI runs it in
a background worker), and :func:`demo_recommendation` runs one economic-MPC
recommendation on the demo steelworks, the proof that the native parts (numba
kernels, the ipopt plugin) load in an installed copy (``energyopt-gui --smoke``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from energyopt.errors import ProjectError, SolverError
from energyopt.progress import CancelToken, ProgressCallback, null_progress

__all__ = [
    "APP_NAME",
    "WARM_PLANTS",
    "DemoRecommendation",
    "configure_caches",
    "demo_recommendation",
    "user_cache_dir",
    "warm_numba_cache",
]

APP_NAME = "energyopt"


def user_cache_dir() -> Path:
    """Return the per-user cache folder of energyopt (platformdirs)."""
    from platformdirs import user_cache_path

    return user_cache_path(APP_NAME, appauthor=False)


def configure_caches() -> dict[str, str]:
    """Point numba's cache and the generated-kernel folder to the user cache.

    Variables already set are kept.  Returns the values in force.
    """
    from plant_models.core.codegen import KERNEL_DIR_ENV

    root = user_cache_dir()
    os.environ.setdefault("NUMBA_CACHE_DIR", str(root / "numba"))
    os.environ.setdefault(KERNEL_DIR_ENV, str(root / "kernels"))
    return {name: os.environ[name] for name in ("NUMBA_CACHE_DIR", KERNEL_DIR_ENV)}


# ---------------------------------------------------------------- first start

#: Demo plants whose model kernels :func:`warm_numba_cache` compiles: those
#: with a truth simulator (the data-driven demo has no numba model).
WARM_PLANTS: tuple[str, ...] = ("steelworks", "chemical")

#: Length of the short simulation that compiles (or loads) a plant's kernels. [d]
_WARM_DAYS = 0.01


def warm_numba_cache(
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
    *,
    plants: Sequence[str] = WARM_PLANTS,
) -> dict[str, float]:
    """Compile the numba kernels of the demo plants into the per-user cache.

    Runs each plant's truth simulator for a few minutes of plant time: that
    generates the plant's kernel module and compiles, through the same code
    path as a replay or a demo, every kernel it calls (about 10-30 s a plant
    on a cold cache).  Later processes then load the compiled code from
    ``NUMBA_CACHE_DIR`` in a fraction of a second.  Call
    :func:`configure_caches` first (every entry point does).

    Parameters
    ----------
    progress : ProgressCallback
        Called as ``progress(done, total, message)`` with plants as units.
    cancel : CancelToken or None
        Checked between plants.
    plants : sequence of str
        Demo plants to warm (default :data:`WARM_PLANTS`).

    Returns
    -------
    dict of str to float
        Wall-clock time each plant took. [s]

    Raises
    ------
    ProjectError
        If a name is not a demo plant with a truth simulator.
    CancelledError
        If ``cancel`` was set.
    """
    from energyopt.demos import demo_project_file
    from energyopt.demos.history import clean_history
    from energyopt.project import load_project

    unknown = [name for name in plants if name not in WARM_PLANTS]
    if unknown:
        raise ProjectError(
            f"cannot warm the kernels of {', '.join(map(repr, unknown))}: "
            f"plants with a truth simulator are {', '.join(WARM_PLANTS)}"
        )
    cancel = cancel if cancel is not None else CancelToken()
    elapsed: dict[str, float] = {}
    for done, name in enumerate(plants):
        cancel.raise_if_cancelled()
        progress(done, len(plants), f"compiling the {name} model kernels")
        start = time.perf_counter()
        clean_history(load_project(demo_project_file(name)), name, days=_WARM_DAYS)
        elapsed[name] = time.perf_counter() - start
    progress(len(plants), len(plants), "model kernels ready")
    return elapsed


# ---------------------------------------------------------------- smoke test


@dataclass(frozen=True)
class DemoRecommendation:
    """Outcome and timing of one economic-MPC recommendation on the demo steelworks.

    Attributes
    ----------
    status : str
        Solver outcome (:class:`controllers.advisor.contract.SolveStatus` value).
    mv_plan : numpy.ndarray
        Planned manipulated variables, shape ``(n_intervals, n_mv)``. [SI]
    mv_names : tuple of str
        Names of the manipulated variables (columns of ``mv_plan``).
    plant_s : float
        Loading the project and building its plant. [s]
    simulation_s : float
        Truth simulation of the demo history (numba kernels: compiled on a
        cold cache, loaded on a warm one). [s]
    controller_s : float
        Building the economic MPC (casadi NLP, ipopt plugin loaded). [s]
    solve_s : float
        The one ipopt solve. [s]
    """

    status: str
    mv_plan: npt.NDArray[np.float64]
    mv_names: tuple[str, ...]
    plant_s: float
    simulation_s: float
    controller_s: float
    solve_s: float

    @property
    def recommendation_s(self) -> float:
        """Time from the request to the recommendation, data at hand [s].

        Plant, controller and solve: the simulation only makes the demo data
        a plant's historian would hold.
        """
        return self.plant_s + self.controller_s + self.solve_s

    @property
    def total_s(self) -> float:
        """Time of the whole call, the demo data's simulation included [s]."""
        return self.recommendation_s + self.simulation_s


def demo_recommendation(
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
    *,
    days: float = 1.1,
    seed: int = 0,
) -> DemoRecommendation:
    """Run one economic-MPC recommendation on the demo steelworks (smoke test).

    Loads the built-in steelworks project, simulates its truth plant for
    ``days`` (numba kernels), builds the project's economic MPC on
    perfect foresight of that record and solves it once from the first
    recorded state (ipopt): every native part a recommendation needs is
    loaded.  Uses :func:`energyopt.controlbuild.build_economic_controller`
    until the advisor session exists.

    Parameters
    ----------
    progress : ProgressCallback
        Called as ``progress(done, total, message)`` with four steps.
    cancel : CancelToken or None
        Checked between steps.
    days : float
        Length of the simulated record: at least the controller's horizon. [d]
    seed : int
        Seed of the demo history.

    Returns
    -------
    DemoRecommendation

    Raises
    ------
    SolverError
        If the solve gave no usable plan.
    CancelledError
        If ``cancel`` was set.
    """
    from controllers.advisor.contract import SolveStatus
    from energyopt.controlbuild import build_economic_controller, perfect_foresight
    from energyopt.demos import demo_project_file
    from energyopt.demos.history import DEMO_START_MS
    from energyopt.demos.steelworks_truth import run_truth
    from energyopt.plantbuild import build_plant
    from energyopt.project import load_project

    cancel = cancel if cancel is not None else CancelToken()
    clock = [time.perf_counter()]

    def step(done: int, message: str) -> float:
        cancel.raise_if_cancelled()
        progress(done, 4, message)
        now = time.perf_counter()
        clock.append(now)
        return now - clock[-2]

    step(0, "building the demo steelworks")
    built = build_plant(load_project(demo_project_file("steelworks")))
    plant_s = step(1, "simulating the demo history")
    run = run_truth(built, days=days, seed=seed, start_ms=DEMO_START_MS)
    time_ms = DEMO_START_MS + np.round(run.time_s * 1000.0).astype(np.int64)
    source = perfect_foresight(built, time_ms, run.disturbances)
    simulation_s = step(2, "building the economic MPC")
    mpc = build_economic_controller(built.project, built, source)
    controller_s = step(3, "solving")
    mv_index = [built.index("u", name) for name in mpc.mv_names]
    low = np.array([mv.low for mv in mpc.settings.mvs])
    high = np.array([mv.high for mv in mpc.settings.mvs])
    mv_now = np.clip(run.inputs[0][mv_index], low, high)
    solution = mpc.plan(run.states[0], mv_now, source(time_ms[0] / 1000.0))
    solve_s = step(4, "recommendation ready")
    if solution.status not in (SolveStatus.OPTIMAL, SolveStatus.SUBOPTIMAL):
        raise SolverError(
            f"demo recommendation: the economic MPC returned {solution.status.value} "
            f"({solution.message})"
        )
    return DemoRecommendation(
        solution.status.value,
        np.asarray(solution.mv_plan, dtype=float),
        tuple(mpc.mv_names),
        plant_s,
        simulation_s,
        controller_s,
        solve_s,
    )
