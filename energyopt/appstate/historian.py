"""What the desktop app knows about the open historian file, for the tag browser.

:func:`load_historian_summary` reads only metadata (the reader validates the
layout and the ends of the time axis), so it is cheap enough for the GUI
thread; the data-quality scan (:func:`energyopt.data.inspect.inspect_file`)
streams the whole file and runs in a worker, its findings attached later with
:meth:`HistorianSummary.with_findings`.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from energyopt.data.quality_detectors import format_duration

if TYPE_CHECKING:
    from energyopt.data.format import TagInfo
    from energyopt.data.quality_types import QualityFinding

__all__ = [
    "TIME_AXIS_TAG",
    "HistorianSummary",
    "TagRow",
    "load_historian_summary",
    "quality_flags",
]

#: Tag name of the findings about the shared time axis.
TIME_AXIS_TAG = "time"


@dataclass(frozen=True)
class TagRow:
    """One row of the tag browser.

    Attributes
    ----------
    tag : str
        Tag name.
    unit : str
        Unit string as stored.
    kind : str
        What the tag measures (``"flow"``, ``"setpoint"`` ...), ``""`` if unknown.
    description : str
        Free text.
    sampling_ms : float or None
        Median time step of the file's shared time axis. [ms]
    flags : tuple of str
        Quality issues found, sorted, each once; empty when clean or not scanned.
    details : tuple of str
        One line per quality finding (for a tooltip).
    """

    tag: str
    unit: str
    kind: str
    description: str
    sampling_ms: float | None
    flags: tuple[str, ...] = ()
    details: tuple[str, ...] = ()

    @property
    def sampling_text(self) -> str:
        """The sampling interval for humans (``"60 s"``), ``""`` if unknown."""
        return "" if self.sampling_ms is None else format_duration(self.sampling_ms)

    @property
    def flags_text(self) -> str:
        """The quality issues with their finding counts, e.g. ``"nan (2), spike"``."""
        counts = Counter(line.split(" ", 1)[0] for line in self.details)
        return ", ".join(
            flag if counts.get(flag, 1) <= 1 else f"{flag} ({counts[flag]})" for flag in self.flags
        )


def quality_flags(findings: Iterable[QualityFinding]) -> dict[str, list[QualityFinding]]:
    """Group quality findings by tag.

    Parameters
    ----------
    findings : iterable of QualityFinding
        Findings of a scan, in any order.

    Returns
    -------
    dict of str to list of QualityFinding
        Tag name -> its findings in time order; the time axis under
        :data:`TIME_AXIS_TAG`.
    """
    grouped: dict[str, list[QualityFinding]] = {}
    for finding in sorted(findings, key=lambda f: (f.start_ms, f.issue)):
        grouped.setdefault(finding.tag, []).append(finding)
    return grouped


@dataclass(frozen=True)
class HistorianSummary:
    """Metadata of an open historian file and, once scanned, its quality findings.

    Attributes
    ----------
    path : pathlib.Path
        The file (absolute).
    tags : tuple of TagInfo
        Tag metadata in file order.
    n_samples : int
        Rows. [-]
    time_span_ms : tuple of int
        First and last sample time. [ms since epoch]
    sampling_ms : float or None
        Median time step. [ms]
    timezone : str
        IANA time zone of the plant.
    plant : str or None
        Root attribute ``plant``.
    findings : mapping of str to list of QualityFinding, optional
        Tag -> findings; ``None`` until the quality scan finished.
    """

    path: Path
    tags: tuple[TagInfo, ...]
    n_samples: int
    time_span_ms: tuple[int, int]
    sampling_ms: float | None
    timezone: str = "UTC"
    plant: str | None = None
    findings: Mapping[str, list[QualityFinding]] | None = field(default=None, compare=False)

    @property
    def scanned(self) -> bool:
        """Whether the quality findings are known."""
        return self.findings is not None

    def with_findings(self, findings: Iterable[QualityFinding]) -> HistorianSummary:
        """Return a copy holding the findings of a quality scan."""
        return dataclasses.replace(self, findings=quality_flags(findings))

    def rows(self) -> list[TagRow]:
        """Return one :class:`TagRow` per tag, in file order."""
        found = self.findings or {}
        rows = []
        for info in self.tags:
            tag_findings = found.get(info.name, [])
            rows.append(
                TagRow(
                    tag=info.name,
                    unit=info.unit,
                    kind=info.kind,
                    description=info.description,
                    sampling_ms=self.sampling_ms,
                    flags=tuple(sorted({f.issue for f in tag_findings})),
                    details=tuple(f"{f.issue} {f.detail}" for f in tag_findings),
                )
            )
        return rows

    def clamp_time(self, time_ms: int) -> int:
        """Return ``time_ms`` [ms since epoch] limited to the file's time span."""
        first, last = self.time_span_ms
        return min(max(int(time_ms), first), last)


def load_historian_summary(path: str | Path) -> HistorianSummary:
    """Read the metadata of a historian file (read-only, no data rows).

    Parameters
    ----------
    path : str or path-like
        The ``.h5`` file.

    Returns
    -------
    HistorianSummary
        Metadata without quality findings.

    Raises
    ------
    DataError, HistorianFormatError
        If the file is missing, not HDF5 or breaks format v1.
    """
    from energyopt.data.reader import HistorianReader

    with HistorianReader(path) as reader:
        return HistorianSummary(
            path=reader.path.absolute(),
            tags=tuple(reader.tags.values()),
            n_samples=reader.n_samples,
            time_span_ms=reader.time_span_ms,
            sampling_ms=reader.sampling_ms,
            timezone=reader.timezone,
            plant=reader.plant,
        )
