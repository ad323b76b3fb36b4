"""Controllers as closed-loop policies: baselines, MPCs and the advisor behind one step.

The harness asks a :class:`Policy` once per control interval for the full
plant input vector to hold over it.  Three adapters cover the controllers of
the project:

:class:`BaselinePolicy`
    a :class:`~controllers.baselines.Baseline` (``step(t_s, y_meas) -> u``),
    e.g. the steelworks rule-based dispatch;
:class:`ControllerPolicy`
    a :class:`~controllers.advisor.contract.Controller` (an MPC or the PID-only
    chemical baseline), or an :class:`~controllers.advisor.Advisor` driving
    one.  A :class:`MeasurementBuilder` (state estimator) turns the sensor
    vector into ``ControlRequest.measurements``; the first row of an accepted
    plan is projected onto the MV limits and rate limits
    (:func:`controllers.advisor.safe_setpoints`, as the DCS does) and written
    into the MV inputs, every other input keeps its value.

Controllers that need disturbance forecasts (the economic MPC) take their
forecast source at construction (perfect foresight from the true record, or
a forecaster fitted to the history).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from energyopt.errors import ModelError

if TYPE_CHECKING:
    from controllers.advisor import Advisor
    from controllers.advisor.contract import Controller
    from controllers.baselines import Baseline
    from energyopt.closedloop.dcs import DcsLayer
    from energyopt.closedloop.protection import HolderProtection
    from plant_models.core.equations import EquationModel

__all__ = [
    "STATUS_CODES",
    "BaselinePolicy",
    "ControllerPolicy",
    "DcsOverlay",
    "Decision",
    "EveryStepOverlay",
    "MeasurementBuilder",
    "Policy",
    "RawMeasurements",
]

#: Solve-status codes recorded per decision (int8): index into this tuple.
STATUS_CODES: tuple[str, ...] = (
    "none",
    "optimal",
    "suboptimal",
    "infeasible",
    "failed",
    "timeout",
    "fallback",
)


@dataclass(frozen=True)
class Decision:
    """One control decision.

    Attributes
    ----------
    u : numpy.ndarray, shape (nu,)
        Full plant input vector to hold over the interval. [SI]
    compute_time_s : float
        Wall-clock time of the decision (estimator, solve and checks). [s]
    status : str
        One of :data:`STATUS_CODES`.
    cv_targets : mapping of str to float, optional
        The controller's predicted controlled variables at the end of the
        interval (model variable name -> value), the setpoints of DCS loops
        that take the controller's (:mod:`energyopt.closedloop.dcs`). [SI]
    message : str
        For diagnosis: a controller's solution message (return status,
        iterations), an advisor's fallback reason or else its solve status;
        empty for a rule.
    """

    u: npt.NDArray[np.float64]
    compute_time_s: float
    status: str = "none"
    cv_targets: Mapping[str, float] | None = None
    message: str = ""


class Policy(Protocol):
    """What the harness drives: one decision per control interval."""

    @property
    def interval_s(self) -> float:
        """Control interval, a whole multiple of the plant's fine step. [s]."""
        ...

    def reset(self, u0: npt.NDArray[np.float64], x0: npt.NDArray[np.float64]) -> None:
        """Start a run: ``u0`` is the input vector in force, ``x0`` the initial state. [SI]."""
        ...

    def decide(
        self,
        t_s: float,
        y_meas: npt.NDArray[np.float64],
        d_now: npt.NDArray[np.float64],
        plant_mode: str | None,
    ) -> Decision:
        """Return the input vector for the interval starting at ``t_s``.

        ``y_meas`` is the measured output vector (true outputs with the
        inputs in force, plus sensor noise), ``d_now`` the true disturbance
        row of the interval (a measurement builder picks what is measured).
        """
        ...


