"""Streaming spike detection: a rolling median / MAD (Hampel) score in chunks.

:class:`HampelStream` scores a series fed chunk by chunk, bit-identically for
any chunking; :class:`SpikeDetector` applies it to the samples that change and
returns spike items for :class:`~energyopt.data.quality_detectors.RunAccumulator`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import median_filter

__all__ = ["MAD_TO_SIGMA", "HampelStream", "SpikeDetector"]

#: Factor turning a median absolute deviation into a standard deviation for
#: normally distributed data, 1 / Phi^-1(3/4) (Rousseeuw and Croux 1993).
MAD_TO_SIGMA = 1.482602218505602


#: Rows per block when the windowed MAD is evaluated, bounding the temporary
#: (rows x window) array to a few tens of MB.
_MAD_BLOCK_ROWS = 65_536

_FloatArray = npt.NDArray[np.float64]
_IntArray = npt.NDArray[np.int64]


class HampelStream:
    """Rolling median / MAD outlier score of a series fed in chunks.

    The window holds ``window`` consecutive *finite* samples centred on the
    sample scored (NaNs are skipped), truncated at the series ends.  The score
    of sample ``i`` is ``|v_i - med_i| / s_i`` with ``med_i`` the window median,
    ``s_i = max(MAD_TO_SIGMA * MAD_i, min_scale_abs, min_scale_rel * |med_i|)``
    and ``MAD_i`` the median of ``|v_j - med_i|`` over the window (Hampel
    identifier).  A zero scale (MAD zero, so at least half the window is one
    value, and no floor) cannot tell a spike from noise: it scores 0.

    Scores are delayed by half a window: :meth:`feed` returns the samples whose
    window is complete, :meth:`finish` the remaining ones.

    Parameters
    ----------
    window : int
        Odd window length. [samples]
    min_scale_abs : float
        Lower bound of the scale. [tag unit]
    min_scale_rel : float
        Lower bound of the scale relative to the local median. [-]
    """

    def __init__(self, window: int, min_scale_abs: float = 0.0, min_scale_rel: float = 0.0):
        self._half = window // 2
        self._window = 2 * self._half + 1
        self._min_abs = min_scale_abs
        self._min_rel = min_scale_rel
        self._n_seen = 0  # finite samples fed so far
        # Last (up to) 2*half finite samples: context + the pending half window.
        self._buf_v = np.empty(0, dtype=np.float64)
        self._buf_i = np.empty(0, dtype=np.int64)
        self._buf_t = np.empty(0, dtype=np.int64)
        self._n_pending = 0

    def feed(
        self, idx: _IntArray, time_ms: _IntArray, values: _FloatArray
    ) -> tuple[_IntArray, _IntArray, _FloatArray, _FloatArray, _FloatArray]:
        """Add finite samples; return ``(idx, time_ms, value, median, z)`` of newly scored ones."""
        v = np.concatenate((self._buf_v, values))
        gi = np.concatenate((self._buf_i, idx))
        gt = np.concatenate((self._buf_t, time_ms))
        offset = self._n_seen - self._buf_v.size  # global finite position of v[0]
        self._n_seen += values.size
        first = self._buf_v.size - self._n_pending  # first position to score
        stop = v.size - self._half  # positions >= stop lack their right half
        scored = self._score(v, offset, first, max(first, stop), truncate_right=False)
        keep = min(v.size, 2 * self._half)
        self._buf_v, self._buf_i, self._buf_t = v[-keep:], gi[-keep:], gt[-keep:]
        if keep == 0:
            self._buf_v, self._buf_i, self._buf_t = v[:0], gi[:0], gt[:0]
        self._n_pending = min(keep, v.size - max(first, stop))
        sel = slice(first, max(first, stop))
        return gi[sel], gt[sel], v[sel], scored[0], scored[1]

    def finish(self) -> tuple[_IntArray, _IntArray, _FloatArray, _FloatArray, _FloatArray]:
        """Score the pending samples with windows truncated at the series end."""
        v = self._buf_v
        offset = self._n_seen - v.size
        first = v.size - self._n_pending
        med, z = self._score(v, offset, first, v.size, truncate_right=True)
        sel = slice(first, v.size)
        self._n_pending = 0
        return self._buf_i[sel], self._buf_t[sel], v[sel], med, z

    def _score(
        self, v: _FloatArray, offset: int, first: int, stop: int, *, truncate_right: bool
    ) -> tuple[_FloatArray, _FloatArray]:
        """Median and score of positions ``first .. stop-1`` of ``v``."""
        h = self._half
        n_out = stop - first
        med = np.empty(n_out)
        mad = np.empty(n_out)
        # Positions whose window is cut by the series start (global position < h)
        # or, at finish, by its end: at most 2h of them, scored one by one.
        edge = np.zeros(n_out, dtype=bool)
        edge[: max(0, min(n_out, h - offset - first))] = True
        if truncate_right:
            edge[:] = True
        body = np.flatnonzero(~edge)
        if body.size:
            # Body positions are contiguous, each with a full window inside v.
            lo, hi = first + int(body[0]), first + int(body[-1]) + 1
            segment = v[lo - h : hi + h]
            # scipy's C median filter (exact for an odd window); the mode only
            # affects the first/last h outputs, which are cut off here.
            med_body = median_filter(segment, size=self._window, mode="nearest")[h : -h or None]
            med[body] = med_body
            mad[body] = _windowed_mad(segment, med_body, self._window)
        for k in np.flatnonzero(edge):
            pos = first + int(k)
            window = v[max(0, pos - h) : min(v.size, pos + h + 1)]
            med[k] = np.median(window)
            mad[k] = np.median(np.abs(window - med[k]))
        values = v[first:stop]
        dev = np.abs(values - med)
        scale = np.maximum(MAD_TO_SIGMA * mad, self._min_abs)
        scale = np.maximum(scale, self._min_rel * np.abs(med))
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(scale > 0, dev / scale, 0.0)
        return med, z


class SpikeDetector:
    """Spikes of a chunked series: :class:`HampelStream` on the samples that change.

    Samples equal to the previous finite sample (within ``|dv| <= repeat_atol +
    repeat_rtol |v_prev|``) carry no new information: they are left out of the
    windows, like NaNs, so that held or frozen stretches do not shrink the MAD
    of their neighbours' windows, and they share the verdict of the sample they
    repeat.

    Parameters
    ----------
    z_threshold : float
        Score above which a sample is a spike. [-]
    window, min_scale_abs, min_scale_rel
        As in :class:`HampelStream`.
    repeat_atol : float
        Largest change still counted as a repeat. [tag unit]
    repeat_rtol : float
        Same, relative to the previous value. [-]
    """

    def __init__(
        self,
        z_threshold: float,
        window: int,
        min_scale_abs: float = 0.0,
        min_scale_rel: float = 0.0,
        repeat_atol: float = 0.0,
        repeat_rtol: float = 0.0,
    ) -> None:
        self._threshold = z_threshold
        self._hampel = HampelStream(window, min_scale_abs, min_scale_rel)
        self._atol = repeat_atol
        self._rtol = repeat_rtol
        self._last_value = np.nan
        self._last_anchor = -1
        # Repeats waiting for their anchor's verdict, as ranges of consecutive
        # samples: columns anchor, first index, last index, first time, last time.
        self._pending = np.empty((0, 5), dtype=np.int64)

    def feed(
        self, idx: _IntArray, time_ms: _IntArray, values: _FloatArray
    ) -> tuple[_IntArray, _IntArray, _IntArray, dict[str, _FloatArray]]:
        """Add finite samples; return newly found spike items, in index order.

        Returns
        -------
        tuple
            ``(idx, start_ms, end_ms, stats)`` ready for :meth:`RunAccumulator.add`,
            ``stats`` holding ``z``, ``value`` and ``median``.
        """
        if idx.size:
            previous = np.concatenate(([self._last_value], values[:-1]))
            with np.errstate(invalid="ignore"):
                repeat = np.abs(values - previous) <= self._atol + self._rtol * np.abs(previous)
            anchor = np.maximum.accumulate(np.where(repeat, -1, idx))
            anchor = np.maximum(anchor, self._last_anchor)
            self._queue_repeats(idx[repeat], time_ms[repeat], anchor[repeat])
            self._last_value = float(values[-1])
            self._last_anchor = int(anchor[-1])
            changed = ~repeat
            scored = self._hampel.feed(idx[changed], time_ms[changed], values[changed])
        else:
            scored = self._hampel.feed(idx, time_ms, values)
        return self._resolve(*scored)

    def finish(self) -> tuple[_IntArray, _IntArray, _IntArray, dict[str, _FloatArray]]:
        """Score the samples still pending; same return value as :meth:`feed`."""
        return self._resolve(*self._hampel.finish())

    def _queue_repeats(self, idx: _IntArray, time_ms: _IntArray, anchor: _IntArray) -> None:
        if idx.size == 0:
            return
        cut = np.flatnonzero((np.diff(idx) != 1) | (np.diff(anchor) != 0)) + 1
        first = np.concatenate(([0], cut))
        last = np.concatenate((cut, [idx.size])) - 1
        ranges = np.column_stack(
            (anchor[first], idx[first], idx[last], time_ms[first], time_ms[last])
        )
        self._pending = np.concatenate((self._pending, ranges))

    def _resolve(
        self,
        idx: _IntArray,
        time_ms: _IntArray,
        value: _FloatArray,
        med: _FloatArray,
        z: _FloatArray,
    ) -> tuple[_IntArray, _IntArray, _IntArray, dict[str, _FloatArray]]:
        hit = z > self._threshold
        parts_idx = [idx[hit]]
        parts_start = [time_ms[hit]]
        parts_end = [time_ms[hit]]
        parts_pos = [np.flatnonzero(hit)]
        if idx.size and self._pending.size:
            # Every repeat of an anchor scored now has been fed: the sample after
            # the anchor's repeats is in the anchor's (already complete) window.
            n_done = int(np.searchsorted(self._pending[:, 0], idx[-1], side="right"))
            done, self._pending = self._pending[:n_done], self._pending[n_done:]
            pos = np.searchsorted(idx, done[:, 0])
            spiked = hit[pos]
            done, pos = done[spiked], pos[spiked]
            lengths = done[:, 2] - done[:, 1] + 1
            offsets = np.arange(int(lengths.sum())) - np.repeat(
                np.cumsum(lengths) - lengths, lengths
            )
            parts_idx.append(np.repeat(done[:, 1], lengths) + offsets)
            parts_start.append(np.repeat(done[:, 3], lengths))
            parts_end.append(np.repeat(done[:, 4], lengths))
            parts_pos.append(np.repeat(pos, lengths))
        all_idx = np.concatenate(parts_idx)
        order = np.argsort(all_idx, kind="stable")
        source = np.concatenate(parts_pos)[order]
        stats = {"z": z[source], "value": value[source], "median": med[source]}
        return (
            all_idx[order],
            np.concatenate(parts_start)[order],
            np.concatenate(parts_end)[order],
            stats,
        )


def _windowed_mad(segment: _FloatArray, med: _FloatArray, window: int) -> _FloatArray:
    """Median over each full window of ``segment`` of ``|x - med|`` (one median per window).

    Hand-written because the deviation is taken from the *centre* sample's
    median, which no separable filter (``median_filter`` of a fixed signal)
    provides; ``np.partition`` on strided windows keeps it vectorised.
    """
    windows = sliding_window_view(segment, window)
    out = np.empty(med.size)
    half = window // 2
    for start in range(0, med.size, _MAD_BLOCK_ROWS):
        block = slice(start, start + _MAD_BLOCK_ROWS)
        dev = np.abs(windows[block] - med[block, None])
        out[block] = np.partition(dev, half, axis=1)[:, half]
    return out
