"""Disturbance forecasts with prediction intervals, for scenario-based MPC.

A signal (gas made or used, steam or power demand) is modelled as a daily
profile by time-of-day bin (optionally weekdays and weekends apart, robust
per bin and smoothed across bins) plus an AR(X) deviation whose order is
chosen by AIC/BIC and fitted by ridge least squares, never across gaps.

Public API
----------
:func:`fit_forecaster` with :class:`ForecastSettings` -> :class:`ProfileARXForecaster`;
:meth:`ProfileARXForecaster.forecast` -> :class:`Forecast` (mean, analytic or
empirically calibrated intervals); :meth:`Forecast.scenarios` ->
:class:`ScenarioSet` (interval, Gauss-Hermite or sampled trajectories with
weights).  Building blocks: :func:`fit_profile` / :class:`PeriodicProfile`,
:func:`fit_deviation_model` / :class:`DeviationModel`, :func:`psi_weights`,
:func:`step_phases`.  Errors: :class:`~controllers.errors.ForecastError`.
Time enters as local time of day [s] and day of week (0 = Monday), computed
by the application layer.
"""

from controllers.forecast.calibration import EmpiricalCalibration
from controllers.forecast.deviation import DeviationModel, fit_deviation_model, psi_weights
from controllers.forecast.forecaster import ForecastSettings, ProfileARXForecaster, fit_forecaster
from controllers.forecast.phase import SECONDS_PER_DAY, step_phases
from controllers.forecast.profile import PeriodicProfile, fit_profile
from controllers.forecast.result import Forecast, ScenarioSet

__all__ = [
    "SECONDS_PER_DAY",
    "DeviationModel",
    "EmpiricalCalibration",
    "Forecast",
    "ForecastSettings",
    "PeriodicProfile",
    "ProfileARXForecaster",
    "ScenarioSet",
    "fit_deviation_model",
    "fit_forecaster",
    "fit_profile",
    "psi_weights",
    "step_phases",
]
