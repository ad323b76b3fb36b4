"""Build the Linux ``.deb`` from the PyInstaller bundle with ``dpkg-deb``.

    python installers/linux/build_deb.py BUNDLE_DIR OUT_DIR [--version V]

Layout of the package:

- ``/opt/energyopt/``: the one-folder bundle (read-only for users);
- ``/usr/bin/energyopt`` and ``/usr/bin/energyopt-gui``: launchers;
- ``/usr/share/applications/energyopt.desktop`` and the icon in the hicolor theme;
- ``Depends`` on the system libraries the bundle leaves out
  (``installers/pyinstaller/bundle_filters.py``), ``Recommends`` a CJK font.

Maintainer scripts only refresh the desktop and icon caches and, before
removal, delete ``__pycache__`` folders that a root user's run may have
written into ``/opt/energyopt`` (the frozen app never writes there itself),
so that ``dpkg --purge`` leaves nothing behind.  Each user's settings, log and
numba cache live in their home folder and are not touched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
INSTALLERS = HERE.parent
sys.path.insert(0, str(INSTALLERS / "pyinstaller"))

from bundle_filters import debian_depends  # noqa: E402 - needs the path above

PACKAGE = "energyopt"
INSTALL_DIR = "/opt/energyopt"
EXECUTABLES = ("energyopt", "energyopt-gui")
RECOMMENDS = "fonts-noto-cjk | fonts-wqy-microhei"
MAINTAINER = "energyopt developers <energyopt@localhost>"
DESCRIPTION = (
    "Multi-medium factory energy optimiser and process-control advisor\n"
    " Hybrid plant models, economic and tracking MPC and checked setpoint\n"
    " recommendations for steelworks energy systems and chemical plants:\n"
    " historian data import and checks, replay, tuning, a desktop app\n"
    " (energyopt-gui) and a command-line interface (energyopt)."
)

LAUNCHER = """#!/bin/sh
# Launcher installed by the energyopt package.
exec {install_dir}/{name} "$@"
"""

POSTINST = """#!/bin/sh
set -e
if [ "$1" = "configure" ]; then
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 && \\
        gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true
fi
exit 0
"""

PRERM = """#!/bin/sh
set -e
# Byte-code a root user's run may have written beside the shipped .py files.
if [ -d {install_dir} ]; then
    find {install_dir} -depth -type d -name __pycache__ -exec rm -rf {{}} + || true
fi
exit 0
"""

POSTRM = """#!/bin/sh
set -e
if [ "$1" = "remove" ] || [ "$1" = "purge" ]; then
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 && \\
        gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true
