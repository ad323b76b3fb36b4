"""Every public KPI function documents each parameter; every result type each field.

As python-control does: a test that fails when a docstring misses a parameter.
"""

from __future__ import annotations

import dataclasses
import inspect
import re

import pytest

import energyopt.kpis as kpis

_SECTION_RE = re.compile(r"\n\s*(\w[\w ]*)\n\s*-{3,}\n")


def _section(doc: str, title: str) -> str:
    """Return the text of a numpydoc section (empty if absent)."""
    parts = _SECTION_RE.split(doc)
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name.strip() == title:
            return body
    return ""


def _documented_names(doc: str, title: str) -> set[str]:
    names: set[str] = set()
    for line in _section(doc, title).splitlines():
        # inspect.getdoc dedents: entries start in column 0, descriptions are indented.
        match = re.match(r"^(\*{0,2}\w+(?:, \*{0,2}\w+)*) :", line)
        if match:
            names.update(n.strip().lstrip("*") for n in match.group(1).split(","))
    return names


def _public_callables():
    for name in kpis.__all__:
        obj = getattr(kpis, name)
        if inspect.isfunction(obj):
            yield name, obj
        elif inspect.isclass(obj):
            for attr, member in vars(obj).items():
                func = member.__func__ if isinstance(member, classmethod) else member
                if not attr.startswith("_") and inspect.isfunction(func):
                    yield f"{name}.{attr}", func


CALLABLES = dict(_public_callables())
DATACLASSES = {
    name: getattr(kpis, name)
    for name in kpis.__all__
    if inspect.isclass(getattr(kpis, name)) and dataclasses.is_dataclass(getattr(kpis, name))
}


def test_the_check_sees_the_api():
    # Guard against a parser that silently finds nothing.
    assert {"energy_cost", "KpiReport.difference", "KpiResult.from_dict"} <= set(CALLABLES)
    assert {"KpiResult", "KpiInputs", "StabilityRate", "ComputeTimeStats"} <= set(DATACLASSES)


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_every_parameter_is_documented(name):
    func = CALLABLES[name]
    params = [p for p in inspect.signature(func).parameters if p not in ("self", "cls")]
    documented = _documented_names(inspect.getdoc(func) or "", "Parameters")
    missing = [p for p in params if p not in documented]
    assert not missing, f"{name} docstring misses {missing}"
    extra = sorted(documented - set(params))
    assert not extra, f"{name} docstring documents unknown {extra}"


@pytest.mark.parametrize("name", sorted(DATACLASSES))
def test_every_field_is_documented(name):
    cls = DATACLASSES[name]
    fields = {f.name for f in dataclasses.fields(cls)}
    documented = _documented_names(inspect.getdoc(cls) or "", "Attributes")
    assert fields == documented, f"{name}: fields {fields ^ documented} disagree with docstring"
