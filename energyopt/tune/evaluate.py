"""What one trial computes in one replay window, and how worker processes find it.

An *evaluate function* has the signature
``evaluate(project, data_path, start_ms, end_ms) -> Mapping[str, float]``
(KPI key -> value in the KPI's unit) and lives at module level, so a worker
process (local or on a dask cluster) imports it by its reference
``"package.module:function"``.  References are resolved with
:func:`importlib.import_module` against :data:`ALLOWED_PACKAGES`, never
evaluated as code.  The default, :func:`replay_kpis`, replays the window
with the economic MPC (:func:`energyopt.replay.run_prepared`), reading the
window once per worker process: the historian read, the replay case and the
forecast record are kept in a small per-process cache keyed by the project
outside ``[controller]`` and ``[tune]`` (:func:`energyopt.replay.run.plant_fingerprint`),
the data file and the window, and each trial only builds its controller
(:meth:`energyopt.replay.PreparedReplay.for_project`).

:func:`run_window` is the job a worker runs: it receives only plain data
(the project's TOML text, the overrides, paths and times), rebuilds and
validates the project, applies the trial's overrides and calls the evaluate
function.  A user-facing failure (:class:`~energyopt.errors.EnergyoptError`,
for example an infeasible controller) is returned as the trial's error
instead of being raised, so one bad setting does not stop the tune.
"""

from __future__ import annotations

import importlib
import math
import os
import re
import threading
import time
import tomllib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from energyopt.errors import DataError, EnergyoptError, ProjectError

if TYPE_CHECKING:
    from energyopt.project import Project
    from energyopt.replay import PreparedReplay

__all__ = [
    "ALLOWED_PACKAGES",
    "DEFAULT_EVALUATE",
    "EvaluateFunction",
    "clear_prepared_cache",
    "init_local_worker",
    "init_worker",
    "replay_kpis",
    "resolve_evaluate",
    "run_window",
]

#: ``evaluate(project, data_path, start_ms, end_ms) -> {kpi key: value}``.
EvaluateFunction = Callable[["Project", str, int, int], Mapping[str, float]]

#: Top-level packages an evaluate reference may name (our own code only).
ALLOWED_PACKAGES: tuple[str, ...] = (
    "energyopt",
    "controllers",
    "plant_models",
    "benchmarks",
    "tests",
)

#: The default evaluate function: a replay with the economic MPC.
DEFAULT_EVALUATE = "energyopt.tune.evaluate:replay_kpis"

_REF = re.compile(
    r"^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*):([A-Za-z_][A-Za-z0-9_]*)$"
)


