"""Run bookkeeping of the data-quality scanner.

:class:`RunAccumulator` merges flagged samples into runs across chunk
boundaries, with the same result for any chunking of the same series, which
the scanner's chunk invariance rests on.  Spike scoring is in
:mod:`energyopt.data.quality_spikes`; the findings themselves are built in
:mod:`energyopt.data.quality_scanner`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["RunAccumulator", "Runs", "format_duration"]

_FloatArray = npt.NDArray[np.float64]
_IntArray = npt.NDArray[np.int64]


@dataclass
class Runs:
    """Runs of consecutive flagged samples, one entry per run (parallel arrays).

    Attributes
    ----------
    first_idx, last_idx : numpy.ndarray
        Global index of the first and last flagged item of each run.
    start_ms, end_ms : numpy.ndarray
        Start time of the first item and end time of the last item. [ms since epoch]
    count : numpy.ndarray
        Number of flagged items in each run.
    stats : dict of str to numpy.ndarray
        Per-run statistics named when the accumulator was created.
    """

    first_idx: _IntArray
    last_idx: _IntArray
    start_ms: _IntArray
    end_ms: _IntArray
    count: _IntArray
    stats: dict[str, _FloatArray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.first_idx.size)

    def select(self, keep: npt.NDArray[np.bool_] | slice) -> Runs:
        """Return the runs selected by a boolean mask or slice."""
        return Runs(
            self.first_idx[keep],
            self.last_idx[keep],
            self.start_ms[keep],
            self.end_ms[keep],
            self.count[keep],
            {name: arr[keep] for name, arr in self.stats.items()},
        )

    @staticmethod
    def concatenate(parts: list[Runs], stat_names: list[str]) -> Runs:
        """Concatenate runs in order."""
        empty_i = np.empty(0, dtype=np.int64)

        def cat(arrays: list[_IntArray]) -> _IntArray:
            return np.concatenate(arrays) if arrays else empty_i

        return Runs(
            cat([p.first_idx for p in parts]),
            cat([p.last_idx for p in parts]),
            cat([p.start_ms for p in parts]),
            cat([p.end_ms for p in parts]),
            cat([p.count for p in parts]),
            {
                name: np.concatenate([p.stats[name] for p in parts])
                if parts
                else np.empty(0, dtype=np.float64)
                for name in stat_names
            },
        )


class RunAccumulator:
    """Merge flagged items, given chunk by chunk in index order, into runs.

    Items are identified by a global, increasing integer index; items whose
    indices are consecutive form one run, also across calls of :meth:`add`.

    Parameters
    ----------
    reduce_ops : dict of str to numpy.ufunc
        Statistics reduced over each run with a binary ufunc (``np.fmin``, ...).
    first_stats : tuple of str
        Statistics that keep the value of the run's first item.
    argmax : tuple of str
        ``(key, *followers)``: keep, for each run, the followers' values at the
        item with the largest ``key`` (the first such item on ties).
    keep : callable, optional
        Filter applied to completed runs (all but the last run seen, which may
        still grow); it receives :class:`Runs` and returns a boolean mask.
    """

    def __init__(
        self,
        *,
        reduce_ops: dict[str, np.ufunc] | None = None,
        first_stats: tuple[str, ...] = (),
        argmax: tuple[str, ...] = (),
        keep: Callable[[Runs], npt.NDArray[np.bool_]] | None = None,
    ) -> None:
        self._ops = dict(reduce_ops or {})
        self._first = first_stats
        self._argmax = argmax
        self._keep = keep
        self._names = [*self._ops, *self._first, *self._argmax]
        self._done: list[Runs] = []
        self._last: Runs | None = None

    def add(
        self,
        idx: _IntArray,
        start_ms: _IntArray,
        end_ms: _IntArray,
        stats: dict[str, _FloatArray] | None = None,
    ) -> None:
        """Add flagged items (indices increasing, all above earlier calls' indices).

        Parameters
        ----------
        idx : numpy.ndarray
            Global indices of the flagged items.
        start_ms, end_ms : numpy.ndarray
            Start and end time of each item. [ms since epoch]
        stats : dict of str to numpy.ndarray, optional
            Per-item values of every statistic named at construction.
        """
        if idx.size == 0:
            return
        stats = stats or {}
        n = idx.size
        breaks = np.flatnonzero(np.diff(idx) != 1) + 1
        starts = np.concatenate(([0], breaks))
        ends = np.concatenate((breaks, [n])) - 1
        run_stats: dict[str, _FloatArray] = {}
        for name, op in self._ops.items():
            run_stats[name] = op.reduceat(stats[name], starts)
        for name in self._first:
            run_stats[name] = stats[name][starts]
        if self._argmax:
            key, *followers = self._argmax
            best = np.maximum.reduceat(stats[key], starts)
            run_of_item = np.repeat(np.arange(starts.size), ends - starts + 1)
            # First item of each run whose key equals the run's maximum.
            is_best = stats[key] == best[run_of_item]
            position = np.where(is_best, np.arange(n), n)
            at = np.minimum.reduceat(position, starts)
            run_stats[key] = best
            for name in followers:
                run_stats[name] = stats[name][at]
        runs = Runs(
            idx[starts].astype(np.int64),
            idx[ends].astype(np.int64),
            start_ms[starts].astype(np.int64),
            end_ms[ends].astype(np.int64),
            (ends - starts + 1).astype(np.int64),
            run_stats,
        )
        if self._last is not None and int(self._last.last_idx[0]) + 1 == int(runs.first_idx[0]):
            self._last = self._merge(self._last, runs.select(slice(0, 1)))
            runs = runs.select(slice(1, None))
        if len(runs) == 0:
            return
        if self._last is not None:
            self._store(self._last)
        self._store(runs.select(slice(0, -1)))
        self._last = runs.select(slice(-1, None))

    def result(self) -> Runs:
        """Return every run so far (the last run filtered as well)."""
        parts = list(self._done)
        if self._last is not None:
            parts.append(self._filtered(self._last))
        return Runs.concatenate(parts, self._names)

    def _filtered(self, runs: Runs) -> Runs:
        if self._keep is None or len(runs) == 0:
            return runs
        return runs.select(self._keep(runs))

    def _store(self, runs: Runs) -> None:
        runs = self._filtered(runs)
        if len(runs):
            self._done.append(runs)

    def _merge(self, old: Runs, new: Runs) -> Runs:
        stats: dict[str, _FloatArray] = {}
        for name, op in self._ops.items():
            stats[name] = op(old.stats[name], new.stats[name])
        for name in self._first:
            stats[name] = old.stats[name]
        if self._argmax:
            key, *followers = self._argmax
            source = new if bool(new.stats[key][0] > old.stats[key][0]) else old
            for name in (key, *followers):
                stats[name] = source.stats[name]
        return Runs(
            old.first_idx,
            new.last_idx,
            old.start_ms,
            new.end_ms,
            old.count + new.count,
            stats,
        )


def format_duration(duration_ms: float) -> str:
    """Format a duration for humans: ``"350 ms"``, ``"42 s"``, ``"3.5 min"``, ``"3.5 h"``.

    Parameters
    ----------
    duration_ms : float
        Duration. [ms]

    Returns
    -------
    str
        The duration with a suitable unit.
    """
    seconds = duration_ms / 1000.0
    if abs(seconds) < 1.0:
        return f"{duration_ms:.0f} ms"
    if abs(seconds) < 120.0:
        return f"{seconds:.3g} s"
    if abs(seconds) < 7200.0:
        return f"{seconds / 60.0:.3g} min"
    if abs(seconds) < 2 * 86400.0:
        return f"{seconds / 3600.0:.3g} h"
    return f"{seconds / 86400.0:.3g} d"
