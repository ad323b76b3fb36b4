"""Cost terms of a process plant: a bought feed, utilities by volume or mass, product sales."""

from __future__ import annotations

import pytest
from numpy.testing import assert_allclose

from energyopt.controlbuild.economic import cost_terms, node_density_kg_m3
from energyopt.demos import demo_project_file
from energyopt.errors import ProjectError
from energyopt.plantbuild import build_plant
from energyopt.project import Project, load_project

#: chemical.toml: the feed preheater's and the reactor's liquid density. [kg/m3]
PROCESS_DENSITY_KG_M3 = 934.2
#: The cooling tower's water density (plant_models cooling_tower default). [kg/m3]
WATER_DENSITY_KG_M3 = 996.0


@pytest.fixture(scope="module")
def chemical():
    project = load_project(demo_project_file("chemical"))
    return project, build_plant(project)


def _variant(project: Project, edit) -> Project:
    data = project.to_toml_dict()
    edit(data)
    return Project.model_validate(data)


def test_chemical_cost_terms_by_hand(chemical):
    terms = {t.label: t for t in cost_terms(*chemical)}
    assert list(terms) == ["fresh_feed", "lp_steam", "makeup_water", "product sales"]
    assert terms["fresh_feed"].variable == "fresh_feed.supply"
    assert terms["product sales"].variable == "product.supply"
    assert terms["lp_steam"].variable == "lp_steam.demand"
    # Hand computation from chemical.toml's [tariffs]: EUR per SI unit per second.
    #   fresh feed 1100 EUR/t x 0.9342 t/m3 on m3/s; product -2600 EUR/t x 0.9342 t/m3;
    #   LP steam 38 EUR/t = 0.038 EUR/kg on kg/s; make-up 1.2 EUR/m3 / 996 kg/m3 on kg/s.
    expected = {
        "fresh_feed": 1100.0 * PROCESS_DENSITY_KG_M3 / 1000.0,
        "lp_steam": 38.0 / 1000.0,
        "makeup_water": 1.2 / WATER_DENSITY_KG_M3,
        "product sales": -2600.0 * PROCESS_DENSITY_KG_M3 / 1000.0,
    }
    # pint conversions of the same factors: float64 round-off only.
    assert_allclose(
        [terms[k].price for k in expected], list(expected.values()), rtol=1e-12, atol=0.0
    )


def test_penalties_left_out_on_request():
    project = load_project(demo_project_file("steelworks"))
    built = build_plant(project)
    everything = {t.label for t in cost_terms(project, built)}
    bought = {t.label for t in cost_terms(project, built, penalties=False)}
    assert bought == set(project.tariffs.prices)
    assert "CO2" in everything - bought


def test_process_density_falls_back_to_the_flowsheet(chemical):
    # The product node's own unit (the flash) declares no mass density: the
    # flowsheet's one liquid density applies.
    assert node_density_kg_m3(*chemical, "product") == PROCESS_DENSITY_KG_M3
    assert node_density_kg_m3(*chemical, "makeup_water") == WATER_DENSITY_KG_M3


def test_disagreeing_densities_are_refused(chemical):
    def edit(data):
        data["units"]["reactor"]["params"]["density_kg_m3"] = 900.0

    project = _variant(chemical[0], edit)
    with pytest.raises(ProjectError, match=r"media\.product: .*found 900, 934\.2"):
        cost_terms(project, build_plant(project))


def test_sales_without_a_flow_are_refused(chemical):
    def edit(data):
        data["tariffs"]["sales"] = {"lp_steam": {"price_per_t": 10.0}}

    project = _variant(chemical[0], edit)
    with pytest.raises(
        ProjectError, match=r"tariffs\.sales\.lp_steam\.price_per_t: .*no delivery of lp_steam"
    ):
        cost_terms(project, build_plant(project))
