"""The advisor's output: a checked recommendation per manipulated variable."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from controllers.advisor.baseline import SavingBaseline
from controllers.advisor.contract import SolveStatus
from controllers.advisor.safety import MoveLimitation
from controllers.advisor.settings import AdvisorMode

__all__ = ["FallbackLevel", "MVRecommendation", "Prediction", "Recommendation"]


class FallbackLevel(enum.Enum):
    """Where the recommended plan came from."""

    NONE = "controller plan"
    """The controller's fresh plan was accepted."""
    SHIFTED_PLAN = "shifted previous plan"
    """The last accepted plan, shifted to now."""
    HOLD = "hold current setpoints"
    """No usable plan: hold the current setpoints (moved into limits if outside)."""


@dataclass(frozen=True)
class MVRecommendation:
    """The recommendation for one manipulated variable.

    Attributes
    ----------
    name : str
        MV name.
    current : float or None
        Current value used (after sanitising); ``None`` if unknown. [SI]
    setpoint : float or None
        Recommended setpoint: finite, within the rate limit of ``current``
        and inside the limits (or a full rate step toward them when
        ``current`` is further outside).  ``None`` means no recommendation
        (mode OFF or PREDICT, or current value unknown): leave the MV as it is. [SI]
    limitation : MoveLimitation
        What limited the move.
    reason : str
        Why, in words.
    """

    name: str
    current: float | None
    setpoint: float | None
    limitation: MoveLimitation
    reason: str

    @property
    def move(self) -> float:
        """Recommended change (0 without a recommendation). [SI]."""
        if self.setpoint is None or self.current is None:
            return 0.0
        return self.setpoint - self.current


@dataclass(frozen=True)
class Prediction:
    """Predicted trajectories over the horizon (all finite).

    Attributes
    ----------
    time_s : numpy.ndarray
        Times of the CV samples, shape ``(n + 1,)``; MV row ``k`` holds over
        ``[time_s[k], time_s[k + 1])``. [s]
    mv_names : tuple of str
        MV names (plan columns).
    mv_plan : numpy.ndarray
        Safe MV plan, shape ``(n, n_mv)``. [SI]
    cv_names : tuple of str
        Controlled-variable names.
    cv : numpy.ndarray
        Predicted CVs, shape ``(n + 1, n_cv)``. [SI]
    """

    time_s: np.ndarray
    mv_names: tuple[str, ...]
    mv_plan: np.ndarray
    cv_names: tuple[str, ...]
    cv: np.ndarray


@dataclass(frozen=True)
class Recommendation:
    """What the advisor recommends now, with its evidence.

    Attributes
    ----------
    time_s : float
        Start of the control interval. [s]
    mode : AdvisorMode
        Advisor mode the recommendation was made in.
    mvs : tuple of MVRecommendation
        One entry per MV, in the settings' order.
    prediction : Prediction or None
        Predicted trajectories (``None`` in mode OFF or when holding).
    expected_saving : float or None
        Objective of the baseline "the operators change nothing" minus
        objective of the plan, over the controller's horizon (see
        ``baseline``; currency for an economic MPC).  ``0`` when holding;
        ``None`` when unknown: shifted plan, OFF, or a baseline that cannot
        be compared (``baseline.reason`` says why).  Without a configured
        baseline (``AdvisorSettings.baseline_held``) the controller's
        ``objective_hold`` (every MV held) is used. [objective unit]
    active_constraints : tuple of str
        The controller's active constraints and the MV limits binding the
        recommended setpoints (``"<mv>.lower"``, ``"<mv>.upper"``, ``"<mv>.rate"``).
    fallback : FallbackLevel
        Where the plan came from.
    fallback_reason : str
        Why the controller's plan was not used (empty if it was).
    solve_status : SolveStatus or None
        The controller's status (``None`` if it was not called).
    solve_time_s : float
        Wall-clock time of the controller call. [s]
    infeasible_constraints : tuple of str
        Constraints found to make the problem infeasible (relaxation).
    measurement_issues : tuple of str
        Substituted, missing or frozen measurements and MV values.
    plant_mode : str or None
        The plant's operating mode the recommendation was made for.
    baseline : SavingBaseline or None
        The baseline the saving is measured against: what was held, for how
        long, its plan and objective, or why it cannot be compared
        (``None`` without a configured baseline or a controller plan).
    """

    time_s: float
    mode: AdvisorMode
    mvs: tuple[MVRecommendation, ...]
    prediction: Prediction | None
    expected_saving: float | None
    active_constraints: tuple[str, ...]
    fallback: FallbackLevel
    fallback_reason: str
    solve_status: SolveStatus | None
    solve_time_s: float
    infeasible_constraints: tuple[str, ...]
    measurement_issues: tuple[str, ...]
    plant_mode: str | None
    baseline: SavingBaseline | None = None

    @property
    def setpoints(self) -> dict[str, float]:
        """Recommended setpoints by MV name, only MVs with a recommendation. [SI]."""
        return {mv.name: mv.setpoint for mv in self.mvs if mv.setpoint is not None}

    @property
    def saving_horizon_s(self) -> float | None:
        """Duration the expected saving covers (``None`` if not known). [s]."""
        if self.baseline is not None:
            return self.baseline.horizon_s
        if self.prediction is not None and self.prediction.time_s.size > 1:
            return float(self.prediction.time_s[-1] - self.prediction.time_s[0])
        return None

    @property
    def saving_note(self) -> str:
        """Why the expected saving is unknown, in words (empty when it is known)."""
        if self.expected_saving is not None:
            return ""
        if self.baseline is not None and self.baseline.reason:
            return self.baseline.reason
        if self.mode is AdvisorMode.OFF:
            return "the advisor is OFF"
        if self.fallback is not FallbackLevel.NONE:
            return f"no fresh controller plan ({self.fallback.value})"
        return "holding every setpoint over the horizon breaks a hard limit"
