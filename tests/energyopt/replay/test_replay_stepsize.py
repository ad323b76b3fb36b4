"""The replay's RK4 sub-step is bounded by the plant's stability limit."""

from __future__ import annotations

import numpy as np
import pytest

from energyopt.closedloop.chemical import build_chemical_scenario
from energyopt.closedloop.steelworks import build_steelworks_scenario
from energyopt.replay.stepsize import SAFETY_FACTOR, SUBSTEP_S, replay_substeps
from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.mathfuncs import zeros
from plant_models.core.stability import RK4_REAL_LIMIT, rk4_step_limit_s


def _rows(truth, n):
    """The truth plant's start held for n rows (states NaN: read off x0)."""
    nx = truth.model.sizes["x"]
    u = np.zeros((n, truth.model.sizes["u"]))
    return np.full((n, nx), np.nan), u, np.asarray(truth.disturbances[:n])


def test_steelworks_keeps_the_five_second_substep():
    scenario = build_steelworks_scenario(days=0.05, seed=0)
    truth = scenario.truth
    x, u, d = _rows(truth, 30)
    u[:] = scenario.u0
    # The steelworks' stiffest lags (reducing stations, 5 s; flares, 10 s) allow
    # RK4 steps up to ~14 s: the 5 s cap decides, 12 sub-steps a minute.
    limit = rk4_step_limit_s(truth.model, [(truth.x0, scenario.u0, d[0])], truth.parameters)
    assert limit / SAFETY_FACTOR > SUBSTEP_S
    assert replay_substeps(truth.model, 60.0, x, u, d, truth.parameters, truth.x0) == 12


def test_chemical_flowsheet_gets_a_stable_substep():
    scenario = build_chemical_scenario(days=0.05, seed=0)
    plant = scenario.plant
    x, u, d = _rows(plant, 30)
    u[:] = scenario.u0
    n = replay_substeps(plant.model, 60.0, x, u, d, plant.parameters, plant.x0)
    limit = rk4_step_limit_s(plant.model, [(plant.x0, scenario.u0, d[0])], plant.parameters)
    # The valve lags make 5 s unstable for RK4 (measured limit 3.9 s along the
    # demo run): the sub-step is the limit over the samples halved.
    assert limit < SUBSTEP_S
    assert 60.0 / n <= limit / SAFETY_FACTOR + 1e-12
    assert 60.0 / (n - 1) > limit / SAFETY_FACTOR
    # RK4 at 2 s is the plant's product integrator (plant_models.flowsheet.chemical).
    assert 60.0 / n <= 2.0 + 1e-9


@equation
def _lag_f(x, u, d, p):
    dxdt = zeros(1)
    dxdt[0] = (u[0] - x[0]) / p[0]
    return dxdt


@equation
def _lag_g(x, u, d, p):
    y = zeros(1)
    y[0] = x[0]
    return y


LAG = EquationModel(
    name="one_lag",
    f=_lag_f,
    g=_lag_g,
    states=(Variable("valve", "dimensionless", "valve", 0.0, 1.0),),
    inputs=(Variable("command", "dimensionless", "command", 0.0, 1.0),),
    disturbances=(),
    outputs=(Variable("position", "dimensionless", "position", 0.0, 1.0),),
    parameters=(Variable("tau_s", "s", "tau", 0.1, 100.0),),
)


@pytest.mark.parametrize(("tau_s", "expected"), [(1.0, 44), (100.0, 12)])
def test_substeps_follow_the_stiffest_lag(tau_s, expected):
    x = np.full((5, 1), np.nan)
    u = np.full((5, 1), 0.5)
    d = np.zeros((5, 0))
    # Limit 2.785 tau / 2: 1.393 s for tau = 1 s -> ceil(60 / 1.393) = 44 sub-steps;
    # a 100-s lag allows far more than the 5-s cap -> 12.
    assert replay_substeps(LAG, 60.0, x, u, d, np.array([tau_s]), np.zeros(1)) == expected
    assert 60.0 / expected <= min(SUBSTEP_S, RK4_REAL_LIMIT * tau_s / SAFETY_FACTOR)
