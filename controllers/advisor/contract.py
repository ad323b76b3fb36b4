"""The contract between the advisor and the controllers (MPCs) it drives.

A controller receives a :class:`ControlRequest` (sanitised measurements,
current setpoints, the MV limits it must honour, the time budget and the
shifted previous plan for a warm start) and returns a
:class:`ControlSolution`.  It never raises for a solve that fails: it reports
the failure in :attr:`ControlSolution.status`.  The advisor checks every
solution again (status, finiteness, limits) and never trusts it blindly.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from controllers.advisor.diagnosis import InfeasibilityDiagnosis

__all__ = [
    "ControlRequest",
    "ControlSolution",
    "Controller",
    "DiagnosingController",
    "SolveStatus",
]


class SolveStatus(enum.Enum):
    """Outcome of one controller solve."""

    OPTIMAL = "optimal"
    """The solver converged to its tolerances."""
    SUBOPTIMAL = "suboptimal"
    """A feasible plan was found but optimality was not proven (iteration/time limit)."""
    INFEASIBLE = "infeasible"
    """The constraints cannot all be met."""
    FAILED = "failed"
    """The solver failed for another reason (numerical trouble, bad input)."""
    TIMEOUT = "timeout"
    """The solve exceeded its time budget without a usable plan."""

    @property
    def usable(self) -> bool:
        """Whether the plan of a solution with this status may be applied."""
        return self in (SolveStatus.OPTIMAL, SolveStatus.SUBOPTIMAL)


@dataclass(frozen=True)
class ControlRequest:
    """Everything a controller needs for one solve (arrays in the plant's SI units).

    Parameters
    ----------
    time_s : float
        Time of the start of the control interval. [s]
    mv_current : numpy.ndarray
        Current (sanitised, finite) value of each manipulated variable, shape
        ``(n_mv,)``. [SI]
    mv_lower, mv_upper : numpy.ndarray
        Limits of each manipulated variable, shape ``(n_mv,)``; per interval,
        shape ``(n_horizon, n_mv)``, in the advisor's baseline requests with a
        hold window shorter than the horizon
        (:mod:`controllers.advisor.baseline`; a controller that cannot honour
        them reports ``FAILED``). [SI]
    mv_rate : numpy.ndarray
        Largest allowed move of each MV per control interval, shape
        ``(n_mv,)``, positive, ``inf`` for none. [SI per interval]
    measurements : numpy.ndarray
        Sanitised measurements, shape ``(n_meas,)``.  Entries flagged invalid
        in ``measurement_valid`` hold the last good value, or NaN when none is
        known; a controller must not use them as if they were fresh. [SI]
    measurement_valid : numpy.ndarray
        Boolean, shape ``(n_meas,)``: ``True`` where the measurement is fresh
        and plausible (finite, not frozen).
    history : numpy.ndarray
        Recent measurements, shape ``(n_samples, n_meas)``, oldest first, as
        given to the advisor (may contain NaN). [SI]
    time_budget_s : float
        Wall-clock time the solve may take. [s]
    previous_plan : numpy.ndarray or None
        The last accepted MV plan shifted to start now, shape
        ``(n_remaining, n_mv)``, for a warm start; ``None`` if there is none. [SI]
    plant_mode : str or None
        Recognised operating mode of the plant, if known.
    """

    time_s: float
    mv_current: np.ndarray
    mv_lower: np.ndarray
    mv_upper: np.ndarray
    mv_rate: np.ndarray
    measurements: np.ndarray
    measurement_valid: np.ndarray
    history: np.ndarray
    time_budget_s: float
    previous_plan: np.ndarray | None = None
    plant_mode: str | None = None


@dataclass(frozen=True)
class ControlSolution:
    """Result of one controller solve.

    Parameters
    ----------
    status : SolveStatus
        Outcome of the solve, checked by the controller from its solver's
        return status.
    mv_plan : numpy.ndarray
        Planned MV values, shape ``(n_horizon, n_mv)``: row ``k`` holds over
        interval ``k`` (row 0 is the setpoint to apply now). [SI]
    cv_names : tuple of str
        Names of the predicted controlled variables.
    cv_predicted : numpy.ndarray
        Predicted controlled variables, shape ``(n_horizon + 1, n_cv)``; row 0
        is now. [SI]
    objective : float
        Objective value of the plan. [objective unit, e.g. currency]
    objective_hold : float
        Objective value of holding the current setpoints over the horizon
        (``inf`` if holding them is infeasible). [objective unit]
    active_constraints : tuple of str
        Names of the constraints active at the solution; a hard limit the
        plan does not keep (softened by an exact penalty) is named
        ``<variable>.low_violated`` or ``<variable>.high_violated``.
    solve_time_s : float
        Wall-clock time of the solve. [s]
    message : str
        The solver's own return status, for the log.
    diagnosis : InfeasibilityDiagnosis or None
        The constraints that made the problem infeasible, when the
        controller has already found them.
    """

    status: SolveStatus
    mv_plan: np.ndarray
    cv_names: tuple[str, ...] = ()
    cv_predicted: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    objective: float = float("nan")
    objective_hold: float = float("nan")
    active_constraints: tuple[str, ...] = ()
    solve_time_s: float = 0.0
    message: str = ""
    diagnosis: InfeasibilityDiagnosis | None = None


@runtime_checkable
class Controller(Protocol):
    """A model predictive controller the advisor can drive.

    ``solve(request) -> ControlSolution``.  The MV order is the advisor's
    (``mv_names``); the controller must not raise for an unsuccessful solve
    but report it in the solution's status.
    """

    @property
    def mv_names(self) -> tuple[str, ...]:
        """Names of the manipulated variables, in plan column order."""
        ...

    def solve(self, request: ControlRequest) -> ControlSolution:
        """Compute a plan for the request (see :class:`ControlRequest`)."""
        ...


@runtime_checkable
class DiagnosingController(Controller, Protocol):
    """A controller that can also name the constraints that make a request infeasible."""

    def diagnose(self, request: ControlRequest) -> InfeasibilityDiagnosis:
        """Relax the request's constraint groups and report which ones conflict."""
        ...
