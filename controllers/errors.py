"""Errors of the controllers layer (``ValueError`` subclasses, as in plant_models).

Every controller package raises a subclass of :class:`ControllerError`, so
the application layer can catch one class and show the message to the user.
Each package has its own subclass here.
"""

from __future__ import annotations

__all__ = [
    "AdvisorError",
    "ControllerError",
    "EconomicMPCError",
    "EstimationError",
    "ForecastError",
    "ModeError",
    "NmpcError",
    "TargetError",
]


class ControllerError(ValueError):
    """A controller cannot be built or a solve did not succeed.

    The message names the offending setting, variable or solver status.
    """


class ModeError(ControllerError):
    """Operating-mode learning, classification or scheduling got unusable input.

    For example too few steady samples to cluster, a sample of the wrong
    length, or a mode name the model does not know.
    """


class EstimationError(ControllerError):
    """A state/disturbance/parameter estimator is misconfigured or given bad data.

    Raised for unknown variable names, wrong array shapes, non-finite inputs
    or a non-positive noise level.  A failed moving-horizon solve is not an
    error: it is reported in the estimate's status (EKF fallback).
    """


class AdvisorError(ControllerError):
    """The advisor, its controller contract or the infeasibility diagnosis got bad input.

    For example limits with ``lower > upper``, a non-positive rate limit, an
    array of the wrong length, or constraint groups that share a name.  A
    failed or infeasible *solve* is not an error: the advisor falls back and
    says so in the recommendation.
    """


class ForecastError(ControllerError):
    """A disturbance forecaster cannot be fitted or asked for a forecast.

    For example too little history to fill the time-of-day profile, phases
    outside ``[0, 86400)`` s, arrays of the wrong length, missing future
    exogenous inputs, or NaN recent history when the fallback is disabled.
    """


class NmpcError(ControllerError):
    """The process NMPC is misconfigured or asked with inputs of the wrong shape.

    For example an unknown MV/CV/disturbance name, a non-positive weight,
    scale or interval, a band with ``low > high``, or a horizon below 1.
    A failed or infeasible *solve* is not an error: it is reported in the
    :class:`~controllers.advisor.contract.ControlSolution` status.
    """


class EconomicMPCError(ControllerError):
    """The economic MPC is misconfigured or given unusable input.

    For example an unknown variable name, a limit with ``low > high``, or a
    forecast of the wrong shape.  A failed or infeasible *solve* is not an
    error: it is reported in the solution's status.
    """


class TargetError(ControllerError):
    """The steady-state target layer (LP/QP/RTO) is misconfigured or given bad input.

    For example an unknown MV/CV name, a limit with ``low > high``, a
    non-positive scale, an unknown method, or a state estimate of the wrong
    length.  A failed or infeasible *target solve* is not an error: it is
    reported in the result's status.
    """
