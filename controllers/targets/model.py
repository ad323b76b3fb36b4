"""The steady-state model of the target layer and its gains.

A continuous-time model is at steady state where ``f(x, u, d, p) = 0``; a
discrete-time one where ``f(x, u, d, p) = x``.  Writing ``r(x, u, d)`` for
that residual and ``c(x, u, d)`` for the controlled variables (states or
outputs of ``g``), the implicit-function theorem gives the steady-state gains
at a steady point::

    dx/du = -r_x^{-1} r_u            dc/du = c_x dx/du + c_u
    dx/dd = -r_x^{-1} r_d            dc/dd = c_x dx/dd + c_d

(for ``c = g`` this is ``G = -g_x f_x^{-1} f_u + g_u``).  The Jacobians come
from casadi's automatic differentiation of the model's own equations.  An
integrating plant (singular ``r_x``, e.g. a storage level) has no steady-state
gain and is reported as such.

The estimator's disturbance states (offset-free estimation,
:class:`~controllers.estimation.specs.DisturbanceState`) enter as in the
NMPC: added to their input, measured disturbance or CV.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import casadi as ca
import numpy as np
import numpy.typing as npt

from controllers.errors import TargetError
from controllers.estimation.specs import DisturbanceState
from plant_models.core.equations import EquationModel, to_casadi

__all__ = ["SteadyStateGains", "SteadyStateModel", "steady_state_gains"]

#: ``r_x`` is treated as singular above this condition number: its inverse
#: would amplify round-off (1e-16) beyond the 1e-4 relative accuracy a
#: target needs.
_MAX_CONDITION = 1e12


@dataclass(frozen=True)
class SteadyStateGains:
    """The steady-state model linearised at a steady point.

    Attributes
    ----------
    x_base : numpy.ndarray
        Steady state at the base point, shape ``(nx,)``. [SI]
    u_base : numpy.ndarray
        MVs at the base point, shape ``(n_mv,)``. [SI]
    d_base : numpy.ndarray
        Measured disturbances at the base point, shape ``(nd,)``. [SI]
    cv_base : numpy.ndarray
        CVs at the base point, shape ``(n_cv,)``. [SI]
    mv_gain : numpy.ndarray
        ``dc/du``, shape ``(n_cv, n_mv)``. [CV unit per MV unit]
    state_gain : numpy.ndarray
        ``dx/du``, shape ``(nx, n_mv)``. [state unit per MV unit]
    disturbance_gain : numpy.ndarray
        ``dc/dd``, shape ``(n_cv, nd)``. [CV unit per disturbance unit]
    state_disturbance_gain : numpy.ndarray
        ``dx/dd``, shape ``(nx, nd)``. [state unit per disturbance unit]
    """

    x_base: np.ndarray
    u_base: np.ndarray
    d_base: np.ndarray
    cv_base: np.ndarray
    mv_gain: np.ndarray
    state_gain: np.ndarray
    disturbance_gain: np.ndarray
    state_disturbance_gain: np.ndarray

    def predict(
        self, u: npt.ArrayLike, d: npt.ArrayLike | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the linear steady-state prediction ``(x, cv)`` at ``(u, d)``.

        Parameters
        ----------
        u : array_like, shape (n_mv,)
            MVs. [SI]
        d : array_like, shape (nd,), optional
            Measured disturbances (the base point's if omitted). [SI]
        """
        du = np.asarray(u, dtype=np.float64) - self.u_base
        dd = np.zeros_like(self.d_base) if d is None else np.asarray(d, float) - self.d_base
        x = self.x_base + self.state_gain @ du + self.state_disturbance_gain @ dd
        cv = self.cv_base + self.mv_gain @ du + self.disturbance_gain @ dd
        return x, cv


