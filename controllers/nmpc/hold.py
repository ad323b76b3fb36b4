"""The "hold the current MVs" roll-out of the NMPC, warm-started between solves.

Every solve compares its plan with holding the current MVs over the horizon
(the advisor's expected saving, and no needless moves when holding is as
good).  For RK4 and discrete models the roll-out is an explicit SX graph.
For collocation each interval's Radau IIA equations are solved by Newton's
method (casadi's ``fast_newton`` rootfinder: dense QR on the 46 x 46 Jacobian
of the chemical flowsheet, 1.3 against 2.1-2.3 ms CPU a roll-out for the
``newton`` plugin with csparse, 2026-11-21), and the Newton iterations of
interval ``k`` start from the previous roll-out's stage states of interval
``k + 1`` (shifted by one interval), translated by the difference of the
two intervals' start states.  Without a previous roll-out (or after
:meth:`HoldRollout.reset`) the guess is the interval's start state at every
stage, as a cold roll-out does.  Both stop when the scaled collocation
residual is below 1e-10, so a warm and a cold roll-out agree to that
tolerance (tested).  The collocation roll-out is evaluated into preallocated
arrays (:class:`~controllers.nmpc.buffered.BufferedFunction`) and the next
guess is shifted inside them: 0.69 against 0.89 ms CPU a call through
casadi's numpy conversions (chemical flowsheet, medians of 120 interleaved
calls, 2026-11-21, load 1.2); from the same guess the same numbers to the
last bit (tested).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import casadi as ca
import numpy as np

from controllers.nmpc.buffered import BufferedFunction

__all__ = ["HoldRollout", "build_hold"]

#: Newton stopping tolerance on the collocation residual divided by the
#: state scale (as :func:`controllers.economic.discretise.radau_collocation`). [-]
_NEWTON_ABSTOL = 1e-10
#: Most Newton iterations per interval.
_NEWTON_MAX_ITER = 50


class HoldRollout:
    """``p -> (cost, Y)``: objective and CVs of holding the current MVs.

    Built by :func:`build_hold`.  One instance keeps the previous roll-out's
    stage states as the next call's Newton guess: not for concurrent use.

    Parameters
    ----------
    function : casadi.Function
        ``(p, C_guess, X_guess) -> (cost, Y, C, X)`` for collocation, or
        ``p -> (cost, Y)`` otherwise.
    x0_slice : slice
        Position of the initial state in the parameter vector.
    n_intervals : int
        Intervals of the horizon ``N``.
    degree : int
        Collocation stages per interval (0: no Newton, no warm start).
    """

    def __init__(self, function: Any, x0_slice: slice, n_intervals: int, degree: int) -> None:
        self.function = function
        self._x0_slice = x0_slice
        self._n = n_intervals
        self._degree = degree
        #: The Newton guess of the next call: views of the buffered function's
        #: inputs, shape ``(nx * degree, N)`` and ``(nx, N)`` (``None``: cold).
        self._guess: tuple[np.ndarray, np.ndarray] | None = None
        self._buffered: BufferedFunction | None = None
        if degree:
            self._buffered = BufferedFunction(function)
            # Column-major nonzeros: one column (interval) after the other.
            self._c_in = self._buffered.inputs["C_guess"].reshape(n_intervals, -1).T
            self._x_in = self._buffered.inputs["X_guess"].reshape(n_intervals, -1).T

    def reset(self) -> None:
        """Forget the previous roll-out (the next call starts cold)."""
        self._guess = None

    def _cold_guess(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x0 = np.asarray(p, dtype=np.float64)[self._x0_slice]
        stages = np.tile(np.tile(x0, self._degree)[:, None], (1, self._n))
        return stages, np.tile(x0[:, None], (1, self._n))

    def __call__(self, p: np.ndarray) -> tuple[float, np.ndarray]:
        """Roll out from the previous roll-out's stage states and keep this one's.

        Parameters
        ----------
        p : numpy.ndarray
            NLP parameter vector (initial state, current MVs, tuning).

        Returns
        -------
        cost : float
            Objective of holding the current MVs.
        cvs : numpy.ndarray, shape (n_cv, N + 1)
            CVs of samples ``0..N``. [SI]

        Raises
        ------
        RuntimeError
            When a collocation Newton solve does not converge (casadi's error).
        """
        if self._buffered is None:
            cost, cvs = self.function(p)
            return float(cost), np.asarray(cvs, dtype=np.float64)
        if self._guess is None:
            self._c_in[:], self._x_in[:] = self._cold_guess(p)
        try:
            out = self._buffered(p=p)
        except RuntimeError:
            self._guess = None
            raise
        n = self._n
        c_out = out["C"].reshape(n, -1).T
        x_out = out["X"].reshape(n, -1).T
        # Shift by one interval, repeating the last one, into the inputs.
        self._c_in[:, :-1] = c_out[:, 1:]
        self._c_in[:, -1] = c_out[:, -1]
        self._x_in[:, :-1] = x_out[:, 1:]
        self._x_in[:, -1] = x_out[:, -1]
        self._guess = (self._c_in, self._x_in)
        # Y is (n_cv, N + 1): copied out of the buffer the next call overwrites.
        return float(out["cost"][0]), out["Y"].reshape(n + 1, -1).T.copy()

    def fresh(self, p: np.ndarray) -> tuple[float, np.ndarray]:
        """Roll out from the cold guess, leaving the warm start untouched.

        Parameters
        ----------
        p : numpy.ndarray
            NLP parameter vector.

        Returns
        -------
        cost : float
            Objective of holding the current MVs.
        cvs : numpy.ndarray, shape (n_cv, N + 1)
            CVs of samples ``0..N``. [SI]
        """
        if not self._degree:
            return self(p)
        cost, cvs, _, _ = self.function(p, *self._cold_guess(p))
        return float(cost), np.asarray(cvs, dtype=np.float64)


def build_hold(
    imap: Any,
    model_p: np.ndarray,
    x_scale: np.ndarray,
    horizon: int,
    P: Any,
    param_slices: dict[str, slice],
    held: Any,
    hold_of: Any,
) -> HoldRollout:
    """Build the hold roll-out (see the module docstring).

    Parameters
    ----------
    imap : IntervalMap
        The one-interval prediction (:func:`controllers.nmpc.discretisation.interval_map`).
    model_p : numpy.ndarray
        Model parameter vector (fixed in the NLP). [SI]
    x_scale : numpy.ndarray, shape (nx,)
        State scales of the collocation residual. [SI]
    horizon : int
        Intervals ``N``.
    P : casadi.SX or casadi.MX
        The NLP's parameter symbol.
    param_slices : dict of str to slice
        Parts of the parameter vector (``x0`` is used).
    held : casadi.Function
        ``p -> (u, d)``: the model inputs and disturbances held. [SI]
    hold_of : casadi.Function
        ``(p, X) -> (cost, Y)``: objective and CVs of a state trajectory
        ``X`` of shape ``(nx, N + 1)``.

    Returns
    -------
    HoldRollout
    """
    col = imap.collocation
    x0_slice = param_slices["x0"]
    if col is None:
        sym = type(P)
        P_h = sym.sym("P", P.numel())
        u_h, d_h = held(P_h)
        x_h = P_h[x0_slice]
        rollout = [x_h]
        for _ in range(horizon):
            x_h = imap.step(x_h, u_h, d_h)
            rollout.append(x_h)
        outputs = hold_of(P_h, ca.horzcat(*rollout))
        function = ca.Function("nmpc_hold", [P_h], list(outputs), ["p"], ["cost", "Y"])
        return HoldRollout(function, x0_slice, horizon, 0)
    degree = imap.degree
    nx = int(np.asarray(x_scale).size)
    newton = _collocation_newton(col.residual, model_p, x_scale, degree, held)
    P_h = ca.MX.sym("P", P.numel())
    c_guess = ca.MX.sym("C_guess", nx * degree, horizon)
    x_guess = ca.MX.sym("X_guess", nx, horizon)
    u_h, d_h = held(P_h)
    x_h = P_h[x0_slice]
    states, stages, starts = [x_h], [], []
    for k in range(horizon):
        guess = c_guess[:, k] + ca.repmat(x_h - x_guess[:, k], degree, 1)
        c_k = newton(guess, ca.vertcat(x_h, u_h, d_h))
        stages.append(c_k)
        starts.append(x_h)
        # Radau IIA: the last stage is the end of the interval.
        x_h = c_k[(degree - 1) * nx :]
        states.append(x_h)
    cost, cvs = hold_of(P_h, ca.horzcat(*states))
    # Dense outputs: HoldRollout reads them as buffers of every entry.
    outputs = [cost, cvs, ca.horzcat(*stages), ca.horzcat(*starts)]
    function = ca.Function(
        "nmpc_hold",
        [P_h, c_guess, x_guess],
        [ca.densify(out) for out in outputs],
        ["p", "C_guess", "X_guess"],
        ["cost", "Y", "C", "X"],
    )
    return HoldRollout(function, x0_slice, horizon, degree)


def _collocation_newton(
    residual: Callable[..., Any],
    model_p: np.ndarray,
    x_scale: np.ndarray,
    degree: int,
    held: Any,
) -> Any:
    """``(stages_guess, [x0; u; d]) -> stages``: one interval's Radau IIA equations solved."""
    n_u = int(held.size1_out(0))
    n_d = int(held.size1_out(1))
    nx = int(np.asarray(x_scale).size)
    x0 = ca.SX.sym("x0", nx)
    u = ca.SX.sym("u", n_u)
    d = ca.SX.sym("d", n_d)
    stages = ca.SX.sym("stages", nx * degree)
    inv = ca.DM(np.tile(1.0 / np.asarray(x_scale, dtype=np.float64), degree))
    res = residual(x0, ca.reshape(stages, nx, degree), u, d, ca.DM(model_p)) * inv
    g = ca.Function("nmpc_hold_collocation", [stages, ca.vertcat(x0, u, d)], [res])
    options = {"abstol": _NEWTON_ABSTOL, "max_iter": _NEWTON_MAX_ITER}
    return ca.rootfinder("nmpc_hold_newton", "fast_newton", g, options)
