"""What every advisor session shares: the project, its historian file and the time grid.

:class:`SessionBase` holds the open historian (read-only), the advisor and
its MVs, and answers the questions about time: which decision times a file
allows, whether a time has enough history before it.  The economic session
(:class:`energyopt.advise.session.AdvisorSession`) and the process NMPC
session (:class:`energyopt.advise.process.ProcessAdvisorSession`) build on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

import numpy as np

from energyopt.advise.mvinfo import MVInfo, advisor_mode
from energyopt.errors import DataError

if TYPE_CHECKING:
    from types import TracebackType

    import numpy.typing as npt

    from controllers.advisor import Advisor, AdvisorMode
    from energyopt.data.reader import HistorianReader
    from energyopt.plantbuild import BuiltPlant
    from energyopt.project import Project

__all__ = ["SessionBase"]


class SessionBase:
    """An advisor on a historian file: the parts every session shares.

    Attributes
    ----------
    project : Project
        The project.
    built : BuiltPlant
        Its plant.
    reader : HistorianReader
        The open historian file (the session closes it).
    parameters : numpy.ndarray
        Plant parameters of the controller and the readings. [SI]
    advisor : Advisor
        The advisor driving the controller (set by the subclass).
    mvs : tuple of MVInfo
        The MVs, in the controller's order (set by the subclass).
    currency : str
        The project's currency.
    prices_saving : bool
        Whether the controller's objective is in ``currency`` (an economic
        MPC); a process NMPC's band and plan-tracking objective is not.
    """

    advisor: Advisor
    mvs: tuple[MVInfo, ...]
    prices_saving: bool = True
    #: History needed before a decision time, and why (for messages). [ms]
    _history_ms: int = 0
    _history_why: str = ""

    def __init__(
        self,
        project: Project,
        built: BuiltPlant,
        reader: HistorianReader,
        parameters: npt.NDArray[np.float64],
        interval_ms: int,
    ) -> None:
        self.project = project
        self.built = built
        self.reader = reader
        self.parameters = parameters
        self.currency = project.project.currency
        self._interval_ms = int(interval_ms)

    def _mv_info(self, variable: str) -> MVInfo:
        """The MV ``variable`` as the operator knows it (its binding, tag and unit)."""
        for e in self.built.bindings.entries:
            if e.vector == "u" and e.name == variable:
                return MVInfo(variable, e.binding, e.tag, e.tag_unit, e.scale, e.offset)
        unit = next(v.unit for v in self.built.model.inputs if v.name == variable)
        return MVInfo(variable, None, None, unit, 1.0, 0.0)

    def _sampling_ms(self) -> int:
        """The file's sampling step. [ms]."""
        step = self.reader.sampling_ms
        if step is None or not step > 0:
            raise DataError(f"{self.reader.path}: needs at least two samples")
        return max(1, round(step))

    def close(self) -> None:
        """Close the historian file."""
        self.reader.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------ properties

    @property
    def interval_s(self) -> float:
        """Control interval of the advisor. [s]."""
        return self._interval_ms / 1000.0

    @property
    def timezone(self) -> str:
        """The plant's IANA time zone (the project's)."""
        return str(self.project.project.timezone)

    @property
    def mode(self) -> AdvisorMode:
        """The advisor's mode (settable)."""
        return self.advisor.mode

    @mode.setter
    def mode(self, mode: AdvisorMode | str) -> None:
        self.advisor.mode = advisor_mode(mode)

    def earliest_ms(self) -> int:
        """First time with enough history before it for the forecast. [ms since epoch]."""
        first, _ = self.reader.time_span_ms
        return first + self._history_ms

    def decision_times(self, start_ms: int | None = None, end_ms: int | None = None) -> np.ndarray:
        """Control-interval starts in ``[start_ms, end_ms)`` the advisor can be asked at.

        Intervals are aligned to whole multiples of the interval since the
        epoch (as the forecasts are); only times with enough history before
        them and with data at or after them are returned.

        Parameters
        ----------
        start_ms, end_ms : int or None
            Range; default the file's usable span. [ms since epoch]

        Returns
        -------
        numpy.ndarray of int64
            [ms since epoch]
        """
        _, last = self.reader.time_span_ms
        lo = self.earliest_ms() if start_ms is None else max(self.earliest_ms(), int(start_ms))
        hi = last + 1 if end_ms is None else min(int(end_ms), last + 1)
        t = self._interval_ms
        first = -(-lo // t)
        count = max(0, -(-hi // t) - first)
        return (first + np.arange(count, dtype=np.int64)) * t

    def default_time_ms(self) -> int:
        """Start of the last complete control interval in the file. [ms since epoch]."""
        _, last = self.reader.time_span_ms
        return (last // self._interval_ms) * self._interval_ms

    # ------------------------------------------------------------ data

    def check_time(self, at_ms: int) -> None:
        """Raise :class:`DataError` if ``at_ms`` is outside the file or has too little history."""
        first, last = self.reader.time_span_ms
        if not first <= at_ms <= last:
            raise DataError(
                f"{self.reader.path}: time {self.reader.format_time(at_ms)} is outside the "
                f"file ({self.reader.format_time(first)} .. {self.reader.format_time(last)})"
            )
        if at_ms < self.earliest_ms():
            raise DataError(
                f"{self.reader.path}: time {self.reader.format_time(at_ms)} has not enough "
                f"history before it: {self._history_why}, the file "
                f"starts {self.reader.format_time(first)} (earliest "
                f"{self.reader.format_time(self.earliest_ms())})"
            )
