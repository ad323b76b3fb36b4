"""The main window's trends and energy-flow docks, following the replay clock.

:class:`TrendsDock` and :class:`FlowsDock` show a Qt-free
:class:`~energyopt.appstate.plant_views.PlantViewsModel`: when first shown
they ask it for their data (loaded in a worker, see
:func:`gui.workers.worker_task_runner`),
then draw it with :class:`~gui.trends.TrendPanel` (one plot per unit,
controlled variables first, bands and limits from the bindings) and
:class:`~gui.flows_view.FlowsView`.  Both follow the
:class:`~energyopt.appstate.replay_clock.ReplayClock`: the trends' crosshair
and visible window move with it (:func:`gui.replay_clock.connect_trends`),
the Sankey diagram shows the flows at its time
(:meth:`~energyopt.flows.FlowModel.set_time_ms`).  Everything they do per clock step
is a crosshair move, a view-range change of a few curves or a reshape of
existing scene items: no I/O and no item creation on the GUI thread.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from energyopt.appstate.plant_views import PlantViewsModel, TrendCurve
from gui.replay_clock import connect_trends, connect_while_alive
from gui.trends import TrendPanel, TrendSeries

if TYPE_CHECKING:
    from psygnal import SignalInstance

    from energyopt.appstate import SessionState
    from energyopt.appstate.replay_clock import ReplayClock
    from energyopt.flows import FlowModel
    from energyopt.progress import CancelToken, ProgressCallback
    from gui.errors import ErrorReporter
    from gui.flows_view import FlowsView

__all__ = [
    "FlowsDock",
    "TrendsDock",
    "after_trends_built",
    "freeze_heap_when_loaded",
    "report_failures",
    "trend_plots",
]


def freeze_heap_when_loaded(owner: QObject, session: SessionState, *loaded: SignalInstance) -> None:
    """Keep the cyclic garbage collector off the loaded data: no 0.1-0.7 s pauses during a replay.

    A full collection traverses every container object alive: with a plant,
    its controller (casadi wrappers), the trend plots and the flows loaded,
    about 300,000 of them, which took 100-700 ms on the GUI thread (or on a
    worker holding the GIL) every few seconds of a replay, more than the
    50 ms the event loop may block.  After each load (``loaded`` signals) the
    objects alive are moved to the permanent generation (:func:`gc.freeze`,
    in the next event-loop turn, after the views built on them); collections
    then only look at what was allocated since.  When the session's project
    or historian file changes they are released (:func:`gc.unfreeze`), so the
    old files' objects can be collected, and again when ``owner`` is destroyed.

    Parameters
    ----------
    owner : QObject
        The main window: the connections live as long as it does.
    session : SessionState
        Its session.
    *loaded : psygnal.SignalInstance
        Signals emitted when a load finished.
    """

    def freeze(_owner: QObject, *_args: object) -> None:
        QTimer.singleShot(0, gc.freeze)

    def unfreeze(_owner: QObject, *_args: object) -> None:
        gc.unfreeze()

    for signal in loaded:
        connect_while_alive(owner, signal, freeze)
    for signal in (session.project_changed, session.historian_changed):
        connect_while_alive(owner, signal, unfreeze)
    # Deferred to the event loop: unfreezing while Qt destroys the owner's
    # children made the next allocation collect the whole heap mid-destruction
    # (a segfault in a GC of half-destroyed widget wrappers, seen in CI).
    owner.destroyed.connect(lambda *_args: QTimer.singleShot(0, gc.unfreeze))


def report_failures(model: PlantViewsModel, errors: ErrorReporter) -> None:
    """Show a failed load as an error dialog (the message of the ``EnergyoptError``).

    Parameters
    ----------
    model : PlantViewsModel
        The model.
    errors : ErrorReporter
        Dialogs and log (the connection ends when it is deleted).
    """

    def show(errors: ErrorReporter, exc: BaseException) -> None:
        errors.report(exc, QCoreApplication.translate("PlantViews", "Cannot show trends and flows"))

    connect_while_alive(errors, model.failed, show)


def trend_plots(curves: tuple[TrendCurve, ...]) -> list[list[TrendSeries]]:
    """Group curves into plots: one per unit, in the order the units first appear.

    Parameters
    ----------
    curves : tuple of TrendCurve
        The model's curves (controlled variables first).

    Returns
    -------
    list of list of TrendSeries
        The series of each plot.
    """
    plots: dict[str, list[TrendSeries]] = {}
    for curve in curves:
        plots.setdefault(curve.unit, []).append(
            TrendSeries(curve.tag, curve.unit, curve.time_s, curve.values, curve.limits, curve.band)
        )
    return list(plots.values())


#: How often a waiting worker looks at its cancel token. [s]
_WAIT_POLL_S = 0.05


def after_trends_built(dock: TrendsDock, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a worker function so that its work starts once the dock's trends are built.

    The worker starts at once (it is active, cancellable and joined like any
    other) but waits, off the GUI thread, until :meth:`TrendsDock.call_when_settled`
    says no trend is being read or built.  For background work that holds the
    GIL in bursts (the data-quality scan's numpy medians, about 25 ms): run
    beside a plot being built, its bursts added to the plot's event-loop turn.

    Parameters
    ----------
    dock : TrendsDock
        The trends.
    fn : callable
        The worker function, called as ``fn(*args, progress=..., cancel=..., **kwargs)``.

    Returns
    -------
    callable
        The function to hand to :meth:`gui.workers.WorkerManager.start`.
    """
    ready = threading.Event()
    dock.call_when_settled(ready.set)

    def wait_then_call(
        *args: Any, progress: ProgressCallback, cancel: CancelToken, **kwargs: Any
    ) -> Any:
        while not ready.wait(_WAIT_POLL_S):
            cancel.raise_if_cancelled()
        # The trends may have finished in the poll after a cancel: do not start then.
        cancel.raise_if_cancelled()
        return fn(*args, progress=progress, cancel=cancel, **kwargs)

    return wait_then_call


