"""The dask.distributed path: trials on a LocalCluster of two worker processes."""

from __future__ import annotations

import json
import math

import pytest
from numpy.testing import assert_allclose
from tune_helpers import BOWL, calls, write_case

from energyopt.errors import EnergyoptError
from energyopt.tune import load_tune_project, run_tune

distributed = pytest.importorskip("distributed")


@pytest.mark.slow
def test_tune_on_a_local_cluster(tmp_path):
    project_path, data = write_case(tmp_path)
    project, settings = load_tune_project(project_path)
    start = 1_700_006_400_000 + 6 * 3_600_000  # explicit: one 6-h window from 06:00 UTC
    with distributed.LocalCluster(
        processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        result = run_tune(
            project,
            data,
            tmp_path / "tune",
            settings=settings,
            budget=4,
            windows=[(start, start + 6 * 3_600_000)],
            scheduler=cluster.scheduler_address,
            evaluate=BOWL,
        )
    assert result.windows == ((start, start + 6 * 3_600_000),)
    assert len(result.trials) == 4
    assert all(t.status == "complete" for t in result.trials)
    # Every score is the bowl recomputed here for the trial's settings.
    offsets = [(a % 86_400_000) / 86_400_000.0 for a, _ in result.windows]
    for trial in result.trials:
        lb = math.log10(trial.params["controller.band_weight"])
        lm = math.log10(trial.params["controller.economic.move_weight"])
        expected = sum(1000.0 * ((lb - 2.5) ** 2 + (lm - 3.5) ** 2) + 100.0 + o for o in offsets)
        assert_allclose(trial.score.value, expected, rtol=1e-12)  # same formula, float sums
    # Current settings + 4 trials, one window each, run by the cluster's workers.
    lines = [json.loads(line) for line in calls(data)]
    assert len(lines) == 5
    assert {line["start_ms"] for line in lines} == {start}


def test_unreachable_scheduler(tmp_path, monkeypatch):
    monkeypatch.setattr("energyopt.tune.executors.CONNECT_TIMEOUT_S", 1.0)
    project_path, data = write_case(tmp_path)
    project, settings = load_tune_project(project_path)
    with pytest.raises(EnergyoptError, match="cannot reach the dask scheduler"):
        run_tune(
            project,
            data,
            tmp_path / "tune",
            settings=settings,
            budget=1,
            scheduler="tcp://127.0.0.1:9",
            evaluate=BOWL,
        )
