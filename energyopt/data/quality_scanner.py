"""The chunk-by-chunk quality scanner of one tag.

Re-exported by :mod:`energyopt.data.quality`, whose docstring defines the issues.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from energyopt.data.quality_detectors import RunAccumulator, Runs, format_duration
from energyopt.data.quality_spikes import SpikeDetector
from energyopt.data.quality_types import ISSUES, QualityFinding, QualityPolicy
from energyopt.errors import DataError, UnitConversionError

__all__ = ["QualityScanner", "median_sampling_ms"]


def median_sampling_ms(time_ms: npt.ArrayLike) -> float | None:
    """Return the median positive time step of a time axis.

    Parameters
    ----------
    time_ms : array_like of int
        Sample times. [ms since epoch]

    Returns
    -------
    float or None
        Median of the positive steps [ms]; ``None`` without any positive step.
    """
    step = np.diff(np.asarray(time_ms, dtype=np.int64))
    step = step[step > 0]
    return float(np.median(step)) if step.size else None


class QualityScanner:
    """Scan one tag for quality issues, chunk by chunk.

    Parameters
    ----------
    tag : str
        Tag name put in the findings.
    policy : QualityPolicy, optional
        Checks and thresholds; the defaults of :class:`QualityPolicy` if omitted.
    kind : str, optional
        What the tag measures; the scanner applies ``policy.for_kind(kind)``
        (for instance no ``frozen`` check for setpoints by default).
    expected_range : (float, float), optional
        Valid ``(min, max)`` of the values; enables ``out_of_range``. [tag unit]
    unit : str, optional
        The tag's unit attribute.
    expected_unit : str, optional
        The unit the tag should have; enables ``unit_mismatch``.
    sampling_ms : float, optional
        Nominal sampling interval; estimated from the data if omitted. [ms]
    check_time_axis : bool
        Report ``gap`` (if ``policy.gap``), ``duplicate_time`` and
        ``non_monotonic_time`` (turn off when the shared time axis is checked
        once, with :class:`~energyopt.data.quality.TimeAxisScanner`).

    Raises
    ------
    DataError
        If ``expected_range`` is not an increasing pair or ``sampling_ms`` is not positive.
    """

    def __init__(
        self,
        tag: str,
        *,
        policy: QualityPolicy | None = None,
        kind: str | None = None,
        expected_range: tuple[float, float] | None = None,
        unit: str | None = None,
        expected_unit: str | None = None,
        sampling_ms: float | None = None,
        check_time_axis: bool = True,
    ) -> None:
        self.tag = tag
        self.policy = (policy or QualityPolicy()).for_kind(kind)
        """The policy in use (``policy.for_kind(kind)``)."""
        if expected_range is not None and not expected_range[0] <= expected_range[1]:
            raise DataError(f"tag {tag!r}: expected_range {expected_range} is not (min, max)")
        if sampling_ms is not None and sampling_ms <= 0:
            raise DataError(f"tag {tag!r}: sampling_ms must be positive, got {sampling_ms}")
        self._range = expected_range
        self._unit = unit
        self._expected_unit = expected_unit
        self._check_time = check_time_axis
        self._sampling_ms: float | None = None if sampling_ms is None else float(sampling_ms)
        self._gap_ms: float | None = None
        if self.policy.max_gap_s is not None:
            self._gap_ms = self.policy.max_gap_s * 1000.0
        elif self._sampling_ms is not None:
            self._gap_ms = self.policy.gap_factor * self._sampling_ms
        # Time stamps kept from the series start until the sampling is known.
        self._warmup: list[npt.NDArray[np.int64]] = []
        self._warmup_size = 0
        self._estimating = self._check_time and self._sampling_ms is None
        self._gaps: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = []

        self._n = 0
        self._n_finite = 0
        self._first_ms: int | None = None
        self._prev_t: int | None = None
        self._prev_v = float("nan")
        self._result: list[QualityFinding] | None = None

        p = self.policy
        self._nan = RunAccumulator()
        self._dup = RunAccumulator()
        self._back = RunAccumulator(reduce_ops={"tmin": np.fmin, "tmax": np.fmax})
        self._range_runs = RunAccumulator(reduce_ops={"vmin": np.fmin, "vmax": np.fmax})
        self._bad = RunAccumulator()
        self._frozen: RunAccumulator | None = None
        if p.frozen:
            min_ms = p.frozen_min_duration_s * 1000.0
            self._frozen = RunAccumulator(
                first_stats=("value",),
                keep=lambda r: (
                    ((r.end_ms - r.start_ms) >= min_ms) & (r.count + 1 >= p.frozen_min_samples)
                ),
            )
        self._spike_detector: SpikeDetector | None = None
        self._spikes = RunAccumulator(argmax=("z", "value", "median"))
        if p.spike:
            self._spike_detector = SpikeDetector(
                p.spike_z,
                p.spike_window,
                p.spike_min_scale_abs,
                p.spike_min_scale_rel,
                p.frozen_tolerance_abs,
                p.frozen_tolerance_rel,
            )

    @property
    def sampling_ms(self) -> float | None:
        """Nominal sampling interval [ms], given or estimated (``None`` before).

        Estimated from the first time steps when not given.
        """
        return self._sampling_ms

    @property
    def max_gap_ms(self) -> float | None:
        """Gap threshold in use [ms], ``None`` until known.

        ``max_gap_s`` of the policy, else ``gap_factor`` times the sampling interval.
        """
        return self._gap_ms

    def feed(
        self,
        time_ms: npt.ArrayLike,
        values: npt.ArrayLike,
        quality: npt.ArrayLike | None = None,
    ) -> None:
        """Scan the next chunk of the series.

        Parameters
        ----------
        time_ms : array_like of int
            Sample times of the chunk, shape (n,). [ms since epoch]
        values : array_like of float
            Values, shape (n,). [tag unit]
        quality : array_like of int, optional
            Quality codes, shape (n,) (0 good, 1 bad, 2 substituted).

        Raises
        ------
        DataError
            If the shapes differ or the times are not integers.
        RuntimeError
            If called after :meth:`finish`.
        """
        if self._result is not None:
            raise RuntimeError(f"scanner of tag {self.tag!r} already finished")
        t, v, q = _as_chunk(self.tag, time_ms, values, quality)
        n = t.size
        if n == 0:
            return
        idx = self._n + np.arange(n, dtype=np.int64)
        has_prev = self._prev_t is not None
        t_ext, v_ext = t, v
        if self._prev_t is not None:
            t_ext = np.concatenate((np.array([self._prev_t], dtype=np.int64), t))
            v_ext = np.concatenate(([self._prev_v], v))
        pair_idx = idx if has_prev else idx[1:]  # a pair is named by its later sample
        if self._first_ms is None:
            self._first_ms = int(t[0])

        if self._check_time:
            self._scan_time(t, t_ext, pair_idx)
        finite = np.isfinite(v)
        self._n_finite += int(np.count_nonzero(finite))
        bad = ~finite
        self._nan.add(idx[bad], t[bad], t[bad])
        if self._range is not None:
            lo, hi = self._range
            out = finite & ((v < lo) | (v > hi))
            self._range_runs.add(idx[out], t[out], t[out], {"vmin": v[out], "vmax": v[out]})
        if q is not None:
            flagged = np.isin(q, self.policy.bad_quality_codes)
            self._bad.add(idx[flagged], t[flagged], t[flagged])
        if self._frozen is not None:
            _scan_frozen(self._frozen, self.policy, t_ext, v_ext, pair_idx)
        if self._spike_detector is not None:
            self._spikes.add(*self._spike_detector.feed(idx[finite], t[finite], v[finite]))

        self._n += n
        self._prev_t = int(t[-1])
        self._prev_v = float(v[-1])

    def finish(self) -> list[QualityFinding]:
        """Return all findings, sorted by start time (further calls return the same list)."""
        if self._result is not None:
            return list(self._result)
        if self._estimating and self._warmup:
            self._end_warmup()
        if self._spike_detector is not None:
            self._spikes.add(*self._spike_detector.finish())
        findings = self._build_findings()
        order = {issue: k for k, issue in enumerate(ISSUES)}
        findings.sort(key=lambda f: (f.start_ms, f.end_ms, order[f.issue]))
        self._result = findings
        return list(findings)

    # ------------------------------------------------------------- detection

    def _scan_time(
        self,
        t: npt.NDArray[np.int64],
        t_ext: npt.NDArray[np.int64],
        pair_idx: npt.NDArray[np.int64],
    ) -> None:
        step = np.diff(t_ext)
        later, earlier = t_ext[1:], t_ext[:-1]
        dup = step == 0
        self._dup.add(pair_idx[dup], later[dup], later[dup])
        back = step < 0
        self._back.add(
            pair_idx[back],
            later[back],
            earlier[back],
            {"tmin": later[back].astype(np.float64), "tmax": earlier[back].astype(np.float64)},
        )
        if self._estimating:
            self._warmup.append(t)
            self._warmup_size += t.size
            if self._warmup_size > self.policy.sampling_estimate_intervals:
                self._end_warmup()
        else:
            self._detect_gaps(t_ext)

    def _end_warmup(self) -> None:
        times = np.concatenate(self._warmup)
        self._warmup, self._estimating = [], False
        self._sampling_ms = median_sampling_ms(times[: self.policy.sampling_estimate_intervals + 1])
        if self._gap_ms is None and self._sampling_ms is not None:
            self._gap_ms = self.policy.gap_factor * self._sampling_ms
        self._detect_gaps(times)

    def _detect_gaps(self, t_ext: npt.NDArray[np.int64]) -> None:
        if not self.policy.gap or self._gap_ms is None or t_ext.size < 2:
            return
        gap = np.flatnonzero(np.diff(t_ext) > self._gap_ms)
        if gap.size:
            self._gaps.append((t_ext[gap], t_ext[gap + 1]))

    # -------------------------------------------------------------- findings

    def _finding(self, issue: str, start: int, end: int, count: int, detail: str) -> QualityFinding:
        return QualityFinding(self.tag, issue, int(start), int(end), int(count), detail)

    def _from_runs(
        self, issue: str, runs: Runs, describe: Callable[[int, int, int, dict[str, float]], str]
    ) -> list[QualityFinding]:
        """One finding per run; ``describe(start_ms, end_ms, count, stats)`` gives the detail."""
        stats = {name: arr.tolist() for name, arr in runs.stats.items()}
        out = []
        for k, (start, end, count) in enumerate(
            zip(runs.start_ms.tolist(), runs.end_ms.tolist(), runs.count.tolist(), strict=True)
        ):
            row = {name: values[k] for name, values in stats.items()}
            out.append(self._finding(issue, start, end, count, describe(start, end, count, row)))
        return out

    def _build_findings(self) -> list[QualityFinding]:
        out = self._gap_findings()
        if self._n and self._n_finite == 0 and self._first_ms is not None:
            last_ms = self._prev_t if self._prev_t is not None else self._first_ms
            detail = f"no finite value in {_plural(self._n, 'sample')}"
            out.append(self._finding("all_nan", self._first_ms, last_ms, self._n, detail))
        else:
            out += self._from_runs(
                "nan",
                self._nan.result(),
                lambda s, e, c, _: (
                    f"{_plural(c, 'non-finite sample')} over {format_duration(e - s)}"
                ),
            )
        out += self._from_runs(
            "duplicate_time",
            self._dup.result(),
            lambda s, e, c, _: f"{_plural(c, 'extra row')} with the same time",
        )
        back = self._back.result()
        # A backward run spans from its earliest to its latest time stamp.
        back.start_ms = back.stats["tmin"].astype(np.int64)
        back.end_ms = back.stats["tmax"].astype(np.int64)
        out += self._from_runs(
            "non_monotonic_time",
            back,
            lambda s, e, c, _: (
                f"time steps back {_plural(c, 'time')} within {format_duration(e - s)}"
            ),
        )
        if self._frozen is not None:
            frozen = self._frozen.result()
            frozen.count = frozen.count + 1  # n unchanged steps join n + 1 samples
            out += self._from_runs(
                "frozen",
                frozen,
                lambda s, e, c, st: (
                    f"frozen at {st['value']:.6g} for {format_duration(e - s)} ({c} samples)"
                ),
            )
        out += self._from_runs(
            "spike",
            self._spikes.result(),
            lambda s, e, c, st: (
                f"spike {st['value']:.3g} vs local median {st['median']:.3g} (z={st['z']:.3g})"
                + (f", {c} samples" if c > 1 else "")
            ),
        )
        if self._range is not None:
            lo, hi = self._range
            out += self._from_runs(
                "out_of_range",
                self._range_runs.result(),
                lambda s, e, c, st: (
                    f"{_plural(c, 'sample')} outside [{lo:g}, {hi:g}] "
                    f"(min {st['vmin']:.6g}, max {st['vmax']:.6g})"
                ),
            )
        codes = ", ".join(str(code) for code in self.policy.bad_quality_codes)
        out += self._from_runs(
            "bad_quality_flag",
            self._bad.result(),
            lambda s, e, c, _: f"{_plural(c, 'sample')} with quality code in {{{codes}}}",
        )
        unit = self._unit_finding()
        if unit is not None:
            out.append(unit)
        return out

    def _gap_findings(self) -> list[QualityFinding]:
        if not self._gaps or self._gap_ms is None:
            return []
        before = np.concatenate([g[0] for g in self._gaps])
        after = np.concatenate([g[1] for g in self._gaps])
        threshold = format_duration(self._gap_ms)
        out = []
        for a, b in zip(before.tolist(), after.tolist(), strict=True):
            missing = 1
            if self._sampling_ms:
                missing = max(1, round((b - a) / self._sampling_ms) - 1)
            out.append(
                self._finding(
                    "gap",
                    a,
                    b,
                    missing,
                    f"no sample for {format_duration(b - a)} (threshold {threshold})",
                )
            )
        return out

    def _unit_finding(self) -> QualityFinding | None:
        if self._expected_unit is None or self._first_ms is None:
            return None
        start, end = self._first_ms, self._prev_t if self._prev_t is not None else self._first_ms
        if not self._unit:
            detail = f"no unit given; expected a unit compatible with '{self._expected_unit}'"
            return self._finding("unit_mismatch", start, end, self._n, detail)
        from energyopt.data.units import check_compatible  # pint is imported only when needed

        try:
            check_compatible(self._unit, self._expected_unit, tag=self.tag)
        except UnitConversionError as exc:
            return self._finding("unit_mismatch", start, end, self._n, str(exc))
        return None


def _scan_frozen(
    runs: RunAccumulator,
    policy: QualityPolicy,
    t_ext: npt.NDArray[np.int64],
    v_ext: npt.NDArray[np.float64],
    pair_idx: npt.NDArray[np.int64],
) -> None:
    """Add the pairs of consecutive samples that count as unchanged to the frozen runs."""
    before, after = v_ext[:-1], v_ext[1:]
    tolerance = policy.frozen_tolerance_abs + policy.frozen_tolerance_rel * np.abs(before)
    with np.errstate(invalid="ignore"):
        same = np.abs(after - before) <= tolerance
    same &= np.isfinite(before) & np.isfinite(after)
    runs.add(pair_idx[same], t_ext[:-1][same], t_ext[1:][same], {"value": before[same]})


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _as_chunk(
    tag: str, time_ms: npt.ArrayLike, values: npt.ArrayLike, quality: npt.ArrayLike | None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.integer] | None]:
    t = np.asarray(time_ms)
    if t.ndim != 1:
        raise DataError(f"tag {tag!r}: time_ms must be 1-D, got shape {t.shape}")
    if t.size and not np.issubdtype(t.dtype, np.integer):
        raise DataError(f"tag {tag!r}: time_ms must hold integer milliseconds, got {t.dtype}")
    v = np.asarray(values, dtype=np.float64)
    if v.shape != t.shape:
        raise DataError(f"tag {tag!r}: values shape {v.shape} does not match time {t.shape}")
    q = None
    if quality is not None:
        q = np.asarray(quality)
        if q.shape != t.shape:
            raise DataError(f"tag {tag!r}: quality shape {q.shape} does not match time {t.shape}")
    return t.astype(np.int64, copy=False), v, q