fi
exit 0
"""


def control_text(version: str, architecture: str, installed_kib: int) -> str:
    """Return the ``DEBIAN/control`` file of the package.

    Parameters
    ----------
    version : str
        Package version (the project's).
    architecture : str
        Debian architecture (``dpkg --print-architecture``).
    installed_kib : int
        Size of the installed files. [KiB]
    """
    fields = {
        "Package": PACKAGE,
        "Version": version,
        "Architecture": architecture,
        "Maintainer": MAINTAINER,
        "Installed-Size": str(installed_kib),
        "Depends": ", ".join(debian_depends()),
        "Recommends": RECOMMENDS,
        "Section": "science",
        "Priority": "optional",
        "Homepage": "https://localhost/energyopt",
        "Description": DESCRIPTION,
    }
    return "".join(f"{key}: {value}\n" for key, value in fields.items())


def _tree_kib(root: Path) -> int:
    total = sum(p.lstat().st_size for p in root.rglob("*") if p.is_file() or p.is_symlink())
    return (total + 1023) // 1024


def _write(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


def _normalise_modes(root: Path) -> None:
    """Folders 755, files 644, executables (any x bit) 755: dpkg keeps these modes."""
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            path.chmod(0o755 if path.stat().st_mode & 0o111 else 0o644)


def stage(bundle: Path, staging: Path, version: str, architecture: str) -> Path:
    """Lay out the package tree under ``staging``; return it.

    Parameters
    ----------
    bundle : Path
        The PyInstaller one-folder bundle (holding the two executables).
    staging : Path
        Empty or absent folder to fill.
    version, architecture : str
        Package version and Debian architecture.
    """
    missing = [name for name in EXECUTABLES if not (bundle / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{bundle} is not an energyopt bundle: no {', '.join(missing)}")
    if staging.exists():
        shutil.rmtree(staging)
    opt = staging / INSTALL_DIR.lstrip("/")
    shutil.copytree(bundle, opt, symlinks=True)
    for name in EXECUTABLES:
        _write(
            staging / "usr" / "bin" / name,
            LAUNCHER.format(install_dir=INSTALL_DIR, name=name),
            0o755,
        )
    share = staging / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copy2(HERE / "energyopt.desktop", share / "applications" / "energyopt.desktop")
    icons = INSTALLERS / "icons"
    for folder, name in (("scalable", "energyopt.svg"), ("256x256", "energyopt.png")):
        target = share / "icons" / "hicolor" / folder / "apps"
        target.mkdir(parents=True)
        shutil.copy2(icons / name, target / name)
    doc = share / "doc" / PACKAGE
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(
        "energyopt: proprietary; bundles numpy, scipy, casadi (LGPL-3.0), numba,\n"
        "llvmlite, h5py, PySide6/Qt (LGPL-3.0) and their libraries under their licences.\n",
        encoding="utf-8",
    )
    _normalise_modes(staging)
    debian = staging / "DEBIAN"
    debian.mkdir()
    _write(debian / "postinst", POSTINST, 0o755)
    _write(debian / "prerm", PRERM.format(install_dir=INSTALL_DIR), 0o755)
    _write(debian / "postrm", POSTRM, 0o755)
    _write(
        debian / "control",
        control_text(version, architecture, _tree_kib(staging) - _tree_kib(debian)),
        0o644,
    )
    return staging


def build_deb(bundle: Path, out_dir: Path, version: str, *, work: Path | None = None) -> Path:
    """Build ``energyopt_<version>_<arch>.deb`` in ``out_dir``; return its path.

    Parameters
    ----------
    bundle : Path
        The PyInstaller one-folder bundle.
    out_dir : Path
        Folder of the package.
    version : str
        Package version.
    work : Path or None
        Staging folder (default ``build/deb`` beside ``out_dir``).
    """
    dpkg_deb = shutil.which("dpkg-deb")
    if dpkg_deb is None:
        raise FileNotFoundError("dpkg-deb not found: build the .deb on Debian or Ubuntu")
    architecture = subprocess.run(
        ["dpkg", "--print-architecture"], check=True, capture_output=True, text=True
    ).stdout.strip()
    staging = work if work is not None else out_dir.parent / "build" / "deb"
    stage(bundle, staging / f"{PACKAGE}_{version}_{architecture}", version, architecture)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{PACKAGE}_{version}_{architecture}.deb"
    threads = str(os.cpu_count() or 1)
    subprocess.run(
        [
            dpkg_deb,
            "--root-owner-group",
            "-Zxz",
            f"-z{os.environ.get('ENERGYOPT_DEB_XZ_LEVEL', '6')}",
            f"--threads-max={threads}",
            "--build",
            str(staging / f"{PACKAGE}_{version}_{architecture}"),
            str(target),
        ],
        check=True,
    )
    return target


def main(argv: list[str] | None = None) -> int:
    """Command line: build the .deb from a bundle."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="PyInstaller one-folder bundle")
    parser.add_argument("out", type=Path, help="output folder of the .deb")
    parser.add_argument("--version", required=True, help="package version")
    args = parser.parse_args(argv)
    print(build_deb(args.bundle, args.out, args.version))
    return 0


if __name__ == "__main__":
    sys.exit(main())
