"""Plain values of the tuning panel: the request, the progress, the rows of its tables.

Qt-free parts of :mod:`energyopt.appstate.tuning`: :class:`TuneRequest` (the
settings a tune starts with), :class:`TuneProgress` with the time-left
estimate :func:`estimate_tune_remaining_s`, the rows the panel shows
beside each other -- :func:`setting_rows` (each searched parameter, its
project value and its best value) and :func:`kpi_rows` (each KPI of the
objective and the constraints per replay window, for the current and the
best settings, then the score) with :func:`display_unit`.
"""

from __future__ import annotations

import contextlib
import math
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from energyopt.errors import OutputError

if TYPE_CHECKING:
    from energyopt.tune import ParamSpec, TrialRecord, TuneResult, TuneSettings

__all__ = [
    "MAX_BUDGET",
    "MAX_WINDOWS",
    "KpiRow",
    "SettingRow",
    "TrialInbox",
    "TuneProgress",
    "TuneRequest",
    "delete_journal",
    "display_unit",
    "estimate_tune_remaining_s",
    "format_value",
    "kpi_rows",
    "setting_rows",
]

#: Largest budget the ``[tune]`` section accepts. [trials]
MAX_BUDGET = 100_000
#: Most replay windows the ``[tune]`` section accepts. [-]
MAX_WINDOWS = 366


@dataclass(frozen=True)
class TuneRequest:
    """The settings a tune is started with (the editable part of ``[tune]``).

    Attributes
    ----------
    budget : int
        Trials in total, those of an earlier interrupted run included. [-]
    workers : int
        Local worker processes running trials at once. [-]
    windows : int
        Replay windows spread over the historian file. [-]
    window_s : float
        Length of each window. [s]
    history_s : float
        Recorded history before the first window, left for the forecasters. [s]
    """

    budget: int
    workers: int
    windows: int
    window_s: float
    history_s: float

    @classmethod
    def from_settings(cls, settings: TuneSettings, workers: int) -> TuneRequest:
        """The request of a ``[tune]`` section with ``workers`` processes.

        Parameters
        ----------
        settings : TuneSettings
            The project's ``[tune]`` section (defaults when absent).
        workers : int
            Worker processes. [-]
        """
        return cls(
            budget=settings.budget,
            workers=workers,
            windows=settings.windows,
            window_s=float(settings.window_s),
            history_s=float(settings.history_s),
        )

    def problems(self) -> list[str]:
        """Why the request cannot be run (empty if it can), one sentence each."""
        out = []
        if not 1 <= self.budget <= MAX_BUDGET:
            out.append(f"the budget must be 1 to {MAX_BUDGET} trials, got {self.budget}")
        if self.workers < 1:
            out.append(f"at least one worker process is needed, got {self.workers}")
        if not 1 <= self.windows <= MAX_WINDOWS:
            out.append(f"the number of windows must be 1 to {MAX_WINDOWS}, got {self.windows}")
        if not (math.isfinite(self.window_s) and self.window_s > 0.0):
            out.append(f"the window length must be positive, got {self.window_s:g} s")
        if not (math.isfinite(self.history_s) and self.history_s >= 0.0):
            out.append(f"the history before the windows must be >= 0, got {self.history_s:g} s")
        return out


@dataclass(frozen=True)
class TuneProgress:
    """Where a running tune is.

    Attributes
    ----------
    done : int
        Trials finished, those stored by an earlier run included. [-]
    budget : int
        Trials in total. [-]
    message : str
        The tune's last message (the trial finished, the best score so far).
    elapsed_s : float or None
        Time since the tune started. [s]
    remaining_s : float or None
        Estimated time left (:func:`estimate_tune_remaining_s`); ``None``
        until an evaluation has finished. [s]
    """

    done: int
    budget: int
    message: str
    elapsed_s: float | None
    remaining_s: float | None

    @property
    def fraction(self) -> float:
        """Share of the budget done, in [0, 1] [-]."""
        return min(max(self.done / self.budget, 0.0), 1.0) if self.budget > 0 else 0.0


def estimate_tune_remaining_s(
    elapsed_s: float, finished_s: Sequence[float], left: int, workers: int = 1
) -> float | None:
    """Estimate the time a tune still needs from the pace of its evaluations.

    Every evaluation (a trial over all windows, or the project's current
    settings, which the tune evaluates first outside the budget) costs about
    the same.  Once more evaluations than workers have finished, the pace is
    the time between the first and the last finish over the evaluations in
    between: the start-up of the worker processes (seconds: imports, the
    first read of each window) is left out, and the first ``workers``
    evaluations, which finish together, do not make it look instant.
    Before that, the pace is the time so far per evaluation (start-up
    included: pessimistic).  Trials stored by an earlier run cost nothing
    now and are not counted.

    Parameters
    ----------
    elapsed_s : float
        Time since the tune started. [s]
    finished_s : sequence of float
        When each evaluation of this run finished, in order, since the start. [s]
    left : int
        Trials still to run. [-]
    workers : int
        Evaluations running at the same time. [-]

    Returns
    -------
    float or None
        Pace times ``left`` [s]; ``None`` before the first evaluation finished.
    """
    count = len(finished_s)
    if count == 0:
        return None
    span_s = finished_s[-1] - finished_s[0]
    if count > max(workers, 1) and span_s > 0.0:
        pace_s = span_s / (count - 1)
    else:
        pace_s = max(elapsed_s, 0.0) / count
    return pace_s * max(left, 0)


def format_value(value: Any) -> str:
    """Format a setting or KPI value: six significant digits, ``"-"`` if missing or not finite.

    Parameters
    ----------
    value : object
        A number, a string or boolean choice, or ``None``.
    """
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if not math.isfinite(value):
        return "-"
    return f"{value:.6g}"


