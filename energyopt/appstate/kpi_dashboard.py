"""What the KPI dashboard shows: a replay folder's KPIs, cost and energy intensity over time.

:class:`KpiDashboard` is Qt-free.  It loads a replay output folder
(``kpis.json``, ``results.h5``, ``compare_*.h5``;
:func:`~energyopt.appstate.kpi_data.load_dashboard`), runs a replay into a
new folder (:func:`energyopt.replay.replay_to_dir`) and writes the folder's
HTML report (:func:`energyopt.report.write_report`).  Each of these runs
through the :class:`~energyopt.appstate.tasks.TaskRunner` the front end
provides (the GUI: a worker thread with progress and cancel; tests: a
synchronous runner), one at a time; outcomes arrive as signals on the
runner's delivery thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psygnal import Signal

from energyopt.appstate.kpi_data import DashboardData, KpiRow, Series, load_dashboard
from energyopt.appstate.tasks import TaskCallbacks
from energyopt.errors import CancelledError, OutputError

if TYPE_CHECKING:
    from energyopt.appstate.session import SessionState
    from energyopt.appstate.tasks import TaskHandle, TaskRunner
    from energyopt.progress import CancelToken, ProgressCallback

__all__ = [
    "CONTROLLERS",
    "DashboardData",
    "KpiDashboard",
    "KpiRow",
    "ReplayRequest",
    "Series",
    "default_out_dir",
    "load_dashboard",
]

#: Controllers a replay can run (the chosen one writes ``results.h5``).
CONTROLLERS: tuple[str, ...] = ("mpc", "baseline", "recorded")


@dataclass(frozen=True)
class ReplayRequest:
    """What "Run replay..." asks for.

    Attributes
    ----------
    project_path, data_path : pathlib.Path
        Project file and historian file (read-only).
    controller : str
        One of :data:`CONTROLLERS`.
    out_dir : pathlib.Path
        New output folder (must not exist).
    start_ms, end_ms : int or None
        Period; the whole record if ``None``. [ms since epoch]
    compare : bool
        Also run the other controllers (``compare_*.h5``).

    Raises
    ------
    OutputError
        If the controller is unknown, the period is empty or the output
        folder exists.
    """

    project_path: Path
    data_path: Path
    controller: str
    out_dir: Path
    start_ms: int | None = None
    end_ms: int | None = None
    compare: bool = True

    def __post_init__(self) -> None:
        if self.controller not in CONTROLLERS:
            raise OutputError(
                f"controller must be one of {', '.join(CONTROLLERS)}, got {self.controller!r}"
            )
        if self.start_ms is not None and self.end_ms is not None and self.end_ms <= self.start_ms:
            raise OutputError("the replay period is empty: its end is not after its start")
        if Path(self.out_dir).exists():
            raise OutputError(f"{self.out_dir}: exists; a replay writes a new folder")


def default_out_dir(data_path: str | os.PathLike[str], controller: str, now_s: float) -> Path:
    """Return a new output folder beside the historian file.

    Parameters
    ----------
    data_path : str or path-like
        The historian file.
    controller : str
        The chosen controller.
    now_s : float
        Current time (names the folder). [s since epoch]

    Returns
    -------
    pathlib.Path
        ``<dir>/<stem>_replay_<controller>_<YYYYmmdd-HHMMSS>`` (UTC), with
        ``-2``, ``-3`` ... appended if that exists.
    """
    data = Path(data_path)
    stamp = datetime.fromtimestamp(now_s, tz=UTC).strftime("%Y%m%d-%H%M%S")
    base = data.with_name(f"{data.stem}_replay_{controller}_{stamp}")
    candidate, k = base, 2
    while candidate.exists():
        candidate = base.with_name(f"{base.name}-{k}")
        k += 1
    return candidate


ReplayFunction = Callable[..., Path]
"""The signature of :func:`energyopt.replay.replay_to_dir`."""


def _replay_to_dir(*args: Any, **kwargs: Any) -> Path:
    from energyopt.replay import replay_to_dir

    return replay_to_dir(*args, **kwargs)


class KpiDashboard:
    """The dashboard's folder, its loaded data and the running task.

    Parameters
    ----------
    runner : TaskRunner
        Runs loads, replays and reports off the caller's thread.
    window_s : float, optional
        Window of the rolling energy intensity. [s]
    replay : callable, optional
        The replay workflow (default :func:`energyopt.replay.replay_to_dir`;
        tests pass a fast stand-in with its signature).
    """

    data_changed = Signal(object)
    """Emitted with the new :class:`DashboardData` (``None`` when cleared)."""
    busy_changed = Signal(bool)
    """Whether a task runs."""
    task_changed = Signal(object)
    """Emitted with the running task's kind (``"load"``, ``"replay"``, ``"report"``) or ``None``."""
    progress_changed = Signal(object)
    """Emitted with each :class:`~energyopt.appstate.tasks.TaskProgress` of the running task."""
    failed = Signal(str, object)
    """Emitted with the task kind and the exception of a failed task."""
    cancelled = Signal(str)
    """Emitted with the task kind when a task stopped on request."""
    replay_finished = Signal(object)
    """Emitted with the new output folder of a finished replay (then it is loaded)."""
    report_written = Signal(object)
    """Emitted with the path of the written ``report.html``."""

    def __init__(
        self,
        runner: TaskRunner,
        *,
        window_s: float | None = None,
        replay: ReplayFunction | None = None,
    ) -> None:
        self._runner = runner
        self._window_s = window_s
        self._replay = replay if replay is not None else _replay_to_dir
        self._data: DashboardData | None = None
        self._task: str | None = None
        self._handle: TaskHandle | None = None
        self.project_path: Path | None = None
        """Project of the open session (the default of "Run replay...")."""
        self.data_path: Path | None = None
        """Historian file of the open session (the default of "Run replay...")."""
        self.data_span_ms: tuple[int, int] | None = None
        """Time span of that file. [ms since epoch]"""
        self._folder_chosen = False

    # ------------------------------------------------------------ state
    @property
    def data(self) -> DashboardData | None:
        """The loaded folder's data."""
        return self._data

    @property
    def folder_chosen(self) -> bool:
        """Whether the loaded folder is one the user chose (not a name proposed for a replay).

        The dashboard names the folder only then: a folder the app picked
        (beside the historian file, in a temporary place) tells the user nothing.
        """
        return self._data is not None and self._folder_chosen

    @property
    def task(self) -> str | None:
        """The running task's kind, ``None`` when idle."""
        return self._task

    @property
    def busy(self) -> bool:
        """Whether a task runs."""
        return self._task is not None

    def follow_session(self, session: SessionState) -> None:
        """Take the session's project and historian file as the replay defaults."""

        def update(*_args: object) -> None:
            self.project_path = session.project_path
            historian = session.historian
            self.data_path = None if historian is None else historian.path
            self.data_span_ms = None if historian is None else historian.time_span_ms

        session.project_changed.connect(update)
        session.historian_changed.connect(update)
        update()

    def replay_defaults(self) -> tuple[Path | None, Path | None]:
        """Return the project and historian file "Run replay..." starts with.

        The session's files, else the loaded folder's sources.
        """
        project = self.project_path
        data = self.data_path
        if self._data is not None:
            project = project or self._data.source_project
            data = data or self._data.source_data
        return project, data

    # ------------------------------------------------------------ tasks
    def _start(
        self,
        kind: str,
        fn: Callable[..., Any],
        name: str,
        on_result: Callable[[Any], None],
    ) -> bool:
        if self._task is not None:
            return False
        self._set_task(kind)
        ended = False  # a synchronous runner ends the task before it returns the handle

        def end() -> None:
            nonlocal ended
            ended = True
            self._finish()

        def result(value: Any) -> None:
            end()
            on_result(value)

        def error(exc: BaseException) -> None:
            end()
            if isinstance(exc, CancelledError):
                self.cancelled.emit(kind)
            else:
                self.failed.emit(kind, exc)

        def stopped() -> None:
            end()
            self.cancelled.emit(kind)

        callbacks = TaskCallbacks(result, error, self.progress_changed.emit, stopped)
        handle = self._runner(fn, callbacks, name=name)
        if not ended:
            self._handle = handle
        return True

    def _set_task(self, kind: str | None) -> None:
        was_busy = self._task is not None
        self._task = kind
        self.task_changed.emit(kind)
        if was_busy != (kind is not None):
            self.busy_changed.emit(kind is not None)

    def _finish(self) -> None:
        self._handle = None
        self._set_task(None)

    def cancel(self) -> None:
        """Ask the running task to stop (its outcome is :attr:`cancelled`)."""
        if self._handle is not None:
            self._handle.cancel()

    def open_folder(
        self, folder: str | os.PathLike[str], *, name: str = "", chosen: bool = False
    ) -> bool:
        """Load a replay output folder in the background.

        Parameters
        ----------
        folder : str or path-like
            The folder.
        name : str
            What the task is called in the progress display.
        chosen : bool
            The user chose this folder (:attr:`folder_chosen` once loaded).

        Returns
        -------
        bool
            Whether the load started (``False`` while another task runs).
        """
        path = Path(folder)
        window = self._window_s

        def load(progress: ProgressCallback, cancel: CancelToken) -> DashboardData:
            return load_dashboard(path, window_s=window, progress=progress, cancel=cancel)

        def loaded(data: DashboardData) -> None:
            self._folder_chosen = chosen
            self._data = data
            self.data_changed.emit(data)

        return self._start("load", load, name or f"load {path.name}", loaded)

    def clear(self) -> None:
        """Forget the loaded folder."""
        self._data = None
        self.data_changed.emit(None)

    def run_replay(self, request: ReplayRequest, *, name: str = "", chosen: bool = False) -> bool:
        """Run a replay into a new folder in the background, then load that folder.

        Parameters
        ----------
        request : ReplayRequest
            What to replay.
        name : str
            What the task is called in the progress display.
        chosen : bool
            The user chose the output folder (rather than taking the proposed one).

        Returns
        -------
        bool
            Whether the replay started (``False`` while another task runs).
        """
        replay = self._replay

        def work(progress: ProgressCallback, cancel: CancelToken) -> Path:
            return replay(
                request.project_path,
                request.data_path,
                request.controller,
                request.out_dir,
                start_ms=request.start_ms,
                end_ms=request.end_ms,
                compare=request.compare,
                progress=progress,
                cancel=cancel,
            )

        def finished(out_dir: Path) -> None:
            self.replay_finished.emit(Path(out_dir))
            self.open_folder(out_dir, chosen=chosen)

        return self._start("replay", work, name or f"replay {request.controller}", finished)

    def export_report(self, language: str = "en", *, name: str = "") -> bool:
        """Write the loaded folder's ``report.html`` in the background.

        Parameters
        ----------
        language : {"en", "zh"}
            Language of the report (the UI's).
        name : str
            What the task is called in the progress display.

        Returns
        -------
        bool
            Whether the export started (``False`` while another task runs).

        Raises
        ------
        OutputError
            If no folder is loaded.
        """
        if self._data is None:
            raise OutputError("open a replay folder before exporting its report")
        folder = self._data.folder

        def work(progress: ProgressCallback, cancel: CancelToken) -> Path:
            from energyopt.report import write_report

            return write_report(folder, lang=language, progress=progress, cancel=cancel)

        return self._start(
            "report", work, name or "report", lambda path: self.report_written.emit(Path(path))
        )
