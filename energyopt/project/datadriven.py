"""Data-driven units in the project file: ``type = "data_driven"`` and its ``model`` table.

A unit we have no physics for is declared by its signals (historian tags
with their engineering units) and the model to identify::

    [units.sinter_fan]
    type = "data_driven"
    description = "Sinter main fan: no first-principles model"

    [units.sinter_fan.model]
    kind = "arx"
    sample_time_s = "1 min"
    na = 2
    nb = 2
    nk = 1
    inputs = [{ name = "damper", tag = "SINTER.FAN.DAMPER", unit = "%" }]
    disturbances = [{ name = "bed_height", tag = "SINTER.BED.H", unit = "mm" }]
    outputs = [{ name = "power", tag = "SINTER.FAN.POWER", unit = "MW" }]

    [units.sinter_fan.connections]
    power_in = { node = "el_bus", output = "power", direction = "in" }

Ports (:mod:`energyopt.project.datadriven_ports`): each names a media node,
the signal that *is* the flow through the port (``output``, ``input`` or
``disturbance``) and the direction (``in``: the unit draws it from the node);
the signal's unit must be a flow of the node's medium.

:class:`ModelTable` validates the table (key paths in every message) and
builds the :class:`~plant_models.datadriven.DataDrivenSpec` the identification
uses; signals are in SI inside the model.  The identified coefficients live
in a plain JSON file next to the project, ``<project>.models/<unit>.json``
(or ``model.file``), read by :func:`load_identified_unit`.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self, get_args

from pydantic import Field, PrivateAttr, StrictBool, StrictStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from energyopt.errors import DataError, ModelError, ProjectError, UnitConversionError
from energyopt.project.base import (
    DurationS,
    Issue,
    Number,
    SchemaModel,
    issues_error,
)
from plant_models.datadriven import DataDrivenSpec, DataDrivenUnit, ModelFormatError, SpecError

if TYPE_CHECKING:
    import os

    from energyopt.project.model import Project

__all__ = [
    "DATA_DRIVEN_TYPE",
    "MODEL_FILE_FORMAT",
    "MODEL_KINDS",
    "ModelTable",
    "SignalTable",
    "load_identified_unit",
    "model_file_path",
    "model_file_payload",
]

#: ``type`` of a data-driven unit in ``[units.<name>]``.
DATA_DRIVEN_TYPE = "data_driven"

#: Model kinds a data-driven unit can declare.
ModelKind = Literal["arx", "state_space", "polynomial", "rbf", "mlp"]
MODEL_KINDS: tuple[str, ...] = get_args(ModelKind)

#: ``format`` written at the top of an identified-model JSON file.
MODEL_FILE_FORMAT = "energyopt-identified-unit"
_MODEL_FILE_VERSION = 1

# Project-file kind -> plant_models model type.
_MODEL_TYPE = {"state_space": "statespace"}

# Keys that only some kinds use (the others are common to every kind).
_KIND_KEYS: dict[str, frozenset[str]] = {
    "arx": frozenset({"na", "nb", "nk", "penalty"}),
    "state_space": frozenset({"order", "max_order", "feedthrough"}),
    "polynomial": frozenset({"degree", "penalty"}),
    "rbf": frozenset({"n_centres", "width_factor", "penalty"}),
    "mlp": frozenset({"hidden"}),
}
_OPTIONAL_KEYS = frozenset().union(*_KIND_KEYS.values())

_SIGNAL_NAME = r"^[A-Za-z][A-Za-z0-9_]*$"
_SPEC_FIELD = re.compile(r"^(model|[a-z_]+)(\[(\d+)\])?: ")

StrictInt = Annotated[int, Field(strict=True)]


class SignalTable(SchemaModel):
    """One signal of a data-driven unit: a model variable read from a historian tag."""

    name: StrictStr = Field(
        pattern=_SIGNAL_NAME, description="Variable name in the model (damper, power)"
    )
    tag: StrictStr = Field(description="Historian tag (SINTER.FAN.POWER)")
    unit: StrictStr = Field(
        description="Engineering unit of the tag (%, MW, t/h); the model works in its SI unit"
    )
    description: StrictStr = Field("", description="Free text")

    @field_validator("tag")
    @classmethod
    def _tag_name(cls, value: str) -> str:
        from energyopt.data.format import validate_tag_name

        try:
            return validate_tag_name(value)
        except DataError as exc:
            raise PydanticCustomError("tag", "{reason}", {"reason": str(exc)}) from None

    @field_validator("unit")
    @classmethod
    def _unit_known(cls, value: str) -> str:
        from energyopt.data.units import parse_unit

        try:
            parse_unit(value)
        except UnitConversionError as exc:
            raise PydanticCustomError("unit", "{reason}", {"reason": str(exc)}) from None
        return value

    @property
    def si_unit(self) -> str:
        """SI unit the model uses for this signal (``"MW"`` -> ``"W"``, ``"%"`` -> ``"1"``)."""
        from energyopt.data.units import si_unit

        return si_unit(self.unit, tag=self.tag)


class ModelTable(SchemaModel):
    """The ``[units.<name>.model]`` table of a data-driven unit."""

    kind: ModelKind = Field(
        description="Model to identify: arx, state_space (dynamic, discrete-time), "
        "polynomial, rbf, mlp (static maps)"
    )
    sample_time_s: DurationS = Field(
        gt=0.0,
        description='Sample time of the model and of the resampled history [s]; "1 min"',
    )
    inputs: list[SignalTable] = Field(
        default_factory=list, description="Manipulated inputs: {name, tag, unit, description}"
    )
    disturbances: list[SignalTable] = Field(
        default_factory=list, description="Measured disturbances: {name, tag, unit, description}"
    )
    outputs: list[SignalTable] = Field(description="Outputs: {name, tag, unit, description}")
    na: Annotated[StrictInt, Field(ge=0)] | None = Field(
        None, description="arx: output lags (default 2; 0 gives an FIR model)"
    )
    nb: Annotated[StrictInt, Field(ge=1)] | list[Annotated[StrictInt, Field(ge=1)]] | None = Field(
        None, description="arx: input taps, one value or one per input then disturbance (2)"
    )
    nk: Annotated[StrictInt, Field(ge=0)] | list[Annotated[StrictInt, Field(ge=0)]] | None = Field(
        None, description="arx: input delays in samples, 0 = direct feed-through (1)"
    )
    order: Annotated[StrictInt, Field(ge=1)] | None = Field(
        None, description="state_space: model order (default: chosen from the data)"
    )
    max_order: Annotated[StrictInt, Field(ge=1)] | None = Field(
        None, description="state_space: largest order the automatic choice considers (10)"
    )
    feedthrough: StrictBool | None = Field(
        None, description="state_space: estimate a direct feed-through D (false)"
    )
    degree: Annotated[StrictInt, Field(ge=1)] | None = Field(
        None, description="polynomial: largest total degree (2)"
    )
    n_centres: Annotated[StrictInt, Field(ge=1)] | None = Field(
        None, description="rbf: number of centres (20)"
    )
    width_factor: Annotated[Number, Field(gt=0.0)] | None = Field(
        None, description="rbf: Gaussian width relative to the nearest-centre distance (2)"
    )
    hidden: list[Annotated[StrictInt, Field(ge=1)]] | None = Field(
        None, description="mlp: sizes of the one or two hidden layers ([10])"
    )
    penalty: Literal["gcv", "kfold"] | Annotated[Number, Field(ge=0.0)] | None = Field(
        None,
        description='Ridge penalty: "gcv", "kfold" or a number >= 0 (default: gcv for static '
        "maps, none for arx)",
    )
    seed: Annotated[StrictInt, Field(ge=0)] | None = Field(
        None, description="Seed of every random choice (k-means, MLP start) (0)"
    )
    file: StrictStr | None = Field(
        None,
        min_length=1,
        description="Identified-model JSON, relative to the project file "
        "(default <project>.models/<unit>.json)",
    )

    _spec: DataDrivenSpec | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _build_spec(self) -> Self:
        issues: list[Issue] = [
            ((key,), f"not used for kind '{self.kind}'")
            for key in sorted(_OPTIONAL_KEYS - _KIND_KEYS[self.kind])
            if getattr(self, key) is not None
        ]
        if issues:
            raise issues_error(issues)
        mapping: dict[str, Any] = {"model": _MODEL_TYPE.get(self.kind, self.kind)}
        for group in ("inputs", "disturbances", "outputs"):
            try:
                mapping[group] = [
                    {"name": s.name, "unit": s.si_unit, "description": s.description}
                    for s in getattr(self, group)
                ]
            except UnitConversionError as exc:  # pragma: no cover - units checked above
                raise issues_error([((group,), str(exc))]) from None
        for key in sorted(_OPTIONAL_KEYS | {"seed"}):
            value = getattr(self, key)
            if value is not None:
                mapping[key] = tuple(value) if isinstance(value, list) else value
        try:
            self._spec = DataDrivenSpec.from_mapping(mapping)
        except SpecError as exc:
            raise issues_error([_spec_issue(str(exc))]) from None
        return self

    @property
    def spec(self) -> DataDrivenSpec:
        """The validated declaration (signals in SI units)."""
        if self._spec is None:  # pragma: no cover - set by the validator
            raise RuntimeError("ModelTable was not validated")
        return self._spec

    @property
    def signals(self) -> list[tuple[str, int, SignalTable]]:
        """Every signal as ``(group, index, signal)``, inputs, disturbances, outputs."""
        return [
            (group, i, signal)
            for group in ("inputs", "disturbances", "outputs")
            for i, signal in enumerate(getattr(self, group))
        ]


def _spec_issue(message: str) -> Issue:
    """Key path and text of a :class:`SpecError` message (``"nb: needs ..."``)."""
    match = _SPEC_FIELD.match(message)
    if match is None:
        return ((), message)
    field = "kind" if match.group(1) == "model" else match.group(1)
    if field == "model_type":
        field = "kind"
    path: tuple[str | int, ...] = (field,)
    if match.group(3) is not None:
        path = (*path, int(match.group(3)))
    return path, message[match.end() :]


# ---------------------------------------------------------------- identified models


def _model_table(project: Project, unit_name: str) -> ModelTable:
    source = project.source or "project"
    unit = project.units.get(unit_name)
    if unit is None:
        raise ProjectError(f"{source}: no unit '{unit_name}'")
    if unit.model is None:
        raise ProjectError(
            f"{source}: units.{unit_name}: type '{unit.type}' is not a {DATA_DRIVEN_TYPE} unit"
        )
    return unit.model


def model_file_path(
    project: Project, unit_name: str, project_path: str | os.PathLike[str] | None = None
) -> Path:
    """Path of the identified-model JSON file of a data-driven unit.

    Parameters
    ----------
    project : Project
        The project.
    unit_name : str
        A data-driven unit of the project.
    project_path : str or path-like, optional
        The project file (default: the file the project was loaded from).

    Returns
    -------
    pathlib.Path
        ``model.file`` relative to the project's folder, or by default
        ``<project folder>/<project stem>.models/<unit>.json``.

    Raises
    ------
    ProjectError
        If the unit is not data-driven, or the project has no file path.
    """
    table = _model_table(project, unit_name)
    where = project_path if project_path is not None else project.source
    if where is None:
        raise ProjectError(
            f"project: units.{unit_name}: the project has no file; give project_path"
        )
    base = Path(where)
    if table.file is not None:
        return base.parent / table.file
    return base.with_suffix(".models") / f"{unit_name}.json"


def _json_safe(value: Any) -> Any:
    """Replace non-finite floats (a metric of a constant output) by ``None`` for strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def model_file_payload(unit: DataDrivenUnit, info: dict[str, Any]) -> str:
    """Return the JSON text of an identified-model file.

    Parameters
    ----------
    unit : DataDrivenUnit
        The identified unit.
    info : dict
        Plain provenance data (windows, sample counts, validation metrics).
    """
    payload = {
        "format": MODEL_FILE_FORMAT,
        "version": _MODEL_FILE_VERSION,
        "unit": unit.name,
        "identification": info,
        "model": unit.to_dict(),
    }
    return json.dumps(_json_safe(payload), indent=1, allow_nan=False) + "\n"


