"""Value types of the data-quality layer: :class:`QualityFinding` and :class:`TagExpectation`.

:class:`~energyopt.data.quality_policy.QualityPolicy` (defined in
:mod:`energyopt.data.quality_policy`) is re-exported here.  All are
re-exported by :mod:`energyopt.data.quality`, which documents the issues.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from energyopt.data.quality_policy import KindPolicy, PolicyAction, QualityPolicy
from energyopt.errors import DataError, UnitConversionError

__all__ = ["ISSUES", "PolicyAction", "QualityFinding", "QualityPolicy", "TagExpectation"]

#: Every issue a finding can carry, in the order findings with equal times are listed.
ISSUES: tuple[str, ...] = (
    "gap",
    "nan",
    "duplicate_time",
    "non_monotonic_time",
    "frozen",
    "spike",
    "out_of_range",
    "unit_mismatch",
    "bad_quality_flag",
    "all_nan",
)


def _iso(time_ms: int) -> str:
    stamp = dt.datetime.fromtimestamp(time_ms / 1000.0, tz=dt.UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class QualityFinding:
    """One data-quality issue of one tag over one time range.

    Attributes
    ----------
    tag : str
        Tag name (``"time"`` for the shared time axis).
    issue : str
        One of :data:`ISSUES`.
    start_ms, end_ms : int
        Time of the first and the last sample concerned, inclusive. [ms since epoch]
    count : int
        Samples concerned (for ``gap`` the estimated missing samples, for
        ``duplicate_time`` the extra rows, for ``non_monotonic_time`` the backward steps).
    detail : str
        Human-readable specifics, e.g. ``"frozen at 42 for 3.5 h (12601 samples)"``.
    """

    tag: str
    issue: str
    start_ms: int
    end_ms: int
    count: int
    detail: str

    def __post_init__(self) -> None:
        if self.issue not in ISSUES:
            raise DataError(f"unknown quality issue {self.issue!r}; expected one of {ISSUES}")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the fields plus ISO 8601 UTC ``start``/``end``)."""
        out = asdict(self)
        out["start"] = _iso(self.start_ms)
        out["end"] = _iso(self.end_ms)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QualityFinding:
        """Rebuild a finding from :meth:`to_dict` output (extra keys ignored).

        Raises
        ------
        DataError
            If a field is missing or has the wrong type.
        """
        try:
            return cls(
                tag=str(data["tag"]),
                issue=str(data["issue"]),
                start_ms=int(data["start_ms"]),
                end_ms=int(data["end_ms"]),
                count=int(data["count"]),
                detail=str(data["detail"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"malformed quality finding {data!r}: {exc}") from exc

    def __str__(self) -> str:
        span = _iso(self.start_ms)
        if self.end_ms != self.start_ms:
            span += f" .. {_iso(self.end_ms)}"
        return f"{self.tag}: {self.issue} {span} (n={self.count}): {self.detail}"


@dataclass(frozen=True)
class TagExpectation:
    """What a tag should look like, from outside the historian file (a project binding).

    Attributes
    ----------
    kind : str or None
        What the tag measures (:data:`~energyopt.data.tag_kinds.TAG_KINDS`);
        takes precedence over the file's ``kind`` attribute.
    unit : str or None
        The unit the tag should be recorded in, or one convertible to it;
        enables ``unit_mismatch``.
    range : (float, float) or None
        Plausible ``(low, high)`` of the values, in ``unit`` (in the tag's
        own unit when ``unit`` is ``None``); enables ``out_of_range``. [unit]
    quality : KindPolicy or None
        The tag's own data-quality settings, over those of its kind.
    """

    kind: str | None = None
    unit: str | None = None
    range: tuple[float, float] | None = None
    quality: KindPolicy | None = None

    def __post_init__(self) -> None:
        if self.range is not None and not self.range[0] <= self.range[1]:
            raise DataError(f"expected range {self.range} is not (low, high)")

    def range_in(self, unit: str) -> tuple[float, float] | None:
        """Return :attr:`range` converted to ``unit`` (the unit the tag is recorded in).

        Parameters
        ----------
        unit : str
            Target unit.

        Returns
        -------
        (float, float) or None
            The range in ``unit`` [unit]; ``None`` without a range, or when
            :attr:`unit` cannot be converted to ``unit`` (that is reported as
            ``unit_mismatch`` instead).
        """
        if self.range is None:
            return None
        if self.unit is None or self.unit.strip() == unit.strip():
            return self.range
        from energyopt.data.units import convert  # pint only when units differ

        try:
            low, high = convert(self.range, self.unit, unit).tolist()
        except UnitConversionError:
            return None
        return (min(low, high), max(low, high))
