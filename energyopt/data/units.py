"""Engineering units of historian tags, backed by one shared pint registry.

Every unit conversion in energyopt goes through :func:`unit_registry`, a
single :class:`pint.UnitRegistry` extended with the plant units pint lacks.
Conversion factors always come from pint; nothing here is a hand-written
conversion table.

Plant units added to pint's defaults
------------------------------------
``Nm3`` (``Nm³``, ``normal_cubic_meter``)
    Normal cubic metre: a gas volume measured at the normal conditions of
    DIN 1343 (0 degC, 101.325 kPa).  It is defined as a *volume*
    (``1 Nm3 = 1 m**3``), so ``Nm3/h`` converts to ``m**3/s`` and heating
    values in ``MJ/Nm3`` multiply with flows in ``Nm3/h`` to give power.  The
    value stays a volume *at normal conditions*: turning it into an actual
    volume at line pressure and temperature needs the gas state and is a
    model's job, never a unit conversion.  ``Sm3`` (standard conditions,
    which differ between standards) is deliberately left undefined.
``kgce``, ``tce``
    Kilogram and tonne of standard coal equivalent: ``1 kgce = 29.3076 MJ``
    (GB/T 2589-2020).  ``toe`` (tonne of oil equivalent) is pint's own.
Gauge pressure ``kPag``, ``MPag``, ``barg``, ``Pag`` (also ``kPa(g)``, ``MPa(g)``, ``bar(g)``)
    Gauge pressure is converted to absolute pressure as
    ``p_abs = p_gauge + 101.325 kPa`` (the standard atmosphere), because
    historians do not record the local barometric pressure.  The error is
    the deviation of the site's barometric pressure from the standard
    atmosphere (about 1 kPa per 100 m of altitude); where that matters, map
    an absolute pressure tag instead.  ``kPa(a)`` and ``MPa(a)`` mean
    absolute pressure and are read as ``kPa`` and ``MPa``.
Powers written without ``**``
    ``m3/h``, ``m2`` and ``cm3`` are read as ``m**3/h``, ``m**2`` and
    ``cm**3`` (a trailing 2 or 3 on a unit symbol is an exponent unless the
    whole token is a defined unit such as ``Nm3``).
Dimensionless
    ``1``, ``dimensionless`` and ``-`` are dimensionless; ``%`` and
    ``percent`` are hundredths, so ``to_si`` turns 50 % into 0.5.
Temperatures
    ``degC`` (``°C``) and ``degF`` alone are absolute temperatures and convert
    with their offset (100 degC = 373.15 K).  Inside a compound unit
    (``degC/min``, ``kJ/(kg*degC)``) they are temperature differences
    (pint's ``default_as_delta``), so ``1 degC/min = 1/60 K/s``.

SI units
--------
:func:`to_si` converts each factor of a unit to its coherent SI unit:
named SI derived units where the factor has their dimension (``MW`` to
``W``, ``kWh`` and ``kgce`` to ``J``, ``kPa`` to ``Pa``), SI base units
otherwise (``t`` to ``kg``, ``h`` to ``s``, ``Nm3`` to ``m**3``); dimensionless
factors (``%``, ``ppm``) are dropped.  So ``t/h`` becomes ``kg/s``,
``kJ/(kg*K)`` becomes ``J/K/kg`` and ``MJ/Nm3`` becomes ``J/m**3``.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from energyopt.errors import UnitConversionError

if TYPE_CHECKING:
    import pint

__all__ = [
    "check_compatible",
    "conversion_affine",
    "convert",
    "is_compatible",
    "parse_unit",
    "si_unit",
    "to_si",
    "unit_registry",
]

#: Plant unit definitions added to pint's default registry (pint definition syntax).
#: For offset units the reference unit is written explicitly and the offset is
#: expressed in that unit, so each line is an exact definition.
_PLANT_UNIT_DEFINITIONS: tuple[str, ...] = (
    "normal_cubic_meter = meter ** 3 = Nm3 = Nm³",
    "kilogram_coal_equivalent = 29.3076 * megajoule = kgce",
    "tonne_coal_equivalent = 1000 * kilogram_coal_equivalent = tce",
    "pascal_gauge = pascal; offset: 101325 = Pag",
    "kilopascal_gauge = kilopascal; offset: 101.325 = kPag",
    "megapascal_gauge = megapascal; offset: 0.101325 = MPag",
    "bar_gauge = bar; offset: 1.01325 = barg",
)

#: Pressure symbols that have a gauge variant ``<symbol>g`` defined above.
_GAUGE_BASES: frozenset[str] = frozenset({"Pa", "kPa", "MPa", "bar"})

#: Named coherent SI derived units used as the SI form of a unit factor of the
#: same dimension (otherwise the factor becomes SI base units).
_NAMED_SI_UNITS: tuple[str, ...] = (
    "watt",
    "joule",
    "pascal",
    "newton",
    "volt",
    "coulomb",
    "ohm",
    "siemens",
    "farad",
    "henry",
    "weber",
    "tesla",
)

_GAUGE_SUFFIX_RE = re.compile(r"(?<![\w.])([A-Za-z]+)\s*\(\s*([gGaA]|abs)\s*\)")
_TRAILING_POWER_RE = re.compile(r"(?<![\w.])([A-Za-z_]*[A-Za-z])([23])(?![\w.])")
_DIMENSIONLESS_ALIASES: frozenset[str] = frozenset({"1", "-", "dimensionless"})
#: Unit symbols ending in 2 or 3 that are names, not powers (pint's defaults
#: define none).
_SYMBOLS_ENDING_IN_DIGIT: frozenset[str] = frozenset({"Nm3"})


@functools.cache
def unit_registry() -> pint.UnitRegistry:
    """Return the shared unit registry (created on first use).

    Returns
    -------
    pint.UnitRegistry
        pint's default registry plus the plant units documented in this
        module.  Use it for every :class:`pint.Quantity` in energyopt so
        that quantities from different modules can be combined.
    """
    import pint  # here, not at module level: importing pint takes about 0.2 s

    registry: pint.UnitRegistry = pint.UnitRegistry(on_redefinition="raise")
    for definition in _PLANT_UNIT_DEFINITIONS:
        registry.define(definition)
    # Ours runs first, before pint turns "³" into "**3" (which would read
    # "Nm³" as newton metre cubed).
    registry.preprocessors.insert(0, _preprocess)
    return registry


def _preprocess(text: str) -> str:
    """Rewrite plant spellings (``kPa(g)``, ``m3``, ``Nm³``) into pint syntax."""

    def gauge(match: re.Match[str]) -> str:
        symbol, suffix = match.group(1), match.group(2).lower()
        if symbol not in _GAUGE_BASES:
            return match.group(0)  # left alone: pint then rejects it
        return symbol + ("g" if suffix == "g" else "")

    def power(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in _SYMBOLS_ENDING_IN_DIGIT:
            return token
        return f"{match.group(1)}**{match.group(2)}"

    text = text.replace("Nm³", "Nm3")
    text = _GAUGE_SUFFIX_RE.sub(gauge, text)
    return _TRAILING_POWER_RE.sub(power, text)


def _context(tag: str | None) -> str:
    return f" of tag '{tag}'" if tag else ""


@functools.lru_cache(maxsize=1024)
def _parse_cached(unit_str: str) -> pint.Unit:
    registry = unit_registry()
    text = unit_str.strip()
    if text in _DIMENSIONLESS_ALIASES:
        return registry.dimensionless
    if not text:
        raise ValueError("empty unit string (write '1' for a dimensionless quantity)")
    for match in _GAUGE_SUFFIX_RE.finditer(text):
        # pint would read "m(g)" as metre times gram: only pressures take (g)/(a).
        if match.group(1) not in _GAUGE_BASES:
            raise ValueError(
                f"'({match.group(2)})' qualifies only the pressures "
                f"{', '.join(sorted(_GAUGE_BASES))}, not '{match.group(1)}'"
            )
    return registry.parse_units(text)


def parse_unit(unit_str: str, *, tag: str | None = None) -> pint.Unit:
    """Parse a unit string into a pint unit of the shared registry.

    Parameters
    ----------
    unit_str : str
        Unit as written in a historian file or CSV, for example ``"t/h"``,
        ``"Nm3/h"``, ``"degC"``, ``"MPa(g)"``, ``"%"``.
    tag : str, optional
        Tag the unit belongs to, named in the error message.

    Returns
    -------
    pint.Unit
        The parsed unit.

    Raises
    ------
    UnitConversionError
        If the string is empty or not a unit pint (with the plant units)
        understands; the message names the unit and the tag.
    """
    if not isinstance(unit_str, str):
        raise UnitConversionError(
            f"unit{_context(tag)} must be a string, got {type(unit_str).__name__}"
        )
    try:
        return _parse_cached(unit_str)
    # pint's parser raises many unrelated exception types (UndefinedUnitError,
    # DefinitionSyntaxError, ValueError, AssertionError, TokenError ...) for
    # malformed strings; all of them mean "not a unit" here.
    except Exception as exc:
        raise UnitConversionError(
            f"unknown unit '{unit_str}'{_context(tag)}: {exc}".rstrip(": ")
        ) from None


def is_compatible(unit_a: str, unit_b: str) -> bool:
    """Return whether two unit strings have the same dimension.

    Parameters
    ----------
    unit_a, unit_b : str
        Unit strings.

    Returns
    -------
    bool
        ``True`` if values in ``unit_a`` can be converted to ``unit_b``.

    Raises
    ------
    UnitConversionError
        If either string is not a unit.
    """
    dim_a = parse_unit(unit_a).dimensionality
    dim_b = parse_unit(unit_b).dimensionality
    return bool(dim_a == dim_b)


def check_compatible(unit_a: str, unit_b: str, *, tag: str | None = None) -> None:
    """Raise unless two unit strings have the same dimension.

    Parameters
    ----------
    unit_a, unit_b : str
        Unit strings, for example a tag's unit and the unit a model expects.
    tag : str, optional
        Tag named in the error message.

    Raises
    ------
    UnitConversionError
        If either string is not a unit, or the dimensions differ; the message
        names both units, their dimensions and the tag.
    """
    a = parse_unit(unit_a, tag=tag)
    b = parse_unit(unit_b, tag=tag)
    if a.dimensionality != b.dimensionality:
        raise UnitConversionError(
            f"unit '{unit_a}'{_context(tag)} ({a.dimensionality}) is not compatible "
            f"with '{unit_b}' ({b.dimensionality})"
        )


@functools.lru_cache(maxsize=1024)
def _si_unit_cached(unit_str: str) -> str:
    registry = unit_registry()
    unit = _parse_cached(unit_str)
    named = [registry.Unit(name) for name in _NAMED_SI_UNITS]
    si = registry.dimensionless
    for name, exponent in unit._units.items():  # pint exposes no public factor view
        factor = registry.Unit(name)
        dimension = factor.dimensionality
        if not dimension:
            continue  # percent, ppm, radian ...: folded into the value
        target: Any = next((n for n in named if n.dimensionality == dimension), None)
        if target is None:
            target = registry.get_base_units(factor)[1]
        si = si * target**exponent
    text = f"{si:~C}"
    return text or "1"


def si_unit(unit_str: str, *, tag: str | None = None) -> str:
    """Return the coherent SI unit string for a unit (``"t/h"`` -> ``"kg/s"``).

    Parameters
    ----------
    unit_str : str
        Unit string.
    tag : str, optional
        Tag named in the error message.

    Returns
    -------
    str
        SI unit in pint's compact notation (``"kg/s"``, ``"m**3/s"``,
        ``"J/K/kg"``); ``"1"`` for dimensionless quantities.

    Raises
    ------
    UnitConversionError
        If ``unit_str`` is not a unit.
    """
    parse_unit(unit_str, tag=tag)
    return _si_unit_cached(unit_str)


@functools.lru_cache(maxsize=1024)
def _affine_cached(from_unit: str, to_unit: str) -> tuple[float, float]:
    registry = unit_registry()
    source = _parse_cached(from_unit)
    target = _parse_cached(to_unit)
    offset = float(registry.Quantity(0.0, source).m_as(target))
    # The scale comes from the delta units so that offset units keep pint's
    # exact factors (degC -> K is 1.0, not 374.15 - 373.15).
    scale = float(registry.Quantity(1.0, _as_delta(source)).m_as(_as_delta(target)))
    return scale, offset


def _as_delta(unit: pint.Unit) -> pint.Unit:
    """Return the difference unit of a single offset unit (degC -> delta_degC)."""
    registry = unit_registry()
    items = list(unit._units.items())
    if len(items) == 1 and items[0][1] == 1:
        delta_name = "delta_" + items[0][0]
        if delta_name in registry:
            return registry.Unit(delta_name)
    return unit


def conversion_affine(
    from_unit: str, to_unit: str, *, tag: str | None = None
) -> tuple[float, float]:
    """Return ``(scale, offset)`` with ``value_to = value_from * scale + offset``.

    Parameters
    ----------
    from_unit, to_unit : str
        Unit strings of the same dimension.
    tag : str, optional
        Tag named in the error message.

    Returns
    -------
    tuple of float
        Scale [to_unit/from_unit] and offset [to_unit], both computed by pint
        (the offset is zero unless an absolute temperature or a gauge
        pressure is involved).

    Raises
    ------
    UnitConversionError
        If a unit is unknown or the dimensions differ.
    """
    check_compatible(from_unit, to_unit, tag=tag)
    try:
        return _affine_cached(from_unit, to_unit)
    except Exception as exc:  # pint offset-unit errors, see parse_unit
        raise UnitConversionError(
            f"cannot convert '{from_unit}' to '{to_unit}'{_context(tag)}: {exc}"
        ) from None


def convert(
    values: npt.ArrayLike,
    from_unit: str,
    to_unit: str,
    *,
    tag: str | None = None,
) -> npt.NDArray[np.float64]:
    """Convert values between units of the same dimension.

    Parameters
    ----------
    values : array_like
        Values in ``from_unit``. [from_unit]
    from_unit, to_unit : str
        Unit strings.
    tag : str, optional
        Tag named in error messages.

    Returns
    -------
    numpy.ndarray
        float64 values in ``to_unit``; a new array unless no conversion is
        needed, in which case a float64 input is returned as is. [to_unit]

    Raises
    ------
    UnitConversionError
        If a unit is unknown or the dimensions differ.
    """
    array = np.asarray(values, dtype=np.float64)
    scale, offset = conversion_affine(from_unit, to_unit, tag=tag)
    # One fused numpy pass: pint's own array conversion is about 20 times
    # slower on the 10^7-element arrays a historian read returns.
    if scale == 1.0 and offset == 0.0:
        return array
    result = array * scale
    if offset != 0.0:
        result += offset
    return result


def to_si(
    values: npt.ArrayLike, unit: str, *, tag: str | None = None
) -> tuple[npt.NDArray[np.float64], str]:
    """Convert values to coherent SI units.

    Parameters
    ----------
    values : array_like
        Values in ``unit``. [unit]
    unit : str
        Unit string, for example ``"t/h"``.
    tag : str, optional
        Tag named in error messages.

    Returns
    -------
    values_si : numpy.ndarray
        float64 values in SI units (see :func:`si_unit`). [SI]
    si_unit_str : str
        The SI unit string, for example ``"kg/s"``.

    Raises
    ------
    UnitConversionError
        If ``unit`` is unknown.

    Examples
    --------
    >>> to_si([3.6], "t/h")[0]
    array([1.])
    """
    target = si_unit(unit, tag=tag)
    return convert(values, unit, target, tag=tag), target
