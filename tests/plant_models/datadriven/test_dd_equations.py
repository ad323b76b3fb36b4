"""Equations-once evaluation of every model type: casadi == numba == numpy reference."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plant_models.core.equations import random_envelope_points, to_casadi, to_numba
from plant_models.datadriven import DataDrivenSpec, DataDrivenUnit
from plant_models.datadriven.arx import ARXModel
from plant_models.datadriven.equations import equation_functions, pack_parameters
from plant_models.datadriven.statespace import StateSpaceModel

N_POINTS = 25


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two inputs, one disturbance, two outputs from a nonlinear dynamic process."""
    rng = np.random.default_rng(seed)
    n = 600
    u = rng.normal(size=(n, 2)) * [3.0, 0.5] + [20.0, 1.0]
    d = rng.normal(size=(n, 1)) * 4.0 + 290.0
    y = np.zeros((n, 2))
    for t in range(2, n):
        y[t, 0] = 0.6 * y[t - 1, 0] + 0.1 * y[t - 2, 0] + 0.4 * u[t - 1, 0] + 0.05 * d[t, 0]
        y[t, 1] = 0.3 * y[t - 1, 1] + np.tanh(u[t - 1, 1]) * 5.0 + 0.02 * u[t - 2, 0] ** 2
    y += 0.05 * rng.normal(size=y.shape)
    return u, d, y + np.array([100.0, -7.0])


SPECS = {
    "polynomial": {"degree": 3},
    "rbf": {"n_centres": 12},
    "mlp": {"hidden": (6, 4)},
    "arx": {"na": 2, "nb": (2, 1, 1), "nk": (1, 1, 0)},
    "statespace": {"order": 3},
}


@pytest.fixture(scope="module")
def units() -> dict[str, DataDrivenUnit]:
    u, d, y = _data()
    out = {}
    for kind, options in SPECS.items():
        spec = DataDrivenSpec(
            model_type=kind,
            inputs=(
                {"name": "fuel_kg_s", "unit": "kg/s"},
                {"name": "valve", "unit": "dimensionless"},
            ),
            disturbances=({"name": "ambient_k", "unit": "K"},),
            outputs=({"name": "power_w", "unit": "W"}, {"name": "temp_k", "unit": "K"}),
            **options,
        )
        out[kind] = DataDrivenUnit.identify(f"dd_{kind}", spec, u, y, dt_s=10.0, d=d)
    return out


@pytest.mark.parametrize("kind", list(SPECS))
def test_casadi_numba_and_numpy_agree(units: dict[str, DataDrivenUnit], kind: str) -> None:
    unit = units[kind]
    model = unit.equation_model
    cas = to_casadi(model)
    nb = to_numba(model)
    p = unit.parameter_vector()
    for x, u, d in random_envelope_points(model, N_POINTS, seed=1):
        y_cas = np.asarray(cas.g(x, u, d, p)).ravel()
        x_cas = np.asarray(cas.f(x, u, d, p)).ravel()
        y_nb = nb.g(x, u, d, p)
        x_nb = nb.f(x, u, d, p)
        # The guide's agreement rule: both compilations of one source agree
        # to rtol 1e-12 (they execute the same operations in the same order).
        assert_allclose(y_nb, y_cas, rtol=1e-12)
        assert_allclose(x_nb, x_cas, rtol=1e-12, atol=1e-300)
        v = np.concatenate([u, d])
        if isinstance(unit.model, ARXModel | StateSpaceModel):
            x_ref, y_ref = unit.model.step(x, v)
        else:
            x_ref, y_ref = np.zeros(0), unit.model.predict(v)
        # The numpy reference sums in another order (BLAS): round-off of
        # terms of order |offset| + |scale * y_s| ~ 1e2 gives absolute
        # differences ~1e-13; rtol 1e-12 with that floor proves equality.
        assert_allclose(y_nb, y_ref, rtol=1e-12, atol=1e-12 * np.abs(y_ref).max())
        assert_allclose(x_nb, x_ref, rtol=1e-12, atol=1e-12 * max(np.abs(x_ref).max(initial=0), 1))


def test_structure_cache_reuses_functions(units: dict[str, DataDrivenUnit]) -> None:
    # A re-identified model of the same structure reuses the compiled code.
    unit = units["statespace"]
    f1, g1 = equation_functions(unit.model, 2)
    f2, g2 = equation_functions(StateSpaceModel.from_dict(unit.model.to_dict()), 2)
    assert f1 is f2
    assert g1 is g2


def test_parameter_vector_layout(units: dict[str, DataDrivenUnit]) -> None:
    unit = units["polynomial"]
    p = pack_parameters(unit.model)
    model = unit.model
    assert_allclose(p[:3], model.input_scaling.offset, rtol=0)
    assert_allclose(p[3:6], model.input_scaling.scale, rtol=0)
    assert_allclose(p[6:8], model.output_scaling.offset, rtol=0)
    assert_allclose(p[8:10], model.output_scaling.scale, rtol=0)
    assert_allclose(p[10:], model.coef.ravel(), rtol=0)
    names = [v.name for v in unit.equation_model.parameters]
    assert names[:3] == ["offset_fuel_kg_s", "offset_valve", "offset_ambient_k"]
    assert names[6:8] == ["offset_power_w", "offset_temp_k"]
    assert len(names) == p.size


def test_casadi_derivatives_are_available(units: dict[str, DataDrivenUnit]) -> None:
    # Controllers need Jacobians: check casadi's against central differences.
    import casadi

    unit = units["mlp"]
    cas = to_casadi(unit.equation_model)
    u_sym = casadi.SX.sym("u", 2)
    p = unit.parameter_vector()
    d0 = np.array([290.0])
    y = cas.g(casadi.SX.zeros(0), u_sym, d0, p)
    jac = casadi.Function("j", [u_sym], [casadi.jacobian(y, u_sym)])
    u0 = np.array([20.0, 1.0])
    analytic = np.asarray(jac(u0))
    h = 1e-6
    numeric = np.column_stack(
        [
            (
                np.asarray(cas.g([], u0 + h * e, d0, p)) - np.asarray(cas.g([], u0 - h * e, d0, p))
            ).ravel()
            / (2 * h)
            for e in np.eye(2)
        ]
    )
    # Tolerance: central differences with h = 1e-6 carry round-off of about
    # eps * |y| / h ~ 1e-8 relative to outputs of order 100.
    assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-6)
