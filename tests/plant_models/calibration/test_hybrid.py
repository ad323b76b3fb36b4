"""Hybrid models: mechanistic equations plus a data-driven residual, compiled both ways.

Truths with a structural mismatch the mechanistic model cannot fit by its
parameters:

- a Van de Vusse CSTR whose product B also decays by a side reaction
  B -> E (Arrhenius, 1e-3 1/s at 390 K, activation temperature 5000 K);
  the mechanistic model lacks it, and the residual corrects the rate of c_B;
- a chiller whose part-load power curve has a different shape
  (``P_truth = P_model (1 + 0.6 (PLR - 0.6)^2)``); the residual corrects
  the electric-power output.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plant_models.calibration import (
    CalibrationDataError,
    CalibrationError,
    Dataset,
    calibrate,
    free_run,
    free_run_metrics,
)
from plant_models.calibration.hybrid import (
    HybridModel,
    HybridResidual,
    ResidualSpec,
    fit_residual,
    hybrid_model,
)
from plant_models.core.equations import (
    EquationModel,
    equation,
    random_envelope_points,
    to_casadi,
    to_numba,
)
from plant_models.core.mathfuncs import exp, zeros
from plant_models.core.simulate import simulate
from plant_models.units import chiller
from plant_models.units.cstr_vdv import f as vdv_f

SIDE_RATE_1_S = 1.0e-3
SIDE_ACTIVATION_K = 5000.0


@equation
def truth_f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Van de Vusse balances plus the side reaction B -> E."""
    dxdt = vdv_f(x, u, d, p)
    out = zeros(4)
    for i in range(4):
        out[i] = dxdt[i]
    out[1] = out[1] - SIDE_RATE_1_S * exp(-SIDE_ACTIVATION_K * (1.0 / x[2] - 1.0 / 390.0)) * x[1]
    return out


RATE_SPEC = ResidualSpec("rate", ("c_b_mol_m3",), ("c_b_mol_m3", "x:t_reactor_k"))


@pytest.fixture(scope="module")
def side_reaction_data(cstr_model, cstr_nominal, make_cstr_record):
    import dataclasses

    truth = dataclasses.replace(cstr_model, name="cstr_side_reaction", f=truth_f)
    record = make_cstr_record(truth, cstr_nominal, 900, seed=5)
    return record.data.split(0.6)


@pytest.fixture(scope="module")
def cstr_hybrid(cstr_model, cstr_nominal, side_reaction_data):
    train, _ = side_reaction_data
    residual = fit_residual(
        cstr_model, cstr_nominal, RATE_SPEC, train, options={"degree": 2}, substeps=2
    )
    return hybrid_model(cstr_model, residual)


def test_rate_residual_improves_holdout_nrmse(
    cstr_model, cstr_nominal, cstr_hybrid, side_reaction_data
):
    _, validation = side_reaction_data
    x0 = np.array([validation.states[v.name][0] for v in cstr_model.states])
    mech = free_run_metrics(
        cstr_model, cstr_model.pack_parameters(cstr_nominal), validation, x0, substeps=2
    )
    hybrid = free_run_metrics(
        cstr_hybrid, cstr_hybrid.pack_parameters(cstr_nominal), validation, x0, substeps=2
    )
    c_b = mech.names.index("c_b_mol_m3")
    # The missing side reaction leaves c_B off by about 2/3 of its spread
    # (NRMSE 0.67); the residual removes most of that on data it never saw.
    assert mech.nrmse[c_b] > 0.4
    assert hybrid.nrmse[c_b] < 0.5 * mech.nrmse[c_b]
    # The correction of one rate improves every coupled signal too.
    assert np.all(hybrid.nrmse < mech.nrmse)


