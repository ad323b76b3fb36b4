"""Reading and writing project files: demos, round trip, file-level failures."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from numpy.testing import assert_allclose

from energyopt.errors import OutputError, ProjectError
from energyopt.project import Project, dumps_project, load_project, save_project
from plant_models.units.boiler import BoilerParams

DEMOS = ("steelworks.toml", "chemical.toml")


def demo_path(name: str) -> Path:
    return Path(str(resources.files("energyopt.demos") / name))


@pytest.mark.parametrize("name", DEMOS)
def test_demo_projects_load_without_warnings(name, checksum):
    path = demo_path(name)
    before = checksum(path)
    project = load_project(path)
    assert project.warnings == ()
    assert project.source == str(path)
    # Loading never touches the input file.
    assert checksum(path) == before


def test_steelworks_demo_content():
    project = load_project(demo_path("steelworks.toml"))
    assert project.project.timezone == "Asia/Shanghai"
    assert {n for n, u in project.units.items() if u.type == "boiler"} == {
        "boiler_1",
        "boiler_2",
        "boiler_3",
    }
    assert sum(u.type == "turbogenerator" for u in project.units.values()) == 2
    assert project.bindings["bfg_holder_level"].tag == "BFG.HOLDER.LEVEL"
    # 220 t/h = 220000 kg / 3600 s = 61.111 kg/s (hand computation); the only
    # error is the float division, so a relative 1e-12 is generous.
    assert_allclose(project.unit_params("boiler_1").capacity_steam_kg_s, 220000 / 3600, rtol=1e-12)
    # Guide section 4: BFG about 3.2 MJ/Nm3, COG 17.6, LDG 7.5, natural gas 36.
    lhv = {n: project.media[n].lhv_j_m3 for n in ("bfg", "cog", "ldg", "ng")}
    assert_allclose(list(lhv.values()), [3.2e6, 17.6e6, 7.5e6, 36e6], rtol=1e-12)


@pytest.mark.parametrize("name", DEMOS)
def test_round_trip_load_save_load_is_equal(name, tmp_path):
    original = load_project(demo_path(name))
    out = tmp_path / "copy.toml"
    save_project(original, out)
    again = load_project(out)
    assert again == original
    assert again.unit_params(next(iter(again.units))) == original.unit_params(
        next(iter(original.units))
    )
    # Saving the reloaded project gives the same text: the format is stable.
    assert dumps_project(again) == out.read_text(encoding="utf-8")


def test_saved_file_keeps_unit_strings_and_is_compact(doc, write_project, tmp_path):
    project = load_project(write_project(doc))
    out = tmp_path / "saved.toml"
    save_project(project, out)
    text = out.read_text(encoding="utf-8")
    assert 'capacity_steam_kg_s = "220 t/h"' in text
    assert "range = [0.0, 250.0]" in text
    assert 'fuel = ["bfg"]' in text


def test_save_refuses_to_overwrite_unless_asked(doc, write_project, tmp_path):
    project = load_project(write_project(doc))
    out = tmp_path / "existing.toml"
    out.write_text("# keep me\n", encoding="utf-8")
    with pytest.raises(OutputError, match="refusing to overwrite"):
        save_project(project, out)
    assert out.read_text(encoding="utf-8") == "# keep me\n"
    save_project(project, out, overwrite=True)
    assert load_project(out) == project


def test_unit_params_returns_the_validated_dataclass(doc, write_project):
    project = load_project(write_project(doc))
    params = project.unit_params("boiler_1")
    assert isinstance(params, BoilerParams)
    assert params.efficiency_nominal == 0.9
    # Parameters not given keep the dataclass defaults.
    assert params.min_load_fraction == BoilerParams().min_load_fraction


def test_unit_params_of_unknown_unit(doc, write_project):
    project = load_project(write_project(doc))
    with pytest.raises(ProjectError, match=r"no unit 'boiler_2' \(did you mean 'boiler_1'\?\)"):
        project.unit_params("boiler_2")


def test_model_validate_from_python_mapping(doc):
    project = Project.model_validate(doc)
    assert project.source is None
    assert project.units["boiler_1"].nodes("fuel") == ("bfg",)
    assert project.units["boiler_1"].nodes("steam_out") == ("hp_steam",)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(ProjectError) as exc:
        load_project(path)
    assert str(exc.value) == f"{path}: project file not found"


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(ProjectError, match="is a folder, not a project file"):
        load_project(tmp_path)


def test_malformed_toml_names_line_and_column(tmp_path):
    path = tmp_path / "plant.toml"
    path.write_text('[project]\nname = "x"\ntimezone "UTC"\n', encoding="utf-8")
    with pytest.raises(ProjectError) as exc:
        load_project(path)
    message = str(exc.value)
    assert message.startswith(f"{path}: line 3, column 10: invalid TOML: ")
    assert "Expected '=' after a key" in message


def test_not_utf8(tmp_path):
    path = tmp_path / "plant.toml"
    path.write_bytes(b'[project]\nname = "\xff"\n')
    with pytest.raises(ProjectError, match=r"line 2: not UTF-8 text \(byte 18\)"):
        load_project(path)


def test_newer_format_version_is_refused(doc, write_project):
    doc["project"]["format_version"] = 2
    with pytest.raises(ProjectError, match="written by a newer energyopt; this one reads up to 1"):
        load_project(write_project(doc))


def test_warnings_for_unsupplied_node(doc, write_project):
    del doc["tariffs"]["prices"]
    project = load_project(write_project(doc))
    assert project.warnings == (
        (
            "media.bfg: units draw from this node but none supplies it and it has no purchase "
            "price in [tariffs.prices]"
        ),
    )


def test_data_quality_switches_round_trip(doc, write_project, tmp_path):
    # Every check can be switched off in TOML; before, "off" was None, which
    # TOML cannot hold, so a saved project came back with the checks on.
    doc["data_quality"] = {
        "gap": False,
        "frozen": False,
        "spike": False,
        "frozen_min_duration_s": "30 min",
        "bad_quality_codes": [1, 3],
        "kinds": {"setpoint": {"frozen": True, "on_frozen": "keep"}, "flow": {}},
    }
    project = load_project(write_project(doc))
    policy = project.data_quality
    assert (policy.gap, policy.frozen, policy.spike) == (False, False, False)
    assert policy.frozen_min_duration_s == 1800.0  # 30 min in seconds, exactly
    assert policy.for_kind("setpoint").frozen is True
    assert list(policy.kinds) == ["setpoint"]  # the empty table means nothing
    out = tmp_path / "saved.toml"
    save_project(project, out)
    text = out.read_text(encoding="utf-8")
    assert "[data_quality.kinds.setpoint]" in text
    assert "frozen = false" in text
    again = load_project(out)
    assert again == project
    assert again.data_quality == policy


def test_default_data_quality_round_trip(doc, write_project, tmp_path):
    project = load_project(write_project(doc))
    assert project.data_quality.max_gap_s is None  # automatic threshold: the key is omitted
    out = tmp_path / "saved.toml"
    save_project(project, out)
    assert "\nmax_gap_s" not in out.read_text(encoding="utf-8")
    assert load_project(out).data_quality == project.data_quality
