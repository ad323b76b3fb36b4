"""What the tuning panel shows: the ``[tune]`` settings, the running tune, the best settings.

:class:`TuningModel` is Qt-free.  It follows the session's project and
historian file, shows the project's search space read-only (the ``[tune]``
section, or the default space; :func:`energyopt.tune.search_space`), lets
the user change the budget, the worker processes and the replay windows, and
runs :func:`energyopt.tune.tune_project` through the
:class:`~energyopt.appstate.tasks.TaskRunner` the front end provides: the
loop runs off the caller's thread and the trials in worker processes, as
``energyopt tune`` does.  While it runs the model keeps the trials finished
so far and a :class:`TuneProgress` (trials done of the budget, time left);
when it ends it holds the :class:`~energyopt.tune.TuneOutcome` (the best
settings with their KPIs per window and their score, beside the project's
current settings, and the path of ``<name>.tuned.toml``).

The tune writes nothing when it is cancelled (the workflow writes its files
only after the last trial, atomically); the trials finished so far stay in
the tune folder ``<name>.tune`` beside the project, and the next start on
the same settings resumes from them.  :meth:`TuningModel.discard_journal`
forgets them (to start over, or after changing a setting that the stored
tune was run with).

When a project is opened again, the result of its last finished tune (the
evidence ``<name>.tuned.tune.json`` beside it) is read back off the
caller's thread and shown as :attr:`TuningModel.stored`, with what changed
since (:mod:`energyopt.appstate.tuning_stored`).

Trials run in local worker processes, or on a dask.distributed cluster when
:attr:`TuningModel.scheduler` is set (``energyopt tune --scheduler``); the
scheduler is reached first within a few seconds
(:func:`~energyopt.appstate.tuning_inputs.check_scheduler`).  The inputs
(project, historian file, settings, request, scheduler) are kept by the base
class :class:`~energyopt.appstate.tuning_inputs.TuneInputs`.

Every outcome is tagged with a generation number: a result that arrives
after the project or historian changed, or after :meth:`TuningModel.close`,
is dropped.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from psygnal import Signal

from energyopt.appstate.tasks import TaskCallbacks, single_call
from energyopt.appstate.tuning_inputs import SCHEDULER_TIMEOUT_S, TuneInputs, check_scheduler
from energyopt.appstate.tuning_parts import (
    TrialInbox,
    TuneProgress,
    delete_journal,
    estimate_tune_remaining_s,
)
from energyopt.appstate.tuning_stored import StoredTune, read_stored_tune
from energyopt.errors import OutputError, ProjectError
from energyopt.tune.evaluate import DEFAULT_EVALUATE

if TYPE_CHECKING:
    from energyopt.appstate.session import SessionState
    from energyopt.appstate.tasks import TaskHandle, TaskProgress, TaskRunner
    from energyopt.progress import CancelToken, ProgressCallback
    from energyopt.project import Project
    from energyopt.tune import TrialRecord, TuneOutcome

__all__ = ["TuneStatus", "TuningModel"]

TuneStatus = Literal["idle", "running", "cancelling"]

TuneFunction = Callable[..., Any]
"""``tune_project``-like: ``fn(project_path, data_path, *, budget, windows, window_s,
history_s, workers, scheduler, evaluate, progress, cancel, on_trial) -> TuneOutcome``."""


def _default_tune(*args: Any, **kwargs: Any) -> Any:
    from energyopt.tune.workflow import tune_project

    return tune_project(*args, **kwargs)


def _default_workers() -> int:
    """One worker process per CPU, as ``energyopt tune`` does."""
    return max(1, os.cpu_count() or 1)


class TuningModel(TuneInputs):
    """The tuning panel's state: inputs, settings, the running tune and its outcome.

    Parameters
    ----------
    runner : TaskRunner
        Runs the tune loop off the caller's thread.
    tune : callable, optional
        The tune function; :func:`energyopt.tune.tune_project` if omitted
        (tests inject a fake one).
    evaluate : str
        Evaluate function reference of the trials
        (:mod:`energyopt.tune.evaluate`; tests use cheap ones).
    workers : int, optional
        Worker processes proposed; one per CPU if omitted. [-]
    scheduler_timeout_s : float
        How long a tune tries to reach its dask scheduler before it fails. [s]

    Raises
    ------
    ProjectError
        If ``workers`` is below 1.
    """

    status_changed = Signal(str)
    """Emitted with the new :data:`TuneStatus`."""
    progressed = Signal(object)
    """Emitted with each :class:`TuneProgress` of the running tune."""
    trials_changed = Signal(object)
    """Emitted with the trial records known (a tuple, by finishing order; all at the end)."""
    outcome_changed = Signal(object)
    """Emitted with the :class:`~energyopt.tune.TuneOutcome` shown (``None`` when cleared)."""
    failed = Signal(object)
    """Emitted with the exception of a failed tune."""
    cancelled = Signal()
    """The running tune stopped on the user's request (no output written)."""
    stored_changed = Signal(object)
    """Emitted with the :class:`StoredTune` shown (``None``: none, or :attr:`stored_error`)."""

    def __init__(
        self,
        runner: TaskRunner,
        tune: TuneFunction | None = None,
        *,
        evaluate: str = DEFAULT_EVALUATE,
        workers: int | None = None,
        scheduler_timeout_s: float = SCHEDULER_TIMEOUT_S,
    ) -> None:
        if workers is not None and workers < 1:
            raise ProjectError(f"tune: at least one worker process is needed, got {workers}")
        super().__init__(workers if workers is not None else _default_workers())
        self._runner = runner
        self._tune = tune if tune is not None else _default_tune
        self._evaluate = evaluate
        self._session: SessionState | None = None
        self._status: TuneStatus = "idle"
        self._progress: TuneProgress | None = None
        self._current: TrialRecord | None = None
        self._trials: tuple[TrialRecord, ...] = ()
        self._outcome: TuneOutcome | None = None
        self._generation = 0
        self._handle: TaskHandle | None = None
        self._scheduler_timeout_s = scheduler_timeout_s
        self._stored: StoredTune | None = None
        self._stored_error: str | None = None
        self._stored_generation = 0

    # ------------------------------------------------------------ inputs
    def follow_session(self, session: SessionState) -> None:
        """Take the project and historian file from a session (now and on every change).

        :meth:`open_tuned_project` asks this session to open the tuned project.

        Parameters
        ----------
        session : SessionState
            The session followed.
        """
        self._session = session
        session.project_changed.connect(self._on_session_changed)
        session.historian_changed.connect(self._on_session_changed)
        self._on_session_changed(None)

    def _on_session_changed(self, _value: object) -> None:
        session = self._session
        if session is not None:
            historian = session.historian
            self.set_inputs(
                session.project_path, session.project, None if historian is None else historian.path
            )

    def set_inputs(
        self,
        project_path: str | Path | None,
        project: Project | None,
        data_path: str | Path | None,
    ) -> None:
        """Tune another project on another historian file (either may be ``None``).

        A running tune is cancelled and its outcome dropped.  A new project
        resets the settings to its ``[tune]`` section and shows its search
        space; the outcome shown is cleared.

        Parameters
        ----------
        project_path : str or path-like or None
            The project file (the tune reads it again, with its ``[tune]`` section).
        project : Project or None
            The project loaded from it (for the search space shown).
        data_path : str or path-like or None
            The recorded historian file the windows replay.
        """
        if project_path is None or project is None:
            project_path = project = None
        path = None if project_path is None else Path(project_path).absolute()
        data = None if data_path is None else Path(data_path).absolute()
        # The same file opened again is a new project object (it may have been edited).
        project_new = path != self._project_path or project is not self._project
        if not project_new and data == self._data_path:
            return
        self._drop_running()
        self._project_path, self._data_path, self._project = path, data, project
        if project_new:
            self._read_settings(project)
            self._current, self._trials = None, ()
            self.trials_changed.emit(self._trials)
            self._set_outcome(None)
        self.inputs_changed.emit()
        if self._outcome is None or self._stored is not None:
            self.reload_stored()  # checked again against the files open now

    def discard_journal(self) -> bool:
        """Delete the trial journal of the tune folder, so the next tune starts over.

        Only the journal file (and the folder, once empty) is removed.

        Returns
        -------
        bool
            Whether a journal was deleted.

        Raises
        ------
        OutputError
            If a tune is running or the file cannot be deleted.
        """
        if self.busy:
            raise OutputError("tune: wait for the running tune to stop before starting over")
        folder = self.tune_folder
        deleted = folder is not None and delete_journal(folder)
        if deleted:
            self.inputs_changed.emit()
        return deleted

    # ------------------------------------------------------- stored result
    @property
    def stored(self) -> StoredTune | None:
        """The earlier tune's result shown (as :attr:`outcome`), ``None`` if none is shown."""
        return self._stored

    @property
    def stored_error(self) -> str | None:
        """Why the stored result of the project could not be read (``None`` if it could)."""
        return self._stored_error

    def reload_stored(self) -> None:
        """Read the project's stored tune result again, off the caller's thread, and show it.

        Nothing is read while a tune runs, or when a tune of this session is
        shown; without an evidence file the stored result is cleared.
        :attr:`stored_changed` follows.
        """
        from energyopt.tune.workflow import default_paths

        self._stored_generation += 1
        generation = self._stored_generation
        path, project, data = self._project_path, self._project, self._data_path
        evidence = None if path is None else default_paths(path)[2]
        if self.busy or (self._outcome is not None and self._stored is None):
            return
        if path is None or project is None or evidence is None or not evidence.is_file():
            self._set_stored(None, None)
            return
        space = self._space if self._space_error is None else None

        def read() -> StoredTune | None:
            return read_stored_tune(path, project, data, space)

        def current() -> bool:
            return generation == self._stored_generation and not self.busy

        def on_result(stored: StoredTune | None) -> None:
            if current():
                self._set_stored(stored, None)

        def on_error(exc: BaseException) -> None:
            if current():
                self._set_stored(None, str(exc))

        self._runner(single_call(read), TaskCallbacks(on_result, on_error))

    def _set_stored(self, stored: StoredTune | None, error: str | None) -> None:
        shown = self._stored is not None
        self._stored, self._stored_error = stored, error
        if stored is not None:
            outcome = stored.outcome
            self._current, self._trials = outcome.result.current, outcome.result.trials
            self.trials_changed.emit(self._trials)
            self._set_outcome(outcome)
        elif shown:
            self._current, self._trials = None, ()
            self.trials_changed.emit(self._trials)
            self._set_outcome(None)
        self.stored_changed.emit(stored)

    # ------------------------------------------------------------ status
    @property
    def status(self) -> TuneStatus:
        """``"idle"``, ``"running"`` or ``"cancelling"``."""
        return self._status

    @property
    def busy(self) -> bool:
        """Whether a tune runs (or is being cancelled)."""
        return self._status != "idle"

    @property
    def progress(self) -> TuneProgress | None:
        """The newest progress of the running tune, ``None`` if none."""
        return self._progress

    @property
    def trials(self) -> tuple[TrialRecord, ...]:
        """The trials known: finished by the running tune so far, or all of the outcome."""
        return self._trials

    @property
    def current(self) -> TrialRecord | None:
        """The project's current settings evaluated on the same windows, once known."""
        return self._current

    @property
    def outcome(self) -> TuneOutcome | None:
        """The finished tune shown (best settings, KPIs, files written), ``None`` if none."""
        return self._outcome

    @property
    def can_run(self) -> bool:
        """Whether :meth:`run` would start a tune now."""
        return (
            not self.busy
            and self._project_path is not None
            and self._data_path is not None
            and self._space_error is None
            and self._request is not None
        )

    def _set_status(self, status: TuneStatus) -> None:
        if status != self._status:
            self._status = status
            self.status_changed.emit(status)

    def _set_outcome(self, outcome: TuneOutcome | None) -> None:
        if outcome is not self._outcome:
            self._outcome = outcome
            self.outcome_changed.emit(outcome)

    # --------------------------------------------------------------- run
    def run(self) -> bool:
        """Start (or resume) the tune of the project on the historian file.

        Returns
        -------
        bool
            ``False`` if a tune is already running (nothing started).

        Raises
        ------
        ProjectError
            If no project or historian file is open, or the project's search
            space is unusable (for example nothing to tune).
        """
        if self.busy:
            return False
        if self._project_path is None or self._data_path is None or self._request is None:
            raise ProjectError("open a project and its historian file before tuning")
        if self._space_error is not None:
            raise ProjectError(self._space_error)
        request, scheduler = self._request, self._scheduler
        timeout_s = self._scheduler_timeout_s
        self._generation += 1
        self._stored_generation += 1  # a stored result still being read is not shown
        generation = self._generation
        self._progress = None
        self._current, self._trials = None, ()
        self.trials_changed.emit(self._trials)
        self._set_outcome(None)
        if self._stored is not None or self._stored_error is not None:
            self._stored = self._stored_error = None
            self.stored_changed.emit(None)
        self._set_status("running")
        # Trial records arrive on the runner's thread; the caller's thread takes them
        # with each progress report and the outcome.
        inbox = TrialInbox()
        project_path, data_path = self._project_path, self._data_path

        def call(progress: ProgressCallback, cancel: CancelToken) -> Any:
            if scheduler is not None:
                check_scheduler(scheduler, timeout_s)
            return self._tune(
                project_path,
                data_path,
                budget=request.budget,
                windows=request.windows,
                window_s=request.window_s,
                history_s=request.history_s,
                workers=request.workers,
                scheduler=scheduler,
                evaluate=self._evaluate,
                progress=progress,
                cancel=cancel,
                on_trial=inbox.put,
            )

        def current() -> bool:
            return generation == self._generation

        def take_records() -> None:
            new = inbox.take()
            if new:
                for record in new:
                    if record.number is None:
                        self._current = record
                self._trials = (*self._trials, *(r for r in new if r.number is not None))
                self.trials_changed.emit(self._trials)

        def on_progress(info: TaskProgress) -> None:
            if not (current() and self.busy):
                return
            take_records()
            budget = round(info.total) if info.total is not None else request.budget
            done = round(info.done)
            elapsed = info.elapsed_s
            remaining = (
                None
                if elapsed is None
                else estimate_tune_remaining_s(
                    elapsed, inbox.finished_s, budget - done, request.workers
                )
            )
            self._progress = TuneProgress(done, budget, info.message, elapsed, remaining)
            self.progressed.emit(self._progress)

        def on_result(outcome: Any) -> None:
            if not current():
                return
            take_records()
            self._finish()
            self._current, self._trials = outcome.result.current, tuple(outcome.result.trials)
            self.trials_changed.emit(self._trials)
            self._set_outcome(outcome)
            self.inputs_changed.emit()  # the journal now exists

        def on_error(exc: BaseException) -> None:
            if current():
                take_records()
                self._finish()
                self.failed.emit(exc)
                self.reload_stored()  # the earlier result is still there

        def on_cancelled() -> None:
            if current():
                take_records()
                self._finish()
                self.cancelled.emit()
                self.inputs_changed.emit()  # finished trials are kept: the next start resumes
                self.reload_stored()  # nothing written: the earlier result is still there

        callbacks = TaskCallbacks(on_result, on_error, on_progress, on_cancelled)
        handle = self._runner(call, callbacks)
        # A runner may deliver the outcome before it returns: then the tune is over.
        if current() and self._status != "idle":
            self._handle = handle
        return True

    def cancel(self) -> None:
        """Ask the running tune to stop; :attr:`cancelled` follows once it has.

        The worker processes are stopped, the trials finished so far stay in
        the tune folder, and no tuned project is written.
        """
        if self._status == "running" and self._handle is not None:
            self._set_status("cancelling")
            self._handle.cancel()

    def open_tuned_project(self) -> Path:
        """Ask the session to open the tuned project of the outcome shown.

        Returns
        -------
        pathlib.Path
            The project opened.

        Raises
        ------
        ProjectError
            If no tune has finished or no session is followed, or the project
            cannot be opened (the session's error).
        """
        if self._outcome is None:
            raise ProjectError("no tuned project to open: run a tune first")
        if self._session is None:
            raise ProjectError("no session to open the tuned project in")
        path = Path(self._outcome.tuned_path)
        self._session.open_project(path)
        return path

    def close(self) -> None:
        """Cancel a running tune and ignore whatever it still delivers (window closing)."""
        self._drop_running()

    # --------------------------------------------------------- internals
    def _drop_running(self) -> None:
        self._generation += 1
        if self._handle is not None and self._status == "running":
            self._handle.cancel()
        self._handle = None
        self._progress = None
        self._set_status("idle")

    def _finish(self) -> None:
        self._handle = None
        self._progress = None
        self._set_status("idle")
