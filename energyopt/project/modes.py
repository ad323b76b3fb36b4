"""The ``[modes]`` table of the project file: the plant's operating modes.

An operating mode (a throughput level, a product grade) is a set of loop
setpoints: ``[modes.<mode>.setpoints]`` gives one value for every PID loop
whose setpoint is a plant input (a ``pid`` unit without ``setpoint``), so a
mode is a complete operating point; throughput is the setpoint of the feed
loop.  Values are numbers in the SI unit of the loop's measurement or
strings with a unit (``"18 m3/h"``, ``"118 degC"``, ``"50 %"``), converted
when the plant model is built, where the measurement's unit is known.  The
cross checks against the units are made by :class:`energyopt.project.Project`.
"""

from __future__ import annotations

import re
from typing import Self

from pydantic import Field, StrictStr, model_validator

from energyopt.errors import UnitConversionError
from energyopt.project.base import Issue, RawQuantity, SchemaModel, issues_error

__all__ = ["OperatingMode", "check_quantity_text"]

# A number and the rest of the text (the unit); the unit is checked with pint.
_NUMBER_UNIT = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*$")


def check_quantity_text(text: str) -> None:
    """Check that ``text`` is a number with a known unit (``"18 m3/h"``).

    Raises
    ------
    UnitConversionError
        If the text is not a number followed by a unit of the shared registry.
    """
    from energyopt.data.units import convert

    match = _NUMBER_UNIT.match(text)
    if match is None or not match.group(2):
        raise UnitConversionError(
            f"expected a number with a unit such as '18 m3/h' (or a plain number), got {text!r}"
        )
    convert(float(match.group(1)), match.group(2), match.group(2))


class OperatingMode(SchemaModel):
    """A ``[modes.<mode>]`` table: one operating mode as the setpoints of the PID loops."""

    description: StrictStr = Field("", description="Free text")
    setpoints: dict[str, RawQuantity] = Field(
        description="PID loop (a pid unit) -> its setpoint in this mode: a number in the SI unit "
        'of the loop\'s measurement or a string with a unit ("18 m3/h", "118 degC"); every loop '
        "whose setpoint is a plant input needs one"
    )

    @model_validator(mode="after")
    def _values(self) -> Self:
        issues: list[Issue] = []
        if not self.setpoints:
            issues.append((("setpoints",), "a mode needs at least one setpoint"))
        for loop, value in self.setpoints.items():
            if isinstance(value, str):
                try:
                    check_quantity_text(value)
                except UnitConversionError as exc:
                    issues.append((("setpoints", loop), str(exc)))
        if issues:
            raise issues_error(issues)
        return self
