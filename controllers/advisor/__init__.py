"""The advisor: checked setpoint recommendations from a controller, with safety guarantees.

Public API
----------
Contract the MPCs implement: :class:`Controller` (``solve(request) ->
ControlSolution``), :class:`DiagnosingController` (adds ``diagnose``),
:class:`ControlRequest`, :class:`ControlSolution`, :class:`SolveStatus`.

Advisor: :class:`Advisor` with :class:`AdvisorSettings`,
:class:`ManipulatedVariable` and :class:`AdvisorMode` (OFF, PREDICT,
ADVISE); its output :class:`Recommendation` with :class:`MVRecommendation`,
:class:`Prediction` and :class:`FallbackLevel`; the expected saving's
yardstick :class:`SavingBaseline` (operators change nothing), made by
:func:`solve_baseline`.

Safety and inputs: :func:`safe_setpoints`, :func:`project_plan`,
:class:`MoveLimitation`, :func:`sanitise_measurements`.

Infeasibility diagnosis: :func:`find_conflicting_constraints` with
:class:`ConstraintGroup` and :class:`InfeasibilityDiagnosis`.

Reference controller for tests: :class:`LinearMPC`, :class:`LinearMPCSettings`.
"""

from controllers.advisor.advisor import Advisor
from controllers.advisor.baseline import SavingBaseline, solve_baseline
from controllers.advisor.contract import (
    Controller,
    ControlRequest,
    ControlSolution,
    DiagnosingController,
    SolveStatus,
)
from controllers.advisor.diagnosis import (
    ConstraintGroup,
    InfeasibilityDiagnosis,
    find_conflicting_constraints,
)
from controllers.advisor.recommendation import (
    FallbackLevel,
    MVRecommendation,
    Prediction,
    Recommendation,
)
from controllers.advisor.reference_mpc import LinearMPC, LinearMPCSettings
from controllers.advisor.safety import MoveLimitation, project_plan, safe_setpoints
from controllers.advisor.sanitise import SanitisedMeasurements, sanitise_measurements
from controllers.advisor.settings import AdvisorMode, AdvisorSettings, ManipulatedVariable

__all__ = [
    "Advisor",
    "AdvisorMode",
    "AdvisorSettings",
    "ConstraintGroup",
    "ControlRequest",
    "ControlSolution",
    "Controller",
    "DiagnosingController",
    "FallbackLevel",
    "InfeasibilityDiagnosis",
    "LinearMPC",
    "LinearMPCSettings",
    "MVRecommendation",
    "ManipulatedVariable",
    "MoveLimitation",
    "Prediction",
    "Recommendation",
    "SanitisedMeasurements",
    "SavingBaseline",
    "SolveStatus",
    "find_conflicting_constraints",
    "project_plan",
    "safe_setpoints",
    "sanitise_measurements",
    "solve_baseline",
]
