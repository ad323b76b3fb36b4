"""``energyopt fit`` on the data-driven demo: identification of generic units, model files."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from energyopt.demos.datadriven_history import boiler_fuel_m3_s, write_datadriven_history
from energyopt.errors import OutputError
from energyopt.fitting import fit_project
from energyopt.project.datadriven import load_identified_unit, model_file_path
from energyopt.project.loader import load_project

#: Two days at one minute: the identify tests' history length order (3000 samples).
N_SAMPLES = 2 * 1440


def _datadriven_text() -> str:
    return resources.files("energyopt.demos").joinpath("datadriven.toml").read_text("utf-8")


@pytest.fixture(scope="module")
def datadriven_fit(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("datadriven")
    (folder / "plant.toml").write_text(_datadriven_text(), encoding="utf-8")
    write_datadriven_history(folder / "history.h5", N_SAMPLES, seed=0)
    return folder, fit_project(folder / "plant.toml", folder / "history.h5")


def test_identified_units_and_model_files(datadriven_fit):
    folder, result = datadriven_fit
    assert [(u.unit, u.kind) for u in result.report.units] == [
        ("reactor", "identified"),
        ("boiler", "identified"),
    ]
    models = folder / "plant.fitted.models"
    assert result.model_files == (models / "reactor.json", models / "boiler.json")
    assert not (folder / "plant.models").exists()  # the input project's model folder
    fitted = load_project(result.project_path)
    for name in ("reactor", "boiler"):
        assert model_file_path(fitted, name) == models / f"{name}.json"
        stored = load_identified_unit(fitted, name)
        assert result.identification is not None
        assert stored.to_dict() == result.identification.units[name].unit.to_dict()
        info = json.loads((models / f"{name}.json").read_text(encoding="utf-8"))
        assert info["identification"]["train"] == list(result.windows.train)
        assert info["identification"]["validate"] == list(result.windows.validate)
    # Identification changes no project value: the fitted project equals the input.
    assert fitted.model_dump() == load_project(folder / "plant.toml").model_dump()


def test_identified_boiler_follows_the_truth_curve(datadriven_fit):
    _, result = datadriven_fit
    unit = result.identification.units["boiler"].unit
    steam = np.linspace(unit.inputs[0].low, unit.inputs[0].high, 7)
    fuel = unit.model.predict(steam[:, np.newaxis]).ravel()
    # A quadratic fitted to a smooth rational curve under 0.5 % sensor noise:
    # within 1 % of the hidden truth across the steam range it was fitted on.
    np.testing.assert_allclose(fuel, boiler_fuel_m3_s(steam), rtol=1e-2)


def test_report_of_identified_units(datadriven_fit):
    _, result = datadriven_fit
    boiler = result.report.unit("boiler")
    assert boiler.parameters == ()
    assert [(o.name, o.unit) for o in boiler.outputs] == [("fuel", "m**3/s")]
    # The quadratic map explains almost all of the fuel variation on the hold-out day.
    assert boiler.outputs[0].r2 > 0.99
    reactor = result.report.unit("reactor")
    assert [o.name for o in reactor.outputs] == ["temperature", "quality", "product"]
    # A third-order linear model of a nonlinear fourth-order reactor: good, not perfect.
    assert all(o.r2 > 0.8 for o in reactor.outputs), reactor.outputs
    for entry in (boiler, reactor):
        assert entry.samples_train > entry.samples_validate > 0
        for out in entry.outputs:
            series = entry.series[out.name]
            err = series.predicted - series.measured
            # Same samples as the metrics: equal to round-off.
            np.testing.assert_allclose(np.mean(err), out.bias, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(
                np.sqrt(np.mean(err**2)) / np.std(series.measured), out.nrmse, rtol=1e-9
            )


def test_model_file_named_in_the_input_gets_a_new_one(tmp_path: Path):
    """A project naming its model file must not have that file replaced by the fit."""
    text = _datadriven_text().replace(
        '[units.boiler.model]\nkind = "polynomial"',
        '[units.boiler.model]\nfile = "boiler_model.json"\nkind = "polynomial"',
    )
    assert "boiler_model.json" in text
    (tmp_path / "plant.toml").write_text(text, encoding="utf-8")
    write_datadriven_history(tmp_path / "history.h5", 600, seed=1)
    result = fit_project(tmp_path / "plant.toml", tmp_path / "history.h5")
    fitted = load_project(result.project_path)
    assert model_file_path(fitted, "boiler") == tmp_path / "plant.fitted.models" / "boiler.json"
    assert not (tmp_path / "boiler_model.json").exists()
    load_identified_unit(fitted, "boiler")
    # A second fit refuses, before any work, to replace the model files it wrote.
    result.report_path.unlink()
    result.project_path.unlink()
    with pytest.raises(
        OutputError, match=r"refusing to overwrite .*plant\.fitted\.models/reactor\.json"
    ):
        fit_project(tmp_path / "plant.toml", tmp_path / "history.h5")
