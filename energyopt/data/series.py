"""Result types of historian reads: :class:`TimeSeries` and :class:`RegularSeries`.

Both are small frozen dataclasses holding numpy arrays keyed by tag name, in
the units stored in the file unless converted with ``to_si()``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from energyopt.data.format import DEFAULT_TIMEZONE
from energyopt.data.units import to_si

__all__ = ["RegularSeries", "TimeSeries"]


def _convert_all(
    values: dict[str, npt.NDArray[np.float64]], units: dict[str, str]
) -> tuple[dict[str, npt.NDArray[np.float64]], dict[str, str]]:
    out_values, out_units = {}, {}
    for tag, column in values.items():
        out_values[tag], out_units[tag] = to_si(column, units[tag], tag=tag)
    return out_values, out_units


@dataclass(frozen=True)
class TimeSeries:
    """Samples of several tags on their shared, irregular time axis.

    Attributes
    ----------
    time_ms : numpy.ndarray
        Sample times, int64, strictly increasing, shape (N,). [ms since epoch]
    values : dict of str to numpy.ndarray
        Tag name -> float64 values, shape (N,); NaN where missing. [units[tag]]
    units : dict of str to str
        Tag name -> unit string of ``values``.
    quality : dict of str to numpy.ndarray
        Tag name -> uint8 quality codes, shape (N,) (0 good, 1 bad,
        2 substituted); all zero for tags the file has no codes for.
    timezone : str
        IANA time zone of the plant, for display.
    """

    time_ms: npt.NDArray[np.int64]
    values: dict[str, npt.NDArray[np.float64]]
    units: dict[str, str]
    quality: dict[str, npt.NDArray[np.uint8]] = field(default_factory=dict)
    timezone: str = DEFAULT_TIMEZONE

    @property
    def tags(self) -> list[str]:
        """Tag names, in read order."""
        return list(self.values)

    def __len__(self) -> int:
        """Return the number of samples."""
        return int(self.time_ms.size)

    def to_si(self) -> TimeSeries:
        """Return a copy with values in coherent SI units (see :mod:`energyopt.data.units`).

        Returns
        -------
        TimeSeries
            Same times and quality; values converted, units such as ``"kg/s"``.

        Raises
        ------
        UnitConversionError
            If a tag's unit is unknown.
        """
        values, units = _convert_all(self.values, self.units)
        return dataclasses.replace(self, values=values, units=units)


@dataclass(frozen=True)
class RegularSeries:
    """Tags aggregated onto a regular grid of half-open bins.

    Attributes
    ----------
    time_ms : numpy.ndarray
        Bin starts ``start_ms + k * step_ms``, int64, shape (n_bins,); bin
        ``k`` covers ``[time_ms[k], time_ms[k] + step_ms)``. [ms since epoch]
    step_ms : int
        Bin width. [ms]
    values : dict of str to numpy.ndarray
        Tag name -> float64 bin values, shape (n_bins,); NaN for bins without
        data. [units[tag]]
    units : dict of str to str
        Tag name -> unit string of ``values``.
    quality : dict of str to numpy.ndarray
        Tag name -> uint8 bin codes: 0 good, 1 no data (the value is NaN),
        2 at least one substituted sample went into the bin.
    aggregation : dict of str to str
        Tag name -> aggregation used (an
        :class:`~energyopt.data.resample.Aggregation` value).
    timezone : str
        IANA time zone of the plant, for display.
    """

    time_ms: npt.NDArray[np.int64]
    step_ms: int
    values: dict[str, npt.NDArray[np.float64]]
    units: dict[str, str]
    quality: dict[str, npt.NDArray[np.uint8]] = field(default_factory=dict)
    aggregation: dict[str, str] = field(default_factory=dict)
    timezone: str = DEFAULT_TIMEZONE

    @property
    def tags(self) -> list[str]:
        """Tag names, in read order."""
        return list(self.values)

    def __len__(self) -> int:
        """Return the number of bins."""
        return int(self.time_ms.size)

    def to_si(self) -> RegularSeries:
        """Return a copy with values in coherent SI units.

        Returns
        -------
        RegularSeries
            Same grid, quality and aggregation; values converted.

        Raises
        ------
        UnitConversionError
            If a tag's unit is unknown.
        """
        values, units = _convert_all(self.values, self.units)
        return dataclasses.replace(self, values=values, units=units)
