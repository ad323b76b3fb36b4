"""Declaration of a generic data-driven unit: signals, model type and orders.

This is what a project file states for a unit we have no physics for; the
project loader builds it with :meth:`DataDrivenSpec.from_mapping` and the
identification (:mod:`plant_models.datadriven.unit`) reads it.  Example of the
mapping (as parsed from TOML)::

    {
        "model": "arx",
        "inputs": [{"name": "damper_pct", "unit": "percent"}],
        "disturbances": [{"name": "ambient_degC", "unit": "degC"}],
        "outputs": [{"name": "power_fan_w", "unit": "W"}],
        "na": 2, "nb": 2, "nk": 1,
    }
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

from plant_models.core.equations import Variable
from plant_models.core.errors import EquationError
from plant_models.datadriven.errors import SpecError

__all__ = ["DYNAMIC_TYPES", "MODEL_TYPES", "STATIC_TYPES", "DataDrivenSpec"]

#: Static maps ``y = h(u, d)``.
STATIC_TYPES: tuple[str, ...] = ("polynomial", "rbf", "mlp")
#: Discrete-time dynamic models.
DYNAMIC_TYPES: tuple[str, ...] = ("arx", "statespace")
#: Every model type a data-driven unit can declare.
MODEL_TYPES: tuple[str, ...] = STATIC_TYPES + DYNAMIC_TYPES

_SIGNAL_KEYS = frozenset({"name", "unit", "description"})


def _signals(value: Any, field: str) -> tuple[Variable, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise SpecError(f"{field}: expected a list of {{name, unit}} tables, got {value!r}")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, Variable):
            out.append(item)
            continue
        if not isinstance(item, Mapping) or "name" not in item or "unit" not in item:
            raise SpecError(f"{field}[{i}]: expected a table with 'name' and 'unit', got {item!r}")
        unknown = set(item) - _SIGNAL_KEYS
        if unknown:
            raise SpecError(f"{field}[{i}]: unknown key(s) {sorted(unknown)}")
        try:
            out.append(
                Variable(str(item["name"]), str(item["unit"]), str(item.get("description", "")))
            )
        except EquationError as exc:
            raise SpecError(f"{field}[{i}]: {exc}") from None
    return tuple(out)


def _int_or_ints(value: Any, field: str, low: int) -> int | tuple[int, ...]:
    values = [value] if isinstance(value, int) else value
    if isinstance(values, str) or not isinstance(values, Sequence) or not values:
        raise SpecError(f"{field}: expected an integer or a list of integers, got {value!r}")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise SpecError(f"{field}: every entry must be an integer >= {low}, got {value!r}")
    return value if isinstance(value, int) else tuple(values)


@dataclass(frozen=True)
class DataDrivenSpec:
    """What to identify for a data-driven unit.

    Attributes
    ----------
    model_type : str
        One of :data:`MODEL_TYPES`.
    inputs : tuple of Variable
        Manipulated inputs (names and SI units; the envelope is taken from
        the data at identification).
    outputs : tuple of Variable
        Outputs.
    disturbances : tuple of Variable
        Measured disturbances (model inputs the controller cannot move).
    na, nb, nk : int or tuple of int
        ARX orders: output lags, input taps and input delays (per model
        input, inputs then disturbances, or one value for all).
    order : int or None
        State-space order; ``None`` chooses it from the data.
    max_order : int
        Largest order considered by the automatic choice.
    feedthrough : bool
        State-space: estimate a direct feed-through ``D``.
    degree : int
        Polynomial: largest total degree.
    n_centres : int
        RBF: number of centres.
    width_factor : float
        RBF: Gaussian width relative to the nearest-centre distance. [-]
    hidden : tuple of int
        MLP: sizes of the one or two hidden layers.
    penalty : str, float or None
        Ridge penalty: ``"gcv"``, ``"kfold"``, a fixed value, or ``None`` for
        the type's default (GCV for static maps, none for ARX).
    seed : int
        Seed of every random choice (k-means, MLP start, folds).
    """

    model_type: str
    inputs: tuple[Variable, ...]
    outputs: tuple[Variable, ...]
    disturbances: tuple[Variable, ...] = ()
    na: int = 2
    nb: int | tuple[int, ...] = 2
    nk: int | tuple[int, ...] = 1
    order: int | None = None
    max_order: int = 10
    feedthrough: bool = False
    degree: int = 2
    n_centres: int = 20
    width_factor: float = 2.0
    hidden: tuple[int, ...] = (10,)
    penalty: str | float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.model_type not in MODEL_TYPES:
            raise SpecError(
                f"model: unknown type {self.model_type!r}; choose one of {', '.join(MODEL_TYPES)}"
            )
        for field in ("inputs", "outputs", "disturbances"):
            object.__setattr__(self, field, _signals(getattr(self, field), field))
        if not self.inputs and not self.disturbances:
            raise SpecError("inputs: a data-driven unit needs at least one input or disturbance")
        if not self.outputs:
            raise SpecError("outputs: a data-driven unit needs at least one output")
        names = [v.name for v in self.inputs + self.disturbances + self.outputs]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise SpecError(f"signal names must be unique, repeated: {', '.join(dup)}")
        n_v = len(self.inputs) + len(self.disturbances)
        for field, low in (("nb", 1), ("nk", 0)):
            value = _int_or_ints(getattr(self, field), field, low)
            if isinstance(value, tuple) and len(value) != n_v:
                raise SpecError(
                    f"{field}: needs one entry per model input ({n_v}), got {len(value)}"
                )
            object.__setattr__(self, field, value)
        for field, low in (
            ("na", 0),
            ("max_order", 1),
            ("degree", 1),
            ("n_centres", 1),
            ("seed", 0),
        ):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise SpecError(f"{field}: must be an integer >= {low}, got {value!r}")
        if self.order is not None and (
            isinstance(self.order, bool) or not isinstance(self.order, int) or self.order < 1
        ):
            raise SpecError(f"order: must be a positive integer or omitted, got {self.order!r}")
        raw_hidden = self.hidden
        if isinstance(raw_hidden, int) and not isinstance(raw_hidden, bool):
            raw_hidden = (raw_hidden,)
        hidden = _int_or_ints(list(raw_hidden), "hidden", 1)
        if not isinstance(hidden, tuple) or not 1 <= len(hidden) <= 2:
            raise SpecError(f"hidden: one or two layer sizes, got {self.hidden!r}")
        object.__setattr__(self, "hidden", hidden)
        if not (isinstance(self.width_factor, int | float) and self.width_factor > 0):
            raise SpecError(f"width_factor: must be positive, got {self.width_factor!r}")
        if self.penalty is not None and not (
            self.penalty in ("gcv", "kfold")
            or (
                isinstance(self.penalty, int | float)
                and not isinstance(self.penalty, bool)
                and self.penalty >= 0
            )
        ):
            raise SpecError(f"penalty: 'gcv', 'kfold' or a number >= 0, got {self.penalty!r}")

    @property
    def is_dynamic(self) -> bool:
        """Whether the model is a discrete-time dynamic model."""
        return self.model_type in DYNAMIC_TYPES

    @property
    def model_inputs(self) -> tuple[Variable, ...]:
        """Inputs of the identified model: manipulated inputs, then disturbances."""
        return self.inputs + self.disturbances

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        """Build from a parsed project-file table.

        The model type is read from ``model`` (or ``model_type``); signals are
        lists of ``{name, unit, description}`` tables; every other key must be
        a field of this class.

        Raises
        ------
        SpecError
            For a missing or unknown key or an invalid value.
        """
        values = dict(data)
        if "model" in values:
            values["model_type"] = values.pop("model")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SpecError(
                f"unknown key(s) {', '.join(unknown)}; known: model, "
                + ", ".join(sorted(known - {"model_type"}))
            )
        for required in ("model_type", "inputs", "outputs"):
            if required not in values:
                raise SpecError(f"{'model' if required == 'model_type' else required}: missing")
        for key in ("hidden", "nb", "nk"):
            if isinstance(values.get(key), list):
                values[key] = tuple(values[key])
        return cls(**values)

    def to_mapping(self) -> dict[str, Any]:
        """Return the declaration as plain data (inverse of :meth:`from_mapping`)."""
        out: dict[str, Any] = {"model": self.model_type}
        for field in ("inputs", "disturbances", "outputs"):
            out[field] = [
                {"name": v.name, "unit": v.unit, "description": v.description}
                for v in getattr(self, field)
            ]
        for f in dataclasses.fields(self):
            if f.name in ("model_type", "inputs", "disturbances", "outputs"):
                continue
            value = getattr(self, f.name)
            if value is None:
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out
