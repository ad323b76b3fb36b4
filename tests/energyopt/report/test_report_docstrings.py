"""Every public function of the report package documents each of its parameters.

As python-control does: a test that fails when a docstring misses a parameter.
"""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

MODULES = (
    "energyopt.report.build",
    "energyopt.report.charts",
    "energyopt.report.decimate",
    "energyopt.report.evidence",
    "energyopt.report.flows",
    "energyopt.report.inputs",
    "energyopt.report.page",
    "energyopt.report.sankey",
    "energyopt.report.sections",
    "energyopt.report.series",
    "energyopt.report.strings",
    "energyopt.commands.report",
)


def _public_functions():
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj) and obj.__module__ == module_name:
                yield f"{module_name}.{name}", obj


FUNCTIONS = dict(_public_functions())


def _documented(doc: str) -> set[str]:
    match = re.search(r"Parameters\n-+\n(.*?)(?:\n\n[A-Z][a-z]+\n-+\n|\Z)", doc, flags=re.S)
    if match is None:
        return set()
    names: set[str] = set()
    for line in match.group(1).splitlines():
        entry = re.match(r"^(\*{0,2}\w+(?:, \*{0,2}\w+)*)(?: :|$)", line)
        if entry:
            names.update(n.strip().lstrip("*") for n in entry.group(1).split(","))
    return names


def test_the_check_sees_the_api() -> None:
    assert {
        "energyopt.report.build.write_report",
        "energyopt.report.decimate.minmax_decimate",
        "energyopt.commands.report.run",
    } <= set(FUNCTIONS)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_parameters_documented(name: str) -> None:
    func = FUNCTIONS[name]
    doc = inspect.getdoc(func) or ""
    assert doc, f"{name} has no docstring"
    wanted = {
        p.name for p in inspect.signature(func).parameters.values() if not p.name.startswith("_")
    }
    missing = wanted - _documented(doc)
    assert not missing, f"{name}: parameters not documented: {sorted(missing)}"
