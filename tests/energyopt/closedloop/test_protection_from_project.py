"""The holder protection built from ``[controller.dcs.protection]`` (holder_protection)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from numpy.testing import assert_allclose

from energyopt.closedloop.protection import (
    holder_protection,
    protection_guards,
    steelworks_protection,
)
from energyopt.errors import ModelError, ProjectError
from energyopt.plantbuild import BuiltPlant
from energyopt.project import Project


@pytest.fixture(scope="module")
def built() -> BuiltPlant:
    """The demo steelworks' plant (its project declares the section)."""
    from energyopt.demos import demo_project_file
    from energyopt.plantbuild import build_plant
    from energyopt.project import load_project

    return build_plant(load_project(demo_project_file("steelworks")))


def _with(built: BuiltPlant, **dcs: Any) -> BuiltPlant:
    """The plant with ``[controller.dcs]`` keys replaced (the plant itself unchanged)."""
    data = built.project.model_dump(mode="json", exclude_none=True)
    for key, value in dcs.items():
        data["controller"]["dcs"][key] = value
    project = Project.model_validate(data).with_source(built.project.source)
    return dataclasses.replace(built, project=project, _price_cache={})


def test_demo_guards_equal_the_benchmarks_field_by_field(built: BuiltPlant) -> None:
    """The closed-loop benchmark's steelworks_protection defaults are the demo's section."""
    from_project = holder_protection(built, 60.0)
    assert from_project is not None
    benchmark = steelworks_protection(built, 60.0)
    assert len(from_project.guards) == len(benchmark.guards) == 3
    for mine, theirs in zip(from_project.guards, benchmark.guards, strict=True):
        for field in dataclasses.fields(mine):
            # Exact: the same arithmetic on the same numbers ("10 %" parses to 0.1).
            assert getattr(mine, field.name) == getattr(theirs, field.name), (
                mine.holder,
                field.name,
            )
    guards = {g.holder: g for g in from_project.guards}
    # Hard limits of the level bindings (BFG and COG 10-90 %, LDG 15-90 %)
    # plus 10 % and 1 % above hard low, 3 % below hard high: sums of two
    # doubles, compared to one rounding.
    for holder, low in (("bfg_holder", 0.10), ("cog_holder", 0.10), ("ldg_holder", 0.15)):
        g = guards[holder]
        assert_allclose(
            [g.low_start, g.low_stop, g.high_start, g.high_full],
            [low + 0.10, low + 0.01, 0.87, 0.90],
            rtol=1e-15,
        )


def test_declared_margins_move_the_guards(built: BuiltPlant) -> None:
    changed = _with(
        built,
        protection={
            "holders": ["ldg_holder"],
            "low_start_above_hard": "20 %",
            "low_stop_above_hard": "2 %",
            "high_start_below_hard": "5 %",
        },
    )
    protection = holder_protection(changed, 30.0)
    assert protection is not None
    (ldg,) = protection.guards
    # LDG 15-90 %: cut-back from 35 % to 17 %, raise from 85 %; one rounding each.
    assert_allclose([ldg.low_start, ldg.low_stop, ldg.high_start], [0.35, 0.17, 0.85], rtol=1e-15)
    assert protection.acted_minutes() == {
        "ldg_holder_cutback_min": 0.0,
        "ldg_holder_high_override_min": 0.0,
    }


def test_nothing_without_holders_or_with_the_dcs_off(built: BuiltPlant) -> None:
    assert holder_protection(_with(built, protection={}), 60.0) is None
    assert holder_protection(_with(built, enabled=False), 60.0) is None


def test_unresolvable_holder(built: BuiltPlant, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelError, match="bfg_flare needs a level binding with hard limits"):
        protection_guards(
            built,
            ("bfg_flare",),
            low_start_above_hard=0.1,
            low_stop_above_hard=0.01,
            high_start_below_hard=0.03,
        )
    import energyopt.closedloop.protection as protection

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ModelError("holder protection ldg_holder: low_stop 0.3 must be below low_start 0.2")

    monkeypatch.setattr(protection, "protection_guards", broken)
    with pytest.raises(ProjectError, match=r"controller\.dcs\.protection: holder protection ldg"):
        holder_protection(built, 60.0)
