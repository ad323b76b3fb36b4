"""Hybrid models: a mechanistic model plus a data-driven residual, in the equations-once form.

The residual is a static map (polynomial, Gaussian RBF or small MLP from
:mod:`plant_models.datadriven`) from chosen entries of ``(x, u, d)`` to a
correction of chosen outputs (added to ``g``) or state rates (added to
``f``).  It is fitted to what the mechanistic model misses on training data:

``target="output"``
    ``e_k = y_meas_k - g(x_k, u_k, d_k, p)`` for the chosen outputs, with
    ``x_k`` the measured states, or the mechanistic simulation from ``x0``
    when not every state is measured.
``target="rate"``
    ``e_k = (x_{k+1} - step(x_k, u_k, d_k, p)) / dt_s`` for the chosen
    states, with ``step`` the mechanistic one-sample RK4 prediction: the
    rate correction that, held over the sample, closes the one-step
    defect (to first order in ``dt_s``).  Needs every state measured.

:func:`hybrid_model` composes the mechanistic ``f``/``g`` and the map's ``g``
with :func:`~plant_models.core.equations.equation` closures over constant
index tables, as :mod:`plant_models.plant.compose` does for plants, so the
hybrid compiles to casadi and numba like any unit.  Its parameter vector is
the mechanistic one followed by the map's numbers
(:func:`~plant_models.datadriven.equations.pack_parameters`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plant_models.calibration._casadi import model_functions, to_numpy
from plant_models.calibration.calibrate import parameter_vector
from plant_models.calibration.data import Dataset, as_records, bind_records
from plant_models.calibration.errors import CalibrationDataError, CalibrationError
from plant_models.calibration.result import free_run
from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.mathfuncs import zeros
from plant_models.datadriven.equations import equation_functions, pack_parameters
from plant_models.datadriven.errors import ModelFormatError
from plant_models.datadriven.mlp import MLPModel, fit_mlp
from plant_models.datadriven.static import PolynomialModel, RBFModel, fit_polynomial, fit_rbf
from plant_models.parameters import UnitParams

__all__ = ["HybridModel", "HybridResidual", "ResidualSpec", "fit_residual", "hybrid_model"]

StaticMap = PolynomialModel | RBFModel | MLPModel
_MAP_CLASSES: dict[str, type[Any]] = {c.kind: c for c in (PolynomialModel, RBFModel, MLPModel)}
_FITTERS: dict[str, Callable[..., Any]] = {
    "polynomial": fit_polynomial,
    "rbf": fit_rbf,
    "mlp": fit_mlp,
}
_KIND_CODES = {"x": 0, "u": 1, "d": 2}
_FORMAT = "energyopt-hybrid-residual"


@dataclass(frozen=True)
class ResidualSpec:
    """Where a data-driven residual acts and what it sees.

    Attributes
    ----------
    target : {"output", "rate"}
        Correct model outputs (added to ``g``) or state derivatives (added to ``f``).
    names : tuple of str
        The corrected outputs (``target="output"``) or states (``"rate"``).
    features : tuple of str
        Inputs of the map: variable names of ``x``, ``u`` or ``d``, written
        ``"x:name"``, ``"u:name"``, ``"d:name"``, or a bare name when it is
        unique across the three vectors.
    """

    target: Literal["output", "rate"]
    names: tuple[str, ...]
    features: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.target not in ("output", "rate"):
            raise CalibrationError(f"target must be 'output' or 'rate', got {self.target!r}")
        object.__setattr__(self, "names", tuple(self.names))
        object.__setattr__(self, "features", tuple(self.features))
        for label in ("names", "features"):
            values = getattr(self, label)
            if not values:
                raise CalibrationError(f"residual {label} must not be empty")
            if len(set(values)) != len(values):
                raise CalibrationError(f"residual {label} repeat an entry: {', '.join(values)}")

    def resolve(
        self, model: EquationModel
    ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """Return ``(feature kind codes, feature indices, target indices)`` in ``model``.

        Raises
        ------
        CalibrationError
            For an unknown or ambiguous name.
        """
        kinds, index = [], []
        for feature in self.features:
            kind, _, name = feature.rpartition(":")
            candidates = [kind] if kind else ["x", "u", "d"]
            hits = [
                (k, i)
                for k in candidates
                if k in _KIND_CODES
                for i, v in enumerate(model.variables(k))
                if v.name == name
            ]
            if len(hits) != 1:
                problem = "is ambiguous (prefix x:, u: or d:)" if hits else "is unknown"
                raise CalibrationError(f"feature {feature!r} of model {model.name} {problem}")
            kinds.append(_KIND_CODES[hits[0][0]])
            index.append(hits[0][1])
        kind = "y" if self.target == "output" else "x"
        known = [v.name for v in model.variables(kind)]
        missing = [n for n in self.names if n not in known]
        if missing:
            raise CalibrationError(
                f"model {model.name} has no {'output' if kind == 'y' else 'state'} "
                f"{', '.join(missing)}; known: {', '.join(known) or '(none)'}"
            )
        return tuple(kinds), tuple(index), tuple(known.index(n) for n in self.names)


@dataclass(frozen=True, eq=False)
class HybridResidual:
    """A fitted residual map and where it acts.

    Attributes
    ----------
    spec : ResidualSpec
        Target and features.
    model : PolynomialModel, RBFModel or MLPModel
        The map from the features to the corrections. [target units]
    """

    spec: ResidualSpec
    model: StaticMap

    def __post_init__(self) -> None:
        if self.model.n_inputs != len(self.spec.features) or self.model.n_outputs != len(
            self.spec.names
        ):
            raise CalibrationError(
                f"residual map has {self.model.n_inputs} inputs and {self.model.n_outputs} "
                f"outputs; the spec {len(self.spec.features)} features and "
                f"{len(self.spec.names)} targets"
            )

    def to_dict(self) -> dict[str, Any]:
        """Return plain lists and numbers for JSON or TOML storage (never pickle)."""
        return {
            "format": _FORMAT,
            "version": 1,
            "target": self.spec.target,
            "names": list(self.spec.names),
            "features": list(self.spec.features),
            "model": self.model.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HybridResidual:
        """Rebuild from :meth:`to_dict` output.

        Raises
        ------
        ModelFormatError
            For a wrong format tag, a missing key or a malformed map.
        """
        if data.get("format") != _FORMAT or data.get("version") != 1:
            raise ModelFormatError(f"not a version-1 {_FORMAT} dictionary")
        try:
            model_data = data["model"]
            spec = ResidualSpec(data["target"], tuple(data["names"]), tuple(data["features"]))
        except (KeyError, TypeError) as exc:
            raise ModelFormatError(f"{_FORMAT}: missing or malformed entry {exc}") from None
        except CalibrationError as exc:
            raise ModelFormatError(f"{_FORMAT}: {exc}") from None
        kind = model_data.get("kind") if isinstance(model_data, Mapping) else None
        if kind not in _MAP_CLASSES:
            raise ModelFormatError(f"{_FORMAT}: unknown map kind {kind!r}")
        try:
            return cls(spec, _MAP_CLASSES[kind].from_dict(model_data))
        except CalibrationError as exc:
            raise ModelFormatError(f"{_FORMAT}: {exc}") from None


@dataclass(frozen=True, eq=False)
class HybridModel(EquationModel):
    """An :class:`EquationModel` made of a mechanistic model and a residual map.

    Attributes
    ----------
    mechanistic : EquationModel
        The mechanistic part (its parameters come first in ``p``).
    residual : HybridResidual
        The data-driven part (its numbers follow in ``p``).
    """

    mechanistic: EquationModel = field(kw_only=True)
    residual: HybridResidual = field(kw_only=True)

    def pack_parameters(self, params: UnitParams | ArrayLike) -> NDArray[np.float64]:
        """Return ``p``: the mechanistic parameters, then the residual map's numbers.

        Parameters
        ----------
        params : UnitParams or array_like
            The mechanistic unit's parameters, or its parameter vector. [SI]
        """
        p_mech = parameter_vector(self.mechanistic, params)
        return np.concatenate([p_mech, pack_parameters(self.residual.model)])


@functools.lru_cache(maxsize=32)
def _compose(
    mech_f: Callable[..., Any],
    mech_g: Callable[..., Any],
    map_g: Callable[..., Any],
    n_p_mech: int,
    n_p_map: int,
    feature_kind: tuple[int, ...],
    feature_index: tuple[int, ...],
    target: tuple[int, ...],
    on_rate: bool,
    n_target_vector: int,
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Build the hybrid ``f`` and ``g`` (memoised per structure, so numba compiles once)."""
    kinds = np.array(feature_kind, dtype=np.int64)
    index = np.array(feature_index, dtype=np.int64)
    targets = np.array(target, dtype=np.int64)
    n_feat = len(feature_kind)
    n_t = len(target)

    @equation
    def mech_params(p: Any) -> Any:
        pm = zeros(n_p_mech)
        for i in range(n_p_mech):
            pm[i] = p[i]
        return pm

    @equation
    def correction(x: Any, u: Any, d: Any, p: Any) -> Any:
        v = zeros(n_feat)
        for i in range(n_feat):
            k = int(kinds[i])
            j = int(index[i])
            if k == 0:
                v[i] = x[j]
            elif k == 1:
                v[i] = u[j]
            else:
                v[i] = d[j]
        pr = zeros(n_p_map)
        for i in range(n_p_map):
            pr[i] = p[n_p_mech + i]
        return map_g(zeros(0), v, zeros(0), pr)

    @equation
    def corrected(base: Any, x: Any, u: Any, d: Any, p: Any) -> Any:
        c = correction(x, u, d, p)
        out = zeros(n_target_vector)
        for i in range(n_target_vector):
            out[i] = base[i]
        for t in range(n_t):
            j = int(targets[t])
            out[j] = out[j] + c[t]
        return out

    @equation
    def plain_f(x: Any, u: Any, d: Any, p: Any) -> Any:
        return mech_f(x, u, d, mech_params(p))

    @equation
    def plain_g(x: Any, u: Any, d: Any, p: Any) -> Any:
        return mech_g(x, u, d, mech_params(p))

    @equation
    def hybrid_f(x: Any, u: Any, d: Any, p: Any) -> Any:
        return corrected(mech_f(x, u, d, mech_params(p)), x, u, d, p)

    @equation
    def hybrid_g(x: Any, u: Any, d: Any, p: Any) -> Any:
        return corrected(mech_g(x, u, d, mech_params(p)), x, u, d, p)

    return (hybrid_f, plain_g) if on_rate else (plain_f, hybrid_g)


