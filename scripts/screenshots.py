"""Screenshots of the desktop app's main views for the docs (``make screenshots``).

Runs the real app window on the steelworks demo under Xvfb (the xcb platform,
as on a desktop, not the offscreen one), drives it to each main view and
saves PNGs into ``docs/screenshots/``:

- ``flows.png``: energy flows at a replay moment;
- ``trends.png``: trends with their normal bands and limits;
- ``recommendations.png``: a real economic-MPC recommendation (ADVISE);
- ``model.png``: the model panel after a fit of the demo history;
- ``kpis.png``: the KPI dashboard on a replay folder (``energyopt replay``);
- ``recommendations_zh_CN.png``: the recommendation view in Chinese.

Needs (Debian/Ubuntu): ``apt-get install xvfb xauth fonts-wqy-microhei``.
Without a ``DISPLAY`` the script re-runs itself under ``xvfb-run``.  Takes
2-4 minutes (demo history, a fit, a 6-hour MPC replay, one recommendation).

Usage: ``python scripts/screenshots.py [--out docs/screenshots] [--size 1600x900]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: Marks the re-run under xvfb-run (no endless re-execution).
_UNDER_XVFB = "ENERGYOPT_SCREENSHOTS_XVFB"
#: Longest wait for one view (a recommendation, the replay). [s]
TIMEOUT_S = 600.0
#: Replay period of the KPI dashboard: day 4 of the demo, 08:00-14:00 plant time.
REPLAY_FROM, REPLAY_TO = "2026-01-08T08:00", "2026-01-08T14:00"
#: Moment shown: day 4, 09:00 plant time (Asia/Shanghai, UTC+8) after three days of
#: history (the advisor's forecast needs them). [ms since epoch]
SHOW_AT_MS = 1_767_571_200_000 + 3 * 86_400_000 + 1 * 3_600_000


def missing_requirements() -> list[str]:
    """What the script needs and does not find (empty: all present)."""
    missing = []
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run") is None:
        missing.append("xvfb-run (apt-get install xvfb xauth)")
    fc_list = shutil.which("fc-list")
    fonts = ""
    if fc_list is not None:
        fonts = subprocess.run(  # noqa: S603 - fixed command, no shell
            [fc_list, ":lang=zh"], capture_output=True, text=True, check=False
        ).stdout
    if not fonts.strip():
        missing.append("a Chinese font (apt-get install fonts-wqy-microhei)")
    return missing


def rerun_under_xvfb(size: str) -> int:
    """Run this script again inside a virtual X server of ``size`` (``WxH``)."""
    env = dict(os.environ, **{_UNDER_XVFB: "1"})
    command = [
        "xvfb-run",
        "-a",
        "-s",
        f"-screen 0 {size}x24",
        sys.executable,
        str(Path(__file__).resolve()),
        *sys.argv[1:],
    ]
    return subprocess.run(command, env=env, check=False).returncode  # noqa: S603 - no shell


def prepare_demo(folder: Path) -> tuple[Path, Path]:
    """Write the steelworks demo project (6-h economic horizon) and a 4-day history."""
    import tomli_w

    from energyopt.demos import demo_project_file
    from energyopt.demos.history import write_demo_history
    from energyopt.project import load_project

    project = load_project(demo_project_file("steelworks"))
    history = folder / "history.h5"
    write_demo_history(project, "steelworks", history, days=4, seed=5)
    data = project.to_toml_dict()
    data["controller"]["economic"]["horizon_s"] = "6 h"  # one solve in a few seconds
    project_path = folder / "plant.toml"
    project_path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return project_path, history


def start_replay(project: Path, history: Path, out: Path) -> subprocess.Popen[bytes]:
    """Start the MPC replay of the KPI dashboard in another process."""
    command = [
        sys.executable,
        "-c",
        "import sys; from energyopt.cli import main; sys.exit(main())",
        "replay",
        str(project),
        "--data",
        str(history),
        "--controller",
        "mpc",
        "--from",
        REPLAY_FROM,
        "--to",
        REPLAY_TO,
        "--out",
        str(out),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603 - no shell


class Shooter:
    """Drive a main window and save its pictures."""

    def __init__(self, app: Any, window: Any, out: Path) -> None:
        self.app, self.window, self.out = app, window, out

    def wait(self, what: str, done: Callable[[], bool], timeout_s: float = TIMEOUT_S) -> None:
        """Run the event loop until ``done()``; fail on an error dialog or the timeout."""
        deadline = time.monotonic() + timeout_s
        while not done():
            self.app.processEvents()
            if self.window.errors.open_dialogs:
                texts = [d.text() for d in self.window.errors.open_dialogs]
                raise RuntimeError(f"{what}: error shown: {texts}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: not done after {timeout_s:.0f} s")
            time.sleep(0.02)

    def settle(self, seconds: float = 1.0) -> None:
        """Let the views repaint."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.02)

    def split_right(self, top_fraction: float) -> None:
        """Give the recommendations this share of the right column (as dragging the splitter)."""
        from PySide6.QtCore import Qt

        docks = self.window.docks
        height = docks["recommendations"].height() + docks["model"].height()
        top = int(height * top_fraction)
        self.window.resizeDocks(
            [docks["recommendations"], docks["model"]], [top, height - top], Qt.Orientation.Vertical
        )

    def show(self, *docks: str) -> None:
        """Raise these docks (tabs) and repaint."""
        for name in docks:
            self.window.docks[name].raise_()
        self.settle()

    def save(self, name: str) -> Path:
        """Save the window as ``name`` (PNG, 8-bit palette to keep it small)."""
        from PySide6.QtGui import QImage

        image = self.window.grab().toImage().convertToFormat(QImage.Format.Format_Indexed8)
        path = self.out / name
        if not image.save(str(path), "PNG", 0):  # 0: smallest file
            raise RuntimeError(f"cannot write {path}")
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
        return path


