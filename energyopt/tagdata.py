"""Bound historian tags of a project, read and cleaned for model work.

Identification (:mod:`energyopt.identify`) and calibration
(:mod:`energyopt.fitting`) both need the same thing from a historian file:
the bound tags resampled to a model step, each cleaned by the data-quality
policy of its binding (:func:`energyopt.project.bindings.tag_policy`), and the
rows where every tag is usable -- so that nothing is fitted across a gap.
This module is that one rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import DataQualityError, UnitConversionError
from energyopt.project.bindings import tag_policy

if TYPE_CHECKING:
    from energyopt.data.format import TimeLike
    from energyopt.data.reader import HistorianReader
    from energyopt.progress import CancelToken, ProgressCallback
    from energyopt.project.model import Project

__all__ = ["CleanTags", "binding_ranges", "read_clean_tags", "resample_hold_ms"]

#: Quality code of a bad sample (historian format v1).
_BAD = 1


@dataclass(frozen=True)
class CleanTags:
    """Bound tags on a regular grid, cleaned by their data-quality policy.

    Attributes
    ----------
    time_ms : numpy.ndarray
        Grid times (bin starts), int64, shape (N,). [ms since epoch]
    step_ms : int
        Grid step. [ms]
    values : dict of str to numpy.ndarray
        Tag -> values in the tag's own unit, NaN where unusable. [tag unit]
    valid : numpy.ndarray
        Rows where every tag is usable, bool, shape (N,).
    notes : tuple of str
        One line per tag that lost samples.
    """

    time_ms: npt.NDArray[np.int64]
    step_ms: int
    values: dict[str, npt.NDArray[np.float64]]
    valid: npt.NDArray[np.bool_]
    notes: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.time_ms.shape[0])


def read_clean_tags(
    project: Project,
    reader: HistorianReader,
    tags: Sequence[str],
    window: tuple[TimeLike | None, TimeLike | None],
    step_ms: int,
    *,
    owner: str,
    describe: Callable[[str], str] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> CleanTags:
    """Read bound tags resampled to ``step_ms`` and clean each by its policy.

    Parameters
    ----------
    project : Project
        Project whose bindings and ``[data_quality]`` apply.
    reader : HistorianReader
        Open historian file.
    tags : sequence of str
        Historian tags to read (checked to exist by the caller).
    window : (start, end)
        Time window; ``None`` for the file's start or end.
    step_ms : int
        Grid step. [ms]
    owner : str
        Key path the data is for (``units.boiler_1``), used in messages.
    describe : callable, optional
        ``describe(tag)`` -> how a message names the tag (default ``tag 'T'``).
    progress : ProgressCallback, optional
        Progress of the read.
    cancel : CancelToken, optional
        Checked between chunks.

    Raises
    ------
    DataQualityError
        If a tag has no usable sample in the window (the message names the
        owner, the tag and the window).
    """
    from energyopt.data.quality import apply_policy

    describe = describe or (lambda tag: f"tag '{tag}'")
    series = reader.read_resampled(
        list(tags),
        window[0],
        window[1],
        step_ms,
        si=False,
        max_gap=resample_hold_ms(project, reader, step_ms),
        progress=progress,
        cancel=cancel,
    )
    n = len(series)
    span = (
        f"{reader.format_time(int(series.time_ms[0]))} .. "
        f"{reader.format_time(int(series.time_ms[-1]) + step_ms)}"
        if n
        else "the window"
    )
    ranges = binding_ranges(project, reader)
    source = project.source or "project"
    values: dict[str, npt.NDArray[np.float64]] = {}
    valid = np.ones(n, dtype=bool)
    notes: list[str] = []
    for tag in tags:
        info = reader.tag(tag)
        cleaned, quality = apply_policy(
            series.time_ms,
            series.values[tag],
            series.quality.get(tag),
            tag_policy(project, tag, info.kind or None),
            expected_range=ranges.get(tag),
            tag=tag,
            kind=None,  # resolved by tag_policy (the binding's kind and quality table)
        )
        usable = np.isfinite(cleaned) & (quality != _BAD)
        if not usable.any():
            raise DataQualityError(
                f"{source}: {owner}: {describe(tag)} has no usable sample in {span} of "
                f"'{reader.path}' (all missing, NaN or flagged bad)"
            )
        lost = n - int(usable.sum())
        if lost:
            notes.append(f"{owner}: tag '{tag}': {lost} of {n} samples unusable")
        valid &= usable
        values[tag] = np.where(usable, cleaned, np.nan)
    return CleanTags(series.time_ms, step_ms, values, valid, tuple(notes))


def resample_hold_ms(project: Project, reader: HistorianReader, step_ms: int) -> int:
    """Return the longest time a sample is held when resampling [ms].

    Parameters
    ----------
    project : Project
        Project whose ``[data_quality] max_gap_s`` caps the hold.
    reader : HistorianReader
        Open historian file (its nominal sampling interval).
    step_ms : int
        Model step. [ms]

    Notes
    -----
    One nominal sampling interval of the file (or one model step, if longer):
    a missing sample then leaves its bin empty for the data-quality policy to
    handle, and an outage is never filled with a held value.  A smaller
    ``[data_quality] max_gap_s`` lowers it further.
    """
    hold = max(float(reader.sampling_ms or step_ms), float(step_ms))
    max_gap_s = project.data_quality.max_gap_s
    if max_gap_s is not None:
        hold = min(hold, float(max_gap_s) * 1000.0)
    return max(1, round(hold))


def binding_ranges(project: Project, reader: HistorianReader) -> dict[str, tuple[float, float]]:
    """Plausible range of each bound tag in the historian's unit (from ``[bindings]``).

    Parameters
    ----------
    project : Project
        Project whose bindings carry ``range``.
    reader : HistorianReader
        Open historian file giving each tag's unit.
    """
    from energyopt.data.units import convert

    out: dict[str, tuple[float, float]] = {}
    tags = reader.tags
    for binding in project.bindings.values():
        info = tags.get(binding.tag)
        if binding.range is None or info is None:
            continue
        try:
            low, high = (float(convert(v, binding.unit, info.unit)) for v in binding.range)
        except UnitConversionError:
            continue  # reported by check_bindings; no range check then
        out[binding.tag] = (min(low, high), max(low, high))
    return out