def test_hybrid_is_an_equation_model_in_the_convention(cstr_model, cstr_hybrid, cstr_nominal):
    assert isinstance(cstr_hybrid, EquationModel)
    assert isinstance(cstr_hybrid, HybridModel)
    assert cstr_hybrid.states == cstr_model.states
    assert cstr_hybrid.outputs == cstr_model.outputs
    n_mech = cstr_model.sizes["p"]
    assert cstr_hybrid.parameters[:n_mech] == cstr_model.parameters
    assert cstr_hybrid.parameters[n_mech].name == "residual.in_offset_c_b_mol_m3"
    p = cstr_hybrid.pack_parameters(cstr_nominal)
    assert p.shape == (cstr_hybrid.sizes["p"],)
    # A plain mechanistic vector packs the same way as the dataclass.
    assert_allclose(cstr_hybrid.pack_parameters(cstr_model.pack_parameters(cstr_nominal)), p)


def test_hybrid_casadi_and_numba_agree(cstr_hybrid, cstr_nominal):
    cas = to_casadi(cstr_hybrid)
    nb = to_numba(cstr_hybrid)
    p = cstr_hybrid.pack_parameters(cstr_nominal)
    for x, u, d in random_envelope_points(cstr_hybrid, 20, seed=7):
        # Guide section 2: the one source, two compilations, equal to round-off.
        assert_allclose(np.asarray(cas.f(x, u, d, p)).ravel(), nb.f(x, u, d, p), rtol=1e-12)
        assert_allclose(np.asarray(cas.g(x, u, d, p)).ravel(), nb.g(x, u, d, p), rtol=1e-12)


def test_hybrid_rate_is_mechanistic_rate_plus_map(cstr_model, cstr_hybrid, cstr_nominal):
    # Independent reference: the mechanistic f (plain numpy binding) plus the
    # fitted map's own numpy predict() at the features.
    nb = to_numba(cstr_hybrid)
    p_mech = cstr_model.pack_parameters(cstr_nominal)
    p = cstr_hybrid.pack_parameters(cstr_nominal)
    residual = cstr_hybrid.residual.model
    for x, u, d in random_envelope_points(cstr_hybrid, 5, seed=8):
        expected = np.asarray(vdv_f(x, u, d, p_mech), dtype=float)
        expected[1] += residual.predict(np.array([x[1], x[2]]))[0]
        # Same arithmetic in a different order (numpy features vs the
        # equation loop): agreement to a few ulp of the largest term.
        assert_allclose(nb.f(x, u, d, p), expected, rtol=1e-10, atol=1e-12)


def test_hybrid_simulates_with_the_numba_integrator(cstr_hybrid, cstr_nominal, side_reaction_data):
    _, validation = side_reaction_data
    p = cstr_hybrid.pack_parameters(cstr_nominal)
    x0 = np.array([validation.states[v.name][0] for v in cstr_hybrid.states])
    sim = simulate(
        cstr_hybrid,
        x0,
        validation.inputs,
        validation.disturbances,
        p,
        20.0,
        substeps=2,
        method="rk4",
    )
    states, _ = free_run(cstr_hybrid, p, validation, x0, substeps=2)
    # The numba kernel and the casadi free run share the RK4 scheme: round-off only.
    assert_allclose(sim.states, states, rtol=1e-10)


def test_residual_round_trips_through_json(cstr_model, cstr_hybrid, cstr_nominal):
    stored = json.dumps(cstr_hybrid.residual.to_dict())
    rebuilt = hybrid_model(cstr_model, HybridResidual.from_dict(json.loads(stored)))
    p = rebuilt.pack_parameters(cstr_nominal)
    assert_allclose(p, cstr_hybrid.pack_parameters(cstr_nominal), rtol=0.0)  # exact floats
    # Same structure: the memoised composition reuses the compiled functions.
    assert rebuilt.f is cstr_hybrid.f
    assert rebuilt.g is cstr_hybrid.g


# ---------------------------------------------------------------- output residual


@pytest.fixture(scope="module")
def chiller_mismatch():
    model = chiller.model()
    params = chiller.ChillerParams()
    rng = np.random.default_rng(9)
    n = 400
    duty = rng.uniform(0.15, 1.0, n) * params.capacity_cooling_w
    temps = np.column_stack([rng.uniform(278.15, 283.15, n), rng.uniform(297.15, 308.15, n)])
    base = Dataset(60.0, duty, temps, outputs={"power_w": np.zeros(n)})
    _, outputs = free_run(model, model.pack_parameters(params), base)
    plr = duty / params.capacity_cooling_w
    truth = outputs[:, 0] * (1.0 + 0.6 * (plr - 0.6) ** 2)
    power = truth * (1.0 + 0.005 * rng.standard_normal(n))  # 0.5 % meter noise
    data = Dataset(60.0, duty, temps, outputs={"power_w": power})
    return model, params, data.split(0.7)


