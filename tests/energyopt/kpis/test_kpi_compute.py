"""compute_kpis: the whole KPI set of one run on a tiny hand-computed series."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.errors import DataError
from energyopt.kpis import KPIS, KpiInputs, KpiReport, compute_kpis

# Short sums and ratios of exactly known numbers: 1e-12 relative covers roundings.
RTOL = 1e-12

NAN = math.nan


def _inputs() -> KpiInputs:
    # Four 15-min steps (1 h in all).
    return KpiInputs(
        step_s=900.0,
        power_purchased_w=[4e6, 8e6, 2e6, NAN],
        price_per_kwh=[0.3, 1.1, 0.65, 0.65],
        power_generated_w=[6e6, 2e6, 8e6, 4e6],
        fuel_flows_nm3_s={"ng": [1.0, 1.0, 1.0, 1.0]},
        fuel_prices_per_nm3={"ng": 3.0},
        fuel_lhv_j_nm3={"ng": 36e6},
        output_t=100.0,
        gas_made_nm3_s={"bfg": [100.0, 100.0, 100.0, 100.0], "ldg": [0.0, 50.0, 50.0, 0.0]},
        gas_flared_nm3_s={"bfg": [1.0, 2.0, NAN, 3.0], "ldg": [0.0, 0.0, 5.0, 0.0]},
        holder_levels={"bfg": [0.25, 0.5, 0.5, NAN]},
        holder_normal={"bfg": (0.3, 0.7)},
        holder_hard={"bfg": (0.1, 0.9)},
        cv_values={"bfg_level": [0.25, 0.5, 0.5, NAN], "lhv": [7.5e6, 7.2e6, 7.5e6, 8.2e6]},
        cv_bands={"bfg_level": (0.3, 0.7), "lhv": (7.3e6, 7.7e6)},
        cv_hard={"bfg_level": (0.1, 0.9), "lhv": (7.0e6, 8.0e6)},
        mv_values={"b1_bfg": [0.0, 50.0, 100.0, 60.0], "b1_cog": [10.0, 10.0, 10.0, 10.0]},
        mv_limits={"b1_bfg": (0.0, 100.0), "b1_cog": (0.0, 20.0)},
        intervention_flags=np.array([[False, True, False, False], [False, False, False, True]]),
        solve_times_s=[0.3, 0.1, 1.0, 0.2, 0.4],
        control_interval_s=60.0,
    )


def test_every_registry_kpi_is_computed_in_registry_order():
    results = compute_kpis(_inputs())
    # holder_protection_time is counted by the replay's protection, not from KpiInputs.
    assert list(results) == [key for key in KPIS if key != "holder_protection_time"]


def test_energy_kpis_hand_computed():
    r = compute_kpis(_inputs())
    # Electricity 1000*0.3 + 2000*1.1 + 500*0.65 = 2825 (step 4 missing);
    # gas 4 * 900 Nm3 * 3.0 = 10800; total 13625.
    assert_allclose(r["energy_cost"].value, 13625.0, rtol=RTOL)
    assert r["energy_cost"].detail == {"electricity": 2825.0, "fuel:ng": 10800.0}
    assert (r["energy_cost"].n_samples, r["energy_cost"].n_missing) == (4, 1)
    # (4 + 8 + 2) MW * 0.25 h = 3.5 MWh.
    assert_allclose(r["purchased_electricity"].value, 3.5, rtol=RTOL)
    # Steps 1-3: own 16 MW, bought 14 MW -> 16 / 30.
    assert_allclose(r["self_generation_share"].value, 100.0 * 16.0 / 30.0, rtol=RTOL)
    # 3500 kWh * 0.1229 = 430.15 kgce; gas 3600 Nm3 * 36 MJ / 29.3076 MJ = 4422.0611718462.
    assert_allclose(r["comprehensive_energy"].value, 430.15 + 4422.0611718462, rtol=RTOL)
    assert_allclose(r["energy_intensity"].value, (430.15 + 4422.0611718462) / 100.0, rtol=RTOL)


def test_gas_kpis_hand_computed():
    r = compute_kpis(_inputs())
    # BFG (1 + 2 + 3) * 900 = 5400 Nm3, LDG 5 * 900 = 4500 Nm3.
    assert_allclose(r["flared_gas"].value, 9900.0, rtol=RTOL)
    assert r["flared_gas"].n_missing == 1
    # Per gas: BFG 6 / 300 = 2 %, LDG 5 / 100 = 5 %.  Overall per-step totals
    # flared [1, 2, NaN, 3], made [100, 150, 150, 100]: steps 1, 2, 4 -> 6 / 350.
    assert_allclose(r["flaring_rate"].value, 100.0 * 6.0 / 350.0, rtol=RTOL)
    assert_allclose(list(r["flaring_rate"].detail.values()), [2.0, 5.0], rtol=RTOL)
    # Holder 0.25 below 0.3 for one 15-min step; never outside 0.1-0.9.
    assert r["holder_time_outside_band"].value == 15.0
    assert r["holder_time_outside_hard"].value == 0.0


def test_control_kpis_hand_computed():
    r = compute_kpis(_inputs())
    # Steps 1-3 (level missing in step 4): step 1 level out, step 2 LHV out,
    # step 3 both in -> 1 / 3.  Per variable: level 2/3, LHV 2/4.
    assert_allclose(r["stability_rate"].value, 100.0 / 3.0, rtol=RTOL)
    assert r["stability_rate"].n_missing == 1
    assert_allclose(r["stability_rate"].detail["lhv"], 50.0, rtol=RTOL)
    # LHV 8.2 MJ above 8.0 for 0.25 h: 0.2e6 * 0.25 = 5e4 (J/Nm3) h, divided by
    # the hard-limit width 1e6 -> 0.05 h; the level never violates.
    assert_allclose(r["constraint_violation"].value, 0.05, rtol=RTOL)
    assert_allclose(r["constraint_violation"].detail["lhv"], 5e4, rtol=RTOL)
    # b1_bfg free at 50 and 60 of 4 steps = 50 %, b1_cog always free = 100 %: mean 75 %.
    assert_allclose(r["mv_utilisation"].value, 75.0, rtol=RTOL)
    # Two interventions in 4 * 900 s = 1 h.
    assert_allclose(r["manual_interventions"].value, 2.0, rtol=RTOL)
    assert_allclose(r["solve_time_median"].value, 0.3, rtol=RTOL)
    assert_allclose(r["solve_time_p95"].value, 0.88, rtol=RTOL)
    assert_allclose(r["compute_time_ratio"].value, 0.4 / 60.0, rtol=RTOL)


def test_only_kpis_with_inputs_are_computed():
    results = compute_kpis(KpiInputs(step_s=900.0, power_purchased_w=[1e6, 1e6]))
    assert list(results) == ["purchased_electricity", "comprehensive_energy"]
    assert compute_kpis(KpiInputs(step_s=60.0)) == {}


def test_results_feed_a_report():
    recorded = compute_kpis(_inputs())
    cheaper = dataclasses.replace(_inputs(), price_per_kwh=[0.3, 0.3, 0.3, 0.3])
    report = KpiReport.from_results({"recorded": recorded.values(), "mpc": compute_kpis(cheaper)})
    # Electricity at 0.3: 3500 kWh * 0.3 = 1050 instead of 2825: cost falls by 1775.
    assert_allclose(report.difference("mpc", "energy_cost").absolute, -1775.0, rtol=RTOL)
    assert report.difference("mpc", "energy_cost").improved is True


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"step_s": -900.0}, "kpi inputs: step_s must be a finite positive number"),
        (
            {"holder_levels": {"bfg": [0.5, 0.5, 0.5]}},
            "kpi inputs: holder_levels['bfg'] has 3 samples but power_purchased_w has 4",
        ),
        ({"gas_made_nm3_s": {"bfg": [1.0] * 4}}, "flaring_rate: gas_flared_nm3_s has 'ldg'"),
        ({"cv_hard": {"lhv": (7.0e6, None)}}, "give cv_scales['lhv']"),
        ({"cv_hard": {"nox": (0.0, 1.0)}}, "cv_hard names ['nox'] not in cv_values"),
        ({"cv_scales": {"lhv": 0.0}}, "cv_scales['lhv'] must be a finite positive number"),
        ({"mv_limits": {"b1_bfg": (0.0, 100.0)}}, "mv_limits has no entry for 'b1_cog'"),
        ({"control_interval_s": None}, "give control_interval_s with solve_times_s"),
        ({"intervention_flags": np.zeros((2, 0), dtype=bool)}, "intervention_flags is empty"),
        ({"holder_hard": {"cog": (0.1, 0.9)}}, "holder_hard has no entry for 'bfg'"),
        (
            {"intervention_flags": np.zeros(3, dtype=bool)},
            "intervention_flags has 3 steps but the series have 4",
        ),
    ],
)
def test_compute_kpis_rejects_bad_input(changes, fragment):
    with pytest.raises(DataError) as info:
        compute_kpis(dataclasses.replace(_inputs(), **changes))
    assert fragment in str(info.value)


def test_open_hard_limit_with_explicit_scale():
    # Lower limit only (7.0 MJ/Nm3): LHV never below it -> 0; scale given.
    inputs = dataclasses.replace(_inputs(), cv_hard={"lhv": (7.0e6, None)}, cv_scales={"lhv": 1e6})
    assert compute_kpis(inputs)["constraint_violation"].value == 0.0
