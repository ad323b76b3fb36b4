"""The casadi plugins energyopt uses, and the files the frozen app must carry.

casadi loads its solvers at run time with ``dlopen`` from the folder of
``casadi/__init__.py`` (``libcasadi_<kind>_<name>.so``, ``.dll`` on
Windows, ``.dylib`` on macOS).  PyInstaller cannot see these loads: without
the files the frozen app fails with "Plugin 'ipopt' is not found".  Collecting
the whole casadi folder would ship about 280 MB of solvers we never call
(cplex/gurobi/knitro adaptors, alpaqa, bonmin, the onnx runtime ...), so the
plugins are listed here, each with the code that uses it.
``tests/installers/test_installer_casadi_plugins.py`` checks that every plugin name in a
``nlpsol``/``qpsol``/``conic``/``rootfinder``/``integrator`` call of our code
and every solver a project may choose is listed, and that each listed plugin
loads in the installed casadi.

This file is imported by ``energyopt.spec`` (PyInstaller executes spec files
as Python) and by the tests; it uses only the standard library.
"""

from __future__ import annotations

import sys
from pathlib import Path

#: (kind, plugin) -> where it is used.
PLUGINS: dict[tuple[str, str], str] = {
    ("nlpsol", "ipopt"): "economic MPC, targets RTO, MHE, NMPC, calibration, diagnosis",
    ("nlpsol", "fatrop"): "NMPC (controller setting solver='fatrop'), project SOLVERS",
    ("nlpsol", "sqpmethod"): "project SOLVERS",
    ("conic", "highs"): "targets LP, reference MPC, project SOLVERS",
    ("conic", "qrqp"): "advisor diagnosis (elastic QP)",
    ("conic", "qpoases"): "project SOLVERS; sqpmethod's default QP solver",
    ("conic", "osqp"): "project SOLVERS",
    ("conic", "hpipm"): "NMPC fast path (condensed structured QP), project SOLVERS",
    ("rootfinder", "newton"): "collocation steps, steady-state targets",
    ("rootfinder", "fast_newton"): "NMPC fast path: the hold-current-setpoints roll-out",
    ("linsol", "qr"): "default linear solver of the newton rootfinder",
    ("linsol", "csparse"): "sparse LU some casadi functions default to",
    ("linsol", "ldl"): "sparse LDL' some casadi functions default to",
}

#: Solver names a project file may choose that are casadi nlpsol plugins
#: (``energyopt.project.controller.SOLVERS``); the rest are conic plugins.
NLPSOL_SOLVERS: frozenset[str] = frozenset(name for kind, name in PLUGINS if kind == "nlpsol")


def plugin_suffix(platform: str = sys.platform) -> str:
    """Return the file suffix casadi's plugin loader asks for on ``platform``."""
    if platform == "win32":
        return ".dll"
    if platform == "darwin":
        return ".dylib"
    return ".so"


def plugin_files(casadi_dir: Path, platform: str = sys.platform) -> list[Path]:
    """Return the plugin library of every entry of :data:`PLUGINS`.

    Parameters
    ----------
    casadi_dir : Path
        Folder of the installed ``casadi`` package.
    platform : str
        ``sys.platform`` of the build machine.

    Returns
    -------
    list of Path
        ``casadi_dir / libcasadi_<kind>_<name><suffix>``, in :data:`PLUGINS` order.

    Raises
    ------
    FileNotFoundError
        If a listed plugin is missing: this casadi build does not carry it.
    """
    suffix = plugin_suffix(platform)
    files = [casadi_dir / f"libcasadi_{kind}_{name}{suffix}" for kind, name in PLUGINS]
    missing = [path.name for path in files if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"casadi in {casadi_dir} lacks plugins: {', '.join(missing)}")
    return files
