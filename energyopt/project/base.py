"""Building blocks shared by the project-file schema.

* :class:`SchemaModel`: the base of every section model (unknown keys are
  errors, instances are immutable).
* Strict scalar types: TOML values are typed, so a string where a number is
  expected is an error rather than silently parsed.
* Quantity types (:data:`PressurePa`, ...): a number in the key's unit, or a
  string with its own unit (``"3.82 MPa"``) converted with the shared pint
  registry of :mod:`energyopt.data.units`.
* :func:`issues_error`: lets a model validator report *several* problems, each
  with its own key path below the model; :mod:`energyopt.project.messages`
  expands them into one line each.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator
from pydantic_core import PydanticCustomError

from energyopt.errors import UnitConversionError

__all__ = [
    "ISSUES_ERROR_TYPE",
    "Band",
    "DurationS",
    "Issue",
    "IssuePath",
    "MassPerVolumeKgM3",
    "Number",
    "PressurePa",
    "RawQuantity",
    "SIUnit",
    "SchemaModel",
    "TemperatureK",
    "VolumetricEnergyJM3",
    "did_you_mean",
    "fmt_number",
    "issues_error",
    "parse_quantity",
    "toml_type_name",
    "with_article",
]

#: Key path of an issue relative to the model that reports it.
IssuePath = tuple[str | int, ...]
#: One problem: its relative key path and what is wrong.
Issue = tuple[IssuePath, str]

#: Pydantic error type carrying several :data:`Issue` in its context.
ISSUES_ERROR_TYPE = "energyopt_issues"


class SchemaModel(BaseModel):
    """Base of every project-file section: unknown keys are errors, values immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def toml_type_name(value: object) -> str:
    """Return the TOML name of a parsed value's type (``string``, ``array``, ``table``)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "table"
    return type(value).__name__


def with_article(word: str) -> str:
    """Return ``"a table"`` or ``"an array"``."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def fmt_number(value: float) -> str:
    """Format a number compactly for messages (``1.3``, ``220``, ``1e+06``)."""
    return f"{value:g}"


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest candidate, or ``""``.

    Matching ignores case, so ``advise`` suggests ``ADVISE``.
    """
    by_lower = {c.lower(): c for c in candidates}
    matches = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean '{by_lower[matches[0]]}'?)" if matches else ""


def issues_error(issues: Sequence[Issue]) -> PydanticCustomError:
    """Return a pydantic error carrying several problems with their relative key paths.

    Raise it from a model validator; :func:`energyopt.project.messages.problems`
    turns each issue into one message line under the model's own location.
    """
    summary = "; ".join(f"{'.'.join(map(str, path))}: {msg}" for path, msg in issues)
    return PydanticCustomError(
        ISSUES_ERROR_TYPE, "{summary}", {"summary": summary, "issues": list(issues)}
    )


# ---------------------------------------------------------------- numbers and bands

#: A number: TOML integer or float (booleans, strings, inf and nan are rejected).
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]


def _band_shape(value: Any) -> Any:
    # A band is a two-element TOML array; one clear message beats pydantic's
    # per-item tuple errors for the common mistakes (a number, three items).
    if not isinstance(value, list | tuple) or len(value) != 2:
        got = (
            f"an array of {len(value)} items"
            if isinstance(value, list | tuple)
            else with_article(toml_type_name(value))
        )
        raise PydanticCustomError(
            "band_shape", "expected an array [low, high] of two numbers, got {got}", {"got": got}
        )
    return value


def _band_order(value: tuple[float, float]) -> tuple[float, float]:
    low, high = value
    if not low < high:
        raise PydanticCustomError(
            "band_order",
            "low must be below high, got [{low}, {high}]",
            {"low": fmt_number(low), "high": fmt_number(high)},
        )
    return value


#: A ``[low, high]`` interval with ``low < high``.
Band = Annotated[tuple[Number, Number], BeforeValidator(_band_shape), AfterValidator(_band_order)]


# ---------------------------------------------------------------- quantities

_QUANTITY_RE = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*$")


def parse_quantity(text: str, unit: str) -> float:
    """Convert a quantity string such as ``"220 t/h"`` to a number in ``unit``.

    Parameters
    ----------
    text : str
        A number followed by a unit in the syntax of the shared registry
        (:mod:`energyopt.data.units`: ``t/h``, ``Nm3/h``, ``MPa``, ``degC``...).
        A bare number is taken as already being in ``unit``.
    unit : str
        Target unit.

    Returns
    -------
    float
        The value in ``unit``.

    Raises
    ------
    UnitConversionError
        When the text is not a number with a unit, the unit is unknown, or its
        dimension differs from ``unit``'s.
    """
    match = _QUANTITY_RE.match(text)
    if match is None:
        raise UnitConversionError(f"expected a number with a unit such as '220 t/h', got {text!r}")
    number = float(match.group(1))
    unit_text = match.group(2)
    if not unit_text:
        return number
    # Imported here: building the pint registry takes a noticeable fraction of a second.
    from energyopt.data.units import convert

    result = float(convert(number, unit_text, unit))
    if not math.isfinite(result):
        raise UnitConversionError(f"{text!r} is not finite in {unit}")
    return result


@dataclass(frozen=True)
class SIUnit:
    """Annotation marker: the unit a quantity key is stored in (read by the docs)."""

    unit: str


def _convert_to(unit: str) -> BeforeValidator:
    def convert(value: Any) -> Any:
        if isinstance(value, str):
            try:
                return parse_quantity(value, unit)
            except UnitConversionError as exc:
                raise PydanticCustomError("quantity", "{reason}", {"reason": str(exc)}) from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PydanticCustomError(
                "quantity_type",
                "expected a number in {unit} or a string with a unit, got {got}",
                {"unit": unit, "got": with_article(toml_type_name(value))},
            )
        return float(value)

    return BeforeValidator(convert)


#: Absolute pressure. [Pa]
PressurePa = Annotated[float, SIUnit("Pa"), _convert_to("Pa"), Field(allow_inf_nan=False)]
#: Temperature. [K]
TemperatureK = Annotated[float, SIUnit("K"), _convert_to("K"), Field(allow_inf_nan=False)]
#: Energy per normal cubic metre (heating value). [J/m^3]
VolumetricEnergyJM3 = Annotated[
    float, SIUnit("J/m^3"), _convert_to("J/m^3"), Field(allow_inf_nan=False)
]
#: Mass per normal cubic metre (emission factor). [kg/m^3]
MassPerVolumeKgM3 = Annotated[
    float, SIUnit("kg/m^3"), _convert_to("kg/m^3"), Field(allow_inf_nan=False)
]
#: Duration. [s]
DurationS = Annotated[float, SIUnit("s"), _convert_to("s"), Field(allow_inf_nan=False)]


def _raw_quantity(value: Any) -> int | float | str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PydanticCustomError(
            "quantity_type",
            "expected a number or a string with a unit, got {got}",
            {"got": with_article(toml_type_name(value))},
        )
    return value


#: A unit parameter as written: a number (SI) or a string with a unit, kept verbatim.
RawQuantity = Annotated[int | float | str, PlainValidator(_raw_quantity)]
