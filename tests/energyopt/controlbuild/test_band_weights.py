"""Per-binding normal-band weights of the economic MPC: ``[controller.band_weights]``."""

from __future__ import annotations

from typing import Any

import pytest
from numpy.testing import assert_allclose

from energyopt.controlbuild import economic_settings
from energyopt.demos import demo_project_file
from energyopt.errors import ProjectError
from energyopt.plantbuild import build_plant
from energyopt.project import Project, load_project
from energyopt.project.loader import project_from_mapping


@pytest.fixture(scope="module")
def steelworks_doc() -> dict[str, Any]:
    """The demo steelworks project as a TOML document, without header band weights."""
    data = load_project(demo_project_file("steelworks")).to_toml_dict()
    data["controller"].pop("band_weights", None)
    return data


def _with_weights(doc: dict[str, Any], weights: dict[str, Any]) -> Project:
    data = {**doc, "controller": {**doc["controller"], "band_weights": weights}}
    return project_from_mapping(data, source="plant.toml")


def _weights(project: Project) -> dict[str, float]:
    settings = economic_settings(project, build_plant(project))
    return {band.variable: band.weight_linear for band in settings.soft_bands}


def test_band_weight_per_binding_replaces_the_priority_rule(steelworks_doc) -> None:
    plain = _weights(project_from_mapping(steelworks_doc))
    weighted = _weights(_with_weights(steelworks_doc, {"hp_pressure": 2.0e6, "lp_pressure": 5e5}))
    # Per tag unit (MPa) and interval -> per Pa: times 1e-6 MPa/Pa (pint, exact
    # to rounding).  Without the table: band_weight 1000 / priority_ratio 10 **
    # (priority - 1): HP priority 1 -> 1000, LP priority 2 -> 100 CNY/MPa.
    assert_allclose(plain["hp_header.pressure_pa"], 1000.0e-6, rtol=1e-12)
    assert_allclose(plain["lp_header.pressure_pa"], 100.0e-6, rtol=1e-12)
    assert_allclose(weighted["hp_header.pressure_pa"], 2.0, rtol=1e-12)
    assert_allclose(weighted["lp_header.pressure_pa"], 0.5, rtol=1e-12)
    # Bindings not listed keep the rule (holder levels: 1000 CNY per % = 1e5 per fraction).
    for variable, weight in plain.items():
        if variable not in ("hp_header.pressure_pa", "lp_header.pressure_pa"):
            assert weighted[variable] == weight, variable
    assert_allclose(plain["bfg_holder.level_fraction"], 1.0e5, rtol=1e-12)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"hp_presure": 1.0}, "band_weights.hp_presure: no binding 'hp_presure' (did you mean"),
        ({"boiler_1_bfg": 1.0}, "binding 'boiler_1_bfg' is manipulated, not controlled"),
        ({"hp_pressure": 0.0}, "controller.band_weights.hp_pressure: must be greater than 0"),
        ({"hp_pressure": "heavy"}, "controller.band_weights.hp_pressure"),
    ],
)
def test_band_weights_are_validated(steelworks_doc, weights, message) -> None:
    with pytest.raises(ProjectError, match=message.replace("(", r"\(")):
        _with_weights(steelworks_doc, weights)


def test_band_weight_needs_a_normal_band(steelworks_doc) -> None:
    data = {**steelworks_doc, "bindings": dict(steelworks_doc["bindings"])}
    hp = dict(data["bindings"]["hp_pressure"])
    del hp["normal"], hp["priority"]
    data["bindings"]["hp_pressure"] = hp
    expected = r"band_weights\.hp_pressure: binding 'hp_pressure' has no 'normal' band"
    with pytest.raises(ProjectError, match=expected):
        _with_weights(data, {"hp_pressure": 1.0e6})


def test_demo_steelworks_weighs_its_header_bands() -> None:
    project = load_project(demo_project_file("steelworks"))
    assert set(project.controller.band_weights) == {"hp_pressure", "mp_pressure", "lp_pressure"}
