"""Full-process nonlinear MPC on the plant model's casadi equations.

:class:`NonlinearMPC` tracks setpoints and keeps CVs in soft bands with
ranked priorities by moving MVs (the PID loops' setpoints) under hard limits,
rate limits and move suppression, with offset-free prediction from the
estimator's disturbance states.  The NLP (multiple shooting, RK4 or Radau
collocation, stage-wise for fatrop) is built once and re-solved with new
parameters each step, warm-started; tuning (:class:`NmpcTuning`) is a
parameter too, so mode switches need no rebuild.  After the first step a
Gauss-Newton SQP on a structured QP (hpipm, :mod:`controllers.nmpc.sqp`)
answers first, with the NLP solver as its fallback.
"""

from __future__ import annotations

from controllers.nmpc.controller import NonlinearMPC, classify_status
from controllers.nmpc.settings import SOLVERS, CvSpec, MvSpec, NmpcSettings
from controllers.nmpc.tuning import TUNING_KEYS, NmpcTuning

__all__ = [
    "SOLVERS",
    "TUNING_KEYS",
    "CvSpec",
    "MvSpec",
    "NmpcSettings",
    "NmpcTuning",
    "NonlinearMPC",
    "classify_status",
]
