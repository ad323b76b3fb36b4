"""What the Linux bundle leaves to the system, and the pruning that follows.

PyInstaller copies every shared library a collected binary links to, system
libraries included.  The desktop stack (X11/xcb, xkbcommon, fontconfig,
freetype, GLib, D-Bus, OpenGL) must instead come from the workstation: its
versions have to match the X server, the fonts and the graphics driver, and
Debian installs them anyway on any desktop.  :data:`SYSTEM_LIBRARIES` maps
each to its Debian package: the ``.deb``'s ``Depends`` is made from it
(``installers/linux/build_deb.py``), and the installer test checks with
``ldd`` that an installed copy resolves every library.

We also drop the Qt plugins a plant workstation does not use (GTK theme,
Wayland, EGLFS/KMS, VNC, TLS, network information): Qt falls back to its own
style and to xcb (XWayland on a Wayland desktop).  The GTK theme alone pulled
in cairo, pango, gdk-pixbuf and ATK.  Libraries that only dropped plugins
needed are found by following the ``NEEDED`` entries (``ldd``) from what is
kept.

This file is imported by ``energyopt.spec`` and the tests; it uses only the
standard library (``get_imports`` is passed in by the spec).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

#: Qt modules the app never imports, excluded from the bundle by name.  Used
#: (directly or by pyqtgraph, some through importlib): QtCore, QtGui,
#: QtWidgets, QtSvg, QtOpenGL, QtOpenGLWidgets, QtTest; a test imports the
#: GUI and checks that none of its Qt modules is listed here.
QT_EXCLUDES: tuple[str, ...] = tuple(
    f"PySide6.{name}"
    for name in (
        "Qt3DAnimation", "Qt3DCore", "Qt3DExtras", "Qt3DInput", "Qt3DLogic", "Qt3DRender",
        "QtBluetooth", "QtCharts", "QtConcurrent", "QtDataVisualization", "QtDesigner",
        "QtGraphs", "QtHelp", "QtHttpServer", "QtLocation", "QtMultimedia",
        "QtMultimediaWidgets", "QtNetworkAuth", "QtNfc", "QtPdf", "QtPdfWidgets",
        "QtPositioning", "QtQml", "QtQuick", "QtQuick3D", "QtQuickControls2",
        "QtQuickWidgets", "QtRemoteObjects", "QtScxml", "QtSensors", "QtSerialBus",
        "QtSerialPort", "QtSpatialAudio", "QtSql", "QtStateMachine", "QtTextToSpeech",
        "QtUiTools", "QtWebChannel", "QtWebEngineCore", "QtWebEngineQuick",
        "QtWebEngineWidgets", "QtWebSockets", "QtWebView", "QtXml",
    )
)  # fmt: skip

#: Installed for development or other extras, never imported by the app (a
#: test checks that our packages import none of them; matplotlib and Pillow
#: stay: the HTML reports draw their charts with matplotlib).
DEV_EXCLUDES: tuple[str, ...] = (
    "tkinter", "IPython", "jupyter_client", "pandas",
    "pytest", "_pytest", "hypothesis", "pytestqt", "mypy", "ruff", "importlinter", "grimp",
    "distributed", "dask", "tornado", "bokeh", "do_mpc", "sphinx", "docutils",
    "pyqtgraph.opengl", "pyqtgraph.examples", "pyqtgraph.jupyter",
)  # fmt: skip

#: Library soname -> Debian package providing it (bookworm name; ``a | b``
#: where trixie renamed the package for the 64-bit time_t transition).
SYSTEM_LIBRARIES: dict[str, str] = {
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libXau.so.6": "libxau6",
    "libXdmcp.so.6": "libxdmcp6",
    "libXext.so.6": "libxext6",
    "libXrender.so.1": "libxrender1",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0t64 | libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0t64 | libglib2.0-0",
    "libgio-2.0.so.0": "libglib2.0-0t64 | libglib2.0-0",
    "libgmodule-2.0.so.0": "libglib2.0-0t64 | libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0t64 | libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
}

#: Fragments of the destination path of Qt plugins and libraries not shipped.
DROPPED_QT: tuple[str, ...] = (
    "plugins/platformthemes/",
    "plugins/egldeviceintegrations/",
    "plugins/wayland-",
    "plugins/platforms/libqwayland",
    "plugins/platforms/libqeglfs",
    "plugins/platforms/libqlinuxfb",
    "plugins/platforms/libqvnc",
    "plugins/platforms/libqvkkhrdisplay",
    "plugins/platforms/libqminimalegl",
    "plugins/tls/",
    "plugins/networkinformation/",
    "lib/libQt6EglFSDeviceIntegration",
    "lib/libQt6EglFsKmsSupport",
    "lib/libQt6WaylandClient",
    "lib/libQt6WaylandEglClientHwIntegration",
    "lib/libQt6WlShellIntegration",
)

#: Folders of the Linux distribution's own libraries.
_SYSTEM_DIRS = ("/lib", "/lib64", "/usr/lib", "/usr/lib64")

#: One entry of PyInstaller's binaries list: (destination, source, kind).
Entry = tuple[str, str, str]


def debian_depends() -> list[str]:
    """Return the ``Depends`` items for :data:`SYSTEM_LIBRARIES`, sorted, no repeats."""
    return sorted(set(SYSTEM_LIBRARIES.values()))


def is_system_library(source: str) -> bool:
    """Whether ``source`` is a shared library of the distribution (not of a wheel)."""
    path = PurePosixPath(source)
    if path.name.startswith("libpython"):  # the interpreter: loaded by the bootloader
        return False
    return path.name.startswith("lib") and any(
        str(path).startswith(folder + "/") for folder in _SYSTEM_DIRS
    )


def prune_linux_binaries(
    binaries: Iterable[Entry],
    needed: Callable[[str], Iterable[str]],
) -> tuple[list[Entry], list[Entry]]:
    """Drop unused Qt plugins, the desktop stack and libraries nothing kept needs.

    Parameters
    ----------
    binaries : iterable of (dest, source, kind)
        PyInstaller's ``Analysis.binaries``.
    needed : callable
        ``needed(source)`` -> library names (sonames) the file links to,
        directly or not (PyInstaller's ``get_imports`` over ``ldd``).

    Returns
    -------
    kept, dropped : list of (dest, source, kind)
        Entries to bundle, and the ones left out.
    """
    entries = list(binaries)
    files = [e for e in entries if e[2] != "SYMLINK"]
    candidates = [e for e in files if not any(fragment in e[0] for fragment in DROPPED_QT)]
    by_name = {Path(e[0]).name: e for e in candidates if is_system_library(e[1])}
    roots = [e for e in candidates if not is_system_library(e[1])]
    reached: set[str] = set()
    queue = [e[1] for e in roots]
    while queue:
        for name in needed(queue.pop()):
            base = Path(name).name
            if base in by_name and base not in reached:
                reached.add(base)
                queue.append(by_name[base][1])
    kept_ids = {id(e) for e in roots} | {
        id(e) for name, e in by_name.items() if name in reached and name not in SYSTEM_LIBRARIES
    }
    dropped = [e for e in files if id(e) not in kept_ids]
    # Links PyInstaller made to a library (same file name) go with it.
    links = drop_dangling_links([e for e in entries if e[2] == "SYMLINK"], dropped)
    kept_ids |= {id(e) for e in links}
    return (
        [e for e in entries if id(e) in kept_ids],
        [e for e in entries if id(e) not in kept_ids],
    )


def drop_dangling_links(datas: Iterable[Entry], dropped: Iterable[Entry]) -> list[Entry]:
    """Remove the symbolic links PyInstaller made to libraries that were dropped.

    Parameters
    ----------
    datas : iterable of (dest, source, kind)
        PyInstaller's ``Analysis.datas`` (links have kind ``"SYMLINK"``).
    dropped : iterable of (dest, source, kind)
        Entries :func:`prune_linux_binaries` left out.

    Returns
    -------
    list of (dest, source, kind)
        ``datas`` without links whose file name is that of a dropped library.
    """
    names = {Path(e[0]).name for e in dropped}
    return [e for e in datas if not (e[2] == "SYMLINK" and Path(e[0]).name in names)]
