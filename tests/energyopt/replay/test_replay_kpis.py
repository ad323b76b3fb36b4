"""KPI spec from the project and the replay KPIs on tiny hand-computed series."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.demos import demo_project_file
from energyopt.plantbuild import build_plant
from energyopt.project import load_project
from energyopt.replay import ReplayKpiSpec, compute_replay_kpis, kpi_spec

#: Standard atmosphere [Pa]: the gauge offset of "MPa(g)" tags.
ATM_PA = 101_325.0


@pytest.fixture(scope="module")
def spec() -> ReplayKpiSpec:
    return kpi_spec(build_plant(load_project(demo_project_file("steelworks"))))


def test_spec_from_project_structure(spec: ReplayKpiSpec) -> None:
    assert spec.power_purchased == ("grid.power_purchased_w",)
    assert spec.power_import == ("grid.power_import_w",)
    assert set(spec.power_generated) == {"tg_1.power_w", "tg_2.power_w"}
    # [tariffs.prices.ng] 3.4 CNY/Nm3, [media.ng] 36 MJ/Nm3.
    assert dict(spec.fuels) == {"ng": ("ng.demand", 36e6, 3.4)}
    assert dict(spec.gas_flared) == {
        "bfg": ("bfg_flare.flow_m3_s",),
        "cog": ("cog_flare.flow_m3_s",),
    }
    assert dict(spec.gas_made) == {
        "bfg": ("blast_furnaces.flow_m3_s",),
        "cog": ("coke_ovens.flow_m3_s",),
    }
    level, normal, hard = spec.holders["ldg_holder"]
    assert level == "ldg_holder.level_fraction"
    # Bindings in %: normal [30, 70], hard [15, 90] -> fractions (exact in binary
    # up to one rounding of the pint conversion).
    assert_allclose(normal, (0.30, 0.70), rtol=1e-12)
    assert_allclose(hard, (0.15, 0.90), rtol=1e-12)
    # MPa(g) -> Pa absolute: 0.85-0.95 MPa(g) plus one standard atmosphere.
    assert_allclose(
        spec.cv_bands["mp_header.pressure_pa"], (0.85e6 + ATM_PA, 0.95e6 + ATM_PA), rtol=1e-12
    )
    # 210 000 Nm3/h -> Nm3/s.
    assert_allclose(spec.mv_limits["boiler_1.fuel_0_m3_s"], (0.0, 210_000 / 3600), rtol=1e-12)


def _tiny_spec() -> ReplayKpiSpec:
    return ReplayKpiSpec(
        power_purchased=("grid.p",),
        power_import=("grid.i",),
        fuels={"ng": ("ng.q", 36e6, 3.4)},
        gas_made={"bfg": ("bf.q",)},
        gas_flared={"bfg": ("flare.q",)},
        holders={"h": ("h.level", (0.3, 0.7), (0.1, 0.9))},
    )


SERIES = {
    "grid.p": np.array([100e6, 200e6, 100e6, 0.0]),
    "ng.q": np.array([1.0, 1.0, 0.0, 0.0]),
    "bf.q": np.array([100.0, 100.0, 100.0, 100.0]),
    "flare.q": np.array([0.0, 10.0, 10.0, 0.0]),
    "h.level": np.array([0.2, 0.5, 0.95, 0.5]),
}
PRICE = np.array([0.3, 0.65, 1.1, 1.1])  # CNY/kWh: valley, flat, peak, peak


def test_tiny_series_by_hand() -> None:
    kpis = compute_replay_kpis(_tiny_spec(), SERIES.get, 900.0, PRICE)
    # Electricity: 100 MW x 0.25 h x 0.30 + 200 x 0.25 x 0.65 + 100 x 0.25 x 1.10
    # = 7 500 + 32 500 + 27 500 CNY; gas 2 x 900 s x 1 Nm3/s x 3.4 = 6 120 CNY.
    assert_allclose(kpis["energy_cost"].value, 73_620.0, rtol=1e-12)
    # (100 + 200 + 100) MW x 0.25 h = 100 MWh.
    assert_allclose(kpis["purchased_electricity"].value, 100.0, rtol=1e-12)
    # 100 000 kWh x 0.1229 kgce/kWh + 1 800 Nm3 x 36 MJ / 29.3076 MJ/kgce (GB/T 2589).
    assert_allclose(
        kpis["comprehensive_energy"].value, 100_000 * 0.1229 + 1800 * 36 / 29.3076, rtol=1e-12
    )
    # 20 Nm3/s-steps x 900 s flared of 400 x 900 made: 18 000 Nm3, 5 %.
    assert_allclose(kpis["flared_gas"].value, 18_000.0, rtol=1e-12)
    assert_allclose(kpis["flaring_rate"].value, 5.0, rtol=1e-12)
    # Levels 0.2 and 0.95 outside 30-70 % (2 x 15 min); 0.95 above the 90 % limit.
    assert_allclose(kpis["holder_time_outside_band"].value, 30.0, rtol=1e-12)
    assert_allclose(kpis["holder_time_outside_hard"].value, 15.0, rtol=1e-12)


def test_missing_steps_and_import_alias() -> None:
    """A record binding only the net import: purchase = max(import, 0); masked steps drop."""
    series = {k: v for k, v in SERIES.items() if k != "grid.p"}
    series["grid.i"] = np.array([100e6, 200e6, -50e6, 0.0])
    missing = np.array([False, True, False, False])
    kpis = compute_replay_kpis(_tiny_spec(), series.get, 900.0, PRICE, missing=missing)
    # Only steps 0 and 2 count: 100 MW x 0.25 h, and no purchase while exporting.
    assert_allclose(kpis["purchased_electricity"].value, 25.0, rtol=1e-12)
    assert kpis["purchased_electricity"].n_missing == 1
    # Flared only at step 2 (step 1 masked): 9 000 Nm3.
    assert_allclose(kpis["flared_gas"].value, 9_000.0, rtol=1e-12)


def test_unavailable_series_skip_their_kpis() -> None:
    kpis = compute_replay_kpis(_tiny_spec(), {"h.level": SERIES["h.level"]}.get, 900.0, PRICE)
    assert "energy_cost" not in kpis
    assert "flared_gas" not in kpis
    assert set(kpis) >= {"holder_time_outside_band", "holder_time_outside_hard"}
