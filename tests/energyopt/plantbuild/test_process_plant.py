"""Process projects (the chemical demo) through build_plant: the flowsheet the closed loop uses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.errors import ProjectError
from energyopt.plantbuild import BuiltPlant, build_plant, is_process_project, nominal_disturbances
from energyopt.project import Project, load_project


def _demo(name: str) -> Project:
    from energyopt.demos import demo_project_file

    return load_project(demo_project_file(name))


@pytest.fixture(scope="module")
def chemical() -> BuiltPlant:
    return build_plant(_demo("chemical"))


def test_which_projects_are_process_plants() -> None:
    assert is_process_project(_demo("chemical"))
    assert not is_process_project(_demo("steelworks"))


def test_model_equals_the_closed_loop_flowsheet(
    chemical: BuiltPlant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same variables, parameters and equations as build_chemical_flowsheet composes afresh."""
    import energyopt.demos.chemical_history as history
    from plant_models.core.equations import random_envelope_points, to_casadi

    # An empty cache: the reference is composed again, not the same object.
    monkeypatch.setattr(history, "_FLOWSHEETS", {})
    reference = history.build_chemical_flowsheet(chemical.project)
    assert reference is not chemical.flowsheet
    for kind in ("x", "u", "d", "y", "p"):
        assert [v.name for v in chemical.model.variables(kind)] == [
            v.name for v in reference.model.variables(kind)
        ]
    # The parameter vectors are the same numbers read from the same project.
    assert_allclose(chemical.parameters(), reference.parameters, rtol=0.0, atol=0.0)
    ours, theirs = to_casadi(chemical.model), to_casadi(reference.model)
    p = chemical.parameters()
    for x, u, d in random_envelope_points(chemical.model, 4, seed=3):
        # Same source evaluated twice with casadi: equal up to rounding order.
        assert_allclose(
            np.asarray(ours.f(x, u, d, p)), np.asarray(theirs.f(x, u, d, p)), rtol=1e-12
        )
        assert_allclose(
            np.asarray(ours.g(x, u, d, p)), np.asarray(theirs.g(x, u, d, p)), rtol=1e-12
        )


def test_loop_setpoints_bind_in_the_unit_of_their_measurement(chemical: BuiltPlant) -> None:
    feed_sp = chemical.bindings["feed_flow_sp"]
    assert (feed_sp.vector, feed_sp.name, feed_sp.model_unit) == ("u", "fic_101.setpoint", "m^3/s")
    # 18 m3/h = 0.005 m3/s (exact unit factor 3600).
    assert_allclose(feed_sp.to_model(18.0), 0.005, rtol=1e-15)
    temp_sp = chemical.bindings["reactor_temperature_sp"]
    # 118 degC = 391.15 K (an offset, no scale).
    assert_allclose(temp_sp.to_model(118.0), 391.15, rtol=1e-15)
    assert chemical.bindings["flash_level_sp"].model_unit == "dimensionless"


def test_feed_disturbance_tag_binds_the_feed_disturbance(chemical: BuiltPlant) -> None:
    entry = chemical.bindings["fresh_feed_temperature"]
    assert (entry.vector, entry.name) == ("d", "fresh_feed.in_t_k")
    # A measurement on a process node stays the node's output.
    assert chemical.bindings["reactor_feed_temperature"].name == "feed_hot.temperature"


def test_nominal_disturbances_of_the_purchased_feed(chemical: BuiltPlant) -> None:
    d = nominal_disturbances(chemical)

    def at(name: str) -> float:
        return float(d[chemical.index("d", name)])

    # The reactor's design feed strength, 5.1 mol/L; no B, C, D; media temperature 30 degC.
    assert_allclose(at("fresh_feed.in_c_a_mol_m3"), 5100.0, rtol=1e-12)
    assert at("fresh_feed.in_c_b_mol_m3") == 0.0
    assert_allclose(at("fresh_feed.in_t_k"), 303.15, rtol=1e-12)


def test_a_broken_loop_names_its_key(tmp_path: Path) -> None:
    from energyopt.demos import demo_project_text

    text = demo_project_text("chemical").replace(
        'actuator = "reactor.valve_cooling"', 'actuator = "reactor.no_such_valve"'
    )
    path = tmp_path / "plant.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProjectError, match=r"units\.tic_102\.actuator"):
        build_plant(load_project(path))
