"""Process set-up shared by every entry point (CLI, GUI, frozen app).

numba reads ``NUMBA_CACHE_DIR`` when it is first imported, and the generated
model kernels (:mod:`plant_models.core.codegen`) are written to
``ENERGYOPT_KERNEL_DIR``: both must point to a writable per-user folder before
any model is compiled, or a frozen app without a writable working directory
recompiles every time or fails.  :func:`configure_caches` sets them from
platformdirs unless the user (or a test) already did.

:func:`warm_numba_cache` fills that cache on first start (the GUI runs it in
a background worker), and :func:`demo_recommendation` asks the advisor
(:class:`energyopt.advise.AdvisorSession`, the recommendations panel's path)
for its first recommendation on a demo history of the steelworks, the proof
that the native parts (numba kernels, the ipopt plugin) load in an installed
copy (``energyopt-gui --smoke``).
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
    "DEMO_HISTORY_DAYS",
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

#: Length of the demo history the smoke test writes: the advisor's forecast
#: needs three days before the first decision (``energyopt.advise.session.MIN_HISTORY_DAYS``),
#: a few hours more give the recommended interval its measurements. [d]
DEMO_HISTORY_DAYS = 3.1


@dataclass(frozen=True)
class DemoRecommendation:
    """Outcome and timing of the first recommendation of the advisor on the demo steelworks.

    Attributes
    ----------
    status : str
        Solver outcome (:class:`controllers.advisor.contract.SolveStatus` value).
    fallback : str
        Where the plan came from (:class:`controllers.advisor.recommendation.FallbackLevel` value).
    time_ms : int
        Start of the control interval recommended. [ms since epoch]
    timezone : str
        The plant's IANA zone.
    mv_names : tuple of str
        The manipulated variables, in the advisor's order.
    setpoints : numpy.ndarray
        Recommended setpoints, shape ``(n_mv,)``; NaN where none. [SI]
    history_path : pathlib.Path
        The demo historian file written.
    history_s : float
        Writing the demo history (truth simulation: numba kernels compiled on
        a cold cache, loaded on a warm one). [s]
    open_s : float
        Opening the advisor session: project, plant, economic MPC (casadi,
        ipopt plugin), forecast record. [s]
    recommend_s : float
        The first recommendation: forecast fit, state, ipopt solve, checks. [s]
    """

    status: str
    fallback: str
    time_ms: int
    timezone: str
    mv_names: tuple[str, ...]
    setpoints: npt.NDArray[np.float64]
    history_path: Path
    history_s: float
    open_s: float
    recommend_s: float

    @property
    def recommendation_s(self) -> float:
        """First-recommendation time: open the session and recommend, data at hand [s].

        The history's simulation only makes the data a plant's historian would hold.
        """
        return self.open_s + self.recommend_s

    @property
    def total_s(self) -> float:
        """Time of the whole call, the demo history included [s]."""
        return self.recommendation_s + self.history_s


def demo_recommendation(
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
    *,
    folder: str | os.PathLike[str],
    project_path: str | os.PathLike[str] | None = None,
    days: float = DEMO_HISTORY_DAYS,
    seed: int = 0,
) -> DemoRecommendation:
    """First recommendation of the advisor on the demo steelworks, by the product's path.

    Writes a demo history of the project into ``folder`` (``history.h5``),
    opens an :class:`energyopt.advise.AdvisorSession` on the project and that
    file in ADVISE mode, reads the file's record once (as the recommendations
    panel does, :func:`energyopt.appstate.advice.open_advisor_session`) and
    asks for the recommendation of the first interval with enough history:
    every native part a recommendation needs (numba kernels, the ipopt
    plugin) is loaded (``energyopt-gui --smoke``).

    Parameters
    ----------
    progress : ProgressCallback
        Called as ``progress(done, total, message)`` with three steps.
    cancel : CancelToken or None
        Checked between steps.
    folder : str or path-like
        Existing folder for the history file (replaced if present).
    project_path : str or path-like, optional
        The steelworks demo project; default the built-in one.
    days : float
        Length of the demo history: more than the forecast's three days. [d]
    seed : int
        Seed of the demo history.

    Returns
    -------
    DemoRecommendation

    Raises
    ------
    SolverError
        If the controller's plan was not used (solver failure or a fallback).
    DataError
        If ``days`` leaves no interval with three days of history before it.
    CancelledError
        If ``cancel`` was set.
    """
    from controllers.advisor.contract import SolveStatus
    from controllers.advisor.recommendation import FallbackLevel
    from energyopt.advise import AdvisorSession
    from energyopt.advise.session import MIN_HISTORY_DAYS
    from energyopt.demos import demo_project_file
    from energyopt.demos.history import write_demo_history
    from energyopt.errors import DataError
    from energyopt.project import load_project

    if not days > MIN_HISTORY_DAYS:
        raise DataError(
            f"demo recommendation: {days:g} days of history are too few; the advisor's "
            f"forecast needs {MIN_HISTORY_DAYS:g} days before the first recommendation"
        )
    cancel = cancel if cancel is not None else CancelToken()
    project_file = (
        Path(project_path) if project_path is not None else demo_project_file("steelworks")
    )
    history = Path(folder) / "history.h5"
    clock = [time.perf_counter()]

    def step(done: int, message: str) -> float:
        cancel.raise_if_cancelled()
        progress(done, 3, message)
        now = time.perf_counter()
        clock.append(now)
        return now - clock[-2]

    step(0, "writing the demo history")
    project = load_project(project_file)
    write_demo_history(project, "steelworks", history, days=days, seed=seed, overwrite=True)
    history_s = step(1, "opening the advisor")
    session = AdvisorSession.open(project_file, history, mode="ADVISE")
    try:
        session.preload(*session.reader.time_span_ms)
        times = session.decision_times()
        if len(times) == 0:
            raise DataError(
                f"{history}: no control interval with {days:g} days of history; "
                "the forecast needs three days before the first"
            )
        open_s = step(2, "recommending")
        at_ms = int(times[0])
        rec = session.recommend(at_ms)
        recommend_s = step(3, "recommendation ready")
        timezone = session.timezone
    finally:
        session.close()
    usable = (SolveStatus.OPTIMAL, SolveStatus.SUBOPTIMAL)
    if rec.fallback != FallbackLevel.NONE or rec.solve_status not in usable:
        status = "not solved" if rec.solve_status is None else rec.solve_status.value
        raise SolverError(
            f"demo recommendation: the economic MPC returned {status}; the advisor fell back "
            f"to '{rec.fallback.value}' ({rec.fallback_reason})"
        )
    return DemoRecommendation(
        status=rec.solve_status.value if rec.solve_status is not None else "",
        fallback=rec.fallback.value,
        time_ms=at_ms,
        timezone=timezone,
        mv_names=tuple(mv.name for mv in rec.mvs),
        setpoints=np.array(
            [np.nan if mv.setpoint is None else float(mv.setpoint) for mv in rec.mvs]
        ),
        history_path=history,
        history_s=history_s,
        open_s=open_s,
        recommend_s=recommend_s,
    )
