"""Data-quality findings of historian series, and the policy that handles them.

A :class:`QualityScanner` reads one tag chunk by chunk (:meth:`~QualityScanner.feed`)
and reports, at :meth:`~QualityScanner.finish`, a list of :class:`QualityFinding`.
Any chunking of a series gives exactly the same findings as a single feed.
Consecutive samples with the same issue merge into one finding; ``start_ms``
and ``end_ms`` are the times of the first and last sample concerned (inclusive).

Issues
------
``gap``
    Two consecutive timestamps further apart than the gap threshold:
    ``QualityPolicy.max_gap_s``, or ``gap_factor`` (5) times the nominal
    sampling interval (the scanner's ``sampling_ms``, else the median of the
    first ``sampling_estimate_intervals`` positive time steps).  The range is
    the last sample before and the first sample after the gap; ``count`` is the
    estimated number of missing samples, ``round(gap / sampling) - 1`` (at least 1).
    Each gap is its own finding.
``nan``
    A run of non-finite values (NaN, +-inf); ``count`` samples.
``all_nan``
    The series has samples but none is finite; replaces the ``nan`` findings.
``duplicate_time``
    A timestamp repeated; ``count`` is the number of extra rows.
``non_monotonic_time``
    The time steps back; ``count`` backward steps in a run, the range spans the
    times involved.
``frozen``
    A run of finite samples in which each value differs from the previous one
    by at most ``frozen_tolerance_abs + frozen_tolerance_rel * |previous|``,
    lasting at least ``frozen_min_duration_s`` and ``frozen_min_samples``.
``spike``
    Hampel identifier: ``|v - median| / scale > spike_z`` with the median and
    the median absolute deviation (MAD) of a window of ``spike_window``
    samples centred on the sample, truncated at the series ends, and
    ``scale = max(1.4826 MAD, spike_min_scale_abs, spike_min_scale_rel |median|)``.
    The window skips NaNs and *repeats* (samples equal to the previous finite
    sample within the frozen tolerance), so that held or frozen stretches do
    not collapse the MAD of their neighbours; a repeat shares the verdict of
    the sample it repeats.  A zero scale (at least half the window one value
    and no floor) cannot tell a spike from noise and flags nothing.  The
    detail reports the sample of the run with the largest score.
``out_of_range``
    Finite values outside the scanner's ``expected_range`` (bounds included as valid).
``bad_quality_flag``
    Quality codes listed in ``bad_quality_codes`` (default 1, bad).
``unit_mismatch``
    The tag's ``unit`` is missing, unknown, or not dimensionally compatible with
    ``expected_unit`` (checked by :func:`energyopt.data.units.check_compatible`);
    the range spans the whole series.

The scanner works on the samples as stored, in file order; a shared time axis
can be checked once with :func:`scan_time_axis` and the per-tag scanners run
with ``check_time_axis=False``.  :func:`apply_policy` turns findings into
cleaned values and quality codes (see its docstring for the table of actions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from energyopt.data.quality_apply import apply_policy
from energyopt.data.quality_scanner import QualityScanner, median_sampling_ms
from energyopt.data.quality_types import ISSUES, PolicyAction, QualityFinding, QualityPolicy

__all__ = [
    "ISSUES",
    "PolicyAction",
    "QualityFinding",
    "QualityPolicy",
    "QualityScanner",
    "apply_policy",
    "issues_of",
    "median_sampling_ms",
    "scan_series",
    "scan_time_axis",
]


def scan_series(
    tag: str,
    time_ms: npt.ArrayLike,
    values: npt.ArrayLike,
    quality: npt.ArrayLike | None = None,
    **kw: Any,
) -> list[QualityFinding]:
    """Scan a whole series at once: one :meth:`QualityScanner.feed`, then ``finish``.

    Parameters
    ----------
    tag : str
        Tag name.
    time_ms : array_like of int
        Sample times. [ms since epoch]
    values : array_like of float
        Values. [tag unit]
    quality : array_like of int, optional
        Quality codes.
    **kw
        Keyword arguments of :class:`QualityScanner`.

    Returns
    -------
    list of QualityFinding
        Findings sorted by start time.
    """
    scanner = QualityScanner(tag, **kw)
    scanner.feed(time_ms, values, quality)
    return scanner.finish()


def scan_time_axis(
    time_ms: npt.ArrayLike,
    *,
    policy: QualityPolicy | None = None,
    sampling_ms: float | None = None,
    tag: str = "time",
) -> list[QualityFinding]:
    """Check a time axis for duplicated, backward and missing timestamps.

    Parameters
    ----------
    time_ms : array_like of int
        Sample times. [ms since epoch]
    policy : QualityPolicy, optional
        Gap threshold settings.
    sampling_ms : float, optional
        Nominal sampling interval; the median positive step of the whole axis if omitted. [ms]
    tag : str
        Name put in the findings.

    Returns
    -------
    list of QualityFinding
        ``gap``, ``duplicate_time`` and ``non_monotonic_time`` findings, by start time.
    """
    t = np.asarray(time_ms)
    if sampling_ms is None and t.size:
        sampling_ms = median_sampling_ms(t)
    scanner = QualityScanner(tag, policy=_time_only(policy), sampling_ms=sampling_ms)
    scanner.feed(t, np.zeros(t.shape))
    return scanner.finish()


def _time_only(policy: QualityPolicy | None) -> QualityPolicy:
    base = policy or QualityPolicy()
    return base.model_copy(update={"frozen_min_duration_s": None, "spike_z": None})


def issues_of(findings: Sequence[QualityFinding], issue: str) -> list[QualityFinding]:
    """Return the findings of one issue (a small convenience for callers and tests)."""
    return [f for f in findings if f.issue == issue]
