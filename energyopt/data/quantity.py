"""Quantities written as text (``"220 t/h"``, ``"1 h"``) in validated settings.

Settings models (the project file, the data-quality policy) accept, for a key
whose name ends in a unit, either a plain number in that unit or a string
with its own unit.  This module holds that rule once:

* :func:`parse_quantity` converts ``"3.82 MPa"`` to a number in a target unit
  with the shared pint registry of :mod:`energyopt.data.units`;
* :class:`SIUnit` marks the unit a key is stored in (read by the generated
  key reference);
* :func:`quantity_validator` is the pydantic validator of such keys: numbers
  pass (booleans do not), strings must carry a unit, anything else is refused;
* :data:`DurationS`, a duration in seconds.

It lives in :mod:`energyopt.data` because both the data layer and
:mod:`energyopt.project` (which imports the data layer) use it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from energyopt.errors import UnitConversionError

__all__ = [
    "DurationS",
    "SIUnit",
    "parse_quantity",
    "quantity_validator",
    "toml_type_name",
    "with_article",
]

_QUANTITY_RE = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*$")


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


def parse_quantity(text: str, unit: str, *, require_unit: bool = False) -> float:
    """Convert a quantity string such as ``"220 t/h"`` to a number in ``unit``.

    Parameters
    ----------
    text : str
        A number followed by a unit in the syntax of the shared registry
        (:mod:`energyopt.data.units`: ``t/h``, ``Nm3/h``, ``MPa``, ``degC``, ``min``...).
    unit : str
        Target unit.
    require_unit : bool
        Refuse a bare number (``"5"``); otherwise it is taken as being in ``unit``.

    Returns
    -------
    float
        The value in ``unit``. [unit]

    Raises
    ------
    UnitConversionError
        When the text is not a number with a unit, the unit is unknown, its
        dimension differs from ``unit``'s, or the result is not finite.
    """
    match = _QUANTITY_RE.match(text)
    if match is None:
        raise UnitConversionError(f"expected a number with a unit such as '220 t/h', got {text!r}")
    number = float(match.group(1))
    unit_text = match.group(2)
    if not unit_text:
        if require_unit:
            raise UnitConversionError(
                f"a string needs a unit (write a plain number for {unit}), got {text!r}"
            )
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


def quantity_validator(unit: str) -> BeforeValidator:
    """Return the pydantic validator of a key stored as a number in ``unit``.

    Parameters
    ----------
    unit : str
        The key's unit (``"s"``, ``"Pa"``).

    Returns
    -------
    pydantic.BeforeValidator
        Passes integers and floats on as float, converts strings with a unit
        (``"5 min"``), and refuses booleans, unitless strings and other types
        with a ``PydanticCustomError`` whose message names what was expected.
    """

    def convert(value: Any) -> Any:
        if isinstance(value, str):
            try:
                return parse_quantity(value, unit, require_unit=True)
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


#: Duration: a number of seconds or a string with a unit (``"15 min"``). [s]
DurationS = Annotated[float, SIUnit("s"), quantity_validator("s"), Field(allow_inf_nan=False)]
