"""Continuous-time equivalent of an identified discrete-time linear model (ZOH inverse).

A composed plant is one *continuous-time* :class:`~plant_models.core.equations.EquationModel`
(integrated by the simulators, collocated or shot by the controllers), while
an identified dynamic unit is *discrete-time* (``x[k+1] = A_d x[k] + ...``
over its sample time ``dt``).  To put the identified unit into the plant it
is converted to the continuous model whose zero-order-hold sampling at
``dt`` is exactly the identified one::

    dx/dt = A_c x + B_c v_s + e_c          exp([[A_c, B_c, e_c], [0, 0, 0]] dt)
    y     = y_off + y_sc (C x + D v_s)        = [[A_d, B_d, e_d], [0, I, 0], [0, 0, 1]]

so ``[A_c, B_c, e_c]`` is the top block row of the matrix logarithm of the
augmented discrete matrix divided by ``dt`` (the constant ``e`` is the ARX
intercept, a third "input" held at 1).  ``v_s`` are the scaled inputs
``(v - v_off) / v_sc``, ``v = [u, d]``.

Why a conversion and not multi-rate stepping: the composed plant then stays
one continuous model for every integrator and for the casadi side, and the
identified unit is simulated *exactly* wherever its inputs are held over its
samples (the zero-order hold it was identified under).  Between samples the
continuous form gives the physically plausible intermediate values.

When it fails (:class:`~plant_models.datadriven.errors.ConversionError`)
    A real logarithm exists only if no eigenvalue of ``A_d`` lies on the
    closed negative real axis.  A pole at or near zero is a pure delay or a
    mode far faster than ``dt`` (``|pole| < min_pole_modulus``); a negative
    real pole an oscillation at the Nyquist frequency that no continuous
    system sampled with a hold produces.  Re-identify with another order or
    delay (an ARX whose input delay exceeds its output order, ``nk + nb - 1
    > na``, has such zero poles), or a longer sample time.

ARX models are realised in *observer form* (``N = max(na, m)`` blocks of
``n_y`` states, ``m`` the largest input lag)::

    y_s[k]      = x_1[k] + B_0 v_s[k]
    x_i[k + 1]  = A_i y_s[k] + x_{i+1}[k] + B_i v_s[k] (+ c for i = 1)

which has no pure-delay states when ``m <= na`` (the lagged-value state of
the discrete unit has one per input lag, each a pole at zero).  State-space
models keep their identified coordinates.  Every number travels in ``p``
(:attr:`ContinuousUnit.parameters`), the structure ``(n_x, n_v, n_y)`` is
compiled in, so a re-identified unit of the same structure reuses the kernels.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray

from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.mathfuncs import zeros
from plant_models.datadriven.arx import ARXModel
from plant_models.datadriven.equations import scaled_inputs
from plant_models.datadriven.errors import ConversionError
from plant_models.datadriven.scaling import Scaling
from plant_models.datadriven.statespace import StateSpaceModel
from plant_models.datadriven.unit import DataDrivenUnit

__all__ = [
    "MIN_POLE_MODULUS",
    "AffineStateSpace",
    "ContinuousUnit",
    "continuous_equations",
    "continuous_unit",
    "discrete_affine_form",
    "to_continuous",
]

#: Smallest modulus of a discrete pole that is converted (``|pole| = 1e-6`` is a
#: continuous pole at ``ln(1e-6) / dt = -13.8 / dt``). [-]
MIN_POLE_MODULUS = 1e-6
#: Relative size of the imaginary part below which a pole counts as real. [-]
_REAL_TOL = 1e-9
#: Largest relative round-trip error ``expm(logm(M)) - M`` accepted. [-]
_ROUND_TRIP_TOL = 1e-8
#: ``|lambda_c| dt`` above which the continuous form is flagged stiff (RK4 is
#: stable up to about 2.8 for a real pole at one step per sample). [-]
_STIFF_RATIO = 2.5


@dataclass(frozen=True, eq=False)
class AffineStateSpace:
    """Affine linear state space on scaled signals.

    ``x' = a x + b v_s + e`` (continuous, :attr:`dt_s` ``None``) or
    ``x[k+1] = a x[k] + b v_s[k] + e`` (discrete); ``y = y_off + y_sc (c x + d v_s)``.

    Attributes
    ----------
    a : ndarray, shape (n, n)
        State matrix. [1/s] continuous, [-] discrete
    b : ndarray, shape (n, n_v)
        Input matrix on scaled inputs. [1/s] continuous, [-] discrete
    e : ndarray, shape (n,)
        Constant term (ARX intercept). [1/s] continuous, [-] discrete
    c : ndarray, shape (n_y, n)
        Output matrix (scaled outputs). [-]
    d : ndarray, shape (n_y, n_v)
        Feed-through on scaled inputs. [-]
    input_scaling, output_scaling : Scaling
        Scalings of ``v = [u, d]`` and ``y``. [SI]
    dt_s : float or None
        Sample time of a discrete form, ``None`` for a continuous one. [s]
    """

    a: NDArray[np.float64]
    b: NDArray[np.float64]
    e: NDArray[np.float64]
    c: NDArray[np.float64]
    d: NDArray[np.float64]
    input_scaling: Scaling
    output_scaling: Scaling
    dt_s: float | None

    @property
    def n_states(self) -> int:
        """Number of states."""
        return int(self.a.shape[0])

    def parameter_vector(self) -> NDArray[np.float64]:
        """``p`` of :func:`continuous_equations`: scalings, then ``a, b, e, c, d`` row-major."""
        parts = [
            self.input_scaling.offset,
            self.input_scaling.scale,
            self.output_scaling.offset,
            self.output_scaling.scale,
            self.a,
            self.b,
            self.e,
            self.c,
            self.d,
        ]
        return np.concatenate([np.asarray(x, dtype=np.float64).ravel() for x in parts])


def discrete_affine_form(model: ARXModel | StateSpaceModel) -> AffineStateSpace:
    """Return an identified dynamic model as a discrete :class:`AffineStateSpace`.

    ARX: the observer form of the module docstring (``N = max(na, m)`` blocks);
    state space: its own matrices with ``e = 0``.
    """
    if isinstance(model, StateSpaceModel):
        return AffineStateSpace(
            model.a,
            model.b,
            np.zeros(model.n_states),
            model.c,
            model.d,
            model.input_scaling,
            model.output_scaling,
            model.dt_s,
        )
    ny, nv, na, m = model.n_outputs, model.n_inputs, model.na, model.n_input_lags
    blocks = max(na, m)
    n = blocks * ny
    a_i = [model.a[i - 1] if i <= na else np.zeros((ny, ny)) for i in range(1, blocks + 1)]
    b_0 = model.b[0]
    a = np.zeros((n, n))
    b = np.zeros((n, nv))
    for i in range(blocks):
        rows = slice(i * ny, (i + 1) * ny)
        a[rows, :ny] = a_i[i]
        if i + 1 < blocks:
            a[rows, (i + 1) * ny : (i + 2) * ny] = np.eye(ny)
        b_i = model.b[i + 1] if i + 1 <= m else np.zeros((ny, nv))
        b[rows] = b_i + a_i[i] @ b_0
    e = np.zeros(n)
    e[:ny] = model.intercept
    c = np.zeros((ny, n))
    c[:, :ny] = np.eye(ny)
    return AffineStateSpace(
        a, b, e, c, b_0.copy(), model.input_scaling, model.output_scaling, model.dt_s
    )


def _check_poles(a_d: NDArray[np.float64], name: str, min_pole_modulus: float) -> None:
    for pole in np.linalg.eigvals(a_d):
        modulus = abs(pole)
        if modulus < min_pole_modulus:
            raise ConversionError(
                f"{name}: discrete pole {pole:.4g} is (near) zero (|pole| < {min_pole_modulus:g}): "
                "a pure delay or a mode much faster than the sample time has no continuous-time "
                "equivalent; re-identify with nk + nb - 1 <= na or a longer sample time"
            )
        if pole.real < 0.0 and abs(pole.imag) <= _REAL_TOL * modulus:
            raise ConversionError(
                f"{name}: discrete pole {pole.real:.4g} lies on the negative real axis, where no "
                "real matrix logarithm exists (an oscillation at the Nyquist frequency that no "
                "sampled continuous system produces); re-identify with another order or sample time"
            )


def to_continuous(
    form: AffineStateSpace, *, name: str = "model", min_pole_modulus: float = MIN_POLE_MODULUS
) -> AffineStateSpace:
    """Return the continuous form whose zero-order-hold sampling is ``form``.

    Parameters
    ----------
    form : AffineStateSpace
        A discrete form (``dt_s`` set).
    name : str
        Named in error messages (the unit).
    min_pole_modulus : float
        Discrete poles of smaller modulus are refused. [-]

    Returns
    -------
    AffineStateSpace
        ``dt_s`` ``None``; ``c``, ``d`` and the scalings unchanged.

    Raises
    ------
    ConversionError
        For a pole at or near zero or on the negative real axis, or a
        logarithm that does not reproduce the discrete matrices.
    """
    if form.dt_s is None:
        raise ConversionError(f"{name}: the form is already continuous-time")
    _check_poles(form.a, name, min_pole_modulus)
    n, nv = form.a.shape[0], form.b.shape[1]
    size = n + nv + 1
    # The constant term is an extra input held at 1: one logarithm gives A_c, B_c and e_c.
    aug = np.eye(size)
    aug[:n, :n] = form.a
    aug[:n, n : n + nv] = form.b
    aug[:n, -1] = form.e
    log = np.asarray(scipy.linalg.logm(aug))
    scale = max(1.0, float(np.max(np.abs(log))))
    if np.iscomplexobj(log):
        if float(np.max(np.abs(log.imag))) > _REAL_TOL * scale:
            raise ConversionError(f"{name}: the matrix logarithm of the discrete model is complex")
        log = log.real
    round_trip = scipy.linalg.expm(log)
    error = float(np.max(np.abs(round_trip - aug))) / max(1.0, float(np.max(np.abs(aug))))
    if not error <= _ROUND_TRIP_TOL:
        raise ConversionError(
            f"{name}: the continuous form does not reproduce the discrete model "
            f"(relative error {error:.2g}); the model is too ill-conditioned to convert"
        )
    log /= form.dt_s
    return AffineStateSpace(
        log[:n, :n],
        log[:n, n : n + nv],
        log[:n, -1].copy(),
        form.c,
        form.d,
        form.input_scaling,
        form.output_scaling,
        None,
    )


@functools.lru_cache(maxsize=64)
def continuous_equations(
    n_x: int, n_v: int, n_y: int
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Return ``(f, g)`` of a continuous affine state space with all numbers in ``p``.

    ``p`` is :meth:`AffineStateSpace.parameter_vector`; ``u`` and ``d``
    together are the ``n_v`` model inputs.  Cached per structure.
    """
    y_off = 2 * n_v
    y_sc = 2 * n_v + n_y
    a_base = 2 * n_v + 2 * n_y
    b_base = a_base + n_x * n_x
    e_base = b_base + n_x * n_v
    c_base = e_base + n_x
    d_base = c_base + n_y * n_x

    @equation
    def f(x: Any, u: Any, d: Any, p: Any) -> Any:
        v = scaled_inputs(u, d, p)
        dxdt = zeros(n_x)
        for i in range(n_x):
            acc = p[e_base + i]
            for k in range(n_x):
                acc = acc + p[a_base + i * n_x + k] * x[k]
            for c in range(n_v):
                acc = acc + p[b_base + i * n_v + c] * v[c]
            dxdt[i] = acc
        return dxdt

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