def _map_parameters(model: EquationModel, residual: HybridResidual) -> tuple[Variable, ...]:
    spec = residual.spec
    kinds, index, targets = spec.resolve(model)
    feats = [model.variables("xud"[k])[i] for k, i in zip(kinds, index, strict=True)]
    outs = [model.variables("x" if spec.target == "rate" else "y")[i] for i in targets]
    rate = spec.target == "rate"
    out_units = [f"({v.unit})/s" if rate else v.unit for v in outs]
    head = [
        Variable(f"residual.in_offset_{v.name}", v.unit, f"map input offset of {v.name}")
        for v in feats
    ]
    head += [
        Variable(f"residual.in_scale_{v.name}", v.unit, f"map input scale of {v.name}")
        for v in feats
    ]
    head += [
        Variable(f"residual.out_offset_{v.name}", unit, f"map output offset of {v.name}")
        for v, unit in zip(outs, out_units, strict=True)
    ]
    head += [
        Variable(f"residual.out_scale_{v.name}", unit, f"map output scale of {v.name}")
        for v, unit in zip(outs, out_units, strict=True)
    ]
    n_coef = pack_parameters(residual.model).size - len(head)
    return tuple(head) + tuple(
        Variable(f"residual.coef_{k}", "dimensionless", f"map coefficient {k}")
        for k in range(n_coef)
    )


