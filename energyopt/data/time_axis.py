"""The ``/time`` axis of an open historian file: validation, bisection, repair.

Opening a file must stay cheap however long the file is, so the strict mode
validates the axis *lazily*, over the rows actually used:

- on open, the first and the last block of ``block_rows`` rows are read and
  checked (strictly increasing, and the first block before the last): that
  fixes the time span and catches most broken exports at once;
- :meth:`TimeAxis.searchsorted` bisects over blocks, reading and checking
  each block it probes, and checks every probed block against the nearest
  probed blocks on either side;
- :meth:`TimeAxis.read_times` checks the rows it returns, and the row just
  before them, so consecutive reads (chunked or streamed) are checked across
  their boundary.

A time axis that is not strictly increasing raises
:class:`~energyopt.errors.HistorianFormatError` naming the rows and times, on
open or on the read that meets the problem.  Memory stays at a few blocks plus
two int64 per block.

In repair mode the axis is streamed once on open; if it is messy it is loaded
whole (8 bytes a row), sorted with a stable sort, and of duplicated timestamps
the row stored last is kept; :meth:`TimeAxis.read_rows` then gathers the rows
of a logical range in time order.  That mode is for the messy exports the
strict mode refuses.
"""

from __future__ import annotations

from collections import OrderedDict
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
#: Rows per read while streaming the axis in repair mode. [-]
_SCAN_ROWS = 1 << 20
#: Blocks kept in memory after a read (a bisection revisits a few). [-]
_RECENT_BLOCKS = 4
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
        Sort the axis and drop duplicated timestamps instead of refusing them
        (streams the whole axis on open).
    block_rows : int
        Rows per block of the lazy index. [-]

    Raises
    ------
    HistorianFormatError
        If the axis is empty, holds values outside int64 or cannot be read, or
        (without ``repair``) its first or last block is not strictly
        increasing.  Later reads raise it for the rows they meet.
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
        if self._n_file_rows == 0:
            raise HistorianFormatError(f"{self._path}: /time is empty (no samples)")
        n_blocks = -(-self._n_file_rows // self._block_rows)
        #: Whether a block was read and checked; its first and last time if so.
        self._known = np.zeros(n_blocks, dtype=bool)
        self._block_first = np.zeros(n_blocks, dtype=np.int64)
        self._block_last = np.zeros(n_blocks, dtype=np.int64)
        #: The blocks read last (a bisection reads the same few again).
        self._recent: OrderedDict[int, npt.NDArray[np.int64]] = OrderedDict()
        #: File row of each logical row (``None``: identity, the file is in order).
        self._rows: npt.NDArray[np.int64] | None = None
        #: The whole repaired axis (repair mode with a change only).
        self._sorted: npt.NDArray[np.int64] | None = None
        self.n_dropped_duplicates = 0
        self.n_backward_steps = 0
        self.raw_problem: str | None = None
        self._n = self._n_file_rows
        if repair:
            problem = self._scan_all()
            if problem is not None:
                # Only a messy axis is loaded whole; a clean one is never held in memory.
                self._load_repaired(problem)
                return
        self._first = int(self._block(0)[0])
        self._last = int(self._block(n_blocks - 1)[-1])

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

    def _not_increasing(self, row: int, time_ms: int, before_row: int, before_ms: int) -> str:
        """Describe ``time_ms`` at ``row`` not being after ``before_ms`` at ``before_row``."""
        where = f"row {row}" if before_row == row - 1 else f"rows {before_row}..{row}"
        return (
            f"{where}: {time_ms} ({self._iso(time_ms)}) follows {before_ms} "
            f"({self._iso(before_ms)})"
        )

    def _refuse(self, problem: str) -> HistorianFormatError:
        return HistorianFormatError(
            f"{self._path}: /time is not strictly increasing at {problem}; open it "
            "with repair_time=True to sort it and drop duplicates"
        )

    def _block(self, block: int) -> npt.NDArray[np.int64]:
        """Read block ``block`` and check it, inside and against the nearest checked blocks."""
        times = self._recent.get(block)
        if times is not None:
            self._recent.move_to_end(block)
            return times
        start = block * self._block_rows
        times = self._read_file(start, min(start + self._block_rows, self._n_file_rows))
        problem = _first_not_increasing(times, None)
        if problem is not None:
            i, before = problem
            raise self._refuse(
                self._not_increasing(start + i, int(times[i]), start + i - 1, before)
            )
        first, last = int(times[0]), int(times[-1])
        if not self._known[block]:
            left = np.flatnonzero(self._known[:block])
            if left.size and self._block_last[left[-1]] >= first:
                b = int(left[-1])
                before_row = min((b + 1) * self._block_rows, self._n_file_rows) - 1
                raise self._refuse(
                    self._not_increasing(start, first, before_row, int(self._block_last[b]))
                )
            right = np.flatnonzero(self._known[block + 1 :])
            if right.size and self._block_first[block + 1 + right[0]] <= last:
                b = block + 1 + int(right[0])
                raise self._refuse(
                    self._not_increasing(
                        b * self._block_rows,
                        int(self._block_first[b]),
                        start + times.size - 1,
                        last,
                    )
                )
            self._known[block] = True
            self._block_first[block], self._block_last[block] = first, last
        self._recent[block] = times
        if len(self._recent) > _RECENT_BLOCKS:
            self._recent.popitem(last=False)
        return times

    def _first_of(self, block: int) -> int:
        if self._known[block]:
            return int(self._block_first[block])
        return int(self._block(block)[0])

    def _scan_all(self) -> str | None:
        """Stream the whole axis; record every block, or describe the first problem."""
        previous: int | None = None
        step = max(self._block_rows, (_SCAN_ROWS // self._block_rows) * self._block_rows)
        for start in range(0, self._n_file_rows, step):
            times = self._read_file(start, min(start + step, self._n_file_rows))
            problem = _first_not_increasing(times, previous)
            if problem is not None:
                i, before = problem
                return self._not_increasing(start + i, int(times[i]), start + i - 1, before)
            heads = np.arange(0, times.size, self._block_rows)
            blocks = start // self._block_rows + np.arange(heads.size)
            self._block_first[blocks] = times[heads]
            self._block_last[blocks] = times[np.minimum(heads + self._block_rows, times.size) - 1]
            previous = int(times[-1])
        self._known[:] = True
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
        # Bisect for the last block whose first time is <= time_ms; block 0's
        # first time is below time_ms, so that block exists.
        lo, hi = 1, self._known.size
        while lo < hi:
            mid = (lo + hi) // 2
            if self._first_of(mid) <= time_ms:
                lo = mid + 1
            else:
                hi = mid
        block = lo - 1
        times = self._block(block)
        return block * self._block_rows + int(np.searchsorted(times, time_ms, side="left"))

    def read_times(self, lo: int, hi: int) -> npt.NDArray[np.int64]:
        """Return the times of logical rows ``lo .. hi-1`` [ms since epoch].

        Raises
        ------
        HistorianFormatError
            If those rows, with the row before ``lo``, are not strictly
            increasing (strict mode), or cannot be read.
        """
        if self._sorted is not None:
            return self._sorted[lo:hi].copy()
        if hi <= lo:
            return np.empty(0, dtype=np.int64)
        start = max(lo - 1, 0)
        times = self._read_file(start, hi)
        problem = _first_not_increasing(times, None)
        if problem is not None:
            i, before = problem
            raise self._refuse(
                self._not_increasing(start + i, int(times[i]), start + i - 1, before)
            )
        return times[lo - start :]

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
                if dataset.dtype == dtype:  # h5py's direct path, without a conversion wrapper
                    return np.asarray(dataset[lo:hi])
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
