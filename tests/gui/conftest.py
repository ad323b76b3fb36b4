"""Fixtures of the GUI tests: leak checks, an event-loop stall recorder, demo files.

- Every test here fails if it leaves a QThread running or a QTimer active
  (napari's fixtures do the same): ``QTimer.start``, ``QTimer.singleShot`` and
  ``QThread.start`` are wrapped for the test to record what was started.
- :class:`StallRecorder` (fixture ``stall_recorder``) ticks a 5 ms timer and
  keeps the largest gap between ticks: the longest time the event loop could
  not run, the figure behind "the event loop never blocks for more than 50 ms".
- Settings always go to an INI file under ``tmp_path``, never to the real user
  settings, and logs to ``tmp_path``.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QThread, QThreadPool, QTimer
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
    """Measure the longest gap between ticks of a fast timer on the GUI thread.

    Parameters
    ----------
    interval_ms : int
        Tick interval. [ms]

    Notes
    -----
    Use as a context manager around the code under test (which must run the
    event loop, e.g. ``qtbot.waitSignal``).  :attr:`max_gap_ms` is the longest
    time between two ticks, the first tick measured from entering.
    """

    def __init__(self, interval_ms: int = 5) -> None:
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self.max_gap_ms = 0.0
        """Longest time between ticks. [ms]"""
        self.n_ticks = 0
        """Ticks seen. [-]"""

    def _tick(self) -> None:
        now = time.perf_counter()
        self.max_gap_ms = max(self.max_gap_ms, (now - self._last) * 1000.0)
        self._last = now
        self.n_ticks += 1

    def __enter__(self) -> StallRecorder:
        self._last = time.perf_counter()
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