def hybrid_model(
    mechanistic: EquationModel, residual: HybridResidual, name: str | None = None
) -> HybridModel:
    """Compose a mechanistic model and a fitted residual into one equation model.

    Parameters
    ----------
    mechanistic : EquationModel
        A continuous-time model.
    residual : HybridResidual
        From :func:`fit_residual` (or :meth:`HybridResidual.from_dict`).
    name : str, optional
        Model name; default ``<mechanistic name>_hybrid``.

    Returns
    -------
    HybridModel
        Same states, inputs, disturbances and outputs as ``mechanistic``;
        parameters extended by the map's (named ``residual.*``).
    """
    if getattr(mechanistic, "dt_s", None) is not None:
        raise CalibrationError(f"model {mechanistic.name} is discrete-time: no hybrid form")
    kinds, index, targets = residual.spec.resolve(mechanistic)
    on_rate = residual.spec.target == "rate"
    _, map_g = equation_functions(residual.model, residual.model.n_inputs)
    sizes = mechanistic.sizes
    f, g = _compose(
        mechanistic.f,
        mechanistic.g,
        map_g,
        sizes["p"],
        int(pack_parameters(residual.model).size),
        kinds,
        index,
        targets,
        on_rate,
        sizes["x"] if on_rate else sizes["y"],
    )
    return HybridModel(
        name=name if name is not None else f"{mechanistic.name}_hybrid",
        f=f,
        g=g,
        states=mechanistic.states,
        inputs=mechanistic.inputs,
        disturbances=mechanistic.disturbances,
        outputs=mechanistic.outputs,
        parameters=mechanistic.parameters + _map_parameters(mechanistic, residual),
        stiff=mechanistic.stiff,
        mechanistic=mechanistic,
        residual=residual,
    )


