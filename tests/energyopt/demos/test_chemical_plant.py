"""The chemical demo plant as declared in chemical.toml: agreement, balances, loops, modes."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plant_models.core.equations import random_envelope_points, to_casadi, to_numba
from plant_models.flowsheet.chemical import setpoint_inputs
from plant_models.units.cstr_vdv import CstrVdvParams


def value(model, y, name):
    """Output ``name`` of output vector ``y``."""
    return float(y[model.index("y", name)])


@pytest.mark.slow
def test_casadi_and_numba_agree_on_the_composed_flowsheet(chemical, chemical_modes):
    model = chemical.model
    cas = to_casadi(model)
    nb = to_numba(model)
    rng = np.random.default_rng(3)
    base_u = setpoint_inputs(chemical, chemical_modes["high_throughput"])
    for x, _, d in random_envelope_points(model, 8, seed=5):
        u = base_u * rng.uniform(0.9, 1.1, base_u.size)
        p = chemical.parameters
        # Same source, same operations: agreement to rounding (guide section 2).
        assert_allclose(
            nb.f(x, u, d, p), np.array(cas.f(x, u, d, p)).ravel(), rtol=1e-12, atol=1e-12
        )
        assert_allclose(
            nb.g(x, u, d, p), np.array(cas.g(x, u, d, p)).ravel(), rtol=1e-12, atol=1e-9
        )


def test_species_balance_closes_around_the_plant(chemical, mode_steady_states):
    model = chemical.model
    for _, _, y in mode_steady_states.values():
        fresh_a = value(model, y, "fresh_feed.supply") * value(model, y, "fresh_feed.c_a_mol_m3")
        q_out = value(model, y, "product.supply")
        # Van de Vusse stoichiometry: A -> B -> C keeps one A unit per molecule,
        # 2 A -> D holds two; so A + B + C + 2 D leaving equals A fed.
        out_a_units = q_out * (
            value(model, y, "product.c_a_mol_m3")
            + value(model, y, "product.c_b_mol_m3")
            + value(model, y, "product.c_c_mol_m3")
            + 2.0 * value(model, y, "product.c_d_mol_m3")
        )
        # Steady state solved to a scaled residual of 1e-9: balances close to ~1e-8.
        assert_allclose(out_a_units, fresh_a, rtol=1e-7)
        # The flash creates nothing: each species in = vapour + liquid.
        for s in "abcd":
            feed = value(model, y, "flash_feed.supply") * value(
                model, y, f"flash_feed.c_{s}_mol_m3"
            )
            split = value(model, y, "flash.vapour_out_flow_m3_s") * value(
                model, y, f"flash.vapour_out_c_{s}_mol_m3"
            ) + value(model, y, "flash.liquid_out_flow_m3_s") * value(
                model, y, f"flash.liquid_out_c_{s}_mol_m3"
            )
            assert_allclose(split, feed, rtol=1e-7)
        # Recycle is real: the reactor gets more than the fresh feed.
        assert value(model, y, "feed_hot.supply") > 1.05 * value(model, y, "fresh_feed.supply")


def test_reactor_energy_balance_closes(chemical, chemical_d, mode_steady_states):
    model = chemical.model
    r = CstrVdvParams(volume_m3=1.0, area_m2=21.5, jacket_mass_kg=500.0)
    for _, _, y in mode_steady_states.values():
        t = value(model, y, "reactor.t_reactor_k")
        c_a = value(model, y, "reactor.c_a_mol_m3")
        c_b = value(model, y, "reactor.c_b_mol_m3")
        # Independent Arrhenius rates from the published constants (guide section 4).
        k1 = 1.287e12 / 3600.0 * np.exp(-9758.3 / t)
        k3 = 9.043e9 * 1e-3 / 3600.0 * np.exp(-8560.0 / t)
        release = -1.0 * (k1 * c_a * 4.2e3 + k1 * c_b * -11.0e3 + k3 * c_a**2 * -41.85e3)
        q = value(model, y, "feed_hot.supply")
        sensible = 934.2 * 3010.0 * q * (value(model, y, "feed_hot.temperature") - t)
        removed = value(model, y, "reactor.heat_removed_w")
        # Three terms of tens to hundreds of kW; steady to 1e-9: closes within 1e-3 W.
        assert_allclose(sensible + release * r.volume_m3 - removed, 0.0, atol=1e-3)
        t_cw = chemical_d[model.index("d", "reactor.t_cooling_water_k")]
        water = value(model, y, "reactor.cooling_water_kg_s") * 4180.0
        assert_allclose(removed, water * (value(model, y, "reactor.t_jacket_k") - t_cw), rtol=1e-9)


def test_loops_hold_their_setpoints_and_modes_differ(chemical, mode_steady_states):
    model = chemical.model
    for _, u, y in mode_steady_states.values():
        for loop in ("fic_101", "tic_102", "tic_110", "lic_201", "fic_203"):
            # Integral action: zero steady error (to the solver's 1e-9 scaled residual).
            sp = u[model.index("u", f"{loop}.setpoint")]
            assert_allclose(value(model, y, f"{loop}.error"), 0.0, atol=1e-6 * max(abs(sp), 1))
            out = value(model, y, f"{loop}.output")
            assert 0.0 < out < 1.0, f"{loop} saturated at {out}"
    ht = mode_steady_states["high_throughput"][2]
    hs = mode_steady_states["high_selectivity"][2]
    production = {
        k: value(model, y, "product.supply") * value(model, y, "product.c_b_mol_m3")
        for k, y in (("ht", ht), ("hs", hs))
    }
    selectivity = {
        k: value(model, y, "product.c_b_mol_m3")
        / (
            value(model, y, "fresh_feed.c_a_mol_m3")
            * value(model, y, "fresh_feed.supply")
            / value(model, y, "product.supply")
        )
        for k, y in (("ht", ht), ("hs", hs))
    }
    assert production["ht"] > 1.3 * production["hs"]
    assert selectivity["hs"] > selectivity["ht"]
    assert value(model, ht, "reactor.t_reactor_k") - value(model, hs, "reactor.t_reactor_k") == (
        pytest.approx(8.0, abs=1e-5)
    )
