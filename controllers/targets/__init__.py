"""Steady-state economic target layer: the targets the dynamic controller tracks.

As the steady-state optimiser above the dynamic controller of commercial APC
(AspenTech DMC3, Honeywell Profit Controller), :class:`SteadyStateTargets`
picks, every control interval, the steady state the plant should move to:
MV targets within their limits and CV targets within their soft limits that
minimise an economic objective ``sum(price * value)`` over MVs and CVs (a
cost, negative prices for values such as a product flow), optionally with
ideal resting values for the degrees of freedom the economics leave free.

Methods (:attr:`TargetSettings.method`)
---------------------------------------
``"lp"``
    Linear program on the steady-state gains at the current operating point:
    the steady state the current MVs lead to (Newton's method from the state
    estimate) and the gains ``G = -g_x f_x^{-1} f_u + g_u`` from casadi's
    Jacobians of the model's own equations (:mod:`controllers.targets.model`).
    Solved by HiGHS (casadi ``conic``).  Targets move at most
    :attr:`TargetMv.max_move` per computation, so they change gradually and
    the linearisation is used only near where it was taken.
``"qp"``
    The same with a quadratic move penalty (:attr:`TargetMv.move_weight`)
    and quadratic ideal terms (HiGHS).  The penalty damps the LP's jumps
    between vertices when the economic optimum lies inside the limits.
``"rto"``
    Real-time optimisation: nonlinear program on the full steady-state model
    ``f(x, u, d) = 0`` (``f = x`` for a discrete model) with the states
    bounded by the model's envelope, solved by ipopt; same objective and
    move limits.

Priorities
----------
CV limits are soft, so a target problem is never infeasible; they are met
*lexicographically* (:mod:`controllers.targets.staging`): first the most
important rank as well as possible, then the next with the first held, and
so on; the economics are optimised last with every rank held.  A higher rank
therefore always dominates, whatever the scales and prices, which weights
cannot guarantee.  Violations are measured in units of each CV's scale.
The result (:class:`TargetResult`) names the active MV limits
(``"<mv>.lower"``, ``"<mv>.upper"``, ``"<mv>.move"``), the active CV limits
and the limits given up (``relaxed_constraints``, with their violations).
MV limits are hard.

Every solver call's return status is checked; a failed computation reports
its status and leaves the previous targets in place (it never raises).

Two layers
----------
:class:`TwoLayerController` implements the advisor's
:class:`~controllers.advisor.contract.Controller` protocol: each solve
computes the targets from the request's state estimate and measured
disturbances, writes the CV targets into the dynamic controller
(:meth:`controllers.nmpc.NonlinearMPC.set_setpoints`) and returns the dynamic
controller's solution with the target layer's active limits added.

Disturbance states of an offset-free estimator
(:class:`~controllers.estimation.specs.DisturbanceState`) enter the steady
state as in the NMPC, so the targets are offset-free too.
"""

from __future__ import annotations

from controllers.targets.layer import SteadyStateTargets
from controllers.targets.model import SteadyStateGains, steady_state_gains
from controllers.targets.result import TargetResult
from controllers.targets.settings import METHODS, TargetCv, TargetMv, TargetSettings
from controllers.targets.two_layer import TrackingController, TwoLayerController

__all__ = [
    "METHODS",
    "SteadyStateGains",
    "SteadyStateTargets",
    "TargetCv",
    "TargetMv",
    "TargetResult",
    "TargetSettings",
    "TrackingController",
    "TwoLayerController",
    "steady_state_gains",
]
