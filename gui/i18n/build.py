"""Refresh the translation sources from the code and compile them.

Run ``.venv/bin/python -m gui.i18n.build`` after changing user-visible strings
(see :mod:`gui.i18n`).  It runs ``pyside6-lupdate`` over every Python file of
``gui/`` (obsolete entries dropped, no source locations, so the ``.ts`` diff
shows only text) and ``pyside6-lrelease`` on the result.  Both tools ship with
PySide6 (next to the interpreter in the virtualenv).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from gui.i18n import I18N_DIR, qm_path, ts_path

__all__ = ["GUI_DIR", "LANGUAGES_TRANSLATED", "compile_ts", "gui_sources", "main", "update_ts"]

GUI_DIR = I18N_DIR.parent
"""The ``gui`` package folder whose sources are scanned."""
LANGUAGES_TRANSLATED: tuple[str, ...] = ("zh_CN",)
"""Languages with a translation file (English is the source language)."""


def _tool(name: str) -> str:
    """Path of a PySide6 tool: beside the interpreter, else on ``PATH``."""
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found (it ships with PySide6)")
    return found


def gui_sources() -> list[Path]:
    """Every Python file of the ``gui`` package, sorted (the translatable sources)."""
    return sorted(GUI_DIR.rglob("*.py"))


def update_ts(ts: Path, sources: list[Path] | None = None) -> str:
    """Update a ``.ts`` file from the sources with ``pyside6-lupdate``; return its report.

    Raises
    ------
    subprocess.CalledProcessError
        If lupdate fails.
    """
    files = [str(p) for p in (gui_sources() if sources is None else sources)]
    # The tool path and file list come from this package, not from user input.
    done = subprocess.run(  # noqa: S603
        [_tool("pyside6-lupdate"), *files, "-no-obsolete", "-locations", "none", "-ts", str(ts)],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout + done.stderr


def compile_ts(ts: Path, qm: Path) -> str:
    """Compile a ``.ts`` file into a ``.qm`` file with ``pyside6-lrelease``; return its report.

    Raises
    ------
    subprocess.CalledProcessError
        If lrelease fails.
    """
    done = subprocess.run(  # noqa: S603
        [_tool("pyside6-lrelease"), str(ts), "-qm", str(qm)],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout + done.stderr


def main() -> int:
    """Update and compile every translation; print the tools' reports."""
    for language in LANGUAGES_TRANSLATED:
        print(update_ts(ts_path(language)).strip())
        print(compile_ts(ts_path(language), qm_path(language)).strip())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