def load_identified_unit(
    project: Project, unit_name: str, project_path: str | os.PathLike[str] | None = None
) -> DataDrivenUnit:
    """Read the identified model of a data-driven unit from its JSON file.

    Parameters
    ----------
    project : Project
        The project declaring the unit.
    unit_name : str
        The data-driven unit.
    project_path : str or path-like, optional
        The project file (default: the file the project was loaded from).

    Returns
    -------
    DataDrivenUnit
        The unit; its :attr:`~DataDrivenUnit.equation_model` is what simulators
        and controllers use.

    Raises
    ------
    ModelError
        If the file is missing (identify the unit first), is not a model file,
        or was identified for another declaration (re-identify).
    ProjectError
        If the unit is not data-driven.
    """
    table = _model_table(project, unit_name)
    path = model_file_path(project, unit_name, project_path)
    where = f"{path}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(
            f"{where}: no identified model of unit '{unit_name}'; identify it from a history first"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{where}: cannot read the identified model: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != MODEL_FILE_FORMAT:
        raise ModelError(f"{where}: not an energyopt identified-model file")
    if data.get("version") != _MODEL_FILE_VERSION:
        raise ModelError(f"{where}: unsupported version {data.get('version')!r}")
    try:
        unit = DataDrivenUnit.from_dict(data.get("model"))  # type: ignore[arg-type]
    except ModelFormatError as exc:
        raise ModelError(f"{where}: {exc}") from None
    if unit.name != unit_name:
        raise ModelError(f"{where}: holds unit '{unit.name}', not '{unit_name}'")
    if unit.spec != table.spec or unit.dt_s not in (None, table.sample_time_s):
        raise ModelError(
            f"{where}: identified for another declaration of units.{unit_name}.model "
            "(signals, kind, orders or sample time changed); identify it again"
        )
    return unit
