"""``[controller.dcs.protection]``: the holders the DCS protects and the three level margins."""

from __future__ import annotations

import copy
import tomllib
from typing import Any

import pytest

from energyopt.errors import ProjectError
from energyopt.project import Project
from energyopt.project.loader import project_from_mapping

_HOLDERS = ["bfg_holder", "cog_holder", "ldg_holder"]
_AT = "controller.dcs.protection."


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    """The steelworks demo project as a TOML mapping."""
    from energyopt.demos import demo_project_text

    return tomllib.loads(demo_project_text("steelworks"))


def _with(demo: dict[str, Any], protection: dict[str, Any] | None) -> dict[str, Any]:
    data = copy.deepcopy(demo)
    if protection is None:
        data["controller"]["dcs"].pop("protection", None)
    else:
        data["controller"]["dcs"]["protection"] = protection
    return data


def test_demo_declares_the_three_holders_with_the_default_margins(demo: dict[str, Any]) -> None:
    settings = project_from_mapping(demo).controller.dcs.protection
    assert settings.holders == _HOLDERS
    # "10 %", "1 %", "3 %" of level: pint's percent is exactly 1/100 and these
    # hundredths round to the same doubles as the literals (exact equality).
    assert settings.low_start_above_hard == 0.10
    assert settings.low_stop_above_hard == 0.01
    assert settings.high_start_below_hard == 0.03


def test_fractions_as_numbers_and_defaults(demo: dict[str, Any]) -> None:
    given = {"holders": ["ldg_holder"], "low_start_above_hard": 0.2, "low_stop_above_hard": 0}
    settings = project_from_mapping(_with(demo, given)).controller.dcs.protection
    assert (settings.low_start_above_hard, settings.low_stop_above_hard) == (0.2, 0.0)
    assert settings.high_start_below_hard == 0.03  # the default
    # Without the section nothing is protected.
    assert project_from_mapping(_with(demo, None)).controller.dcs.protection.holders == []


def test_round_trip_through_toml_dict(demo: dict[str, Any]) -> None:
    project = project_from_mapping(demo)
    again = Project.model_validate(project.to_toml_dict())
    assert again.controller.dcs.protection == project.controller.dcs.protection


@pytest.mark.parametrize(
    ("protection", "message"),
    [
        (
            {"holders": ["bfg_holder", "xyz"]},
            (_AT + "holders[1]: 'xyz' is not a holder unit with a level binding with hard limits"),
        ),
        (
            {"holders": ["bfg_flare"]},
            (
                _AT + "holders[0]: 'bfg_flare' is not a holder unit with a level "
                "binding with hard limits (did you mean 'bfg_holder'?)"
            ),
        ),
        (
            {"holders": ["cog_holder", "cog_holder"]},
            "controller.dcs.protection.holders[1]: 'cog_holder' is listed twice",
        ),
        (
            {"low_start_above_hard": "5 %", "low_stop_above_hard": "5 %"},
            (_AT + "low_stop_above_hard: must be below low_start_above_hard (5 %), got 5 %"),
        ),
        (
            {"low_stop_above_hard": -0.01},
            (
                _AT + "low_stop_above_hard: must be a fraction of level from 0 "
                'to below 1 (0.1 or "10 %"), got -0.01'
            ),
        ),
        (
            {"low_start_above_hard": 10},
            (
                _AT + "low_start_above_hard: must be a fraction of level from 0 "
                'to below 1 (0.1 or "10 %"), got 10'
            ),
        ),
        (
            {"low_start_above_hard": "150 %"},
            "controller.dcs.protection.low_start_above_hard: must be a fraction of level",
        ),
        (
            {"high_start_below_hard": 0.0},
            "controller.dcs.protection.high_start_below_hard: must be greater than 0",
        ),
        (
            {"high_start_below_hard": "3 m"},
            (_AT + "high_start_below_hard: unit 'm' ([length]) is not compatible with '1'"),
        ),
        (
            {"low_start_above_hard": True},
            (
                _AT + "low_start_above_hard: expected a fraction of level (0.1) "
                'or a percentage string ("10 %"), got a boolean'
            ),
        ),
        (
            {"holders": ["ldg_holder"], "low_start_above_hard": "73 %"},
            # LDG hard limits [15, 90] %: cut-back from 88 %, flare zone from 87 %.
            (
                _AT + "holders[0]: 'ldg_holder': the cut-back zone (to 88 %) "
                "reaches the high-level zone (from 87 %) between its hard limits [15, 90] %"
            ),
        ),
        (
            {"holders": ["ldg_holder"], "level": 1},
            _AT + "level: unknown key",
        ),
    ],
)
def test_bad_values_name_the_key_path(
    demo: dict[str, Any], protection: dict[str, Any], message: str
) -> None:
    with pytest.raises(ProjectError) as info:
        project_from_mapping(_with(demo, protection))
    assert message in str(info.value)


def test_holder_binding_without_hard_limits(demo: dict[str, Any]) -> None:
    data = _with(demo, {"holders": _HOLDERS})
    del data["bindings"]["ldg_holder_level"]["hard"]
    with pytest.raises(ProjectError) as info:
        project_from_mapping(data)
    assert (
        "controller.dcs.protection.holders[2]: 'ldg_holder' is not a holder unit with a level "
        "binding with hard limits"
    ) in str(info.value)
