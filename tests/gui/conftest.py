"""Fixtures of the GUI tests: leak checks, an event-loop stall recorder, demo files.

- Every test here fails if it leaves a QThread running or a QTimer active
  (napari's fixtures do the same): ``QTimer.start``, ``QTimer.singleShot`` and
  ``QThread.start`` are wrapped for the test to record what was started.
- ... or a child process (the advisor's, :mod:`energyopt.advise.remote`) still
  alive :data:`PROCESS_GRACE_S` after the test (windows closed).
- :class:`StallRecorder` (fixture ``stall_recorder``) ticks a 5 ms timer and
  keeps the largest gap between ticks: the longest time the event loop could
  not run, the figure behind "the event loop never blocks for more than 50 ms";
  and, per gap, the CPU time this process used (the part of a gap it caused,
  as opposed to the machine running other processes).
- Settings always go to an INI file under ``tmp_path``, never to the real user
  settings, and logs to ``tmp_path``.
"""

from __future__ import annotations

import gc
import multiprocessing
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QThread, QThreadPool, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from energyopt.demos import demo_project_file
from energyopt.demos.history import write_demo_history
from energyopt.project import load_project
from gui.errors import ErrorReporter
from gui.i18n import language_manager
from gui.main_window import MainWindow
from gui.settings import AppSettings

#: Longest wait for pending single-shot timers at the end of a test. [ms]
SINGLE_SHOT_GRACE_MS = 500
#: Longest wait for child processes to end after a test (a closed advisor
#: child that was asked to quit tears its interpreter down). [s]
PROCESS_GRACE_S = 15.0


@pytest.fixture(autouse=True)
def _collect_between_tests() -> Iterator[None]:
    """Delete a test's widgets and collect its garbage before the next test starts.

    Windows left to ``deleteLater`` and Python-side garbage (possibly under a
    frozen heap, see gui.plant_views) were otherwise destroyed in the next
    test's event loop, while that test's worker thread ran (report export with
    matplotlib and h5py): two CI runs segfaulted there.  Here nothing else runs.
    """
    yield
    app = QApplication.instance()
    if app is not None:
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        app.processEvents()
    gc.unfreeze()
    gc.collect()


@pytest.fixture(autouse=True)
def _no_leaked_threads_or_timers(monkeypatch, request) -> Iterator[None]:
    """Fail the test if it leaves a thread running or a timer active."""
    timers: weakref.WeakSet[QTimer] = weakref.WeakSet()
    threads: weakref.WeakSet[QThread] = weakref.WeakSet()
    pending_single_shots: set[int] = set()
    timer_start, thread_start = QTimer.start, QThread.start
    single_shot = QTimer.singleShot

    def tracked_timer_start(self: QTimer, *args: Any) -> None:
        timers.add(self)
        timer_start(self, *args)

    def tracked_thread_start(self: QThread, *args: Any) -> None:
        threads.add(self)
        thread_start(self, *args)

    def tracked_single_shot(msec: int, *args: Any) -> None:
        target = args[-1] if args else None
        if callable(target) and len(args) == 1:
            token = id(target) ^ int(time.perf_counter_ns())
            pending_single_shots.add(token)

            def fire() -> None:
                pending_single_shots.discard(token)
                target()

            single_shot(msec, fire)
        else:
            single_shot(msec, *args)

    monkeypatch.setattr(QTimer, "start", tracked_timer_start)
    monkeypatch.setattr(QThread, "start", tracked_thread_start)
    monkeypatch.setattr(QTimer, "singleShot", staticmethod(tracked_single_shot))
    yield
    deadline = time.perf_counter() + SINGLE_SHOT_GRACE_MS / 1000.0
    while pending_single_shots and time.perf_counter() < deadline:
        QApplication.processEvents()
        time.sleep(0.005)
    active_timers = [t for t in list(timers) if _alive(t) and t.isActive()]
    running = [t for t in list(threads) if _alive(t) and t.isRunning()]
    pool_threads = QThreadPool.globalInstance().activeThreadCount()
    for timer in active_timers:
        timer.stop()
    for thread in running:
        thread.wait(10_000)
    QThreadPool.globalInstance().waitForDone(10_000)
    problems = []
    if active_timers:
        problems.append(f"{len(active_timers)} QTimer(s) still active")
    if pending_single_shots:
        problems.append(f"{len(pending_single_shots)} single-shot timer(s) pending")
    if running:
        names = ", ".join(t.objectName() or type(t).__name__ for t in running)
        problems.append(f"{len(running)} QThread(s) still running ({names})")
    if pool_threads:
        problems.append(f"{pool_threads} QThreadPool thread(s) still active")
    report = getattr(request.node, "rep_call", None)
    if problems and (report is None or report.passed):
        pytest.fail("test leaked: " + "; ".join(problems))


@pytest.fixture(autouse=True)
def _no_leaked_processes(request) -> Iterator[None]:
    """Fail the test if a child process it started is still alive after it (and end it)."""
    before = {process.pid for process in multiprocessing.active_children()}

    def started() -> list[multiprocessing.process.BaseProcess]:
        # active_children() also reaps the children that ended.
        return [p for p in multiprocessing.active_children() if p.pid not in before]

    yield
    deadline = time.perf_counter() + PROCESS_GRACE_S
    left = started()
    while left and time.perf_counter() < deadline:
        time.sleep(0.02)
        left = started()
    for process in left:  # a leak must not spill into the next test
        process.terminate()
        process.join(5.0)
    report = getattr(request.node, "rep_call", None)
    if left and (report is None or report.passed):
        names = ", ".join(f"{p.name} (pid {p.pid})" for p in left)
        pytest.fail(f"test leaked: {len(left)} child process(es) still alive ({names})")


