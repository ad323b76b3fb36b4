"""The ``/time`` axis of an open historian file: validation, bisection, repair.

:class:`TimeAxis` validates the axis once, streaming it in large slices (its
memory use does not grow with the file), and keeps a sparse index: the first
time of every block of ``block_rows`` rows.  A time is then located by a
binary search on that index followed by one in a single block read from the
file (:meth:`TimeAxis.searchsorted`), so time-range reads never load the axis.

In repair mode the axis is loaded whole (8 bytes a row), sorted with a stable
sort, and of duplicated timestamps the row stored last is kept;
:meth:`TimeAxis.read_rows` then gathers the rows of a logical range in time
order.  That mode is for the messy exports the strict mode refuses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from energyopt.data.format import format_time_ms
from energyopt.errors import HistorianFormatError

if TYPE_CHECKING:
    from pathlib import Path

    import h5py

__all__ = ["DEFAULT_BLOCK_ROWS", "TimeAxis"]

#: Rows per block of the sparse time index (one 64 KiB read to bisect in,
#: one chunk of files written by energyopt).
DEFAULT_BLOCK_ROWS = 8_192
#: Rows per read while validating the axis on open. [-]
_SCAN_ROWS = 1 << 20
#: Time steps sampled at the start, middle and end to estimate the sampling. [-]
_SAMPLING_STEPS = 1000
_INT64_MAX = np.iinfo(np.int64).max


class TimeAxis:
    """Validated access to the ``/time`` dataset.

    Parameters
    ----------
    dataset : h5py.Dataset
        The ``/time`` dataset (integer, 1-D, not empty; checked by the caller).
    path : pathlib.Path
        File path, for messages.
    repair : bool
        Sort the axis and drop duplicated timestamps instead of refusing them.
    block_rows : int
        Rows per block of the sparse index. [-]

    Raises
    ------
    HistorianFormatError
        If the axis is not strictly increasing (without ``repair``), holds
        values outside int64, or cannot be read.
    """

    def __init__(
        self,
        dataset: h5py.Dataset,
        path: Path,
        *,
        repair: bool = False,
        block_rows: int = DEFAULT_BLOCK_ROWS,
    ) -> None:
        self._dataset = dataset
        self._path = path
        self._block_rows = int(block_rows)
        self._n_file_rows = int(dataset.shape[0])
        #: File row of each logical row (``None``: identity, the file is in order).
        self._rows: npt.NDArray[np.int64] | None = None
        #: The whole repaired axis (repair mode with a change only).
        self._sorted: npt.NDArray[np.int64] | None = None
        self.n_dropped_duplicates = 0
        self.n_backward_steps = 0
        self.raw_problem: str | None = None
        problem = self._scan_strict()
        if problem is not None:
            if not repair:
                raise HistorianFormatError(
                    f"{self._path}: /time is not strictly increasing at {problem}; open it "
                    "with repair_time=True to sort it and drop duplicates"
                )
            # Only a messy axis is loaded whole; a clean one is never held in memory.
            self._load_repaired(problem)

    # ----------------------------------------------------------- properties

    @property
    def n(self) -> int:
        """Number of logical rows, after repair if any."""
        return self._n

    @property
    def repaired(self) -> bool:
        """Whether the rows are reordered or thinned relative to the file."""
        return self._rows is not None

    @property
    def first_ms(self) -> int:
        """First time [ms since epoch]."""
        return self._first

    @property
    def last_ms(self) -> int:
        """Last time [ms since epoch]."""
        return self._last

    # ------------------------------------------------------------- loading

    def _read_file(self, start: int, stop: int) -> npt.NDArray[np.int64]:
        try:
            raw = self._dataset[start:stop]
        except (OSError, ValueError, RuntimeError) as exc:
            raise HistorianFormatError(
                f"{self._path}: cannot read /time rows {start}..{stop - 1} "
                f"(file truncated or corrupt?): {exc}"
            ) from None
        if raw.dtype == np.uint64 and raw.size and int(raw.max()) > _INT64_MAX:
            raise HistorianFormatError(f"{self._path}: /time holds values beyond the int64 range")
        return np.asarray(raw).astype(np.int64, copy=False)

    def _scan_strict(self) -> str | None:
        """Stream the axis; build the sparse index, or describe the first problem."""
        firsts: list[npt.NDArray[np.int64]] = []
        previous: int | None = None
        step = max(self._block_rows, (_SCAN_ROWS // self._block_rows) * self._block_rows)
        for start in range(0, self._n_file_rows, step):
            times = self._read_file(start, min(start + step, self._n_file_rows))
            problem = _first_not_increasing(times, previous)
            if problem is not None:
                i, before = problem
                return (
                    f"row {start + i}: {int(times[i])} ({self._iso(int(times[i]))}) "
                    f"follows {before} ({self._iso(before)})"
                )
            firsts.append(times[:: self._block_rows])
            previous = int(times[-1])
        self._block_first = np.concatenate(firsts)
        self._n = self._n_file_rows
        self._first = int(self._block_first[0])
        self._last = int(previous) if previous is not None else self._first
        return None

    def _load_repaired(self, problem: str) -> None:
        times = self._read_file(0, self._n_file_rows)
        self.raw_problem = problem
        order = np.argsort(times, kind="stable")
        ordered = times[order]
        # Of equal times the stable sort keeps file order, so the last of a run
        # is the row stored last.
        keep = np.ones(ordered.size, dtype=bool)
        keep[:-1] = ordered[1:] != ordered[:-1]
        self.n_dropped_duplicates = int(ordered.size - np.count_nonzero(keep))
        self._rows = order[keep].astype(np.int64)
        self._sorted = ordered[keep]
        self.n_backward_steps = int(np.count_nonzero(np.diff(times) < 0))
        self._n, self._first, self._last = (
            self._sorted.size,
            int(self._sorted[0]),
            int(self._sorted[-1]),
        )

    def _iso(self, time_ms: int) -> str:
        return format_time_ms(time_ms, "UTC")

    # ------------------------------------------------------------- queries

    def searchsorted(self, time_ms: int) -> int:
        """Return the first logical row whose time is ``>= time_ms``.

        Parameters
        ----------
        time_ms : int
            Time to locate. [ms since epoch]

        Returns
        -------
        int
            Row index in ``0 .. n``.
        """
        if self._sorted is not None:
            return int(np.searchsorted(self._sorted, time_ms, side="left"))
        if time_ms <= self._first:
            return 0
        if time_ms > self._last:
            return self._n
        block = int(np.searchsorted(self._block_first, time_ms, side="right")) - 1
        start = block * self._block_rows
        times = self._read_file(start, min(start + self._block_rows, self._n))
        return start + int(np.searchsorted(times, time_ms, side="left"))

    def read_times(self, lo: int, hi: int) -> npt.NDArray[np.int64]:
        """Return the times of logical rows ``lo .. hi-1``. [ms since epoch]."""
        if self._sorted is not None:
            return self._sorted[lo:hi].copy()
        return self._read_file(lo, hi)

    def read_rows(self, dataset: h5py.Dataset, lo: int, hi: int, dtype: Any) -> npt.NDArray[Any]:
        """Read logical rows ``lo .. hi-1`` of a dataset sharing this axis.

        Parameters
        ----------
        dataset : h5py.Dataset
            A 1-D dataset with as many rows as ``/time``.
        lo, hi : int
            Logical row range.
        dtype : numpy dtype
            Type of the returned array (HDF5 converts while reading).

        Returns
        -------
        numpy.ndarray
            The rows, in time order.

        Raises
        ------
        HistorianFormatError
            If HDF5 cannot read the rows (truncated or corrupt file).
        """
        try:
            if self._rows is None:
                if hi <= lo:
                    return np.empty(0, dtype=dtype)
                return np.asarray(dataset.astype(dtype)[lo:hi])
            rows = self._rows[lo:hi]
            if rows.size == 0:
                return np.empty(0, dtype=dtype)
            first, last = int(rows.min()), int(rows.max())
            block = np.asarray(dataset.astype(dtype)[first : last + 1])
            return block[rows - first]
        except (OSError, ValueError, RuntimeError) as exc:
            raise HistorianFormatError(
                f"{self._path}: cannot read {dataset.name} rows {lo}..{hi - 1} "
                f"(file truncated or corrupt?): {exc}"
            ) from None

    def sampling_ms(self) -> float | None:
        """Return the median time step of three short windows (start, middle, end).

        Returns
        -------
        float or None
            Median of the positive steps among up to 3 x 1000 steps; ``None``
            for a single sample. [ms]
        """
        if self._n < 2:
            return None
        steps = []
        half = _SAMPLING_STEPS // 2
        for centre in (0, self._n // 2, self._n - 1):
            lo = max(0, min(centre - half, self._n - _SAMPLING_STEPS - 1))
            hi = min(self._n, lo + _SAMPLING_STEPS + 1)
            steps.append(np.diff(self.read_times(lo, hi)))
        positive = np.concatenate(steps)
        positive = positive[positive > 0]
        return float(np.median(positive)) if positive.size else None

    def raw_chunks(self, chunk_rows: int) -> list[tuple[int, int]]:
        """Return the file row ranges ``(start, stop)`` covering ``/time`` in file order."""
        return [
            (start, min(start + chunk_rows, self._n_file_rows))
            for start in range(0, self._n_file_rows, chunk_rows)
        ]

    def read_raw(self, start: int, stop: int) -> npt.NDArray[np.int64]:
        """Return file rows ``start .. stop-1`` of ``/time`` as stored (not repaired)."""
        return self._read_file(start, stop)


def _first_not_increasing(
    times: npt.NDArray[np.int64], previous: int | None
) -> tuple[int, int] | None:
    """Find the first ``i`` with ``times[i] <= times[i-1]`` (``times[0] <= previous``).

    Returns
    -------
    tuple of int or None
        ``(i, time before row i)``, or ``None`` if the times increase strictly.
    """
    if times.size == 0:
        return None
    if previous is not None and times[0] <= previous:
        return 0, previous
    bad = np.flatnonzero(times[1:] <= times[:-1])
    if bad.size == 0:
        return None
    i = int(bad[0]) + 1
    return i, int(times[i - 1])
