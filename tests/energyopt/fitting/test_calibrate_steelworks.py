"""Issue 3 acceptance: calibration recovers the steelworks truth perturbations from its history.

Criterion (used by every test here): the truth value lies within
``TRUTH_SE = 3`` reported standard errors of the estimate, and the project's
nominal value does not (``NOMINAL_SE = 3``), so the test proves that
calibration found the perturbation.  Why 3: the one-step equation
errors of a correctly structured model with white sensor noise are white, so
the estimate is close to Gaussian with the reported (Gauss-Newton) standard
error; 3 standard errors is a two-sided 99.7 % band, so the five estimates
below would all pass for about 99 % of seeds (the seed is fixed: the test is
deterministic), while a wrong standard error (too small by a factor of 2) or
a biased fit would show up.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from energyopt.data.reader import HistorianReader
from energyopt.demos.steelworks_truth import TRUTH_PERTURBATIONS
from energyopt.errors import ModelError, OutputError, ProjectBindingError
from energyopt.fitting import (
    UnitFitSpec,
    calibrate_units,
    calibrated_project_path,
    write_calibrated_project,
)
from energyopt.plantbuild import build_plant
from energyopt.project.loader import load_project
from plant_models.calibration import CalibrationSettings

TRUTH_SE = 3.0
NOMINAL_SE = 3.0
#: The turbines lag the Willans line by 20 s: RK4 needs sub-steps of one minute.
TURBINE_SETTINGS = CalibrationSettings(substeps=4)
SPECS = (
    UnitFitSpec("boiler_1", ("efficiency_nominal",)),
    UnitFitSpec("boiler_2", ("efficiency_nominal",)),
    UnitFitSpec("boiler_3", ("efficiency_nominal",)),
    UnitFitSpec("tg_1", ("specific_work_j_kg",), settings=TURBINE_SETTINGS),
    UnitFitSpec("tg_2", ("specific_work_j_kg",), settings=TURBINE_SETTINGS),
)


@pytest.fixture(scope="module")
def report(steelworks_demo: Path):
    project = load_project(steelworks_demo / "plant.toml")
    with HistorianReader(steelworks_demo / "history.h5") as reader:
        return calibrate_units(project, reader, SPECS)


def _truth(project_path: Path) -> dict[str, float]:
    """Truth values by ``<unit>.<parameter>``, computed independently of the fit."""
    built = build_plant(load_project(project_path))
    p = built.parameters()
    out = {}
    for item in TRUTH_PERTURBATIONS:
        out[item.parameter] = float(p[built.index("p", item.parameter)] * item.scale + item.shift)
    return out


def test_truth_within_standard_errors_and_nominal_outside(report, steelworks_demo):
    truth = _truth(steelworks_demo / "plant.toml")
    for spec in SPECS:
        cal = report.units[spec.unit]
        for row in cal.rows():
            key = f"{spec.unit}.{row['parameter']}"
            se = row["standard_error"]
            detail = f"{key}: estimate {row['value']:.6g} +- {se:.3g}, truth {truth[key]:.6g}"
            assert se > 0.0, detail
            assert abs(row["value"] - truth[key]) <= TRUTH_SE * se, detail
            assert abs(row["value"] - row["nominal"]) > NOMINAL_SE * se, detail


def test_hold_out_fit_improves_over_nominal(report):
    for unit, cal in report.units.items():
        nominal = cal.nominal_validation
        calibrated = cal.result.validation_metrics
        assert nominal is not None
        assert calibrated is not None
        # Free-run over the hold-out day: the calibrated model must beat the nominal one.
        assert np.all(calibrated.nrmse < nominal.nrmse), (
            f"{unit}: hold-out NRMSE calibrated {calibrated.nrmse} vs nominal {nominal.nrmse}"
        )
        assert cal.data.validation
        assert cal.data.train
    assert "boiler_1" in report.summary()


def test_records_never_span_a_gap(report):
    cal = report.units["boiler_1"]
    grid = cal.data.grid
    step_ms = round(grid.step_s * 1000)
    for rec in cal.data.train + cal.data.validation:
        i = int(np.searchsorted(grid.time_ms, grid.time_ms[0] + round(rec.t0_s * 1000)))
        assert np.all(grid.valid[i : i + rec.n_samples])
        assert grid.time_ms[i + rec.n_samples - 1] - grid.time_ms[i] == step_ms * (
            rec.n_samples - 1
        )
    assert not grid.valid.all()  # the demo history has gaps to cut at


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_write_calibrated_project(report, steelworks_demo, tmp_path):
    source = tmp_path / "plant.toml"
    source.write_bytes((steelworks_demo / "plant.toml").read_bytes())
    before = _sha(source)
    out = write_calibrated_project(source, report)
    assert out == calibrated_project_path(source) == tmp_path / "plant.calibrated.toml"
    assert _sha(source) == before
    calibrated = load_project(out)
    params = calibrated.unit_params("boiler_1")
    # Written as a float in SI and read back: exact round trip of the decimal text.
    np.testing.assert_allclose(
        params.efficiency_nominal, report.units["boiler_1"].values["efficiency_nominal"], rtol=1e-15
    )
    assert "s.e." in out.read_text(encoding="utf-8").splitlines()[1]
    with pytest.raises(OutputError, match="overwrite existing"):
        write_calibrated_project(source, report)
    with pytest.raises(OutputError, match="replace its input"):
        write_calibrated_project(source, report, source, overwrite=True)


def test_unidentifiable_parameter_is_named(steelworks_demo):
    project = load_project(steelworks_demo / "plant.toml")
    # The auxiliary power per kg of steam appears in no measured signal of the boiler.
    spec = UnitFitSpec("boiler_1", ("efficiency_nominal", "aux_energy_j_kg"))
    with (
        HistorianReader(steelworks_demo / "history.h5") as reader,
        pytest.raises(
            ModelError, match=r"units\.boiler_1: the data cannot identify .*aux_energy_j_kg"
        ),
    ):
        calibrate_units(project, reader, [spec])


def test_unknown_parameter(steelworks_demo):
    project = load_project(steelworks_demo / "plant.toml")
    with (
        HistorianReader(steelworks_demo / "history.h5") as reader,
        pytest.raises(ModelError, match="no parameter efficiency_peak"),
    ):
        calibrate_units(project, reader, [UnitFitSpec("boiler_1", ("efficiency_peak",))])


def test_missing_tag_is_a_binding_error(steelworks_demo, tmp_path):
    text = (steelworks_demo / "plant.toml").read_text(encoding="utf-8")
    renamed = tmp_path / "plant.toml"
    renamed.write_text(
        text.replace('"PP.B1.STEAM.FLOW"', '"PP.B1.STEAM.FLOW.PV"'), encoding="utf-8"
    )
    project = load_project(renamed)
    with (
        HistorianReader(steelworks_demo / "history.h5") as reader,
        pytest.raises(ProjectBindingError, match=r"'PP\.B1\.STEAM\.FLOW\.PV'.*did you mean"),
    ):
        calibrate_units(project, reader, [UnitFitSpec("boiler_1", ("efficiency_nominal",))])
