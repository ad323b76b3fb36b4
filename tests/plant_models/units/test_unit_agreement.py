"""Every library model: the numba and casadi compilations of the one source agree.

Guide section 2: random points inside each model's declared operating
envelope, both evaluations, ``assert_allclose(rtol=1e-12)``.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plant_models.core.equations import random_envelope_points, to_casadi, to_numba
from plant_models.units import (
    air_compressor,
    boiler,
    chiller,
    consumers,
    cooling_tower,
    cstr_vdv,
    distillation,
    flare,
    flash,
    gas_holder,
    gas_mixer,
    gas_producer,
    grid,
    heat_exchanger,
    pid,
    prv_station,
    pump,
    steam_header,
    turbogenerator,
)

CASES = {
    "air_compressor": (air_compressor.model(), air_compressor.AirCompressorParams()),
    "boiler": (boiler.model(), boiler.BoilerParams()),
    "boiler_1_fuel": (boiler.model(n_fuels=1), boiler.BoilerParams()),
    "chiller": (chiller.model(), chiller.ChillerParams()),
    "gas_consumer": (consumers.gas_model(), consumers.GasConsumerParams(curtailable_fraction=0.3)),
    "steam_consumer": (consumers.steam_model(), consumers.SteamConsumerParams()),
    "power_consumer": (consumers.power_model(), consumers.PowerConsumerParams()),
    "cooling_tower": (cooling_tower.model(), cooling_tower.CoolingTowerParams()),
    "cstr_vdv": (cstr_vdv.model(), cstr_vdv.CstrVdvParams()),
    "distillation": (
        distillation.model(distillation.DistillationParams(n_stages=11, feed_stage=6)),
        distillation.DistillationParams(n_stages=11, feed_stage=6),
    ),
    "flare": (flare.model(), flare.FlareParams()),
    "flash": (flash.model(), flash.FlashParams()),
    "gas_holder": (gas_holder.model(), gas_holder.GasHolderParams()),
    "gas_mixer": (gas_mixer.model(), gas_mixer.GasMixerParams()),
    "gas_producer": (gas_producer.model(), gas_producer.GasProducerParams()),
    "grid": (grid.model(), grid.GridParams(export_capacity_w=20e6, price_export_per_j=5e-8)),
    "heat_exchanger": (heat_exchanger.model(), heat_exchanger.HeatExchangerParams()),
    "pi": (pid.model(), pid.PidParams()),
    "pid": (
        pid.model(pid.PidParams(derivative_time_s=20.0)),
        pid.PidParams(derivative_time_s=20.0),
    ),
    "prv_station": (prv_station.model(), prv_station.PrvStationParams()),
    "pump": (pump.model(), pump.PumpParams()),
    "steam_header": (steam_header.model(), steam_header.SteamHeaderParams()),
    "turbogenerator": (turbogenerator.model(), turbogenerator.TurbogeneratorParams()),
}


def test_every_registered_unit_type_has_an_agreement_case():
    from plant_models.registry import UNIT_TYPES

    covered = {model.name for model, _ in CASES.values()}
    assert set(UNIT_TYPES) <= covered, sorted(set(UNIT_TYPES) - covered)


@pytest.mark.parametrize("case", sorted(CASES))
def test_numba_and_casadi_agree_inside_the_envelope(case):
    model, params = CASES[case]
    p_nominal = model.pack_parameters(params)
    rng = np.random.default_rng(7)
    compiled = to_numba(model)
    symbolic = to_casadi(model)
    points = random_envelope_points(model, 20, seed=11)
    for i, (x, u, d) in enumerate(points):
        # Half the points use parameters perturbed by up to 10 %, so that the
        # comparison does not hinge on one parameter set.
        p = p_nominal * rng.uniform(0.9, 1.1, p_nominal.shape) if i % 2 else p_nominal
        if case.startswith("distillation"):
            p[distillation.PARAMETERS.index("feed_stage")] = params.feed_stage
        dx_nb = compiled.f(x, u, d, p)
        y_nb = compiled.g(x, u, d, p)
        dx_ca = np.asarray(symbolic.f(x, u, d, p), dtype=float).ravel()
        y_ca = np.asarray(symbolic.g(x, u, d, p), dtype=float).ravel()
        assert np.all(np.isfinite(dx_nb)), (case, x, u, d)
        assert np.all(np.isfinite(y_nb)), (case, x, u, d)
        # rtol 1e-12: both evaluate the same operations in the same order in
        # IEEE double; only libm rounding of exp/log may differ by an ulp.
        assert_allclose(dx_nb, dx_ca, rtol=1e-12, atol=0.0)
        assert_allclose(y_nb, y_ca, rtol=1e-12, atol=0.0)


@pytest.mark.parametrize("case", ["cstr_vdv", "boiler"])
def test_plain_python_evaluation_agrees_too(case):
    # The module-level (numpy) binding lets engineers call f directly.
    model, params = CASES[case]
    p = model.pack_parameters(params)
    compiled = to_numba(model)
    for x, u, d in random_envelope_points(model, 5, seed=3):
        # Same operations in double precision: agreement to rounding.
        assert_allclose(np.asarray(model.f(x, u, d, p)), compiled.f(x, u, d, p), rtol=1e-12)