def _record_training_pairs(
    model: EquationModel,
    p: NDArray[np.float64],
    spec: ResidualSpec,
    rec: Any,
    x0: NDArray[np.float64] | None,
    substeps: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Features and residual targets of one bound record."""
    kinds, index, targets = spec.resolve(model)
    data: Dataset = rec.record
    n_x = model.sizes["x"]
    if n_x == 0:
        states = np.zeros((data.n_samples, 0))
    elif rec.all_states_measured:
        states = rec.full_states().T
    elif spec.target == "rate":
        raise CalibrationError("a rate residual needs every state measured")
    elif x0 is None:
        raise CalibrationError(
            "give x0: not every state is measured, so the mechanistic model is simulated"
        )
    else:
        states = free_run(model, p, data, x0, substeps)[0][:-1]
    columns = (states, data.inputs, data.disturbances)
    features = np.column_stack([columns[k][:, i] for k, i in zip(kinds, index, strict=True)])
    fns = model_functions(model, data.dt_s, substeps)
    if spec.target == "output":
        measured = []
        for name in spec.names:
            if name not in data.outputs:
                raise CalibrationDataError(f"output {name} is corrected but not measured")
            measured.append(np.asarray(data.outputs[name]))
        n = data.n_samples
        y = to_numpy(fns.g.map(n)(states.T, data.inputs.T, data.disturbances.T, p))
        return features, np.column_stack(measured) - y[list(targets)].T
    n = data.n_samples - 1
    x_next = to_numpy(
        fns.step.map(n)(states[:-1].T, data.inputs[:-1].T, data.disturbances[:-1].T, p)
    )
    defect = (states[1:].T - x_next)[list(targets)].T / data.dt_s
    return features[:-1], defect


def fit_residual(
    model: EquationModel,
    params: UnitParams | ArrayLike,
    spec: ResidualSpec,
    train: Dataset | Sequence[Dataset],
    *,
    kind: Literal["polynomial", "rbf", "mlp"] = "polynomial",
    options: Mapping[str, Any] | None = None,
    substeps: int = 1,
    x0: ArrayLike | None = None,
) -> HybridResidual:
    """Fit a static map to the mechanistic model's residuals on training records.

    Parameters
    ----------
    model : EquationModel
        The mechanistic model.
    params : UnitParams or array_like
        Its (calibrated) parameters. [SI]
    spec : ResidualSpec
        Target, corrected names and features.
    train : Dataset or sequence of Dataset
        Training records (the corrected outputs measured; every state
        measured for a rate residual).
    kind : {"polynomial", "rbf", "mlp"}
        Map type (:func:`~plant_models.datadriven.fit_polynomial`,
        :func:`~plant_models.datadriven.fit_rbf`, :func:`~plant_models.datadriven.fit_mlp`).
    options : Mapping, optional
        Keyword arguments of the fitting function (``degree``, ``n_centres``,
        ``hidden``, ``penalty``, ``seed`` ...).
    substeps : int
        RK4 steps per sample of the mechanistic prediction.
    x0 : array_like, shape (nx,) or (n_records, nx), optional
        Initial states when not every state is measured (output residuals). [SI]

    Raises
    ------
    CalibrationError
        For unknown names, a rate residual without every state measured, or
        a missing ``x0``.
    plant_models.datadriven.IdentificationError
        If the map cannot be fitted (constant feature, too few samples).
    """
    if kind not in _FITTERS:
        raise CalibrationError(f"kind must be one of {', '.join(_FITTERS)}, got {kind!r}")
    p = parameter_vector(model, params)
    records = as_records(train, "train")
    bound = bind_records(model, records)
    starts: list[NDArray[np.float64] | None] = [None] * len(records)
    if x0 is not None:
        arr = np.asarray(x0, dtype=np.float64)
        starts = list(np.broadcast_to(arr, (len(records), model.sizes["x"])))
    pairs = [
        _record_training_pairs(model, p, spec, rec, s, substeps)
        for rec, s in zip(bound, starts, strict=True)
    ]
    features = np.vstack([f for f, _ in pairs])
    targets = np.vstack([t for _, t in pairs])
    fitted = _FITTERS[kind](features, targets, **dict(options or {}))
    return HybridResidual(spec, fitted)
