"""Turn pydantic validation errors into one line per problem with a TOML key path.

``units.boiler_1.params.efficiency_nominal: must be between 0 and 1, got 1.3``
is the shape of every line: a dotted key path as the user would write it in
the file, then what is wrong in plain words, with a "did you mean" hint for
unknown keys.
"""

from __future__ import annotations

import re
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from energyopt.project.base import (
    ISSUES_ERROR_TYPE,
    did_you_mean,
    fmt_number,
    toml_type_name,
    with_article,
)

__all__ = ["allowed_keys", "format_path", "problems"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")

# Pydantic error types that mean "wrong value type", with the TOML type expected.
_TYPE_ERRORS: dict[str, str] = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "list_type": "an array",
    "tuple_type": "an array",
}

_BOUND_ERRORS: dict[str, str] = {
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
}


def format_path(loc: tuple[str | int, ...]) -> str:
    """Return a TOML-style dotted key path (``units.boiler_1.params``, ``a[0]``)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        key = part if _BARE_KEY.match(part) else '"' + part.replace('"', '\\"') + '"'
        out += f".{key}" if out else key
    return out


def _unwrap(tp: Any) -> list[Any]:
    """Return the concrete alternatives of a type (strip Annotated, Optional, unions)."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _unwrap(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        return [t for arg in get_args(tp) for t in _unwrap(arg) if t is not type(None)]
    return [tp]


def _child(tp: Any, key: str | int) -> Any:
    """Return the type found under ``key`` in a value of type ``tp`` (or ``None``)."""
    for alt in _unwrap(tp):
        if isinstance(alt, type) and issubclass(alt, BaseModel):
            field = alt.model_fields.get(str(key))
            if field is not None:
                return field.annotation
        origin = get_origin(alt)
        if origin is dict:
            return get_args(alt)[1]
        if origin in (list, tuple) and isinstance(key, int):
            args = get_args(alt)
            return args[0] if args else None
    return None


def allowed_keys(root: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """Return the keys a table at ``loc`` may hold (empty when free-form or unknown)."""
    tp: Any = root
    for part in loc:
        tp = _child(tp, part)
        if tp is None:
            return []
    for alt in _unwrap(tp):
        if isinstance(alt, type) and issubclass(alt, BaseModel):
            return list(alt.model_fields)
    return []


def _describe(value: Any) -> str:
    kind = toml_type_name(value)
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        shown = repr(value) if isinstance(value, str) else fmt_number(value)
        return f"{kind} {shown}"
    return with_article(kind)


def _message(error: Any, root: type[BaseModel]) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "extra_forbidden":
        known = allowed_keys(root, loc[:-1])
        hint = did_you_mean(str(loc[-1]), known)
        listing = f"; allowed: {', '.join(known)}" if known and not hint else ""
        return f"unknown key{hint}{listing}"
    if kind == "missing":
        return "required key is missing"
    if kind in _TYPE_ERRORS:
        return f"expected {_TYPE_ERRORS[kind]}, got {_describe(value)}"
    if kind in _BOUND_ERRORS:
        bound = _BOUND_ERRORS[kind].format(
            **{k: fmt_number(v) if isinstance(v, int | float) else v for k, v in ctx.items()}
        )
        return f"{bound}, got {_describe(value)}"
    if kind == "finite_number":
        return f"must be a finite number, got {value}"
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        options = re.findall(r"'([^']*)'", expected)
        hint = did_you_mean(str(value), options) if isinstance(value, str) else ""
        return f"got {_describe(value)}{hint}; must be one of {expected.replace(' or ', ', ')}"
    if kind == "string_pattern_mismatch":
        return f"invalid value {_describe(value)} (expected pattern {ctx.get('pattern')})"
    if kind == "string_too_short":
        return "must not be empty"
    msg: str = error["msg"]
    return msg.removeprefix("Value error, ")


def problems(exc: ValidationError, root: type[BaseModel]) -> list[str]:
    """Return one ``"key.path: what is wrong"`` line per problem in ``exc``.

    Parameters
    ----------
    exc : pydantic.ValidationError
        Raised by ``root.model_validate(...)``.
    root : type of BaseModel
        The model that was validated (used to suggest keys for unknown ones).

    Returns
    -------
    list of str
        Lines in file order of the key paths as pydantic reports them.
    """
    lines: list[str] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        if loc and loc[-1] == "[key]":
            # A table key failed validation (for example an invalid unit name):
            # pydantic puts the key before the marker.
            loc = loc[:-1]
        if error["type"] == ISSUES_ERROR_TYPE:
            for sub_path, msg in error["ctx"]["issues"]:
                path = format_path((*loc, *sub_path))
                lines.append(f"{path}: {msg}" if path else msg)
            continue
        path = format_path(loc)
        msg = _message(error, root)
        lines.append(f"{path}: {msg}" if path else msg)
    return lines
