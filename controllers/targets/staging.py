"""Lexicographic (pre-emptive) priorities of the soft CV limits, shared by every method.

The soft limits are met rank by rank, as in commercial steady-state
optimisers (DMC3's ranked constraint handling, Honeywell Profit Controller's
priorities), not by priority weights: weights ``ratio**rank`` make a higher
rank dominate only if the ratio beats every trade-off the model allows,
which no fixed ratio guarantees.  The stages are:

1. minimise the total scaled violation of all soft limits; if it is zero
   (the usual case) every soft limit becomes hard and step 3 follows;
2. otherwise, for each rank from the most important: minimise the summed
   scaled violation of that rank with the ranks before it capped at their
   minima (a rank whose minimum is zero gets its violations fixed at zero);
3. minimise the economic objective with every rank capped.

A limit whose violation stays above the tolerance at the end has been given
up.  Each stage is a problem of the same shape solved with different
objective weights and bounds, so the problems are built once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from controllers.advisor.contract import SolveStatus
from controllers.targets.settings import TargetSettings

__all__ = [
    "SoftLimits",
    "StageOutcome",
    "StageRequest",
    "classify",
    "soft_limits",
    "solve_lexicographic",
]

#: Margin (relative, and absolute in scaled units) on a rank's minimum
#: violation when it is capped in the later stages: a cap at the exact
#: minimum could make the next stage infeasible by round-off, and the later
#: stages may use the margin, so it is kept near the solvers' own 1e-9..1e-8
#: constraint tolerances.
_CAP_MARGIN = 1e-8


#: Lower-case fragments of solver return statuses (ipopt, HiGHS through casadi).
_INFEASIBLE = ("infeasible", "restoration_failed")
_LIMITS = ("maximum_iterations", "maximum_walltime", "maximum_cputime", "time limit",
           "iteration limit", "acceptable")  # fmt: skip
_TIMEOUT = ("walltime", "cputime", "time limit")


def classify(success: bool, message: str, feasible: bool) -> SolveStatus:
    """Map a solver's return status to a :class:`SolveStatus`.

    Parameters
    ----------
    success : bool
        The solver's own ``success`` flag (``solver.stats()["success"]``).
    message : str
        Its ``return_status``.
    feasible : bool
        Whether the returned point meets the constraints (checked by the caller).

    Returns
    -------
    SolveStatus
        ``OPTIMAL`` on success with a feasible point; ``INFEASIBLE`` for an
        infeasibility status; ``SUBOPTIMAL`` for an iteration/time limit or
        acceptable level with a feasible point; ``TIMEOUT`` for a time limit
        without one; ``FAILED`` otherwise.
    """
    lowered = message.lower()
    if success and feasible:
        return SolveStatus.OPTIMAL
    if any(key in lowered for key in _INFEASIBLE):
        return SolveStatus.INFEASIBLE
    if feasible and any(key in lowered for key in _LIMITS):
        return SolveStatus.SUBOPTIMAL
    if any(key in lowered for key in _TIMEOUT):
        return SolveStatus.TIMEOUT
    return SolveStatus.FAILED


@dataclass(frozen=True)
class SoftLimits:
    """The finite soft CV limits of a settings object, one entry per limit.

    Attributes
    ----------
    names : tuple of str
        ``"<cv>.lower"`` or ``"<cv>.upper"``.
    cv_index : numpy.ndarray
        Position of the limit's CV in :attr:`TargetSettings.cvs`.
    upper : numpy.ndarray
        Boolean: whether the limit is an upper one.
    bound : numpy.ndarray
        The limit. [SI]
    scale : numpy.ndarray
        Its CV's scale. [SI]
    rank : numpy.ndarray
        Rank index, 0 for the most important priority present.
    n_ranks : int
        Number of distinct priorities.
    """

    names: tuple[str, ...]
    cv_index: np.ndarray
    upper: np.ndarray
    bound: np.ndarray
    scale: np.ndarray
    rank: np.ndarray
    n_ranks: int

    @property
    def size(self) -> int:
        """Number of soft limits."""
        return len(self.names)


def soft_limits(settings: TargetSettings) -> SoftLimits:
    """Collect the finite soft limits of ``settings`` (lower before upper per CV)."""
    ranks = settings.ranks
    names: list[str] = []
    cv_index: list[int] = []
    upper: list[bool] = []
    bound: list[float] = []
    scale: list[float] = []
    rank: list[int] = []
    for j, cv in enumerate(settings.cvs):
        for side, value in (("lower", cv.low), ("upper", cv.high)):
            if math.isfinite(value):
                names.append(f"{cv.name}.{side}")
                cv_index.append(j)
                upper.append(side == "upper")
                bound.append(value)
                scale.append(cv.scale)
                rank.append(ranks.index(cv.priority))
    return SoftLimits(
        names=tuple(names),
        cv_index=np.array(cv_index, dtype=int),
        upper=np.array(upper, dtype=bool),
        bound=np.array(bound, dtype=np.float64),
        scale=np.array(scale, dtype=np.float64),
        rank=np.array(rank, dtype=int),
        n_ranks=len(ranks),
    )


@dataclass(frozen=True)
class StageRequest:
    """One stage of the lexicographic solve.

    Attributes
    ----------
    economic : bool
        Whether the objective is the economic one (with move and ideal terms)
        instead of weighted violations.
    rank_weights : numpy.ndarray
        Weight of each rank's summed scaled violation, shape ``(n_ranks,)``. [-]
    rank_caps : numpy.ndarray
        Upper bound on each rank's summed scaled violation (``inf`` for
        none), shape ``(n_ranks,)``. [-]
    slack_upper : numpy.ndarray
        Upper bound of each scaled violation (0 or ``inf``), shape ``(n_slack,)``. [-]
    """

    economic: bool
    rank_weights: np.ndarray
    rank_caps: np.ndarray
    slack_upper: np.ndarray


@dataclass(frozen=True)
class StageOutcome:
    """Result of one stage.

    Attributes
    ----------
    status : SolveStatus
        The stage's status, classified from the solver's return status.
    z : numpy.ndarray
        The solver's decision vector (method-specific layout).
    slacks : numpy.ndarray
        Scaled violation of each soft limit, shape ``(n_slack,)``. [-]
    message : str
        The solver's return status.
    """

    status: SolveStatus
    z: np.ndarray
    slacks: np.ndarray
    message: str


def solve_lexicographic(
    solve_stage: Callable[[StageRequest], StageOutcome],
    slack_rank: np.ndarray,
    n_ranks: int,
    slack_tol: float,
) -> tuple[StageOutcome, int]:
    """Run the stages of the module docstring.

    Parameters
    ----------
    solve_stage : callable
        Solves one :class:`StageRequest`.
    slack_rank : numpy.ndarray
        Rank index (0 the most important) of each soft limit, shape ``(n_slack,)``.
    n_ranks : int
        Number of ranks.
    slack_tol : float
        A scaled violation below this counts as zero. [-]

    Returns
    -------
    outcome : StageOutcome
        The last stage solved: the economic stage, or the first stage that
        did not give a usable solution.
    n_solves : int
        Number of solver calls.
    """
    n_slack = slack_rank.shape[0]
    caps = np.full(n_ranks, np.inf)
    slack_upper = np.full(n_slack, np.inf)
    n_solves = 0
    if n_slack:
        outcome = solve_stage(StageRequest(False, np.ones(n_ranks), caps.copy(), slack_upper))
        n_solves += 1
        if not outcome.status.usable:
            return outcome, n_solves
        if float(np.sum(outcome.slacks)) <= slack_tol:
            slack_upper[:] = 0.0
            caps[:] = 0.0
        else:
            for rank in range(n_ranks):
                weights = np.zeros(n_ranks)
                weights[rank] = 1.0
                outcome = solve_stage(StageRequest(False, weights, caps.copy(), slack_upper))
                n_solves += 1
                if not outcome.status.usable:
                    return outcome, n_solves
                in_rank = slack_rank == rank
                least = float(np.sum(outcome.slacks[in_rank]))
                if least <= slack_tol:
                    slack_upper[in_rank] = 0.0
                    caps[rank] = 0.0
                else:
                    caps[rank] = least + _CAP_MARGIN * (1.0 + least)
    outcome = solve_stage(StageRequest(True, np.zeros(n_ranks), caps, slack_upper))
    return outcome, n_solves + 1
