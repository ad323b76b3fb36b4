"""The result of one target computation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from controllers.advisor.contract import SolveStatus
from controllers.targets.model import SteadyStateGains

__all__ = ["TargetResult"]


@dataclass(frozen=True)
class TargetResult:
    """Steady-state targets for the dynamic layer, with what limited them.

    Attributes
    ----------
    status : SolveStatus
        Outcome, checked from every solver call's return status; when it is
        not usable the targets are the previous ones (or the current MVs).
    method : str
        ``"lp"``, ``"qp"`` or ``"rto"``.
    mv_names, cv_names : tuple of str
        Names of the MVs and CVs, in target order.
    mv_targets : numpy.ndarray
        Steady-state MV targets, shape ``(n_mv,)``. [SI]
    cv_targets : numpy.ndarray
        CVs at steady state at the targets, shape ``(n_cv,)`` (the linear
        prediction for ``"lp"``/``"qp"``). [SI]
    x_steady : numpy.ndarray
        Steady state at the targets, shape ``(nx,)`` (linear prediction for
        ``"lp"``/``"qp"``). [SI]
    objective : float
        Economic objective ``sum(price * value)`` at the targets, unscaled,
        without the move and ideal terms. [objective unit]
    active_constraints : tuple of str
        Limits active at the targets: ``"<mv>.lower"``/``"<mv>.upper"`` (MV
        limits), ``"<mv>.move"`` (the per-step target move), and
        ``"<cv>.lower"``/``"<cv>.upper"`` (CV limits met with equality or given up).
    relaxed_constraints : tuple of str
        Soft CV limits given up, most important rank first.
    violations : Mapping[str, float]
        Violation of each given-up limit. [SI of its CV]
    solve_time_s : float
        Wall-clock time of the computation (linearisation and every stage). [s]
    message : str
        The last solver's return status (or why there was no solve).
    n_solves : int
        Solver calls made (one per lexicographic stage).
    gains : SteadyStateGains or None
        The linearisation used (``"lp"``/``"qp"``), ``None`` for ``"rto"``.
    """

    status: SolveStatus
    method: str
    mv_names: tuple[str, ...]
    cv_names: tuple[str, ...]
    mv_targets: np.ndarray
    cv_targets: np.ndarray
    x_steady: np.ndarray
    objective: float = float("nan")
    active_constraints: tuple[str, ...] = ()
    relaxed_constraints: tuple[str, ...] = ()
    violations: Mapping[str, float] = field(default_factory=dict)
    solve_time_s: float = 0.0
    message: str = ""
    n_solves: int = 0
    gains: SteadyStateGains | None = None

    def mv_target(self, name: str) -> float:
        """Return the target of MV ``name`` [SI]."""
        return float(self.mv_targets[self.mv_names.index(name)])

    def cv_target(self, name: str) -> float:
        """Return the steady-state value of CV ``name`` at the targets [SI]."""
        return float(self.cv_targets[self.cv_names.index(name)])
