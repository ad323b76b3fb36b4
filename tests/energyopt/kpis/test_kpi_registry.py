"""The KPI registry: every guide section 5 KPI, bilingual names, units, directions."""

from __future__ import annotations

import pytest

from energyopt.errors import DataError
from energyopt.kpis import KPIS, Direction, kpi_info

# Guide section 5, in order, with the unit it states.
GUIDE_KPIS = {
    "energy_cost": "currency",
    "purchased_electricity": "MWh",
    "self_generation_share": "%",
    "comprehensive_energy": "kgce",
    "energy_intensity": "kgce/t",
    "flared_gas": "Nm3",
    "flaring_rate": "%",
    "holder_time_outside_band": "min",
    "holder_time_outside_hard": "min",
    "stability_rate": "%",
    "constraint_violation": "h",
    "mv_utilisation": "%",
    "manual_interventions": "1/h",
    "solve_time_median": "s",
    "solve_time_p95": "s",
    "compute_time_ratio": "1",
    # Beyond section 5: the replay's DCS holder protection (energyopt.replay.kpispec).
    "holder_protection_time": "min",
}

HIGHER_IS_BETTER = {"self_generation_share", "stability_rate", "mv_utilisation"}


def test_registry_holds_every_guide_kpi_in_order_with_its_unit():
    assert list(KPIS) == list(GUIDE_KPIS)
    assert {key: info.unit for key, info in KPIS.items()} == GUIDE_KPIS


def test_directions():
    for key, info in KPIS.items():
        expected = (
            Direction.HIGHER_IS_BETTER if key in HIGHER_IS_BETTER else Direction.LOWER_IS_BETTER
        )
        assert info.direction is expected, key


def test_chinese_names_are_the_plant_terms():
    assert KPIS["comprehensive_energy"].name_zh == "综合能耗"
    assert KPIS["stability_rate"].name_zh == "稳定率"
    assert KPIS["flaring_rate"].name_zh == "放散率"
    assert "吨钢综合能耗" in KPIS["energy_intensity"].description
    for info in KPIS.values():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in info.name_zh), info.key
        assert info.name_en
        assert info.description.endswith(".")
        assert info.key == info.key.lower()


def test_name_by_language():
    info = kpi_info("flaring_rate")
    assert info.name("zh_CN") == "放散率"
    assert info.name("en") == "Flaring rate"
    assert info.name("de") == "Flaring rate"


def test_registry_is_read_only():
    with pytest.raises(TypeError):
        KPIS["x"] = KPIS["energy_cost"]  # type: ignore[index]


def test_unknown_key_suggests_the_closest():
    with pytest.raises(DataError, match="unknown KPI 'energy_costs'; did you mean 'energy_cost'"):
        kpi_info("energy_costs")
    with pytest.raises(DataError, match=r"unknown KPI 'zzz'$"):
        kpi_info("zzz")
