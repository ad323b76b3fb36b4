"""The advisor's output: a checked recommendation per manipulated variable."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

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
        Objective of holding the current setpoints minus objective of the
        plan, over the horizon (``0`` when holding; ``None`` when unknown:
        shifted plan, OFF, or a non-finite hold objective). [objective unit]
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

    @property
    def setpoints(self) -> dict[str, float]:
        """Recommended setpoints by MV name, only MVs with a recommendation. [SI]."""
        return {mv.name: mv.setpoint for mv in self.mvs if mv.setpoint is not None}
