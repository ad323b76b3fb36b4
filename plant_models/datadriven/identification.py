"""Fitting and naming for the generic data-driven unit (used by :mod:`.unit`).

:func:`fit_model` dispatches a :class:`DataDrivenSpec` to the identification
routine of its model type; :func:`state_variables` and
:func:`parameter_variables` name the entries of ``x`` and ``p`` so the unit
can expose them like a mechanistic unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.signal import dlsim

from plant_models.core.equations import Variable
from plant_models.datadriven._checks import as_2d
from plant_models.datadriven.arx import ARXModel, fit_arx
from plant_models.datadriven.equations import AnyModel, pack_parameters
from plant_models.datadriven.errors import IdentificationError, ModelFormatError
from plant_models.datadriven.mlp import fit_mlp
from plant_models.datadriven.ridge import PenaltyChoice
from plant_models.datadriven.segments import segments
from plant_models.datadriven.spec import DataDrivenSpec
from plant_models.datadriven.statespace import StateSpaceModel
from plant_models.datadriven.static import fit_polynomial, fit_rbf
from plant_models.datadriven.subspace import fit_subspace

__all__ = [
    "apply_envelope",
    "fit_model",
    "model_inputs",
    "parameter_variables",
    "state_trajectory",
    "state_variables",
    "with_range",
]


def with_range(variables: tuple[Variable, ...], data: NDArray[np.float64]) -> tuple[Variable, ...]:
    """Copy of ``variables`` with the envelope set to the data range of each column."""
    return tuple(
        replace(v, low=float(data[:, i].min()), high=float(data[:, i].max()))
        for i, v in enumerate(variables)
    )


def model_inputs(
    spec: DataDrivenSpec, u: ArrayLike | None, d: ArrayLike | None, n: int
) -> NDArray[np.float64]:
    """``[u, d]`` as one (n, n_inputs + n_disturbances) array, checked against the spec."""
    parts = []
    for arr, variables, label in ((u, spec.inputs, "u"), (d, spec.disturbances, "d")):
        if not variables:
            if arr is not None and np.size(arr):
                raise IdentificationError(f"{label} given but the unit declares none")
            parts.append(np.zeros((n, 0)))
            continue
        if arr is None:
            raise IdentificationError(f"{label} is required: the unit declares {len(variables)}")
        checked = as_2d(arr, label, n_samples=n)
        if checked.shape[1] != len(variables):
            raise IdentificationError(
                f"{label} has {checked.shape[1]} columns, the unit declares {len(variables)} "
                f"({', '.join(v.name for v in variables)})"
            )
        parts.append(checked)
    return np.hstack(parts)


def fit_model(
    spec: DataDrivenSpec,
    v: NDArray[np.float64],
    y: NDArray[np.float64],
    dt_s: float | None,
    mask: NDArray[np.bool_] | None = None,
) -> tuple[AnyModel, NDArray[np.float64] | None]:
    """Fit the declared model; also return the state trajectory of a state-space fit.

    ``mask`` marks the valid samples (see :mod:`plant_models.datadriven.segments`):
    static maps use the valid rows, ARX the equations whose lag window is
    valid, state space the longest gap-free segment.
    """
    kind = spec.model_type
    if mask is not None and not mask.all() and kind != "arx":
        if spec.is_dynamic:
            runs = segments(mask)
            start, stop = max(runs, key=lambda r: r[1] - r[0])
            v, y = v[start:stop], y[start:stop]
        else:
            v, y = v[mask], y[mask]
        mask = None
    if kind == "polynomial":
        penalty = _penalty(spec, "gcv")
        return fit_polynomial(v, y, spec.degree, penalty=penalty, seed=spec.seed), None
    if kind == "rbf":
        model = fit_rbf(
            v,
            y,
            spec.n_centres,
            width_factor=spec.width_factor,
            penalty=_penalty(spec, "gcv"),
            seed=spec.seed,
        )
        return model, None
    if kind == "mlp":
        return fit_mlp(v, y, spec.hidden, seed=spec.seed), None
    if dt_s is None:
        raise IdentificationError(f"a dynamic ({kind}) model needs the sample time dt_s")
    if kind == "arx":
        arx = fit_arx(
            v, y, dt_s, spec.na, spec.nb, spec.nk, penalty=_penalty(spec, 0.0), valid=mask
        )
        return arx, None
    result = fit_subspace(
        v, y, dt_s, spec.order, max_order=spec.max_order, feedthrough=spec.feedthrough
    )
    return result.model, state_trajectory(result.model, v, result.x0)


def _penalty(spec: DataDrivenSpec, default: PenaltyChoice) -> PenaltyChoice:
    """The declared ridge penalty, or the model type's default."""
    if spec.penalty is None:
        return default
    if spec.penalty == "gcv":
        return "gcv"
    if spec.penalty == "kfold":
        return "kfold"
    return float(spec.penalty)


