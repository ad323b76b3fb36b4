"""The augmented estimation model: plant states, disturbance states and drifting parameters.

The estimators work on one vector ``z = (x, w, theta)``:

``x``
    the plant model's states;
``w``
    disturbance states, each a random walk added to one manipulated input
    (``kind="input"``), one measured disturbance (``kind="disturbance"``)
    -- the *input-disturbance* model of offset-free control -- or to one
    measured channel (``kind="output"``, the *output-disturbance* model);
``theta``
    chosen model parameters, slowly drifting random walks.

over one fixed estimation interval ``dt_s``: ``z[k+1] = F(z[k], u[k], d[k])
+ noise``.  A continuous-time model is discretised with classical RK4
sub-steps on the casadi side; a discrete-time model (``model.dt_s`` set) is
applied ``dt_s / model.dt_s`` times, exactly.  The measurement function
``y = H(z, u, d)`` picks chosen outputs of ``g`` or states and adds the
output disturbances.  Casadi gives the exact Jacobians of both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from controllers.errors import EstimationError
from controllers.estimation.specs import (
    DisturbanceState,
    Measurement,
    ParameterState,
    positive,
)
from plant_models.core.equations import EquationModel, to_casadi

__all__ = ["AugmentedModel", "augment"]


@dataclass(frozen=True, eq=False)
class AugmentedModel:
    """Discretised augmented model ``z = (x, w, theta)`` with its noise model.

    Built by :func:`augment`; read-only.

    Attributes
    ----------
    model : EquationModel
        The plant model.
    dt_s : float
        Estimation interval. [s]
    p_nominal : numpy.ndarray
        Full parameter vector; estimated entries start from these values. [SI]
    measurements, disturbance_states, parameter_states : tuple
        The specifications, in the order of ``y``, ``w`` and ``theta``.
    F : casadi.Function
        ``(z, u, d) -> z_next``.
    H : casadi.Function
        ``(z, u, d) -> y``, the measured channels.
    F_jac, H_jac : casadi.Function
        ``(z, u, d) -> (z_next, dF/dz)`` and ``(z, u, d) -> (y, dH/dz)``.
    process_cov : numpy.ndarray, shape (nz, nz)
        Covariance ``Q`` of the process noise per interval (diagonal). [SI^2]
    measurement_cov : numpy.ndarray, shape (ny, ny)
        Covariance ``R`` of the measurement noise (diagonal). [SI^2]
    initial_cov : numpy.ndarray, shape (nz, nz)
        Covariance of the initial estimate (diagonal). [SI^2]
    lower, upper : numpy.ndarray, shape (nz,)
        Bounds of ``z`` (state envelope, disturbance and parameter bounds). [SI]
    scale : numpy.ndarray, shape (nz,)
        Typical magnitude of each entry of ``z`` (for solver scaling). [SI]
    """

    model: EquationModel
    dt_s: float
    p_nominal: np.ndarray
    measurements: tuple[Measurement, ...]
    disturbance_states: tuple[DisturbanceState, ...]
    parameter_states: tuple[ParameterState, ...]
    F: Any
    H: Any
    F_jac: Any
    H_jac: Any
    process_cov: np.ndarray
    measurement_cov: np.ndarray
    initial_cov: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    scale: np.ndarray

    @property
    def nx(self) -> int:
        """Number of plant states."""
        return len(self.model.states)

    @property
    def nw(self) -> int:
        """Number of disturbance states."""
        return len(self.disturbance_states)

    @property
    def ntheta(self) -> int:
        """Number of estimated parameters."""
        return len(self.parameter_states)

    @property
    def nz(self) -> int:
        """Length of the augmented state."""
        return self.nx + self.nw + self.ntheta

    @property
    def ny(self) -> int:
        """Number of measured channels."""
        return len(self.measurements)

    def initial_state(self, x0: ArrayLike) -> np.ndarray:
        """Return the initial augmented state for plant state ``x0``.

        Disturbance states start at their ``initial`` value, parameters at
        their nominal value.

        Parameters
        ----------
        x0 : array_like, shape (nx,)
            Initial estimate of the plant state. [SI]
        """
        x = self.check_vector(x0, self.nx, "x0")
        w = np.array([s.initial for s in self.disturbance_states], dtype=np.float64)
        theta = np.array(
            [self.p_nominal[self.model.index("p", s.name)] for s in self.parameter_states],
            dtype=np.float64,
        )
        return np.concatenate([x, w, theta])

    def split(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(x, w, theta)``, copies of the parts of augmented state ``z``."""
        nx, nw = self.nx, self.nw
        return z[:nx].copy(), z[nx : nx + nw].copy(), z[nx + nw :].copy()

    def parameters(self, z: np.ndarray) -> np.ndarray:
        """Return the full parameter vector (SI) with the estimated entries of ``z``."""
        p = self.p_nominal.copy()
        for i, s in enumerate(self.parameter_states):
            p[self.model.index("p", s.name)] = z[self.nx + self.nw + i]
        return p

    def check_vector(self, value: ArrayLike | None, n: int, what: str) -> np.ndarray:
        """Return ``value`` as a finite float vector of length ``n`` (``None``: empty).

        Raises
        ------
        EstimationError
            If the length differs or an entry is not finite.
        """
        arr = np.zeros(0) if value is None else np.asarray(value, dtype=np.float64).reshape(-1)
        if arr.shape != (n,):
            raise EstimationError(f"{what} must have length {n}, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise EstimationError(f"{what} has non-finite entries: {arr}")
        return arr

    def check_measurement(self, y_meas: ArrayLike) -> np.ndarray:
        """Return ``y_meas`` as a float vector of length ``ny``; NaN marks a missing value.

        Raises
        ------
        EstimationError
            If the length differs or an entry is infinite.
        """
        y = np.asarray(y_meas, dtype=np.float64).reshape(-1)
        if y.shape != (self.ny,):
            raise EstimationError(f"y_meas must have length {self.ny}, got shape {y.shape}")
        if np.any(np.isinf(y)):
            raise EstimationError(f"y_meas has infinite entries: {y}")
        return y


def _rk4_map(cas: Any, x: Any, u: Any, d: Any, p: Any, h: float, n_sub: int) -> Any:
    """Integrate ``dx/dt = f`` over ``n_sub`` classical RK4 steps of length ``h``.

    Written out rather than ``casadi.integrator``: a fixed explicit scheme
    gives one small expression graph that is differentiated exactly and
    embedded in the moving-horizon NLP without an integrator plugin call.
    """
    for _ in range(n_sub):
        k1 = cas.f(x, u, d, p)
        k2 = cas.f(x + 0.5 * h * k1, u, d, p)
        k3 = cas.f(x + 0.5 * h * k2, u, d, p)
        k4 = cas.f(x + h * k3, u, d, p)
        x = x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return x


def _discrete_repeats(model: EquationModel, dt_s: float, substeps: int) -> int:
    model_dt = float(model.dt_s)  # type: ignore[arg-type]
    repeats = round(dt_s / model_dt)
    if repeats < 1 or abs(repeats * model_dt - dt_s) > 1e-9 * dt_s:
        raise EstimationError(
            f"model {model.name} is discrete with sample time {model_dt} s: the estimation "
            f"interval {dt_s} s must be a whole multiple of it"
        )
    if substeps != 1:
        raise EstimationError(f"model {model.name} is discrete: substeps must be 1")
    return repeats


def _bound_scale(low: float, high: float, fallback: float) -> float:
    finite = [abs(b) for b in (low, high) if math.isfinite(b)]
    scale = max(finite) if finite else abs(fallback)
    return scale if scale > 0.0 else 1.0


def augment(
    model: EquationModel,
    p: ArrayLike,
    dt_s: float,
    *,
    measurements: Sequence[Measurement],
    state_std_per_step: ArrayLike,
    initial_state_std: ArrayLike,
    disturbance_states: Sequence[DisturbanceState] = (),
    parameter_states: Sequence[ParameterState] = (),
    substeps: int = 1,
) -> AugmentedModel:
    """Build the discretised augmented model of ``model`` for estimation.

    Parameters
    ----------
    model : EquationModel
        The plant model (continuous or discrete time).
    p : array_like, shape (np,)
        Nominal parameter vector (:meth:`EquationModel.pack_parameters`). [SI]
    dt_s : float
        Estimation interval: inputs are held over it and one measurement
        arrives at its end. [s]
    measurements : sequence of Measurement
        Measured channels, in the order of ``y_meas``.
    state_std_per_step : array_like, shape (nx,)
        Standard deviation of the process noise of each plant state per
        interval (model error); positive. [unit of the state]
    initial_state_std : array_like, shape (nx,)
        Standard deviation of the initial plant-state estimate. [unit]
    disturbance_states : sequence of DisturbanceState
        Random-walk disturbances (offset-free estimation).
    parameter_states : sequence of ParameterState
        Parameters estimated as drifting random walks.
    substeps : int
        RK4 sub-steps per interval (continuous model); 1 for a discrete model.

    Returns
    -------
    AugmentedModel

    Raises
    ------
    EstimationError
        For an unknown or duplicated name, a wrong vector length, a
        non-positive noise level, or an interval that is not a whole
        multiple of a discrete model's sample time.
    """
    import casadi

    dt_s = positive(dt_s, "dt_s")
    if isinstance(substeps, bool) or not isinstance(substeps, int) or substeps < 1:
        raise EstimationError(f"substeps must be a positive integer, got {substeps!r}")
    sizes = model.sizes
    nx = sizes["x"]
    measurements = tuple(measurements)
    disturbance_states = tuple(disturbance_states)
    parameter_states = tuple(parameter_states)
    if not measurements:
        raise EstimationError("at least one measurement is needed")
    p_nom = np.asarray(p, dtype=np.float64).reshape(-1)
    if p_nom.shape != (sizes["p"],) or not np.all(np.isfinite(p_nom)):
        raise EstimationError(f"p must be a finite vector of length {sizes['p']}")
    q_x = np.asarray(state_std_per_step, dtype=np.float64).reshape(-1)
    p0_x = np.asarray(initial_state_std, dtype=np.float64).reshape(-1)
    for arr, what in ((q_x, "state_std_per_step"), (p0_x, "initial_state_std")):
        if arr.shape != (nx,) or not np.all(np.isfinite(arr) & (arr > 0.0)):
            raise EstimationError(f"{what} must be {nx} positive finite numbers, got {arr}")

    def lookup(kind: str, name: str, what: str) -> int:
        names = [v.name for v in model.variables(kind)]
        if name not in names:
            raise EstimationError(
                f"{what}: model {model.name} has no {kind} variable {name!r}; "
                f"known: {', '.join(names) or '(none)'}"
            )
        return names.index(name)

    meas_names = [m.name for m in measurements]
    for label, names in (
        ("measurements", meas_names),
        ("disturbance states", [s.name for s in disturbance_states]),
        ("parameter states", [s.name for s in parameter_states]),
    ):
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise EstimationError(f"duplicate {label}: {', '.join(dup)}")
    targets = [(s.kind, s.target) for s in disturbance_states]
    if len(set(targets)) != len(targets):
        raise EstimationError("two disturbance states act on the same target")

    cas = to_casadi(model, "SX")
    nw, nth = len(disturbance_states), len(parameter_states)
    nz = nx + nw + nth
    z = casadi.SX.sym("z", nz)
    u = casadi.SX.sym("u", sizes["u"])
    d = casadi.SX.sym("d", sizes["d"])
    x = z[:nx]
    u_eff = [u[i] for i in range(sizes["u"])]
    d_eff = [d[i] for i in range(sizes["d"])]
    y_extra: dict[int, Any] = {}
    for j, s in enumerate(disturbance_states):
        wj = z[nx + j]
        if s.kind == "input":
            i = lookup("u", s.target, f"disturbance state {s.name}")
            u_eff[i] = u_eff[i] + wj
        elif s.kind == "disturbance":
            i = lookup("d", s.target, f"disturbance state {s.name}")
            d_eff[i] = d_eff[i] + wj
        else:
            if s.target not in meas_names:
                raise EstimationError(
                    f"disturbance state {s.name}: output target {s.target!r} is not a "
                    f"measurement; known: {', '.join(meas_names)}"
                )
            y_extra[meas_names.index(s.target)] = wj
    p_list = [casadi.SX(float(v)) for v in p_nom]
    for j, ps in enumerate(parameter_states):
        p_list[lookup("p", ps.name, "parameter state")] = z[nx + nw + j]
    u_e = casadi.vertcat(*u_eff) if u_eff else casadi.SX(0, 1)
    d_e = casadi.vertcat(*d_eff) if d_eff else casadi.SX(0, 1)
    p_e = casadi.vertcat(*p_list) if p_list else casadi.SX(0, 1)

    if model.dt_s is not None:
        x_next = x
        for _ in range(_discrete_repeats(model, dt_s, substeps)):
            x_next = cas.f(x_next, u_e, d_e, p_e)
    else:
        x_next = _rk4_map(cas, x, u_e, d_e, p_e, dt_s / substeps, substeps)
    z_next = casadi.vertcat(x_next, z[nx:])

    y_all = cas.g(x, u_e, d_e, p_e)
    y_parts = []
    for c, m in enumerate(measurements):
        idx = lookup(m.kind, m.name, "measurement")
        yc = x[idx] if m.kind == "x" else y_all[idx]
        y_parts.append(yc + y_extra[c] if c in y_extra else yc)
    y = casadi.vertcat(*y_parts)

    names_in = ["z", "u", "d"]
    F = casadi.Function("estimation_F", [z, u, d], [z_next], names_in, ["z_next"])
    H = casadi.Function("estimation_H", [z, u, d], [y], names_in, ["y"])
    F_jac = casadi.Function(
        "estimation_F_jac",
        [z, u, d],
        [z_next, casadi.jacobian(z_next, z)],
        names_in,
        ["z_next", "A"],
    )
    H_jac = casadi.Function(
        "estimation_H_jac", [z, u, d], [y, casadi.jacobian(y, z)], names_in, ["y", "C"]
    )

    x_low, x_high = model.bounds("x")
    lower: list[float] = [float(b) for b in x_low]
    upper: list[float] = [float(b) for b in x_high]
    scale = [_bound_scale(lo, hi, 1.0) for lo, hi in zip(x_low, x_high, strict=True)]
    q_all: list[float] = [float(v) for v in q_x**2]
    p0_all: list[float] = [float(v) for v in p0_x**2]
    for ds in disturbance_states:
        lower.append(ds.low)
        upper.append(ds.high)
        scale.append(max(ds.initial_std, abs(ds.initial)))
        q_all.append(ds.std_per_step**2)
        p0_all.append(ds.initial_std**2)
    for ps in parameter_states:
        var = model.parameters[model.index("p", ps.name)]
        lo = var.low if ps.low is None else ps.low
        hi = var.high if ps.high is None else ps.high
        nominal = p_nom[model.index("p", ps.name)]
        if not lo <= nominal <= hi:
            raise EstimationError(
                f"parameter state {ps.name}: nominal {nominal} outside bounds [{lo}, {hi}]"
            )
        lower.append(float(lo))
        upper.append(float(hi))
        scale.append(float(abs(nominal)) if nominal != 0.0 else max(ps.initial_std, 1.0))
        q_all.append(ps.std_per_step**2)
        p0_all.append(ps.initial_std**2)
    return AugmentedModel(
        model=model,
        dt_s=dt_s,
        p_nominal=p_nom.copy(),
        measurements=measurements,
        disturbance_states=disturbance_states,
        parameter_states=parameter_states,
        F=F,
        H=H,
        F_jac=F_jac,
        H_jac=H_jac,
        process_cov=np.diag(q_all),
        measurement_cov=np.diag([m.std**2 for m in measurements]),
        initial_cov=np.diag(p0_all),
        lower=np.array(lower, dtype=np.float64),
        upper=np.array(upper, dtype=np.float64),
        scale=np.array(scale, dtype=np.float64),
    )
