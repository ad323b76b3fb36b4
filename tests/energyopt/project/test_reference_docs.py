"""docs/project-file.md documents exactly the keys of the schema."""

from __future__ import annotations

import re
from pathlib import Path

from energyopt.project.reference import key_reference, main, markdown_reference

DOC = Path(__file__).resolve().parents[3] / "docs" / "project-file.md"
BEGIN, END = "<!-- BEGIN KEY REFERENCE -->", "<!-- END KEY REFERENCE -->"


def documented() -> tuple[set[str], set[str]]:
    """Return (key paths of the reference tables, top-level tables with a heading)."""
    text = DOC.read_text(encoding="utf-8")
    block = text[text.index(BEGIN) + len(BEGIN) : text.index(END)]
    keys = set(re.findall(r"^\| `([^`]+)` \|", block, flags=re.MULTILINE))
    sections = set(re.findall(r"^### `\[([a-z_]+)\]`$", block, flags=re.MULTILINE))
    return keys, sections


def test_docs_and_schema_list_the_same_keys():
    keys, sections = documented()
    schema = [doc.path for doc in key_reference()]
    top = {p for p in schema if "." not in p}
    nested = {p for p in schema if "." in p}
    hint = "regenerate with: python -m energyopt.project.reference"
    assert sections == top, hint
    assert keys == nested, (
        f"undocumented: {sorted(nested - keys)}; not in schema: {sorted(keys - nested)}; {hint}"
    )


def test_reference_covers_the_main_keys():
    paths = {doc.path for doc in key_reference()}
    # A few keys every project uses: guards the walker itself.
    for path in (
        "project.timezone",
        "media.<node>.lhv_j_m3",
        "units.<unit>.params.<param>",
        "bindings.<binding>.normal",
        "tariffs.electricity.schedules.<schedule>.blocks.<period>",
        "controller.horizon_s",
        "data_quality.on_spike",
    ):
        assert path in paths


def test_reference_types_and_defaults():
    rows = {doc.path: doc for doc in key_reference()}
    assert rows["media.<node>.pressure_pa"].type == "number [Pa] or quantity string"
    assert rows["bindings.<binding>.hard"].type == "[low, high]"
    assert rows["controller.mode"].default == '"ADVISE"'
    assert rows["project.name"].default == "required"
    assert rows["controller.mode"].type == 'one of "OFF", "PREDICT", "ADVISE"'


def test_cli_prints_reference_and_unit_types(capsys):
    main([])
    assert capsys.readouterr().out == markdown_reference()
    main(["--unit-types"])
    out = capsys.readouterr().out
    assert "### `boiler`" in out
    assert "| `fuel` | fuel_gas | in | Fuel gas networks fired; several nodes |" in out
