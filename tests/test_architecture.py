"""Architecture rules, checked mechanically.

* The import-linter contracts of ``pyproject.toml`` (layers
  ``gui -> energyopt -> controllers -> plant_models``, Qt only in ``gui``,
  no file or application libraries in models/controllers) hold.
* No module uses pickle/marshal loading, ``eval``/``exec`` or star imports.
* Every public function and class of the core packages has a numpydoc
  docstring that documents each of its parameters (as python-control does).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("energyopt", "controllers", "plant_models", "gui")
CORE_PACKAGES = ("energyopt", "controllers", "plant_models")


def _python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_import_linter_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Each contract is reported as KEPT; a renamed or dropped contract fails here.
    assert result.stdout.count("KEPT") == 3, result.stdout


@pytest.mark.parametrize("package", PACKAGES)
def test_no_unsafe_deserialisation_or_star_imports(package):
    offenders = []
    for path in _python_files(package):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
                offenders.append(f"{path}:{node.lineno}: star import")
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                if any(
                    n.split(".")[0] in {"pickle", "marshal", "dill", "cloudpickle"} for n in names
                ):
                    offenders.append(f"{path}:{node.lineno}: imports a pickle-like module")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"eval", "exec"}
            ):
                offenders.append(f"{path}:{node.lineno}: {node.func.id}()")
    assert not offenders, "\n".join(offenders)


def _public_callables(package: str):
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        if info.name.startswith("energyopt.__main__"):
            continue
        mod = importlib.import_module(info.name)
        for name, obj in vars(mod).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != mod.__name__:
                continue
            if inspect.isfunction(obj):
                yield f"{mod.__name__}.{name}", obj
            elif inspect.isclass(obj):
                yield f"{mod.__name__}.{name}", obj
                for meth_name, meth in vars(obj).items():
                    if not meth_name.startswith("_") and inspect.isfunction(meth):
                        yield f"{mod.__name__}.{name}.{meth_name}", meth


_SECTION = re.compile(r"^\s*(Parameters|Attributes|Other Parameters)\s*\n\s*-{3,}", re.MULTILINE)


def _documented_names(doc: str) -> set[str]:
    names: set[str] = set()
    for match in _SECTION.finditer(doc):
        block = doc[match.end() :]
        block = re.split(r"\n\s*\n\s*[A-Z][A-Za-z ]+\n\s*-{3,}", block)[0]
        for line in block.splitlines():
            m = re.match(r"^\s{0,8}([*\w][\w, *]*?)\s*(:|$)", line)
            if m and not line.startswith(" " * 9):
                for part in m.group(1).split(","):
                    names.add(part.strip().lstrip("*"))
    return names


@pytest.mark.parametrize("package", CORE_PACKAGES)
def test_public_api_is_documented(package):
    """Every public function/class has a docstring; documented functions list all parameters.

    A function whose docstring has a ``Parameters`` section must name every
    parameter in it, so a parameter added later cannot go undocumented.
    """
    problems = []
    for qualname, obj in _public_callables(package):
        doc = inspect.getdoc(obj)
        if not doc:
            problems.append(f"{qualname}: no docstring")
            continue
        if not inspect.isfunction(obj):
            continue
        params = [
            p.name
            for p in inspect.signature(obj).parameters.values()
            if p.name not in {"self", "cls"}
        ]
        if not params or "Parameters" not in doc:
            continue
        missing = [p for p in params if p not in _documented_names(doc)]
        if missing:
            problems.append(f"{qualname}: parameters not documented: {', '.join(missing)}")
    assert not problems, "\n".join(problems)
