"""Apply a :class:`~energyopt.data.quality_types.QualityPolicy` to one series.

Re-exported by :mod:`energyopt.data.quality`; see :func:`apply_policy`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from energyopt.data.quality_scanner import QualityScanner
from energyopt.data.quality_types import PolicyAction, QualityFinding, QualityPolicy
from energyopt.errors import DataError

__all__ = ["QUALITY_BAD", "QUALITY_GOOD", "QUALITY_SUBSTITUTED", "apply_policy"]

#: Quality codes of the historian format (``/quality/<tag>``).
QUALITY_GOOD = 0
QUALITY_BAD = 1
QUALITY_SUBSTITUTED = 2

#: Precedence of actions when one sample has several issues (higher wins).
_RANK: dict[str, int] = {"keep": 0, "mark_bad": 1, "interpolate": 2, "drop": 3}


def apply_policy(
    time_ms: npt.ArrayLike,
    values: npt.ArrayLike,
    quality: npt.ArrayLike | None,
    policy: QualityPolicy | None,
    *,
    findings: Sequence[QualityFinding] | None = None,
    expected_range: tuple[float, float] | None = None,
    tag: str | None = None,
    kind: str | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint8]]:
    """Return cleaned values and quality codes according to a policy.

    Each sample gets the action of every issue it has; the strongest wins
    (``drop`` > ``interpolate`` > ``mark_bad`` > ``keep``):

    ============================  =====================================  ===============
    action                        value                                  quality code
    ============================  =====================================  ===============
    ``keep``                      unchanged                              unchanged
    ``mark_bad``                  unchanged                              1 (bad)
    ``drop``                      NaN                                    1 (bad)
    ``interpolate``, bridged      linear in time between the nearest     2 (substituted)
                                  good neighbours, at most
                                  ``interpolate_max_gap_s`` apart
    ``interpolate``, not bridged  NaN (neighbours further apart, or      1 (bad)
                                  none on one side: no extrapolation)
    ============================  =====================================  ===============

    A good neighbour is a finite sample that is neither dropped nor
    interpolated and whose resulting quality code is not 1.  Issues and their
    actions: non-finite values -> ``on_nan``; input quality codes in
    ``bad_quality_codes`` -> ``on_bad_quality``; ``spike``, ``frozen`` and
    ``out_of_range`` findings -> ``on_spike``, ``on_frozen``,
    ``on_out_of_range``, applied to every sample whose time lies in the
    finding's inclusive range.  Time-axis issues (gaps, duplicated or backward
    timestamps) do not change values.

    Parameters
    ----------
    time_ms : array_like of int
        Sample times, non-decreasing, shape (N,). [ms since epoch]
    values : array_like of float
        Values, shape (N,). [tag unit]
    quality : array_like of int or None
        Input quality codes, shape (N,); ``None`` means all good.
    policy : QualityPolicy or None
        The actions; the :class:`QualityPolicy` defaults if ``None``.  The
        policy of the tag's kind applies (``policy.for_kind(kind)``).
    findings : sequence of QualityFinding, optional
        Findings of this series (for instance from a chunked scan); scanned
        here (as by :func:`~energyopt.data.quality.scan_series`) if omitted.
    expected_range : (float, float), optional
        Valid value range, used only when the findings are scanned here. [tag unit]
    tag : str, optional
        Use only the findings of this tag.
    kind : str, optional
        What the tag measures (selects the per-kind policy).

    Returns
    -------
    values : numpy.ndarray
        Cleaned values, float64, shape (N,). [tag unit]
    quality : numpy.ndarray
        Quality codes, uint8, shape (N,): 0 good, 1 bad, 2 substituted.

    Raises
    ------
    DataError
        If the shapes differ, the times are not integers or go backwards.
    """
    policy = (policy or QualityPolicy()).for_kind(kind)
    t, v, q_in = _as_arrays(time_ms, values, quality)
    if findings is None:
        scanner = QualityScanner(
            tag or "", policy=policy, expected_range=expected_range, check_time_axis=False
        )
        scanner.feed(t, v, q_in)
        findings = scanner.finish()
    elif tag is not None:
        findings = [f for f in findings if f.tag == tag]

    rank = np.zeros(t.size, dtype=np.int8)
    _raise_rank(rank, ~np.isfinite(v), policy.on_nan)
    _raise_rank(rank, np.isin(q_in, policy.bad_quality_codes), policy.on_bad_quality)
    for issue, action in (
        ("spike", policy.on_spike),
        ("frozen", policy.on_frozen),
        ("out_of_range", policy.on_out_of_range),
    ):
        ranges = [(f.start_ms, f.end_ms) for f in findings if f.issue == issue]
        _raise_rank(rank, _mask_of_ranges(t, ranges), action)

    out_v = v.copy()
    out_q = q_in.astype(np.uint8, copy=True)
    out_q[rank == _RANK["mark_bad"]] = QUALITY_BAD
    drop = rank == _RANK["drop"]
    out_v[drop] = np.nan
    out_q[drop] = QUALITY_BAD
    target = np.flatnonzero(rank == _RANK["interpolate"])
    if target.size:
        anchor = np.isfinite(out_v) & (rank == 0) & (out_q != QUALITY_BAD)
        _interpolate(t, out_v, out_q, target, np.flatnonzero(anchor), policy)
    return out_v, out_q


def _as_arrays(
    time_ms: npt.ArrayLike, values: npt.ArrayLike, quality: npt.ArrayLike | None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.uint8]]:
    t = np.asarray(time_ms)
    if t.ndim != 1 or (t.size and not np.issubdtype(t.dtype, np.integer)):
        raise DataError(f"time_ms must be a 1-D integer array, got {t.dtype} {t.shape}")
    t = t.astype(np.int64, copy=False)
    v = np.asarray(values, dtype=np.float64)
    if v.shape != t.shape:
        raise DataError(f"values shape {v.shape} does not match time_ms shape {t.shape}")
    if quality is None:
        q = np.zeros(t.shape, dtype=np.uint8)
    else:
        q = np.asarray(quality).astype(np.uint8, copy=False)
        if q.shape != t.shape:
            raise DataError(f"quality shape {q.shape} does not match time_ms shape {t.shape}")
    if t.size > 1 and bool(np.any(t[1:] < t[:-1])):
        row = int(np.flatnonzero(t[1:] < t[:-1])[0]) + 1
        raise DataError(
            f"apply_policy needs a non-decreasing time axis; row {row} goes back in time"
        )
    return t, v, q


def _raise_rank(
    rank: npt.NDArray[np.int8], mask: npt.NDArray[np.bool_], action: PolicyAction
) -> None:
    np.maximum(rank, np.where(mask, _RANK[action], 0).astype(np.int8), out=rank)


def _mask_of_ranges(
    t: npt.NDArray[np.int64], ranges: list[tuple[int, int]]
) -> npt.NDArray[np.bool_]:
    """Samples whose time lies in any inclusive ``(start, end)`` range (sorted ``t``)."""
    if not ranges:
        return np.zeros(t.size, dtype=bool)
    bounds = np.asarray(ranges, dtype=np.int64)
    first = np.searchsorted(t, bounds[:, 0], side="left")
    stop = np.searchsorted(t, bounds[:, 1], side="right")
    delta = np.bincount(first, minlength=t.size + 1) - np.bincount(stop, minlength=t.size + 1)
    return np.cumsum(delta[:-1]) > 0


def _interpolate(
    t: npt.NDArray[np.int64],
    v: npt.NDArray[np.float64],
    q: npt.NDArray[np.uint8],
    target: npt.NDArray[np.intp],
    anchor: npt.NDArray[np.intp],
    policy: QualityPolicy,
) -> None:
    """Fill ``v[target]`` linearly between the nearest anchors, in place."""
    v[target] = np.nan
    q[target] = QUALITY_BAD
    if anchor.size == 0:
        return
    right_pos = np.searchsorted(anchor, target)
    ok = (right_pos > 0) & (right_pos < anchor.size)
    left = anchor[np.clip(right_pos - 1, 0, anchor.size - 1)]
    right = anchor[np.clip(right_pos, 0, anchor.size - 1)]
    span_ms = t[right] - t[left]
    ok &= span_ms <= policy.interpolate_max_gap_s * 1000.0
    if not ok.any():
        return
    left, right, span_ms, fill = left[ok], right[ok], span_ms[ok], target[ok]
    weight = np.divide(t[fill] - t[left], span_ms, out=np.zeros(fill.size), where=span_ms > 0)
    v[fill] = v[left] + weight * (v[right] - v[left])
    q[fill] = QUALITY_SUBSTITUTED
