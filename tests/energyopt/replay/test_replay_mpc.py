"""The economic MPC replay on a short steelworks window (slow: one solve takes seconds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from energyopt.closedloop import STATUS_CODES
from energyopt.demos.history import DEMO_START_MS
from energyopt.project import load_project
from energyopt.replay import run_replay

HOUR_MS = 3_600_000


@pytest.mark.slow
def test_mpc_replay_short_window(steelworks_demo: tuple[Path, Path]) -> None:
    """One hour at 15 min after three days of history: 4 decisions on a causal forecast."""
    project, data = steelworks_demo
    start = DEMO_START_MS + 74 * HOUR_MS  # Thursday 10:00 local, 3 days of history behind
    run = run_replay(load_project(project), data, "mpc", start_ms=start, end_ms=start + HOUR_MS)
    rows = run.decision_rows
    assert rows.size == 4  # 1 h / 15 min
    assert run.decision_every == 15  # 15 min / 60 s plant step
    status = [STATUS_CODES[s] for s in run.result.status[rows]]
    usable = [k for k, s in enumerate(status) if s in ("optimal", "suboptimal")]
    # On an idle machine every solve converges (about 2 s each); under a loaded
    # shared test run the 20-s wall-time limit can cut some, and the policy
    # then holds the MVs: require the first (cold) decision and most others.
    assert 0 in usable, status
    assert len(usable) >= 3, status
    # A usable decision moved the MVs away from the recorded values in force.
    mv = [run.case.built.index("u", n) for n in ("boiler_1.fuel_0_m3_s", "tg_1.flow_in_kg_s")]
    assert not np.allclose(run.result.inputs[rows[0], mv], run.case.inputs[0, mv])
    # Between decisions the harness records no solve.
    between = np.setdiff1d(np.arange(run.case.n_steps), rows)
    assert np.all(run.result.status[between] == STATUS_CODES.index("none"))
    assert run.kpis["solve_time_median"].value > 0.0
    # The MPC keeps every holder inside its hard limits over the window.
    assert run.kpis["holder_time_outside_hard"].value == 0.0
