"""The generic data-driven unit: identification of a known system, simulation, storage."""

from __future__ import annotations

import json
import tomllib

import numpy as np
import pytest
import tomli_w
from numpy.testing import assert_allclose
from scipy.signal import dlsim

from plant_models.core.equations import Variable
from plant_models.datadriven import (
    DataDrivenSpec,
    DataDrivenUnit,
    IdentificationError,
    ModelFormatError,
)

SIGNALS = {
    "inputs": [{"name": "steam_kg_s", "unit": "kg/s"}],
    "disturbances": [{"name": "load_w", "unit": "W"}],
    "outputs": [
        {"name": "pressure_pa", "unit": "Pa"},
        {"name": "temperature_k", "unit": "K"},
    ],
}


def _known_system() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fourth-order 2x2 system, poles 0.95, 0.85, 0.7 +- 0.3j (as in the subspace tests)."""
    rot = np.linalg.qr(np.random.default_rng(42).normal(size=(4, 4)))[0]
    modal = np.zeros((4, 4))
    modal[0, 0], modal[1, 1] = 0.95, 0.85
    modal[2:, 2:] = [[0.7, 0.3], [-0.3, 0.7]]
    a = rot @ modal @ rot.T
    b = rot @ np.array([[1.0, 0.2], [0.3, 1.0], [0.8, -0.5], [0.4, 0.9]])
    c = np.array([[1.0, 0.5, 0.8, 0.0], [0.2, 1.0, 0.0, 0.7]]) @ rot.T
    return a, b, c


def _plant_data(n: int, seed: int, noise: float = 0.1):
    """Inputs and outputs in plant units: offsets and scales like real tags."""
    a, b, c = _known_system()
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, 2))
    _, y, _ = dlsim((a, b, c, np.zeros((2, 2)), 1.0), v)
    y = y + noise * y.std(axis=0) * rng.normal(size=y.shape)
    u = 20.0 + 2.0 * v[:, :1]
    d = 5.0e6 + 1.0e5 * v[:, 1:]
    y_plant = np.column_stack([4.0e5 + 1.0e3 * y[:, 0], 500.0 + 2.0 * y[:, 1]])
    return a, u, d, y_plant


def test_identifies_known_system_poles_within_one_percent() -> None:
    a, u, d, y = _plant_data(5000, seed=0)
    spec = DataDrivenSpec.from_mapping({"model": "statespace", **SIGNALS})
    unit = DataDrivenUnit.identify("boiler_house", spec, u, y, dt_s=60.0, d=d)
    assert unit.n_states == 4
    true_poles = np.sort_complex(np.linalg.eigvals(a))
    found = np.sort_complex(unit.model.poles())
    # Requirement of the issue: poles within 1 % from noisy data (10 % output
    # noise; the fit uses the first 80 % = 4000 samples).
    assert np.all(np.abs(found - true_poles) / np.abs(true_poles) < 0.01)
    # Hold-out free-run fit on the last 1000 samples: with 10 % white noise
    # on the measurement, the best possible NRMSE is about 0.1.
    assert unit.metrics is not None
    assert np.all(unit.metrics.nrmse < 0.13)
    assert np.all(unit.metrics.r2 > 0.98)
    assert unit.metrics.n_samples == 1000


def test_arx_unit_names_units_and_envelope() -> None:
    _, u, d, y = _plant_data(800, seed=1)
    spec = DataDrivenSpec.from_mapping({"model": "arx", "na": 2, "nb": 2, "nk": 1, **SIGNALS})
    unit = DataDrivenUnit.identify("hx", spec, u, y, dt_s=60.0, d=d)
    model = unit.equation_model
    assert [v.name for v in model.inputs] == ["steam_kg_s"]
    assert [v.name for v in model.disturbances] == ["load_w"]
    assert [v.name for v in model.states[:4]] == [
        "pressure_pa_lag1",
        "temperature_k_lag1",
        "pressure_pa_lag2",
        "temperature_k_lag2",
    ]
    assert model.states[0].unit == "Pa"
    assert model.states[4].name == "steam_kg_s_lag1"
    assert model.states[4].unit == "kg/s"
    assert unit.inputs[0].low == u.min()
    assert unit.inputs[0].high == u.max()
    assert unit.outputs[1].high == y[:, 1].max()
    assert unit.dt_s == 60.0
    # The discrete nature travels with the model handed to controllers.
    assert model.is_discrete
    assert model.dt_s == 60.0


def test_numba_simulation_equals_numpy_reference() -> None:
    _, u, d, y = _plant_data(600, seed=2)
    for kind, options in (("arx", {"na": 2, "nb": 2, "nk": 1}), ("statespace", {"order": 4})):
        spec = DataDrivenSpec.from_mapping({"model": kind, **options, **SIGNALS})
        unit = DataDrivenUnit.identify("unit", spec, u, y, dt_s=1.0, d=d)
        x0 = unit.initial_state(u[:50], y[:50], d[:50])
        result = unit.simulate(u[50:], d[50:], x0)
        v = np.hstack([u, d])
        if kind == "arx":
            reference = unit.model.simulate(v[48:], y[48:50])[2:]
        else:
            reference = unit.model.simulate(v[50:], x0)
        # Same linear recursion, compiled vs numpy (BLAS order): round-off of
        # 1e-16 relative per step, damped by poles below 1.
        assert_allclose(result.outputs, reference, rtol=1e-10)
        assert result.states.shape == (551, unit.n_states)
        assert_allclose(result.time_s[[0, -1]], [0.0, 550.0])


def test_arx_initial_state_continues_the_data() -> None:
    _, u, d, y = _plant_data(600, seed=3, noise=0.0)
    spec = DataDrivenSpec.from_mapping({"model": "arx", "na": 2, "nb": 2, "nk": 1, **SIGNALS})
    unit = DataDrivenUnit.identify("unit", spec, u, y, dt_s=1.0, d=d, validation_fraction=0.0)
    x0 = unit.initial_state(u[:100], y[:100], d[:100])
    sim = unit.simulate(u[100:150], d[100:150], x0).outputs
    # The 4th-order system has two outputs with observability indices 2, so
    # without noise it is exactly an ARX model with na = nb = 2 (2x2 matrix
    # polynomials): the simulation continues the measured output to round-off.
    assert_allclose(sim, y[100:150], rtol=1e-6)


def test_static_unit_simulates_sample_by_sample() -> None:
    rng = np.random.default_rng(4)
    u = rng.uniform(10.0, 30.0, size=(300, 1))
    d = rng.uniform(4.0e6, 6.0e6, size=(300, 1))
    y = np.column_stack([4.0e5 + 50.0 * u[:, 0] ** 2, 500.0 + 1e-5 * d[:, 0]])
    spec = DataDrivenSpec.from_mapping({"model": "polynomial", "degree": 2, **SIGNALS})
    unit = DataDrivenUnit.identify("map", spec, u, y, d=d)
    assert unit.dt_s is None
    assert unit.n_states == 0
    assert unit.equation_model.dt_s is None
    result = unit.simulate(u[:20], d[:20])
    # Tolerance: compiled loop vs numpy matrix product, round-off only.
    assert_allclose(result.outputs, unit.model.predict(np.hstack([u[:20], d[:20]])), rtol=1e-12)
    # A noise-free quadratic is reproduced by the degree-2 fit.
    assert_allclose(result.outputs, y[:20], rtol=1e-8)


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_storage_round_trip(fmt: str) -> None:
    _, u, d, y = _plant_data(800, seed=5)
    spec = DataDrivenSpec.from_mapping({"model": "statespace", "max_order": 6, **SIGNALS})
    unit = DataDrivenUnit.identify("store_me", spec, u, y, dt_s=30.0, d=d)
    data = unit.to_dict()
    text = json.dumps(data) if fmt == "json" else tomli_w.dumps(data)
    loaded = json.loads(text) if fmt == "json" else tomllib.loads(text)
    restored = DataDrivenUnit.from_dict(loaded)
    assert restored.name == "store_me"
    assert restored.dt_s == 30.0
    assert restored.spec == unit.spec
    assert restored.states == unit.states
    assert restored.inputs == unit.inputs
    assert restored.metrics is not None
    assert unit.metrics is not None
    assert_allclose(restored.metrics.nrmse, unit.metrics.nrmse, rtol=0)
    assert np.array_equal(restored.parameter_vector(), unit.parameter_vector())


def test_from_dict_rejects_bad_data() -> None:
    _, u, d, y = _plant_data(400, seed=6)
    spec = DataDrivenSpec.from_mapping({"model": "arx", **SIGNALS})
    data = DataDrivenUnit.identify("u1", spec, u, y, dt_s=1.0, d=d).to_dict()
    with pytest.raises(ModelFormatError, match="unknown model kind 'nope'"):
        DataDrivenUnit.from_dict({**data, "model": {**data["model"], "kind": "nope"}})
    envelope = {**data["envelope"], "states": []}
    with pytest.raises(ModelFormatError, match="envelope 'states' has 0 entries"):
        DataDrivenUnit.from_dict({**data, "envelope": envelope})
    with pytest.raises(ModelFormatError, match="expected a stored model of kind 'datadriven_unit'"):
        DataDrivenUnit.from_dict(data["model"])


def test_identify_failure_paths() -> None:
    _, u, d, y = _plant_data(400, seed=7)
    spec = DataDrivenSpec.from_mapping({"model": "arx", **SIGNALS})
    with pytest.raises(IdentificationError, match="a dynamic \\(arx\\) unit needs dt_s > 0"):
        DataDrivenUnit.identify("u1", spec, u, y, d=d)
    with pytest.raises(IdentificationError, match="d is required: the unit declares 1"):
        DataDrivenUnit.identify("u1", spec, u, y, dt_s=1.0)
    with pytest.raises(IdentificationError, match="u has 2 columns, the unit declares 1"):
        DataDrivenUnit.identify("u1", spec, np.hstack([u, u]), y, dt_s=1.0, d=d)
    with pytest.raises(IdentificationError, match="outputs have 1 columns, the unit declares 2"):
        DataDrivenUnit.identify("u1", spec, u, y[:, :1], dt_s=1.0, d=d)
    y_bad = y.copy()
    y_bad[10, 1] = np.nan
    with pytest.raises(IdentificationError, match="outputs contains 1 NaN"):
        DataDrivenUnit.identify("u1", spec, u, y_bad, dt_s=1.0, d=d)
    with pytest.raises(IdentificationError, match="d has 399 samples"):
        DataDrivenUnit.identify("u1", spec, u, y, dt_s=1.0, d=d[:-1])


def test_unit_rejects_inconsistent_construction() -> None:
    _, u, d, y = _plant_data(400, seed=8)
    spec = DataDrivenSpec.from_mapping({"model": "arx", **SIGNALS})
    unit = DataDrivenUnit.identify("u1", spec, u, y, dt_s=1.0, d=d)
    with pytest.raises(ValueError, match="not an identifier"):
        DataDrivenUnit(
            "bad name",
            spec,
            unit.model,
            1.0,
            unit.inputs,
            unit.disturbances,
            unit.outputs,
            unit.states,
        )
    with pytest.raises(ValueError, match="model has 2 inputs and 2 outputs, the signals 2 and 1"):
        DataDrivenUnit(
            "u2",
            spec,
            unit.model,
            1.0,
            unit.inputs,
            unit.disturbances,
            (Variable("only", "Pa", ""),),
            unit.states,
        )


def test_state_space_initial_state_continues_the_data() -> None:
    _, u, d, y = _plant_data(800, seed=3, noise=0.0)
    spec = DataDrivenSpec.from_mapping({"model": "statespace", "order": 4, **SIGNALS})
    unit = DataDrivenUnit.identify("unit", spec, u, y, dt_s=1.0, d=d, validation_fraction=0.0)
    x0 = unit.initial_state(u[:100], y[:100], d[:100])
    sim = unit.simulate(u[100:150], d[100:150], x0).outputs
    # Noise-free data of a 4th-order system: the identified model and the
    # least-squares initial state reproduce the continuation to round-off
    # (relative to outputs of order 4e5 and 500).
    assert_allclose(sim, y[100:150], rtol=1e-7)


def test_over_parameterised_arx_on_clean_data_is_reported() -> None:
    _, u, d, y = _plant_data(600, seed=3, noise=0.0)
    spec = DataDrivenSpec.from_mapping({"model": "arx", "na": 4, "nb": 4, "nk": 1, **SIGNALS})
    with pytest.raises(IdentificationError, match="orders exceed what noise-free data"):
        DataDrivenUnit.identify("unit", spec, u, y, dt_s=1.0, d=d)
