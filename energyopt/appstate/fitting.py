"""What the model panel shows: the fit's windows, the running fit and its report.

:class:`FitModel` is Qt-free.  It follows the session's project and historian
file, proposes training and hold-out windows (the first
:data:`DEFAULT_TRAIN_FRACTION` of the file's span and the rest), runs
:func:`energyopt.fitting.fit_project` through the
:class:`~energyopt.appstate.tasks.TaskRunner` the front end provides (the
GUI runs it in a worker thread with progress and cancel, and delivers the
outcome on its own thread), and holds the
:class:`~energyopt.fitting.fit_report.FitReport` shown, either just fitted or
read from the ``*.fit.json`` found beside the project (no refit;
:mod:`energyopt.appstate.fit_files`).

Reading a report also goes through the runner: the first use of
:mod:`energyopt.fitting` imports the project machinery, which takes seconds.

Every outcome is tagged with a generation number: a result that arrives after
the project or historian changed, or after :meth:`FitModel.cancel`, is
dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from psygnal import Signal

from energyopt.appstate.fit_files import (
    ShownFit,
    find_report,
    fitted_path,
    read_report,
    report_candidates,
    report_path,
)
from energyopt.appstate.tasks import TaskCallbacks
from energyopt.errors import ProjectError

if TYPE_CHECKING:
    from energyopt.appstate.historian import HistorianSummary
    from energyopt.appstate.session import SessionState
    from energyopt.appstate.tasks import TaskHandle, TaskProgress, TaskRunner
    from energyopt.progress import CancelToken, ProgressCallback

__all__ = [
    "DEFAULT_TRAIN_FRACTION",
    "FitModel",
    "FitStatus",
    "ShownFit",
    "WindowProblem",
]

#: Share of the historian's span proposed as the training window; the rest is held out. [-]
DEFAULT_TRAIN_FRACTION = 0.7

FitStatus = Literal["idle", "running", "cancelling"]
#: Why the chosen windows cannot be fitted (the front end words it).
WindowProblem = Literal["no_data", "train_empty", "validate_empty", "outside", "overlap"]


FitFunction = Callable[..., Any]
"""``fit_project``-like: ``fn(project, data, *, train, validate, overwrite, progress, cancel)``."""


def _default_fit(*args: Any, **kwargs: Any) -> Any:
    from energyopt.fitting.project_fit import fit_project

    return fit_project(*args, **kwargs)


class FitModel:
    """The model panel's state: inputs, windows, the running fit and the report shown.

    Parameters
    ----------
    runner : TaskRunner
        Runs the fit (and report reading) off the caller's thread.
    fit : callable, optional
        The fit function; :func:`energyopt.fitting.fit_project` if omitted
        (tests inject a fake one).
    train_fraction : float
        Share of the file's span proposed for training, in (0, 1). [-]

    Raises
    ------
    ValueError
        If ``train_fraction`` is not inside (0, 1).
    """

    inputs_changed = Signal()
    """The project or historian file changed (whether a fit can run may have changed)."""
    windows_changed = Signal(object, object)
    """Emitted with the training and hold-out windows ``(start_ms, end_ms)`` (or ``None``)."""
    status_changed = Signal(str)
    """Emitted with the new :data:`FitStatus`."""
    progressed = Signal(object)
    """Emitted with each :class:`~energyopt.appstate.tasks.TaskProgress` of the running fit."""
    shown_changed = Signal(object)
    """Emitted with the :class:`ShownFit` shown (``None`` when cleared)."""
    failed = Signal(object)
    """Emitted with the exception of a failed fit or report reading."""
    cancelled = Signal()
    """The running fit stopped on the user's request (no output written)."""

    def __init__(
        self,
        runner: TaskRunner,
        fit: FitFunction | None = None,
        *,
        train_fraction: float = DEFAULT_TRAIN_FRACTION,
    ) -> None:
        if not 0.0 < train_fraction < 1.0:
            raise ValueError(f"train_fraction must be inside (0, 1), got {train_fraction}")
        self._runner = runner
        self._fit = fit if fit is not None else _default_fit
        self._train_fraction = train_fraction
        self._session: SessionState | None = None
        self._project_path: Path | None = None
        self._historian: HistorianSummary | None = None
        self._train: tuple[int, int] | None = None
        self._validate: tuple[int, int] | None = None
        self._status: FitStatus = "idle"
        self._progress: TaskProgress | None = None
        self._shown: ShownFit | None = None
        # Outcomes carry the generation they were started in: a changed number drops them.
        self._generations = {"fit": 0, "load": 0}
        self._handle: TaskHandle | None = None

    # ------------------------------------------------------------ inputs
    def follow_session(self, session: SessionState) -> None:
        """Take the project and historian file from a session (now and on every change).

        :meth:`open_fitted_project` asks this session to open the fitted project.
        """
        self._session = session
        session.project_changed.connect(self._on_session_changed)
        session.historian_changed.connect(self._on_session_changed)
        self.set_inputs(session.project_path, session.historian)

    def _on_session_changed(self, _value: object) -> None:
        if self._session is not None:
            self.set_inputs(self._session.project_path, self._session.historian)

    def set_inputs(
        self, project_path: str | Path | None, historian: HistorianSummary | None
    ) -> None:
        """Use another project file and historian file (either may be ``None``).

        A running fit is cancelled and its result dropped.  A new historian
        resets the windows to the default split; a new project shows the fit
        report found beside it, if any.

        Parameters
        ----------
        project_path : str or path-like or None
            The project file.
        historian : HistorianSummary or None
            The historian file's metadata.
        """
        project = None if project_path is None else Path(project_path).absolute()
        project_new = project != self._project_path
        historian_new = historian is not self._historian and (
            historian is None
            or self._historian is None
            or (historian.path, historian.time_span_ms)
            != (self._historian.path, self._historian.time_span_ms)
        )
        self._historian = historian
        if not project_new and not historian_new:
            return
        self._project_path = project
        self._drop_running()
        if project_new:
            self._generations["load"] += 1  # a report of the former project is not shown
        if historian_new:
            self.reset_windows()
        if project_new:
            self._set_shown(None)
            # Only a report that exists is read (in the background): no thread otherwise.
            if project is not None and any(p.is_file() for p in report_candidates(project)):
                self._start(find_report, (project,), kind="load")
        self.inputs_changed.emit()

    @property
    def project_path(self) -> Path | None:
        """The project file fitted, ``None`` if none."""
        return self._project_path

    @property
    def historian(self) -> HistorianSummary | None:
        """The historian file fitted to, ``None`` if none."""
        return self._historian

    @property
    def fitted_project_path(self) -> Path | None:
        """Where a fit writes the fitted project, ``None`` without a project."""
        return None if self._project_path is None else fitted_path(self._project_path)

    def outputs_exist(self) -> bool:
        """Whether a fit would replace an earlier fitted project or its report."""
        target = self.fitted_project_path
        if target is None:
            return False
        return target.exists() or report_path(target).exists()

    # ----------------------------------------------------------- windows
    @property
    def span_ms(self) -> tuple[int, int] | None:
        """The historian's span, end exclusive (last sample plus one step). [ms since epoch]."""
        if self._historian is None:
            return None
        first, last = self._historian.time_span_ms
        return first, last + self._step_ms()

    def _step_ms(self) -> int:
        sampling = self._historian.sampling_ms if self._historian is not None else None
        return max(round(sampling), 1) if sampling else 1

    @property
    def train_ms(self) -> tuple[int, int] | None:
        """Training window, end exclusive. [ms since epoch]."""
        return self._train

    @property
    def validate_ms(self) -> tuple[int, int] | None:
        """Hold-out window, end exclusive. [ms since epoch]."""
        return self._validate

    def reset_windows(self) -> None:
        """Propose the default split: the first ``train_fraction`` of the span, then the rest.

        The cut falls on a whole sampling step from the first sample.
        """
        span = self.span_ms
        if span is None:
            train = validate = None
        else:
            step = self._step_ms()
            cut = span[0] + round(self._train_fraction * (span[1] - span[0]) / step) * step
            train, validate = (span[0], cut), (cut, span[1])
        self._set_windows(train, validate)

    def set_train(self, start_ms: int, end_ms: int) -> None:
        """Choose the training window ``[start_ms, end_ms)``. [ms since epoch]."""
        self._set_windows((int(start_ms), int(end_ms)), self._validate)

    def set_validate(self, start_ms: int, end_ms: int) -> None:
        """Choose the hold-out window ``[start_ms, end_ms)``. [ms since epoch]."""
        self._set_windows(self._train, (int(start_ms), int(end_ms)))

    def _set_windows(self, train: tuple[int, int] | None, validate: tuple[int, int] | None) -> None:
        if (train, validate) != (self._train, self._validate):
            self._train, self._validate = train, validate
            self.windows_changed.emit(train, validate)

    @property
    def window_problem(self) -> WindowProblem | None:
        """Why the chosen windows cannot be fitted, ``None`` if they can.

        The fit checks the windows again against the file
        (:func:`energyopt.fitting.windows.resolve_windows`); this is the early
        check the panel shows while the user edits.
        """
        span, train, hold = self.span_ms, self._train, self._validate
        if span is None or train is None or hold is None:
            return "no_data"
        if train[1] <= train[0]:
            return "train_empty"
        if hold[1] <= hold[0]:
            return "validate_empty"
        if min(train[0], hold[0]) < span[0] or max(train[1], hold[1]) > span[1]:
            return "outside"
        if train[0] < hold[1] and hold[0] < train[1]:
            return "overlap"
        return None

    @property
    def train_fraction(self) -> float:
        """Share of the file's span the default split trains on. [-]."""
        return self._train_fraction

    # ------------------------------------------------------------ status
    @property
    def status(self) -> FitStatus:
        """``"idle"``, ``"running"`` or ``"cancelling"``."""
        return self._status

    @property
    def busy(self) -> bool:
        """Whether a fit runs (or is being cancelled)."""
        return self._status != "idle"

    @property
    def progress(self) -> TaskProgress | None:
        """The newest progress report of the running fit, ``None`` if none."""
        return self._progress

    @property
    def shown(self) -> ShownFit | None:
        """The fit report shown, ``None`` if none."""
        return self._shown

    @property
    def can_run(self) -> bool:
        """Whether :meth:`run` would start a fit now."""
        return (
            not self.busy
            and self._project_path is not None
            and self._historian is not None
            and self.window_problem is None
        )

    def _set_status(self, status: FitStatus) -> None:
        if status != self._status:
            self._status = status
            self.status_changed.emit(status)

    def _set_shown(self, shown: ShownFit | None) -> None:
        if shown is not self._shown:
            self._shown = shown
            self.shown_changed.emit(shown)

    # --------------------------------------------------------------- run
    def run(self, *, overwrite: bool = False) -> bool:
        """Start fitting the project to the historian over the chosen windows.

        Parameters
        ----------
        overwrite : bool
            Replace an earlier fitted project and its report.

        Returns
        -------
        bool
            ``False`` if a fit is already running (nothing started).

        Raises
        ------
        ProjectError
            If no project or historian file is open or the windows are unusable.
        """
        if self.busy:
            return False
        if self._project_path is None or self._historian is None:
            raise ProjectError("open a project and its historian file before fitting")
        problem = self.window_problem
        if problem is not None or self._train is None or self._validate is None:
            raise ProjectError(f"the fit windows cannot be used: {problem}")
        self._progress = None
        self._set_status("running")
        self._start(
            self._fit,
            (self._project_path, self._historian.path),
            kind="fit",
            train=self._train,
            validate=self._validate,
            overwrite=overwrite,
        )
        return True

    def cancel(self) -> None:
        """Ask the running fit to stop; :attr:`cancelled` follows once it has."""
        if self._status == "running" and self._handle is not None:
            self._set_status("cancelling")
            self._handle.cancel()

    def load_report(self, path: str | Path) -> None:
        """Show a fit report file (read in the background; errors go to :attr:`failed`).

        Parameters
        ----------
        path : str or path-like
            A ``*.fit.json`` file.
        """
        self._start(read_report, (Path(path).absolute(),), kind="load")

    def open_fitted_project(self) -> Path:
        """Ask the session to open the fitted project of the report shown.

        Returns
        -------
        pathlib.Path
            The project opened.

        Raises
        ------
        ProjectError
            If no fitted project is shown or no session is followed, or the
            project cannot be opened (the session's error).
        """
        shown = self._shown
        if shown is None or shown.fitted_project is None:
            raise ProjectError("no fitted project to open: run a fit or open a fit report")
        if self._session is None:
            raise ProjectError("no session to open the fitted project in")
        self._session.open_project(shown.fitted_project)
        return shown.fitted_project

    def close(self) -> None:
        """Cancel a running fit and ignore whatever it still delivers (window closing)."""
        self._drop_running()

    # --------------------------------------------------------- internals
    def _drop_running(self) -> None:
        self._generations["fit"] += 1
        if self._handle is not None and self._status == "running":
            self._handle.cancel()
        self._handle = None
        self._progress = None
        self._set_status("idle")

    def _start(
        self, fn: Callable[..., Any], args: tuple[Any, ...], *, kind: str, **kwargs: Any
    ) -> None:
        if kind == "fit":
            # A report still being read must not replace what this fit produces.
            self._generations["load"] += 1
        self._generations[kind] += 1
        generation = self._generations[kind]

        def call(progress: ProgressCallback, cancel: CancelToken) -> Any:
            # Runs on the runner's thread.
            return fn(*args, progress=progress, cancel=cancel, **kwargs)

        def current() -> bool:
            return generation == self._generations[kind]

        def on_progress(info: TaskProgress) -> None:
            if current() and kind == "fit" and self.busy:
                self._progress = info
                self.progressed.emit(info)

        def on_result(value: Any) -> None:
            if not current():
                return
            if kind == "fit":
                self._finish()
                self._set_shown(
                    ShownFit(value.report, value.report_path, value.project_path, from_file=False)
                )
            elif value is not None and not self.busy:
                self._set_shown(value)

        def on_error(exc: BaseException) -> None:
            if current():
                if kind == "fit":
                    self._finish()
                self.failed.emit(exc)

        def on_cancelled() -> None:
            if current() and kind == "fit":
                self._finish()
                self.cancelled.emit()

        callbacks = TaskCallbacks(on_result, on_error, on_progress, on_cancelled)
        handle = self._runner(call, callbacks)
        # A runner may deliver the outcome before it returns: then the fit is over.
        if kind == "fit" and current() and self._status != "idle":
            self._handle = handle

    def _finish(self) -> None:
        self._handle = None
        self._progress = None
        self._set_status("idle")