def shoot(out: Path, size: tuple[int, int], work: Path) -> None:
    """Take every screenshot into ``out``."""
    from PySide6.QtWidgets import QApplication

    from energyopt.runtime import configure_caches
    from gui.errors import ErrorReporter
    from gui.i18n import language_manager
    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    configure_caches()
    project, history = prepare_demo(work)
    replay_out = work / "replay"
    replay = start_replay(project, history, replay_out)
    try:
        app = QApplication.instance() or QApplication([sys.argv[0]])
        language_manager().apply("en")
        window = MainWindow(
            settings=AppSettings.from_ini(work / "settings.ini"),
            project=project,
            historian=history,
            restore_session=False,
            errors=ErrorReporter(log_dir=work / "log"),
        )
        window.setGeometry(0, 0, *size)
        window.show()
        shooter = Shooter(app, window, out)
        shooter.wait("opening the demo", lambda: not window.workers.active)
        window.replay_clock.seek(SHOW_AT_MS)

        shooter.show("trends", "recommendations")
        views = window.plant_views
        shooter.wait("trends", lambda: bool(views.trends) and not views.busy)
        shooter.show("trends")
        shooter.save("trends.png")

        shooter.show("flows")
        shooter.wait("flows", lambda: views.flows is not None and not views.busy)
        shooter.show("flows")
        shooter.save("flows.png")

        advisor = window.recommendations
        window.recommendations_panel.mode_box.setCurrentIndex(2)  # ADVISE
        shooter.wait("recommendation", lambda: advisor.current is not None)
        shooter.split_right(0.7)
        shooter.show("trends", "recommendations")
        shooter.save("recommendations.png")

        shooter.split_right(0.4)
        shooter.show("model")
        window.model_panel.run_button.click()
        shooter.wait("fit", lambda: window.fit_model.shown is not None)
        shooter.show("model")
        shooter.save("model.png")

        if replay.wait(TIMEOUT_S) != 0:
            raise RuntimeError(f"energyopt replay failed with status {replay.returncode}")
        dashboard = window.kpi_dashboard
        if not dashboard.open_folder(replay_out):
            raise RuntimeError(f"the dashboard did not open {replay_out}")
        shooter.wait("KPI dashboard", lambda: not dashboard.model.busy)
        shooter.show("kpis", "flows")
        shooter.save("kpis.png")

        window.session.language = "zh_CN"
        shooter.split_right(0.7)
        shooter.show("trends", "recommendations")
        shooter.save("recommendations_zh_CN.png")
        window.session.language = "en"
        window.close()
    finally:
        if replay.poll() is None:
            replay.terminate()
            replay.wait(30)


def parse_size(text: str) -> tuple[int, int]:
    """``"1600x900"`` -> ``(1600, 900)``."""
    width, _, height = text.partition("x")
    return int(width), int(height)


def main(argv: list[str] | None = None) -> int:
    """Check the requirements, get an X display and take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--size", default="1600x900", help="window size WxH [px]")
    args = parser.parse_args(argv)
    missing = missing_requirements()
    if missing:
        print("scripts/screenshots.py needs: " + "; ".join(missing), file=sys.stderr)
        return 2
    if not os.environ.get("DISPLAY"):
        if os.environ.get(_UNDER_XVFB):
            print("xvfb-run gave no DISPLAY", file=sys.stderr)
            return 2
        return rerun_under_xvfb(args.size)
    os.environ["QT_QPA_PLATFORM"] = "xcb"  # the real X11 platform, not offscreen
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="energyopt-screenshots-") as work:
        shoot(args.out, parse_size(args.size), Path(work))
    return 0


if __name__ == "__main__":
    sys.exit(main())