def _alive(obj: Any) -> bool:
    """Whether a Qt object's C++ side still exists."""
    from shiboken6 import Shiboken

    return Shiboken.isValid(obj)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item (the leak check skips failed tests)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


class StallRecorder:
    """Measure the gaps between ticks of a fast timer on the GUI thread.

    Parameters
    ----------
    interval_ms : int
        Tick interval. [ms]

    Notes
    -----
    Use as a context manager around the code under test (which must run the
    event loop, e.g. ``qtbot.waitSignal``).  :attr:`max_gap_ms` is the longest
    time between two ticks, the first tick measured from entering.

    A wall-clock gap also counts the time the operating system ran other
    processes (on a shared 2-core machine with a load of 10-17, gaps of
    50-110 ms with this process hardly running).  Each gap's CPU time of this
    process (every thread: the GUI thread's own work, and a worker holding
    the GIL) is kept too: ``min(gap, CPU time)`` is the part of the gap this
    process was busy, :attr:`max_busy_gap_ms` the longest.  A gap the GUI
    thread or a GIL-holding worker caused is busy for all its length (the
    advisor solving on a worker thread gave busy gaps of 40-90 ms); a child
    process's CPU time is not counted (it never holds this process's GIL).
    """

    def __init__(self, interval_ms: int = 5) -> None:
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self._last_cpu = 0.0
        self._last_gui_cpu = 0.0
        self.max_gap_ms = 0.0
        """Longest time between ticks. [ms]"""
        self.n_ticks = 0
        """Ticks seen. [-]"""
        self.gaps_ms: list[float] = []
        """Every time between ticks. [ms]"""
        self.cpu_ms: list[float] = []
        """CPU time of this process (all threads) during each gap. [ms]"""
        self.gui_cpu_ms: list[float] = []
        """CPU time of the GUI thread during each gap. [ms]"""

    def _tick(self) -> None:
        now, cpu, gui_cpu = time.perf_counter(), time.process_time(), time.thread_time()
        gap_ms = (now - self._last) * 1000.0
        self.max_gap_ms = max(self.max_gap_ms, gap_ms)
        self.gaps_ms.append(gap_ms)
        self.cpu_ms.append((cpu - self._last_cpu) * 1000.0)
        self.gui_cpu_ms.append((gui_cpu - self._last_gui_cpu) * 1000.0)
        self._last, self._last_cpu, self._last_gui_cpu = now, cpu, gui_cpu
        self.n_ticks += 1

    @property
    def busy_gaps_ms(self) -> list[float]:
        """Part of each gap this process was running: ``min(gap, CPU time)``. [ms]."""
        return [min(gap, cpu) for gap, cpu in zip(self.gaps_ms, self.cpu_ms, strict=True)]

    @property
    def max_busy_gap_ms(self) -> float:
        """Longest gap this process itself caused (see the class notes). [ms]."""
        return max(self.busy_gaps_ms, default=0.0)

    def worst(self, n: int = 5) -> list[tuple[float, float, float]]:
        """The ``n`` longest gaps as ``(gap, process CPU, GUI-thread CPU)``. [ms]."""
        rows = zip(self.gaps_ms, self.cpu_ms, self.gui_cpu_ms, strict=True)
        return sorted(rows, reverse=True)[:n]

    def __enter__(self) -> StallRecorder:
        self._last = time.perf_counter()
        self._last_cpu, self._last_gui_cpu = time.process_time(), time.thread_time()
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.stop()


@pytest.fixture
def stall_recorder() -> Callable[..., StallRecorder]:
    """Factory of :class:`StallRecorder` (``with stall_recorder() as rec: ...``)."""
    return StallRecorder


@pytest.fixture
def settings_path(tmp_path) -> Path:
    """An INI file for QSettings: tests never touch the user's settings."""
    return tmp_path / "settings.ini"


@pytest.fixture
def errors(tmp_path) -> Iterator[ErrorReporter]:
    """An error reporter logging under ``tmp_path`` (not installed as global hook)."""
    reporter = ErrorReporter(log_dir=tmp_path / "log")
    yield reporter
    reporter.uninstall()


@pytest.fixture
def make_window(qtbot, settings_path, errors) -> Iterator[Callable[..., MainWindow]]:
    """Factory of main windows sharing one settings file; English restored afterwards."""

    def make(**kwargs: Any) -> MainWindow:
        window = MainWindow(settings=AppSettings.from_ini(settings_path), errors=errors, **kwargs)
        qtbot.addWidget(window)
        return window

    yield make
    language_manager().apply("en")


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory) -> tuple[Path, Path]:
    """The steelworks demo project and a 1-day demo history (written once)."""
    out = tmp_path_factory.mktemp("steelworks_demo")
    project_path = demo_project_file("steelworks")
    history = out / "history.h5"
    write_demo_history(load_project(project_path), "steelworks", history, days=1, seed=5)
    return project_path, history


def open_error_dialogs() -> list[QMessageBox]:
    """The error dialogs currently shown."""
    return [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox)
        and w.isVisible()
        and w.objectName() == "energyopt_error_dialog"
    ]
