"""Measured records for calibration: arrays on a uniform time grid, signals by model name.

A :class:`Dataset` is one contiguous record sampled every ``dt_s`` seconds:
``u[k]`` and ``d[k]`` hold over ``[t_k, t_k + dt_s)`` (zero-order hold, as in
:mod:`plant_models.core.simulate`), and every measured signal is sampled at
``t_k``.  Measured signals are named by the model's variable names: model
outputs in :attr:`Dataset.outputs`, states in :attr:`Dataset.states`.  A
record with gaps is split by the application into several records; the
calibration functions accept a sequence of them.

Nothing here knows about files or tags: the application maps historian tags
to model names and cuts the records.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plant_models.calibration.errors import CalibrationDataError
from plant_models.core.equations import EquationModel

__all__ = ["BoundRecord", "Dataset", "as_records", "bind_records"]


def _finite_column(values: Any, name: str) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise CalibrationDataError(f"signal {name} must be 1-D, got shape {arr.shape}")
    _check_finite(arr[:, np.newaxis], name)
    return arr


def _check_finite(arr: NDArray[np.float64], name: str) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        where = f"column {int(col)} " if arr.shape[1] > 1 else ""
        raise CalibrationDataError(
            f"{name} contains {int(bad.sum())} NaN or infinite value(s); first in {where}at "
            f"sample {int(row)}: cut the record at gaps (pass several records) or fill them"
        )


def _matrix(values: ArrayLike | None, name: str) -> NDArray[np.float64] | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, np.newaxis]
    if arr.ndim != 2:
        raise CalibrationDataError(
            f"{name} must be 1-D or 2-D (samples x columns), got {arr.ndim}-D"
        )
    _check_finite(arr, name)
    return arr


@dataclass(frozen=True, eq=False)
class Dataset:
    """One contiguous measured record on a uniform grid.

    Attributes
    ----------
    dt_s : float
        Sample interval. [s]
    u : numpy.ndarray, shape (N, nu)
        Manipulated inputs, held over each interval. [SI]
    d : numpy.ndarray, shape (N, nd)
        Disturbances, held over each interval. [SI]
    outputs : Mapping[str, numpy.ndarray]
        Measured model outputs by output name, each shape ``(N,)``. [SI]
    states : Mapping[str, numpy.ndarray]
        Measured states by state name, each shape ``(N,)``. [SI]
    t0_s : float
        Time of the first sample. [s]

    Notes
    -----
    ``u`` or ``d`` may be given as ``None`` for a model without inputs or
    disturbances; a 1-D array is one column.  Every array must be finite:
    NaN or infinite values raise :class:`CalibrationDataError` naming the
    array and the first bad sample.
    """

    dt_s: float
    u: ArrayLike | None = None
    d: ArrayLike | None = None
    outputs: Mapping[str, ArrayLike] = field(default_factory=dict)
    states: Mapping[str, ArrayLike] = field(default_factory=dict)
    t0_s: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.dt_s) and self.dt_s > 0.0):
            raise CalibrationDataError(f"dt_s must be a positive finite interval, got {self.dt_s}")
        u = _matrix(self.u, "u")
        d = _matrix(self.d, "d")
        outputs = {str(k): _finite_column(v, f"output {k}") for k, v in self.outputs.items()}
        states = {str(k): _finite_column(v, f"state {k}") for k, v in self.states.items()}
        both = sorted(set(outputs) & set(states))
        if both:
            raise CalibrationDataError(
                f"signal(s) {', '.join(both)} given both as output and as state: measure each "
                "quantity once"
            )
        if not outputs and not states:
            raise CalibrationDataError("the record has no measured outputs or states")
        lengths = {
            name: arr.shape[0]
            for name, arr in (
                [("u", u), ("d", d)]
                + [(f"output {k}", v) for k, v in outputs.items()]
                + [(f"state {k}", v) for k, v in states.items()]
            )
            if arr is not None
        }
        n = next(iter(lengths.values()))
        wrong = {k: m for k, m in lengths.items() if m != n}
        if wrong:
            detail = ", ".join(f"{k} has {m}" for k, m in wrong.items())
            raise CalibrationDataError(f"signals differ in length: {n} samples expected, {detail}")
        if n < 2:
            raise CalibrationDataError(f"a record needs at least 2 samples, got {n}")
        object.__setattr__(self, "u", np.zeros((n, 0)) if u is None else u)
        object.__setattr__(self, "d", np.zeros((n, 0)) if d is None else d)
        object.__setattr__(self, "outputs", MappingProxyType(outputs))
        object.__setattr__(self, "states", MappingProxyType(states))

    @property
    def n_samples(self) -> int:
        """Number of samples ``N``."""
        return int(self.inputs.shape[0])

    @property
    def inputs(self) -> NDArray[np.float64]:
        """The input array ``u`` (never ``None`` after construction), shape ``(N, nu)``."""
        return cast(NDArray[np.float64], self.u)  # an array since __post_init__

    @property
    def disturbances(self) -> NDArray[np.float64]:
        """The disturbance array ``d``, shape ``(N, nd)``."""
        return cast(NDArray[np.float64], self.d)  # an array since __post_init__

    def window(self, start: int, stop: int) -> Dataset:
        """Return samples ``start:stop`` as a new record (``t0_s`` shifted accordingly).

        Raises
        ------
        CalibrationDataError
            If the window is outside the record or shorter than 2 samples.
        """
        n = self.n_samples
        if not 0 <= start < stop <= n:
            raise CalibrationDataError(f"window {start}:{stop} outside the record of {n} samples")
        return Dataset(
            dt_s=self.dt_s,
            u=self.inputs[start:stop],
            d=self.disturbances[start:stop],
            outputs={k: np.asarray(v)[start:stop] for k, v in self.outputs.items()},
            states={k: np.asarray(v)[start:stop] for k, v in self.states.items()},
            t0_s=self.t0_s + start * self.dt_s,
        )

    def split(self, training_fraction: float) -> tuple[Dataset, Dataset]:
        """Split into a training record and the validation record that directly follows it.

        Parameters
        ----------
        training_fraction : float
            Share of the samples in the training record, in ``(0, 1)``. [-]
        """
        if not 0.0 < training_fraction < 1.0:
            raise CalibrationDataError(
                f"training_fraction must be between 0 and 1, got {training_fraction}"
            )
        cut = round(training_fraction * self.n_samples)
        return self.window(0, cut), self.window(cut, self.n_samples)


def as_records(data: Dataset | Sequence[Dataset], what: str = "data") -> tuple[Dataset, ...]:
    """Return ``data`` as a non-empty tuple of records with one common ``dt_s``."""
    records = (data,) if isinstance(data, Dataset) else tuple(data)
    if not records:
        raise CalibrationDataError(f"{what}: no records given")
    for rec in records:
        if not isinstance(rec, Dataset):
            raise CalibrationDataError(
                f"{what}: expected Dataset records, got {type(rec).__name__}"
            )
    if len({rec.dt_s for rec in records}) != 1:
        raise CalibrationDataError(f"{what}: records have different sample intervals dt_s")
    keys = {(tuple(rec.outputs), tuple(rec.states)) for rec in records}
    if len(keys) != 1:
        raise CalibrationDataError(f"{what}: records measure different signals")
    return records


@dataclass(frozen=True, eq=False)
class BoundRecord:
    """A record checked against a model: measured signals as index and value arrays.

    Attributes
    ----------
    record : Dataset
        The source record.
    output_index : numpy.ndarray of int
        Positions of the measured outputs in the model's ``y``.
    output_values : numpy.ndarray, shape (n_measured_outputs, N)
        Their measurements (one row per signal). [SI]
    state_index : numpy.ndarray of int
        Positions of the measured states in the model's ``x``.
    state_values : numpy.ndarray, shape (n_measured_states, N)
        Their measurements. [SI]
    n_states : int
        Number of model states.
    """

    record: Dataset
    output_index: NDArray[np.int64]
    output_values: NDArray[np.float64]
    state_index: NDArray[np.int64]
    state_values: NDArray[np.float64]
    n_states: int

    @property
    def all_states_measured(self) -> bool:
        """Whether every state of the model is measured."""
        return self.state_index.size == self.n_states

    def full_states(self) -> NDArray[np.float64]:
        """Return the measured states as a ``(nx, N)`` array in model order.

        Raises
        ------
        CalibrationDataError
            If a state is not measured.
        """
        if not self.all_states_measured:
            raise CalibrationDataError("not every state is measured")
        out = np.empty((self.n_states, self.record.n_samples))
        out[self.state_index] = self.state_values
        return out


def _index(model: EquationModel, kind: str, names: Sequence[str]) -> NDArray[np.int64]:
    known = [v.name for v in model.variables(kind)]
    idx = []
    for name in names:
        if name not in known:
            label = "output" if kind == "y" else "state"
            raise CalibrationDataError(
                f"model {model.name} has no {label} {name!r}; known: {', '.join(known) or '(none)'}"
            )
        idx.append(known.index(name))
    return np.array(idx, dtype=np.int64)


def bind_records(model: EquationModel, records: Sequence[Dataset]) -> tuple[BoundRecord, ...]:
    """Check records against ``model`` (column counts, signal names) and index their signals.

    Raises
    ------
    CalibrationDataError
        For a wrong number of input or disturbance columns or an unknown signal name.
    """
    sizes = model.sizes
    bound = []
    for rec in records:
        for label, arr, n in (("u", rec.inputs, sizes["u"]), ("d", rec.disturbances, sizes["d"])):
            if arr.shape[1] != n:
                names = ", ".join(v.name for v in model.variables(label)) or "(none)"
                raise CalibrationDataError(
                    f"{label} has {arr.shape[1]} columns; model {model.name} has {n}: {names}"
                )
        out_names = tuple(rec.outputs)
        state_names = tuple(rec.states)
        bound.append(
            BoundRecord(
                record=rec,
                output_index=_index(model, "y", out_names),
                output_values=np.array([rec.outputs[k] for k in out_names]).reshape(
                    len(out_names), rec.n_samples
                ),
                state_index=_index(model, "x", state_names),
                state_values=np.array([rec.states[k] for k in state_names]).reshape(
                    len(state_names), rec.n_samples
                ),
                n_states=sizes["x"],
            )
        )
    return tuple(bound)