class MeasurementBuilder(Protocol):
    """Turns sensor readings into ``ControlRequest.measurements`` (an estimator, typically)."""

    def reset(self, u0: npt.NDArray[np.float64], x0: npt.NDArray[np.float64]) -> None:
        """Start a run from input vector ``u0`` and plant state ``x0``. [SI]."""
        ...

    def build(
        self,
        t_s: float,
        y_meas: npt.NDArray[np.float64],
        u_applied: npt.NDArray[np.float64],
        d_now: npt.NDArray[np.float64],
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """Return ``(measurements, valid)`` at ``t_s``.

        ``u_applied`` is the input vector held over the interval that just
        ended (the one in force now).
        """
        ...


class RawMeasurements:
    """Measurement builder passing chosen output channels unchanged.

    Parameters
    ----------
    indices : sequence of int, optional
        Output vector entries to pass, in order; all if omitted.
    """

    def __init__(self, indices: Sequence[int] | None = None) -> None:
        self._indices = None if indices is None else np.asarray(indices, dtype=np.intp)

    def reset(self, u0: npt.NDArray[np.float64], x0: npt.NDArray[np.float64]) -> None:
        """Nothing to forget."""

    def build(
        self,
        t_s: float,
        y_meas: npt.NDArray[np.float64],
        u_applied: npt.NDArray[np.float64],
        d_now: npt.NDArray[np.float64],
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """Return the chosen channels and their finiteness."""
        values = y_meas if self._indices is None else y_meas[self._indices]
        return values.copy(), np.isfinite(values)


class BaselinePolicy:
    """A :class:`~controllers.baselines.Baseline` as a closed-loop policy.

    Parameters
    ----------
    baseline : Baseline
        The controller; acts every ``baseline.interval_s``.
    """

    def __init__(self, baseline: Baseline) -> None:
        self._baseline = baseline

    @property
    def interval_s(self) -> float:
        """The baseline's control interval. [s]."""
        return float(self._baseline.interval_s)

    def reset(self, u0: npt.NDArray[np.float64], x0: npt.NDArray[np.float64]) -> None:
        """Reset the baseline with the inputs in force."""
        self._baseline.reset(u0)

    def decide(
        self,
        t_s: float,
        y_meas: npt.NDArray[np.float64],
        d_now: npt.NDArray[np.float64],
        plant_mode: str | None,
    ) -> Decision:
        """Call ``baseline.step(t_s, y_meas)``."""
        start = time.perf_counter()
        u = np.array(self._baseline.step(t_s, y_meas), dtype=np.float64)
        return Decision(u, time.perf_counter() - start, "none")


class ControllerPolicy:
    """A controller (or an advisor driving one) as a closed-loop policy.

    Parameters
    ----------
    controller : Controller or Advisor
        The controller.  An :class:`~controllers.advisor.Advisor` is asked for
        a recommendation; a bare controller gets a
        :class:`~controllers.advisor.contract.ControlRequest` and its plan's
        first row is applied when its status is usable (else the MVs hold).
    model : EquationModel
        The plant model whose inputs the MVs are.
    mv_inputs : sequence of str
        Model input of each MV, in the controller's MV order.
    mv_lower, mv_upper, mv_rate : array_like, shape (n_mv,)
        MV limits and largest move per control interval (``inf`` for none). [SI]
    interval_s : float
        Control interval. [s]
    measurements : MeasurementBuilder, optional
        Builds the request's measurements; :class:`RawMeasurements` if omitted.
    time_budget_s : float
        Time budget written into each request. [s]
    history_rows : int
        Recent measurement rows passed to an advisor (frozen-sensor checks).

    Raises
    ------
    ModelError
        For an unknown MV input, limits of the wrong length or a non-positive interval.
    """

    def __init__(
        self,
        controller: Controller | Advisor,
        model: EquationModel,
        mv_inputs: Sequence[str],
        mv_lower: npt.ArrayLike,
        mv_upper: npt.ArrayLike,
        mv_rate: npt.ArrayLike,
        *,
        interval_s: float,
        measurements: MeasurementBuilder | None = None,
        time_budget_s: float = 10.0,
        history_rows: int = 0,
    ) -> None:
        names = [v.name for v in model.inputs]
        unknown = [n for n in mv_inputs if n not in names]
        if unknown:
            raise ModelError(f"closed loop: MV inputs {unknown} are not inputs of {model.name}")
        self._mv_index = np.array([names.index(n) for n in mv_inputs], dtype=np.intp)
        n_mv = self._mv_index.size
        arrays = []
        for value, what in ((mv_lower, "mv_lower"), (mv_upper, "mv_upper"), (mv_rate, "mv_rate")):
            arr = np.asarray(value, dtype=np.float64).reshape(-1)
            if arr.shape != (n_mv,):
                raise ModelError(f"closed loop: {what} must have {n_mv} entries, got {arr.shape}")
            arrays.append(arr)
        self._lower, self._upper, self._rate = arrays
        if not (math.isfinite(interval_s) and interval_s > 0.0):
            raise ModelError(f"closed loop: interval_s must be positive, got {interval_s}")
        self._interval_s = float(interval_s)
        self._controller = controller
        self._builder: MeasurementBuilder = measurements or RawMeasurements()
        self._budget = float(time_budget_s)
        self._history_rows = int(history_rows)
        self._history: npt.NDArray[np.float64] | None = None
        self._filled = 0
        self._plan: npt.NDArray[np.float64] | None = None
        self._u = np.zeros(len(names))

    @property
    def interval_s(self) -> float:
        """Control interval. [s]."""
        return self._interval_s

    def reset(self, u0: npt.NDArray[np.float64], x0: npt.NDArray[np.float64]) -> None:
        """Start from inputs ``u0``: reset the builder, the advisor and the plan."""
        from controllers.advisor import Advisor

        self._u = np.array(u0, dtype=np.float64)
        self._plan = None
        self._history = None
        self._builder.reset(self._u.copy(), np.asarray(x0, dtype=np.float64))
        if isinstance(self._controller, Advisor):
            self._controller.reset()
        reset: Callable[[], None] | None = getattr(self._controller, "reset", None)
        if reset is not None and not isinstance(self._controller, Advisor):
            reset()

    def _remember(self, meas: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Return the history rows before ``meas`` and append it (bounded, preallocated)."""
        n = self._history_rows
        if n <= 0:
            return np.zeros((0, meas.size))
        if self._history is None:
            self._history = np.full((n, meas.size), np.nan)
            self._filled = 0
        past = self._history[n - self._filled :].copy()
        self._history[:-1] = self._history[1:]
        self._history[-1] = meas
        self._filled = min(self._filled + 1, n)
        return past

    def decide(
        self,
        t_s: float,
        y_meas: npt.NDArray[np.float64],
        d_now: npt.NDArray[np.float64],
        plant_mode: str | None,
    ) -> Decision:
        """Build the measurements, ask the controller and apply its checked first move."""
        from controllers.advisor import Advisor, ControlRequest, safe_setpoints

        targets: dict[str, float] | None = None
        start = time.perf_counter()
        mv_now = self._u[self._mv_index]
        meas, valid = self._builder.build(t_s, y_meas, self._u.copy(), d_now)
        history = self._remember(meas)
        if isinstance(self._controller, Advisor):
            rec = self._controller.recommend(t_s, mv_now, meas, history, plant_mode)
            target = np.array(
                [mv.setpoint if mv.setpoint is not None else np.nan for mv in rec.mvs]
            )
            status = "fallback" if rec.fallback.name != "NONE" else _status(rec.solve_status)
            # The advisor reports why it fell back, else only the solve status.
            message = rec.fallback_reason or (rec.solve_status.value if rec.solve_status else "")
        else:
            request = ControlRequest(
                time_s=t_s,
                mv_current=mv_now.copy(),
                mv_lower=self._lower.copy(),
                mv_upper=self._upper.copy(),
                mv_rate=self._rate.copy(),
                measurements=meas,
                measurement_valid=valid,
                history=history,
                time_budget_s=self._budget,
                previous_plan=None if self._plan is None else self._plan.copy(),
                plant_mode=plant_mode,
            )
            sol = self._controller.solve(request)
            status = _status(sol.status)
            message = str(sol.message)
            plan = np.asarray(sol.mv_plan, dtype=np.float64)
            usable = (
                sol.status.usable
                and plan.ndim == 2
                and plan.shape[0] >= 1
                and plan.shape[1] == mv_now.size
                and bool(np.all(np.isfinite(plan[0])))
            )
            target = plan[0] if usable else np.full(mv_now.size, np.nan)
            self._plan = plan[1:].copy() if usable and plan.shape[0] > 1 else None
            targets = _cv_targets(sol) if usable else None
        setpoints, _ = safe_setpoints(mv_now, target, self._lower, self._upper, self._rate)
        self._u[self._mv_index] = setpoints
        return Decision(self._u.copy(), time.perf_counter() - start, status, targets, message)

    def observe_applied(self, u: npt.NDArray[np.float64]) -> None:
        """Take the inputs actually in force (a DCS layer trimmed the decided ones). [SI].

        The next decision reads the MVs' current values, and its rate limits
        apply, from these.
        """
        u = np.asarray(u, dtype=np.float64)
        if u.shape != self._u.shape:
            raise ModelError(f"closed loop: applied inputs must have shape {self._u.shape}")
        self._u = u.copy()


def _cv_targets(solution: object) -> dict[str, float] | None:
    """The plan's predicted controlled variables at the end of the first interval. [SI]."""
    names = tuple(getattr(solution, "cv_names", ()))
    predicted = np.asarray(getattr(solution, "cv_predicted", np.zeros((0, 0))), dtype=np.float64)
    if not names or predicted.ndim != 2 or predicted.shape[0] < 2:
        return None
    if predicted.shape[1] != len(names):
        return None
    return {n: float(v) for n, v in zip(names, predicted[1], strict=True) if math.isfinite(v)}


def _status(status: object) -> str:
    """Map a :class:`~controllers.advisor.SolveStatus` (or None) to a status code."""
    value = getattr(status, "value", None)
    return value if isinstance(value, str) and value in STATUS_CODES else "none"


class EveryStepOverlay:
    """Wrap a policy that decides on a coarse grid; some inputs are set every fine step.

    The inner policy decides every ``inner.interval_s`` (a whole multiple of
    ``step_s``) and its inputs are held in between; :meth:`overlay` then sets
    the inputs a faster layer owns (the compressors following the air
    demand, inputs taken from a record) on every fine step.

    Parameters
    ----------
    inner : Policy
        The controller on the coarse grid.
    step_s : float
        Fine step, the interval of this policy. [s]
    what : str
        Prefix of error messages (``"closed loop"``, ``"replay"``).
    dcs : DcsLayer, optional
        PI loops applied every step after :meth:`overlay`
        (:mod:`energyopt.closedloop.dcs`): the inputs so far are their base.
        An inner policy with ``observe_applied(u)`` (a controller) is told the
        trimmed inputs before each decision and takes the trims over.
    protection : HolderProtection, optional
        Protective overrides applied every step after the DCS loops
        (:mod:`energyopt.closedloop.protection`).  The controller is told the
        inputs before the overrides: they are a stateless clamp on its
        setpoints, released as the level recovers, not setpoints it takes
        over (taken over, a shed no controller writes back -- a gas user's
        curtailment -- stayed in force for the rest of the run).

    Raises
    ------
    ModelError
        If the inner interval is not a whole multiple of the step.
    """

    def __init__(
        self,
        inner: Policy,
        step_s: float,
        what: str,
        *,
        dcs: DcsLayer | None = None,
        protection: HolderProtection | None = None,
    ) -> None:
        ratio = inner.interval_s / step_s
        if round(ratio) < 1 or abs(ratio - round(ratio)) > 1e-9 * ratio:
            raise ModelError(
                f"{what}: control interval {inner.interval_s:g} s is not a whole multiple of "
                f"the {step_s:g} s plant step"
            )
        self._inner, self._every, self._step_s = inner, round(ratio), float(step_s)
        self._u: npt.NDArray[np.float64] = np.zeros(0)
        self._k = 0
        self._dcs = dcs
        self._protection = protection
        self._applied: npt.NDArray[np.float64] = np.zeros(0)

    @property
    def interval_s(self) -> float:
        """The fine step. [s]."""
        return self._step_s

    @property
    def dcs(self) -> DcsLayer | None:
        """The DCS layer applied every step, if any."""
        return self._dcs

    def reset(self, u0: npt.NDArray[np.float64], x0: npt.NDArray[np.float64]) -> None:
        """Reset the inner policy, the DCS layer and the step counter."""
        self._inner.reset(u0, x0)
        self._u = np.array(u0, dtype=np.float64)
        self._applied = self._u.copy()
        self._k = 0
        if self._dcs is not None:
            self._dcs.reset()
        if self._protection is not None:
            self._protection.reset()

    def overlay(self, u: npt.NDArray[np.float64], k: int) -> None:
        """Set the fast layer's inputs of fine step ``k`` in ``u`` (in place). [SI]."""
        raise NotImplementedError

    def decide(
        self,
        t_s: float,
        y_meas: npt.NDArray[np.float64],
        d_now: npt.NDArray[np.float64],
        plant_mode: str | None,
    ) -> Decision:
        """Ask the inner policy on its grid; apply :meth:`overlay` every step."""
        status, compute_s, message = "none", 0.0, ""
        targets: Mapping[str, float] | None = None
        if self._k % self._every == 0:
            observe: Callable[[npt.NDArray[np.float64]], None] | None = getattr(
                self._inner, "observe_applied", None
            )
            if (self._dcs is not None or self._protection is not None) and observe is not None:
                observe(self._applied.copy())
            decision = self._inner.decide(t_s, y_meas, d_now, plant_mode)
            self._u = np.array(decision.u, dtype=np.float64)
            status, compute_s = decision.status, decision.compute_time_s
            targets, message = decision.cv_targets, decision.message
            if self._dcs is not None:
                self._dcs.rebase(observe is not None, targets)
        u = self._u.copy()
        self.overlay(u, self._k)
        if self._dcs is not None:
            self._dcs.apply(u, y_meas, self._k)
        self._applied = u.copy()
        if self._protection is not None:
            self._protection.apply(u, y_meas)
        self._k += 1
        return Decision(u, compute_s, status, targets, message)


class DcsOverlay(EveryStepOverlay):
    """Wrap a policy with only a DCS layer: its decisions held, the loops acting every step.

    Parameters
    ----------
    inner : Policy
        The controller on the coarse grid.
    dcs : DcsLayer
        The PI loops (:func:`energyopt.closedloop.dcs.build_dcs_layer`).
    step_s : float
        Fine step, the interval of this policy. [s]
    what : str
        Prefix of error messages.

    Raises
    ------
    ModelError
        If the inner interval is not a whole multiple of the step.
    """

    def __init__(
        self, inner: Policy, dcs: DcsLayer, step_s: float, what: str = "closed loop"
    ) -> None:
        super().__init__(inner, step_s, what, dcs=dcs)

    def overlay(self, u: npt.NDArray[np.float64], k: int) -> None:
        """Nothing besides the DCS layer."""
