"""Fixed-step numba simulation of equation models, single and batched.

Inputs are arrays on the time grid ``t_k = t0 + k * dt`` held constant over
each interval (zero-order hold).  Methods:

``"rk4"``
    Classical explicit Runge-Kutta, order 4, with ``substeps`` sub-steps per
    interval: for non-stiff models.
``"implicit_euler"``
    Backward Euler, order 1, L-stable.
``"sdirk2"``
    Alexander's two-stage SDIRK, order 2, L-stable: for stiff models.
``"sdirk3"``
    Alexander's three-stage SDIRK, order 3, L-stable: for stiff models
    whose fast modes must also be followed accurately (three Newton solves
    a step instead of two, for a global error ``O(h**3)``).
``"auto"``
    ``"sdirk2"`` if the model is declared stiff, else ``"rk4"``.

Implicit steps use modified Newton iterations with the exact Jacobian
``df/dx`` (generated from the casadi graph); its LU factorisation is reused
across steps and refreshed only when the iteration converges slowly, and the
iteration stops when its own error estimate is within the tolerance.

Every model is compiled by :func:`plant_models.core.codegen.compile_model`:
straight-line kernels generated from its casadi graph, with the integrators,
in one module cached on disk by numba (the second process starts in a
fraction of a second).

Discrete-time models (:attr:`EquationModel.dt_s` set) are not integrated:
each interval of length ``dt_s`` (the control step, a whole multiple ``m`` of
the model's sample time) applies ``x <- f(x, u_k, d_k, p)`` exactly ``m``
times with the interval's inputs held.  ``method`` must then be ``"auto"``
and ``substeps`` 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from plant_models.core.codegen import compile_model
from plant_models.core.equations import EquationModel
from plant_models.core.errors import SimulationError

__all__ = ["METHODS", "BatchResult", "SimulationResult", "simulate", "simulate_batch"]

#: Integration methods accepted by :func:`simulate` and :func:`simulate_batch`.
METHODS: tuple[str, ...] = ("auto", "rk4", "implicit_euler", "sdirk2", "sdirk3")

_IMPLICIT_CODES = {"implicit_euler": 0, "sdirk2": 1, "sdirk3": 2}


@dataclass(frozen=True)
class SimulationResult:
    """Trajectory of one simulation.

    Attributes
    ----------
    model : EquationModel
        The simulated model (names and units of the columns).
    time_s : numpy.ndarray
        Grid times, shape ``(N + 1,)``. [s]
    states : numpy.ndarray
        States at the grid times, shape ``(N + 1, nx)``. [SI]
    outputs : numpy.ndarray
        Outputs at the start of each interval (with that interval's inputs),
        shape ``(N, ny)``. [SI]
    """

    model: EquationModel
    time_s: np.ndarray
    states: np.ndarray
    outputs: np.ndarray

    def state(self, name: str) -> np.ndarray:
        """Return the trajectory of state ``name``, shape ``(N + 1,)``."""
        return self.states[:, self.model.index("x", name)]

    def output(self, name: str) -> np.ndarray:
        """Return output ``name`` per interval, shape ``(N,)``."""
        return self.outputs[:, self.model.index("y", name)]


@dataclass(frozen=True)
class BatchResult:
    """Trajectories of a batch of scenarios (first axis: scenario).

    Attributes
    ----------
    model : EquationModel
        The simulated model.
    time_s : numpy.ndarray
        Grid times, shape ``(N + 1,)``. [s]
    states : numpy.ndarray
        Shape ``(S, N + 1, nx)``. [SI]
    outputs : numpy.ndarray
        Shape ``(S, N, ny)``. [SI]
    """

    model: EquationModel
    time_s: np.ndarray
    states: np.ndarray
    outputs: np.ndarray


def _method_code(model: EquationModel, method: str) -> int:
    """Return -1 for RK4 or the implicit method's kernel code."""
    if method not in METHODS:
        raise SimulationError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if method == "auto":
        method = "sdirk2" if model.stiff else "rk4"
    return _IMPLICIT_CODES.get(method, -1)


def _check_step(dt_s: float, substeps: int) -> None:
    if not (np.isfinite(dt_s) and dt_s > 0.0):
        raise SimulationError(f"dt_s must be a positive finite time step, got {dt_s}")
    if int(substeps) != substeps or substeps < 1:
        raise SimulationError(f"substeps must be a positive integer, got {substeps}")


#: Relative tolerance on ``dt_s / model.dt_s`` being a whole number: control
#: steps come from decimal settings ("60 s", "0.1 s") whose ratio is exact to
#: a few ulp; 1e-9 accepts that round-off and rejects any real mismatch.
_RATIO_RTOL = 1e-9


def _discrete_steps(model: EquationModel, dt_s: float, substeps: int, method: str) -> int:
    """Model steps per interval of a discrete-time model (checks the step contract)."""
    model_dt = model.dt_s
    if model_dt is None:  # pragma: no cover - callers check
        raise SimulationError(f"model {model.name} is continuous-time")
    if method != "auto":
        raise SimulationError(
            f"model {model.name} is discrete-time (dt_s = {model_dt:g} s): it is stepped "
            f"exactly, method {method!r} does not apply; use method='auto'"
        )
    if substeps != 1:
        raise SimulationError(
            f"model {model.name} is discrete-time (dt_s = {model_dt:g} s): substeps must be 1, "
            f"got {substeps}"
        )
    ratio = dt_s / model_dt
    steps = round(ratio)
    if steps < 1 or abs(ratio - steps) > _RATIO_RTOL * ratio:
        raise SimulationError(
            f"model {model.name} is discrete-time with sample time {model_dt:g} s: the step "
            f"dt_s = {dt_s:g} s must be a whole multiple of it"
        )
    return int(steps)


def _series(
    values: ArrayLike | None, name: str, n_cols: int, n_steps: int | None, batch: int | None
) -> np.ndarray | None:
    """Return a float64 C-contiguous (N, n) or (S, N, n) array, or None if not given."""
    if values is None:
        return None
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1 and n_cols == 1 and batch is None:
        arr = arr[:, np.newaxis]
    want_ndim = 2 if batch is None else 3
    if arr.ndim == want_ndim - 1 and batch is not None:
        arr = np.broadcast_to(arr, (batch, *arr.shape))
    if arr.ndim != want_ndim or arr.shape[-1] != n_cols:
        shape = "(N, n)" if batch is None else "(S, N, n) or (N, n)"
        raise SimulationError(
            f"{name} must have shape {shape} with n = {n_cols}, got {np.shape(values)}"
        )
    if n_steps is not None and arr.shape[-2] != n_steps:
        raise SimulationError(f"{name} has {arr.shape[-2]} time steps, expected {n_steps}")
    if not np.all(np.isfinite(arr)):
        raise SimulationError(f"{name} contains NaN or infinite values")
    return np.ascontiguousarray(arr)


def _vector(values: ArrayLike, name: str, n: int, batch: int | None) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if batch is not None and arr.ndim == 1:
        arr = np.broadcast_to(arr, (batch, arr.shape[0]))
    want = (n,) if batch is None else (batch, n)
    if arr.shape != want:
        raise SimulationError(f"{name} must have shape {want}, got {np.shape(values)}")
    if not np.all(np.isfinite(arr)):
        raise SimulationError(f"{name} contains NaN or infinite values")
    return np.ascontiguousarray(arr)


def _inputs(
    model: EquationModel,
    u: ArrayLike | None,
    d: ArrayLike | None,
    n_steps: int | None,
    batch: int | None,
) -> tuple[np.ndarray, np.ndarray, int]:
    sizes = model.sizes
    if u is None and sizes["u"]:
        raise SimulationError(f"model {model.name} has {sizes['u']} inputs: u is required")
    if d is None and sizes["d"]:
        raise SimulationError(f"model {model.name} has {sizes['d']} disturbances: d is required")
    u_arr = _series(u, "u", sizes["u"], n_steps, batch)
    n_steps = n_steps if n_steps is not None or u_arr is None else u_arr.shape[-2]
    d_arr = _series(d, "d", sizes["d"], n_steps, batch)
    n_steps = n_steps if n_steps is not None or d_arr is None else d_arr.shape[-2]
    if n_steps is None:
        raise SimulationError("give u, d or n_steps: the number of time steps is unknown")
    lead = (n_steps,) if batch is None else (batch, n_steps)
    if u_arr is None:
        u_arr = np.zeros((*lead, 0))
    if d_arr is None:
        d_arr = np.zeros((*lead, 0))
    return u_arr, d_arr, n_steps


def _state_scale(model: EquationModel) -> np.ndarray:
    """Typical magnitude of each state (for finite differences and Newton tolerances)."""
    low, high = model.bounds("x")
    scale = np.maximum(np.abs(low), np.abs(high))
    return np.where(np.isfinite(scale) & (scale > 0.0), scale, 1.0)


def _raise_status(model: EquationModel, code: int, dt_s: float, t0_s: float, where: str) -> None:
    if code > 0:
        t = t0_s + (code - 1) * dt_s
        advice = (
            "the discrete-time model is unstable for these inputs"
            if model.dt_s is not None
            else "reduce dt_s, add substeps or use an implicit method"
        )
        raise SimulationError(
            f"{where}model {model.name}: state became NaN or infinite in the interval starting "
            f"at t = {t:g} s; {advice}"
        )
    if code < 0:
        t = t0_s + (-code - 1) * dt_s
        raise SimulationError(
            f"{where}model {model.name}: implicit step failed to converge in the interval "
            f"starting at t = {t:g} s; reduce dt_s or check the inputs"
        )


def simulate(
    model: EquationModel,
    x0: ArrayLike,
    u: ArrayLike | None,
    d: ArrayLike | None,
    p: ArrayLike,
    dt_s: float,
    *,
    n_steps: int | None = None,
    substeps: int = 1,
    method: str = "auto",
    t0_s: float = 0.0,
    newton_tol: float = 1e-10,
    newton_max_iter: int = 8,
) -> SimulationResult:
    """Simulate ``model`` on a fixed time grid with numba.

    Parameters
    ----------
    model : EquationModel
        The model.
    x0 : array_like, shape (nx,)
        Initial state. [SI]
    u, d : array_like, shape (N, nu) and (N, nd), or None
        Inputs and disturbances per interval (zero-order hold); ``None`` for
        an empty vector.  A 1-D array is accepted for a single column.
    p : array_like, shape (np,)
        Parameter vector (:meth:`EquationModel.pack_parameters`).
    dt_s : float
        Interval length; for a discrete-time model a whole multiple of its
        sample time. [s]
    n_steps : int, optional
        Number of intervals, needed only when both ``u`` and ``d`` are None.
    substeps : int
        Integration steps per interval (1 for a discrete-time model).
    method : {"auto", "rk4", "implicit_euler", "sdirk2", "sdirk3"}
        Integration method (see the module docstring); ``"auto"`` for a
        discrete-time model, which is stepped exactly.
    t0_s : float
        Time of the first grid point. [s]
    newton_tol : float
        Relative Newton tolerance of implicit steps (to the state scale).
    newton_max_iter : int
        Newton iterations per stage before a step is retried shorter.

    Returns
    -------
    SimulationResult

    Raises
    ------
    SimulationError
        For wrong shapes, non-finite inputs, a diverging state, a failed
        implicit step (the message gives the time), or a step that is not a
        whole multiple of a discrete-time model's sample time.
    """
    _check_step(dt_s, substeps)
    if model.dt_s is not None:
        code, steps = 0, _discrete_steps(model, dt_s, substeps, method)
    else:
        code, steps = _method_code(model, method), 0
    sizes = model.sizes
    x0_arr = _vector(x0, "x0", sizes["x"], None)
    p_arr = _vector(p, "p", sizes["p"], None)
    u_arr, d_arr, n = _inputs(model, u, d, n_steps, None)
    kernels = compile_model(model).module
    xs = np.empty((n + 1, sizes["x"]))
    ys = np.empty((n, sizes["y"]))
    if steps:
        status = kernels.run_discrete(x0_arr, u_arr, d_arr, p_arr, steps, xs, ys)
    elif code < 0:
        status = kernels.run_rk4(x0_arr, u_arr, d_arr, p_arr, dt_s, int(substeps), xs, ys)
    else:
        status = kernels.run_implicit(
            x0_arr,
            u_arr,
            d_arr,
            p_arr,
            dt_s,
            int(substeps),
            code,
            _state_scale(model),
            newton_tol,
            newton_max_iter,
            xs,
            ys,
        )
    _raise_status(model, int(status), dt_s, t0_s, "")
    return SimulationResult(model, t0_s + dt_s * np.arange(n + 1), xs, ys)


def simulate_batch(
    model: EquationModel,
    x0: ArrayLike,
    u: ArrayLike | None,
    d: ArrayLike | None,
    p: ArrayLike,
    dt_s: float,
    *,
    n_scenarios: int | None = None,
    n_steps: int | None = None,
    substeps: int = 1,
    method: str = "auto",
    t0_s: float = 0.0,
    newton_tol: float = 1e-10,
    newton_max_iter: int = 8,
) -> BatchResult:
    """Simulate many scenarios in parallel (``numba.prange`` over scenarios).

    Arguments are those of :func:`simulate` with a leading scenario axis;
    any of ``x0 (S, nx)``, ``u (S, N, nu)``, ``d (S, N, nd)``, ``p (S, np)``
    may omit it to share one value across scenarios.  The scenario count is
    ``n_scenarios`` or the leading axis of the first batched argument.

    Returns
    -------
    BatchResult

    Raises
    ------
    SimulationError
        As :func:`simulate`; the message names the first failed scenario.
    """
    _check_step(dt_s, substeps)
    if model.dt_s is not None:
        code, steps = 0, _discrete_steps(model, dt_s, substeps, method)
    else:
        code, steps = _method_code(model, method), 0
    sizes = model.sizes
    if n_scenarios is None:
        candidates = [
            (x0, 2),
            (p, 2),
            (u, 3),
            (d, 3),
        ]
        for arr, ndim in candidates:
            if arr is not None and np.ndim(arr) == ndim:
                n_scenarios = int(np.shape(arr)[0])
                break
        else:
            raise SimulationError("no batched argument: give n_scenarios")
    if n_scenarios < 1:
        raise SimulationError(f"n_scenarios must be positive, got {n_scenarios}")
    x0_arr = _vector(x0, "x0", sizes["x"], n_scenarios)
    p_arr = _vector(p, "p", sizes["p"], n_scenarios)
    u_arr, d_arr, n = _inputs(model, u, d, n_steps, n_scenarios)
    kernels = compile_model(model).module
    xs = np.empty((n_scenarios, n + 1, sizes["x"]))
    ys = np.empty((n_scenarios, n, sizes["y"]))
    status = np.zeros(n_scenarios, dtype=np.int64)
    args: tuple[Any, ...]
    if steps:
        kernels.run_batch_discrete(x0_arr, u_arr, d_arr, p_arr, steps, xs, ys, status)
    elif code < 0:
        args = (x0_arr, u_arr, d_arr, p_arr, dt_s, int(substeps))
        kernels.run_batch_rk4(*args, xs, ys, status)
    else:
        args = (
            x0_arr,
            u_arr,
            d_arr,
            p_arr,
            dt_s,
            int(substeps),
            code,
            _state_scale(model),
            newton_tol,
            newton_max_iter,
        )
        kernels.run_batch_implicit(*args, xs, ys, status)
    failed = np.flatnonzero(status)
    if failed.size:
        s = int(failed[0])
        _raise_status(model, int(status[s]), dt_s, t0_s, f"scenario {s}: ")
    return BatchResult(model, t0_s + dt_s * np.arange(n + 1), xs, ys)
