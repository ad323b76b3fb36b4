"""Pruning of the Linux bundle: desktop stack to the system, unused Qt plugins out."""

from __future__ import annotations

import re
from pathlib import Path

SITE = "/venv/lib/python3.11/site-packages"
SYS = "/usr/lib/x86_64-linux-gnu"
QT = f"{SITE}/PySide6/Qt"


def _graph():
    binaries = [
        ("PySide6/QtWidgets.abi3.so", f"{SITE}/PySide6/QtWidgets.abi3.so", "EXTENSION"),
        (
            "PySide6/Qt/plugins/platforms/libqxcb.so",
            f"{QT}/plugins/platforms/libqxcb.so",
            "BINARY",
        ),
        (
            "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
            f"{QT}/plugins/platformthemes/libqgtk3.so",
            "BINARY",
        ),
        (
            "PySide6/Qt/lib/libQt6WaylandClient.so.6",
            f"{QT}/lib/libQt6WaylandClient.so.6",
            "BINARY",
        ),
        ("libQt6WaylandClient.so.6", "PySide6/Qt/lib/libQt6WaylandClient.so.6", "SYMLINK"),
        ("libQt6Core.so.6", "PySide6/Qt/lib/libQt6Core.so.6", "SYMLINK"),
        ("libpng16.so.16", f"{SYS}/libpng16.so.16", "BINARY"),
        ("libcairo.so.2", f"{SYS}/libcairo.so.2", "BINARY"),
        ("libX11.so.6", f"{SYS}/libX11.so.6", "BINARY"),
        ("libxcb-icccm.so.4", f"{SYS}/libxcb-icccm.so.4", "BINARY"),
        ("libpython3.11.so.1.0", f"{SYS}/libpython3.11.so.1.0", "BINARY"),
    ]
    needed = {
        f"{SITE}/PySide6/QtWidgets.abi3.so": ["libpng16.so.16"],
        f"{QT}/plugins/platforms/libqxcb.so": ["libX11.so.6", "libxcb-icccm.so.4"],
        f"{QT}/plugins/platformthemes/libqgtk3.so": ["libcairo.so.2"],
    }
    return binaries, lambda source: needed.get(source, [])


def test_prune_keeps_what_kept_binaries_need_and_leaves_the_desktop_stack(bundle_filters):
    binaries, needed = _graph()
    kept, dropped = bundle_filters.prune_linux_binaries(binaries, needed)
    kept_names = {dest for dest, _, _ in kept}
    dropped_names = {dest for dest, _, _ in dropped}
    assert kept_names == {
        "PySide6/QtWidgets.abi3.so",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "libQt6Core.so.6",  # link to a kept library
        "libpng16.so.16",  # needed by a kept extension
        "libpython3.11.so.1.0",  # loaded by the bootloader, never pruned
    }
    assert dropped_names == {
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",  # unused Qt plugin
        "PySide6/Qt/lib/libQt6WaylandClient.so.6",
        "libQt6WaylandClient.so.6",  # its link
        "libcairo.so.2",  # only the dropped GTK theme needed it
        "libX11.so.6",  # desktop stack: from the system
        "libxcb-icccm.so.4",
    }
    assert len(kept) + len(dropped) == len(binaries)


def test_every_left_out_system_library_has_a_debian_package(bundle_filters):
    depends = bundle_filters.debian_depends()
    assert depends == sorted(set(depends))
    for package in ("libxcb-icccm4", "libxcb-keysyms1", "libgl1", "libfontconfig1", "libx11-6"):
        assert package in depends
    assert "libglib2.0-0t64 | libglib2.0-0" in depends  # bookworm and trixie names
    assert all(name.startswith("lib") and ".so" in name for name in bundle_filters.SYSTEM_LIBRARIES)


def test_system_library_detection(bundle_filters):
    assert bundle_filters.is_system_library("/usr/lib/x86_64-linux-gnu/libX11.so.6")
    assert bundle_filters.is_system_library("/lib64/libz.so.1")
    assert not bundle_filters.is_system_library(f"{SITE}/numpy.libs/libscipy_openblas.so")
    assert not bundle_filters.is_system_library("/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0")
    assert not bundle_filters.is_system_library("/usr/libexec/libfoo.so")  # not a library folder


def test_no_qt_module_the_gui_imports_is_excluded(bundle_filters, entry_imports):
    # pyqtgraph imports QtOpenGL, QtOpenGLWidgets and QtTest (some through
    # importlib): excluding one breaks the frozen app at start.
    imported = {m for m in entry_imports if m.startswith("PySide6.Qt")}
    assert {"PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets"} <= imported
    assert not imported & set(bundle_filters.QT_EXCLUDES)
    for unwanted in ("QtWebEngineCore", "QtQml", "QtQuick", "Qt3DCore", "QtMultimedia"):
        assert f"PySide6.{unwanted}" in bundle_filters.QT_EXCLUDES


def test_our_packages_import_no_module_the_bundle_excludes(bundle_filters):
    # dask.distributed is the cluster extra's: tuning on a cluster needs a
    # Python install, not the workstation bundle (installers/README.md).
    allowed = {"distributed", "dask"}
    excluded = {name for name in bundle_filters.DEV_EXCLUDES if "." not in name} - allowed
    pattern = re.compile(r"^\s*(?:import|from)\s+(\w+)", re.MULTILINE)
    root = Path(__file__).resolve().parents[2]
    offenders = {
        f"{path.relative_to(root)}: {name}"
        for package in ("energyopt", "controllers", "plant_models", "gui")
        for path in (root / package).rglob("*.py")
        for name in pattern.findall(path.read_text(encoding="utf-8"))
        if name in excluded
    }
    assert not offenders
    assert "matplotlib" not in excluded  # the reports draw their charts with it
