"""The tune loop: ask optuna for settings, replay them in parallel, store each result.

One *job* is one set of settings replayed in one window
(:func:`energyopt.tune.evaluate.run_window`); a trial is finished when all
its windows are.  The loop keeps every worker slot busy: when a slot is
free it starts the next queued window, asking the TPE sampler (seeded,
ask/tell interface, constant liar for the trials still running) for a new
trial when none is queued.  The project's current settings are evaluated
first on the same windows (once per tune folder; they do not count towards
the budget), so the result compares the best settings with them.

Each finished trial is written to the journal (:mod:`energyopt.tune.store`)
before the next is asked for.  On cancellation (:class:`CancelToken`,
Ctrl-C) or an unexpected error, no new job starts, queued and running jobs
are dropped (local workers are terminated), the unfinished trials are
marked failed and queued again, and the journal stays consistent: the next
run on the same folder continues where this one stopped.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from energyopt.errors import EnergyoptError, ModelError
from energyopt.progress import CancelToken, ProgressCallback, null_progress
from energyopt.tune.evaluate import DEFAULT_EVALUATE, resolve_evaluate, run_window
from energyopt.tune.objective import Objective, Score
from energyopt.tune.store import (
    RESULT_ATTR,
    TrialRecord,
    finished_records,
    open_study,
    record_attrs,
    record_from_attrs,
    requeue_interrupted,
)

if TYPE_CHECKING:
    import optuna

    from energyopt.project import Project
    from energyopt.tune.schema import TuneSettings
    from energyopt.tune.space import ParamSpec

__all__ = ["TuneResult", "run_tune"]

#: Seconds the loop waits for a job before checking the cancel token again.
_POLL_S = 0.2


@dataclass(frozen=True)
class TuneResult:
    """What a tune found.

    Attributes
    ----------
    folder : pathlib.Path
        The tune folder (trial journal).
    space : tuple of ParamSpec
        The searched parameters.
    objective : Objective
        The score.
    windows : tuple of (int, int)
        Replay windows. [ms since epoch]
    current : TrialRecord
        The project's current settings on the same windows.
    trials : tuple of TrialRecord
        Every finished trial, by number.
    best : TrialRecord
        The best of ``trials`` and ``current`` (``current`` if no trial beats it).
    computed : int
        Trials computed by this call (the rest came from the journal).
    """

    folder: Path
    space: tuple[ParamSpec, ...]
    objective: Objective
    windows: tuple[tuple[int, int], ...]
    current: TrialRecord
    trials: tuple[TrialRecord, ...]
    best: TrialRecord
    computed: int

    @property
    def improved(self) -> bool:
        """Whether a trial beats the current settings."""
        return self.best.number is not None


@dataclass
class _Open:
    """A trial (or the current settings) with windows still running."""

    trial: optuna.trial.Trial | None
    params: dict[str, Any]
    results: list[dict[str, Any] | None]
    started: float = field(default_factory=time.perf_counter)


def _objective(settings: TuneSettings) -> Objective:
    bounds = {k: (c.min, c.max) for k, c in settings.constraint_bounds.items()}
    return Objective(settings.objective, bounds)


def _finish(objective: Objective, results: Sequence[dict[str, Any] | None]) -> dict[str, Any]:
    """User attributes of a finished trial from its window results."""
    done = [r for r in results if r is not None]
    errors = [str(r["error"]) for r in done if r.get("error")]
    windows = [r.get("kpis", {}) for r in done]
    seconds = [float(r.get("seconds", 0.0)) for r in done]
    cpu = [float(r.get("cpu_seconds", 0.0)) for r in done]
    if errors:
        score = Score(math.nan, tuple(0.0 for _ in objective.constraints))
        return record_attrs(windows, seconds, cpu, score, "failed", errors[0])
    score = objective.score(windows)
    if math.isnan(score.value):  # the objective KPI is missing in a window
        error = f"the objective KPI '{objective.kpi}' was not computed"
        return record_attrs(windows, seconds, cpu, score, "failed", error)
    return record_attrs(windows, seconds, cpu, score, "complete", "")


def run_tune(
    project: Project,
    data_path: str | os.PathLike[str],
    folder: str | os.PathLike[str],
    *,
    settings: TuneSettings | None = None,
    budget: int | None = None,
    windows: Sequence[tuple[int, int]] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    evaluate: str = DEFAULT_EVALUATE,
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
    on_trial: Callable[[TrialRecord], None] | None = None,
) -> TuneResult:
    """Search the project's controller settings for the best KPI score over replay windows.

    Parameters
    ----------
    project : Project
        The project (its ``[tune]`` section is given as ``settings``).
    data_path : str or path-like
        The recorded historian file the windows replay.
    folder : str or path-like
        Tune folder holding the trial journal; an existing one of the same
        setup is resumed.
    settings : TuneSettings, optional
        The ``[tune]`` section; defaults when omitted.
    budget : int, optional
        Trials in total, finished ones of earlier runs included; default
        ``settings.budget``.
    windows : sequence of (int, int), optional
        Replay windows [ms since epoch]; default ``settings.windows`` windows
        of ``settings.window_s`` spread over the data file after its first
        ``settings.history_s``.
    workers : int
        Local worker processes (spawned).
    scheduler : str, optional
        dask.distributed scheduler address; trials run on its workers.
    evaluate : str
        Evaluate function reference (:mod:`energyopt.tune.evaluate`).
    progress : ProgressCallback
        Called with (trials finished, budget, message).
    cancel : CancelToken, optional
        Stops the tune cleanly (:class:`CancelledError` is raised).
    on_trial : callable, optional
        Called with the :class:`TrialRecord` of each trial this call
        finishes (and of the current settings, ``number=None``, when they
        are evaluated), on the thread running the tune, just before the
        progress report that counts it.

    Returns
    -------
    TuneResult

    Raises
    ------
    ProjectError
        If the ``[tune]`` section or the search space is invalid.
    DataError
        If the data file is unusable or shorter than a window.
    OutputError
        If the folder cannot be used (another tune's journal).
    CancelledError
        If cancelled; finished trials stay in the journal.
    """
    import optuna

    from energyopt.project import dumps_project
    from energyopt.tune.schema import TuneSettings
    from energyopt.tune.space import search_space
    from energyopt.tune.windows import data_windows

    settings = settings or TuneSettings()
    budget = settings.budget if budget is None else budget
    if budget < 1:
        raise EnergyoptError(f"tune: the budget must be at least 1 trial, got {budget}")
    resolve_evaluate(evaluate)  # fail now, not in every worker
    objective = _objective(settings)
    space = search_space(project, settings)
    data = str(Path(data_path).resolve())
    if windows is None:
        windows = data_windows(data, settings.windows, settings.window_s, settings.history_s)
    windows = tuple((int(a), int(b)) for a, b in windows)
    text = dumps_project(project)
    setup = {
        "project": text,
        "data": data,
        "windows": [list(w) for w in windows],
        "space": [s.to_dict() for s in space],
        "objective": objective.kpi,
        "constraints": {k: list(v) for k, v in objective.constraints.items()},
        "seed": settings.seed,
        "evaluate": evaluate,
    }
    target = Path(folder)
    # Seeded by the trials already stored so a resumed tune does not replay
    # the random start-up samples of the first run.
    study = open_study(target, setup, objective.direction, optuna.samplers.RandomSampler())
    study.sampler = optuna.samplers.TPESampler(seed=settings.seed + len(study.trials))
    requeue_interrupted(study)
    distributions = {s.key: s.distribution() for s in space}
    current_params = {s.key: s.current for s in space}
    job = _Job(evaluate, text, project.source, data, windows)
    loop = _Loop(study, objective, distributions, job, budget, progress)
    loop.on_trial, loop.current_params = on_trial, current_params
    if "current" not in study.user_attrs:
        loop.queue(_Open(None, {}, [None] * len(windows)))
    if loop.has_work():  # no worker is started for a finished tune
        from energyopt.tune.executors import open_executor

        runner = open_executor(workers, scheduler)
        try:
            loop.run(runner.executor, runner.slots, cancel)
        except BaseException:
            loop.abandon()
            runner.close(abort=True)
            raise
        runner.close()
    current = record_from_attrs(None, current_params, study.user_attrs["current"])
    trials = tuple(finished_records(study, objective))
    candidates = [current, *trials]
    best = min(candidates, key=lambda r: (objective.rank_key(r.score), r.number is not None))
    return TuneResult(target, space, objective, windows, current, trials, best, loop.computed)


@dataclass(frozen=True)
class _Job:
    """The plain data every window job needs (sent to the workers)."""

    evaluate: str
    project_text: str
    source: str | None
    data: str
    windows: tuple[tuple[int, int], ...]

    def submit(self, executor: Any, params: Mapping[str, Any], index: int) -> Future[Any]:
        start, end = self.windows[index]
        future: Future[Any] = executor.submit(
            run_window,
            self.evaluate,
            self.project_text,
            self.source,
            dict(params),
            self.data,
            start,
            end,
        )
        return future


class _Loop:
    """State of one tune run: queued windows, running jobs, open trials."""

    def __init__(
        self,
        study: optuna.Study,
        objective: Objective,
        distributions: Mapping[str, Any],
        job: _Job,
        budget: int,
        progress: ProgressCallback,
    ) -> None:
        self.study, self.objective, self.job = study, objective, job
        self.distributions = dict(distributions)
        self.budget, self.progress = budget, progress
        self.finished = len(finished_records(study, objective))
        self.computed = 0
        self.queued: deque[tuple[_Open, int]] = deque()
        self.running: dict[Future[Any], tuple[_Open, int]] = {}
        self.open: list[_Open] = []
        self.best: Score | None = None
        self.on_trial: Callable[[TrialRecord], None] | None = None
        self.current_params: dict[str, Any] = {}

    def queue(self, item: _Open) -> None:
        self.open.append(item)
        self.queued.extend((item, k) for k in range(len(item.results)))

    def has_work(self) -> bool:
        """Whether a window is queued or the budget allows more trials."""
        return bool(self.queued) or self.finished < self.budget

    def _asked(self) -> int:
        return sum(1 for o in self.open if o.trial is not None)

    def _fill(self, executor: Any, slots: int) -> None:
        while len(self.running) < slots:
            if not self.queued:
                if self.finished + self._asked() >= self.budget:
                    return
                trial = self.study.ask(self.distributions)
                self.queue(_Open(trial, dict(trial.params), [None] * len(self.job.windows)))
            item, index = self.queued.popleft()
            self.running[self.job.submit(executor, item.params, index)] = (item, index)

    def run(self, executor: Any, slots: int, cancel: CancelToken | None) -> None:
        self._report()
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled()
            self._fill(executor, slots)
            if not self.running:
                return
            done, _ = wait(list(self.running), timeout=_POLL_S, return_when=FIRST_COMPLETED)
            for future in done:
                item, index = self.running.pop(future)
                try:
                    item.results[index] = future.result()
                except BrokenExecutor:
                    raise ModelError(
                        "tune: a worker process stopped unexpectedly (out of memory, or "
                        "killed); finished trials are kept: run the tune again to resume"
                    ) from None
                if all(r is not None for r in item.results):
                    self._complete(item)

    def _complete(self, item: _Open) -> None:
        from optuna.trial import TrialState

        attrs = _finish(self.objective, item.results)
        attrs["wall_s"] = time.perf_counter() - item.started
        self.open.remove(item)
        if item.trial is None:
            self.study.set_user_attr("current", attrs)
            if self.on_trial is not None:
                self.on_trial(record_from_attrs(None, self.current_params, attrs))
            return
        trial = item.trial
        # One attribute, one journal line: the whole result is stored at once.
        trial.set_user_attr(RESULT_ATTR, attrs)
        if attrs["status"] == "complete":
            for key, excess in zip(self.objective.constraints, attrs["violations"], strict=True):
                trial.set_constraint(key, excess)
            self.study.tell(trial, attrs["score"])
        else:
            self.study.tell(trial, state=TrialState.FAIL)
        self.finished += 1
        self.computed += 1
        if self.on_trial is not None:
            self.on_trial(record_from_attrs(trial.number, item.params, attrs))
        score = Score(
            math.nan if attrs["score"] is None else attrs["score"],
            tuple(math.nan if v is None else v for v in attrs["violations"]),
        )
        if self.best is None or self.objective.rank_key(score) < self.objective.rank_key(self.best):
            self.best = score
        best = self.best.value if self.best.feasible else math.nan
        self._report(
            f"trial {trial.number} {attrs['status']}; best feasible {self.objective.kpi}: "
            + (f"{best:.6g}" if math.isfinite(best) else "none yet")
        )

    def _report(self, message: str = "") -> None:
        self.progress(float(self.finished), float(self.budget), message)

    def abandon(self) -> None:
        """Drop unfinished trials from the journal consistently (failed, queued again)."""
        from optuna.trial import TrialState

        for item in self.open:
            if item.trial is None:
                continue
            with contextlib.suppress(Exception):  # the journal is still consistent if this fails
                self.study.tell(item.trial, state=TrialState.FAIL, skip_if_finished=True)
                self.study.enqueue_trial(item.params)
        self.open.clear()
        self.queued.clear()
        for future in self.running:
            future.cancel()
        self.running.clear()
