"""When does a gas holder cross its hard limit in a closed loop, and why.

A crossing of a holder's hard low limit under an MPC that decides every
interval ``T`` (15 min) has one of two causes, and they call for different
remedies:

* **within the interval**: the plan's level at the end of the interval (its
  prediction when it decided) is inside the limit, but the gas made fell short
  of the forecast (a converter pause) while the plan's consumer setpoints were
  held for the whole interval.  The remedy is in how the plan is executed
  between decisions (the DCS layer: a level-driven cut-back of the consumers,
  or a shorter decision interval for the gas network);
* **planned at the limit**: the plan itself drives the level to (or below)
  the limit at the interval end (the hard limit is a constraint of the plan
  at its interval ends only).  The remedy is a back-off of the limit in the
  plan by the forecast error it must absorb.

:class:`DecisionRecorder` wraps a closed-loop policy and keeps every
decision's predicted controlled variables (``Decision.cv_targets``);
:func:`diagnose_holder_crossings` splits the minutes outside the limit by
the minute of the decision interval and by cause, episode by episode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import ModelError

if TYPE_CHECKING:
    from energyopt.closedloop.policies import Decision, Policy
    from energyopt.closedloop.result import ClosedLoopResult

__all__ = ["CrossingDiagnosis", "DecisionRecorder", "diagnose_holder_crossings"]


class DecisionRecorder:
    """Wrap a policy; remember the predicted controlled variables of each decision.

    The wrapped policy is driven unchanged (``observe_applied`` and ``dcs``
    are forwarded); only decisions carrying ``cv_targets`` are recorded.

    Parameters
    ----------
    inner : Policy
        The policy the harness drives.

    Attributes
    ----------
    time_s : list of float
        Time of each recorded decision. [s]
    targets : list of dict
        Its predicted controlled variables at the end of its interval. [SI]
    not_optimal : list of (float, str, str)
        ``(time, status, message)`` of every decision neither optimal nor
        ``none`` (suboptimal, failed, fallback...): what the solver said.
    """

    def __init__(self, inner: Policy) -> None:
        self._inner = inner
        self.time_s: list[float] = []
        self.targets: list[dict[str, float]] = []
        self.not_optimal: list[tuple[float, str, str]] = []

    @property
    def interval_s(self) -> float:
        """The wrapped policy's interval. [s]."""
        return self._inner.interval_s

    def reset(self, u0: npt.NDArray[np.float64], x0: npt.NDArray[np.float64]) -> None:
        """Reset the wrapped policy and forget the record.

        Parameters
        ----------
        u0 : numpy.ndarray
            Inputs in force. [SI]
        x0 : numpy.ndarray
            Initial state. [SI]
        """
        self.time_s.clear()
        self.targets.clear()
        self.not_optimal.clear()
        self._inner.reset(u0, x0)

    def decide(
        self,
        t_s: float,
        y_meas: npt.NDArray[np.float64],
        d_now: npt.NDArray[np.float64],
        plant_mode: str | None,
    ) -> Decision:
        """Forward the decision; record its ``cv_targets`` and a status other than optimal.

        Parameters
        ----------
        t_s : float
            Decision time. [s]
        y_meas : numpy.ndarray
            Measured outputs. [SI]
        d_now : numpy.ndarray
            Disturbance row. [SI]
        plant_mode : str or None
            Operating mode.
        """
        decision = self._inner.decide(t_s, y_meas, d_now, plant_mode)
        if decision.status not in ("none", "optimal"):
            self.not_optimal.append((float(t_s), decision.status, decision.message))
        if decision.cv_targets:
            self.time_s.append(float(t_s))
            self.targets.append(dict(decision.cv_targets))
        return decision

    def planned(self, variable: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Decision times and the planned ``variable`` at each interval end (NaN: none).

        Parameters
        ----------
        variable : str
            Model variable name (``ldg_holder.level_fraction``).

        Returns
        -------
        time_s, value : numpy.ndarray
            [s], [SI]
        """
        values = [t.get(variable, math.nan) for t in self.targets]
        return np.asarray(self.time_s, dtype=np.float64), np.asarray(values, dtype=np.float64)


@dataclass(frozen=True)
class CrossingDiagnosis:
    """Minutes outside a holder's hard low limit, split by when and why.

    Attributes
    ----------
    holder : str
        Holder unit.
    limit : float
        Hard low limit. [fraction]
    minutes_total : float
        Time below the limit. [min]
    minutes_by_offset : numpy.ndarray
        Time below the limit per minute of the decision interval (index 0:
        the step that starts at the decision). [min]
    episodes : int
        Runs of consecutive steps below the limit.
    episodes_within_interval : int
        Episodes whose first step's interval was planned to end inside the limit.
    episodes_planned_at_limit : int
        Episodes whose interval was planned to end at (within ``tolerance``) or
        beyond the limit.
    episodes_at_gas_pause : int
        Episodes starting while the holder's gas supply was (near) zero.
    minutes_within_interval, minutes_planned_at_limit : float
        Time below the limit in the two kinds of episode. [min]
    planned_margin_at_crossing : numpy.ndarray
        Per episode: planned level at the end of the crossing's interval less
        the limit (NaN where no plan is recorded). [fraction]
    plan_recorded : bool
        Whether the controller's plans were recorded (a rule-based controller
        has none: every episode then counts as within an interval).
    """

    holder: str
    limit: float
    minutes_total: float
    minutes_by_offset: npt.NDArray[np.float64]
    episodes: int
    episodes_within_interval: int
    episodes_planned_at_limit: int
    episodes_at_gas_pause: int
    minutes_within_interval: float
    minutes_planned_at_limit: float
    planned_margin_at_crossing: npt.NDArray[np.float64]
    plan_recorded: bool = True

    def summary(self) -> str:
        """One paragraph for a console or a report."""
        offs = ", ".join(f"{v:g}" for v in self.minutes_by_offset)
        if not self.plan_recorded:
            return (
                f"{self.holder} below its hard limit {100 * self.limit:g} %: "
                f"{self.minutes_total:g} min in {self.episodes} episodes "
                f"({self.episodes_at_gas_pause} starting in a gas pause); no plan recorded"
            )
        return (
            f"{self.holder} below its hard limit {100 * self.limit:g} %: "
            f"{self.minutes_total:g} min in {self.episodes} episodes "
            f"({self.episodes_at_gas_pause} starting in a gas pause); "
            f"{self.episodes_within_interval} episodes ({self.minutes_within_interval:g} min) "
            f"within an interval planned to end inside the limit (setpoints held too long), "
            f"{self.episodes_planned_at_limit} ({self.minutes_planned_at_limit:g} min) planned "
            f"to end at the limit (the plan drives it there); minutes by minute of the "
            f"decision interval: [{offs}]"
        )


def diagnose_holder_crossings(
    result: ClosedLoopResult,
    holder: str,
    limit: float,
    *,
    planned: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None,
    decision_interval_s: float | None = None,
    supply: str | None = None,
    tolerance: float = 0.005,
) -> CrossingDiagnosis:
    """Split a run's minutes below a holder's hard low limit by when and why.

    Parameters
    ----------
    result : ClosedLoopResult
        The run (its fine grid).
    holder : str
        Holder unit; its ``<holder>.level_fraction`` is read.
    limit : float
        Hard low limit. [fraction]
    planned : (time_s, level), optional
        Decision times and the planned level at each interval end
        (:meth:`DecisionRecorder.planned`); without it every episode counts
        as within an interval of unknown plan (``planned_margin`` NaN).
    decision_interval_s : float, optional
        The controller's decision interval; default the spacing of
        ``planned`` or the result's interval. [s]
    supply : str, optional
        Variable of the gas made into the holder's network
        (``converters.flow_m3_s``), for the gas-pause count. [m3/s]
    tolerance : float
        A plan ending less than this above the limit counts as planned at
        the limit. [fraction]

    Returns
    -------
    CrossingDiagnosis

    Raises
    ------
    ModelError
        For an unknown variable or a decision interval that is not a whole
        number of fine steps.
    """
    level = result.series(f"{holder}.level_fraction")
    step = result.step_s
    if decision_interval_s is None:
        if planned is not None and planned[0].size > 1:
            decision_interval_s = float(np.median(np.diff(planned[0])))
        else:
            decision_interval_s = result.interval_s
    per = round(decision_interval_s / step)
    if per < 1 or not math.isclose(per * step, decision_interval_s, rel_tol=1e-9):
        raise ModelError(
            f"holder diagnosis: interval {decision_interval_s:g} s is not a whole number "
            f"of {step:g}-s steps"
        )
    below = level < limit
    k = np.arange(level.size)
    offset = k % per
    by_offset = np.bincount(offset[below], minlength=per).astype(np.float64) * step / 60.0
    starts = np.flatnonzero(below & ~np.concatenate([[False], below[:-1]]))
    ends = np.flatnonzero(below & ~np.concatenate([below[1:], [False]]))
    gas = result.series(supply) if supply is not None else None
    plan_t, plan_v = planned if planned is not None else (np.zeros(0), np.zeros(0))
    margins = np.full(starts.size, np.nan)
    within = at_limit = pauses = 0
    min_within = min_at = 0.0
    for e, (s0, s1) in enumerate(zip(starts, ends, strict=True)):
        minutes = float(s1 - s0 + 1) * step / 60.0
        t_dec = result.time_s[s0 - s0 % per]
        idx = np.flatnonzero(np.isclose(plan_t, t_dec, atol=0.5 * step))
        if idx.size and math.isfinite(plan_v[idx[0]]):
            margins[e] = plan_v[idx[0]] - limit
        if math.isfinite(margins[e]) and margins[e] < tolerance:
            at_limit += 1
            min_at += minutes
        else:
            within += 1
            min_within += minutes
        if gas is not None and gas[s0] <= 1e-3 * max(float(np.max(gas)), 1e-12):
            pauses += 1
    return CrossingDiagnosis(
        holder=holder,
        limit=float(limit),
        minutes_total=float(np.sum(below)) * step / 60.0,
        minutes_by_offset=by_offset,
        episodes=int(starts.size),
        episodes_within_interval=within,
        episodes_planned_at_limit=at_limit,
        episodes_at_gas_pause=pauses,
        minutes_within_interval=min_within,
        minutes_planned_at_limit=min_at,
        planned_margin_at_crossing=margins,
        plan_recorded=planned is not None,
    )