class _Dock(QWidget):
    """A panel that asks the model for its data when first shown, with a status line."""

    _what = ""

    def __init__(self, model: PlantViewsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        """The data shown."""
        self.status_label = QLabel()
        self.status_label.setObjectName("plant_views_status")
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status_label.setWordWrap(True)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.status_label)
        connect_while_alive(self, model.busy_changed, type(self)._show_status)

    def _has_data(self) -> bool:
        raise NotImplementedError

    def _show_status(self, _busy: bool = False) -> None:
        if self._has_data():
            self.status_label.hide()
            return
        # One context for both docks (``self.tr`` of a base class is looked up
        # under the subclass's name at run time but filed under the base's).
        if self.model.busy:
            text = QCoreApplication.translate("PlantViews", "Loading...")
        else:
            text = QCoreApplication.translate(
                "PlantViews", "Open a project and its historian file to see this view."
            )
        self.status_label.setText(text)
        self.status_label.show()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """Ask for the data the first time the panel is shown."""
        super().showEvent(event)
        self.model.set_active(self._what)
        self._show_status()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        """Retranslate on a language change."""
        if event.type() == QEvent.Type.LanguageChange:
            self._show_status()
        super().changeEvent(event)


class TrendsDock(_Dock):
    """The recorded controlled and manipulated variables, following the replay clock.

    The plots are added one per event-loop turn (creating a pyqtgraph plot
    with its curves, legend and axes takes 50-70 ms; all of them at once
    blocked the window for about two seconds), then the panel starts
    following the clock.

    Parameters
    ----------
    model : PlantViewsModel
        Loads the curves.
    clock : ReplayClock
        The crosshair and the visible window follow it.
    parent : QWidget, optional
        Qt parent.
    """

    _what = "trends"

    def __init__(
        self, model: PlantViewsModel, clock: ReplayClock, parent: QWidget | None = None
    ) -> None:
        super().__init__(model, parent)
        self.panel = TrendPanel(timezone=clock.timezone)
        """The plots (times in the clock's zone, the plant's)."""
        self._layout.addWidget(self.panel, 1)
        self._clock = clock
        self._unfollow: Callable[[], None] | None = None
        self._pending: list[list[TrendSeries]] = []
        self._build_timer = QTimer(self)
        self._build_timer.setSingleShot(True)
        self._build_timer.setInterval(0)
        self._build_timer.timeout.connect(self._add_next_plot)
        self._asked = False
        self._when_settled: list[Callable[[], object]] = []
        # Waiting calls run in an event-loop turn after the one that settled.
        self._settle_timer = QTimer(self)
        self._settle_timer.setSingleShot(True)
        self._settle_timer.setInterval(0)
        self._settle_timer.timeout.connect(self._run_when_settled)
        connect_while_alive(self, model.trends_changed, TrendsDock._show_trends)
        connect_while_alive(self, model.busy_changed, TrendsDock._check_settled)
        connect_while_alive(self, clock.span_changed, TrendsDock._follow_timezone)
        self._show_trends(model.trends)

    def _follow_timezone(self) -> None:
        self.panel.set_timezone(self._clock.timezone)

    @property
    def ready(self) -> bool:
        """Whether every plot of the model's curves is built (and follows the clock)."""
        built = self._unfollow is not None or not self.model.trends
        return not self._pending and built and not self._when_settled

    @property
    def settled(self) -> bool:
        """Whether no trend is being read (for this panel) or built."""
        loading = self._asked and self.model.busy and not self.model.trends
        return not self._pending and not loading

    def call_when_settled(self, callback: Callable[[], object]) -> None:
        """Call a function once no trend is being read or built (in a later event-loop turn).

        Parameters
        ----------
        callback : callable
            Called without arguments, once (a callback already waiting is not added twice).
        """
        if callback not in self._when_settled:
            self._when_settled.append(callback)
        self._check_settled()

    def _check_settled(self, _busy: bool = False) -> None:
        if self._when_settled and self.settled:
            self._settle_timer.start()

    def _run_when_settled(self) -> None:
        if not self.settled:
            return  # new files: called again once they are built
        callbacks, self._when_settled = self._when_settled, []
        for callback in callbacks:
            callback()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """Ask for the trends the first time the panel is shown."""
        self._asked = True
        super().showEvent(event)

    def _has_data(self) -> bool:
        return bool(self.panel.plots)

    def _show_trends(self, curves: tuple[TrendCurve, ...]) -> None:
        if self._unfollow is not None:
            self._unfollow()
            self._unfollow = None
        self.panel.clear()
        self._pending = trend_plots(curves)
        if self._pending:
            self._build_timer.start()
        else:
            self._build_timer.stop()
        self._show_status()
        self._check_settled()

    def _add_next_plot(self) -> None:
        if not self._pending:
            return
        self.panel.add_plot(self._pending.pop(0))
        if self._pending:
            self._build_timer.start()
        else:
            self._unfollow = connect_trends(self._clock, self.panel, follow_window=True)
            self._check_settled()
        self._show_status()


