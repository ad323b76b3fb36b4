"""KpiResult serialisation and the side-by-side KpiReport with differences."""

from __future__ import annotations

import json
import math

import pytest
from numpy.testing import assert_allclose

from energyopt.errors import DataError
from energyopt.kpis import KpiReport, KpiResult

# Differences and ratios of a few exactly representable numbers.
RTOL = 1e-12


def test_result_to_dict_is_strict_json_with_nan_as_null():
    result = KpiResult(
        "flaring_rate", math.nan, n_samples=96, n_missing=96, detail={"bfg": math.nan, "cog": 1.5}
    )
    data = result.to_dict()
    text = json.dumps(data, allow_nan=False, ensure_ascii=False)
    assert data["value"] is None
    assert data["detail"] == {"bfg": None, "cog": 1.5}
    assert data["name_zh"] == "放散率"
    assert data["unit"] == "%"
    assert data["direction"] == "lower_is_better"
    back = KpiResult.from_dict(json.loads(text))
    assert back.key == "flaring_rate"
    assert math.isnan(back.value)
    assert math.isnan(back.detail["bfg"])
    assert back.detail["cog"] == 1.5
    assert (back.n_samples, back.n_missing) == (96, 96)


def test_result_round_trip_of_a_number():
    result = KpiResult("energy_cost", 12345.5, 4, 1, {"electricity": 12000.0}, note="x")
    assert KpiResult.from_dict(result.to_dict()) == result


def test_result_is_immutable():
    result = KpiResult("energy_cost", 1.0, detail={"a": 1.0})
    with pytest.raises(TypeError):
        result.detail["a"] = 2.0  # type: ignore[index]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"value": 1.0}, "KPI result needs a string 'key'"),
        ({"key": "no_such_kpi", "value": 1.0}, "unknown KPI 'no_such_kpi'"),
        ({"key": "energy_cost", "value": "12"}, "energy_cost: 'value' must be a number or null"),
        ({"key": "energy_cost", "value": True}, "'value' must be a number or null"),
        ({"key": "energy_cost", "value": 1.0, "n_samples": 1.5}, "must be integers"),
        ({"key": "energy_cost", "value": 1.0, "detail": [1]}, "'detail' must be a mapping"),
        ({"key": "energy_cost", "value": 1.0, "n_samples": -1}, "must be non-negative"),
    ],
)
def test_result_from_dict_rejects_bad_data(data, fragment):
    with pytest.raises(DataError) as info:
        KpiResult.from_dict(data)
    assert fragment in str(info.value)


def _report() -> KpiReport:
    return KpiReport.from_results(
        {
            "recorded": [
                KpiResult("energy_cost", 1000.0),
                KpiResult("stability_rate", 90.0),
                KpiResult("flaring_rate", 2.0),
                KpiResult("flared_gas", 0.0),
            ],
            "mpc": {
                "energy_cost": KpiResult("energy_cost", 900.0),
                "stability_rate": KpiResult("stability_rate", 95.0),
                "flaring_rate": KpiResult("flaring_rate", 3.0),
                "flared_gas": KpiResult("flared_gas", 10.0),
                "solve_time_p95": KpiResult("solve_time_p95", 0.2),
            },
        },
        reference="recorded",
    )


def test_report_differences_and_direction():
    report = _report()
    assert report.run_names == ("recorded", "mpc")
    # Registry order, union of the runs' KPIs.
    assert report.keys == (
        "energy_cost", "flared_gas", "flaring_rate", "stability_rate", "solve_time_p95",
    )  # fmt: skip
    # Cost 900 - 1000 = -100, -100 / 1000 = -10 %, lower is better: improved.
    cost = report.difference("mpc", "energy_cost")
    assert_allclose([cost.absolute, cost.relative_pct], [-100.0, -10.0], rtol=RTOL)
    assert cost.improved is True
    # Stability 95 - 90 = +5, +5.56 %, higher is better: improved.
    stability = report.difference("mpc", "stability_rate")
    assert_allclose(stability.relative_pct, 100.0 * 5.0 / 90.0, rtol=RTOL)
    assert stability.improved is True
    # Flaring 2 -> 3 %: worse.
    assert report.difference("mpc", "flaring_rate").improved is False
    # Reference 0: relative difference undefined, absolute still known.
    flared = report.difference("mpc", "flared_gas")
    assert flared.absolute == 10.0
    assert math.isnan(flared.relative_pct)
    # KPI absent from the reference: unknown.
    solve = report.difference("mpc", "solve_time_p95")
    assert math.isnan(solve.absolute)
    assert solve.improved is None
    # The reference against itself: no change.
    assert report.difference("recorded", "energy_cost").improved is None


def test_report_to_dict_is_strict_json():
    data = _report().to_dict()
    json.dumps(data, allow_nan=False, ensure_ascii=False)
    assert data["reference"] == "recorded"
    assert set(data["differences"]) == {"mpc"}
    assert data["differences"]["mpc"]["energy_cost"] == {
        "absolute": -100.0,
        "relative_pct": -10.0,
        "improved": True,
    }
    assert data["runs"]["recorded"]["energy_cost"]["value"] == 1000.0


def test_report_text_table_in_both_languages():
    report = _report()
    english = report.to_text("en")
    assert "Energy cost" in english
    assert "(-10.0 %)" in english
    chinese = report.to_text("zh")
    lines = chinese.splitlines()
    assert lines[0].startswith("指标")
    assert any(line.startswith("能源成本") for line in lines)
    assert "放散率" in chinese


def test_report_rejects_bad_construction():
    with pytest.raises(DataError, match="give at least one run"):
        KpiReport.from_results({})
    with pytest.raises(DataError, match="reference run 'baseline' is not among the runs"):
        KpiReport.from_results({"mpc": [KpiResult("energy_cost", 1.0)]}, reference="baseline")
    with pytest.raises(DataError, match="run 'mpc' has 'energy_cost' twice"):
        KpiReport.from_results(
            {"mpc": [KpiResult("energy_cost", 1.0), KpiResult("energy_cost", 2.0)]}
        )
    with pytest.raises(DataError, match="files 'energy_cost' under 'flared_gas'"):
        KpiReport(runs={"mpc": {"flared_gas": KpiResult("energy_cost", 1.0)}}, reference="mpc")
    with pytest.raises(DataError, match="no run 'x'"):
        _report().value("x", "energy_cost")
    with pytest.raises(DataError, match="unknown KPI"):
        _report().value("mpc", "nope")
