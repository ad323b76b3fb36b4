"""Evaluation of identified models in the equations-once convention.

Every model evaluates as functions ``f(x, u, d, p)`` and ``g(x, u, d, p)``
written in the convention of :mod:`plant_models.core.equations`, so the same
source compiles to casadi (controllers) and numba (simulation, replay):

- a static map ``y = h(z, p)`` has no states: ``f`` returns ``zeros(0)`` and
  ``g`` evaluates the map on ``z = [u, d]``;
- a dynamic model is **discrete-time**: ``f`` returns the state one sample
  (``dt_s``) later, not a derivative, and ``g`` the outputs at the current
  sample.  ARX models use the lagged physical values as states; state-space
  models their (scaled) identified states.

The model inputs are the manipulated inputs followed by the disturbances:
``v = [u, d]``, split at ``n_u``.  Every number of the fitted model (scalings
and coefficients) travels in ``p`` (:func:`pack_parameters`); the structure
(orders, exponents, layer sizes, taps) is compiled in as closure constants,
and functions are cached per structure so that a re-identified model with the
same structure reuses the compiled code.

Layout of ``p`` (common head, then model specific)::

    [v_offset (n_v), v_scale (n_v), y_offset (n_y), y_scale (n_y), ...]

    polynomial   coef (n_features * n_y, row-major)
    rbf          centres (n_c * n_v), widths (n_c), coef ((1 + n_c) * n_y)
    mlp          theta (per layer: W row-major, then b)
    arx          a (na * n_y * n_y), for each tap (l, c): b[l, :, c] (n_y), intercept (n_y)
    statespace   A (n * n), B (n * n_v), C (n_y * n), D (n_y * n_v)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plant_models.core.equations import equation
from plant_models.core.mathfuncs import exp, tanh, zeros
from plant_models.datadriven.arx import ARXModel
from plant_models.datadriven.mlp import MLPModel
from plant_models.datadriven.statespace import StateSpaceModel
from plant_models.datadriven.static import PolynomialModel, RBFModel

__all__ = [
    "AnyModel",
    "equation_functions",
    "pack_parameters",
    "parameter_labels",
]

#: Every identified model type.
AnyModel = PolynomialModel | RBFModel | MLPModel | ARXModel | StateSpaceModel

EquationPair = tuple[Callable[..., Any], Callable[..., Any]]


@equation
def scaled_inputs(u: Any, d: Any, p: Any) -> Any:
    """Scaled model inputs ``z = ([u, d] - p[:n_v]) / p[n_v:2 n_v]``."""
    n_u = u.shape[0]
    n_d = d.shape[0]
    n_v = n_u + n_d
    z = zeros(n_v)
    for i in range(n_u):
        z[i] = (u[i] - p[i]) / p[n_v + i]
    for i in range(n_d):
        z[n_u + i] = (d[i] - p[n_u + i]) / p[n_v + n_u + i]
    return z


@equation
def no_states(x: Any, u: Any, d: Any, p: Any) -> Any:
    """State update of a static map: there are no states."""
    return zeros(0)


# ---------------------------------------------------------------- static maps


@functools.lru_cache(maxsize=64)
def _polynomial_g(exponents: tuple[tuple[int, ...], ...], n_y: int) -> Callable[..., Any]:
    exps = np.array(exponents, dtype=np.int64)
    n_f, n_v = int(exps.shape[0]), int(exps.shape[1])
    y_off = 2 * n_v
    y_sc = 2 * n_v + n_y
    base = 2 * n_v + 2 * n_y

    @equation
    def g(x: Any, u: Any, d: Any, p: Any) -> Any:
        z = scaled_inputs(u, d, p)
        acc = zeros(n_y)
        for j in range(n_f):
            term = 1.0
            for k in range(n_v):
                for _ in range(exps[j, k]):
                    term = term * z[k]
            for o in range(n_y):
                acc[o] = acc[o] + p[base + j * n_y + o] * term
        y = zeros(n_y)
        for o in range(n_y):
            y[o] = p[y_off + o] + p[y_sc + o] * acc[o]
        return y

    return g


@functools.lru_cache(maxsize=64)
def _rbf_g(n_v: int, n_c: int, n_y: int) -> Callable[..., Any]:
    y_off = 2 * n_v
    y_sc = 2 * n_v + n_y
    c_base = 2 * n_v + 2 * n_y
    w_base = c_base + n_c * n_v
    k_base = w_base + n_c

    @equation
    def g(x: Any, u: Any, d: Any, p: Any) -> Any:
        z = scaled_inputs(u, d, p)
        acc = zeros(n_y)
        for o in range(n_y):
            acc[o] = p[k_base + o]
        for j in range(n_c):
            sq = 0.0
            for k in range(n_v):
                diff = z[k] - p[c_base + j * n_v + k]
                sq = sq + diff * diff
            width = p[w_base + j]
            phi = exp(-sq / (2.0 * width * width))
            for o in range(n_y):
                acc[o] = acc[o] + p[k_base + (1 + j) * n_y + o] * phi
        y = zeros(n_y)
        for o in range(n_y):
            y[o] = p[y_off + o] + p[y_sc + o] * acc[o]
        return y

    return g


@functools.lru_cache(maxsize=64)
def _mlp_g(layer_sizes: tuple[int, ...]) -> Callable[..., Any]:
    sizes = np.array(layer_sizes, dtype=np.int64)
    n_layers = len(layer_sizes) - 1
    n_v, n_y = layer_sizes[0], layer_sizes[-1]
    y_off = 2 * n_v
    y_sc = 2 * n_v + n_y
    base = 2 * n_v + 2 * n_y

    @equation
    def g(x: Any, u: Any, d: Any, p: Any) -> Any:
        a = scaled_inputs(u, d, p)
        pos = base
        for layer in range(n_layers):
            n_in = int(sizes[layer])
            n_out = int(sizes[layer + 1])
            nxt = zeros(n_out)
            for i in range(n_out):
                s = p[pos + n_in * n_out + i]
                for k in range(n_in):
                    s = s + p[pos + i * n_in + k] * a[k]
                if layer < n_layers - 1:
                    nxt[i] = tanh(s)
                else:
                    nxt[i] = s
            pos = pos + n_in * n_out + n_out
            a = nxt
        y = zeros(n_y)
        for o in range(n_y):
            y[o] = p[y_off + o] + p[y_sc + o] * a[o]
        return y

    return g


# ---------------------------------------------------------------- dynamic models


@functools.lru_cache(maxsize=64)
def _arx_pair(
    n_u: int, n_d: int, n_y: int, na: int, m: int, taps: tuple[tuple[int, int], ...]
) -> EquationPair:
    n_v = n_u + n_d
    tap_table = np.array(taps, dtype=np.int64).reshape(-1, 2)
    n_taps = int(tap_table.shape[0])
    n_x = na * n_y + m * n_v
    y_off = 2 * n_v
    y_sc = 2 * n_v + n_y
    a_base = 2 * n_v + 2 * n_y
    b_base = a_base + na * n_y * n_y
    c_base = b_base + n_taps * n_y
    u_lag = na * n_y

    @equation
    def output(x: Any, u: Any, d: Any, p: Any) -> Any:
        v = scaled_inputs(u, d, p)
        y = zeros(n_y)
        for j in range(n_y):
            acc = p[c_base + j]
            for i in range(na):
                for k in range(n_y):
                    lagged = (x[i * n_y + k] - p[y_off + k]) / p[y_sc + k]
                    acc = acc + p[a_base + (i * n_y + j) * n_y + k] * lagged
            for t in range(n_taps):
                lag = tap_table[t, 0]
                c = tap_table[t, 1]
                if lag == 0:
                    acc = acc + p[b_base + t * n_y + j] * v[c]
                else:
                    past = (x[u_lag + (lag - 1) * n_v + c] - p[c]) / p[n_v + c]
                    acc = acc + p[b_base + t * n_y + j] * past
            y[j] = p[y_off + j] + p[y_sc + j] * acc
        return y

    @equation
    def f(x: Any, u: Any, d: Any, p: Any) -> Any:
        y = output(x, u, d, p)
        x_next = zeros(n_x)
        for j in range(n_y):
            x_next[j] = y[j]
        for i in range((na - 1) * n_y):
            x_next[n_y + i] = x[i]
        if m > 0:
            for c in range(n_u):
                x_next[u_lag + c] = u[c]
            for c in range(n_d):
                x_next[u_lag + n_u + c] = d[c]
            for i in range((m - 1) * n_v):
                x_next[u_lag + n_v + i] = x[u_lag + i]
        return x_next

    return f, output


@functools.lru_cache(maxsize=64)
def _statespace_pair(n_x: int, n_v: int, n_y: int) -> EquationPair:
    y_off = 2 * n_v
    y_sc = 2 * n_v + n_y
    a_base = 2 * n_v + 2 * n_y
    b_base = a_base + n_x * n_x
    c_base = b_base + n_x * n_v
    d_base = c_base + n_y * n_x

    @equation
    def f(x: Any, u: Any, d: Any, p: Any) -> Any:
        v = scaled_inputs(u, d, p)
        x_next = zeros(n_x)
        for i in range(n_x):
            acc = 0.0
            for k in range(n_x):
                acc = acc + p[a_base + i * n_x + k] * x[k]
            for c in range(n_v):
                acc = acc + p[b_base + i * n_v + c] * v[c]
            x_next[i] = acc
        return x_next

    @equation
    def g(x: Any, u: Any, d: Any, p: Any) -> Any:
        v = scaled_inputs(u, d, p)
        y = zeros(n_y)
        for j in range(n_y):
            acc = 0.0
            for k in range(n_x):
                acc = acc + p[c_base + j * n_x + k] * x[k]
            for c in range(n_v):
                acc = acc + p[d_base + j * n_v + c] * v[c]
            y[j] = p[y_off + j] + p[y_sc + j] * acc
        return y

    return f, g


def _arx_taps(model: ARXModel) -> tuple[tuple[int, int], ...]:
    return tuple(
        (lag, c)
        for c, (delay, taps) in enumerate(zip(model.nk, model.nb, strict=True))
        for lag in range(delay, delay + taps)
    )


def equation_functions(model: AnyModel, n_u: int) -> EquationPair:
    """Return ``(f, g)`` of ``model`` in the equations-once convention.

    Parameters
    ----------
    model : PolynomialModel, RBFModel, MLPModel, ARXModel or StateSpaceModel
        An identified model.
    n_u : int
        How many of the model inputs are manipulated inputs ``u``; the rest
        are disturbances ``d``.

    Returns
    -------
    f, g : callable
        ``f`` is the discrete state update (``no_states`` for a static map),
        ``g`` the outputs; both are :func:`~plant_models.core.equations.equation`
        functions, cached per model structure.
    """
    n_v = model.n_inputs
    if not 0 <= n_u <= n_v:
        raise ValueError(f"n_u must be between 0 and {n_v}, got {n_u}")
    if isinstance(model, PolynomialModel):
        exps = tuple(tuple(int(e) for e in row) for row in model.exponents)
        return no_states, _polynomial_g(exps, model.n_outputs)
    if isinstance(model, RBFModel):
        return no_states, _rbf_g(n_v, model.n_centres, model.n_outputs)
    if isinstance(model, MLPModel):
        return no_states, _mlp_g(model.layer_sizes)
    if isinstance(model, ARXModel):
        return _arx_pair(
            n_u, n_v - n_u, model.n_outputs, model.na, model.n_input_lags, _arx_taps(model)
        )
    if isinstance(model, StateSpaceModel):
        return _statespace_pair(model.n_states, n_v, model.n_outputs)
    raise TypeError(f"no equation form for {type(model).__name__}")


def pack_parameters(model: AnyModel) -> NDArray[np.float64]:
    """Return the ``p`` vector of ``model`` in the layout of the module docstring."""
    head = [
        model.input_scaling.offset,
        model.input_scaling.scale,
        model.output_scaling.offset,
        model.output_scaling.scale,
    ]
    if isinstance(model, PolynomialModel):
        body = [model.coef.ravel()]
    elif isinstance(model, RBFModel):
        body = [model.centres.ravel(), model.widths, model.coef.ravel()]
    elif isinstance(model, MLPModel):
        body = [model.theta]
    elif isinstance(model, ARXModel):
        body = [model.a.ravel()] + [model.b[lag, :, c] for lag, c in _arx_taps(model)]
        body.append(model.intercept)
    elif isinstance(model, StateSpaceModel):
        body = [model.a.ravel(), model.b.ravel(), model.c.ravel(), model.d.ravel()]
    else:
        raise TypeError(f"no parameter vector for {type(model).__name__}")
    return np.concatenate([np.asarray(b, dtype=np.float64).ravel() for b in head + body])


def parameter_labels(model: AnyModel) -> list[str]:
    """Names of the entries of :func:`pack_parameters` (``v_offset_0``, ``coef_12``, ...)."""
    n_v, n_y = model.n_inputs, model.n_outputs
    labels = [f"v_offset_{i}" for i in range(n_v)] + [f"v_scale_{i}" for i in range(n_v)]
    labels += [f"y_offset_{i}" for i in range(n_y)] + [f"y_scale_{i}" for i in range(n_y)]
    n_body = pack_parameters(model).size - len(labels)
    return labels + [f"coef_{k}" for k in range(n_body)]
