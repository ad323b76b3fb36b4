"""Tag bindings: bands, roles, variable paths, and the check against historian tags."""

from __future__ import annotations

import numpy as np
import pytest

from energyopt.data.format import TagInfo
from energyopt.errors import ProjectBindingError, ProjectError
from energyopt.project import check_bindings, load_project


def problems_of(path) -> list[str]:
    with pytest.raises(ProjectError) as exc:
        load_project(path)
    return [line.removeprefix(f"{path}: ") for line in str(exc.value).splitlines()]


def test_band_with_low_above_high(doc, write_project):
    doc["bindings"]["hp_pressure"]["hard"] = [10.3, 9.3]
    doc["bindings"]["boiler_1_steam"]["limits"] = [220, 220]
    assert problems_of(write_project(doc)) == [
        "bindings.boiler_1_steam.limits: low must be below high, got [220, 220]",
        "bindings.hp_pressure.hard: low must be below high, got [10.3, 9.3]",
    ]


def test_band_shape(doc, write_project):
    doc["bindings"]["hp_pressure"]["normal"] = [9.6, 9.8, 10.0]
    doc["bindings"]["hp_pressure"]["hard"] = 10
    doc["bindings"]["boiler_1_steam"]["range"] = [0, "250"]
    assert problems_of(write_project(doc)) == [
        "bindings.boiler_1_steam.range[1]: expected a number, got string '250'",
        (
            "bindings.hp_pressure.normal: expected an array [low, high] of two numbers, got an "
            "array of 3 items"
        ),
        "bindings.hp_pressure.hard: expected an array [low, high] of two numbers, got an integer",
    ]


def test_normal_outside_hard_and_hard_outside_range(doc, write_project):
    doc["bindings"]["hp_pressure"]["normal"] = [9.0, 10.0]
    doc["bindings"]["hp_pressure"]["range"] = [0, 10]
    doc["bindings"]["boiler_1_steam"]["limits"] = [66, 260]
    assert problems_of(write_project(doc)) == [
        "bindings.boiler_1_steam.limits: [66, 260] must lie inside range [0, 250]",
        "bindings.hp_pressure.normal: [9, 10] must lie inside hard [9.3, 10.3]",
        "bindings.hp_pressure.hard: [9.3, 10.3] must lie inside range [0, 10]",
    ]


def test_band_keys_only_for_their_role(doc, write_project):
    doc["bindings"]["boiler_1_steam"]["normal"] = [100, 200]
    doc["bindings"]["hp_pressure"]["rate_limit_per_min"] = 0.1
    assert problems_of(write_project(doc)) == [
        "bindings.boiler_1_steam.normal: only for role 'controlled', not 'manipulated'",
        "bindings.hp_pressure.rate_limit_per_min: only for role 'manipulated', not 'controlled'",
    ]


def test_priority_needs_normal_band(doc, write_project):
    del doc["bindings"]["hp_pressure"]["normal"]
    assert problems_of(write_project(doc)) == [
        "bindings.hp_pressure.priority: ranks the normal band: give 'normal' too"
    ]


def test_variable_paths(doc, write_project):
    doc["bindings"]["boiler_1_steam"]["variable"] = "boiler1.flow_steam"
    doc["bindings"]["hp_pressure"]["variable"] = "hp_steam.presure"
    doc["bindings"]["extra"] = dict(doc["bindings"]["hp_pressure"], variable="x", tag="T2")
    lines = problems_of(write_project(doc))
    assert lines == [
        (
            "bindings.extra.variable: expected '<unit or node>.<variable>' such as "
            "'boiler_1.flow_steam', got 'x'"
        ),
    ]
    doc["bindings"]["extra"]["variable"] = "hp_steam.temperature"
    assert problems_of(write_project(doc)) == [
        (
            "bindings.boiler_1_steam.variable: no unit or media node 'boiler1' (did you mean "
            "'boiler_1'?)"
        ),
        (
            "bindings.hp_pressure.variable: 'presure' is not a variable of media node 'hp_steam' "
            "(did you mean 'pressure'?); node variables: demand, supply, pressure, temperature, lhv"
        ),
    ]


def test_unit_variables_checked_when_the_type_declares_them(doc, write_project, monkeypatch):
    from plant_models.units.boiler import BoilerParams

    monkeypatch.setattr(BoilerParams, "variables", ("flow_steam", "flow_fuel"), raising=False)
    assert load_project(write_project(doc)).bindings["boiler_1_steam"].variable == (
        "boiler_1.flow_steam"
    )
    doc["bindings"]["boiler_1_steam"]["variable"] = "boiler_1.flow_stem"
    assert problems_of(write_project(doc)) == [
        (
            "bindings.boiler_1_steam.variable: 'flow_stem' is not a variable of unit type 'boiler' "
            "(did you mean 'flow_steam'?); variables: flow_steam, flow_fuel"
        )
    ]


