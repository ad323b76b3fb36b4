"""The score of a trial: one KPI summed over the windows, under per-window KPI constraints.

A trial is *feasible* when every constrained KPI keeps its bounds in every
window; its *violation* for one constraint is the largest excess over the
windows (positive: violated), as optuna's ``constraints_func`` expects.
Feasible trials rank by score (the objective KPI's sum over the windows, in
its better direction), infeasible ones after them by their total violation.
A constrained KPI that is NaN in a window (not defined for the plant, such
as gas-holder minutes of a plant without holders) does not constrain it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from energyopt.kpis.registry import Direction, kpi_info

__all__ = ["Objective", "Score"]


@dataclass(frozen=True)
class Score:
    """The evaluation of one set of settings over the windows.

    Attributes
    ----------
    value : float
        Objective KPI summed over the windows (NaN if a window lacks it). [KPI unit]
    violations : tuple of float
        One per constraint: largest excess over the windows (<= 0: kept). [KPI unit]
    """

    value: float
    violations: tuple[float, ...]

    @property
    def feasible(self) -> bool:
        """Whether every constraint is kept and the value is finite."""
        return math.isfinite(self.value) and all(v <= 0.0 for v in self.violations)

    @property
    def total_violation(self) -> float:
        """Sum of the positive violations. [mixed KPI units]."""
        return float(sum(max(v, 0.0) for v in self.violations))


@dataclass(frozen=True)
class Objective:
    """The KPI a tune optimises and the KPI bounds it must keep.

    Parameters
    ----------
    kpi : str
        Objective KPI key (:data:`energyopt.kpis.KPIS`); its registry
        direction says whether it is minimised or maximised.
    constraints : mapping of str to (float or None, float or None)
        KPI key -> (min, max) kept in every window.
    """

    kpi: str
    constraints: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        kpi_info(self.kpi)
        for key in self.constraints:
            kpi_info(key)

    @property
    def direction(self) -> Literal["minimize", "maximize"]:
        """``"minimize"`` or ``"maximize"`` (optuna's words)."""
        lower = kpi_info(self.kpi).direction == Direction.LOWER_IS_BETTER
        return "minimize" if lower else "maximize"

    def score(self, windows: Sequence[Mapping[str, float | None]]) -> Score:
        """Return the score of the per-window KPIs of one trial.

        Parameters
        ----------
        windows : sequence of mapping
            One ``{kpi key: value}`` per window (None or NaN: not computed).

        Returns
        -------
        Score
        """
        values = [_value(w, self.kpi) for w in windows]
        total = float(sum(values)) if values and all(map(math.isfinite, values)) else math.nan
        violations = []
        for key, (low, high) in self.constraints.items():
            worst = -math.inf
            for w in windows:
                v = _value(w, key)
                if not math.isfinite(v):
                    continue
                if low is not None:
                    worst = max(worst, low - v)
                if high is not None:
                    worst = max(worst, v - high)
            violations.append(worst if math.isfinite(worst) else 0.0)
        return Score(total, tuple(violations))

    def rank_key(self, score: Score) -> tuple[int, float]:
        """Sort key: feasible first by score in the better direction, then by violation."""
        if score.feasible:
            return (0, score.value if self.direction == "minimize" else -score.value)
        if math.isfinite(score.value):
            return (1, score.total_violation)
        return (2, score.total_violation)


def _value(window: Mapping[str, float | None], key: str) -> float:
    value = window.get(key)
    return math.nan if value is None else float(value)
