"""Load the installer build scripts (plain files under installers/, not a package)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALLERS = ROOT / "installers"


def load_installer_module(relative: str) -> ModuleType:
    """Import ``installers/<relative>`` by path (its folder goes on ``sys.path``)."""
    path = INSTALLERS / relative
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = f"_installers_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def load_installer():
    """Return :func:`load_installer_module`."""
    return load_installer_module


@pytest.fixture(scope="session")
def casadi_plugins() -> ModuleType:
    return load_installer_module("pyinstaller/casadi_plugins.py")


@pytest.fixture(scope="session")
def bundle_filters() -> ModuleType:
    return load_installer_module("pyinstaller/bundle_filters.py")


@pytest.fixture(scope="session")
def build_deb() -> ModuleType:
    return load_installer_module("linux/build_deb.py")


@pytest.fixture(scope="session")
def entry_imports() -> set[str]:
    """Modules loaded by importing what the frozen entry points import (fresh process)."""
    code = (
        "import sys, energyopt.runtime, energyopt.cli, gui.app, gui.main_window; "
        "print(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(out.stdout.split())
