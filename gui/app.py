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
    reported (installers' smoke test).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from energyopt import __version__
from energyopt.appstate.language import AUTO, LANGUAGES
from energyopt.runtime import APP_NAME, configure_caches
from gui.errors import ErrorReporter
from gui.i18n import language_manager
from gui.main_window import MainWindow
from gui.settings import ORGANISATION, AppSettings

__all__ = ["MainWindow", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser of the desktop app."""
    parser = argparse.ArgumentParser(prog="energyopt-gui", description="energyopt desktop app")
    parser.add_argument("project", nargs="?", type=Path, help="project file (.toml)")
    parser.add_argument("historian", nargs="?", type=Path, help="historian file (.h5)")
    parser.add_argument("--settings", type=Path, help="keep settings in this INI file")
    parser.add_argument("--language", choices=(AUTO, *LANGUAGES), help="UI language")
    parser.add_argument("--no-restore", action="store_true", help="do not reopen the last session")
    parser.add_argument("--smoke", action="store_true", help="start, open, close; exit status")
    parser.add_argument("--smoke-timeout", type=float, default=60.0, help="[s] for --smoke")
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
    configure_caches()
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
    settings = AppSettings.from_ini(args.settings) if args.settings else AppSettings()
    session = settings.new_session()
    if args.language:
        session.language = args.language
    language_manager()  # created before the window so its translators apply at once
    try:
        window = MainWindow(
            session,
            settings,
            project=args.project,
            historian=args.historian,
            restore_session=not args.no_restore,
            errors=errors,
        )
        window.show()
        if not args.smoke:
            return app.exec()
        return _smoke(app, window, reported, args.smoke_timeout)
    finally:
        errors.uninstall()
        app.setQuitOnLastWindowClosed(quit_on_close)


def _smoke(app: QApplication, window: MainWindow, reported: list[str], timeout_s: float) -> int:
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
