"""Dotted-key overrides of a project: applied, validated again, saved and loaded back."""

from __future__ import annotations

import numpy as np
import pytest

from energyopt.demos import demo_project_file
from energyopt.errors import ProjectError
from energyopt.project import dumps_project, load_project, save_project
from energyopt.project.overrides import apply_overrides, parse_key, project_value


@pytest.fixture(scope="module")
def steelworks():
    return load_project(demo_project_file("steelworks"))


def _flatten(data, prefix=()):
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flatten(value, (*prefix, key)))
        else:
            out[(*prefix, key)] = value
    return out


def test_round_trip_changes_only_the_overridden_keys(steelworks, tmp_path):
    overrides = {
        "controller.band_weight": 250.0,
        "controller.economic.move_weight": np.float64(2.0e4),  # numpy scalars as optuna gives
        "controller.economic.horizon_s": "12 h",  # a quantity string, as in the file
        "controller.forecast.scenarios": "quadrature",
        'controller.economic.hard_limits."grid.power_import_w".high': "280 MW",
    }
    changed = apply_overrides(steelworks, overrides)
    assert changed.source == steelworks.source
    assert changed.controller.band_weight == 250.0
    assert changed.controller.economic.horizon_s == 43_200.0
    assert changed.controller.economic_horizon_steps == 48  # 12 h at 15 min
    # The input is left as it was.
    assert steelworks.controller.band_weight == 1000.0
    path = tmp_path / "changed.toml"
    save_project(changed, path)
    again = load_project(path)
    assert again == changed
    before = _flatten(steelworks.model_dump(mode="json"))
    after = _flatten(again.model_dump(mode="json"))
    differing = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert differing == {
        ("controller", "band_weight"),
        ("controller", "economic", "move_weight"),
        ("controller", "economic", "horizon_s"),
        ("controller", "forecast", "scenarios"),
        ("controller", "economic", "hard_limits", "grid.power_import_w", "high"),
    }
    assert project_value(again, "controller.economic.move_weight") == 2.0e4
    assert project_value(again, 'controller.economic.hard_limits."grid.power_import_w".high') == (
        "280 MW"
    )


def test_no_overrides_is_the_same_project(steelworks):
    same = apply_overrides(steelworks, {})
    assert same == steelworks
    assert dumps_project(same) == dumps_project(steelworks)


def test_parse_key_follows_toml():
    assert parse_key("controller.forecast.level") == ("controller", "forecast", "level")
    assert parse_key('a."b.c" . d') == ("a", "b.c", "d")


@pytest.mark.parametrize("key", ["", "a..b", "a = 1", "controller.\nband_weight", "x["])
def test_malformed_key(steelworks, key):
    with pytest.raises(ProjectError, match="not a dotted project key"):
        apply_overrides(steelworks, {key: 1.0})


def test_unknown_key_is_named_with_a_suggestion(steelworks):
    with pytest.raises(ProjectError) as info:
        apply_overrides(steelworks, {"controller.economic.move_wieght": 1.0})
    message = str(info.value)
    assert "controller.economic.move_wieght" in message
    assert "did you mean 'move_weight'" in message


def test_bad_value_names_the_key(steelworks):
    with pytest.raises(ProjectError) as info:
        apply_overrides(steelworks, {"controller.band_weight": -1.0})
    message = str(info.value)
    assert "'controller.band_weight' = -1.0" in message
    assert "controller.band_weight: must be at least 0" in message


def test_cross_rule_failure_names_the_key(steelworks):
    # 10 min is not a whole multiple of the 15-min economic interval.
    with pytest.raises(ProjectError, match=r"controller\.economic\.horizon_s: must be a whole"):
        apply_overrides(steelworks, {"controller.economic.horizon_s": 600.0})


def test_value_is_not_a_table(steelworks):
    with pytest.raises(ProjectError, match=r"'project\.name' is a value, not a table"):
        apply_overrides(steelworks, {"project.name.first": "x"})


@pytest.mark.parametrize("value", [float("nan"), object(), {1, 2}])
def test_value_without_toml_form(steelworks, value):
    with pytest.raises(ProjectError, match=r"override 'controller\.band_weight'"):
        apply_overrides(steelworks, {"controller.band_weight": value})


def test_project_value_defaults_and_errors(steelworks):
    # Not in the file: the schema default.
    assert project_value(steelworks, "controller.forecast.n_scenarios") == 3
    assert project_value(steelworks, "controller.band_weight") == 1000.0
    with pytest.raises(ProjectError, match=r"unknown project key 'controller\.band'"):
        project_value(steelworks, "controller.band")
    with pytest.raises(ProjectError, match=r"has no value at 'bindings\.nope'"):
        project_value(steelworks, "bindings.nope.unit")
