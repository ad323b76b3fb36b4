"""docs/unit-library.md is the generated unit reference, kept identical to the code."""

from __future__ import annotations

from pathlib import Path

from energyopt.project.reference import unit_types_markdown
from plant_models.registry import UNIT_TYPES, unit_params_class

DOC = Path(__file__).resolve().parents[3] / "docs" / "unit-library.md"


def test_unit_library_doc_matches_the_code():
    text = DOC.read_text(encoding="utf-8")
    generated = unit_types_markdown()
    assert generated.strip() in text, (
        "docs/unit-library.md is out of date: regenerate it with "
        "`python -m energyopt.project.reference --unit-types` (see the page header)"
    )


def test_every_registered_unit_type_is_documented():
    unit_params_class("boiler")  # loads the library
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in UNIT_TYPES if f"### `{name}`" not in text]
    assert not missing, f"undocumented unit types: {missing}"
