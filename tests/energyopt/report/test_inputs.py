"""Reading the report's input files: contracts checked, broken files named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from energyopt.errors import DataError
from energyopt.report.inputs import (
    fit_report_path,
    load_inputs,
    read_fit_report,
    read_kpi_document,
    read_shadow,
)


def test_fit_report_path_replaces_toml() -> None:
    assert fit_report_path("/p/plant.fitted.toml") == Path("/p/plant.fitted.fit.json")
    assert fit_report_path("/p/plant") == Path("/p/plant.fit.json")


def test_complete_folder(replay_template: Path) -> None:
    inputs = load_inputs(replay_template)
    assert [r.run for r in inputs.runs] == ["mpc", "baseline", "recorded"]
    assert inputs.primary is not None
    assert inputs.primary.path.name == "results.h5"
    assert inputs.kpis is not None
    assert inputs.kpis.report.reference == "recorded"
    assert inputs.kpis.report.value("mpc", "energy_cost") == 2_700_000.0
    assert inputs.project is not None
    assert inputs.currency == "CNY"
    assert inputs.fit_path == replay_template.parent / "plant.fit.json"
    assert inputs.fit is not None
    assert inputs.shadow is not None
    assert inputs.timezone == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "expected a JSON object"),
        ('{"format": "other", "version": 1}', "'format' must be 'energyopt-kpis'"),
        ('{"format": "energyopt-kpis", "version": 2}', "unsupported version 2"),
        ('{"format": "energyopt-kpis", "version": 1, "report": {}}', "'report' must be"),
        (
            (
                '{"format": "energyopt-kpis", "version": 1, "report": {"runs": {"mpc": '
                '{"energy_cost": {"key": "energy_cost", "value": "high"}}}}}'
            ),
            "'value' must be a number",
        ),
        (
            (
                '{"format": "energyopt-kpis", "version": 1, "report": {"runs": {"mpc": {}}, '
                '"reference": "recorded"}}'
            ),
            "reference run 'recorded' is not among the runs",
        ),
    ],
)
def test_broken_kpis_json(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "kpis.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message) as info:
        read_kpi_document(path)
    assert str(path) in str(info.value)


def test_broken_shadow_and_fit(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow.json"
    shadow.write_text(
        json.dumps({"format": "energyopt-shadow", "version": 1, "top_recommendations": [1]}),
        encoding="utf-8",
    )
    with pytest.raises(DataError, match=r"shadow\.json: 'top_recommendations' must be a list"):
        read_shadow(shadow)
    shadow.write_text(
        json.dumps({"format": "energyopt-shadow", "version": 1, "missed_by_cause": {"a": "x"}}),
        encoding="utf-8",
    )
    with pytest.raises(DataError, match="'missed_by_cause' must map causes to numbers"):
        read_shadow(shadow)
    fit = tmp_path / "plant.fit.json"
    fit.write_text(json.dumps({"format": "energyopt-fit", "version": 1, "units": [{}]}))
    with pytest.raises(DataError, match=r"plant\.fit\.json: 'units' must be a list of objects"):
        read_fit_report(fit)
    fit.write_text(
        json.dumps(
            {"format": "energyopt-fit", "version": 1, "units": [{"unit": "b1", "outputs": {}}]}
        )
    )
    with pytest.raises(DataError, match="unit 'b1': 'outputs' must be a list"):
        read_fit_report(fit)


def test_missing_folder_and_unreadable_project(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such folder"):
        load_inputs(tmp_path / "nope")
    (tmp_path / "kpis.json").write_text(
        json.dumps(
            {
                "format": "energyopt-kpis",
                "version": 1,
                "report": {"runs": {}},
                "source_project": str(tmp_path / "gone.toml"),
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(DataError, match="give at least one run"):
        load_inputs(tmp_path)


def test_broken_result_file_is_named(replay_dir: Path) -> None:
    broken = replay_dir / "compare_baseline.h5"
    broken.write_bytes(b"not an HDF5 file")
    with pytest.raises(DataError, match=r"compare_baseline\.h5"):
        load_inputs(replay_dir)
