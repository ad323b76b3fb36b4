"""The bundle carries every casadi plugin our code asks for, and each one loads."""

from __future__ import annotations

import re
from pathlib import Path

import casadi
import pytest

from energyopt.project.controller import SOLVERS

ROOT = Path(__file__).resolve().parents[2]
#: casadi factory calls whose second argument is a plugin name.
_CALL = re.compile(
    r"\b(nlpsol|qpsol|conic|rootfinder|integrator|linsol|Linsol)\(\s*[^,()]+,\s*[\"'](\w+)[\"']"
)
_KIND = {"qpsol": "conic", "Linsol": "linsol"}


def _plugins_named_in_code() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for package in ("controllers", "energyopt", "plant_models"):
        for path in (ROOT / package).rglob("*.py"):
            for kind, name in _CALL.findall(path.read_text(encoding="utf-8")):
                found.add((_KIND.get(kind, kind), name))
    return found


def test_every_plugin_named_in_our_code_is_collected(casadi_plugins):
    named = _plugins_named_in_code()
    # The scan must see the calls we know of, or it proves nothing.
    assert {
        ("nlpsol", "ipopt"),
        ("conic", "highs"),
        ("conic", "qrqp"),
        ("rootfinder", "newton"),
    } <= named
    assert named <= set(casadi_plugins.PLUGINS), named - set(casadi_plugins.PLUGINS)


def test_every_solver_a_project_may_choose_is_collected(casadi_plugins):
    for solver in SOLVERS:
        kind = "nlpsol" if solver in casadi_plugins.NLPSOL_SOLVERS else "conic"
        assert (kind, solver) in casadi_plugins.PLUGINS, solver


def test_listed_plugins_exist_in_the_installed_casadi_and_load(casadi_plugins):
    folder = Path(casadi.__file__).parent
    files = casadi_plugins.plugin_files(folder)
    assert [f.name for f in files][:1] == [
        f"libcasadi_nlpsol_ipopt{casadi_plugins.plugin_suffix()}"
    ]
    loaders = {
        "nlpsol": casadi.has_nlpsol,
        "conic": casadi.has_conic,
        "rootfinder": casadi.has_rootfinder,
        "linsol": casadi.has_linsol,
    }
    for kind, name in casadi_plugins.PLUGINS:
        assert loaders[kind](name), f"{kind} plugin {name} does not load"


def test_a_missing_plugin_is_named(casadi_plugins, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"lacks plugins: libcasadi_nlpsol_ipopt\.so"):
        casadi_plugins.plugin_files(tmp_path, "linux")


def test_plugin_suffix_per_platform(casadi_plugins):
    assert casadi_plugins.plugin_suffix("win32") == ".dll"
    assert casadi_plugins.plugin_suffix("darwin") == ".dylib"
    assert casadi_plugins.plugin_suffix("linux") == ".so"


def test_spec_collects_plugins_numba_sources_data_and_excludes_qt_modules():
    spec = (ROOT / "installers" / "pyinstaller" / "energyopt.spec").read_text(encoding="utf-8")
    assert "plugin_files(Path(casadi.__file__).parent)" in spec
    assert 'module_collection_mode={"plant_models": "py"}' in spec
    assert '"gui" / "i18n" / "*.qm"' in spec
    assert '"energyopt" / "demos" / "*.toml"' in spec
    assert "excludes=[*QT_EXCLUDES, *DEV_EXCLUDES]" in spec


@pytest.mark.parametrize("entry", ["entry_gui.py", "entry_cli.py"])
def test_frozen_entry_points_configure_caches_before_the_app_is_imported(entry):
    text = (ROOT / "installers" / "pyinstaller" / entry).read_text(encoding="utf-8")
    configure = text.index("\nconfigure_caches()")
    app_import = max(text.find("from gui.app import"), text.find("from energyopt.cli import"))
    assert 0 < text.index("sys.dont_write_bytecode = True") < configure < app_import


def test_importing_the_entry_modules_does_not_import_numba(entry_imports):
    # NUMBA_CACHE_DIR is read when numba is imported: the entry points set it
    # after importing energyopt.runtime, so neither may import numba.
    assert "gui.app" in entry_imports
    assert not {"numba", "llvmlite"} & entry_imports