class FlowsDock(_Dock):
    """The Sankey diagram of the recorded flows at the replay clock's time.

    Parameters
    ----------
    model : PlantViewsModel
        Loads the flow model.
    clock : ReplayClock
        The diagram shows the flows at its time.
    parent : QWidget, optional
        Qt parent.
    """

    _what = "flows"

    def __init__(
        self, model: PlantViewsModel, clock: ReplayClock, parent: QWidget | None = None
    ) -> None:
        super().__init__(model, parent)
        self.view: FlowsView | None = None
        """The diagram, ``None`` before the flows are loaded."""
        self._clock = clock
        self._pending_ms: int | None = None
        # The diagram moves in an event-loop turn of its own (about 10 ms of
        # item updates and a repaint), not in the clock's, where the other
        # views' work already runs.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._apply_time)
        connect_while_alive(self, model.flows_changed, FlowsDock._show_flows)
        connect_while_alive(self, clock.time_changed, FlowsDock._follow)
        connect_while_alive(self, clock.span_changed, FlowsDock._follow_timezone)
        self._show_flows(model.flows)

    def _follow_timezone(self) -> None:
        if self.view is not None:
            self.view.set_timezone(self._clock.timezone)

    def _has_data(self) -> bool:
        return self.view is not None

    def _follow(self, time_ms: int) -> None:
        self._pending_ms = time_ms
        self._timer.start()

    def _apply_time(self) -> None:
        flows, time_ms = self.model.flows, self._pending_ms
        if flows is not None and time_ms is not None:
            flows.set_time_ms(time_ms)

    def _show_flows(self, flows: FlowModel | None) -> None:
        from gui.flows_view import FlowsView

        if self.view is not None:
            self._layout.removeWidget(self.view)
            self.view.deleteLater()
            self.view = None
        if flows is not None:
            if self._clock.time_ms is not None:
                flows.set_time_ms(self._clock.time_ms)
            self.view = FlowsView(flows, timezone=self._clock.timezone)
            self._layout.addWidget(self.view, 1)
        self._show_status()
