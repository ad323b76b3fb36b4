"""Install the .deb, run the installed copy as an unprivileged user, purge it.

    sudo python installers/linux/installer_test.py [--dist dist]

Run by ``make installer-test`` after ``make installer``.  As root it:

1. installs ``dist/energyopt_<version>_<arch>.deb`` with ``dpkg -i`` (missing
   system libraries from ``Depends`` are then installed with
   ``apt-get -f install``);
2. checks with ``ldd`` that every library of the installed copy resolves
   (the bundle plus ``Depends``), and that users cannot write into
   ``/opt/energyopt``;
3. as the unprivileged user ``energyopt-smoke`` (created with ``useradd`` if
   needed, removed again if it was created here), with an empty cache:
   ``energyopt-gui --smoke`` twice (cold, then warm numba cache: one MPC
   recommendation each, a screenshot, timings), ``energyopt demo``, and
   ``energyopt replay`` with ``--controller baseline`` when the command
   exists; with ``xvfb-run`` also a real X11 window (the xcb plugin and the
   system libraries it needs);
4. checks that nothing was written into the install folder;
5. purges the package and checks that nothing of it is left (``/opt/energyopt``,
   the launchers, the desktop entry, the icons, dpkg's file list);

and prints the figures: bundle and .deb size, build time, start-to-first-paint
and first-recommendation time, cold and warm, against the issue's targets.
Exit status 0 when every check passed.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from build_deb import EXECUTABLES, INSTALL_DIR, PACKAGE  # noqa: E402 - needs the path above

USER = "energyopt-smoke"
#: Files the package installs outside /opt/energyopt.
OUTSIDE_FILES = (
    "/usr/bin/energyopt",
    "/usr/bin/energyopt-gui",
    "/usr/share/applications/energyopt.desktop",
    "/usr/share/icons/hicolor/scalable/apps/energyopt.svg",
    "/usr/share/icons/hicolor/256x256/apps/energyopt.png",
    "/usr/share/doc/energyopt",
)
#: Libraries allowed to stay unresolved: numba's optional TBB threading layer
#: (numba falls back to its OpenMP or work-queue layer).
OPTIONAL_LIBRARIES = ("libtbb.so.12",)
#: Targets of the issue. [MB], [s]
DEB_TARGET_MB = 250.0
COLD_TARGET_S = 15.0
WARM_TARGET_S = 3.0
SMOKE_PREFIX = "energyopt-gui-smoke "


@dataclass
class Report:
    """Checks and figures gathered along the way."""

    failures: list[str] = field(default_factory=list)
    figures: dict[str, object] = field(default_factory=dict)

    def check(self, ok: bool, what: str) -> bool:
        print(f"[{'ok' if ok else 'FAIL'}] {what}", flush=True)
        if not ok:
            self.failures.append(what)
        return ok


def run(
    cmd: list[str], *, timeout: float = 900.0, check: bool = False
) -> subprocess.CompletedProcess:
    print(f"$ {shlex.join(cmd)}", flush=True)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=check)


def as_user(cmd: list[str], home: Path, **env: str) -> list[str]:
    """``cmd`` run as :data:`USER` with a clean environment and its own home."""
    base = {
        "HOME": str(home),
        "USER": USER,
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
        **env,
    }
    return ["runuser", "-u", USER, "--", "env", "-i", *(f"{k}={v}" for k, v in base.items()), *cmd]


def ensure_user() -> tuple[Path, bool]:
    """Return the test user's home and whether it was created here."""
    try:
        return Path(pwd.getpwnam(USER).pw_dir), False
    except KeyError:
        run(["useradd", "--create-home", "--shell", "/bin/sh", USER], check=True)
        return Path(pwd.getpwnam(USER).pw_dir), True


def tree_listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def unresolved_libraries(root: Path) -> dict[str, list[str]]:
    """Return ELF file -> libraries neither the system nor the bundle provides.

    ``ldd`` on one library of the bundle does not see the run paths of the
    libraries that load it at run time (a wheel's ``libgfortran`` finds its
    ``libquadmath`` through the ``RPATH`` of the solver that loads it), so a
    name ``ldd`` cannot find counts only when no file of the bundle has it.
    """
    bundled = {path.name for path in root.rglob("*")}
    missing: dict[str, list[str]] = {}
    for path in root.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        with path.open("rb") as fh:
            if fh.read(4) != b"\x7fELF":
                continue
        out = subprocess.run(["ldd", str(path)], check=False, capture_output=True, text=True).stdout
        names = [
            line.split()[0]
            for line in out.splitlines()
            if "not found" in line
            and line.split()[0] not in OPTIONAL_LIBRARIES
            and line.split()[0] not in bundled
        ]
        if names:
            missing[str(path.relative_to(root))] = names
    return missing


