"""Declaration of a data-driven unit as a project file would state it."""

from __future__ import annotations

import pytest

from plant_models.datadriven import MODEL_TYPES, DataDrivenSpec, SpecError

BASE = {
    "model": "arx",
    "inputs": [{"name": "fan_speed", "unit": "1/s", "description": "Fan speed"}],
    "outputs": [{"name": "power_w", "unit": "W"}],
}


def test_from_mapping_and_back() -> None:
    spec = DataDrivenSpec.from_mapping({**BASE, "na": 3, "nb": [2], "nk": 0, "hidden": [8, 4]})
    assert spec.model_type == "arx"
    assert spec.inputs[0].name == "fan_speed"
    assert spec.inputs[0].description == "Fan speed"
    assert spec.nb == (2,)
    assert spec.hidden == (8, 4)
    assert spec.is_dynamic
    again = DataDrivenSpec.from_mapping(spec.to_mapping())
    assert again == spec


def test_hidden_may_be_one_integer() -> None:
    assert DataDrivenSpec.from_mapping({**BASE, "model": "mlp", "hidden": 12}).hidden == (12,)


def test_model_types_are_complete() -> None:
    for kind in MODEL_TYPES:
        assert DataDrivenSpec.from_mapping({**BASE, "model": kind}).model_type == kind


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"model": "neural_ode"}, "model: unknown type 'neural_ode'"),
        ({"colour": "red"}, "unknown key\\(s\\) colour"),
        ({"outputs": []}, "outputs: a data-driven unit needs at least one output"),
        ({"inputs": [{"name": "x"}]}, "inputs\\[0\\]: expected a table with 'name' and 'unit'"),
        ({"inputs": [{"name": "x", "unit": "m", "tag": "FIC1"}]}, "unknown key\\(s\\) \\['tag'\\]"),
        ({"inputs": [{"name": "bad name", "unit": "m"}]}, "is not an identifier"),
        ({"outputs": [{"name": "fan_speed", "unit": "W"}]}, "repeated: fan_speed"),
        ({"nb": [1, 2]}, "nb: needs one entry per model input \\(1\\), got 2"),
        ({"nk": -1}, "nk: every entry must be an integer >= 0"),
        ({"na": 1.5}, "na: must be an integer >= 0"),
        ({"order": 0}, "order: must be a positive integer"),
        ({"hidden": [1, 2, 3]}, "hidden: one or two layer sizes"),
        ({"penalty": "aic"}, "penalty: 'gcv', 'kfold' or a number"),
        ({"width_factor": 0}, "width_factor: must be positive"),
    ],
)
def test_invalid_declarations(change: dict, fragment: str) -> None:
    with pytest.raises(SpecError, match=fragment):
        DataDrivenSpec.from_mapping({**BASE, **change})


def test_missing_required_keys() -> None:
    with pytest.raises(SpecError, match="model: missing"):
        DataDrivenSpec.from_mapping({k: v for k, v in BASE.items() if k != "model"})
    with pytest.raises(SpecError, match="outputs: missing"):
        DataDrivenSpec.from_mapping({k: v for k, v in BASE.items() if k != "outputs"})
