"""What the trends and the energy-flow diagram of the main window show, loaded in the background.

:class:`PlantViewsModel` is Qt-free.  Once a project and its historian file
are open and a view asks for data (:meth:`PlantViewsModel.set_active`: the
window's trend and flow docks do when they are first shown), it loads, each
through the :class:`~energyopt.appstate.tasks.TaskRunner` the front end
provides (a worker thread in the GUI, with progress and cancel):

- the trends (:func:`read_trend_curves`): the tags bound to the controlled
  and manipulated variables, as recorded, with their normal band and hard
  limits from the bindings;
- the energy flows (:func:`recorded_flow_model`; by default replayed in a
  child process, :mod:`energyopt.appstate.flow_process`): the project's
  plant driven by the recorded period (the ``recorded`` replay of
  :func:`energyopt.replay.run_replay`: disturbances and operator setpoints
  from the file), so every node balances at every sample, as the
  :class:`~energyopt.flows.FlowModel` of the Sankey diagram needs.

Loading is lazy because the flows replay the whole file (seconds to minutes):
a window that never shows these views never pays for it.  Results of files
that are no longer the session's are dropped; a new load cancels the old one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from psygnal import Signal

from energyopt.appstate.flow_process import recorded_flow_model_in_child
from energyopt.appstate.tasks import TaskCallbacks
from energyopt.progress import CancelToken, ProgressCallback, null_progress

if TYPE_CHECKING:
    from energyopt.appstate.session import SessionState
    from energyopt.appstate.tasks import TaskHandle, TaskRunner
    from energyopt.flows import FlowModel, FlowTrajectory
    from energyopt.project import Project

__all__ = [
    "TREND_ROLES",
    "PlantViewsModel",
    "TrendCurve",
    "read_trend_curves",
    "recorded_flow_model",
    "recorded_trajectory",
]

TREND_ROLES: tuple[str, ...] = ("controlled", "manipulated")
"""Binding roles whose tags the trends show, in this order."""


@dataclass(frozen=True)
class TrendCurve:
    """One recorded tag as the trends show it.

    Attributes
    ----------
    tag : str
        Historian tag.
    unit : str
        Unit of ``values`` (the file's unit of the tag).
    role : str
        Binding role (``"controlled"``, ``"manipulated"``).
    time_s : numpy.ndarray
        Sample times, shape ``(N,)``. [s since epoch]
    values : numpy.ndarray
        Samples, NaN where missing, shape ``(N,)``. [unit]
    limits : tuple of float
        Hard limits of the binding (``hard`` of a controlled variable,
        ``limits`` of a manipulated one). [unit]
    band : tuple of float or None
        Normal operating band ``(low, high)``, ``None`` without one. [unit]
    """

    tag: str
    unit: str
    role: str
    time_s: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]
    limits: tuple[float, ...] = ()
    band: tuple[float, float] | None = None


def read_trend_curves(
    project: Project,
    historian_path: str | Path,
    *,
    roles: Sequence[str] = TREND_ROLES,
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
) -> tuple[TrendCurve, ...]:
    """Read the tags bound to the given roles from a historian file (read-only).

    Parameters
    ----------
    project : Project
        The validated project (its bindings name the tags).
    historian_path : str or path-like
        Historian file (format v1).
    roles : sequence of str
        Binding roles to show, in order.
    progress : ProgressCallback
        Called with the tags read.
    cancel : CancelToken, optional
        Checked between tags.

    Returns
    -------
    tuple of TrendCurve
        One per bound tag present in the file, by role then binding order;
        limits and band converted from the binding's unit to the file's.

    Raises
    ------
    DataError
        If the file cannot be read, or a binding's unit is not convertible to
        the file's unit of its tag.
    CancelledError
        If ``cancel`` is set.
    """
    from energyopt.data.reader import HistorianReader
    from energyopt.data.units import conversion_affine

    with HistorianReader(historian_path) as reader:
        bindings = [b for role in roles for b in project.bindings.values() if b.role == role]
        wanted = [b for b in bindings if b.tag in reader.tags]
        curves = []
        for k, binding in enumerate(wanted):
            if cancel is not None:
                cancel.raise_if_cancelled()
            series = reader.read(binding.tag)
            unit = series.units[binding.tag]
            affine = conversion_affine(binding.unit, unit, tag=binding.tag)
            hard = binding.hard if binding.hard is not None else binding.limits
            band = _converted(binding.normal, affine) if binding.normal is not None else None
            curves.append(
                TrendCurve(
                    tag=binding.tag,
                    unit=unit,
                    role=binding.role,
                    time_s=series.time_ms.astype(np.float64) / 1000.0,
                    values=series.values[binding.tag],
                    limits=_converted(hard, affine) if hard is not None else (),
                    band=(band[0], band[1]) if band is not None else None,
                )
            )
            progress(k + 1, len(wanted), "trends")
    return tuple(curves)


def _converted(values: Sequence[float], affine: tuple[float, float]) -> tuple[float, ...]:
    """Values converted by ``value * scale + offset``. [target unit]."""
    scale, offset = affine
    return tuple(float(v) * scale + offset for v in values)


def _same(a: tuple[Project, Path] | None, b: tuple[Project, Path] | None) -> bool:
    """Whether two (project, historian path) pairs are the same files (the project by identity)."""
    if a is None or b is None:
        return a is b
    return a[0] is b[0] and a[1] == b[1]


def recorded_trajectory(
    project: Project,
    historian_path: str | Path,
    *,
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
) -> FlowTrajectory:
    """The plant replayed on the file's record (the ``recorded`` replay), as plant vectors.

    Parameters
    ----------
    project : Project
        The validated project.
    historian_path : str or path-like
        Historian file (format v1), read-only.
    progress : ProgressCallback
        ``progress(done_s, total_s, message)`` of the replay.
    cancel : CancelToken, optional
        Checked between reads and once per plant step.

    Returns
    -------
    FlowTrajectory
        States, inputs, disturbances and outputs at every plant step of the
        replay (the fine grid, :func:`energyopt.replay.replay_step_s`), with
        the replay's plant parameters.

    Raises
    ------
    DataError
        If the file cannot drive the replay (missing tag, long gap).
    ModelError
        If the simulation diverges.
    CancelledError
        If ``cancel`` is set.
    """
    from energyopt.flows import FlowTrajectory
    from energyopt.replay import run_replay

    run = run_replay(
        project,
        historian_path,
        "recorded",
        recorded_kpis=False,
        progress=progress,
        cancel=cancel,
    )
    result = run.result
    return FlowTrajectory(
        time_ms=run.time_ms,
        states=result.states,
        inputs=result.inputs,
        disturbances=result.disturbances,
        outputs=result.outputs,
        parameters=run.case.parameters,
    )


def recorded_flow_model(
    project: Project,
    historian_path: str | Path,
    *,
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
) -> FlowModel:
    """Energy flows of the recorded period: the plant replayed on the file's record.

    Runs in the caller's process (scripts, tests); the desktop app replays in
    a child process instead
    (:func:`~energyopt.appstate.flow_process.recorded_flow_model_in_child`),
    since most of the replay is casadi work that holds the GIL.

    Parameters
    ----------
    project : Project
        The validated project.
    historian_path : str or path-like
        Historian file (format v1), read-only.
    progress : ProgressCallback
        ``progress(done_s, total_s, message)`` of the replay.
    cancel : CancelToken, optional
        Checked between reads and once per plant step.

    Returns
    -------
    FlowModel
        Link values at every plant step of the replay (the fine grid,
        :func:`energyopt.replay.replay_step_s`), showing the first sample.

    Raises
    ------
    DataError
        If the file cannot drive the replay (missing tag, long gap).
    ModelError
        If the simulation diverges.
    CancelledError
        If ``cancel`` is set.
    """
    from energyopt.flows import FlowModel
    from energyopt.plantbuild import build_plant

    trajectory = recorded_trajectory(project, historian_path, progress=progress, cancel=cancel)
    return FlowModel.from_built(build_plant(project), trajectory)


TrendLoader = Callable[..., tuple[TrendCurve, ...]]
"""``loader(project, historian_path, progress=..., cancel=...)``: :func:`read_trend_curves`."""
FlowLoader = Callable[..., "FlowModel"]
"""``loader(project, historian_path, progress=..., cancel=...)``: :func:`recorded_flow_model`
or (the default) its child-process twin
:func:`~energyopt.appstate.flow_process.recorded_flow_model_in_child`."""


class PlantViewsModel:
    """Trend curves and the energy-flow model of the session's files, loaded when asked.

    Parameters
    ----------
    runner : TaskRunner
        Runs the loaders off the caller's thread.
    trend_loader : callable
        Reads the trends (:func:`read_trend_curves`; tests pass a double).
    flow_loader : callable
        Builds the flow model: the recorded replay in a child process
        (:func:`~energyopt.appstate.flow_process.recorded_flow_model_in_child`;
        on a worker thread its casadi work held the GIL and stalled the GUI
        thread), or :func:`recorded_flow_model` in this one.
    """

    trends_changed = Signal(object)
    """Emitted with the new tuple of :class:`TrendCurve` (empty when cleared)."""
    flows_changed = Signal(object)
    """Emitted with the new :class:`~energyopt.flows.FlowModel` (``None`` when cleared)."""
    busy_changed = Signal(bool)
    """Whether a load is running."""
    failed = Signal(object)
    """Emitted with the exception of a failed load."""

    def __init__(
        self,
        runner: TaskRunner,
        *,
        trend_loader: TrendLoader = read_trend_curves,
        flow_loader: FlowLoader = recorded_flow_model_in_child,
    ) -> None:
        self._runner = runner
        self._loaders: dict[str, Callable[..., Any]] = {
            "trends": trend_loader,
            "flows": flow_loader,
        }
        self._inputs: tuple[Project, Path] | None = None
        self._active: set[str] = set()
        self._loaded: dict[str, tuple[Project, Path]] = {}
        self._running: dict[str, TaskHandle | None] = {}
        """Loads running, by view (``None``: the runner has not returned its handle yet)."""
        self._trends: tuple[TrendCurve, ...] = ()
        self._flows: FlowModel | None = None
        self._generation = 0
        self._was_busy = False

    # ------------------------------------------------------------- state
    @property
    def trends(self) -> tuple[TrendCurve, ...]:
        """The trend curves of the current files (empty before they are loaded)."""
        return self._trends

    @property
    def flows(self) -> FlowModel | None:
        """The energy-flow model of the current files, ``None`` before it is loaded."""
        return self._flows

    @property
    def busy(self) -> bool:
        """Whether a load is running."""
        return bool(self._running)

    def set_active(self, what: str, active: bool = True) -> None:
        """Say whether a view wants its data; a wanted view's data is loaded when possible.

        Parameters
        ----------
        what : {"trends", "flows"}
            Which data.
        active : bool
            Wanted (loaded now if the files are open) or not (kept if loaded).

        Raises
        ------
        ValueError
            If ``what`` is not ``"trends"`` or ``"flows"``.
        """
        if what not in self._loaders:
            raise ValueError(f"plant views: unknown view {what!r} (trends or flows)")
        if active:
            self._active.add(what)
            self._load(what)
        else:
            self._active.discard(what)

    def set_files(self, project: Project | None, historian_path: Path | None) -> None:
        """Show the data of these files (clears and cancels what belonged to others).

        Parameters
        ----------
        project : Project or None
            The open project.
        historian_path : pathlib.Path or None
            The open historian file.
        """
        inputs = None if project is None or historian_path is None else (project, historian_path)
        if _same(inputs, self._inputs):
            return
        self._inputs = inputs
        self._drop_running()
        self._loaded.clear()
        if self._trends:
            self._trends = ()
            self.trends_changed.emit(())
        if self._flows is not None:
            self._flows = None
            self.flows_changed.emit(None)
        self._busy_update()
        for what in sorted(self._active):
            self._load(what)

    def close(self) -> None:
        """Cancel running loads and drop their results (window closing)."""
        self._drop_running()
        self._busy_update()

    def _drop_running(self) -> None:
        """Cancel the running loads; whatever they still deliver is dropped."""
        self._generation += 1
        for handle in self._running.values():
            if handle is not None:
                handle.cancel()
        self._running.clear()

    def follow_session(self, session: SessionState) -> Callable[[], None]:
        """Follow the session's project and historian file.

        Parameters
        ----------
        session : SessionState
            The desktop session.

        Returns
        -------
        callable
            Stops following.
        """

        def on_files(*_args: object) -> None:
            historian = session.historian
            self.set_files(session.project, None if historian is None else historian.path)

        session.project_changed.connect(on_files)
        session.historian_changed.connect(on_files)
        on_files()

        def disconnect() -> None:
            session.project_changed.disconnect(on_files)
            session.historian_changed.disconnect(on_files)

        return disconnect

    # ----------------------------------------------------------- loading
    def _load(self, what: str) -> None:
        inputs = self._inputs
        if inputs is None or what in self._running or _same(self._loaded.get(what), inputs):
            return
        project, path = inputs
        loader = self._loaders[what]
        generation = self._generation

        def task(*, progress: ProgressCallback, cancel: CancelToken) -> Any:
            return loader(project, path, progress=progress, cancel=cancel)

        def on_result(value: Any) -> None:
            if generation != self._generation:
                return
            self._running.pop(what, None)
            self._loaded[what] = inputs
            if what == "trends":
                self._trends = tuple(value)
                self.trends_changed.emit(self._trends)
            else:
                self._flows = value
                self.flows_changed.emit(value)
            self._busy_update()

        def on_error(exc: BaseException) -> None:
            if generation != self._generation:
                return
            self._running.pop(what, None)
            self._loaded[what] = inputs  # not retried until the files change
            self._busy_update()
            self.failed.emit(exc)

        self._running[what] = None  # busy before the runner may answer at once
        self._busy_update()
        # A cancelled load delivers nothing (no on_cancelled): newer files replaced it.
        handle = self._runner(task, TaskCallbacks(on_result=on_result, on_error=on_error))
        if what in self._running and generation == self._generation:
            self._running[what] = handle

    def _busy_update(self) -> None:
        busy = self.busy
        if busy != self._was_busy:
            self._was_busy = busy
            self.busy_changed.emit(busy)
