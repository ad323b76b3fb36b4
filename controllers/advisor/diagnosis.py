"""Infeasibility diagnosis: which named constraint groups make a problem infeasible.

The problem is given as casadi expressions of the decision variables,
grouped under names the user understands (``"BFG holder.upper"``,
``"boiler 1.rate"``).  Every relaxable group gets non-negative slacks on both
sides, ``lower - s_lo <= g(x) <= upper + s_up``, the sum of the slacks is
minimised (an L1 "elastic" relaxation), and the groups whose slack stays
above a tolerance are reported as the conflicting ones.  Groups marked
``relax=False`` (model equations, physical bounds) stay hard.

A pure L1 objective has vertex solutions: for two contradictory constraints
``x >= 2`` and ``x <= 1`` any split of the unit violation is optimal and a
simplex solver puts it all on one of them, so only one would be named.  A
small quadratic term on the slacks (``regularisation``) makes the optimum
unique and spreads the violation over every group of the conflict, so all of
them are named; it does not give slack to a group that is not in a conflict
because the L1 term dominates at zero slack.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import casadi as ca
import numpy as np
import numpy.typing as npt

from controllers.errors import AdvisorError

__all__ = ["ConstraintGroup", "InfeasibilityDiagnosis", "find_conflicting_constraints"]


@dataclass(frozen=True)
class ConstraintGroup:
    """A named block of constraints ``lower <= expression <= upper``.

    Parameters
    ----------
    name : str
        Name shown to the user, unique within a problem.
    expression : casadi.SX or casadi.MX
        Column vector of constraint functions of the decision variables.
    lower, upper : float or array_like
        Bounds, broadcast to the expression's length; ``-inf``/``inf`` for
        none; equal for an equality. [units of the expression]
    relax : bool
        Whether the diagnosis may relax this group (``False`` for model
        equations and bounds that cannot be violated physically).
    weight : float
        Price of one unit of slack of this group, positive; use it to scale
        groups in different units. [1/units of the expression]
    """

    name: str
    expression: Any
    lower: float | npt.ArrayLike = -math.inf
    upper: float | npt.ArrayLike = math.inf
    relax: bool = True
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not self.name:
            raise AdvisorError("a constraint group needs a non-empty name")
        if not (math.isfinite(self.weight) and self.weight > 0.0):
            raise AdvisorError(f"constraint group {self.name!r}: weight must be > 0")


@dataclass(frozen=True)
class InfeasibilityDiagnosis:
    """Result of :func:`find_conflicting_constraints`.

    Attributes
    ----------
    conflicting : tuple of str
        Names of the groups whose slack is non-zero, largest violation first.
    slack_by_group : Mapping[str, float]
        Sum of the slacks of every relaxable group. [units of the group]
    feasible : bool
        ``True`` if no slack was needed (the original problem is feasible).
    message : str
        The solver's return status.
    """

    conflicting: tuple[str, ...]
    slack_by_group: Mapping[str, float] = field(default_factory=dict)
    feasible: bool = False
    message: str = ""


def _bounds(value: float | npt.ArrayLike, n: int, name: str, side: str) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(value, dtype=float), (n,)).astype(float)
    if np.isnan(arr).any():
        raise AdvisorError(f"constraint group {name!r}: {side} bound is NaN")
    return arr


def _is_linear(expr: Any, x: Any) -> bool:
    return bool(ca.is_linear(expr, x)) if expr.numel() else True


def find_conflicting_constraints(
    variables: Any,
    groups: Sequence[ConstraintGroup],
    *,
    parameters: Any = None,
    parameter_values: npt.ArrayLike | None = None,
    initial_guess: npt.ArrayLike | None = None,
    tolerance: float = 1e-6,
    regularisation: float = 1e-3,
    minimal: bool = True,
) -> InfeasibilityDiagnosis:
    """Name the constraint groups that make a problem infeasible (elastic L1 relaxation).

    Parameters
    ----------
    variables : casadi.SX or casadi.MX
        Decision variables: a symbol or a ``vertcat`` of symbols (symbols of a
        :class:`casadi.Opti` from ``opti.variable`` work too).
    groups : sequence of ConstraintGroup
        The problem's constraints, by name.
    parameters : casadi.SX or casadi.MX, optional
        Parameter symbols the expressions depend on.
    parameter_values : array_like, optional
        Values of ``parameters`` (required with them).
    initial_guess : array_like, optional
        Starting point for the nonlinear case. [units of the variables]
    tolerance : float
        Slack above which a group is reported, positive. [units of the group
        times its weight]
    regularisation : float
        Weight of the quadratic slack term that spreads a violation over all
        groups of a conflict (see the module docstring); non-negative and
        small against the L1 weights.
    minimal : bool
        Reduce the groups found by the relaxation to an irreducible
        infeasible subset (deletion filter, Chinneck and Dravnieks 1991):
        the relaxation names a cheapest *repair*, which may include groups
        that only make that repair expensive (a rate limit that stops a
        bigger move past a lower limit); the filter keeps only groups
        without which the rest becomes feasible.

    Returns
    -------
    InfeasibilityDiagnosis
        The conflicting groups and every group's slack.

    Raises
    ------
    AdvisorError
        On duplicate or empty names, NaN bounds, missing parameter values, or
        when even the relaxed problem fails (the hard groups alone are
        infeasible).

    Notes
    -----
    Linear constraints give a convex QP solved by HiGHS (bundled with casadi),
    which labels its result exactly; nonlinear ones an NLP solved by IPOPT
    (a local solution: a reported conflict is then a local one).
    """
    common = {
        "parameters": parameters,
        "parameter_values": parameter_values,
        "initial_guess": initial_guess,
        "tolerance": tolerance,
        "regularisation": regularisation,
    }
    first = _elastic(variables, groups, **common)
    if not minimal or not first.conflicting:
        return first
    hard = [g for g in groups if not g.relax]
    by_name = {g.name: g for g in groups}
    candidates = [by_name[name] for name in first.conflicting]
    others = [g for g in groups if g.relax and g.name not in first.conflicting]

    def infeasible(subset: list[ConstraintGroup]) -> bool:
        return bool(_elastic(variables, hard + subset, **common).conflicting)

    # Usually the candidates alone are infeasible: filter only them; else all groups.
    keep = candidates if infeasible(candidates) else candidates + others
    for group in list(keep):
        trial = [g for g in keep if g is not group]
        if trial and infeasible(trial):
            keep = trial
    kept = {g.name for g in keep}
    order = [name for name in first.conflicting if name in kept]
    order += [g.name for g in keep if g.name not in order]
    return InfeasibilityDiagnosis(
        conflicting=tuple(order),
        slack_by_group=first.slack_by_group,
        feasible=False,
        message=first.message,
    )


def _elastic(
    variables: Any,
    groups: Sequence[ConstraintGroup],
    *,
    parameters: Any = None,
    parameter_values: npt.ArrayLike | None = None,
    initial_guess: npt.ArrayLike | None = None,
    tolerance: float = 1e-6,
    regularisation: float = 1e-3,
) -> InfeasibilityDiagnosis:
    """Solve the elastic relaxation once (see :func:`find_conflicting_constraints`)."""
    names = [g.name for g in groups]
    if len(set(names)) != len(names):
        raise AdvisorError(f"constraint group names must be unique, got {names}")
    if not groups:
        raise AdvisorError("no constraint groups to diagnose")
    if not (tolerance > 0.0 and regularisation >= 0.0):
        raise AdvisorError("tolerance must be > 0 and regularisation >= 0")
    if (parameters is None) != (parameter_values is None):
        raise AdvisorError("parameters and parameter_values go together")
    sym = type(variables)
    x = variables
    p = parameters if parameters is not None else sym(0, 1)
    p_val = np.zeros(0) if parameter_values is None else np.asarray(parameter_values, float).ravel()

    slack_parts: list[Any] = []
    rows: list[Any] = []
    lbg: list[np.ndarray] = []
    ubg: list[np.ndarray] = []
    cost_l1: Any = 0
    cost_l2: Any = 0
    slices: dict[str, tuple[int, int]] = {}
    row_slices: dict[str, tuple[int, int]] = {}
    n_slack = 0
    n_rows = 0
    for group in groups:
        expr = ca.vec(group.expression)
        n = int(expr.numel())
        lo = _bounds(group.lower, n, group.name, "lower")
        up = _bounds(group.upper, n, group.name, "upper")
        if np.any(lo > up):
            raise AdvisorError(f"constraint group {group.name!r}: lower bound above upper bound")
        if not group.relax:
            rows.append(expr)
            lbg.append(lo)
            ubg.append(up)
            n_rows += n
            continue
        s_lo = sym.sym(f"s_lo_{len(slack_parts)}", n)
        s_up = sym.sym(f"s_up_{len(slack_parts)}", n)
        slack_parts += [s_lo, s_up]
        slices[group.name] = (n_slack, n_slack + 2 * n)
        row_slices[group.name] = (n_rows, n_rows + 2 * n)
        n_slack += 2 * n
        n_rows += 2 * n
        # Only the finite sides are relaxed; an infinite side's slack is pinned
        # by its bound row below (expr + s_lo >= -inf is no constraint).
        rows += [expr + s_lo, expr - s_up]
        lbg += [lo, np.full(n, -math.inf)]
        ubg += [np.full(n, math.inf), up]
        total = ca.sum1(s_lo) + ca.sum1(s_up)
        cost_l1 += group.weight * total
        cost_l2 += group.weight * (ca.sumsqr(s_lo) + ca.sumsqr(s_up))

    s = ca.vertcat(*slack_parts) if slack_parts else sym(0, 1)
    z = ca.vertcat(ca.vec(x), s)
    g = ca.vertcat(*rows)
    # A trace of curvature on the variables (1e-9) keeps the QP's KKT matrix
    # regular (qrqp fails on variables without curvature); it moves the
    # slacks by about 1e-9 times the squared size of the variables.
    f = cost_l1 + regularisation * cost_l2 + 1e-9 * ca.sumsqr(x)
    n_x = int(ca.vec(x).numel())
    lbz = np.concatenate([np.full(n_x, -math.inf), np.zeros(n_slack)])
    ubz = np.full(n_x + n_slack, math.inf)
    problem = {"x": z, "p": p, "f": f, "g": g}
    linear = _is_linear(g, z)
    solver: Any
    if linear:
        # qrqp (casadi's own active-set QP solver): HiGHS' QP solver was seen to
        # loop forever on these problems (free variables without curvature),
        # and the elastic problem is always feasible, so qrqp's weak
        # infeasibility labelling does not matter here.
        solver = ca.qpsol(
            "diagnosis",
            "qrqp",
            problem,
            {
                "error_on_fail": False,
                "print_iter": False,
                "print_header": False,
                "print_info": False,
            },
        )
    else:
        solver = ca.nlpsol(
            "diagnosis",
            "ipopt",
            problem,
            {"error_on_fail": False, "print_time": False, "ipopt": {"print_level": 0, "sb": "yes"}},
        )
    z0 = np.zeros(n_x + n_slack)
    if initial_guess is not None:
        z0[:n_x] = np.broadcast_to(np.asarray(initial_guess, float).ravel(), (n_x,))
    result = solver(
        x0=z0, p=p_val, lbx=lbz, ubx=ubz, lbg=np.concatenate(lbg), ubg=np.concatenate(ubg)
    )
    stats = solver.stats()
    message = str(stats.get("return_status", ""))
    if not bool(stats.get("success", False)):
        raise AdvisorError(
            f"infeasibility diagnosis failed ({message}): the hard (non-relaxable) "
            "constraint groups alone may be infeasible"
        )
    # Interior-point solvers return slacks of -1e-8: they are zero.
    slack = np.maximum(np.asarray(result["x"], float).ravel()[n_x:], 0.0)
    lam = np.abs(np.asarray(result["lam_g"], float).ravel())
    slack_by_group = {name: float(np.sum(slack[a:b])) for name, (a, b) in slices.items()}
    weights = {g.name: g.weight for g in groups}
    over = [name for name, v in slack_by_group.items() if weights[name] * v > tolerance]
    if over:
        # A group of the conflict may keep zero slack when relaxing another one
        # is cheaper (x >= 2 against 2 x <= 2); its row is then active with a
        # positive multiplier (it limits the repair), so it is named too.
        # Multipliers are only read when the problem is infeasible: for a
        # feasible one the objective is flat and any multiplier is meaningless.
        over += [
            name
            for name, (a, b) in row_slices.items()
            if name not in over and float(np.max(lam[a:b], initial=0.0)) > tolerance * weights[name]
        ]
    over.sort(key=lambda name: -weights[name] * slack_by_group[name])
    return InfeasibilityDiagnosis(
        conflicting=tuple(over),
        slack_by_group=slack_by_group,
        feasible=not over,
        message=message,
    )