class SteadyStateModel:
    """Casadi functions of a model's steady state for chosen MVs and CVs.

    Parameters
    ----------
    model : EquationModel
        The plant model.
    parameters : array_like, shape (np,)
        Model parameter vector. [SI]
    mv_names : sequence of str
        Model inputs that are decision variables, in order.
    cvs : sequence of (str, str)
        ``(name, kind)`` of each CV, ``kind`` ``"x"`` or ``"y"``.
    fixed_inputs : mapping of str to float
        Values of the other inputs (missing ones are 0). [SI]
    disturbance_states : sequence of DisturbanceState
        The estimator's disturbance states, in the order of ``w``.

    Raises
    ------
    TargetError
        For an unknown name or a wrong parameter length.
    """

    def __init__(
        self,
        model: EquationModel,
        parameters: npt.ArrayLike,
        mv_names: Sequence[str],
        cvs: Sequence[tuple[str, str]],
        fixed_inputs: Mapping[str, float],
        disturbance_states: Sequence[DisturbanceState] = (),
    ) -> None:
        p = np.asarray(parameters, dtype=np.float64).reshape(-1)
        if p.shape != (model.sizes["p"],) or not np.all(np.isfinite(p)):
            raise TargetError(f"parameters must be a finite vector of length {model.sizes['p']}")
        self.model = model
        self.nx, self.nd = model.sizes["x"], model.sizes["d"]
        self.n_mv, self.n_cv = len(mv_names), len(cvs)
        self.nw = len(disturbance_states)
        mv_index = [self._lookup("u", name, f"MV {name}") for name in mv_names]
        cv_index = [self._lookup(kind, name, f"CV {name}") for name, kind in cvs]
        u_fixed = np.zeros(model.sizes["u"])
        for name, value in fixed_inputs.items():
            u_fixed[self._lookup("u", name, "fixed input")] = value
        self.u_fixed = u_fixed

        x = ca.SX.sym("x", self.nx)
        u = ca.SX.sym("u", self.n_mv)
        d = ca.SX.sym("d", self.nd)
        w = ca.SX.sym("w", self.nw)
        u_in = [ca.SX(float(v)) for v in u_fixed]
        for k, i in enumerate(mv_index):
            u_in[i] = u[k]
        d_in = [d[i] for i in range(self.nd)]
        cv_bias = [ca.SX(0.0) for _ in cvs]
        cv_names = [name for name, _ in cvs]
        for j, s in enumerate(disturbance_states):
            if s.kind == "input":
                i = self._lookup("u", s.target, f"disturbance state {s.name}")
                u_in[i] = u_in[i] + w[j]
            elif s.kind == "disturbance":
                i = self._lookup("d", s.target, f"disturbance state {s.name}")
                d_in[i] = d_in[i] + w[j]
            else:
                if s.target not in cv_names:
                    raise TargetError(
                        f"disturbance state {s.name}: output target {s.target!r} is not a CV; "
                        f"known: {', '.join(cv_names) or '(none)'}"
                    )
                k = cv_names.index(s.target)
                cv_bias[k] = cv_bias[k] + w[j]
        u_full = ca.vertcat(*u_in) if u_in else ca.SX(0, 1)
        d_full = ca.vertcat(*d_in) if d_in else ca.SX(0, 1)
        cas = to_casadi(model, "SX")
        pd = ca.DM(p)
        dx = cas.f(x, u_full, d_full, pd)
        residual = dx - x if model.is_discrete else dx
        y = cas.g(x, u_full, d_full, pd)
        cv_expr = [
            (x[i] if kind == "x" else y[i]) + cv_bias[k]
            for k, ((_, kind), i) in enumerate(zip(cvs, cv_index, strict=True))
        ]
        cv = ca.vertcat(*cv_expr) if cv_expr else ca.SX(0, 1)
        self.x_scale = _state_scale(model)
        args = [x, u, d, w]
        names = ["x", "u", "d", "w"]
        #: ``residual(x, u, d, w)``: ``f`` (or ``f - x`` for a discrete model). [SI/s]
        self.residual = ca.Function("ss_residual", args, [residual], names, ["r"])
        #: ``cv(x, u, d, w)``: the CVs. [SI]
        self.cv = ca.Function("ss_cv", args, [cv], names, ["cv"])
        self.jacobians = ca.Function(
            "ss_jac",
            args,
            [ca.jacobian(residual, v) for v in (x, u, d)] + [ca.jacobian(cv, v) for v in (x, u, d)],
            names,
            ["r_x", "r_u", "r_d", "c_x", "c_u", "c_d"],
        )
        scaled = residual / ca.DM(self.x_scale)
        root_fn = ca.Function("ss_root", [x, ca.vertcat(u, d, w)], [scaled])
        #: Whether ``df/dx`` is structurally singular (an integrating plant).
        self.structurally_singular = ca.sprank(ca.jacobian(scaled, x).sparsity()) < self.nx
        self._root: Any = None
        if not self.structurally_singular:
            self._root = ca.rootfinder(
                "ss_newton",
                "newton",
                root_fn,
                {"error_on_fail": False, "abstol": 1e-12, "abstolStep": 1e-14, "max_iter": 100},
            )

    def _lookup(self, kind: str, name: str, what: str) -> int:
        names = [v.name for v in self.model.variables(kind)]
        if name not in names:
            raise TargetError(
                f"{what}: model {self.model.name} has no {kind} variable {name!r}; "
                f"known: {', '.join(names) or '(none)'}"
            )
        return names.index(name)

    def steady_state(
        self, x_guess: np.ndarray, u: np.ndarray, d: np.ndarray, w: np.ndarray
    ) -> tuple[np.ndarray, bool, str]:
        """Solve ``r(x, u, d, w) = 0`` for ``x`` by Newton from ``x_guess``.

        Returns
        -------
        x : numpy.ndarray
            The steady state (meaningful only when converged). [SI]
        converged : bool
            Whether the solver reports success and the scaled residual is below 1e-8 1/s.
        message : str
            The solver's return status.
        """
        if self.nx == 0:
            return np.zeros(0), True, "static model"
        if self._root is None:
            return (
                np.array(x_guess, dtype=np.float64),
                False,
                ("df/dx is structurally singular: the plant integrates"),
            )
        x = np.asarray(self._root(x_guess, np.concatenate([u, d, w])), dtype=np.float64).ravel()
        stats = self._root.stats()
        message = str(stats.get("return_status", ""))
        scaled = np.asarray(self.residual(x, u, d, w), dtype=np.float64).ravel() / self.x_scale
        # 1e-8 of the state scale per second: far below what any target needs,
        # far above the Newton iteration's own 1e-12.
        ok = bool(stats.get("success", False)) and bool(np.all(np.isfinite(x)))
        ok = ok and float(np.max(np.abs(scaled))) < 1e-8
        return x, ok, message

    def gains(self, x: np.ndarray, u: np.ndarray, d: np.ndarray, w: np.ndarray) -> SteadyStateGains:
        """Return the steady-state gains at the steady point ``x`` (see the module docstring).

        Raises
        ------
        TargetError
            If ``r_x`` is singular (an integrating plant has no steady-state gain).
        """
        jac = self.jacobians(x=x, u=u, d=d, w=w)
        r_x, r_u, r_d, c_x, c_u, c_d = (
            np.asarray(jac[k], dtype=np.float64).reshape(shape)
            for k, shape in (
                ("r_x", (self.nx, self.nx)),
                ("r_u", (self.nx, self.n_mv)),
                ("r_d", (self.nx, self.nd)),
                ("c_x", (self.n_cv, self.nx)),
                ("c_u", (self.n_cv, self.n_mv)),
                ("c_d", (self.n_cv, self.nd)),
            )
        )
        if self.nx:
            # Condition number of the state-scaled Jacobian (units removed).
            cond = float(np.linalg.cond(r_x * self.x_scale[np.newaxis, :]))
            if not np.isfinite(cond) or cond > _MAX_CONDITION:
                raise TargetError(
                    f"steady-state Jacobian df/dx is singular (condition {cond:.3g}): "
                    "the plant integrates and has no steady-state gain"
                )
            x_u = -np.linalg.solve(r_x, r_u)
            x_d = -np.linalg.solve(r_x, r_d)
        else:
            x_u = np.zeros((0, self.n_mv))
            x_d = np.zeros((0, self.nd))
        cv = np.asarray(self.cv(x, u, d, w), dtype=np.float64).ravel()
        return SteadyStateGains(
            x_base=np.array(x, dtype=np.float64),
            u_base=np.array(u, dtype=np.float64),
            d_base=np.array(d, dtype=np.float64),
            cv_base=cv,
            mv_gain=c_x @ x_u + c_u,
            state_gain=x_u,
            disturbance_gain=c_x @ x_d + c_d,
            state_disturbance_gain=x_d,
        )


