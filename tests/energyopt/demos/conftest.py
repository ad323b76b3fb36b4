"""The chemical demo plant built from its project, and its mode steady states (once per session)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from energyopt.demos.chemical_history import build_chemical_flowsheet, mode_setpoints
from energyopt.project import load_project

#: Disturbances of the steady-state tests: fresh A 5.1 mol/L at 30 degC, cooling water 30 degC.
DISTURBANCES = {
    "fresh_feed.in_c_a_mol_m3": 5100.0,
    "fresh_feed.in_t_k": 303.15,
    "reactor.t_cooling_water_k": 303.15,
}
#: A start near the operating point (the steady-state search simulates from it).
START = {
    "reactor.c_c_mol_m3": 1000.0,
    "reactor.c_d_mol_m3": 400.0,
    "reactor.cooling_water_kg_s": 0.1,
    "flash.c_a_mol_m3": 1500.0,
    "flash.c_b_mol_m3": 1000.0,
    "flash.c_c_mol_m3": 1000.0,
    "flash.c_d_mol_m3": 400.0,
    "flash.steam_kg_s": 0.1,
    "feed_preheater.t_hot_out_k": 330.0,
    "feed_preheater.t_cold_exchanger_k": 360.0,
    "feed_preheater.steam_kg_s": 0.1,
    "fresh_feed.flow_m3_s": 0.005,
    "flash.draw_m3_s": 0.005,
    "fic_101.integral": 0.7,
    "tic_102.integral": 0.05,
    "fic_203.integral": 0.2,
    "tic_110.integral": 0.2,
}


@pytest.fixture(scope="session")
def chemical_project():
    return load_project(Path(str(resources.files("energyopt.demos") / "chemical.toml")))


@pytest.fixture(scope="session")
def chemical(chemical_project):
    # build_chemical_flowsheet caches by project content: the history tests of
    # the same session reuse this flowsheet and its compiled numba kernels.
    return build_chemical_flowsheet(chemical_project)


@pytest.fixture(scope="session")
def chemical_modes(chemical_project, chemical):
    return mode_setpoints(chemical_project, chemical)


@pytest.fixture(scope="session")
def chemical_d(chemical):
    model = chemical.model
    d = np.zeros(len(model.disturbances))
    for name, value in DISTURBANCES.items():
        d[model.index("d", name)] = value
    return d


@pytest.fixture(scope="session")
def mode_steady_states(chemical, chemical_d, chemical_modes):
    """Mode name -> (x, u, y) at the steady state of that mode."""
    from plant_models.core.equations import to_numba
    from plant_models.flowsheet.chemical import initial_state, setpoint_inputs, steady_state

    g = to_numba(chemical.model).g
    out = {}
    for name, setpoints in chemical_modes.items():
        u = setpoint_inputs(chemical, setpoints)
        x = steady_state(
            chemical, u, chemical_d, x0=initial_state(chemical, START), settle_s=4 * 3600.0
        )
        out[name] = (x, u, np.asarray(g(x, u, chemical_d, chemical.parameters)))
    return out
