"""The replay's MPC path keeps the economic MPC's warm start.

The replay drives the economic MPC through
:class:`energyopt.closedloop.ControllerPolicy`, which hands the previous
plan's tail back as ``previous_plan``.  The MPC must recognise its own plan
there and stay warm-started (shifted primal and multipliers, warm barrier):
treated as a foreign guess, every replay decision was a cold solve (the
1-day demo replay: 45 ipopt iterations median against 13 warm).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.economic import EconomicMPC, RecordedHorizon
from energyopt.closedloop import ControllerPolicy
from tests.controllers.economic.conftest import INTERVAL_S, scenario, settings

HORIZON = 12
DECISIONS = 3


@pytest.fixture(scope="module")
def policy_case():
    """A ``ControllerPolicy`` over the 12 x 1-min steelworks MPC (perfect foresight)."""
    built, run, d, price = scenario(INTERVAL_S, HORIZON + DECISIONS)
    s = settings(INTERVAL_S, HORIZON)
    starts = np.arange(d.shape[0]) * INTERVAL_S
    source = RecordedHorizon(starts, d, price, HORIZON, run.inputs[0])
    reference = (run.states[0], run.inputs[0], run.disturbances[0])
    mpc = EconomicMPC(built.model, built.parameters(), s, forecast=source, reference=reference)
    policy = ControllerPolicy(
        mpc,
        built.model,
        mpc.mv_names,
        [m.low for m in s.mvs],
        [m.high for m in s.mvs],
        [m.rate for m in s.mvs],
        interval_s=INTERVAL_S,
    )
    return run, mpc, policy


def _decide(policy, run, k):
    # The builder passes the "measurement" through: hand it the true state.
    return policy.decide(k * INTERVAL_S, run.states[k], run.disturbances[k], None)


def test_decisions_after_the_first_are_warm_started(policy_case):
    run, mpc, policy = policy_case
    u0 = np.array(run.inputs[0], dtype=np.float64)
    policy.reset(u0, run.states[0])
    warm, iterations = [], []
    for k in range(DECISIONS):
        decision = _decide(policy, run, k)
        assert decision.status in ("optimal", "suboptimal"), mpc.last_stats
        warm.append(mpc.last_stats["warm_start"])
        iterations.append(mpc.last_stats["iterations"])
    assert warm == [False, True, True]
    # The closed loop's reset starts the next run cold again (reproducible runs).
    policy.reset(u0, run.states[0])
    first_again = _decide(policy, run, 0)
    assert mpc.last_stats["warm_start"] is False
    # The same cold solve as the first run's: same iterations, same first move.
    assert mpc.last_stats["iterations"] == iterations[0]
    policy.reset(u0, run.states[0])
    assert_allclose(_decide(policy, run, 0).u, first_again.u, rtol=0.0, atol=0.0)
