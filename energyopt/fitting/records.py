"""Historian tags of a unit -> calibration records, cut at every unusable sample.

:func:`read_unit_grid` reads the tags behind a model's signals
(:func:`energyopt.fitting.units.signal_source`) on a regular grid, cleans
each with the project's ``[data_quality]`` policy in the tag's own unit (the
policy's thresholds are in tag units), converts it to the model variable's
SI unit and marks a sample usable when every signal is finite and not bad --
the pattern of :mod:`energyopt.identify.history`, whose hold and range
helpers it reuses.  :func:`grid_records` then cuts the usable stretches into
:class:`~plant_models.calibration.Dataset` records: the calibration never
fits across a gap.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import ProjectBindingError
from energyopt.fitting.units import SignalSource, UnitModel, signal_source
from energyopt.tagdata import read_clean_tags
from plant_models.calibration import Dataset

if TYPE_CHECKING:
    from energyopt.data.format import TimeLike
    from energyopt.data.reader import HistorianReader
    from energyopt.progress import CancelToken
    from energyopt.project import Project
    from plant_models.core.equations import EquationModel

__all__ = ["SignalGrid", "grid_records", "read_unit_grid"]


@dataclass(frozen=True, eq=False)
class SignalGrid:
    """A model's signals on a regular grid, in SI, with the usable-sample mask.

    Attributes
    ----------
    time_ms : numpy.ndarray
        Grid times, int64, shape (N,). [ms since epoch]
    step_s : float
        Grid step. [s]
    u, d : numpy.ndarray
        Inputs and disturbances in model order, shape (N, n). [SI]
    states, outputs : Mapping[str, numpy.ndarray]
        Measured states and outputs by model name, each shape (N,). [SI]
    valid : numpy.ndarray
        Usable samples, bool, shape (N,).
    sources : Mapping[str, SignalSource]
        Where each signal came from, by model variable name.
    notes : tuple of str
        One line per tag that lost samples.
    """

    time_ms: npt.NDArray[np.int64]
    step_s: float
    u: npt.NDArray[np.float64]
    d: npt.NDArray[np.float64]
    states: Mapping[str, npt.NDArray[np.float64]]
    outputs: Mapping[str, npt.NDArray[np.float64]]
    valid: npt.NDArray[np.bool_]
    sources: Mapping[str, SignalSource]
    notes: tuple[str, ...]

    @property
    def n_samples(self) -> int:
        """Number of grid samples."""
        return int(self.time_ms.size)


def _check_tags(
    project: Project, unit: str, sources: Mapping[str, SignalSource], reader: HistorianReader
) -> None:
    """Raise :class:`ProjectBindingError` listing every tag the historian lacks."""
    source = project.source or "project"
    tags = reader.tags
    errors = []
    for var, src in sources.items():
        if src.tag is None:
            continue
        info = tags.get(src.tag)
        if info is None:
            close = difflib.get_close_matches(src.tag, list(tags), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            errors.append(
                f"{source}: units.{unit}: tag '{src.tag}' of {var} ({src.origin}) is not in "
                f"'{reader.path}'{hint}"
            )
    if errors:
        raise ProjectBindingError("\n".join(errors))


def read_unit_grid(
    project: Project,
    unit: UnitModel,
    model: EquationModel,
    reader: HistorianReader,
    window: tuple[TimeLike | None, TimeLike | None],
    *,
    states: Sequence[str],
    outputs: Sequence[str] = (),
    overrides: Mapping[str, str | float] | None = None,
    step_s: float | None = None,
    cancel: CancelToken | None = None,
) -> SignalGrid:
    """Read, clean and convert a model's signals over a time window.

    Parameters
    ----------
    project : Project
        The project (bindings, ``[data_quality]``).
    unit : UnitModel
        The unit the model belongs to.
    model : EquationModel
        The model whose inputs and disturbances are read (the unit's model or
        an :func:`~energyopt.fitting.submodel.equation_subset` of it).
    reader : HistorianReader
        The open historian.
    window : (start, end)
        Time range, end exclusive (``None``: the file's first or last time).
    states, outputs : sequence of str
        Measured states and outputs to read.
    overrides : Mapping[str, str or float], optional
        Variable -> tag or constant SI value.
    step_s : float, optional
        Grid step; default the file's sampling interval. [s]
    cancel : CancelToken, optional
        Checked while reading.

    Raises
    ------
    ProjectBindingError
        If a signal has no bound tag or its tag is not in the file.
    UnitConversionError
        If a tag's unit does not convert to the model variable's unit.
    DataQualityError
        If a signal has no usable sample in the window.
    """
    from energyopt.data.units import convert

    wanted = [("u", v) for v in model.inputs] + [("d", v) for v in model.disturbances]
    wanted += [("x", model.states[model.index("x", s)]) for s in states]
    wanted += [("y", model.outputs[model.index("y", s)]) for s in outputs]
    sources = {var.name: signal_source(project, unit, var.name, overrides) for _, var in wanted}
    _check_tags(project, unit.name, sources, reader)
    step_ms = round((step_s or (reader.sampling_ms or 60_000.0) / 1000.0) * 1000.0)
    tags = list(dict.fromkeys(s.tag for s in sources.values() if s.tag is not None))
    clean = read_clean_tags(
        project, reader, tags, window, step_ms, owner=f"units.{unit.name}", cancel=cancel
    )
    n = len(clean)
    cleaned = clean.values

    def column(var_name: str, var_unit: str) -> npt.NDArray[np.float64]:
        src = sources[var_name]
        if src.tag is None:
            return np.full(n, src.value)
        return convert(cleaned[src.tag], reader.tag(src.tag).unit, var_unit, tag=src.tag)

    def stack(kind: str) -> npt.NDArray[np.float64]:
        cols = [column(v.name, v.unit) for k, v in wanted if k == kind]
        return np.column_stack(cols) if cols else np.zeros((n, 0))

    return SignalGrid(
        time_ms=clean.time_ms,
        step_s=step_ms / 1000.0,
        u=stack("u"),
        d=stack("d"),
        states={v.name: column(v.name, v.unit) for k, v in wanted if k == "x"},
        outputs={v.name: column(v.name, v.unit) for k, v in wanted if k == "y"},
        valid=clean.valid,
        sources=sources,
        notes=clean.notes,
    )


def grid_records(
    grid: SignalGrid, start: int = 0, stop: int | None = None, *, min_samples: int = 10
) -> tuple[Dataset, ...]:
    """Cut the usable stretches of ``grid[start:stop]`` into calibration records.

    Parameters
    ----------
    grid : SignalGrid
        The signals.
    start, stop : int
        Sample range of the grid (``stop`` ``None``: to the end).
    min_samples : int
        Shortest gap-free stretch kept. [samples]

    Returns
    -------
    tuple of Dataset
        One record per gap-free stretch, ``t0_s`` relative to the grid start.
    """
    from plant_models.datadriven.segments import segments

    stop = grid.n_samples if stop is None else stop
    records = []
    for a, b in segments(grid.valid[start:stop], min_length=max(min_samples, 2)):
        i, j = start + a, start + b
        records.append(
            Dataset(
                dt_s=grid.step_s,
                u=grid.u[i:j],
                d=grid.d[i:j],
                states={k: v[i:j] for k, v in grid.states.items()},
                outputs={k: v[i:j] for k, v in grid.outputs.items()},
                t0_s=float(grid.time_ms[i] - grid.time_ms[0]) / 1000.0,
            )
        )
    return tuple(records)
