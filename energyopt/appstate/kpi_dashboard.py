"""What the KPI dashboard shows: a replay folder's KPIs, cost and energy intensity over time.

:class:`KpiDashboard` is Qt-free.  It loads a replay output folder
(``kpis.json``, ``results.h5``, ``compare_*.h5``; :func:`load_dashboard`
through :func:`energyopt.report.inputs.load_inputs`), runs a replay into a
new folder (:func:`energyopt.replay.replay_to_dir`) and writes the folder's
HTML report (:func:`energyopt.report.write_report`).  Each of these runs
through a :class:`TaskRunner` the front end provides (the GUI: a worker
thread with progress and cancel; tests: a synchronous runner), one at a
time; outcomes arrive as signals on the runner's delivery thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt
from psygnal import Signal

from energyopt.errors import CancelledError, EnergyoptError, OutputError
from energyopt.progress import CancelToken, ProgressCallback, null_progress

if TYPE_CHECKING:
    from energyopt.appstate.session import SessionState
    from energyopt.kpis import KpiDifference

__all__ = [
    "CONTROLLERS",
    "DashboardData",
    "KpiDashboard",
    "KpiRow",
    "ReplayRequest",
    "Series",
    "TaskHandle",
    "TaskProgress",
    "TaskRunner",
    "default_out_dir",
    "load_dashboard",
]

#: Controllers a replay can run (the chosen one writes ``results.h5``).
CONTROLLERS: tuple[str, ...] = ("mpc", "baseline", "recorded")

Series = tuple["npt.NDArray[np.int64]", "npt.NDArray[np.float64]"]
"""Times [ms since epoch] and values of one curve."""


@dataclass(frozen=True)
class TaskProgress:
    """Progress of the running task.

    Attributes
    ----------
    done : float
        Units of work finished.
    total : float or None
        Units of work in all; ``None`` if unknown.
    message : str
        What is being done.
    remaining_s : float or None
        Estimated time left; ``None`` while unknown. [s]
    """

    done: float
    total: float | None
    message: str
    remaining_s: float | None = None

    @property
    def fraction(self) -> float | None:
        """Share of the work done in [0, 1], ``None`` without a total."""
        if not self.total:
            return None
        return min(max(self.done / self.total, 0.0), 1.0)


class TaskHandle(Protocol):
    """A started task: it can be asked to stop."""

    def cancel(self) -> None:
        """Ask the task to stop at its next cancellation point."""


class TaskRunner(Protocol):
    """Runs ``fn(progress=..., cancel=...)`` off the caller's thread.

    Exactly one of ``on_result(value)``, ``on_error(exception)`` or
    ``on_cancelled()`` is called later, on the caller's thread; progress
    reports arrive there too, in between.
    """

    def __call__(
        self,
        fn: Callable[..., Any],
        *,
        name: str,
        on_progress: Callable[[TaskProgress], None],
        on_result: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
        on_cancelled: Callable[[], None],
    ) -> TaskHandle:
        """Start ``fn``; return its handle."""


@dataclass(frozen=True)
class KpiRow:
    """One KPI over the runs of a folder.

    Attributes
    ----------
    key : str
        KPI key (:func:`energyopt.kpis.kpi_info`).
    unit : str
        Display unit (the project's currency for cost KPIs).
    values : mapping of str to float
        Run -> value (NaN when not computed). [unit]
    differences : mapping of str to KpiDifference
        Run (not the reference) -> difference from the reference run.
    notes : mapping of str to str
        Run -> note of the result (missing data ...), only where there is one.
    """

    key: str
    unit: str
    values: Mapping[str, float]
    differences: Mapping[str, KpiDifference]
    notes: Mapping[str, str] = field(default_factory=dict)

    def name(self, language: str = "en") -> str:
        """Return the KPI's display name in ``"en"`` or ``"zh"``."""
        from energyopt.kpis import kpi_info

        return kpi_info(self.key).name(language)


@dataclass(frozen=True)
class DashboardData:
    """Everything the dashboard shows of one replay folder.

    Attributes
    ----------
    folder : pathlib.Path
        The replay output folder.
    plant, timezone, controller, currency : str
        From ``kpis.json``, the result files or the project.
    period_ms : tuple of (int or None)
        Start and end of the replay. [ms since epoch]
    runs : tuple of str
        Runs of the KPI table, reference first, the controller last.
    reference : str or None
        The run differences are taken against.
    rows : tuple of KpiRow
        The KPI table (empty without ``kpis.json``).
    kpis_problem : str
        Why there is no KPI table (``""`` if there is one).
    cost : mapping of str to Series
        Run -> cumulative energy cost. [currency]
    cost_problem : str
        Why there is no cost curve (``""`` if there are curves).
    intensity : mapping of str to Series
        Run -> rolling energy intensity. [kgce/t]
    intensity_problem : str
        Why there is no intensity curve (``""`` if there are curves).
    window_s : float
        Window of the rolling intensity. [s]
    source_project, source_data : pathlib.Path or None
        The replay's inputs.
    """

    folder: Path
    plant: str
    timezone: str
    controller: str
    currency: str
    period_ms: tuple[int | None, int | None]
    runs: tuple[str, ...]
    reference: str | None
    rows: tuple[KpiRow, ...]
    kpis_problem: str
    cost: Mapping[str, Series]
    cost_problem: str
    intensity: Mapping[str, Series]
    intensity_problem: str
    window_s: float
    source_project: Path | None
    source_data: Path | None

    def row(self, key: str) -> KpiRow:
        """Return the row of a KPI key.

        Raises
        ------
        KeyError
            If the folder has no such KPI.
        """
        for row in self.rows:
            if row.key == key:
                return row
        raise KeyError(key)


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()


def _kpi_rows(report: Any, runs: list[str], currency: str) -> tuple[KpiRow, ...]:
    from energyopt.kpis import kpi_info

    rows = []
    for key in report.keys:
        unit = kpi_info(key).unit
        values = {run: float(report.value(run, key)) for run in runs}
        differences = {run: report.difference(run, key) for run in runs if run != report.reference}
        notes = {
            run: result.note
            for run in runs
            if (result := report.runs[run].get(key)) is not None and result.note
        }
        rows.append(
            KpiRow(
                key=key,
                unit=currency if unit == "currency" else unit,
                values=values,
                differences=differences,
                notes=notes,
            )
        )
    return tuple(rows)


def load_dashboard(
    folder: str | os.PathLike[str],
    *,
    window_s: float | None = None,
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
) -> DashboardData:
    """Read a replay output folder for the dashboard.

    Parameters
    ----------
    folder : str or path-like
        The folder (``kpis.json``, ``results.h5``, ``compare_*.h5``; each optional).
    window_s : float, optional
        Window of the rolling energy intensity; default
        :data:`energyopt.report.intensity.DEFAULT_WINDOW_S`. [s]
    progress : ProgressCallback, optional
        Called with ``(steps done, total, message)``.
    cancel : CancelToken, optional
        Checked between steps.

    Returns
    -------
    DashboardData

    Raises
    ------
    DataError
        If the folder does not exist or a file in it cannot be used (the
        message names the file).
    CancelledError
        If cancelled.
    """
    from energyopt.report.inputs import load_inputs
    from energyopt.report.intensity import DEFAULT_WINDOW_S, run_intensity
    from energyopt.report.sections import ordered_runs
    from energyopt.report.series import cost_series

    window = DEFAULT_WINDOW_S if window_s is None else float(window_s)
    total = 4
    progress(0, total, "reading the folder")
    inputs = load_inputs(folder)
    _check(cancel)
    currency = inputs.currency
    rows: tuple[KpiRow, ...] = ()
    runs: list[str] = []
    reference = None
    kpis_problem = "no kpis.json in this folder"
    if inputs.kpis is not None:
        report = inputs.kpis.report
        runs = ordered_runs(report.run_names)
        reference = report.reference
        rows = _kpi_rows(report, runs, currency)
        kpis_problem = ""
    else:
        runs = ordered_runs([run.run for run in inputs.runs])
    progress(1, total, "building the plant")
    built = None
    problem = inputs.project_problem
    if not inputs.runs:
        problem = "no result file (results.h5, compare_*.h5) in this folder"
    elif inputs.project is not None:
        from energyopt.plantbuild import build_plant

        try:
            built = build_plant(inputs.project, project_path=inputs.project_path)
        except EnergyoptError as exc:
            problem = str(exc)
    _check(cancel)
    progress(2, total, "cost over time")
    cost: dict[str, Series] = {}
    cost_problem = intensity_problem = problem
    intensity: dict[str, Series] = {}
    if built is not None:
        cost, cost_problem = cost_series(built, inputs.runs)
        _check(cancel)
        progress(3, total, "energy intensity over time")
        try:
            for run in inputs.runs:
                intensity[run.run] = run_intensity(built, run, window)
        except EnergyoptError as exc:
            intensity, intensity_problem = {}, str(exc)
        else:
            intensity_problem = ""
    _check(cancel)
    source_data = inputs.kpis.source_data if inputs.kpis is not None else ""
    source_data = source_data or next((r.source_data for r in inputs.runs if r.source_data), "")
    progress(total, total, "done")
    return DashboardData(
        folder=Path(folder),
        plant=inputs.plant,
        timezone=inputs.timezone,
        controller=inputs.controller,
        currency=currency,
        period_ms=inputs.period_ms,
        runs=tuple(runs),
        reference=reference,
        rows=rows,
        kpis_problem=kpis_problem,
        cost={run: cost[run] for run in ordered_runs(list(cost))},
        cost_problem=cost_problem,
        intensity={run: intensity[run] for run in ordered_runs(list(intensity))},
        intensity_problem=intensity_problem,
        window_s=window,
        source_project=inputs.project_path,
        source_data=Path(source_data) if source_data else None,
    )


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
    """Emitted with each :class:`TaskProgress` of the running task."""
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

    # ------------------------------------------------------------ state
    @property
    def data(self) -> DashboardData | None:
        """The loaded folder's data."""
        return self._data

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

        handle = self._runner(
            fn,
            name=name,
            on_progress=self.progress_changed.emit,
            on_result=result,
            on_error=error,
            on_cancelled=stopped,
        )
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

    def open_folder(self, folder: str | os.PathLike[str], *, name: str = "") -> bool:
        """Load a replay output folder in the background.

        Parameters
        ----------
        folder : str or path-like
            The folder.
        name : str
            What the task is called in the progress display.

        Returns
        -------
        bool
            Whether the load started (``False`` while another task runs).
        """
        path = Path(folder)
        window = self._window_s

        def load(progress: ProgressCallback, cancel: CancelToken) -> DashboardData:
            return load_dashboard(path, window_s=window, progress=progress, cancel=cancel)

        return self._start("load", load, name or f"load {path.name}", self._loaded)

    def _loaded(self, data: DashboardData) -> None:
        self._data = data
        self.data_changed.emit(data)

    def clear(self) -> None:
        """Forget the loaded folder."""
        self._data = None
        self.data_changed.emit(None)

    def run_replay(self, request: ReplayRequest, *, name: str = "") -> bool:
        """Run a replay into a new folder in the background, then load that folder.

        Parameters
        ----------
        request : ReplayRequest
            What to replay.
        name : str
            What the task is called in the progress display.

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
            self.open_folder(out_dir)

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