def test_each_tag_bound_once(doc, write_project):
    doc["bindings"]["again"] = dict(doc["bindings"]["hp_pressure"], variable="boiler_1.pressure")
    assert problems_of(write_project(doc)) == [
        "bindings.again.tag: tag 'STM.HP.PRESS' is already bound by 'hp_pressure'"
    ]


def test_unit_and_tag_name_checked(doc, write_project):
    doc["bindings"]["hp_pressure"]["unit"] = "MPaa"
    doc["bindings"]["boiler_1_steam"]["tag"] = "PP/B1"
    lines = problems_of(write_project(doc))
    assert lines[0].startswith("bindings.boiler_1_steam.tag: invalid tag name 'PP/B1'")
    assert lines[1].startswith("bindings.hp_pressure.unit: unknown unit 'MPaa'")
    assert len(lines) == 2


def test_controlled_without_band_and_mv_without_limits_warn(doc, write_project):
    for key in ("normal", "hard", "priority"):
        del doc["bindings"]["hp_pressure"][key]
    del doc["bindings"]["boiler_1_steam"]["limits"]
    project = load_project(write_project(doc))
    assert project.warnings == (
        "bindings.boiler_1_steam: manipulated variable without limits",
        "bindings.hp_pressure: controlled variable without normal or hard band",
    )
    assert project.bindings["hp_pressure"].priority_rank == 1


# ---------------------------------------------------------------- check_bindings


@pytest.fixture
def project(doc, write_project):
    return load_project(write_project(doc))


def test_check_bindings_all_present(project):
    tags = {
        "PP.B1.STEAM.FLOW": TagInfo("PP.B1.STEAM.FLOW", "t/h"),
        "STM.HP.PRESS": TagInfo("STM.HP.PRESS", "MPa"),
        "OTHER": TagInfo("OTHER", "MW"),
    }
    assert check_bindings(project, tags) == []


def test_check_bindings_convertible_unit_is_a_warning(project):
    tags = {
        "PP.B1.STEAM.FLOW": TagInfo("PP.B1.STEAM.FLOW", "kg/s"),
        "STM.HP.PRESS": TagInfo("STM.HP.PRESS", "MPa"),
    }
    assert check_bindings(project, tags) == [
        (
            f"{project.source}: bindings.boiler_1_steam: tag 'PP.B1.STEAM.FLOW' is recorded in "
            "'kg/s', converted to 't/h'"
        )
    ]


def test_check_bindings_lists_every_missing_tag_and_bad_unit(project):
    tags = {
        "PP.B1.STEAM.FLOW.PV": TagInfo("PP.B1.STEAM.FLOW.PV", "t/h"),
        "PP.B2.STEAM.FLOW": TagInfo("PP.B2.STEAM.FLOW", "t/h"),
        "STM.HP.PRESS": TagInfo("STM.HP.PRESS", "MW"),
    }
    with pytest.raises(ProjectBindingError) as exc:
        check_bindings(project, tags)
    assert str(exc.value).splitlines() == [
        (
            f"{project.source}: bindings.boiler_1_steam.tag: tag 'PP.B1.STEAM.FLOW' is not in the "
            "historian; did you mean 'PP.B2.STEAM.FLOW', 'PP.B1.STEAM.FLOW.PV'?"
        ),
        (
            f"{project.source}: bindings.hp_pressure.unit: 'MPa' is not compatible with 'MW', the "
            "unit of tag 'STM.HP.PRESS' in the historian"
        ),
    ]


def test_check_bindings_unknown_historian_unit(project):
    tags = {
        "PP.B1.STEAM.FLOW": TagInfo("PP.B1.STEAM.FLOW", "t/h"),
        "STM.HP.PRESS": TagInfo("STM.HP.PRESS", "bogus"),
    }
    with pytest.raises(ProjectBindingError, match=r"bindings.hp_pressure.unit: historian unknown"):
        check_bindings(project, tags)


def test_check_bindings_with_a_historian_reader(project, tmp_path):
    from energyopt.data.reader import HistorianReader
    from energyopt.data.writer import write_historian

    path = tmp_path / "history.h5"
    time_ms = np.arange(3, dtype=np.int64) * 60_000
    write_historian(
        path,
        time_ms,
        {"PP.B1.STEAM.FLOW": np.ones(3), "STM.HP.PRES": np.ones(3)},
        {"PP.B1.STEAM.FLOW": "t/h", "STM.HP.PRES": "MPa"},
    )
    with HistorianReader(path) as reader, pytest.raises(ProjectBindingError) as exc:
        check_bindings(project, reader)
    assert str(exc.value) == (
        f"{project.source}: bindings.hp_pressure.tag: tag 'STM.HP.PRESS' is not in "
        f"'{path}'; did you mean 'STM.HP.PRES'?"
    )
