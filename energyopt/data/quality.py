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
    Each gap is its own finding.  Off with ``gap = false``.
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
    Off with ``frozen = false``, and by default for setpoints, states,
    statuses, modes, counters and prices (see :data:`DEFAULT_KIND_POLICIES`).
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
    detail reports the sample of the run with the largest score.  Off with
    ``spike = false``, and by default for states, statuses, modes, counters
    and prices.
``out_of_range``
    Finite values outside the scanner's ``expected_range`` (bounds included as valid).
``bad_quality_flag``
    Quality codes listed in ``bad_quality_codes`` (default 1, bad).
``unit_mismatch``
    The tag's ``unit`` is missing, unknown, or not dimensionally compatible with
    ``expected_unit`` (checked by :func:`energyopt.data.units.check_compatible`);
    the range spans the whole series.

The scanner works on the samples as stored, in file order; a shared time axis
is checked once, streamed through a :class:`TimeAxisScanner` (or at once with
:func:`scan_time_axis`, the same rule), and the per-tag scanners run with
``check_time_axis=False``.  A scanner given a tag ``kind`` applies the policy
of that kind (:meth:`QualityPolicy.for_kind`); :func:`scanner_for_tag` also
takes the expected unit and range of a project binding.  :func:`apply_policy`
turns findings into cleaned values and quality codes (see its docstring for
the table of actions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from energyopt.data.quality_apply import apply_policy
from energyopt.data.quality_policy import DEFAULT_KIND_POLICIES, KindPolicy
from energyopt.data.quality_scanner import QualityScanner, median_sampling_ms
from energyopt.data.quality_types import (
    ISSUES,
    PolicyAction,
    QualityFinding,
    QualityPolicy,
    TagExpectation,
)

__all__ = [
    "DEFAULT_KIND_POLICIES",
    "ISSUES",
    "KindPolicy",
    "PolicyAction",
    "QualityFinding",
    "QualityPolicy",
    "QualityScanner",
    "TagExpectation",
    "TimeAxisScanner",
    "apply_policy",
    "issues_of",
    "median_sampling_ms",
    "scan_series",
    "scan_time_axis",
    "scanner_for_tag",
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


class TimeAxisScanner:
    """Check a time axis for duplicated, backward and missing timestamps, chunk by chunk.

    The one rule for the shared time axis of a historian file: feed the
    ``/time`` values in file order, in chunks of any size; :meth:`finish`
    returns the same findings as a single feed (and as :func:`scan_time_axis`).
    It is a :class:`QualityScanner` with the value checks off.

    Parameters
    ----------
    policy : QualityPolicy, optional
        Gap settings (``gap``, ``max_gap_s``, ``gap_factor``,
        ``sampling_estimate_intervals``); the defaults if omitted.
    sampling_ms : float, optional
        Nominal sampling interval; if omitted, the median of the first
        ``policy.sampling_estimate_intervals`` positive steps. [ms]
    tag : str
        Name put in the findings.

    Raises
    ------
    DataError
        If ``sampling_ms`` is not positive.
    """

    def __init__(
        self,
        *,
        policy: QualityPolicy | None = None,
        sampling_ms: float | None = None,
        tag: str = "time",
    ) -> None:
        base = policy or QualityPolicy()
        time_only = base.model_copy(update={"frozen": False, "spike": False, "kinds": {}})
        self._scanner = QualityScanner(tag, policy=time_only, sampling_ms=sampling_ms)

    @property
    def sampling_ms(self) -> float | None:
        """Nominal sampling interval [ms], given or estimated (``None`` before)."""
        return self._scanner.sampling_ms

    def feed(self, time_ms: npt.ArrayLike) -> None:
        """Scan the next chunk of the axis.

        Parameters
        ----------
        time_ms : array_like of int
            The next times, in file order, shape (n,). [ms since epoch]

        Raises
        ------
        DataError
            If the times are not a 1-D integer array.
        RuntimeError
            If called after :meth:`finish`.
        """
        t = np.asarray(time_ms)
        self._scanner.feed(t, np.zeros(t.shape))

    def finish(self) -> list[QualityFinding]:
        """Return the ``gap``, ``duplicate_time`` and ``non_monotonic_time`` findings, by time."""
        return self._scanner.finish()


def scan_time_axis(
    time_ms: npt.ArrayLike,
    *,
    policy: QualityPolicy | None = None,
    sampling_ms: float | None = None,
    tag: str = "time",
) -> list[QualityFinding]:
    """Check a whole time axis at once: one :meth:`TimeAxisScanner.feed`, then ``finish``.

    Parameters
    ----------
    time_ms : array_like of int
        Sample times. [ms since epoch]
    policy : QualityPolicy, optional
        Gap settings.
    sampling_ms : float, optional
        Nominal sampling interval; estimated as by :class:`TimeAxisScanner` if omitted. [ms]
    tag : str
        Name put in the findings.

    Returns
    -------
    list of QualityFinding
        ``gap``, ``duplicate_time`` and ``non_monotonic_time`` findings, by start time.
    """
    scanner = TimeAxisScanner(policy=policy, sampling_ms=sampling_ms, tag=tag)
    scanner.feed(time_ms)
    return scanner.finish()


def scanner_for_tag(
    tag: str,
    *,
    unit: str | None,
    kind: str | None = None,
    expectation: TagExpectation | None = None,
    policy: QualityPolicy | None = None,
    sampling_ms: float | None = None,
    check_time_axis: bool = False,
) -> QualityScanner:
    """Return the scanner of one historian tag, combining its metadata with an expectation.

    The expectation (from a project binding) takes precedence: its ``kind``
    over the file's, its ``unit`` is the expected unit (``unit_mismatch``),
    and its ``range``, converted to the tag's unit, the expected range
    (``out_of_range``; skipped when the units do not convert).

    Parameters
    ----------
    tag : str
        Tag name.
    unit : str or None
        The tag's ``unit`` attribute.
    kind : str, optional
        The tag's ``kind`` attribute.
    expectation : TagExpectation, optional
        What the tag should be.
    policy : QualityPolicy, optional
        The policy; :meth:`QualityPolicy.for_tag` resolves the tag's kind and
        the expectation's own settings.
    sampling_ms : float, optional
        Nominal sampling interval. [ms]
    check_time_axis : bool
        As for :class:`QualityScanner` (off: the axis is shared and checked once).

    Returns
    -------
    QualityScanner
        Ready to :meth:`~QualityScanner.feed`.
    """
    expectation = expectation or TagExpectation()
    resolved = (policy or QualityPolicy()).for_tag(expectation.kind or kind, expectation.quality)
    return QualityScanner(
        tag,
        policy=resolved,
        kind=None,  # already resolved: the kind's defaults must not override the tag's
        expected_range=expectation.range_in(unit) if unit else None,
        unit=unit,
        expected_unit=expectation.unit,
        sampling_ms=sampling_ms,
        check_time_axis=check_time_axis,
    )


def issues_of(findings: Sequence[QualityFinding], issue: str) -> list[QualityFinding]:
    """Return the findings of one issue (a small convenience for callers and tests)."""
    return [f for f in findings if f.issue == issue]