def smoke(report: Report, home: Path, label: str) -> dict[str, object] | None:
    """Run ``energyopt-gui --smoke`` on the demo as the user; return its figures."""
    shot = home / f"smoke-{label}.png"
    start = time.time()
    result = run(as_user(["energyopt-gui", "--smoke", "--screenshot", str(shot)], home))
    wall = time.time() - start
    lines = [line for line in result.stdout.splitlines() if line.startswith(SMOKE_PREFIX)]
    if not report.check(
        result.returncode == 0 and bool(lines), f"energyopt-gui --smoke ({label} cache) exits 0"
    ):
        print(result.stdout[-3000:], result.stderr[-3000:], sep="\n")
        return None
    figures: dict[str, object] = json.loads(lines[-1][len(SMOKE_PREFIX) :])
    paint = figures.get("first_paint_epoch_s")
    figures["first_paint_s"] = round(float(paint) - start, 2) if paint else None
    figures["process_s"] = round(wall, 1)
    report.check(shot.is_file() and shot.stat().st_size > 10_000, f"screenshot {shot} saved")
    return figures


def replay(report: Report, home: Path, demo_dir: Path) -> None:
    """Replay six hours of the demo history with the rule-based baseline."""
    from energyopt.demos.history import DEMO_START_MS

    day = datetime.fromtimestamp(DEMO_START_MS / 1000.0 + 86_400.0, tz=UTC)
    cmd = [
        "energyopt", "replay", str(demo_dir / "plant.toml"),
        "--data", str(demo_dir / "history.h5"),
        "--controller", "baseline",
        "--from", day.strftime("%Y-%m-%dT%H:%M"),
        "--to", (day + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M"),
        "--out", str(home / "replay"),
        "--no-compare",
    ]  # fmt: skip
    result = run(as_user(cmd, home))
    report.check(result.returncode == 0, "energyopt replay --controller baseline (6 h)")
    if result.returncode != 0:
        print(result.stdout[-2000:], result.stderr[-2000:], sep="\n")


def real_window(report: Report, home: Path, demo_dir: Path) -> None:
    """Open the demo files in a real X11 window on a private Xvfb server."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        print("[skip] real X11 window: Xvfb not installed (apt-get install xvfb)")
        return
    display = ":87"
    server = subprocess.Popen(
        [xvfb, display, "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        socket = Path(f"/tmp/.X11-unix/X{display[1:]}")
        deadline = time.monotonic() + 10.0
        while not socket.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        cmd = [
            "energyopt-gui",
            "--smoke",
            "--no-restore",
            str(demo_dir / "plant.toml"),
            str(demo_dir / "history.h5"),
        ]
        window = run(as_user(cmd, home, QT_QPA_PLATFORM="xcb", DISPLAY=display), timeout=300)
        report.check(window.returncode == 0, "energyopt-gui --smoke in a real X11 window (Xvfb)")
        if window.returncode != 0:
            print(window.stdout[-2000:], window.stderr[-2000:], sep="\n")
    finally:
        server.terminate()
        server.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    """Run the whole installer test; return 0 when every check passed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="folder of the .deb")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("installer_test.py installs a package: run it as root", file=sys.stderr)
        return 2
    report = Report()
    figures_file = args.dist / "installer-figures.json"
    built = json.loads(figures_file.read_text("utf-8")) if figures_file.is_file() else {}
    debs = sorted(args.dist.glob(f"{PACKAGE}_*.deb"), key=lambda p: p.stat().st_mtime)
    if not debs:
        print(f"no {PACKAGE}_*.deb in {args.dist}: run make installer first", file=sys.stderr)
        return 2
    deb = debs[-1]
    report.figures.update(
        deb=str(deb),
        deb_mb=round(deb.stat().st_size / 1e6, 1),
        bundle_mb=built.get("bundle_mb"),
        build_s=round(
            float(built.get("bundle_build_s", 0)) + float(built.get("deb_build_s", 0)), 1
        ),
    )

    # ------------------------------------------------------------ install
    if run(["dpkg", "-s", PACKAGE]).returncode == 0:
        run(["dpkg", "--purge", PACKAGE], check=True)
    installed = run(["dpkg", "-i", str(deb)])
    if installed.returncode != 0:
        print(installed.stderr[-2000:])
        fixed = run(["apt-get", "-f", "install", "-y", "--no-install-recommends"], timeout=1800)
        installed = fixed
    if not report.check(installed.returncode == 0, f"dpkg -i {deb.name}"):
        print(installed.stdout[-2000:], installed.stderr[-2000:], sep="\n")
        return finish(report)
    opt = Path(INSTALL_DIR)
    for name in EXECUTABLES:
        report.check(os.access(f"/usr/bin/{name}", os.X_OK), f"/usr/bin/{name} installed")
    missing = unresolved_libraries(opt)
    report.check(not missing, "every library of the installed copy resolves (ldd)")
    for where, names in list(missing.items())[:20]:
        print(f"    {where}: {', '.join(names)}")
    home, created = ensure_user()
    try:
        user_cache = home / ".cache" / "energyopt"
        shutil.rmtree(user_cache, ignore_errors=True)  # a cold numba cache
        probe = run(as_user(["touch", f"{INSTALL_DIR}/probe"], home))
        report.check(probe.returncode != 0, f"{INSTALL_DIR} is read-only for users")
        before = tree_listing(opt)

        # -------------------------------------------------------- as the user
        cold = smoke(report, home, "cold")
        warm = smoke(report, home, "warm")
        for label, values in (("cold", cold), ("warm", warm)):
            if values:
                for key in (
                    "first_paint_s",
                    "recommendation_s",
                    "total_s",
                    "simulation_s",
                    "controller_s",
                    "solve_s",
                    "warmup_s",
                    "process_s",
                ):
                    report.figures[f"{label}_{key}"] = values.get(key)
        demo_dir = home / "demo"
        demo = run(
            as_user(["energyopt", "demo", "--out", str(demo_dir), "--days", "2", "--force"], home)
        )
        report.check(demo.returncode == 0, "energyopt demo (installed copy)")
        if demo.returncode != 0:
            print(demo.stdout[-2000:], demo.stderr[-2000:], sep="\n")
        replay_help = run(as_user(["energyopt", "replay", "--help"], home))
        if replay_help.returncode == 0:
            replay(report, home, demo_dir)
        else:
            print("[skip] energyopt replay: this build has no replay command yet")
        real_window(report, home, demo_dir)
        after = tree_listing(opt)
        report.check(
            after == before, f"nothing written into {INSTALL_DIR}: {sorted(after - before)[:5]}"
        )
    finally:
        if created:
            run(["userdel", "--remove", USER])

    # ------------------------------------------------------------ purge
    purged = run(["dpkg", "--purge", PACKAGE])
    report.check(purged.returncode == 0, f"dpkg --purge {PACKAGE}")
    left = [p for p in (INSTALL_DIR, *OUTSIDE_FILES) if Path(p).exists()]
    report.check(not left, f"nothing left behind after purge {left}")
    report.check(run(["dpkg", "-L", PACKAGE]).returncode != 0, "dpkg knows no file of the package")
    return finish(report)


def finish(report: Report) -> int:
    """Print the figures and the verdict; return the exit status."""
    f = report.figures
    print("\n==== installer figures")
    for key, value in f.items():
        print(f"{key:>26}: {value}")
    targets = (
        ("deb_mb", DEB_TARGET_MB, ".deb size [MB]"),
        ("cold_recommendation_s", COLD_TARGET_S, "cold first recommendation [s]"),
        ("warm_recommendation_s", WARM_TARGET_S, "warm first recommendation [s]"),
    )
    print("==== targets")
    for key, limit, what in targets:
        value = f.get(key)
        verdict = "n/a" if value is None else ("met" if float(value) < limit else "MISSED")
        print(f"{what:>32}: {value} (target < {limit:g}): {verdict}")
    print(
        "==== "
        + ("all checks passed" if not report.failures else "FAILED: " + "; ".join(report.failures))
    )
    return 0 if not report.failures else 1


if __name__ == "__main__":
    sys.exit(main())
