"""Infeasibility diagnosis of the NMPC's hard constraints (the DiagnosingController protocol).

The NMPC's CV bands are soft (priced slacks), so only its hard constraints
can conflict: the MV limits and rate limits of a request with each other
and with the MVs applied now.  The prediction model constrains no MV (for
any MV plan the states follow from the model), so the model equations are
left out and the problem is linear: :func:`diagnose_problem` hands the
groups ``"<mv>.lower"``, ``"<mv>.upper"`` and ``"<mv>.rate"`` to the
generic elastic relaxation of :mod:`controllers.advisor.diagnosis` (a QP,
solved exactly), with the MVs' bookkeeping (``v_0 = u_prev``, ``v_{k+1} =
u_k``) kept hard as group ``"current MVs"``.  Everything is in the NLP's
scaled units (MV scale), so one unit of slack weighs the same in every
group.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from controllers.advisor.diagnosis import (
    ConstraintGroup,
    InfeasibilityDiagnosis,
    find_conflicting_constraints,
)
from controllers.nmpc.formulation import OcpProblem
from controllers.nmpc.settings import NmpcSettings

__all__ = ["diagnose_problem"]


def diagnose_problem(
    problem: OcpProblem,
    settings: NmpcSettings,
    parameters: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    rate: np.ndarray,
    initial_guess: np.ndarray,
) -> InfeasibilityDiagnosis:
    """Name the MV limits and rate limits that make one NMPC solve infeasible.

    Parameters
    ----------
    problem : OcpProblem
        The generated NLP.
    settings : NmpcSettings
        Its settings (MV names and scales).
    parameters : numpy.ndarray
        NLP parameter vector of the request.
    low, high : numpy.ndarray, shape (n_mv,)
        Effective MV limits (request and settings combined). [SI]
    rate : numpy.ndarray, shape (n_mv,)
        Effective rate limits, ``inf`` for none. [SI per interval]
    initial_guess : numpy.ndarray, shape (n_z,)
        Starting point of the relaxation (scaled decision vector).

    Returns
    -------
    InfeasibilityDiagnosis
        ``conflicting`` names a minimal set of conflicting groups, e.g.
        ``("feed.upper", "feed.rate")``; empty when the request is feasible.

    Raises
    ------
    AdvisorError
        When even the relaxation fails.
    """
    lay = problem.layout
    z, g = problem.z, problem.g
    nx = problem.nx
    hard_rows = np.concatenate([lay.init_index[nx:], lay.gap_index[:, nx:].ravel()])
    groups = [ConstraintGroup("current MVs", g[hard_rows.tolist()], 0.0, 0.0, relax=False)]
    for i, mv in enumerate(settings.mvs):
        scale = problem.u_scale[i]
        u_i: Any = z[lay.u_index[:, i].tolist()]
        if math.isfinite(low[i]):
            groups.append(ConstraintGroup(f"{mv.name}.lower", u_i, lower=low[i] / scale))
        if math.isfinite(high[i]):
            groups.append(ConstraintGroup(f"{mv.name}.upper", u_i, upper=high[i] / scale))
        if math.isfinite(rate[i]):
            groups.append(
                ConstraintGroup(
                    f"{mv.name}.rate",
                    g[lay.move_index[:, i].tolist()],
                    lower=-rate[i] / scale,
                    upper=rate[i] / scale,
                )
            )
    # Only the MVs and their previous values take part (the problem is linear in them).
    mv_cols = np.concatenate([lay.u_index.ravel(), lay.v_index.ravel()])
    return find_conflicting_constraints(
        z[mv_cols.tolist()],
        groups,
        parameters=problem.p,
        parameter_values=parameters,
        initial_guess=initial_guess[mv_cols],
    )
