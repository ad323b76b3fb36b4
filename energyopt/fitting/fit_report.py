"""The evidence of ``energyopt fit``: the fit report (``plant.fitted.fit.json``).

Layout (issue 5 file contract; times in ms since epoch, values in the model
variables' SI units)::

    {"format": "energyopt-fit", "version": 1, "project": ..., "data": ...,
     "train": {"start_ms", "end_ms"}, "validate": {"start_ms", "end_ms"},
     "units": [{"unit", "kind": "calibrated" | "identified" | "hybrid",
                "outputs": [{"name", "unit", "nrmse", "r2", "bias"}],
                "parameters": [{"name", "value", "std_error", "unit"}],
                "samples": {"train": n, "validate": n},
                "series": {output: {"time_ms": [...], "measured": [...],
                                    "predicted": [...]}}}],
     "skipped": [{"unit", "reason"}]}

``series`` are the hold-out measured and free-run predicted values,
decimated to at most :data:`MAX_SERIES_POINTS` points for plots.
Non-finite numbers (the R2 of a constant signal) are written as ``null``
so the file is strict JSON.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from energyopt.errors import DataError

__all__ = [
    "FIT_REPORT_FORMAT",
    "FIT_REPORT_VERSION",
    "MAX_SERIES_POINTS",
    "FitReport",
    "OutputFit",
    "ParameterFit",
    "SeriesFit",
    "UnitFitReport",
    "decimate",
    "fit_report_path",
    "load_fit_report",
]

FIT_REPORT_FORMAT = "energyopt-fit"
FIT_REPORT_VERSION = 1
#: Most points of one hold-out series in the report (enough for a plot).
MAX_SERIES_POINTS = 2000

UnitKind = Literal["calibrated", "identified", "hybrid"]


def fit_report_path(project_path: str | os.PathLike[str]) -> Path:
    """Return a fitted project's fit report: ``plant.fitted.toml`` -> ``plant.fitted.fit.json``."""
    path = Path(project_path)
    return path.with_suffix(".fit.json") if path.suffix == ".toml" else Path(f"{path}.fit.json")


