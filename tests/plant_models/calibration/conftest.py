"""Simulated plant records shared by the calibration tests.

The records come from the numba simulator (:func:`plant_models.core.simulate.simulate`),
an implementation independent of the casadi evaluation the calibration fits
with.  Inputs are random steps held for 10 minutes (persistently exciting,
as operator setpoint changes are), measurements carry Gaussian noise with a
fixed seed.  Session scope: numba compiles each model's kernels once per process.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pytest

from plant_models.calibration import Dataset
from plant_models.core.equations import EquationModel
from plant_models.core.simulate import simulate
from plant_models.units import boiler, cstr_vdv

#: Sensor noise of the CSTR measurements: 0.01 mol/L concentrations, 0.2 K temperatures.
CSTR_NOISE = {"c_a_mol_m3": 10.0, "c_b_mol_m3": 10.0, "t_reactor_k": 0.2, "t_jacket_k": 0.2}
CSTR_DT_S = 20.0
CSTR_X0 = np.array([2140.0, 1090.0, 387.0, 386.0])

BOILER_DT_S = 30.0
BOILER_NOISE_KG_S = 0.1
#: Heating values of BFG, COG and natural gas (guide section 4). [J/Nm3]
LHV_J_M3 = np.array([3.2e6, 17.6e6, 36.0e6])


def held_steps(rng: np.random.Generator, n: int, hold: int, low: float, high: float) -> np.ndarray:
    """Random levels in [low, high], each held for ``hold`` samples."""
    return np.repeat(rng.uniform(low, high, size=n // hold + 1), hold)[:n]


@dataclass(frozen=True)
class Record:
    """A simulated record: the noisy dataset and the noise-free states."""

    data: Dataset
    clean_states: np.ndarray


def cstr_record(
    model: EquationModel,
    params: cstr_vdv.CstrVdvParams,
    n: int,
    seed: int,
    measured: tuple[str, ...] = tuple(CSTR_NOISE),
    q_range_w: tuple[float, float] = (-8000e3 / 3600, -3000e3 / 3600),
    dilution_range_1_s: tuple[float, float] = (8 / 3600, 30 / 3600),
) -> Record:
    """CSTR under random feed-rate and jacket-duty steps (10-min holds), noisy states."""
    rng = np.random.default_rng(seed)
    u = np.column_stack(
        [held_steps(rng, n, 30, *dilution_range_1_s), held_steps(rng, n, 30, *q_range_w)]
    )
    d = np.full((n, 1), 403.15)
    sim = simulate(
        model, CSTR_X0, u, d, model.pack_parameters(params), CSTR_DT_S, substeps=2, method="rk4"
    )
    clean = sim.states[:-1]
    noise = np.array([CSTR_NOISE[v.name] for v in model.states])
    noisy = clean + noise * rng.normal(size=clean.shape)
    states = {v.name: noisy[:, i] for i, v in enumerate(model.states) if v.name in measured}
    return Record(Dataset(CSTR_DT_S, u, d, states=states), clean)


@pytest.fixture(scope="session")
def make_cstr_record():
    """The :func:`cstr_record` factory."""
    return cstr_record


@pytest.fixture(scope="session")
def cstr_noise() -> dict[str, float]:
    return dict(CSTR_NOISE)


@pytest.fixture(scope="session")
def cstr_model() -> EquationModel:
    return cstr_vdv.model()


@pytest.fixture(scope="session")
def cstr_nominal() -> cstr_vdv.CstrVdvParams:
    return cstr_vdv.CstrVdvParams()


@pytest.fixture(scope="session")
def cstr_truth(cstr_nominal: cstr_vdv.CstrVdvParams) -> cstr_vdv.CstrVdvParams:
    p = cstr_nominal
    return replace(
        p,
        k10_1_s=1.10 * p.k10_1_s,
        k20_1_s=0.92 * p.k20_1_s,
        heat_transfer_coefficient_w_m2_k=1.15 * p.heat_transfer_coefficient_w_m2_k,
    )


@pytest.fixture(scope="session")
def cstr_data(cstr_model: EquationModel, cstr_truth: cstr_vdv.CstrVdvParams) -> Dataset:
    """600 samples (3 h 20 min) of the truth with every state measured."""
    return cstr_record(cstr_model, cstr_truth, 600, seed=0).data


def boiler_record(
    model: EquationModel, params: boiler.BoilerParams, n: int, seed: int
) -> tuple[Dataset, np.ndarray]:
    """Boiler firing BFG, COG and natural gas in changing proportions, load 35-100 %."""
    rng = np.random.default_rng(seed)
    power_w = held_steps(rng, n, 20, 0.35, 1.0) * (
        params.capacity_steam_kg_s * params.enthalpy_rise_j_kg / 0.9
    )
    shares = rng.dirichlet(np.ones(3), size=n // 20 + 1).repeat(20, axis=0)[:n]
    fuel_m3_s = shares * power_w[:, np.newaxis] / LHV_J_M3
    # Calorimeter readings wander by 1 % around the nominal heating values.
    lhv = LHV_J_M3 * (1.0 + 0.01 * rng.standard_normal((n, 3)))
    p = model.pack_parameters(params)
    sim = simulate(model, [0.7 * params.capacity_steam_kg_s], fuel_m3_s, lhv, p, BOILER_DT_S)
    steam = sim.states[:-1, 0] + BOILER_NOISE_KG_S * rng.standard_normal(n)
    return Dataset(BOILER_DT_S, fuel_m3_s, lhv, states={"steam_kg_s": steam}), sim.states[:-1]


@pytest.fixture(scope="session")
def make_boiler_record():
    """The :func:`boiler_record` factory."""
    return boiler_record


@pytest.fixture(scope="session")
def boiler_model() -> EquationModel:
    return boiler.model()


@pytest.fixture(scope="session")
def boiler_truth() -> boiler.BoilerParams:
    """A boiler whose efficiency curve differs from the defaults in all four coefficients."""
    return replace(
        boiler.BoilerParams(),
        efficiency_nominal=0.905,
        load_best_fraction=0.78,
        efficiency_load_coefficient=0.05,
        efficiency_drop_lean_fuel=0.04,
    )


@pytest.fixture(scope="session")
def boiler_data(boiler_model: EquationModel, boiler_truth: boiler.BoilerParams) -> Dataset:
    """720 samples (6 h) of steam output under changing firing."""
    return boiler_record(boiler_model, boiler_truth, 720, seed=2)[0]
