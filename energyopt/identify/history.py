"""Historian data of a data-driven unit: its tags on the model grid, cleaned, with a mask.

For one unit and one time window :func:`read_unit_data`

1. checks that every signal's tag is in the historian in a compatible unit
   (:class:`~energyopt.errors.ProjectBindingError` naming unit, signal and tag);
2. resamples the tags onto the model's sample time (streamed from the file;
   a sample is held at most one sampling interval, so a hole in the
   recording stays a hole instead of being bridged by a held value);
3. applies the project's ``[data_quality]`` policy to each resampled tag in
   its own unit (the policy's thresholds are in tag units), then converts to SI;
4. marks a sample usable when every signal is finite and not flagged bad.

The identification then never fits across an unusable sample
(:mod:`plant_models.datadriven.segments`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import DataQualityError, ProjectBindingError, UnitConversionError
from energyopt.project.bindings import tag_policy

if TYPE_CHECKING:
    from energyopt.data.format import TimeLike
    from energyopt.data.reader import HistorianReader
    from energyopt.progress import CancelToken, ProgressCallback
    from energyopt.project.datadriven import ModelTable
    from energyopt.project.model import Project

__all__ = [
    "UnitData",
    "binding_ranges",
    "check_unit_tags",
    "read_unit_data",
    "resample_hold_ms",
]

#: Quality code of a bad sample (historian format v1).
_BAD = 1


@dataclass(frozen=True)
class UnitData:
    """Samples of one data-driven unit on its model grid, in SI units.

    Attributes
    ----------
    unit_name : str
        The unit.
    time_ms : numpy.ndarray
        Grid times (bin starts), int64, shape (N,). [ms since epoch]
    u, d, y : numpy.ndarray
        Inputs, disturbances and outputs, shape (N, n) in the order of the
        model table; NaN where unusable. [SI]
    valid : numpy.ndarray
        Usable samples, bool, shape (N,).
    notes : tuple of str
        One line per signal that lost samples (how many, and why).
    """

    unit_name: str
    time_ms: npt.NDArray[np.int64]
    u: npt.NDArray[np.float64]
    d: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    valid: npt.NDArray[np.bool_]
    notes: tuple[str, ...]

    @property
    def n_samples(self) -> int:
        """Number of grid samples in the window."""
        return int(self.time_ms.size)

    @property
    def n_valid(self) -> int:
        """Number of usable samples."""
        return int(self.valid.sum())


def _table(project: Project, unit_name: str) -> ModelTable:
    from energyopt.project.datadriven import _model_table

    return _model_table(project, unit_name)


def check_unit_tags(project: Project, unit_name: str, reader: HistorianReader) -> None:
    """Check that every signal of a data-driven unit is recorded in a compatible unit.

    Raises
    ------
    ProjectBindingError
        One line per problem: a tag missing from the historian (with close
        names) or recorded in a unit of another dimension; each line names
        the project file, the signal's key path and the tag.
    """
    from energyopt.data.units import is_compatible

    table = _table(project, unit_name)
    source = project.source or "project"
    tags = reader.tags
    errors: list[str] = []
    for group, i, signal in table.signals:
        where = f"{source}: units.{unit_name}.model.{group}[{i}]"
        info = tags.get(signal.tag)
        if info is None:
            close = difflib.get_close_matches(signal.tag, list(tags), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            errors.append(
                f"{where}.tag: tag '{signal.tag}' of signal '{signal.name}' is not in "
                f"'{reader.path}'{hint}"
            )
            continue
        try:
            compatible = is_compatible(info.unit, signal.unit)
        except UnitConversionError as exc:
            errors.append(f"{where}.unit: historian {exc}")
            continue
        if not compatible:
            errors.append(
                f"{where}.unit: '{signal.unit}' of signal '{signal.name}' is not compatible "
                f"with '{info.unit}', the unit of tag '{signal.tag}' in '{reader.path}'"
            )
    if errors:
        raise ProjectBindingError("\n".join(errors))


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


def read_unit_data(
    project: Project,
    unit_name: str,
    reader: HistorianReader,
    window: tuple[TimeLike | None, TimeLike | None],
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> UnitData:
    """Read, clean and convert the signals of a data-driven unit over a time window.

    Parameters
    ----------
    project : Project
        The project declaring the unit.
    unit_name : str
        A data-driven unit.
    reader : HistorianReader
        The open historian.
    window : (start, end)
        Time range, end exclusive (naive times in the historian's time zone;
        ``None`` for the file's first or last time).
    progress : ProgressCallback, optional
        Called while the file is streamed.
    cancel : CancelToken, optional
        Checked between chunks.

    Returns
    -------
    UnitData

    Raises
    ------
    ProjectBindingError
        If a tag is missing or its unit is not compatible (:func:`check_unit_tags`).
    DataQualityError
        If a signal has no usable sample in the window (the message names
        the unit, the signal, the tag and the window).
    """
    from energyopt.data.quality import apply_policy

    check_unit_tags(project, unit_name, reader)
    table = _table(project, unit_name)
    source = project.source or "project"
    step_ms = round(table.sample_time_s * 1000.0)
    tags = list(dict.fromkeys(signal.tag for _, _, signal in table.signals))
    series = reader.read_resampled(
        tags,
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
    columns: dict[str, npt.NDArray[np.float64]] = {}
    valid = np.ones(n, dtype=bool)
    notes: list[str] = []
    for tag in tags:
        info = reader.tag(tag)
        values, quality = apply_policy(
            series.time_ms,
            series.values[tag],
            series.quality.get(tag),
            tag_policy(project, tag, info.kind or None),
            expected_range=ranges.get(tag),
            tag=tag,
            kind=None,  # resolved by tag_policy (the binding's kind and quality table)
        )
        usable = np.isfinite(values) & (quality != _BAD)
        if not usable.any():
            names = [s.name for _, _, s in table.signals if s.tag == tag]
            raise DataQualityError(
                f"{source}: units.{unit_name}: signal '{names[0]}' (tag '{tag}') has no usable "
                f"sample in {span} of '{reader.path}' (all missing, NaN or flagged bad)"
            )
        lost = n - int(usable.sum())
        if lost:
            notes.append(f"units.{unit_name}: tag '{tag}': {lost} of {n} samples unusable")
        valid &= usable
        si_values, _ = reader.to_si(np.where(usable, values, np.nan), tag)
        columns[tag] = np.asarray(si_values, dtype=np.float64)

    def stack(group: str) -> npt.NDArray[np.float64]:
        signals = getattr(table, group)
        if not signals:
            return np.zeros((n, 0))
        return np.column_stack([columns[s.tag] for s in signals])

    return UnitData(
        unit_name=unit_name,
        time_ms=series.time_ms,
        u=stack("inputs"),
        d=stack("disturbances"),
        y=stack("outputs"),
        valid=valid,
        notes=tuple(notes),
    )


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
