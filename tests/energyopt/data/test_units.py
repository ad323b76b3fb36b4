"""Tests of energyopt.data.units: plant units, SI conversion and errors."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.data.units import (
    check_compatible,
    conversion_affine,
    convert,
    is_compatible,
    parse_unit,
    si_unit,
    to_si,
    unit_registry,
)
from energyopt.errors import UnitConversionError

# Conversions are a multiplication (and an addition) of float64 numbers whose
# exact results are known; 1e-14 relative leaves room for one or two roundings.
RTOL = 1e-14


@pytest.mark.parametrize(
    ("value", "unit", "expected_si", "expected_unit"),
    [
        # 1 t/h = 1000 kg / 3600 s (definition of tonne and hour).
        (1.0, "t/h", 1000.0 / 3600.0, "kg/s"),
        # GB/T 2589-2020: 1 kgce = 29.3076 MJ; 1 tce = 1000 kgce.
        (1.0, "kgce", 29.3076e6, "J"),
        (1.0, "tce", 29.3076e9, "J"),
        # Absolute temperature with offset: 100 degC = 373.15 K.
        (100.0, "degC", 373.15, "K"),
        (100.0, "°C", 373.15, "K"),
        # A temperature in a compound unit is a difference: 1 degC/min = 1/60 K/s.
        (1.0, "degC/min", 1.0 / 60.0, "K/s"),
        # Normal cubic metre is a volume: 3600 Nm3/h = 1 m**3/s.
        (3600.0, "Nm3/h", 1.0, "m**3/s"),
        (3600.0, "Nm³/h", 1.0, "m**3/s"),
        (3600.0, "m3/h", 1.0, "m**3/s"),
        # Heating value of blast-furnace gas, 3.2 MJ/Nm3 = 3.2e6 J/m**3.
        (3.2, "MJ/Nm3", 3.2e6, "J/m**3"),
        # Gauge pressure: absolute = gauge + 101.325 kPa (standard atmosphere).
        (0.0, "kPa(g)", 101_325.0, "Pa"),
        (1.0, "MPa(g)", 1.0e6 + 101_325.0, "Pa"),
        (1.0, "barg", 1.0e5 + 101_325.0, "Pa"),
        (1.0, "kPa(a)", 1000.0, "Pa"),
        (50.0, "%", 0.5, "1"),
        (7.0, "-", 7.0, "1"),
        (2.0, "MW", 2.0e6, "W"),
        (1.0, "MWh", 3.6e9, "J"),
        (1.0, "kJ/(kg*K)", 1000.0, "J/K/kg"),
        (1.0, "mol/L", 1000.0, "mol/m**3"),
        # Van de Vusse k30 = 9.043e9 L/(mol h) -> m**3/(mol s).
        (9.043e9, "L/(mol*h)", 9.043e9 * 1e-3 / 3600.0, "m**3/mol/s"),
    ],
)
def test_to_si_known_factors(value: float, unit: str, expected_si: float, expected_unit: str):
    values_si, unit_si = to_si(np.array([value]), unit)
    assert unit_si == expected_unit
    assert_allclose(values_si, [expected_si], rtol=RTOL)


def test_convert_matches_pint_array_conversion():
    # Independent computation: pint's own (slower) array conversion.
    registry = unit_registry()
    x = np.linspace(-40.0, 500.0, 11)
    for source, target in [("degF", "degC"), ("degC", "degF"), ("t/h", "kg/s"), ("kPag", "MPa")]:
        expected = registry.Quantity(x, parse_unit(source)).m_as(parse_unit(target))
        assert_allclose(convert(x, source, target), expected, rtol=RTOL)


def test_convert_without_change_returns_input():
    x = np.array([1.0, 2.0])
    assert convert(x, "kg/s", "kg/s") is x


def test_conversion_affine_of_offset_unit_is_exact():
    # The scale of degC -> K must be exactly 1 (not 374.15 - 373.15).
    assert conversion_affine("degC", "K") == (1.0, 273.15)


def test_si_unit_of_dimensionless_and_compound():
    assert si_unit("ppm") == "1"
    assert si_unit("kgce/t") == "J/kg"


def test_unknown_unit_names_unit_and_tag():
    with pytest.raises(UnitConversionError, match=r"unknown unit 'furlong/fortnightx'.*tag 'FI1'"):
        parse_unit("furlong/fortnightx", tag="FI1")


@pytest.mark.parametrize("text", ["", "kg*/", "3 kg", "m(g)", "Sm3/h"])
def test_malformed_units_raise(text: str):
    with pytest.raises(UnitConversionError, match="unknown unit"):
        to_si([1.0], text, tag="X")


def test_gauge_suffix_only_on_pressures():
    # "m(g)" would otherwise be read by pint as metre times gram.
    with pytest.raises(UnitConversionError, match="qualifies only the pressures"):
        parse_unit("m(g)")


def test_incompatible_units_raise_with_dimensions():
    with pytest.raises(UnitConversionError, match=r"'t/h' of tag 'FI1'.*not compatible.*'MW'"):
        check_compatible("t/h", "MW", tag="FI1")
    with pytest.raises(UnitConversionError, match="not compatible"):
        convert([1.0], "degC", "kg")
    assert is_compatible("Nm3/h", "m**3/s")
    assert not is_compatible("Nm3/h", "kg/s")


def test_non_string_unit_raises():
    with pytest.raises(UnitConversionError, match="must be a string"):
        parse_unit(5, tag="T")  # type: ignore[arg-type]
