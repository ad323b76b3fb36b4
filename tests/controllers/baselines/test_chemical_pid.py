"""PID-only chemical baseline: the mode's nominal setpoints behind the controller contract."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.advisor import Controller, ControlRequest, SolveStatus
from controllers.baselines.base import BaselineError
from controllers.baselines.chemical_pid import ChemicalPidBaseline

NAMES = ("fic_101.setpoint", "tic_102.setpoint")
# The demo project's modes in SI: 18 m3/h at 118 degC and 11 m3/h at 110 degC.
MODES = {
    "high_throughput": {"fic_101.setpoint": 18.0 / 3600.0, "tic_102.setpoint": 391.15},
    "high_selectivity": {"fic_101.setpoint": 11.0 / 3600.0, "tic_102.setpoint": 383.15},
}
LOW = np.array([8.0 / 3600.0, 378.15])
HIGH = np.array([20.0 / 3600.0, 395.15])


def _request(current, mode, rate=(math.inf, math.inf)):
    return ControlRequest(
        time_s=0.0,
        mv_current=np.asarray(current, float),
        mv_lower=LOW,
        mv_upper=HIGH,
        mv_rate=np.asarray(rate, float),
        measurements=np.zeros(0),
        measurement_valid=np.zeros(0, bool),
        history=np.zeros((0, 0)),
        time_budget_s=1.0,
        plant_mode=mode,
    )


def test_returns_the_mode_setpoints():
    pid = ChemicalPidBaseline(MODES, NAMES, "high_throughput", horizon=5)
    assert isinstance(pid, Controller)
    current = [MODES["high_throughput"][n] for n in NAMES]
    sol = pid.solve(_request(current, "high_selectivity"))
    assert sol.status is SolveStatus.OPTIMAL
    assert sol.mv_plan.shape == (5, 2)
    # Without a rate limit the first row is the mode's setpoints exactly.
    np.testing.assert_array_equal(sol.mv_plan[0], [MODES["high_selectivity"][n] for n in NAMES])
    assert pid.mode == "high_selectivity"
    # An unknown or missing mode keeps the last one.
    again = pid.solve(_request(sol.mv_plan[0], None))
    np.testing.assert_array_equal(again.mv_plan[0], sol.mv_plan[0])
    pid.reset()
    assert pid.mode == "high_throughput"


def test_ramps_at_the_rate_limit():
    pid = ChemicalPidBaseline(MODES, NAMES, "high_throughput", horizon=20)
    start = [MODES["high_throughput"][n] for n in NAMES]
    rate = (0.5 / 3600.0, 0.5)  # 0.5 m3/h and 0.5 K per interval
    sol = pid.solve(_request(start, "high_selectivity", rate))
    # 7 m3/h at 0.5 per interval: 14 intervals; 8 K at 0.5: 16 intervals.
    expected_flow = np.maximum(18.0 - 0.5 * np.arange(1, 21), 11.0) / 3600.0
    expected_temp = np.maximum(391.15 - 0.5 * np.arange(1, 21), 383.15)
    # Sums of a few floats: 1e-12 relative is rounding only.
    assert_allclose(sol.mv_plan[:, 0], expected_flow, rtol=1e-12)
    assert_allclose(sol.mv_plan[:, 1], expected_temp, rtol=1e-12)
    moves = np.abs(np.diff(np.vstack([start, sol.mv_plan]), axis=0))
    assert np.all(moves <= np.asarray(rate) * (1 + 1e-12))


def test_failed_for_unusable_request():
    pid = ChemicalPidBaseline(MODES, NAMES, "high_throughput")
    sol = pid.solve(_request([np.nan, 390.0], "high_throughput"))
    assert sol.status is SolveStatus.FAILED
    assert "unusable" in sol.message


@pytest.mark.parametrize(
    ("modes", "names", "default", "fragment"),
    [
        ({}, NAMES, "x", "at least one mode"),
        ({"a": {"fic_101.setpoint": 1.0}}, NAMES, "a", "gives no setpoint for tic_102.setpoint"),
        ({"a": {"fic_101.setpoint": 1.0, "tic_102.setpoint": math.nan}}, NAMES, "a", "non-finite"),
        (MODES, NAMES, "nope", "default mode 'nope'"),
    ],
)
def test_bad_settings(modes, names, default, fragment):
    with pytest.raises(BaselineError, match=fragment):
        ChemicalPidBaseline(modes, names, default)
    with pytest.raises(BaselineError, match="unknown mode"):
        ChemicalPidBaseline(MODES, NAMES, "high_throughput").setpoints("nope")