def test_output_residual_improves_holdout_nrmse(chiller_mismatch):
    model, params, (train, validation) = chiller_mismatch
    spec = ResidualSpec("output", ("power_w",), ("cooling_w", "t_condenser_in_k"))
    residual = fit_residual(model, params, spec, train, options={"degree": 3})
    hybrid = hybrid_model(model, residual)
    mech = free_run_metrics(model, model.pack_parameters(params), validation)
    corrected = free_run_metrics(hybrid, hybrid.pack_parameters(params), validation)
    power = mech.names.index("power_w")
    # The part-load shape error reaches 12 % of the power at the ends of the
    # range; the residual brings the hold-out error to the meter-noise level.
    assert corrected.nrmse[power] < 0.25 * mech.nrmse[power]
    assert abs(corrected.bias[power]) < 0.25 * abs(mech.bias[power])


# ---------------------------------------------------------------- failure paths


def test_residual_spec_errors(cstr_model, cstr_nominal, cstr_data):
    with pytest.raises(CalibrationError, match="feature 'x:pressure' of model cstr_vdv is unknown"):
        ResidualSpec("rate", ("c_b_mol_m3",), ("x:pressure",)).resolve(cstr_model)
    with pytest.raises(CalibrationError, match="no state c_z"):
        ResidualSpec("rate", ("c_z",), ("c_b_mol_m3",)).resolve(cstr_model)
    with pytest.raises(CalibrationError, match="target must be 'output' or 'rate'"):
        ResidualSpec("state", ("c_b_mol_m3",), ("c_b_mol_m3",))  # type: ignore[arg-type]
    partial = Dataset(
        cstr_data.dt_s,
        cstr_data.inputs,
        cstr_data.disturbances,
        states={"c_b_mol_m3": cstr_data.states["c_b_mol_m3"]},
    )
    with pytest.raises(CalibrationError, match="rate residual needs every state measured"):
        fit_residual(cstr_model, cstr_nominal, RATE_SPEC, partial)
    out_spec = ResidualSpec("output", ("production_b_mol_s",), ("c_b_mol_m3",))
    with pytest.raises(CalibrationDataError, match="output production_b_mol_s is corrected but"):
        fit_residual(cstr_model, cstr_nominal, out_spec, cstr_data)


def test_malformed_stored_residual(cstr_hybrid):
    from plant_models.datadriven.errors import ModelFormatError

    data = cstr_hybrid.residual.to_dict()
    with pytest.raises(ModelFormatError, match="not a version-1"):
        HybridResidual.from_dict({**data, "version": 2})
    with pytest.raises(ModelFormatError, match="unknown map kind"):
        HybridResidual.from_dict({**data, "model": {"kind": "arx"}})
    with pytest.raises(ModelFormatError, match="missing or malformed"):
        HybridResidual.from_dict({k: v for k, v in data.items() if k != "features"})


def test_hybrid_model_can_be_calibrated(chiller_mismatch):
    # Controllers and calibration treat the hybrid like any unit: its
    # mechanistic parameters and its map coefficients are both fittable.
    model, params, (train, _) = chiller_mismatch
    spec = ResidualSpec("output", ("power_w",), ("cooling_w", "t_condenser_in_k"))
    hybrid = hybrid_model(model, fit_residual(model, params, spec, train, options={"degree": 3}))
    result = calibrate(hybrid, params, ("cop_nominal",), train)
    # The residual already absorbed the mismatch: the nominal COP stays
    # within half a percent, and the dataclass comes back updated.
    assert_allclose(result.value("cop_nominal"), params.cop_nominal, rtol=5e-3)
    assert isinstance(result.params, chiller.ChillerParams)
    coef = calibrate(hybrid, params, ("residual.coef_0",), train)
    assert coef.params is None  # not a field of the unit's dataclass
    assert coef.p.shape == (hybrid.sizes["p"],)