def state_trajectory(
    model: StateSpaceModel, v: NDArray[np.float64], x0: NDArray[np.float64]
) -> NDArray[np.float64]:
    """States ``x[0..N]`` of a free run from ``x0`` under inputs ``v`` (N + 1 rows)."""
    n = model.n_states
    u_s = model.input_scaling.apply(v)
    xs = np.empty((v.shape[0] + 1, n))
    if v.shape[0] > 1:
        _, _, xs[:-1] = dlsim(
            (model.a, model.b, np.eye(n), np.zeros((n, v.shape[1])), 1.0), u_s, x0=x0
        )
    else:
        xs[0] = x0
    xs[-1] = model.a @ xs[-2] + model.b @ u_s[-1]
    return xs


def state_variables(
    spec: DataDrivenSpec,
    model: AnyModel,
    v: NDArray[np.float64] | None,
    y: NDArray[np.float64] | None,
    x_traj: NDArray[np.float64] | None,
) -> tuple[Variable, ...]:
    """Named states with envelopes (from data when given, else unbounded)."""
    if isinstance(model, ARXModel):
        states = [
            Variable(f"{out.name}_lag{i}", out.unit, f"{out.name} {i} sample(s) ago")
            for i in range(1, model.na + 1)
            for out in spec.outputs
        ]
        states += [
            Variable(f"{sig.name}_lag{lag}", sig.unit, f"{sig.name} {lag} sample(s) ago")
            for lag in range(1, model.n_input_lags + 1)
            for sig in spec.model_inputs
        ]
        if v is not None and y is not None:
            lows = np.concatenate(
                [np.tile(y.min(axis=0), model.na), np.tile(v.min(axis=0), model.n_input_lags)]
            )
            highs = np.concatenate(
                [np.tile(y.max(axis=0), model.na), np.tile(v.max(axis=0), model.n_input_lags)]
            )
            states = [
                replace(s, low=float(lo), high=float(hi))
                for s, lo, hi in zip(states, lows, highs, strict=True)
            ]
        return tuple(states)
    if isinstance(model, StateSpaceModel):
        states = [
            Variable(f"x{i}", "dimensionless", f"identified state {i} (scaled coordinates)")
            for i in range(model.n_states)
        ]
        if x_traj is not None:
            states = [
                replace(s, low=float(x_traj[:, i].min()), high=float(x_traj[:, i].max()))
                for i, s in enumerate(states)
            ]
        return tuple(states)
    return ()


def apply_envelope(
    variables: tuple[Variable, ...], env: Mapping[str, Any], key: str
) -> tuple[Variable, ...]:
    """Copy of ``variables`` with the stored ``[[low, high], ...]`` envelope ``env[key]``."""
    bounds = env.get(key, [])
    if len(bounds) != len(variables):
        raise ModelFormatError(
            f"envelope '{key}' has {len(bounds)} entries for {len(variables)} variables"
        )
    return tuple(
        replace(v, low=float(lo), high=float(hi))
        for v, (lo, hi) in zip(variables, bounds, strict=True)
    )


def parameter_variables(
    model: AnyModel,
    inputs: tuple[Variable, ...],
    outputs: tuple[Variable, ...],
) -> tuple[Variable, ...]:
    """Named ``p`` entries: scaling offsets and factors of every signal, then coefficients.

    ``inputs`` are the model inputs (manipulated inputs, then disturbances).
    """
    signals = inputs
    head = [Variable(f"offset_{s.name}", s.unit, f"scaling offset of {s.name}") for s in signals]
    head += [Variable(f"scale_{s.name}", s.unit, f"scaling factor of {s.name}") for s in signals]
    head += [Variable(f"offset_{s.name}", s.unit, f"scaling offset of {s.name}") for s in outputs]
    head += [Variable(f"scale_{s.name}", s.unit, f"scaling factor of {s.name}") for s in outputs]
    n_coef = pack_parameters(model).size - len(head)
    return tuple(head) + tuple(
        Variable(f"coef_{k}", "dimensionless", f"model coefficient {k}") for k in range(n_coef)
    )
