"""Shared helpers of the NMPC tests: request factory."""

from __future__ import annotations

import numpy as np
import pytest

from controllers.advisor import ControlRequest


def _make_request(measurements, u_now, lower, upper, rate, *, valid=None):
    """A ControlRequest whose measurement vector is ``(x_hat, w_hat, d)``."""
    meas = np.asarray(measurements, float)
    return ControlRequest(
        time_s=0.0,
        mv_current=np.atleast_1d(np.asarray(u_now, float)),
        mv_lower=np.atleast_1d(np.asarray(lower, float)),
        mv_upper=np.atleast_1d(np.asarray(upper, float)),
        mv_rate=np.atleast_1d(np.asarray(rate, float)),
        measurements=meas,
        measurement_valid=np.ones(meas.size, bool) if valid is None else np.asarray(valid),
        history=np.zeros((0, meas.size)),
        time_budget_s=1.0,
    )


@pytest.fixture
def make_request():
    """Factory ``make_request(measurements, u_now, lower, upper, rate)``."""
    return _make_request
