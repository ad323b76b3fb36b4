"""Closed-loop simulation: a truth plant under a baseline, an MPC or the advisor.

Public API
----------
:func:`run_closed_loop` simulates a :class:`TruthPlant` (model, true
parameters, disturbances on a fine grid) with :class:`MeasurementNoise` under
a policy -- :class:`BaselinePolicy` (a ``step(t_s, y_meas) -> u`` baseline) or
:class:`ControllerPolicy` (a :class:`~controllers.advisor.contract.Controller`
or an :class:`~controllers.advisor.Advisor`, fed by a
:class:`MeasurementBuilder` such as an estimator) -- and returns a
:class:`ClosedLoopResult` whose :meth:`~ClosedLoopResult.kpis` computes the
guide's KPI set (:mod:`energyopt.kpis`) for a :class:`KpiSpec`.

The chemical 14-day comparison (PID-only against the NMPC) is in
:mod:`energyopt.closedloop.chemical`.
"""

from __future__ import annotations

from energyopt.closedloop.harness import run_closed_loop
from energyopt.closedloop.plant import MeasurementNoise, TruthPlant
from energyopt.closedloop.policies import (
    STATUS_CODES,
    BaselinePolicy,
    ControllerPolicy,
    Decision,
    MeasurementBuilder,
    Policy,
    RawMeasurements,
)
from energyopt.closedloop.result import ClosedLoopResult, KpiSpec

__all__ = [
    "STATUS_CODES",
    "BaselinePolicy",
    "ClosedLoopResult",
    "ControllerPolicy",
    "Decision",
    "KpiSpec",
    "MeasurementBuilder",
    "MeasurementNoise",
    "Policy",
    "RawMeasurements",
    "TruthPlant",
    "run_closed_loop",
]
