"""Shared fixtures of the advisor tests: a small plant and its reference MPC."""

from __future__ import annotations

import numpy as np
import pytest

from controllers.advisor import (
    AdvisorSettings,
    ControlRequest,
    LinearMPC,
    LinearMPCSettings,
    ManipulatedVariable,
)

# A double integrator sampled at 1 s (position, velocity; force input).
A_DI = np.array([[1.0, 1.0], [0.0, 1.0]])
B_DI = np.array([[0.5], [1.0]])


def _make_request(x0, u_now, lower, upper, rate, *, budget_s=1.0):
    """A ControlRequest with all measurements valid."""
    x0 = np.asarray(x0, float)
    return ControlRequest(
        time_s=0.0,
        mv_current=np.atleast_1d(np.asarray(u_now, float)),
        mv_lower=np.atleast_1d(np.asarray(lower, float)),
        mv_upper=np.atleast_1d(np.asarray(upper, float)),
        mv_rate=np.atleast_1d(np.asarray(rate, float)),
        measurements=x0,
        measurement_valid=np.ones(x0.size, bool),
        history=np.zeros((0, x0.size)),
        time_budget_s=budget_s,
    )


@pytest.fixture
def make_request():
    """Factory ``make_request(x0, u_now, lower, upper, rate)`` of valid ControlRequests."""
    return _make_request


@pytest.fixture(scope="module")
def di_mpc():
    """Double-integrator MPC, horizon 10, position limited to [-5, 5]."""
    return LinearMPC(
        LinearMPCSettings(
            A=A_DI,
            B=B_DI,
            Q=np.diag([1.0, 0.1]),
            R=np.array([[0.5]]),
            horizon=10,
            mv_names=("force",),
            cv_names=("position", "velocity"),
            x_lower=[-5.0, -np.inf],
            x_upper=[5.0, np.inf],
        )
    )


@pytest.fixture
def di_settings():
    """Advisor settings for the double integrator: |force| <= 1, rate 0.5 per interval."""
    return AdvisorSettings(
        mvs=(ManipulatedVariable("force", -1.0, 1.0, 0.5),),
        measurement_names=("position", "velocity"),
        interval_s=1.0,
        time_budget_s=5.0,
    )