def _state_scale(model: EquationModel) -> np.ndarray:
    """Return the span of each state's envelope (1 where infinite or empty) [SI]."""
    low, high = model.bounds("x")
    span = high - low
    return np.where(np.isfinite(span) & (span > 0.0), span, 1.0)


def steady_state_gains(
    model: EquationModel,
    parameters: npt.ArrayLike,
    x: npt.ArrayLike,
    u: npt.ArrayLike,
    d: npt.ArrayLike | None = None,
) -> SteadyStateGains:
    """Return the steady-state gains of every output to every input at ``(x, u, d)``.

    Parameters
    ----------
    model : EquationModel
        The plant model.
    parameters : array_like, shape (np,)
        Model parameter vector. [SI]
    x : array_like, shape (nx,)
        A steady state at ``(u, d)`` (or a guess of it: it is refined by
        Newton's method first). [SI]
    u : array_like, shape (nu,)
        All model inputs. [SI]
    d : array_like, shape (nd,), optional
        Disturbances (zeros if omitted). [SI]

    Returns
    -------
    SteadyStateGains
        Gains of the outputs ``y`` (``mv_gain``, shape ``(ny, nu)``) and of
        the states to every input and disturbance.

    Raises
    ------
    TargetError
        For vectors of the wrong length, a steady state that cannot be found
        or an integrating plant.
    """
    sizes = model.sizes
    ss = SteadyStateModel(
        model,
        parameters,
        [v.name for v in model.inputs],
        [(v.name, "y") for v in model.outputs],
        {},
    )
    arrays: list[Any] = []
    for value, n, what in ((x, sizes["x"], "x"), (u, sizes["u"], "u"), (d, sizes["d"], "d")):
        arr = np.zeros(n) if value is None else np.asarray(value, dtype=np.float64).ravel()
        if arr.shape != (n,) or not np.all(np.isfinite(arr)):
            raise TargetError(f"{what} must be {n} finite values, got shape {arr.shape}")
        arrays.append(arr)
    x0, u0, d0 = arrays
    x_ss, ok, message = ss.steady_state(x0, u0, d0, np.zeros(0))
    if not ok:
        raise TargetError(f"no steady state found near x at the given inputs ({message})")
    return ss.gains(x_ss, u0, d0, np.zeros(0))
