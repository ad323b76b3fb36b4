"""Building blocks shared by the project-file schema.

* :class:`SchemaModel`: the base of every section model (unknown keys are
  errors, instances are immutable).
* Strict scalar types: TOML values are typed, so a string where a number is
  expected is an error rather than silently parsed.
* Quantity types (:data:`PressurePa`, ...): a number in the key's unit, or a
  string with its own unit (``"3.82 MPa"``) converted with the shared pint
  registry of :mod:`energyopt.data.units`; the rule lives in
  :mod:`energyopt.data.quantity` (shared with the data-quality policy) and is
  re-exported here.
* :func:`issues_error`: lets a model validator report *several* problems, each
  with its own key path below the model; :mod:`energyopt.project.messages`
  expands them into one line each.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator
from pydantic_core import PydanticCustomError

from energyopt.data.quantity import (
    DurationS,
    SIUnit,
    parse_quantity,
    quantity_validator,
    toml_type_name,
    with_article,
)

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

#: Absolute pressure. [Pa]
PressurePa = Annotated[float, SIUnit("Pa"), quantity_validator("Pa"), Field(allow_inf_nan=False)]
#: Temperature. [K]
TemperatureK = Annotated[float, SIUnit("K"), quantity_validator("K"), Field(allow_inf_nan=False)]
#: Energy per normal cubic metre (heating value). [J/m^3]
VolumetricEnergyJM3 = Annotated[
    float, SIUnit("J/m^3"), quantity_validator("J/m^3"), Field(allow_inf_nan=False)
]
#: Mass per normal cubic metre (emission factor). [kg/m^3]
MassPerVolumeKgM3 = Annotated[
    float, SIUnit("kg/m^3"), quantity_validator("kg/m^3"), Field(allow_inf_nan=False)
]


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
