"""Registry of unit types by the name used in project files (``type = "boiler"``)."""

from __future__ import annotations

from collections.abc import Callable

from plant_models.parameters import UnitParams

__all__ = ["UNIT_TYPES", "register_unit", "unit_params_class"]

#: Unit type name -> parameter dataclass.  Filled by :func:`register_unit`.
UNIT_TYPES: dict[str, type[UnitParams]] = {}


def register_unit(type_name: str) -> Callable[[type[UnitParams]], type[UnitParams]]:
    """Class decorator registering a :class:`UnitParams` subclass under ``type_name``."""

    def decorate(cls: type[UnitParams]) -> type[UnitParams]:
        if type_name in UNIT_TYPES and UNIT_TYPES[type_name] is not cls:
            raise ValueError(f"unit type '{type_name}' registered twice")
        cls.type_name = type_name
        UNIT_TYPES[type_name] = cls
        return cls

    return decorate


def unit_params_class(type_name: str) -> type[UnitParams]:
    """Return the parameter class of a unit type.

    Raises
    ------
    KeyError
        With the list of known types, when ``type_name`` is unknown.
    """
    _load_library()
    try:
        return UNIT_TYPES[type_name]
    except KeyError:
        known = ", ".join(sorted(UNIT_TYPES)) or "(none)"
        raise KeyError(f"unknown unit type '{type_name}'; known types: {known}") from None


def _load_library() -> None:
    """Import the unit library so that every unit type is registered."""
    import plant_models.units  # noqa: F401  (registers unit types on import)
