"""Build the installers: the PyInstaller bundle, then the .deb on Debian/Ubuntu.

    python installers/build.py [--dist dist] [--work build]

Writes ``dist/pyinstaller/energyopt/`` (the one-folder bundle),
``dist/energyopt_<version>_<arch>.deb`` where ``dpkg-deb`` exists, and
``dist/installer-figures.json`` (build time, bundle and package sizes), and
prints the figures.  The Windows installer is built on Windows
(``installers/README.md``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "linux"))

from build_deb import build_deb  # noqa: E402 - needs the path above

#: Size limit of the .deb (issue: plant workstations get it on a USB stick). [MB]
DEB_LIMIT_MB = 250.0


def project_version() -> str:
    """Return the version in ``pyproject.toml``."""
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def tree_mb(path: Path) -> float:
    """Return the size of the files under ``path`` (links not followed). [MB]"""
    return sum(p.lstat().st_size for p in path.rglob("*") if not p.is_dir()) / 1e6


def build_bundle(dist: Path, work: Path) -> Path:
    """Run PyInstaller on ``energyopt.spec``; return the bundle folder."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(dist / "pyinstaller"),
            "--workpath",
            str(work / "pyinstaller"),
            str(HERE / "pyinstaller" / "energyopt.spec"),
        ],
        check=True,
        cwd=ROOT,
    )
    return dist / "pyinstaller" / "energyopt"


def main(argv: list[str] | None = None) -> int:
    """Build the bundle and the .deb; print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument("--work", type=Path, default=ROOT / "build", help="work folder")
    parser.add_argument("--no-deb", action="store_true", help="build only the bundle")
    args = parser.parse_args(argv)
    figures: dict[str, object] = {"version": project_version()}
    start = time.perf_counter()
    bundle = build_bundle(args.dist, args.work)
    figures["bundle_build_s"] = round(time.perf_counter() - start, 1)
    figures["bundle"] = str(bundle)
    figures["bundle_mb"] = round(tree_mb(bundle), 1)
    if not args.no_deb and shutil.which("dpkg-deb"):
        start = time.perf_counter()
        deb = build_deb(bundle, args.dist, str(figures["version"]), work=args.work / "deb")
        figures["deb_build_s"] = round(time.perf_counter() - start, 1)
        figures["deb"] = str(deb)
        figures["deb_mb"] = round(deb.stat().st_size / 1e6, 1)
    (args.dist / "installer-figures.json").write_text(
        json.dumps(figures, indent=2) + "\n", encoding="utf-8"
    )
    for key, value in figures.items():
        print(f"{key:>16}: {value}")
    deb_mb = figures.get("deb_mb")
    if isinstance(deb_mb, float) and deb_mb > DEB_LIMIT_MB:
        print(f"the .deb is {deb_mb} MB, over the {DEB_LIMIT_MB:g} MB limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
