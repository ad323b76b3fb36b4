"""Reading the plant's state and inputs from bound tags: the rules and their refusals."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.advise.snapshot import SnapshotMap
from energyopt.demos import demo_project_file
from energyopt.demos.history import DEMO_START_MS
from energyopt.errors import ProjectError
from energyopt.plantbuild import build_plant
from energyopt.project import Project, load_project

AT_MS = DEMO_START_MS + 3 * 86_400_000 + 10 * 3_600_000


def test_holder_volume_is_read_from_its_level(session, advise_demo):
    snap = session.snapshot(AT_MS)
    with h5py.File(advise_demo / "history.h5", "r") as f:
        i = int(np.searchsorted(f["time"][:], AT_MS))
        level_pct = float(f["tags/BFG.HOLDER.LEVEL"][i])
    j = session.built.index("x", "bfg_holder.volume_m3")
    # Design volume 200000 Nm3 in the project file; level in %: only unit arithmetic.
    assert_allclose(snap.states[-1, j], level_pct / 100.0 * 200_000.0, rtol=1e-12)
    rules = {
        name: src.rule
        for name, src in zip(
            [v.name for v in session.built.model.inputs], session.map.input_sources, strict=True
        )
    }
    assert rules["boiler_1.fuel_0_m3_s"] == "tag"
    assert rules["bfg_flare.flow_command_m3_s"] == "alias"
    assert rules["gas_mixing.flow_mixed_m3_s"] == "balance"
    assert rules["air_compressor_1.flow_m3_s"] == "output"
    assert rules["hot_stoves.curtail_fraction"] == "zero"


def test_solved_inputs_reproduce_their_measurements(session):
    """The compressor flow solved from its power gives that power back through the model."""
    from plant_models.core.equations import to_casadi

    built = session.built
    snap = session.snapshot(AT_MS)
    x = np.nan_to_num(snap.states[-1])
    d = np.zeros(built.model.sizes["d"])  # the rule only uses outputs free of disturbances
    y = np.asarray(to_casadi(built.model).g(x, snap.inputs, d, session.parameters)).ravel()
    k = [v.name for v in built.model.outputs].index("air_compressor_1.power_w")
    power_kw = built.bindings["air_compressor_1_power"]
    with h5py.File(session.reader.path, "r") as f:
        i = int(np.searchsorted(f["time"][:], AT_MS))
        measured_kw = float(f["tags/AIR.C1.POWER"][i])
    # Brent's method to 1e-12 of the flow on the model's own equation; the
    # measured power lies inside the envelope's range at this time.
    assert 0.0 < snap.inputs[built.index("u", "air_compressor_1.flow_m3_s")] < 400.0 / 60.0
    assert_allclose(power_kw.to_tag(y[k]), measured_kw, rtol=1e-6)


def _variant(drop: str) -> Project:
    data = load_project(demo_project_file("steelworks")).to_toml_dict()
    del data["bindings"][drop]
    return Project.model_validate(data)


def test_unmeasured_state_and_unreadable_mv_are_refused():
    built = build_plant(_variant("boiler_1_steam"))
    with pytest.raises(ProjectError, match=r"plant state boiler_1\.steam_kg_s is not measured"):
        SnapshotMap(built, built.parameters(), ["boiler_1.fuel_0_m3_s"])
    built = build_plant(load_project(demo_project_file("steelworks")))
    with pytest.raises(ProjectError, match=r"hot_stoves\.curtail_fraction cannot be read"):
        SnapshotMap(built, built.parameters(), ["hot_stoves.curtail_fraction"])