def _num(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def decimate(n_points: int, max_points: int = MAX_SERIES_POINTS) -> npt.NDArray[np.int64]:
    """Return the indices kept of ``n_points`` samples: every k-th, at most ``max_points``.

    Parameters
    ----------
    n_points : int
        Number of samples.
    max_points : int
        Most indices returned.
    """
    stride = max(1, math.ceil(n_points / max_points))
    return np.arange(0, n_points, stride, dtype=np.int64)


@dataclass(frozen=True)
class OutputFit:
    """Hold-out fit of one measured signal.

    Attributes
    ----------
    name : str
        Model variable (output or measured state) name.
    unit : str
        Its SI unit.
    nrmse : float
        RMSE over the measurement's standard deviation. [-]
    r2 : float
        Coefficient of determination. [-]
    bias : float
        Mean of prediction minus measurement. [unit]
    """

    name: str
    unit: str
    nrmse: float
    r2: float
    bias: float

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready record."""
        return {
            "name": self.name,
            "unit": self.unit,
            "nrmse": _num(self.nrmse),
            "r2": _num(self.r2),
            "bias": _num(self.bias),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutputFit:
        """Read a record written by :meth:`to_dict`."""
        return cls(
            str(data["name"]),
            str(data["unit"]),
            _float(data["nrmse"]),
            _float(data["r2"]),
            _float(data["bias"]),
        )


@dataclass(frozen=True)
class ParameterFit:
    """One estimated parameter.

    Attributes
    ----------
    name : str
        Parameter field name.
    value : float
        Estimate. [unit]
    std_error : float
        Standard error of the estimate. [unit]
    unit : str
        SI unit.
    nominal : float
        The project's value before the fit. [unit]
    """

    name: str
    value: float
    std_error: float
    unit: str
    nominal: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready record."""
        return {
            "name": self.name,
            "value": _num(self.value),
            "std_error": _num(self.std_error),
            "unit": self.unit,
            "nominal": _num(self.nominal),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParameterFit:
        """Read a record written by :meth:`to_dict`."""
        return cls(
            str(data["name"]),
            _float(data["value"]),
            _float(data["std_error"]),
            str(data["unit"]),
            _float(data.get("nominal")),
        )


@dataclass(frozen=True, eq=False)
class SeriesFit:
    """Measured and predicted hold-out values of one signal.

    Attributes
    ----------
    time_ms : numpy.ndarray
        Sample times, int64. [ms since epoch]
    measured, predicted : numpy.ndarray
        Values. [SI unit of the signal]
    """

    time_ms: npt.NDArray[np.int64]
    measured: npt.NDArray[np.float64]
    predicted: npt.NDArray[np.float64]

    def decimated(self, max_points: int = MAX_SERIES_POINTS) -> SeriesFit:
        """Return every k-th sample, at most ``max_points``."""
        keep = decimate(self.time_ms.size, max_points)
        return SeriesFit(self.time_ms[keep], self.measured[keep], self.predicted[keep])

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready record (non-finite values as ``null``)."""
        return {
            "time_ms": [int(t) for t in self.time_ms],
            "measured": [_num(v) for v in self.measured.tolist()],
            "predicted": [_num(v) for v in self.predicted.tolist()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SeriesFit:
        """Read a record written by :meth:`to_dict`."""
        time_ms = np.asarray(data["time_ms"], dtype=np.int64)
        measured = np.array([_float(v) for v in data["measured"]], dtype=np.float64)
        predicted = np.array([_float(v) for v in data["predicted"]], dtype=np.float64)
        if not time_ms.shape == measured.shape == predicted.shape:
            raise ValueError("time_ms, measured and predicted differ in length")
        return cls(time_ms, measured, predicted)


@dataclass(frozen=True, eq=False)
class UnitFitReport:
    """The fit of one unit.

    Attributes
    ----------
    unit : str
        Unit name.
    kind : {"calibrated", "identified", "hybrid"}
        How it was fitted.
    outputs : tuple of OutputFit
        Hold-out fit per measured signal.
    parameters : tuple of ParameterFit
        Estimated physical parameters (empty for an identified unit).
    samples_train, samples_validate : int
        Samples fitted and compared. [-]
    series : Mapping[str, SeriesFit]
        Hold-out series per signal (decimated).
    notes : tuple of str
        Data findings (samples lost to the data-quality policy, gaps).
    """

    unit: str
    kind: UnitKind
    outputs: tuple[OutputFit, ...]
    parameters: tuple[ParameterFit, ...]
    samples_train: int
    samples_validate: int
    series: Mapping[str, SeriesFit] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready record."""
        return {
            "unit": self.unit,
            "kind": self.kind,
            "outputs": [o.to_dict() for o in self.outputs],
            "parameters": [p.to_dict() for p in self.parameters],
            "samples": {"train": self.samples_train, "validate": self.samples_validate},
            "series": {name: s.to_dict() for name, s in self.series.items()},
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UnitFitReport:
        """Read a record written by :meth:`to_dict`."""
        kind = str(data["kind"])
        if kind not in ("calibrated", "identified", "hybrid"):
            raise ValueError(f"unknown kind {kind!r}")
        return cls(
            unit=str(data["unit"]),
            kind=kind,  # type: ignore[arg-type]  # checked just above
            outputs=tuple(OutputFit.from_dict(o) for o in data["outputs"]),
            parameters=tuple(ParameterFit.from_dict(p) for p in data["parameters"]),
            samples_train=int(data["samples"]["train"]),
            samples_validate=int(data["samples"]["validate"]),
            series={k: SeriesFit.from_dict(v) for k, v in data.get("series", {}).items()},
            notes=tuple(str(n) for n in data.get("notes", ())),
        )


@dataclass(frozen=True, eq=False)
class FitReport:
    """The fit report of a project.

    Attributes
    ----------
    project : str
        The input project file (absolute path).
    data : str
        The historian file (absolute path).
    train, validate : (int, int)
        Training and hold-out windows, end exclusive. [ms since epoch]
    units : tuple of UnitFitReport
        Per fitted unit: calibrated first, then hybrid, then identified.
    skipped : tuple of (str, str)
        Units left out of the fit, with the reason.
    fitted_project : str
        The fitted project file written ("" before writing).
    """

    project: str
    data: str
    train: tuple[int, int]
    validate: tuple[int, int]
    units: tuple[UnitFitReport, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    fitted_project: str = ""

    def unit(self, name: str) -> UnitFitReport:
        """Return the report of unit ``name`` (``KeyError`` if it was not fitted)."""
        for entry in self.units:
            if entry.unit == name:
                return entry
        raise KeyError(f"unit {name!r} was not fitted; fitted: {[u.unit for u in self.units]}")

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready report (the issue 5 file contract)."""
        return {
            "format": FIT_REPORT_FORMAT,
            "version": FIT_REPORT_VERSION,
            "project": self.project,
            "data": self.data,
            "fitted_project": self.fitted_project,
            "train": {"start_ms": self.train[0], "end_ms": self.train[1]},
            "validate": {"start_ms": self.validate[0], "end_ms": self.validate[1]},
            "units": [u.to_dict() for u in self.units],
            "skipped": [{"unit": u, "reason": r} for u, r in self.skipped],
        }

    def to_json(self) -> str:
        """Return the report as strict JSON text."""
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "fit report") -> FitReport:
        """Read a report written by :meth:`to_dict`.

        Raises
        ------
        DataError
            If it is not an energyopt fit report of a known version, or a key is missing.
        """
        if data.get("format") != FIT_REPORT_FORMAT:
            raise DataError(
                f"{source}: not an energyopt fit report (format {data.get('format')!r})"
            )
        if data.get("version") != FIT_REPORT_VERSION:
            raise DataError(f"{source}: unsupported fit report version {data.get('version')!r}")
        try:
            return cls(
                project=str(data["project"]),
                data=str(data["data"]),
                train=(int(data["train"]["start_ms"]), int(data["train"]["end_ms"])),
                validate=(int(data["validate"]["start_ms"]), int(data["validate"]["end_ms"])),
                units=tuple(UnitFitReport.from_dict(u) for u in data["units"]),
                skipped=tuple((str(s["unit"]), str(s["reason"])) for s in data.get("skipped", ())),
                fitted_project=str(data.get("fitted_project", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{source}: malformed fit report: {exc!r}") from None


def load_fit_report(path: str | os.PathLike[str]) -> FitReport:
    """Read a fit report file.

    Raises
    ------
    DataError
        If the file cannot be read or is not a fit report.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read the fit report: {exc}") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: not an energyopt fit report")
    return FitReport.from_dict(data, source=str(path))


def series_from_records(
    names: Sequence[str],
    time_ms: Sequence[npt.NDArray[np.int64]],
    measured: Sequence[npt.NDArray[np.float64]],
    predicted: Sequence[npt.NDArray[np.float64]],
) -> dict[str, SeriesFit]:
    """Join per-record arrays (shape (n_k, n_signals)) into one decimated series per signal.

    Parameters
    ----------
    names : sequence of str
        Signal names, in column order.
    time_ms : sequence of numpy.ndarray
        Sample times of each record. [ms since epoch]
    measured, predicted : sequence of numpy.ndarray
        Values of each record, one column per signal. [SI]
    """
    if not time_ms:
        return {}
    t = np.concatenate(time_ms)
    meas = np.vstack(measured)
    pred = np.vstack(predicted)
    return {
        name: SeriesFit(t, meas[:, i].copy(), pred[:, i].copy()).decimated()
        for i, name in enumerate(names)
    }
