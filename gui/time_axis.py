"""Time axes and time labels in the plant's time zone, as the replay clock shows them.

Every time the GUI shows is the plant's wall-clock time (the project's IANA
time zone, ``[project] timezone``), with its daylight-saving changes: the
replay clock, the trends' axes and crosshair readout, the Sankey diagram's
time, the KPI dashboard's plots.

pyqtgraph's ``DateAxisItem`` cannot do this by itself: with ``utcOffset=None``
it shows the *computer's* local zone (through ``QDateTime``), and with a
number it applies one fixed offset to the whole axis, so a trend spanning a
daylight-saving change is labelled an hour off on one side of it.
:class:`PlantTimeAxis` keeps pyqtgraph's choice of zoom level and tick
spacing, and places and labels the ticks with :mod:`zoneinfo`: a tick is a
round wall-clock time of the plant (midnight, 06:00, 15 min past) converted to
its true instant, and its label is that instant formatted in the plant's zone.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.DateAxisItem import MAX_REGULAR_TIMESTAMP, MIN_REGULAR_TIMESTAMP
from PySide6.QtGui import QFont, QFontMetrics

from energyopt.data.format import format_time_ms, load_timezone
from energyopt.errors import DataError

__all__ = ["PlantTimeAxis", "format_plant_time", "plant_zone"]

#: Most candidate ticks one level may step through: an axis shows at most a few
#: hundred; this bounds the cost of a tick update for any range (far zoom-in included).
_MAX_CANDIDATE_TICKS = 2000
#: Extra wall time each side of a range over a day, for daylight-saving changes. [s]
_DST_MARGIN_S = 3600.0
#: Longest range in which a zone's offset changes at most once. [s]
_ONE_CHANGE_SPAN_S = 86_400.0


def plant_zone(timezone: str) -> ZoneInfo:
    """Return the zone of an IANA name, UTC for an unknown one (a view never fails on it).

    Parameters
    ----------
    timezone : str
        IANA name (``"Asia/Shanghai"``).
    """
    try:
        return load_timezone(timezone)
    except DataError:
        return ZoneInfo("UTC")


def format_plant_time(time_s: float, timezone: str) -> str:
    """Format a time as ISO 8601 in the plant's zone, to the second.

    Parameters
    ----------
    time_s : float
        The time, shown to the whole second at or before it. [s since epoch]
    timezone : str
        IANA name of the plant's zone (UTC if unknown).

    Returns
    -------
    str
        For example ``"2026-01-05T08:00:00+08:00"``, as the replay clock shows it.
    """
    return format_time_ms(math.floor(time_s) * 1000, plant_zone(timezone))


def _offset_s(zone: ZoneInfo, time_s: float) -> float:
    """Offset of the zone from UTC at an instant (east positive). [s]."""
    moment = datetime.fromtimestamp(
        min(max(time_s, MIN_REGULAR_TIMESTAMP), MAX_REGULAR_TIMESTAMP - 86_400.0), tz=zone
    )
    offset = moment.utcoffset()
    return 0.0 if offset is None else offset.total_seconds()


def _wall_to_instants(zone: ZoneInfo, wall_s: float) -> tuple[float, float]:
    """The instants at which the plant's clocks show a wall time [s since epoch].

    ``wall_s`` counts the wall time as if it were UTC.  Both readings
    (``fold`` 0 and 1) are returned: they differ for a wall time shown twice
    when clocks go back (both are real ticks) and for one skipped when they go
    forward (then each is the instant of another, real wall time).
    """
    naive = datetime.fromtimestamp(wall_s, tz=UTC).replace(tzinfo=None, fold=0)
    return (
        naive.replace(tzinfo=zone).timestamp(),
        naive.replace(tzinfo=zone, fold=1).timestamp(),
    )


class PlantTimeAxis(pg.DateAxisItem):
    """A date axis (seconds since the epoch) labelled in the plant's time zone, DST-correct.

    See the module description for why pyqtgraph's ``utcOffset`` is not enough.

    Parameters
    ----------
    orientation : str
        ``"bottom"``, ``"top"``, ``"left"`` or ``"right"``.
    timezone : str
        IANA name of the plant's zone (UTC if unknown).
    **kwargs
        Passed to :class:`pyqtgraph.AxisItem`.
    """

    def __init__(self, orientation: str = "bottom", timezone: str = "UTC", **kwargs: Any) -> None:
        super().__init__(orientation, utcOffset=0, **kwargs)
        # pyqtgraph sets the metrics when it first draws; ticks may be asked before.
        self.fontMetrics = QFontMetrics(QFont())
        self._timezone = timezone
        self._zone = plant_zone(timezone)

    @property
    def timezone(self) -> str:
        """IANA name of the zone the ticks are shown in."""
        return self._timezone

    def set_timezone(self, timezone: str) -> None:
        """Show the ticks in another zone (the axis is redrawn).

        Parameters
        ----------
        timezone : str
            IANA name (UTC if unknown).
        """
        if timezone != self._timezone:
            self._timezone = timezone
            self._zone = plant_zone(timezone)
            self.picture = None  # pyqtgraph's cached drawing
            self.update()

    def tickValues(  # noqa: N802 - pyqtgraph hook
        self, minVal: float, maxVal: float, size: float
    ) -> list[tuple[float, list[float]]]:
        """Ticks at round wall-clock times of the plant, as instants [s since epoch].

        pyqtgraph's zoom level and tick specifications (spacing, skipping,
        formats) are kept; its steppers run on the plant's wall time instead
        of UTC (its own placement uses the computer's zone for hourly ticks),
        and every wall time is converted to its instant with the zone's rules,
        so ticks on both sides of a daylight-saving change fall on round local times.

        Parameters
        ----------
        minVal, maxVal : float
            Visible range. [s since epoch]
        size : float
            Length of the axis. [px]
        """
        if not (math.isfinite(minVal) and math.isfinite(maxVal)) or maxVal <= minVal or size <= 0:
            return []
        self.setZoomLevelForDensity((maxVal - minVal) / size)
        lo = min(max(minVal, MIN_REGULAR_TIMESTAMP), MAX_REGULAR_TIMESTAMP)
        hi = min(max(maxVal, MIN_REGULAR_TIMESTAMP), MAX_REGULAR_TIMESTAMP)
        offset_lo_s = _offset_s(self._zone, lo)
        offset_hi_s = _offset_s(self._zone, hi)
        # The wall times shown inside [lo, hi]: within a day the offset changes at
        # most once, so the ends' offsets bound it; a longer range gets one hour
        # more each side (a round wall time near an end may move across it).
        margin_s = _DST_MARGIN_S if hi - lo > _ONE_CHANGE_SPAN_S else 0.0
        wall_lo = lo + min(offset_lo_s, offset_hi_s) - margin_s
        wall_hi = hi + max(offset_lo_s, offset_hi_s) + margin_s
        # No change of offset inside the range: an instant is its wall time less the offset.
        fixed_offset = margin_s == 0.0 and offset_lo_s == offset_hi_s
        levels: list[tuple[float, list[float]]] = []
        placed = np.zeros(0)
        for spec in self.zoomLevel.tickSpecs:
            # Spacing first, then the candidates: a level that would need more than
            # _MAX_CANDIDATE_TICKS (a far zoom-in with the hour margins, or a finer
            # level than the axis can show) is not stepped through at all.
            step_s = spec.spacing * spec.skipFactor(self.minSpacing)
            if (wall_hi - wall_lo) / step_s > _MAX_CANDIDATE_TICKS:
                break
            # pyqtgraph's steppers start strictly after their start: one step earlier
            # keeps a tick on the range's first instant.
            walls, skip = spec.makeTicks(wall_lo - step_s, wall_hi, self.minSpacing)
            if fixed_offset:
                # To the microsecond, as the zone conversion below rounds them.
                ticks = np.round(np.asarray(walls, dtype=np.float64) - offset_lo_s, 6)
            else:
                instants: list[float] = []
                for wall in walls.tolist():
                    try:
                        instants.extend(_wall_to_instants(self._zone, wall))
                    except (OverflowError, ValueError, OSError):
                        continue
                ticks = np.unique(np.array(instants, dtype=np.float64))
            ticks = ticks[(ticks >= minVal) & (ticks <= maxVal)]
            # A tick of a coarser level (a midnight) is not repeated by a finer one.
            close = np.isclose(placed, ticks[:, np.newaxis], rtol=0.0, atol=self.minSpacing * 0.01)
            ticks = ticks[~close.any(axis=-1)]
            placed = np.concatenate((placed, ticks))
            levels.append((spec.spacing, ticks.tolist()))
            if skip > 1:
                break  # as pyqtgraph: no finer ticks when this level skips some
        return levels

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802 - pyqtgraph hook
        """Label each tick with its wall-clock time in the plant's zone.

        Parameters
        ----------
        values : list of float
            Tick positions. [s since epoch]
        scale : float
            Axis scale (unused: dates are not scaled).
        spacing : float
            Tick spacing of this level, which picks the format. [s]
        """
        # The level of the last tickValues call; any level's spec of that spacing before one.
        current = getattr(self, "zoomLevel", None)
        levels = [current] if current is not None else []
        specs = [s for level in (*levels, *self.zoomLevels.values()) for s in level.tickSpecs]
        spec = next((s for s in specs if s.spacing == spacing), None)
        if spec is None:
            return list(super().tickStrings(values, scale, spacing))
        labels = []
        for value in values:
            try:
                text = datetime.fromtimestamp(value, tz=self._zone).strftime(spec.format)
            except (OverflowError, ValueError, OSError):
                labels.append("")
                continue
            if "%f" in spec.format:
                text = text[:-3]  # milliseconds, as pyqtgraph shows them
            elif "%Y" in spec.format:
                text = text.lstrip("0")
            labels.append(text)
        return labels