@dataclass(frozen=True)
class SettingRow:
    """One searched parameter beside its project value and its best value.

    Attributes
    ----------
    spec : ParamSpec
        The parameter (key, range, scale, choices).
    current : object
        The project's value (``None``: not set).
    best : object
        The best settings' value; ``None`` before a tune finished.
    changed : bool
        Whether the best value differs from the project's.
    """

    spec: ParamSpec
    current: Any
    best: Any
    changed: bool


def setting_rows(
    space: Sequence[ParamSpec], best: Mapping[str, Any] | None = None
) -> tuple[SettingRow, ...]:
    """Return a row per searched parameter, in the order of the space.

    Parameters
    ----------
    space : sequence of ParamSpec
        The parameters searched (their ``current`` is the project's value).
    best : mapping, optional
        Dotted key -> value of the best settings; ``None`` before a tune
        finished.  A key missing from it keeps the project's value.
    """
    rows = []
    for spec in space:
        value = None if best is None else best.get(spec.key, spec.current)
        rows.append(
            SettingRow(spec, spec.current, value, best is not None and value != spec.current)
        )
    return tuple(rows)


@dataclass(frozen=True)
class KpiRow:
    """One KPI of one replay window (or the score) for the current and the best settings.

    Attributes
    ----------
    key : str
        KPI key (:data:`energyopt.kpis.KPIS`).
    window : int or None
        Window index; ``None`` for the score (the objective summed over the windows).
    start_ms : int or None
        Start of the window. [ms since epoch]
    current, best : float or None
        The KPI for the project's current settings and the best settings
        (KPI unit; ``None``: not computed).
    low, high : float or None
        Bounds the KPI must keep in every window (a constraint), ``None`` if none.
    """

    key: str
    window: int | None
    start_ms: int | None
    current: float | None
    best: float | None
    low: float | None = None
    high: float | None = None

    @property
    def best_within_bounds(self) -> bool | None:
        """Whether the best value keeps the bounds; ``None`` without bounds or value."""
        if self.best is None or not math.isfinite(self.best):
            return None
        if self.low is None and self.high is None:
            return None
        return (self.low is None or self.best >= self.low) and (
            self.high is None or self.best <= self.high
        )


def _window_value(record: TrialRecord, index: int, key: str) -> float | None:
    if index >= len(record.windows):
        return None
    value = record.windows[index].get(key)
    return None if value is None or not math.isfinite(value) else float(value)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def kpi_rows(result: TuneResult) -> tuple[KpiRow, ...]:
    """Return the KPIs of the current and the best settings, window by window, then the score.

    The KPIs are the objective, then each constraint KPI (as the CLI's
    table, :func:`energyopt.tune.report.result_table`).

    Parameters
    ----------
    result : TuneResult
        A finished tune.
    """
    objective = result.objective
    keys = [objective.kpi, *[k for k in objective.constraints if k != objective.kpi]]
    rows = []
    for index, (start, _) in enumerate(result.windows):
        for key in keys:
            low, high = objective.constraints.get(key, (None, None))
            rows.append(
                KpiRow(
                    key,
                    index,
                    start,
                    _window_value(result.current, index, key),
                    _window_value(result.best, index, key),
                    None if low is None or not math.isfinite(low) else low,
                    None if high is None or not math.isfinite(high) else high,
                )
            )
    rows.append(
        KpiRow(
            objective.kpi,
            None,
            None,
            _finite(result.current.score.value),
            _finite(result.best.score.value),
        )
    )
    return tuple(rows)


class TrialInbox:
    """Trial records handed over from the thread running a tune to the model's thread.

    The tune calls :meth:`put` on its own thread as each evaluation
    finishes; the model calls :meth:`take` with each progress report and
    the outcome, on its thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[TrialRecord] = []
        self._started = time.perf_counter()
        self._stamps: list[float] = []
        self.finished_s: list[float] = []
        """When each record taken so far was handed over, since the inbox was made. [s]"""

    def put(self, record: TrialRecord) -> None:
        """Hand over a finished trial (any thread).

        Parameters
        ----------
        record : TrialRecord
            The trial, or the current settings (``number=None``).
        """
        with self._lock:
            self._pending.append(record)
            self._stamps.append(time.perf_counter() - self._started)

    def take(self) -> list[TrialRecord]:
        """Return the records handed over since the last call, oldest first."""
        with self._lock:
            new, self._pending = self._pending, []
            stamps, self._stamps = self._stamps, []
        self.finished_s.extend(stamps)
        return new


def delete_journal(folder: Path) -> bool:
    """Delete a tune folder's trial journal (and the folder, once empty).

    Parameters
    ----------
    folder : pathlib.Path
        The tune folder.

    Returns
    -------
    bool
        Whether a journal was deleted.

    Raises
    ------
    OutputError
        If the journal cannot be deleted.
    """
    from energyopt.tune.store import JOURNAL_NAME

    journal = Path(folder) / JOURNAL_NAME
    if not journal.is_file():
        return False
    try:
        journal.unlink()
    except OSError as exc:
        raise OutputError(
            f"cannot delete the trial journal in '{folder}': {exc.strerror or exc}"
        ) from None
    with contextlib.suppress(OSError):  # not empty: the folder holds other files, kept
        Path(folder).rmdir()
    return True


def display_unit(unit: str, currency: str) -> str:
    """Return a KPI unit as shown: ``"currency"`` stands for the project's currency.

    Parameters
    ----------
    unit : str
        Unit of the KPI registry (``"currency"``, ``"currency/t"``, ``"MWh"``).
    currency : str
        ISO 4217 code of the project (``"CNY"``); ``""`` keeps the unit as it is.
    """
    return re.sub(r"\bcurrency\b", currency, unit) if currency else unit
