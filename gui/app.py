"""Entry point of the ``energyopt-gui`` desktop application.

``energyopt-gui [project.toml [history.h5]]`` opens those files, or else the
last session.  Options:

``--settings FILE``
    Keep the settings in an INI file instead of the user's settings
    (portable installs, tests).
``--language {auto,en,zh_CN}``
    Override the stored language preference for this run.
``--no-restore``
    Do not reopen the last session.
``--smoke``
    Start, open the given files, wait for the background work (at most
    ``--smoke-timeout`` seconds), close and exit: status 0 if no error was
    reported (installers' smoke test).  Without files it opens the built-in
    steelworks demo project, runs one economic-MPC recommendation
    (:func:`energyopt.runtime.demo_recommendation`: numba kernels and ipopt
    really load), then the numba cache warm-up, and prints one line
    ``energyopt-gui-smoke {json}`` with the timings.
``--screenshot FILE``
    With ``--smoke``: save a PNG of the main window before closing it.
``--no-warmup``
    Do not compile the demo plants' numba kernels in the background at start
    (:func:`energyopt.runtime.warm_numba_cache`; the first start after an
    install takes 10-30 s a plant, later starts under a second).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from energyopt import __version__
from energyopt.appstate.language import AUTO, LANGUAGES
from energyopt.runtime import (
    APP_NAME,
    DemoRecommendation,
    configure_caches,
    demo_recommendation,
    warm_numba_cache,
)
from gui.errors import ErrorReporter
from gui.i18n import language_manager
from gui.main_window import MainWindow
from gui.settings import ORGANISATION, AppSettings
from gui.workers import Worker

__all__ = ["MainWindow", "build_parser", "main", "start_warmup"]


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser of the desktop app."""
    parser = argparse.ArgumentParser(prog="energyopt-gui", description="energyopt desktop app")
    parser.add_argument("project", nargs="?", type=Path, help="project file (.toml)")
    parser.add_argument("historian", nargs="?", type=Path, help="historian file (.h5)")
    parser.add_argument("--settings", type=Path, help="keep settings in this INI file")
    parser.add_argument("--language", choices=(AUTO, *LANGUAGES), help="UI language")
    parser.add_argument("--no-restore", action="store_true", help="do not reopen the last session")
    parser.add_argument("--smoke", action="store_true", help="start, open, close; exit status")
    parser.add_argument(
        "--smoke-timeout", type=float, help="[s] for --smoke (60 with files, 600 on the demo)"
    )
    parser.add_argument("--screenshot", type=Path, help="with --smoke: save a PNG of the window")
    parser.add_argument(
        "--no-warmup", action="store_true", help="do not warm the numba cache at start"
    )
    parser.add_argument("--version", action="version", version=f"energyopt {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Start the desktop application.

    Parameters
    ----------
    argv : list of str, optional
        Arguments after the program name; ``sys.argv[1:]`` if omitted.

    Returns
    -------
    int
        Exit status: the event loop's, or for ``--smoke`` 0 when no error was
        reported and 1 otherwise.
    """
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    configure_caches()  # before anything imports numba
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0]])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)

    errors = ErrorReporter()
    errors.install()
    quit_on_close = app.quitOnLastWindowClosed()
    if args.smoke:
        # --smoke quits explicitly; a window closing after the loop ended
        # must not ask Qt to quit once its event loop has returned (see _smoke).
        app.setQuitOnLastWindowClosed(False)
    reported: list[str] = []
    errors.dialog_shown.connect(lambda title, text: reported.append(f"{title}: {text}"))
    on_demo = args.smoke and args.project is None and args.historian is None
    demo_dir = tempfile.TemporaryDirectory(prefix="energyopt-smoke-") if on_demo else None
    settings_file = args.settings
    if demo_dir is not None and settings_file is None:
        # The demo's temporary project must not become the user's last session.
        settings_file = Path(demo_dir.name) / "settings.ini"
    settings = AppSettings.from_ini(settings_file) if settings_file else AppSettings()
    session = settings.new_session()
    if args.language:
        session.language = args.language
    language_manager()  # created before the window so its translators apply at once
    try:
        project = args.project
        if demo_dir is not None:
            project = _write_demo_project(Path(demo_dir.name))
        window = MainWindow(
            session,
            settings,
            project=project,
            historian=args.historian,
            restore_session=not args.no_restore and not on_demo,
            errors=errors,
        )
        paint = _FirstPaint(window)
        window.show()
        if not args.smoke:
            if not args.no_warmup:
                start_warmup(window)
            return app.exec()
        figures: dict[str, Any] = {}
        if on_demo and demo_dir is not None and project is not None:
            _start_demo_recommendation(window, reported, figures, Path(demo_dir.name), project)
        timeout_s = args.smoke_timeout or (600.0 if on_demo else 60.0)
        status = _smoke(app, window, reported, timeout_s, args.screenshot)
        if on_demo:
            figures["first_paint_epoch_s"] = paint.epoch_s
            figures["screenshot"] = str(args.screenshot) if args.screenshot else None
            print(f"energyopt-gui-smoke {json.dumps(figures, sort_keys=True)}", flush=True)
        return status
    finally:
        errors.uninstall()
        app.setQuitOnLastWindowClosed(quit_on_close)
        if demo_dir is not None:
            demo_dir.cleanup()


class _FirstPaint(QObject):
    """Record the wall-clock time of the first paint of a widget."""

    def __init__(self, widget: QObject) -> None:
        super().__init__(widget)
        self.epoch_s: float | None = None
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if self.epoch_s is None and event.type() == QEvent.Type.Paint:
            self.epoch_s = time.time()
            watched.removeEventFilter(self)
        return False


def start_warmup(window: MainWindow) -> Worker:
    """Compile the demo plants' numba kernels in a background worker.

    The progress panel of the status bar shows the worker; a status-bar
    message says when the kernels are ready or why the warm-up failed (it is
    not fatal: the kernels then compile on first use).

    Parameters
    ----------
    window : MainWindow
        The main window whose workers and status bar are used.

    Returns
    -------
    Worker
        The started worker (its ``finished`` value: seconds per plant).
    """
    bar = window.statusBar()
    bar.showMessage(
        QCoreApplication.translate(
            "app", "Preparing the model kernels (first start after an install: a minute)"
        )
    )
    worker = window.workers.start(
        warm_numba_cache, name=QCoreApplication.translate("app", "Preparing the model kernels")
    )
    worker.finished.connect(
        lambda _times: bar.showMessage(
            QCoreApplication.translate("app", "Model kernels ready"), 5000
        )
    )
    worker.failed.connect(
        lambda exc: bar.showMessage(
            QCoreApplication.translate("app", "Model kernels not prepared: {0}").format(exc), 10000
        )
    )
    return worker


def _write_demo_project(folder: Path) -> Path:
    from energyopt.demos import demo_project_text

    path = folder / "plant.toml"
    path.write_text(demo_project_text("steelworks"), encoding="utf-8")
    return path


def _start_demo_recommendation(
    window: MainWindow,
    reported: list[str],
    figures: dict[str, Any],
    folder: Path,
    project: Path,
) -> None:
    """Ask the advisor for its first recommendation on a demo history, then warm the cache.

    The history is opened in the window once written (the screenshot shows it).
    """
    bar = window.statusBar()

    def fail(what: str) -> Any:
        return lambda exc: reported.append(f"{what}: {type(exc).__name__}: {exc}")

    def recommended(result: DemoRecommendation) -> None:
        from energyopt.data.format import format_time_ms

        at = format_time_ms(result.time_ms, result.timezone)
        figures.update(
            status=result.status,
            fallback=result.fallback,
            recommended_at=at,
            first_recommendation_s=result.recommendation_s,
            recommendation_s=result.recommendation_s,
            total_s=result.total_s,
            # Names the installer test reads: the demo data, the advisor, its solve.
            simulation_s=result.history_s,
            controller_s=result.open_s,
            solve_s=result.recommend_s,
            n_mv=len(result.mv_names),
        )
        print(
            f"first recommendation: {result.recommendation_s:.1f} s "
            f"({len(result.mv_names)} setpoints for {at}; demo history {result.history_s:.1f} s)",
            flush=True,
        )
        bar.showMessage(
            QCoreApplication.translate(
                "app", "Recommendation ready: {0} setpoints planned in {1:.1f} s"
            ).format(len(result.mv_names), result.recommendation_s)
        )
        window.open_historian(result.history_path)
        started = time.perf_counter()
        warm = window.workers.start(
            warm_numba_cache, name=QCoreApplication.translate("app", "Preparing the model kernels")
        )
        warm.finished.connect(lambda _times: figures.update(warmup_s=time.perf_counter() - started))
        warm.failed.connect(fail("kernel warm-up"))

    worker = window.workers.start(
        demo_recommendation,
        name=QCoreApplication.translate("app", "Demo recommendation"),
        folder=folder,
        project_path=project,
    )
    worker.finished.connect(recommended)
    worker.failed.connect(fail("demo recommendation"))


def _smoke(
    app: QApplication,
    window: MainWindow,
    reported: list[str],
    timeout_s: float,
    screenshot: Path | None = None,
) -> int:
    """Run the event loop until the background work is done, then close.

    The window is closed and the loop quit from inside the event loop: a
    quit request made while no event loop runs (for instance the last window
    closing after the loop returned) would leave Qt's quit flag set and end every later event
    loop of the process at once.
    """
    poll = QTimer()
    poll.setInterval(50)
    deadline = QTimer()
    deadline.setSingleShot(True)
    outcome = {"timed_out": False}

    def finish(timed_out: bool) -> None:
        poll.stop()
        deadline.stop()
        outcome["timed_out"] = timed_out and bool(window.workers.active)
        if screenshot is not None and not window.grab().save(str(screenshot), "PNG"):
            reported.append(f"cannot save the screenshot {screenshot}")
        window.close()
        app.quit()

    poll.timeout.connect(lambda: None if window.workers.active else finish(False))
    deadline.timeout.connect(lambda: finish(True))
    poll.start()
    deadline.start(round(timeout_s * 1000))
    app.exec()
    for line in reported:
        print(line, file=sys.stderr)
    if outcome["timed_out"]:
        print(
            f"energyopt-gui --smoke: background work still running after {timeout_s} s",
            file=sys.stderr,
        )
    return 1 if reported or outcome["timed_out"] else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
