"""The generic data-driven unit: a unit we have no physics for, identified from data.

A project declares its signals and model type (:class:`DataDrivenSpec`); the
application feeds it arrays from the historian; :meth:`DataDrivenUnit.identify`
fits the model, records the operating envelope seen in the data and the
hold-out fit quality.  The unit then exposes named states, inputs,
disturbances and outputs with units and an
:class:`~plant_models.core.equations.EquationModel`, so controllers compile
it to casadi and simulation to numba exactly like a mechanistic unit.

Dynamic data-driven units are **discrete-time**: their equation model has
``dt_s`` set and ``f`` returns the state one sample (:attr:`DataDrivenUnit.dt_s`)
later; :func:`plant_models.core.simulate.simulate` steps it exactly and
controllers build ``x[k+1] = f(x[k], ...)`` from its casadi form.

Data with holes: :meth:`DataDrivenUnit.identify` and
:meth:`DataDrivenUnit.validate` take a ``valid`` mask and never fit or
simulate across a masked-out sample (:mod:`plant_models.datadriven.segments`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plant_models.core.equations import EquationModel, Variable
from plant_models.core.errors import SimulationError
from plant_models.core.simulate import SimulationResult, simulate
from plant_models.datadriven import _serial
from plant_models.datadriven._checks import as_2d
from plant_models.datadriven.arx import ARXModel
from plant_models.datadriven.equations import AnyModel, equation_functions, pack_parameters
from plant_models.datadriven.errors import IdentificationError, ModelFormatError
from plant_models.datadriven.identification import (
    apply_envelope,
    fit_model,
    model_inputs,
    parameter_variables,
    state_trajectory,
    state_variables,
    with_range,
)
from plant_models.datadriven.metrics import FitMetrics, fit_metrics
from plant_models.datadriven.mlp import MLPModel
from plant_models.datadriven.segments import as_mask, fill_invalid, segments
from plant_models.datadriven.spec import DataDrivenSpec
from plant_models.datadriven.statespace import StateSpaceModel
from plant_models.datadriven.static import PolynomialModel, RBFModel

__all__ = ["MODEL_CLASSES", "DataDrivenUnit"]

#: Stored model kind -> class (for :meth:`DataDrivenUnit.from_dict`).
MODEL_CLASSES: dict[str, type[Any]] = {
    cls.kind: cls for cls in (PolynomialModel, RBFModel, MLPModel, ARXModel, StateSpaceModel)
}

_KIND = "datadriven_unit"


def _envelope(variables: tuple[Variable, ...]) -> list[list[float]]:
    """``[[low, high], ...]`` of ``variables``."""
    return [[v.low, v.high] for v in variables]


def _model_from_dict(data: Any) -> AnyModel:
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if kind not in MODEL_CLASSES:
        raise ModelFormatError(f"{_KIND}: unknown model kind {kind!r}")
    return MODEL_CLASSES[kind].from_dict(data)


@dataclass(frozen=True, eq=False)
class DataDrivenUnit:
    """An identified data-driven unit.

    Attributes
    ----------
    name : str
        Unit name (an identifier; names the compiled functions).
    spec : DataDrivenSpec
        The declaration it was identified from.
    model : PolynomialModel, RBFModel, MLPModel, ARXModel or StateSpaceModel
        The identified model; its inputs are ``[inputs, disturbances]``.
    dt_s : float or None
        Sample time of a dynamic model (``None`` for a static map). [s]
    inputs, disturbances, outputs : tuple of Variable
        Signals with the envelope seen in the identification data. [SI]
    states : tuple of Variable
        States: lagged signals (ARX, in their units) or the identified
        state-space coordinates (dimensionless); empty for a static map.
    metrics : FitMetrics or None
        Fit quality on the hold-out data (free-run simulation for dynamic
        models), or on the training data when nothing was held out.
    """

    name: str
    spec: DataDrivenSpec
    model: AnyModel
    dt_s: float | None
    inputs: tuple[Variable, ...]
    disturbances: tuple[Variable, ...]
    outputs: tuple[Variable, ...]
    states: tuple[Variable, ...]
    metrics: FitMetrics | None = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"unit name {self.name!r} is not an identifier")
        n_v = len(self.inputs) + len(self.disturbances)
        if self.model.n_inputs != n_v or self.model.n_outputs != len(self.outputs):
            raise ValueError(
                f"unit {self.name}: model has {self.model.n_inputs} inputs and "
                f"{self.model.n_outputs} outputs, the signals {n_v} and {len(self.outputs)}"
            )
        dynamic = isinstance(self.model, ARXModel | StateSpaceModel)
        if dynamic != (self.dt_s is not None) or len(self.states) != self.n_states:
            raise ValueError(f"unit {self.name}: dt_s or states do not match the model type")

    # ------------------------------------------------------------ identification
    @classmethod
    def identify(
        cls,
        name: str,
        spec: DataDrivenSpec,
        u: ArrayLike | None,
        y: ArrayLike,
        dt_s: float | None = None,
        d: ArrayLike | None = None,
        *,
        validation_fraction: float = 0.2,
        valid: ArrayLike | None = None,
    ) -> Self:
        """Identify the declared model from arrays.

        Parameters
        ----------
        name : str
            Unit name.
        spec : DataDrivenSpec
            Declaration (model type, signals, orders).
        u : array_like, shape (N, n_inputs), or None
            Manipulated inputs, columns in the order of ``spec.inputs``. [SI]
        y : array_like, shape (N, n_outputs)
            Outputs. [SI]
        dt_s : float, optional
            Constant sample time; required for dynamic models. [s]
        d : array_like, shape (N, n_disturbances), optional
            Measured disturbances. [SI]
        validation_fraction : float
            Share of samples held out at the end for :attr:`metrics`; the
            model is fitted on the samples before.  0 uses all samples and
            reports training metrics.
        valid : array_like of bool, shape (N,), optional
            Usable samples (default: all).  Nothing is fitted or simulated
            across a masked-out sample; masked-out rows may hold NaN.

        Raises
        ------
        IdentificationError
            For data the model cannot be identified from (the message names
            the problem: too few samples, NaNs, rank-deficient excitation, ...).
        """
        n = int(np.shape(y)[0]) if np.ndim(y) else 0
        mask = as_mask(valid, n)
        y_arr = as_2d(fill_invalid(y, mask), "outputs")
        v_arr = model_inputs(spec, fill_invalid(u, mask), fill_invalid(d, mask), n)
        if y_arr.shape[1] != len(spec.outputs):
            raise IdentificationError(
                f"outputs have {y_arr.shape[1]} columns, the unit declares {len(spec.outputs)}"
            )
        if spec.is_dynamic and (dt_s is None or not np.isfinite(dt_s) or dt_s <= 0.0):
            raise IdentificationError(f"a dynamic ({spec.model_type}) unit needs dt_s > 0")
        if not 0.0 <= validation_fraction < 0.9:
            raise IdentificationError(
                f"validation_fraction must be in [0, 0.9), got {validation_fraction}"
            )
        n_train = n - round(validation_fraction * n)
        v_fit, y_fit = v_arr[:n_train], y_arr[:n_train]
        model, x_range = fit_model(spec, v_fit, y_fit, dt_s, mask[:n_train])
        v_ok, y_ok = v_arr[mask], y_arr[mask]
        n_u = len(spec.inputs)
        unit = cls(
            name=name,
            spec=spec,
            model=model,
            dt_s=float(dt_s) if spec.is_dynamic and dt_s is not None else None,
            inputs=with_range(spec.inputs, v_ok[:, :n_u]),
            disturbances=with_range(spec.disturbances, v_ok[:, n_u:]),
            outputs=with_range(spec.outputs, y_ok),
            states=state_variables(spec, model, v_ok, y_ok, x_range),
        )
        rows = slice(n_train, None) if n_train < n else slice(None)
        metrics = unit.validate(v_arr[rows, :n_u], y_arr[rows], v_arr[rows, n_u:], valid=mask[rows])
        return replace(unit, metrics=metrics)

    # ------------------------------------------------------------ structure
    @property
    def is_dynamic(self) -> bool:
        """Whether the unit is a discrete-time dynamic model."""
        return self.dt_s is not None

    @property
    def n_states(self) -> int:
        """Number of states (0 for a static map)."""
        return self.model.n_states if isinstance(self.model, ARXModel | StateSpaceModel) else 0

    @functools.cached_property
    def equation_model(self) -> EquationModel:
        """The unit in the equations-once convention (compile with ``to_casadi``/``to_numba``).

        A dynamic unit gives a discrete-time model (``dt_s`` set): its ``f``
        is the state update over :attr:`dt_s`, not a derivative.
        """
        f, g = equation_functions(self.model, len(self.inputs))
        parts: dict[str, Any] = {
            "name": self.name,
            "f": f,
            "g": g,
            "states": self.states,
            "inputs": self.inputs,
            "disturbances": self.disturbances,
            "outputs": self.outputs,
            "parameters": parameter_variables(
                self.model, self.inputs + self.disturbances, self.outputs
            ),
        }
        return EquationModel(**parts, dt_s=self.dt_s)

    def parameter_vector(self) -> NDArray[np.float64]:
        """The ``p`` vector of :attr:`equation_model` (scalings and coefficients)."""
        return pack_parameters(self.model)

    # ------------------------------------------------------------ evaluation
    def initial_state(
        self, u_past: ArrayLike | None, y_past: ArrayLike, d_past: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """State right after a window of measured history.

        ARX: the lagged values themselves.  State space: the initial state of
        the window fitted by least squares, propagated through the window.

        Parameters
        ----------
        u_past, d_past : array_like, shape (M, n), or None
            Inputs and disturbances over the window, oldest first. [SI]
        y_past : array_like, shape (M, n_outputs)
            Outputs over the window. [SI]
        """
        y_arr = as_2d(y_past, "y_past")
        v_arr = model_inputs(self.spec, u_past, d_past, y_arr.shape[0])
        if isinstance(self.model, ARXModel):
            return self.model.state_from_history(v_arr, y_arr)
        if isinstance(self.model, StateSpaceModel):
            x0 = self.model.estimate_initial_state(v_arr, y_arr, n_samples=v_arr.shape[0])
            return state_trajectory(self.model, v_arr, x0)[-1]
        return np.zeros(0)

    def simulate(
        self,
        u: ArrayLike | None,
        d: ArrayLike | None = None,
        x0: ArrayLike | None = None,
        *,
        t0_s: float = 0.0,
    ) -> SimulationResult:
        """Free-run simulation with the numba-compiled equations.

        Parameters
        ----------
        u, d : array_like, shape (N, n), or None
            Inputs and disturbances per sample. [SI]
        x0 : array_like, shape (n_states,), optional
            Initial state (default: the model's operating point -- the
            scaling offsets for ARX lags, zero for state-space coordinates).
        t0_s : float
            Time of the first sample. [s]

        Returns
        -------
        SimulationResult
            ``states`` has ``N + 1`` rows, ``outputs`` ``N``.
        """
        if u is not None:
            n = as_2d(u, "u").shape[0]
        elif d is not None:
            n = as_2d(d, "d").shape[0]
        else:
            raise IdentificationError("simulate needs u or d to know the number of samples")
        v_arr = model_inputs(self.spec, u, d, n)
        n_u = len(self.inputs)
        u_arr = np.ascontiguousarray(v_arr[:, :n_u])
        d_arr = np.ascontiguousarray(v_arr[:, n_u:])
        x_init = self._default_state() if x0 is None else np.asarray(x0, dtype=np.float64)
        if x_init.shape != (self.n_states,):
            raise IdentificationError(
                f"x0 must have {self.n_states} entries, got shape {x_init.shape}"
            )
        # A static map has no states: any positive step evaluates it sample by sample.
        step = self.dt_s if self.dt_s is not None else 1.0
        try:
            return simulate(
                self.equation_model, x_init, u_arr, d_arr, self.parameter_vector(), step, t0_s=t0_s
            )
        except SimulationError as exc:
            raise IdentificationError(f"unit {self.name}: {exc}") from None

    def _default_state(self) -> NDArray[np.float64]:
        if isinstance(self.model, ARXModel):
            m = self.model
            return np.concatenate(
                [
                    np.tile(m.output_scaling.offset, m.na),
                    np.tile(m.input_scaling.offset, m.n_input_lags),
                ]
            )
        return np.zeros(self.n_states)

    def validate(
        self,
        u: ArrayLike | None,
        y: ArrayLike,
        d: ArrayLike | None = None,
        *,
        valid: ArrayLike | None = None,
    ) -> FitMetrics:
        """Compare the model with measured data: NRMSE, R2 and bias per output.

        Static maps are evaluated sample by sample.  Dynamic models run free
        (simulation, not one-step prediction): ARX from the first ``n_lags``
        measured samples (excluded from the metrics), state-space models from
        the initial state fitted by least squares on the window.  With a
        ``valid`` mask, each gap-free segment runs separately (segments too
        short to start a simulation are skipped) and the errors are pooled.

        Raises
        ------
        IdentificationError
            If no segment is long enough to compare.
        """
        n = int(np.shape(y)[0]) if np.ndim(y) else 0
        mask = as_mask(valid, n)
        y_arr = as_2d(fill_invalid(y, mask), "outputs")
        v_arr = model_inputs(self.spec, fill_invalid(u, mask), fill_invalid(d, mask), n)
        names = [v.name for v in self.outputs]
        if isinstance(self.model, ARXModel | StateSpaceModel):
            lags = self.model.n_lags if isinstance(self.model, ARXModel) else 0
            meas, pred = [], []
            for start, stop in segments(mask, min_length=lags + 1):
                v_seg, y_seg = v_arr[start:stop], y_arr[start:stop]
                if isinstance(self.model, ARXModel):
                    sim = self.model.simulate(v_seg, y_seg[:lags])
                else:
                    x0 = self.model.estimate_initial_state(v_seg, y_seg, n_samples=stop - start)
                    sim = self.model.simulate(v_seg, x0)
                meas.append(y_seg[lags:])
                pred.append(sim[lags:])
            if not meas:
                raise IdentificationError(
                    f"validation needs a gap-free stretch of more than {lags} samples, "
                    f"got {max((b - a for a, b in segments(mask)), default=0)}"
                )
            return fit_metrics(np.vstack(meas), np.vstack(pred), names)
        return fit_metrics(y_arr[mask], self.model.predict(v_arr[mask]), names)

    # ------------------------------------------------------------ storage
    def to_dict(self) -> dict[str, Any]:
        """Return plain data (lists, numbers, strings) for JSON or TOML storage."""
        out: dict[str, Any] = {
            **_serial.header(_KIND),
            "name": self.name,
            "spec": self.spec.to_mapping(),
            "model": self.model.to_dict(),
            "envelope": {
                "inputs": _envelope(self.inputs),
                "disturbances": _envelope(self.disturbances),
                "outputs": _envelope(self.outputs),
                "states": _envelope(self.states),
            },
        }
        if self.dt_s is not None:
            out["dt_s"] = self.dt_s
        if self.metrics is not None:
            out["metrics"] = {
                "n_samples": self.metrics.n_samples,
                "outputs": self.metrics.as_rows(),
            }
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from :meth:`to_dict` output.

        Raises
        ------
        ModelFormatError
            If the dictionary is malformed or inconsistent.
        """
        _serial.check_header(data, _KIND)
        try:
            spec = DataDrivenSpec.from_mapping(_serial.get(data, "spec", _KIND))
            model_data = _serial.get(data, "model", _KIND)
            model = _model_from_dict(model_data)
            env = _serial.get(data, "envelope", _KIND)
            dt_s = data.get("dt_s")
            states = state_variables(spec, model, None, None, None)
            unit = cls(
                name=str(_serial.get(data, "name", _KIND)),
                spec=spec,
                model=model,
                dt_s=None if dt_s is None else float(dt_s),
                inputs=apply_envelope(spec.inputs, env, "inputs"),
                disturbances=apply_envelope(spec.disturbances, env, "disturbances"),
                outputs=apply_envelope(spec.outputs, env, "outputs"),
                states=apply_envelope(states, env, "states"),
            )
            stored = data.get("metrics")
            if stored is not None:
                rows = stored["outputs"]
                unit = replace(
                    unit,
                    metrics=FitMetrics(
                        names=tuple(str(r["output"]) for r in rows),
                        nrmse=np.array([r["nrmse"] for r in rows], dtype=np.float64),
                        r2=np.array([r["r2"] for r in rows], dtype=np.float64),
                        bias=np.array([r["bias"] for r in rows], dtype=np.float64),
                        rmse=np.array([r["rmse"] for r in rows], dtype=np.float64),
                        n_samples=int(stored["n_samples"]),
                    ),
                )
        except ModelFormatError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFormatError(f"{_KIND}: {exc}") from None
        return unit