def resolve_evaluate(reference: str) -> EvaluateFunction:
    """Import the evaluate function named ``"package.module:function"``.

    Parameters
    ----------
    reference : str
        Module path and function name, the module inside one of
        :data:`ALLOWED_PACKAGES`.

    Returns
    -------
    callable
        The function.

    Raises
    ------
    ProjectError
        If the reference is malformed, outside the allowed packages, cannot be
        imported, or does not name a callable.
    """
    match = _REF.match(reference) if isinstance(reference, str) else None
    if match is None:
        raise ProjectError(f"evaluate function {reference!r}: expected 'package.module:function'")
    module_name, attr = match.groups()
    if module_name.split(".", 1)[0] not in ALLOWED_PACKAGES:
        raise ProjectError(
            f"evaluate function {reference!r}: module must be inside {', '.join(ALLOWED_PACKAGES)}"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ProjectError(f"evaluate function {reference!r}: cannot import: {exc}") from None
    function = getattr(module, attr, None)
    if not callable(function):
        raise ProjectError(f"evaluate function {reference!r}: no function '{attr}' in the module")
    return function


#: Prepared windows kept per process (a tune's windows; a few MB each for days).
PREPARED_CACHE_SIZE = 8
#: Forecast history read into a cached window at least: the default search
#: space's longest ``[controller.forecast] training_s``, so every trial's
#: training fits in it. [s]
_RECORD_HISTORY_S = 28 * 86_400.0

_prepared_cache: OrderedDict[tuple[Any, ...], tuple[float, PreparedReplay]] = OrderedDict()
_prepared_lock = threading.Lock()


def clear_prepared_cache() -> None:
    """Forget the replay windows this process prepared (:func:`replay_kpis`)."""
    with _prepared_lock:
        _prepared_cache.clear()


def _prepared_window(
    project: Project, data_path: str, start_ms: int, end_ms: int
) -> PreparedReplay:
    """The window prepared once per process, as seen by ``project``'s controller."""
    from energyopt.replay import prepare_replay
    from energyopt.replay.run import plant_fingerprint

    path = Path(data_path).resolve()
    try:
        stat = path.stat()
    except OSError as exc:
        raise DataError(f"tune: cannot read the data file {data_path}: {exc}") from None
    ctl = project.controller
    economic = "economic" in ctl.model_fields_set
    key = (
        plant_fingerprint(project),
        str(path),
        stat.st_mtime_ns,
        stat.st_size,
        int(start_ms),
        int(end_ms),
        # The control interval sets the case's grid (see control_interval_s).
        ctl.economic_interval_s if economic else ctl.interval_s,
        economic,
    )
    training_s = float(ctl.forecast.training_s or 0.0)
    with _prepared_lock:
        entry = _prepared_cache.get(key)
        if entry is not None:
            _prepared_cache.move_to_end(key)
    if entry is None or entry[0] < training_s:
        history_s = max(_RECORD_HISTORY_S, training_s)
        prepared = prepare_replay(
            project,
            os.fspath(data_path),
            start_ms=start_ms,
            end_ms=end_ms,
            with_record=economic,
            record_history_s=history_s,
        )
        entry = (history_s, prepared)
        with _prepared_lock:
            _prepared_cache[key] = entry
            while len(_prepared_cache) > PREPARED_CACHE_SIZE:
                _prepared_cache.popitem(last=False)
    return entry[1].for_project(project)


def replay_kpis(
    project: Project, data_path: str, start_ms: int, end_ms: int, *, reuse: bool = True
) -> dict[str, float]:
    """Replay one window with the economic MPC and return its KPIs.

    Parameters
    ----------
    project : Project
        The project with the trial's settings.
    data_path : str
        The recorded historian file.
    start_ms, end_ms : int
        The window. [ms since epoch]
    reuse : bool
        Reuse the window prepared by an earlier call in this process (the
        record read, the case built); False reads it again.

    Returns
    -------
    dict
        KPI key -> value in the KPI's unit (NaN where not computable).
    """
    from energyopt.replay import run_prepared, run_replay

    if reuse:
        prepared = _prepared_window(project, data_path, start_ms, end_ms)
        run = run_prepared(prepared, "mpc")
    else:
        run = run_replay(project, data_path, "mpc", start_ms=start_ms, end_ms=end_ms)
    return {key: float(result.value) for key, result in run.kpis.items()}


def init_worker() -> None:
    """Prepare a worker process: numba's cache and the kernel folder in the user cache."""
    from energyopt.runtime import configure_caches

    configure_caches()


def init_local_worker() -> None:
    """Prepare a local worker process: :func:`init_worker`, and ignore Ctrl-C.

    Ctrl-C reaches every process of the terminal's process group; the tune's
    main process handles it (stops the workers, keeps the journal
    consistent), so a worker must not die of it half-way through a job.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    init_worker()


def _json_number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def run_window(
    evaluate: str,
    project_text: str,
    source: str | None,
    overrides: Mapping[str, Any],
    data_path: str,
    start_ms: int,
    end_ms: int,
) -> dict[str, Any]:
    """Evaluate one trial in one window (the job run by a worker process).

    Parameters
    ----------
    evaluate : str
        Reference of the evaluate function (:func:`resolve_evaluate`).
    project_text : str
        The project's TOML text (:func:`energyopt.project.dumps_project`).
    source : str or None
        Path the project was read from (relative paths inside it).
    overrides : mapping
        The trial's dotted keys -> values (empty: the current settings).
    data_path : str
        The historian file.
    start_ms, end_ms : int
        The window. [ms since epoch]

    Returns
    -------
    dict
        ``{"kpis": {key: value or None}, "seconds": wall time [s], "cpu_seconds":
        CPU time of the worker process [s], "error": str or None}``.
    """
    from energyopt.project import project_from_mapping
    from energyopt.project.overrides import apply_overrides

    started, cpu = time.perf_counter(), time.process_time()
    try:
        function = resolve_evaluate(evaluate)
        project = project_from_mapping(tomllib.loads(project_text), source=source or "project")
        project = project.with_source(source)
        if overrides:
            project = apply_overrides(project, overrides)
        kpis = function(project, data_path, int(start_ms), int(end_ms))
    except EnergyoptError as exc:
        return {
            "kpis": {},
            "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu,
            "error": str(exc),
        }
    return {
        "kpis": {str(k): _json_number(v) for k, v in kpis.items()},
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "error": None,
    }
