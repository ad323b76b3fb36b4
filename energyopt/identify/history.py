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

from energyopt.errors import ProjectBindingError, UnitConversionError
from energyopt.tagdata import read_clean_tags

if TYPE_CHECKING:
    from energyopt.data.format import TimeLike
    from energyopt.data.reader import HistorianReader
    from energyopt.progress import CancelToken, ProgressCallback
    from energyopt.project.datadriven import ModelTable
    from energyopt.project.model import Project

__all__ = [
    "UnitData",
    "check_unit_tags",
    "read_unit_data",
]


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
    check_unit_tags(project, unit_name, reader)
    table = _table(project, unit_name)
    step_ms = round(table.sample_time_s * 1000.0)
    tags = list(dict.fromkeys(signal.tag for _, _, signal in table.signals))

    def describe(tag: str) -> str:
        names = [s.name for _, _, s in table.signals if s.tag == tag]
        return f"signal '{names[0]}' (tag '{tag}')"

    clean = read_clean_tags(
        project,
        reader,
        tags,
        window,
        step_ms,
        owner=f"units.{unit_name}",
        describe=describe,
        progress=progress,
        cancel=cancel,
    )
    n = len(clean)
    columns: dict[str, npt.NDArray[np.float64]] = {}
    for tag in tags:
        si_values, _ = reader.to_si(clean.values[tag], tag)
        columns[tag] = np.asarray(si_values, dtype=np.float64)

    def stack(group: str) -> npt.NDArray[np.float64]:
        signals = getattr(table, group)
        if not signals:
            return np.zeros((n, 0))
        return np.column_stack([columns[s.tag] for s in signals])

    return UnitData(
        unit_name=unit_name,
        time_ms=clean.time_ms,
        u=stack("inputs"),
        d=stack("disturbances"),
        y=stack("outputs"),
        valid=clean.valid,
        notes=clean.notes,
    )
