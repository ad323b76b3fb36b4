"""The steady-state target layer: economic MV/CV targets for the dynamic controller."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from controllers.advisor.contract import SolveStatus
from controllers.errors import TargetError
from controllers.estimation.specs import DisturbanceState
from controllers.targets.linear import LinearTargetProblem
from controllers.targets.model import SteadyStateGains, SteadyStateModel
from controllers.targets.result import TargetResult
from controllers.targets.rto import RtoProblem
from controllers.targets.settings import TargetSettings
from controllers.targets.staging import soft_limits, solve_lexicographic
from plant_models.core.equations import EquationModel

__all__ = ["SteadyStateTargets"]


class SteadyStateTargets:
    """Steady-state economic optimiser above the dynamic layer (see :mod:`controllers.targets`).

    Parameters
    ----------
    model : EquationModel
        The plant model (the same the dynamic layer predicts with).
    parameters : array_like, shape (np,)
        Model parameter vector. [SI]
    settings : TargetSettings
        MVs, CVs, prices, priorities and method.
    disturbance_states : sequence of DisturbanceState
        The estimator's disturbance states, in the order of ``w``: added to
        their input, measured disturbance or CV as in the NMPC (offset-free
        targets).

    Raises
    ------
    TargetError
        For unknown names or a wrong parameter length.
    """

    def __init__(
        self,
        model: EquationModel,
        parameters: npt.ArrayLike,
        settings: TargetSettings,
        disturbance_states: Sequence[DisturbanceState] = (),
    ) -> None:
        self.model = model
        self.settings = settings
        self.disturbance_states = tuple(disturbance_states)
        self._steady = SteadyStateModel(
            model,
            parameters,
            settings.mv_names,
            [(c.name, c.kind) for c in settings.cvs],
            settings.fixed_inputs,
            self.disturbance_states,
        )
        self._limits = soft_limits(settings)
        self._linear: LinearTargetProblem | None = None
        self._rto: RtoProblem | None = None
        if settings.method == "rto":
            self._rto = RtoProblem(settings, self._limits, self._steady)
        else:
            self._linear = LinearTargetProblem(
                settings, self._limits, quadratic=settings.method == "qp"
            )
        self._low = np.array([m.low for m in settings.mvs])
        self._high = np.array([m.high for m in settings.mvs])
        self._move = np.array([m.max_move for m in settings.mvs])
        self._scale = np.array([m.scale for m in settings.mvs])
        self._previous: np.ndarray | None = None

    @property
    def mv_names(self) -> tuple[str, ...]:
        """Names of the MVs, in target order."""
        return self.settings.mv_names

    @property
    def cv_names(self) -> tuple[str, ...]:
        """Names of the CVs, in target order."""
        return self.settings.cv_names

    @property
    def previous_targets(self) -> np.ndarray | None:
        """MV targets of the last usable computation (``None`` before the first) [SI]."""
        return None if self._previous is None else self._previous.copy()

    def reset(self, mv_targets: npt.ArrayLike | None = None) -> None:
        """Forget the previous targets, or set them (the next move starts there).

        Raises
        ------
        TargetError
            If ``mv_targets`` is not ``n_mv`` finite values.
        """
        if mv_targets is None:
            self._previous = None
            return
        self._previous = self._vector(mv_targets, len(self.mv_names), "mv_targets")

    @staticmethod
    def _vector(value: npt.ArrayLike | None, n: int, what: str) -> np.ndarray:
        arr = np.zeros(n) if value is None and n == 0 else np.asarray(value, dtype=np.float64)
        arr = arr.ravel()
        if arr.shape != (n,) or not np.all(np.isfinite(arr)):
            raise TargetError(f"{what} must be {n} finite values, got shape {arr.shape}")
        return arr

    def compute(
        self,
        x_hat: npt.ArrayLike,
        u_current: npt.ArrayLike,
        d: npt.ArrayLike | None = None,
        w: npt.ArrayLike | None = None,
        *,
        mv_lower: npt.ArrayLike | None = None,
        mv_upper: npt.ArrayLike | None = None,
    ) -> TargetResult:
        """Compute the targets from the current estimate (never raises for a failed solve).

        Parameters
        ----------
        x_hat : array_like, shape (nx,)
            State estimate (the start of the search for the steady state). [SI]
        u_current : array_like, shape (n_mv,)
            MVs applied now: the reference of the first target move. [SI]
        d : array_like, shape (nd,)
            Measured disturbances (may be omitted when the model has none). [SI]
        w : array_like, shape (nw,), optional
            Disturbance-state estimate (zeros if omitted). [unit of each target]
        mv_lower, mv_upper : array_like, shape (n_mv,), optional
            Limits of this computation; the tighter of these and the
            settings' apply. [SI]

        Notes
        -----
        The ``"lp"``/``"qp"`` linearise the steady-state model at the
        previous targets (the centre of the move box): the steady state they
        lead to under the current disturbances, found by Newton's method from
        ``x_hat``.  The move limit is thus the trust region of the
        linearisation, and repeated computations form a sequential LP/QP that
        settles on the nonlinear optimum (at a vertex for the LP; inside the
        limits too for the QP with enough move penalty).

        Returns
        -------
        TargetResult
            Targets within the MV limits and within ``max_move`` of the
            previous targets (the current MVs the first time; a previous
            target outside the limits is first clipped into them).  When no
            usable solution is found the targets are those previous ones and
            the CV targets and steady state are NaN.

        Raises
        ------
        TargetError
            For arrays of the wrong length or non-finite values.
        """
        start = time.perf_counter()
        ss = self._steady
        n_mv = ss.n_mv
        x0 = self._vector(x_hat, ss.nx, "x_hat")
        u_now = self._vector(u_current, n_mv, "u_current")
        d_vec = self._vector(d, ss.nd, "d")
        w_vec = np.zeros(ss.nw) if w is None else self._vector(w, ss.nw, "w")
        low = self._low.copy()
        high = self._high.copy()
        if mv_lower is not None:
            low = np.maximum(low, np.asarray(mv_lower, dtype=np.float64).ravel())
        if mv_upper is not None:
            high = np.minimum(high, np.asarray(mv_upper, dtype=np.float64).ravel())
        if low.shape != (n_mv,) or high.shape != (n_mv,):
            raise TargetError(f"mv_lower and mv_upper must have length {n_mv}")
        reference = u_now if self._previous is None else self._previous
        if np.any(np.isnan(low) | np.isnan(high) | (low > high)):
            bad = [n for n, lo, hi in zip(self.mv_names, low, high, strict=True) if not lo <= hi]
            return self._failed(
                reference, f"MV limits cross: {', '.join(bad)}", start, SolveStatus.INFEASIBLE
            )
        reference = np.clip(reference, low, high)
        box_low = np.maximum(low, reference - self._move)
        box_high = np.minimum(high, reference + self._move)
        gains: SteadyStateGains | None = None
        if self._linear is not None:
            # Linearise at the centre of the move box: the steady state the
            # previous targets lead to (the current MVs the first time), found
            # from the current estimate with today's disturbances.
            x_ss, ok, message = ss.steady_state(x0, reference, d_vec, w_vec)
            if not ok:
                return self._failed(
                    reference, f"no steady state at the previous targets ({message})", start
                )
            try:
                gains = ss.gains(x_ss, reference, d_vec, w_vec)
            except TargetError as exc:
                return self._failed(reference, str(exc), start)
            stage = self._linear.stage_solver(gains, box_low, box_high, reference)
        else:
            if self._rto is None:  # pragma: no cover - one of the two is always built
                raise TargetError("no target problem built")
            x_init, ok, _ = ss.steady_state(x0, reference, d_vec, w_vec)
            if not ok:
                env_low, env_high = self.model.bounds("x")
                x_init = np.clip(x0, env_low, env_high)
            stage = self._rto.stage_solver(
                d_vec, w_vec, box_low, box_high, reference, reference, x_init
            )
        lim = self._limits
        outcome, n_solves = solve_lexicographic(
            stage, lim.rank, lim.n_ranks, self.settings.slack_tol
        )
        if not outcome.status.usable:
            return self._failed(reference, outcome.message, start, outcome.status, n_solves, gains)
        if self._linear is not None and gains is not None:
            u, cv = self._linear.split(outcome.z)
            u = np.clip(u, box_low, box_high)
            x_steady, cv = gains.predict(u)
        elif self._rto is not None:
            u, x_steady = self._rto.split(outcome.z)
            u = np.clip(u, box_low, box_high)
            cv = np.asarray(ss.cv(x_steady, u, d_vec, w_vec), dtype=np.float64).ravel()
        self._previous = u.copy()
        active, relaxed, violations = self._active(u, cv, low, high, reference, outcome.slacks)
        s = self.settings
        objective = float(
            np.dot([m.price for m in s.mvs], u) + np.dot([c.price for c in s.cvs], cv)
        )
        return TargetResult(
            status=outcome.status,
            method=s.method,
            mv_names=self.mv_names,
            cv_names=self.cv_names,
            mv_targets=u,
            cv_targets=cv,
            x_steady=np.asarray(x_steady, dtype=np.float64),
            objective=objective,
            active_constraints=active,
            relaxed_constraints=relaxed,
            violations=violations,
            solve_time_s=time.perf_counter() - start,
            message=outcome.message,
            n_solves=n_solves,
            gains=gains,
        )

    def _failed(
        self,
        reference: np.ndarray,
        message: str,
        start: float,
        status: SolveStatus = SolveStatus.FAILED,
        n_solves: int = 0,
        gains: SteadyStateGains | None = None,
    ) -> TargetResult:
        return TargetResult(
            status=status,
            method=self.settings.method,
            mv_names=self.mv_names,
            cv_names=self.cv_names,
            mv_targets=np.array(reference, dtype=np.float64),
            cv_targets=np.full(len(self.cv_names), np.nan),
            x_steady=np.full(self._steady.nx, np.nan),
            solve_time_s=time.perf_counter() - start,
            message=message,
            n_solves=n_solves,
            gains=gains,
        )

    def _active(
        self,
        u: np.ndarray,
        cv: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
        reference: np.ndarray,
        slacks: np.ndarray,
    ) -> tuple[tuple[str, ...], tuple[str, ...], dict[str, float]]:
        """Active limit names, given-up soft limits (rank order) and their violations."""
        s = self.settings
        tol = s.active_tol
        active: list[str] = []
        for i, m in enumerate(s.mvs):
            band = tol * m.scale
            if u[i] <= low[i] + band:
                active.append(f"{m.name}.lower")
            if u[i] >= high[i] - band:
                active.append(f"{m.name}.upper")
            moved = abs(u[i] - reference[i])
            if math.isfinite(m.max_move) and moved >= m.max_move - band:
                active.append(f"{m.name}.move")
        lim = self._limits
        relaxed: list[tuple[int, int, str]] = []
        violations: dict[str, float] = {}
        for k, name in enumerate(lim.names):
            j = int(lim.cv_index[k])
            bound = float(lim.bound[k])
            given_up = slacks[k] > s.slack_tol
            if given_up:
                relaxed.append((int(lim.rank[k]), k, name))
                excess = cv[j] - bound if lim.upper[k] else bound - cv[j]
                violations[name] = max(float(excess), 0.0)
            if given_up or abs(cv[j] - bound) <= tol * lim.scale[k]:
                active.append(name)
        return tuple(active), tuple(n for _, _, n in sorted(relaxed)), violations