def _interval(
    matrix: NDArray[np.float64], low: NDArray[np.float64], high: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Bounds of ``matrix @ z`` for ``low <= z <= high`` (interval arithmetic)."""
    mid, rad = 0.5 * (low + high), 0.5 * (high - low)
    centre, spread = matrix @ mid, np.abs(matrix) @ rad
    return centre - spread, centre + spread


def _observer_envelope(
    unit: DataDrivenUnit, model: ARXModel
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Bounds of the observer-form states from the unit's signal envelopes (scaled)."""
    ny, na, m = model.n_outputs, model.na, model.n_input_lags
    blocks = max(na, m)
    y_lo, y_hi = (
        model.output_scaling.apply(np.array([getattr(v, k) for v in unit.outputs]))
        for k in ("low", "high")
    )
    signals = unit.inputs + unit.disturbances
    v_lo, v_hi = (
        model.input_scaling.apply(np.array([getattr(v, k) for v in signals]))
        for k in ("low", "high")
    )
    low = np.full(blocks * ny, -math.inf)
    high = np.full(blocks * ny, math.inf)
    if not np.all(np.isfinite(np.concatenate([y_lo, y_hi, v_lo, v_hi]))):
        return low, high
    for i in range(1, blocks + 1):
        # x_i[k] = sum_{j >= i} A_j y_s[k - 1 - j + i] + B_j v_s[k - 1 - j + i] (+ c).
        lo = model.intercept.copy() if i == 1 else np.zeros(ny)
        hi = lo.copy()
        for j in range(i, blocks + 1):
            if j <= na:
                a_lo, a_hi = _interval(model.a[j - 1], y_lo, y_hi)
                lo, hi = lo + a_lo, hi + a_hi
            if j <= m:
                b_lo, b_hi = _interval(model.b[j], v_lo, v_hi)
                lo, hi = lo + b_lo, hi + b_hi
        low[(i - 1) * ny : i * ny], high[(i - 1) * ny : i * ny] = lo, hi
    return low, high


@dataclass(frozen=True, eq=False)
class ContinuousUnit:
    """An identified unit in the form a continuous plant composes.

    Attributes
    ----------
    unit : DataDrivenUnit
        The identified unit.
    model : EquationModel
        Continuous-time model (``dt_s`` ``None``): the ZOH-equivalent of a
        dynamic unit, or the unit's own static map.
    parameters : ndarray
        Its ``p`` vector (every identified number). [mixed]
    discrete, continuous : AffineStateSpace or None
        The discrete form and its continuous equivalent (``None`` for a static map).
    """

    unit: DataDrivenUnit
    model: EquationModel
    parameters: NDArray[np.float64]
    discrete: AffineStateSpace | None
    continuous: AffineStateSpace | None

    def state_from_discrete(self, x_discrete: ArrayLike) -> NDArray[np.float64]:
        """Return the state of :attr:`model` equal to a state of the discrete unit.

        Parameters
        ----------
        x_discrete : array_like, shape (unit.n_states,)
            ARX: the lagged values ``[y[k-1..k-na], v[k-1..k-m]]`` (physical
            units, :meth:`DataDrivenUnit.initial_state`); state space: its state.

        Returns
        -------
        ndarray, shape (model n_x,)
            The state giving the same outputs and future. [scaled]
        """
        x = np.asarray(x_discrete, dtype=np.float64)
        if x.shape != (self.unit.n_states,):
            raise ValueError(
                f"unit {self.unit.name}: a discrete state has {self.unit.n_states} entries, "
                f"got shape {x.shape}"
            )
        model = self.unit.model
        if not isinstance(model, ARXModel):
            return x.copy()
        ny, nv, na, m = model.n_outputs, model.n_inputs, model.na, model.n_input_lags
        y_lag = model.output_scaling.apply(x[: na * ny].reshape(na, ny))
        v_lag = model.input_scaling.apply(x[na * ny :].reshape(m, nv))
        blocks = max(na, m)
        out = np.zeros(blocks * ny)
        for i in range(1, blocks + 1):
            acc = model.intercept.copy() if i == 1 else np.zeros(ny)
            for j in range(i, blocks + 1):
                lag = j - i + 1  # y_s[k - lag] and v_s[k - lag]
                if j <= na:
                    acc += model.a[j - 1] @ y_lag[lag - 1]
                if j <= m:
                    acc += model.b[j] @ v_lag[lag - 1]
            out[(i - 1) * ny : i * ny] = acc
        return out


def continuous_unit(
    unit: DataDrivenUnit, *, min_pole_modulus: float = MIN_POLE_MODULUS
) -> ContinuousUnit:
    """Return ``unit`` in continuous time, ready to compose into a plant.

    Parameters
    ----------
    unit : DataDrivenUnit
        An identified unit.
    min_pole_modulus : float
        Discrete poles of smaller modulus are refused (:func:`to_continuous`). [-]

    Raises
    ------
    ConversionError
        If the dynamic model has no continuous-time equivalent.
    """
    if not unit.is_dynamic:
        return ContinuousUnit(unit, unit.equation_model, unit.parameter_vector(), None, None)
    model = unit.model
    if not isinstance(model, ARXModel | StateSpaceModel):  # pragma: no cover - checked by unit
        raise ConversionError(f"unit {unit.name}: {type(model).__name__} is not dynamic")
    discrete = discrete_affine_form(model)
    where = f"unit {unit.name}"
    continuous = to_continuous(discrete, name=where, min_pole_modulus=min_pole_modulus)
    if isinstance(model, ARXModel):
        low, high = _observer_envelope(unit, model)
        states = tuple(
            Variable(
                f"obs{i}",
                "dimensionless",
                f"observer-form state {i} of the continuous equivalent (scaled outputs)",
                float(low[i]),
                float(high[i]),
            )
            for i in range(continuous.n_states)
        )
    else:
        states = unit.states
    f, g = continuous_equations(continuous.n_states, continuous.b.shape[1], continuous.c.shape[0])
    template = unit.equation_model
    n_v = continuous.b.shape[1]
    n_y = continuous.c.shape[0]
    n_x = continuous.n_states
    signals = unit.inputs + unit.disturbances
    parameters = tuple(template.parameters[: 2 * n_v + 2 * n_y]) + tuple(
        Variable(f"{label}_{k}", unit_text, f"continuous-form {label} entry {k}")
        for label, size, unit_text in (
            ("a", n_x * n_x, "1/s"),
            ("b", n_x * n_v, "1/s"),
            ("e", n_x, "1/s"),
            ("c", n_y * n_x, "dimensionless"),
            ("d", n_y * n_v, "dimensionless"),
        )
        for k in range(size)
    )
    fastest = float(np.max(np.abs(np.linalg.eigvals(continuous.a)))) if n_x else 0.0
    stiff = fastest * float(discrete.dt_s or 0.0) > _STIFF_RATIO
    eq_model = EquationModel(
        name=unit.name,
        f=f,
        g=g,
        states=states,
        inputs=unit.inputs,
        disturbances=unit.disturbances,
        outputs=unit.outputs,
        parameters=parameters,
        stiff=stiff,
    )
    if len(signals) != n_v:  # pragma: no cover - guaranteed by DataDrivenUnit
        raise ConversionError(f"unit {unit.name}: signal count does not match the model")
    return ContinuousUnit(unit, eq_model, continuous.parameter_vector(), discrete, continuous)
