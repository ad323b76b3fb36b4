"""Energy KPIs against hand-computed values on tiny series (arithmetic in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.errors import DataError
from energyopt.kpis import (
    ELECTRICITY_KGCE_PER_KWH,
    comprehensive_energy_breakdown_kgce,
    comprehensive_energy_kgce,
    energy_cost,
    energy_cost_breakdown,
    energy_intensity_kgce_per_t,
    purchased_electricity_mwh,
    self_generation_share_pct,
    total_mass_t,
)

# Each KPI is a handful of float64 multiplications and additions of numbers
# whose exact result is known; 1e-12 relative covers the roundings (a few ulp)
# while any wrong factor (3.6e6, 0.1229, 29.3076e6) is off by orders more.
RTOL = 1e-12

STEP_15MIN_S = 900.0


def test_energy_cost_time_of_use_hand_computed():
    # 15-min steps (0.25 h); the last step is missing and omitted.
    # 4 MW * 0.25 h = 1000 kWh at valley 0.3  ->  300
    # 8 MW * 0.25 h = 2000 kWh at peak 1.1    -> 2200
    # 2 MW * 0.25 h =  500 kWh at flat 0.65   ->  325   total 2825
    power_w = [4e6, 8e6, 2e6, np.nan]
    price = [0.3, 1.1, 0.65, 0.65]
    assert_allclose(energy_cost(power_w, price, STEP_15MIN_S), 2825.0, rtol=RTOL)


def test_energy_cost_with_export_and_fuel():
    # Electricity as above (2825, fourth step purchased 0 W), export 1 MW in step 3:
    # 1 MW * 0.25 h = 250 kWh at 0.4 -> credit -100.
    # Natural gas (1 + 1 + 0.5 + 0.5) Nm3/s * 900 s = 2700 Nm3 at 3.0 -> 8100.
    # Total 2825 - 100 + 8100 = 10825.
    kwargs = {
        "power_exported_w": [0.0, 0.0, 1e6, 0.0],
        "export_price_per_kwh": 0.4,
        "fuel_flows_nm3_s": {"ng": [1.0, 1.0, 0.5, 0.5]},
        "fuel_prices_per_nm3": {"ng": 3.0},
    }
    args = ([4e6, 8e6, 2e6, 0.0], [0.3, 1.1, 0.65, 0.65], STEP_15MIN_S)
    parts = energy_cost_breakdown(*args, **kwargs)
    assert list(parts) == ["electricity", "electricity_export", "fuel:ng"]
    assert_allclose(
        [parts["electricity"], parts["electricity_export"], parts["fuel:ng"]],
        [2825.0, -100.0, 8100.0],
        rtol=RTOL,
    )
    assert_allclose(energy_cost(*args, **kwargs), 10825.0, rtol=RTOL)


def test_energy_cost_scalar_price_equals_constant_array():
    # A scalar price broadcasts: 3 MW for 1 h = 3000 kWh at 0.65 = 1950.
    assert_allclose(energy_cost([3e6], 0.65, 3600.0), 1950.0, rtol=RTOL)
    assert_allclose(energy_cost([3e6], [0.65], 3600.0), 1950.0, rtol=RTOL)


def test_energy_cost_all_missing_is_nan_not_zero():
    assert math.isnan(energy_cost([np.nan, np.nan], 0.65, 900.0))


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"price_per_kwh": [0.3, 0.3, 0.3]}, "price_per_kwh has shape (3,)"),
        ({"step_s": -900.0}, "step_s must be a finite positive number, got -900"),
        ({"step_s": 0.0}, "step_s must be a finite positive number"),
        ({"power_purchased_w": [[1.0, 2.0]]}, "power_purchased_w must be one-dimensional"),
        ({"power_exported_w": [0.0]}, "power_exported_w has 1 samples but power_purchased_w"),
        ({"fuel_flows_nm3_s": {"ng": [1.0, 1.0, 1.0, 1.0]}}, "fuel_prices_per_nm3 has no entry"),
        (
            {"fuel_flows_nm3_s": {"ng": [1.0, 1.0]}, "fuel_prices_per_nm3": {"ng": 3.0}},
            "fuel_flows_nm3_s['ng'] has 2 samples",
        ),
        ({"fuel_prices_per_nm3": {"coal": 1.0}}, "fuel_prices_per_nm3 has 'coal'"),
    ],
)
def test_energy_cost_rejects_bad_input(kwargs, fragment):
    args = {
        "power_purchased_w": [1e6, 1e6, 1e6, 1e6],
        "price_per_kwh": 0.65,
        "step_s": 900.0,
    }
    args.update(kwargs)
    with pytest.raises(DataError, match="energy_cost: ") as info:
        energy_cost(**args)
    assert fragment in str(info.value)


def test_purchased_electricity_one_megawatt_hour():
    # 1 MW for four 15-min steps = 1 MWh; with one step missing 0.75 MWh.
    assert_allclose(purchased_electricity_mwh([1e6] * 4, STEP_15MIN_S), 1.0, rtol=RTOL)
    assert_allclose(
        purchased_electricity_mwh([1e6, np.nan, 1e6, 1e6], STEP_15MIN_S), 0.75, rtol=RTOL
    )


def test_purchased_electricity_rejects_negative_step():
    with pytest.raises(DataError, match="purchased_electricity: step_s must be"):
        purchased_electricity_mwh([1e6], -1.0)


def test_self_generation_share_hand_computed():
    # Own 60 MW, bought 40 MW: 60 / 100 = 60 %.
    assert_allclose(self_generation_share_pct([60e6, 60e6], [40e6, 40e6]), 60.0, rtol=RTOL)
    # Exporting 10 MW of it: (60 - 10) / (60 + 40 - 10) = 50 / 90.
    share = self_generation_share_pct([60e6, 60e6], [40e6, 40e6], power_exported_w=[10e6, 10e6])
    assert_allclose(share, 100.0 * 50.0 / 90.0, rtol=RTOL)


def test_self_generation_share_drops_incomplete_steps_jointly():
    # Step 2 lacks the generation: it leaves numerator AND denominator, so the
    # share is 60 / (60 + 40) = 60 %, not 60 / (60 + 40 + 100) = 30 %.
    share = self_generation_share_pct([60e6, np.nan], [40e6, 100e6])
    assert_allclose(share, 60.0, rtol=RTOL)


def test_self_generation_share_undefined_is_nan():
    assert math.isnan(self_generation_share_pct([0.0], [0.0]))
    assert math.isnan(self_generation_share_pct([np.nan], [1.0]))


def test_self_generation_share_rejects_length_mismatch():
    with pytest.raises(DataError, match="self_generation_share: power_purchased_w has 1 samples"):
        self_generation_share_pct([1.0, 2.0], [1.0])


def test_one_mwh_purchased_is_122_9_kgce():
    # GB/T 2589 calorific equivalent: 1000 kWh * 0.1229 kgce/kWh = 122.9 kgce.
    assert ELECTRICITY_KGCE_PER_KWH == 0.1229
    assert_allclose(comprehensive_energy_kgce(3600.0, power_purchased_w=[1e6]), 122.9, rtol=RTOL)


def test_comprehensive_energy_all_carriers_hand_computed():
    # One 1-h step:
    #   electricity bought 1 MWh             -> +122.9 kgce
    #   electricity exported 0.5 MWh         ->  -61.45 kgce
    #   natural gas 1 Nm3/s * 3600 s * 36 MJ/Nm3 = 1.296e11 J / 2.93076e7 J/kgce
    #                                        -> 4422.0611718... kgce
    #   steam 2 kg/s * 3600 s * 2.8 MJ/kg = 2.016e10 J / 2.93076e7 -> 687.8761822... kgce
    parts = comprehensive_energy_breakdown_kgce(
        3600.0,
        power_purchased_w=[1e6],
        power_exported_w=[0.5e6],
        fuel_flows_nm3_s={"ng": [1.0]},
        fuel_lhv_j_nm3={"ng": 36e6},
        steam_flows_kg_s={"mp_steam": [2.0]},
        steam_enthalpy_j_kg={"mp_steam": 2.8e6},
    )
    assert_allclose(parts["electricity"], 122.9, rtol=RTOL)
    assert_allclose(parts["electricity_export"], -61.45, rtol=RTOL)
    assert_allclose(parts["fuel:ng"], 4422.0611718462, rtol=RTOL)
    assert_allclose(parts["steam:mp_steam"], 687.8761822872, rtol=RTOL)
    total = comprehensive_energy_kgce(
        3600.0,
        power_purchased_w=[1e6],
        power_exported_w=[0.5e6],
        fuel_flows_nm3_s={"ng": [1.0]},
        fuel_lhv_j_nm3={"ng": 36e6},
        steam_flows_kg_s={"mp_steam": [2.0]},
        steam_enthalpy_j_kg={"mp_steam": 2.8e6},
    )
    assert_allclose(total, 122.9 - 61.45 + 4422.0611718462 + 687.8761822872, rtol=RTOL)


def test_comprehensive_energy_equivalent_value_coefficient():
    # A plant reporting on the equivalent-value basis (e.g. 0.30 kgce/kWh):
    # 2 MWh * 0.30 = 600 kgce.
    value = comprehensive_energy_kgce(
        3600.0, power_purchased_w=[2e6], electricity_kgce_per_kwh=0.30
    )
    assert_allclose(value, 600.0, rtol=RTOL)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({}, "give at least one energy carrier"),
        (
            {"fuel_flows_nm3_s": {"bfg": [1.0]}, "fuel_lhv_j_nm3": {"bfg": -3.2e6}},
            "fuel_lhv_j_nm3['bfg'] must be a finite positive number",
        ),
        ({"fuel_flows_nm3_s": {"bfg": [1.0]}}, "fuel_lhv_j_nm3 has no entry for 'bfg'"),
        (
            {"power_purchased_w": [1.0, 1.0], "fuel_flows_nm3_s": {"bfg": [1.0]},
             "fuel_lhv_j_nm3": {"bfg": 3.2e6}},
            "fuel_flows_nm3_s['bfg'] has 1 samples but power_purchased_w has 2",
        ),
        (
            {"power_purchased_w": [1.0], "electricity_kgce_per_kwh": 0.0},
            "electricity_kgce_per_kwh must be a finite positive number",
        ),
    ],
)  # fmt: skip
def test_comprehensive_energy_rejects_bad_input(kwargs, fragment):
    with pytest.raises(DataError, match="comprehensive_energy: ") as info:
        comprehensive_energy_kgce(3600.0, **kwargs)
    assert fragment in str(info.value)


def test_energy_intensity_per_tonne():
    # 122 900 kgce for 1000 t of steel = 122.9 kgce/t.
    assert_allclose(energy_intensity_kgce_per_t(122_900.0, 1000.0), 122.9, rtol=RTOL)
    assert math.isnan(energy_intensity_kgce_per_t(math.nan, 1000.0))


@pytest.mark.parametrize("output_t", [0.0, -5.0, math.inf, math.nan])
def test_energy_intensity_rejects_bad_output(output_t):
    with pytest.raises(DataError, match="energy_intensity: output_t must be a finite positive"):
        energy_intensity_kgce_per_t(100.0, output_t)


def test_total_mass_t():
    # 5 Mt/yr works: about 158.4 kg/s of steel; here 250 kg/s (900 t/h) for
    # two 15-min steps = 250 * 1800 kg = 450 t; the NaN step is omitted.
    assert_allclose(total_mass_t([250.0, np.nan, 250.0], 900.0), 450.0, rtol=RTOL)
