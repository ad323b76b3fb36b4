"""Project -> economic MPC settings: the demo steelworks against the hand-written settings."""

from __future__ import annotations

import math

import pytest
from numpy.testing import assert_allclose

from energyopt.controlbuild import economic_settings
from energyopt.demos import demo_project_file
from energyopt.errors import ProjectError
from energyopt.plantbuild import build_plant
from energyopt.project import Project, load_project
from tests.controllers.economic.conftest import settings as hand_written

INTERVAL_S = 900.0
HORIZON = 96


@pytest.fixture(scope="module")
def steelworks():
    project = load_project(demo_project_file("steelworks"))
    return project, build_plant(project)


def _variant(project: Project, edit) -> Project:
    data = project.to_toml_dict()
    edit(data)
    return Project.model_validate(data)


def test_mvs_match_the_hand_written_settings(steelworks):
    got = economic_settings(*steelworks)
    ref = hand_written(INTERVAL_S, HORIZON)
    assert [m.name for m in got.mvs] == [m.name for m in ref.mvs]
    for mine, theirs in zip(got.mvs, ref.mvs, strict=True):
        # Both sides convert the same engineering numbers (pint here, literal
        # factors there): equal to rounding.
        assert_allclose([mine.low, mine.high], [theirs.low, theirs.high], rtol=1e-9, atol=0.0)
        assert math.isinf(mine.rate) == math.isinf(theirs.rate)
        if math.isfinite(theirs.rate):
            assert_allclose(mine.rate, theirs.rate, rtol=1e-9)
        assert mine.move_weight == theirs.move_weight


def test_horizon_costs_and_structure(steelworks):
    got = economic_settings(*steelworks)
    ref = hand_written(INTERVAL_S, HORIZON)
    assert (got.interval_s, got.horizon) == (INTERVAL_S, HORIZON)
    assert got.electricity_variable == ref.electricity_variable
    assert got.balances == ref.balances
    assert (got.collocation_degree, got.tolerance) == (1, 1e-7)
    prices = {c.variable: c.price for c in got.cost_terms}
    for term in ref.cost_terms:
        # 3.4 CNY/Nm3, 0.05 CNY/Nm3 flared, 80 CNY/t CO2 = 0.08 CNY/kg.
        assert_allclose(prices[term.variable], term.price, rtol=1e-12)
    # Intentional difference: the project also prices demineralised water (8 CNY/t).
    assert set(prices) - {c.variable for c in ref.cost_terms} == {"demin_water.demand"}
    assert_allclose(prices["demin_water.demand"], 8.0e-3, rtol=1e-12)


def test_bands_and_limits(steelworks):
    got = economic_settings(*steelworks)
    ref = hand_written(INTERVAL_S, HORIZON)
    bands = {b.variable: b for b in got.soft_bands}
    for band in ref.soft_bands:
        # band_weight 1000 CNY per % and interval, /10 per priority rank.
        mine = bands[band.variable]
        assert_allclose(
            [mine.low, mine.high, mine.weight_linear],
            [band.low, band.high, band.weight_linear],
            rtol=1e-12,
        )
    # Intentional difference: the project's pressure and mixed-gas LHV bands.
    assert_allclose(
        [bands["hp_header.pressure_pa"].low, bands["hp_header.pressure_pa"].weight_linear],
        [9.5e6 + 101325.0, 2.5e5 * 1e-6],  # 9.5 MPa(g); [controller.band_weights] 2.5e5 CNY per MPa
        rtol=1e-12,
    )
    limits = {h.variable: h for h in got.hard_limits}
    for limit in ref.hard_limits:
        mine = limits[limit.variable]
        if limit.variable.endswith("pressure_pa"):
            # Intentional difference: the bindings' hard limits are gauge
            # pressures written 0.1 MPa below the units' absolute pressure_min/max;
            # with the standard atmosphere (101325 Pa) they are 1325 Pa higher.
            assert_allclose(
                [mine.low, mine.high], [limit.low + 1325.0, limit.high + 1325.0], rtol=1e-12
            )
        else:
            assert_allclose([mine.low, mine.high], [limit.low, limit.high], rtol=1e-12)
    assert_allclose([limits["gas_mixing.lhv_mixed_j_m3"].low], [7.0e6], rtol=1e-12)


def test_manipulated_binding_on_an_output_is_named(steelworks):
    project, _ = steelworks

    def edit(data):
        data["bindings"]["boiler_1_steam"]["role"] = "manipulated"

    bad = _variant(project, edit)
    with pytest.raises(
        ProjectError, match=r"bindings\.boiler_1_steam\.variable: .* not a plant input"
    ):
        economic_settings(bad, build_plant(bad))


def test_unknown_economic_variables_are_named(steelworks):
    project, built = steelworks

    def extra_mv(data):
        data["controller"]["economic"]["manipulated"].append("boiler_9.fuel_0_m3_s")

    bad = _variant(project, extra_mv)
    with pytest.raises(ProjectError, match=r"manipulated\[5\]: 'boiler_9.fuel_0_m3_s' is not"):
        economic_settings(bad, built)

    def limit(data):
        data["controller"]["economic"]["hard_limits"]["grid.power_import_w"]["high"] = "300 t/h"

    bad = _variant(project, limit)
    with pytest.raises(ProjectError, match=r"hard_limits\.grid\.power_import_w\.high"):
        economic_settings(bad, built)


def test_economic_horizon_must_be_whole_intervals(steelworks):
    project, _ = steelworks

    def edit(data):
        data["controller"]["economic"]["horizon_s"] = "1000 s"

    with pytest.raises(ValueError, match="economic interval"):
        _variant(project, edit)


def test_coarse_grid_from_the_project(steelworks):
    project, built = steelworks
    # The demo: 4 h at 15 min (16 intervals), then 20 of 1 h (4 intervals each).
    assert economic_settings(project, built).grid == (1,) * 16 + (4,) * 20

    def uniform(data):
        del data["controller"]["economic"]["fine_horizon_s"]
        del data["controller"]["economic"]["coarse_interval_s"]

    assert economic_settings(_variant(project, uniform), built).grid == ()

    def ragged(data):
        data["controller"]["economic"]["fine_horizon_s"] = "22 h"
        data["controller"]["economic"]["coarse_interval_s"] = "75 min"

    # By hand: 88 intervals of 15 min, then 5 + 3 to end the 24 h horizon.
    assert economic_settings(_variant(project, ragged), built).grid == (1,) * 88 + (5, 3)

    def short(data):
        data["controller"]["economic"]["horizon_s"] = "3 h"

    # A horizon shorter than the fine part is planned at 15 min throughout.
    assert economic_settings(_variant(project, short), built).grid == ()


@pytest.mark.parametrize(
    ("fine", "coarse", "message"),
    [
        ("4 h", None, r"economic\.coarse_interval_s.*give both or neither"),
        (None, "1 h", r"economic\.fine_horizon_s.*give both or neither"),
        ("4 h", "20 min", r"economic\.coarse_interval_s.*whole multiple.*got 1200 s"),
        ("4 h", "10 min", r"economic\.coarse_interval_s.*whole multiple.*got 600 s"),
    ],
)
def test_bad_coarse_grids_are_named(steelworks, fine, coarse, message):
    project, _ = steelworks

    def edit(data):
        eco = data["controller"]["economic"]
        for key, value in (("fine_horizon_s", fine), ("coarse_interval_s", coarse)):
            if value is None:
                eco.pop(key, None)
            else:
                eco[key] = value

    with pytest.raises(ValueError, match=message):
        _variant(project, edit)
