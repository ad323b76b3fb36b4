"""Inspection of a historian file: metadata, time span, sampling and quality findings.

:func:`inspect_file` opens the file with ``repair_time=True`` (so messy
exports can be diagnosed rather than refused), then streams it once:

- the raw ``/time`` axis, in file order, through a
  :class:`~energyopt.data.quality.TimeAxisScanner` (duplicated, backward and
  missing timestamps; chunk by chunk, so the axis is never held whole);
- every tag, chunk by chunk in time order, through its own
  :class:`~energyopt.data.quality.QualityScanner` (NaN runs, all-NaN tags,
  frozen sensors, spikes, bad quality codes), built by
  :func:`~energyopt.data.quality.scanner_for_tag`: the policy of the tag's
  kind applies (the ``kind`` attribute, or the kind of a project binding), and
  a binding's unit and range add ``unit_mismatch`` and ``out_of_range`` checks.

Memory stays at one chunk of one tag plus the findings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from energyopt.data.format import FORMAT_VERSION, QUALITY_GROUP, TAGS_GROUP, format_time_ms
from energyopt.data.reader import HistorianReader

if TYPE_CHECKING:
    import os

    from energyopt.data.format import TagInfo
    from energyopt.data.layout import FormatFinding
    from energyopt.data.quality import QualityFinding, QualityPolicy, TagExpectation
    from energyopt.progress import CancelToken, ProgressCallback

__all__ = ["InspectReport", "inspect_file"]

#: Rows per chunk while scanning (2 MiB of float64 for one tag). [-]
DEFAULT_SCAN_ROWS = 1 << 18


@dataclass(frozen=True)
class InspectReport:
    """What :func:`inspect_file` found.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    size_bytes : int
        File size. [B]
    format_version : int
        Format version the file was read as.
    plant : str or None
        Root attribute ``plant``.
    timezone : str
        IANA time zone of the plant.
    n_samples : int
        Rows (after sorting and dropping duplicated timestamps, if needed). [-]
    time_span_ms : tuple of int
        First and last sample time. [ms since epoch]
    sampling_ms : float or None
        Median time step. [ms]
    tags : list of TagInfo
        Metadata of the inspected tags.
    file_findings : list of FormatFinding
        Tolerated deviations from format v1.
    findings : list of QualityFinding
        Time-axis findings (tag ``"time"``) and per-tag findings, by time.
    kinds : dict of str to str
        Tag name -> kind whose policy was applied (from the expectation, else
        the file's ``kind`` attribute; ``""`` for none).
    missing_tags : list of str
        Tags with an expectation (a project binding) that the file lacks.
    """

    path: Path
    size_bytes: int
    format_version: int
    plant: str | None
    timezone: str
    n_samples: int
    time_span_ms: tuple[int, int]
    sampling_ms: float | None
    tags: list[TagInfo]
    file_findings: list[FormatFinding] = field(default_factory=list)
    findings: list[QualityFinding] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)
    missing_tags: list[str] = field(default_factory=list)

    def format_time(self, time_ms: int) -> str:
        """Format a time as ISO 8601 in the plant's time zone."""
        return format_time_ms(time_ms, self.timezone)

    def findings_of(self, tag: str) -> list[QualityFinding]:
        """Return the findings of one tag (``"time"`` for the time axis)."""
        return [finding for finding in self.findings if finding.tag == tag]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (times as ms and as ISO 8601 in the plant's zone)."""
        first, last = self.time_span_ms
        return {
            "path": str(self.path),
            "size_bytes": self.size_bytes,
            "format_version": self.format_version,
            "plant": self.plant,
            "timezone": self.timezone,
            "n_samples": self.n_samples,
            "time_start": self.format_time(first),
            "time_end": self.format_time(last),
            "time_start_ms": first,
            "time_end_ms": last,
            "sampling_ms": self.sampling_ms,
            "tags": [
                {**dataclasses.asdict(info), "checked_as": self.kinds.get(info.name, "")}
                for info in self.tags
            ],
            "missing_tags": list(self.missing_tags),
            "file_findings": [finding.to_dict() for finding in self.file_findings],
            "findings": [
                {
                    **finding.to_dict(),
                    "start_local": self.format_time(finding.start_ms),
                    "end_local": self.format_time(finding.end_ms),
                }
                for finding in self.findings
            ],
        }


def inspect_file(
    path: str | os.PathLike[str],
    *,
    tags: Sequence[str] | None = None,
    policy: QualityPolicy | None = None,
    expectations: Mapping[str, TagExpectation] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    chunk_rows: int = DEFAULT_SCAN_ROWS,
) -> InspectReport:
    """Inspect a historian file: metadata and data-quality findings.

    Parameters
    ----------
    path : str or path-like
        The ``.h5`` file (only read).
    tags : sequence of str, optional
        Tags to inspect; all if omitted.
    policy : QualityPolicy, optional
        The quality checks (a project's ``data_quality``); the defaults if
        omitted.  Each tag is checked with the policy of its kind.
    expectations : mapping of str to TagExpectation, optional
        Tag name -> kind, unit and range it should have (from a project's
        bindings: :func:`energyopt.project.tag_expectations`); its kind
        overrides the file's ``kind`` attribute.
    progress : ProgressCallback, optional
        Called with ``(rows scanned, total rows, message)``.
    cancel : CancelToken, optional
        Checked between chunks.
    chunk_rows : int
        Rows per chunk. [-]

    Returns
    -------
    InspectReport
        The report.

    Raises
    ------
    DataError, HistorianFormatError, TagNotFoundError
        If the file cannot be read as format v1 or a tag is unknown.
    """
    from energyopt.data.quality import QualityPolicy, TimeAxisScanner, scanner_for_tag

    policy = policy or QualityPolicy()
    expectations = expectations or {}
    with HistorianReader(path, repair_time=True) as reader:
        infos = reader.tags
        names = list(infos) if tags is None else [reader.tag(name).name for name in tags]
        kinds = {
            name: (expectations[name].kind if name in expectations else None) or infos[name].kind
            for name in names
        }
        sampling_ms = reader.sampling_ms
        axis = reader.axis
        total = 2 * reader.n_samples
        time_scanner = TimeAxisScanner(policy=policy, sampling_ms=sampling_ms)
        for start, stop in axis.raw_chunks(chunk_rows):
            if cancel is not None:
                cancel.raise_if_cancelled()
            time_scanner.feed(axis.read_raw(start, stop))
            if progress is not None:
                progress(stop, total, "time axis")
        findings = time_scanner.finish()

        scanners = {
            name: scanner_for_tag(
                name,
                unit=infos[name].unit,
                kind=kinds[name],
                expectation=expectations.get(name),
                policy=policy,
                sampling_ms=sampling_ms,
            )
            for name in names
        }
        n = reader.n_samples
        for lo in range(0, n, chunk_rows):
            if cancel is not None:
                cancel.raise_if_cancelled()
            hi = min(lo + chunk_rows, n)
            times = axis.read_times(lo, hi)
            for name in names:
                info = infos[name]
                values = axis.read_rows(reader.dataset(TAGS_GROUP, name), lo, hi, np.float64)
                codes = (
                    axis.read_rows(reader.dataset(QUALITY_GROUP, name), lo, hi, np.uint8)
                    if info.has_quality
                    else None
                )
                scanners[name].feed(times, values, codes)
            if progress is not None:
                progress(n + hi, total, "tags")
        for name in names:
            findings.extend(scanners[name].finish())
        findings.sort(key=lambda finding: (finding.start_ms, finding.tag))
        return InspectReport(
            path=reader.path,
            size_bytes=reader.path.stat().st_size,
            format_version=FORMAT_VERSION,
            plant=reader.plant,
            timezone=reader.timezone,
            n_samples=reader.n_samples,
            time_span_ms=reader.time_span_ms,
            sampling_ms=sampling_ms,
            tags=[infos[name] for name in names],
            file_findings=list(reader.findings),
            findings=findings,
            kinds=kinds,
            missing_tags=sorted(set(expectations) - set(infos)),
        )
