"""Stability rate of a replay: the key CVs are the controllers' band CVs.

The recorded demo operation's stability rate is recomputed here from the
cleaned historian tags in their own (engineering) unit and the bindings'
``normal`` bands as written in the project -- no unit conversion, no KPI
code -- and compared with the replay's KPI (which converts both to SI).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.demos import demo_project_file
from energyopt.plantbuild import build_plant
from energyopt.project import load_project, project_from_mapping
from energyopt.replay import compute_replay_kpis, kpi_spec, prepare_replay
from energyopt.replay.kpispec import key_cv_bindings
from energyopt.replay.run import recorded_series

DAY_MS = 86_400_000

#: Key CVs of the steelworks demo: holder levels, mixed-gas LHV, header pressures.
STEELWORKS_CVS = (
    "bfg_holder_level",
    "cog_holder_level",
    "ldg_holder_level",
    "mixed_gas_lhv",
    "hp_pressure",
    "mp_pressure",
    "lp_pressure",
)


def test_key_cvs_are_the_economic_mpcs_soft_bands() -> None:
    from energyopt.controlbuild import economic_settings

    project = load_project(demo_project_file("steelworks"))
    built = build_plant(project)
    names = key_cv_bindings(built)
    assert names == STEELWORKS_CVS
    # The same variables, in the same order, as the economic MPC's soft bands,
    # and with the same SI bands (both convert the same pint quantities: the
    # only difference allowed is one rounding).
    soft = economic_settings(project, built).soft_bands
    spec = kpi_spec(built)
    assert [built.bindings[n].name for n in names] == [b.variable for b in soft]
    for band in soft:
        assert_allclose(spec.cv_bands[band.variable], (band.low, band.high), rtol=1e-12)


def test_a_controlled_binding_on_an_input_is_not_a_key_cv() -> None:
    project = load_project(demo_project_file("steelworks"))
    # An input bound as "controlled" (a modelling slip) is not kept in a band by
    # any controller, so it cannot count in the stability rate.
    data = project.model_dump(mode="json", exclude_none=True)
    data["bindings"]["boiler_1_bfg"].update(role="controlled", normal=[0, 1000])
    data["bindings"]["boiler_1_bfg"].pop("limits", None)
    data["bindings"]["boiler_1_bfg"].pop("rate_limit_per_min", None)
    changed = project_from_mapping(data)
    built = build_plant(changed)
    assert "boiler_1_bfg" not in key_cv_bindings(built)
    assert "boiler_1.fuel_0_m3_s" not in kpi_spec(built).cv_bands


@pytest.fixture(scope="module")
def recorded_day(steelworks_demo: tuple[Path, Path]):
    """The demo's fourth day prepared for a replay (the record, the case)."""
    from energyopt.data import HistorianReader

    project_path, history = steelworks_demo
    project = load_project(project_path)
    with HistorianReader(history) as reader:
        first, _ = reader.time_span_ms
    start = int(first) + 3 * DAY_MS
    return project, prepare_replay(project, history, start_ms=start, end_ms=start + DAY_MS)


def test_recorded_stability_rate_from_the_tags_and_bands(recorded_day) -> None:
    project, prepared = recorded_day
    case = prepared.case
    built = case.built
    # Independent: tag values in the tag's unit against the band in that unit.
    inside_all = np.ones(case.n_steps, dtype=bool)
    valid_all = np.ones(case.n_steps, dtype=bool)
    expected: dict[str, float] = {}
    for name in STEELWORKS_CVS:
        binding = project.bindings[name]
        x = case.tags[binding.tag]
        low, high = binding.normal
        valid = np.isfinite(x)
        inside = valid & (x >= low) & (x <= high)
        expected[built.bindings[name].name] = 100.0 * inside.sum() / valid.sum()
        inside_all &= inside
        valid_all &= valid
    overall = 100.0 * inside_all.sum() / valid_all.sum()

    spec = kpi_spec(built)
    kpis = compute_replay_kpis(
        spec, recorded_series(case).get, case.step_s, case.price_per_j * 3.6e6
    )
    rate = kpis["stability_rate"]
    # Counts of the same samples: equal up to float rounding of the ratio. A
    # sample exactly on a band edge could flip by the conversion's rounding;
    # the demo's noisy tags never sit on an edge to 1e-12.
    assert_allclose(rate.value, overall, rtol=1e-12)
    assert set(rate.detail) == set(expected)
    for variable, pct in expected.items():
        assert_allclose(rate.detail[variable], pct, rtol=1e-12, err_msg=variable)
    # What the demo's record is: the header pressures and the mixed gas's LHV
    # stay in their bands (the DCS loops of the truth hold them); the BFG
    # holder runs above its 70 % band edge most of the time (the works'
    # surplus BFG), so the overall rate is low -- a property of the record,
    # not of the KPI.
    for variable in ("hp_header.pressure_pa", "mp_header.pressure_pa", "lp_header.pressure_pa"):
        assert rate.detail[variable] > 95.0, variable
    assert rate.detail["bfg_holder.level_fraction"] < 50.0
    assert 0.0 <= rate.value <= rate.detail["bfg_holder.level_fraction"]
