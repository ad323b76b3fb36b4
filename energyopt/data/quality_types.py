"""Value types of the data-quality layer: :class:`QualityFinding` and :class:`QualityPolicy`.

They are re-exported by :mod:`energyopt.data.quality`, which documents the issues.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from energyopt.errors import DataError

__all__ = ["ISSUES", "PolicyAction", "QualityFinding", "QualityPolicy"]

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

#: What :func:`apply_policy` does with a sample that has an issue.
PolicyAction = Literal["keep", "drop", "interpolate", "mark_bad"]


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


class QualityPolicy(BaseModel):
    """Thresholds of the quality checks and the action taken on each issue.

    Immutable; unknown fields are rejected (pydantic ``ValidationError``).

    Attributes
    ----------
    max_gap_s : float or None
        Gap threshold [s]. Default ``None``: ``gap_factor`` times the nominal
        sampling interval.
    gap_factor : float
        Gap threshold in sampling intervals when ``max_gap_s`` is ``None``. Default 5.
    sampling_estimate_intervals : int
        Number of time steps at the series start whose median estimates the
        sampling interval when the scanner is not given one. Default 1000.
    frozen_min_duration_s : float or None
        Shortest unchanged run reported as ``frozen`` [s]. Default 3600;
        ``None`` disables the check (for setpoints, states, counters).
    frozen_min_samples : int
        Fewest samples of a frozen run. Default 3.
    frozen_tolerance_abs : float
        Largest step between consecutive samples still counted as unchanged
        [tag unit]. Default 0 (exact repeats).
    frozen_tolerance_rel : float
        Same, relative to the previous value [-]. Default 0. The tolerance is
        ``frozen_tolerance_abs + frozen_tolerance_rel * |previous|``.
    spike_z : float or None
        Robust z-score above which a sample is a ``spike`` [-]. Default 8;
        ``None`` disables the check.
    spike_window : int
        Odd length of the rolling median/MAD window [samples]. Default 31.
    spike_min_scale_abs : float
        Lower bound of the spike scale [tag unit]. Default 0.
    spike_min_scale_rel : float
        Lower bound of the spike scale relative to ``|median|`` [-]. Default 0.
    bad_quality_codes : tuple of int
        Input quality codes reported as ``bad_quality_flag``. Default ``(1,)``.
    on_nan : {"keep", "drop", "interpolate", "mark_bad"}
        Action on non-finite samples. Default ``"drop"``.
    on_spike : {"keep", "drop", "interpolate", "mark_bad"}
        Action on spikes. Default ``"mark_bad"``.
    on_frozen : {"keep", "drop", "interpolate", "mark_bad"}
        Action on frozen runs. Default ``"mark_bad"``.
    on_out_of_range : {"keep", "drop", "interpolate", "mark_bad"}
        Action on out-of-range samples. Default ``"mark_bad"``.
    on_bad_quality : {"keep", "drop", "interpolate", "mark_bad"}
        Action on samples whose input quality code is in ``bad_quality_codes``.
        Default ``"keep"``.
    interpolate_max_gap_s : float
        Longest time between the two good neighbours that ``interpolate``
        bridges [s]; longer holes become NaN. Default 300.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_gap_s: float | None = Field(
        default=None,
        gt=0,
        description="Gap threshold [s]; None: gap_factor times the nominal sampling interval.",
    )
    gap_factor: float = Field(
        default=5.0, gt=1, description="Gap threshold in sampling intervals when max_gap_s is None."
    )
    sampling_estimate_intervals: int = Field(
        default=1000,
        ge=1,
        description="Time steps at the series start whose median estimates the sampling interval.",
    )
    frozen_min_duration_s: float | None = Field(
        default=3600.0,
        gt=0,
        description="Shortest constant run reported as frozen [s]; None disables the check.",
    )
    frozen_min_samples: int = Field(default=3, ge=2, description="Fewest samples of a frozen run.")
    frozen_tolerance_abs: float = Field(
        default=0.0, ge=0, description="Largest step still 'constant' [tag unit]."
    )
    frozen_tolerance_rel: float = Field(
        default=0.0, ge=0, description="Largest step still 'constant', relative to the value [-]."
    )
    spike_z: float | None = Field(
        default=8.0, gt=0, description="Robust z-score above which a sample is a spike; None: off."
    )
    spike_window: int = Field(
        default=31, ge=3, description="Rolling median/MAD window, odd [finite samples]."
    )
    spike_min_scale_abs: float = Field(
        default=0.0, ge=0, description="Lower bound of the spike scale (for flat data) [tag unit]."
    )
    spike_min_scale_rel: float = Field(
        default=0.0, ge=0, description="Lower bound of the spike scale relative to |median| [-]."
    )
    bad_quality_codes: tuple[int, ...] = Field(
        default=(1,), description="Quality codes reported as bad_quality_flag."
    )
    on_nan: PolicyAction = Field(default="drop", description="Action on non-finite samples.")
    on_spike: PolicyAction = Field(default="mark_bad", description="Action on spikes.")
    on_frozen: PolicyAction = Field(default="mark_bad", description="Action on frozen runs.")
    on_out_of_range: PolicyAction = Field(
        default="mark_bad", description="Action on out-of-range samples."
    )
    on_bad_quality: PolicyAction = Field(
        default="keep", description="Action on samples whose input quality code is bad."
    )
    interpolate_max_gap_s: float = Field(
        default=300.0,
        ge=0,
        description="Longest span between good neighbours bridged by interpolation [s].",
    )

    @field_validator("spike_window")
    @classmethod
    def _odd_window(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError(f"spike_window must be odd, got {value}")
        return value
