"""How a replay fills the recorded series over runs of unusable samples (historian outages).

The data-quality layer (:func:`energyopt.tagdata.read_clean_tags`) marks
samples unusable (missing rows, NaN, flagged bad, frozen, spikes) and already
interpolates the shortest holes (``[data_quality] interpolate_max_gap_s``).
What is left is a run of unusable samples of a tag: a historian outage.  A
replay fills such a run, per series, as a plant engineer reads a trend across
an outage (:func:`fill_gaps`):

* a measured signal (a disturbance, an operating point such as a heating
  value) is bridged by a straight line between its usable neighbours across
  a run of at most ``interpolate_max_s`` (the replay's default
  :data:`INTERPOLATE_MAX_GAP_S`, 15 min: one economic control interval, short
  against the hours over which holders and headers integrate); a longer run
  is *held*, never extrapolated, at the mean of its usable samples over the
  ``hold_mean_s`` before the run (:data:`HOLD_MEAN_S`, 1 h): the last value
  for a steady signal, the duty-cycle mean for an intermittent one (converter
  gas arrives in 30-40 min blows; held at a blow's peak for two hours it
  overfilled the demo's LDG holder to 150 %);
* a recorded input (an operator's setpoint) is ramped between its usable
  neighbours across any run the replay accepts: held and then stepped at the
  end of an outage it would put a step on the steam headers that the
  boilers' lags cannot follow;
* a run at the start of the period takes the first usable value, a run at
  its end the held value;
* a run longer than ``max_gap_s`` (default :data:`MAX_GAP_S`, 3 h) of a series
  that drives the replay is refused (:func:`check_gap`, a
  :class:`~energyopt.errors.DataError` naming the tag and the time range): the
  user replays the periods on either side of it.

The plant disturbances rebuilt from the tags by the plant's equations
(:meth:`energyopt.controlbuild.DisturbancePlan.reconstruct`) are filled the
same way *after* the rebuild, so that the rate of a lagged signal (a gas
maker's flow) is never differenced across the step at the end of a held run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import DataError

if TYPE_CHECKING:
    from energyopt.controlbuild import DisturbancePlan
    from energyopt.data.reader import HistorianReader

__all__ = [
    "HOLD_MEAN_S",
    "INTERPOLATE_MAX_GAP_S",
    "MAX_GAP_S",
    "GapRun",
    "check_gap",
    "describe_runs",
    "fill_gaps",
    "gap_runs",
    "rebuild_disturbances",
]

#: Longest run of unusable samples bridged by a straight line; longer runs are held. [s]
INTERPOLATE_MAX_GAP_S = 15.0 * 60.0
#: Window before a held run whose usable samples' mean a measured signal is held at. [s]
HOLD_MEAN_S = 3600.0
#: Longest run of unusable samples of a driving tag that a replay fills. [s]
MAX_GAP_S = 3.0 * 3600.0


@dataclass(frozen=True)
class GapRun:
    """One run of unusable samples of a series and how it was filled.

    Attributes
    ----------
    start : int
        First unusable row.
    stop : int
        Row after the last unusable one (the first usable row after the run,
        or the series' length).
    how : str
        ``"interpolated"`` (a straight line between the usable neighbours) or
        ``"held"`` (the last usable value before the run; the first usable
        one for a run at the start).
    """

    start: int
    stop: int
    how: str

    @property
    def length(self) -> int:
        """Number of unusable rows."""
        return self.stop - self.start


def gap_runs(values: npt.ArrayLike) -> list[tuple[int, int]]:
    """Return the runs of non-finite values as ``(start, stop)`` row ranges.

    Parameters
    ----------
    values : array_like, shape (n,)
        The series, NaN where unusable.

    Returns
    -------
    list of (int, int)
        ``values[start:stop]`` is non-finite and bounded by finite values or
        the ends of the series.
    """
    bad = ~np.isfinite(np.asarray(values, dtype=np.float64))
    edges = np.diff(np.concatenate(([0], bad.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def fill_gaps(
    values: npt.ArrayLike,
    step_s: float,
    *,
    interpolate_max_s: float = INTERPOLATE_MAX_GAP_S,
    hold_mean_s: float = 0.0,
) -> tuple[npt.NDArray[np.float64], tuple[GapRun, ...]]:
    """Fill the runs of unusable samples of one series (see the module docstring).

    Parameters
    ----------
    values : array_like, shape (n,)
        The series on a regular grid, NaN where unusable. [any unit]
    step_s : float
        Grid step. [s]
    interpolate_max_s : float
        Longest run (rows times ``step_s``) bridged by a straight line between
        its usable neighbours; longer runs, and runs at either end, are held. [s]
    hold_mean_s : float
        A held run takes the mean of the usable samples in the ``hold_mean_s``
        before it (at least the last one); 0 holds the last usable value. [s]

    Returns
    -------
    filled : numpy.ndarray, shape (n,)
        The series with every run filled (unchanged if it has no usable
        sample at all). [same unit]
    runs : tuple of GapRun
        The runs, in time order, and how each was filled.
    """
    original = np.asarray(values, dtype=np.float64)
    filled = original.copy()
    usable = np.isfinite(original)
    runs = gap_runs(filled)
    if not runs or (len(runs) == 1 and runs[0] == (0, filled.size)):
        return filled, ()
    out: list[GapRun] = []
    for start, stop in runs:
        interior = start > 0 and stop < filled.size
        if interior and (stop - start) * step_s <= interpolate_max_s:
            before, after = filled[start - 1], filled[stop]
            share = np.arange(1, stop - start + 1) / (stop - start + 1)
            filled[start:stop] = before + share * (after - before)
            out.append(GapRun(start, stop, "interpolated"))
        elif start == 0:
            filled[start:stop] = filled[stop]
            out.append(GapRun(start, stop, "held"))
        else:
            # Usable samples only: an earlier run's filled values are not data.
            first = max(0, start - max(1, round(hold_mean_s / step_s)))
            before = original[first:start][usable[first:start]]
            filled[start:stop] = float(np.mean(before))
            out.append(GapRun(start, stop, "held"))
    return filled, tuple(out)


def check_gap(
    values: npt.ArrayLike,
    time_ms: npt.NDArray[np.int64],
    step_ms: int,
    max_gap_s: float,
    what: str,
    reader: HistorianReader,
) -> None:
    """Refuse a series whose longest run of unusable samples exceeds ``max_gap_s``.

    Parameters
    ----------
    values : array_like, shape (n,)
        The series, NaN where unusable.
    time_ms : numpy.ndarray of int64, shape (n,)
        Grid times. [ms since epoch]
    step_ms : int
        Grid step. [ms]
    max_gap_s : float
        Longest run accepted. [s]
    what : str
        How the message names the series (``tag 'X' (bindings.x)``).
    reader : HistorianReader
        The file, for its time format and path.

    Raises
    ------
    DataError
        Naming the series, the time range and its length.
    """
    runs = gap_runs(values)
    if not runs:
        return
    start, stop = max(runs, key=lambda r: r[1] - r[0])
    if (stop - start) * step_ms <= max_gap_s * 1000.0:
        return
    t0 = int(time_ms[start])
    t1 = int(time_ms[stop - 1]) + step_ms
    raise DataError(
        f"replay: {what} has no usable data from {reader.format_time(t0)} to "
        f"{reader.format_time(t1)} ({(t1 - t0) / 3.6e6:.2f} h), longer than the "
        f"{max_gap_s / 3600.0:g} h a replay fills; replay the periods before and after "
        f"it separately (--from/--to) or repair the tag"
    )


def describe_runs(what: str, runs: tuple[GapRun, ...]) -> str:
    """One line on how a series' runs were filled.

    Parameters
    ----------
    what : str
        How the line names the series.
    runs : tuple of GapRun
        Its runs (:func:`fill_gaps`).
    """
    counts = {how: sum(r.length for r in runs if r.how == how) for how in ("interpolated", "held")}
    detail = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    return f"{what}: {sum(counts.values())} steps bridged ({detail})"


def rebuild_disturbances(
    plan: DisturbancePlan,
    raw: dict[str, npt.NDArray[np.float64]],
    filled: dict[str, npt.NDArray[np.float64]],
    u_base: npt.NDArray[np.float64],
    step_s: float,
    interpolate_max_s: float,
) -> npt.NDArray[np.float64]:
    """Plant disturbances rebuilt from bound series, filled over the series' gaps.

    The operating points of the inversions (heating values, lagged flows)
    come from the filled series: a heating value missing for an hour must not
    fall back to mid-envelope, which scaled the demo's mixed-gas demand 3.4
    times.  A disturbance is then kept only where its own source was usable
    -- a lagged flow's rate only between usable samples -- and its gaps are
    filled afterwards by :func:`~energyopt.replay.gaps.fill_gaps`, so that no
    rate is differenced across the step at the end of a held run.

    Parameters
    ----------
    plan : DisturbancePlan
        How each disturbance is read from its bindings.
    raw : dict of str to numpy.ndarray
        Binding -> series as recorded, NaN where unusable. [SI]
    filled : dict of str to numpy.ndarray
        Binding -> the same series filled by :func:`fill_gaps`. [SI]
    u_base : numpy.ndarray
        Plant inputs at which the equations are evaluated. [SI]
    step_s : float
        Grid step. [s]
    interpolate_max_s : float
        Longest run of a disturbance bridged by a straight line. [s]

    Returns
    -------
    numpy.ndarray, shape (n, nd)
        Plant disturbances, finite where every source has a usable sample somewhere. [SI]
    """
    sources = {s for s in plan.sources if s is not None}
    needed = sources | {b for b, _ in plan.state_sources()}
    d = plan.reconstruct({b: filled[b] for b in needed}, u_base, step_s)
    lagged = plan.lagged()
    if lagged:
        own = {plan.sources[j] for j in lagged}
        means = {b: raw[b] if b in own else filled[b] for b in needed}
        d_lagged = plan.reconstruct(means, u_base, step_s)
    for j, source in enumerate(plan.sources):
        if source is None:
            continue
        if j in lagged:
            column = d_lagged[:, j]
        else:
            column = np.where(np.isfinite(raw[source]), d[:, j], np.nan)
        d[:, j] = fill_gaps(
            column, step_s, interpolate_max_s=interpolate_max_s, hold_mean_s=HOLD_MEAN_S
        )[0]
    return d
