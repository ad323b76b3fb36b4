"""The key reference of the project file, generated from the schema.

``docs/project-file.md`` carries the table this module prints; a test checks
that the documented keys and the schema's keys are the same set, so the two
cannot drift apart.  Regenerate the table with::

    python -m energyopt.project.reference            # key reference (markdown)
    python -m energyopt.project.reference --unit-types  # registered unit types
"""

from __future__ import annotations

import argparse
import dataclasses
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from energyopt.project.base import SIUnit
from energyopt.project.model import Project

__all__ = ["KeyDoc", "key_reference", "markdown_reference", "unit_types_markdown"]

# Placeholder shown for the free-form keys of each table of named entries.
_KEY_NAMES: dict[str, str] = {
    "media": "node",
    "units": "unit",
    "bindings": "binding",
    "connections": "port",
    "params": "param",
    "periods": "period",
    "schedules": "schedule",
    "blocks": "period",
    "prices": "node",
    "sales": "node",
    "band_weights": "binding",
    "tracking_weights": "binding",
    "move_suppression": "binding",
    "kinds": "kind",
    "modes": "mode",
    "setpoints": "loop",
    "settings": "setting",
    "feed": "setting",
    "loops": "loop",
}


@dataclass(frozen=True)
class KeyDoc:
    """One documented key of the project file.

    Attributes
    ----------
    path : str
        Dotted key path, ``<name>`` for user-chosen names (``media.<node>.kind``).
    type : str
        Value type in TOML terms (``number``, ``string``, ``[low, high]``...).
    default : str
        Default value, ``required`` or ``-`` for tables.
    description : str
        What the key means, with its unit in brackets.
    """

    path: str
    type: str
    default: str
    description: str


def _alternatives(tp: Any) -> tuple[list[Any], list[Any]]:
    """Split a type into its non-None alternatives and the Annotated metadata seen."""
    metadata: list[Any] = []
    origin = get_origin(tp)
    if origin is Annotated:
        args = get_args(tp)
        inner, more = _alternatives(args[0])
        return inner, [*args[1:], *more]
    if origin is Union or origin is types.UnionType:
        out: list[Any] = []
        for arg in get_args(tp):
            if arg is type(None):
                continue
            inner, more = _alternatives(arg)
            out.extend(inner)
            metadata.extend(more)
        return out, metadata
    return [tp], metadata


def _type_name(tp: Any, field: FieldInfo | None = None) -> str:
    alts, metadata = _alternatives(tp)
    if field is not None:
        metadata = [*metadata, *field.metadata]
    unit = next((m.unit for m in metadata if isinstance(m, SIUnit)), None)
    if unit is not None:
        return f"number [{unit}] or quantity string"
    names: list[str] = []
    for alt in alts:
        origin = get_origin(alt)
        if (isinstance(alt, type) and issubclass(alt, BaseModel)) or origin is dict:
            names.append("table")
        elif origin is tuple and get_args(alt)[-1] is Ellipsis:
            names.append(f"array of {_type_name(get_args(alt)[0])}")
        elif origin is tuple:
            names.append("[low, high]")
        elif origin is list:
            names.append(f"array of {_type_name(get_args(alt)[0])}")
        elif origin is Literal:
            names.append("one of " + ", ".join(f'"{v}"' for v in get_args(alt)))
        elif alt is bool:
            names.append("boolean")
        elif alt is int:
            names.append("integer")
        elif alt is float:
            names.append("number")
        elif alt is str:
            names.append("string")
        else:
            names.append("number or quantity string")
    return " or ".join(dict.fromkeys(names))


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True, validated_data={})
    if value is None or value is PydanticUndefined:
        return "none"
    if isinstance(value, BaseModel | dict) and not value:
        return "-"
    if isinstance(value, BaseModel):
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list | tuple):
        if value == list(range(1, 13)):
            return "all months"
        return "[" + ", ".join(f'"{v}"' if isinstance(v, str) else f"{v:g}" for v in value) + "]"
    if isinstance(value, int | float):
        return f"{value:g}"
    return str(value)


def _walk(model: type[BaseModel], prefix: str) -> Iterator[KeyDoc]:
    for name, field in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        description = field.description or ""
        alts, _ = _alternatives(field.annotation)
        core = alts[0] if alts else field.annotation
        if isinstance(core, type) and issubclass(core, BaseModel):
            yield KeyDoc(path, "table", _default(field), description)
            yield from _walk(core, path)
        elif get_origin(core) is dict:
            value_type = get_args(core)[1]
            entry = f"{path}.<{_KEY_NAMES.get(name, 'name')}>"
            value_alts, _ = _alternatives(value_type)
            value_core = value_alts[0]
            yield KeyDoc(path, "table", _default(field), description)
            if isinstance(value_core, type) and issubclass(value_core, BaseModel):
                doc = (value_core.__doc__ or "").strip().splitlines()[0]
                yield KeyDoc(entry, "table", "-", doc)
                yield from _walk(value_core, entry)
            else:
                yield KeyDoc(entry, _type_name(value_type), "-", description)
        else:
            yield KeyDoc(path, _type_name(field.annotation, field), _default(field), description)


def key_reference() -> list[KeyDoc]:
    """Return every key of the project file, in schema order."""
    return list(_walk(Project, ""))


def _cell(text: str) -> str:
    return text.replace("``", "`").replace("|", "\\|")


def markdown_reference() -> str:
    """Return the key reference as markdown tables, one per top-level table."""
    out: list[str] = []
    for doc in key_reference():
        if "." not in doc.path:
            out += [
                "",
                f"### `[{doc.path}]`",
                "",
                _cell(doc.description) + ".",
                "",
                "| Key | Type | Default | Meaning |",
                "|---|---|---|---|",
            ]
            continue
        out.append(
            f"| `{doc.path}` | {_cell(doc.type)} | {_cell(doc.default)} | "
            f"{_cell(doc.description)} |"
        )
    return "\n".join(out).strip() + "\n"


def unit_types_markdown() -> str:
    """Return the registered unit types with their ports and parameters (markdown)."""
    from plant_models.parameters import param_specs
    from plant_models.registry import UNIT_TYPES, _load_library

    _load_library()
    out: list[str] = []
    for type_name in sorted(UNIT_TYPES):
        cls = UNIT_TYPES[type_name]
        summary = (cls.__doc__ or "").strip().splitlines()[0]
        out += ["", f"### `{type_name}`", "", summary, ""]
        if cls.ports:
            out += ["| Port | Medium | Direction | Notes |", "|---|---|---|---|"]
            for port in cls.ports:
                notes = ", ".join(
                    n
                    for n, on in (("several nodes", port.multiple), ("optional", port.optional))
                    if on
                )
                out.append(
                    f"| `{port.name}` | {port.medium_kind} | {port.direction} | "
                    f"{_cell(port.description)}{'; ' + notes if notes else ''} |"
                )
            out.append("")
        out += ["| Parameter | SI unit | Default | Range | Meaning |", "|---|---|---|---|---|"]
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        for spec in param_specs(cls):
            out.append(
                f"| `{spec.name}` | {spec.unit} | {defaults[spec.name]:g} | "
                f"{spec.low:g} to {spec.high:g} | {_cell(spec.description)} |"
            )
    return "\n".join(out).strip() + "\n"


def main(argv: list[str] | None = None) -> None:
    """Print the key reference (or, with ``--unit-types``, the unit types) as markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--unit-types", action="store_true", help="list registered unit types")
    args = parser.parse_args(argv)
    print(unit_types_markdown() if args.unit_types else markdown_reference(), end="")


if __name__ == "__main__":  # pragma: no cover
    main()
