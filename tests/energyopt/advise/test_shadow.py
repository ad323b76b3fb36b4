"""Shadow mode on the demo steelworks: totals, the followed case, the file, cancellation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.advise import run_shadow, shadow_records
from energyopt.advise.shadow import summarise
from energyopt.demos.history import DEMO_START_MS
from energyopt.errors import CancelledError
from energyopt.progress import CancelToken

START_MS = DEMO_START_MS + 3 * 86_400_000 + 10 * 3_600_000
STEP_MS = 900_000


@pytest.mark.slow
def test_followed_interval_counts_zero_and_totals_add_up(session, monkeypatch):
    times = np.array([START_MS, START_MS + STEP_MS], dtype=np.int64)
    asked = []
    recommend, current = session.recommend, session.current_mvs

    def remember(at_ms):
        rec = recommend(at_ms)
        asked.append(rec)
        return rec

    def operators(at_ms):
        # The operators follow the first recommendation exactly.
        if at_ms == START_MS + STEP_MS and len(asked) == 1:
            return np.array([mv.setpoint for mv in asked[0].mvs])
        return current(at_ms)

    monkeypatch.setattr(session, "recommend", remember)
    monkeypatch.setattr(session, "current_mvs", operators)
    intervals, skipped = shadow_records(session, times)
    assert skipped == []
    assert [i["time_ms"] for i in intervals] == list(times)
    assert intervals[0]["followed"]
    assert intervals[0]["missed_saving"] == 0.0
    assert intervals[0]["cause"] is None
    summary = summarise(intervals)
    missed = [i["missed_saving"] for i in intervals]
    # Same numbers summed in another order: equal to round-off.
    assert_allclose(summary["missed_total"], sum(missed), rtol=1e-12)
    hourly = sum(h["missed"] for h in summary["missed_savings_per_hour"])
    assert_allclose(hourly, sum(missed), rtol=1e-12)
    assert_allclose(sum(summary["missed_by_cause"].values()), sum(missed), rtol=1e-12)
    moves = intervals[1]["operator_moves"]["boiler_1_bfg"]
    assert moves["tag"] == "PP.B1.BFG.FLOW.SP"
    assert moves["unit"] == "Nm3/h"


@pytest.mark.slow
def test_run_shadow_writes_the_contract(advise_demo, tmp_path):
    done = []
    path = run_shadow(
        advise_demo / "plant.toml",
        advise_demo / "history.h5",
        tmp_path,
        start_ms=START_MS,
        end_ms=START_MS + 3 * STEP_MS,
        progress=lambda d, t, m: done.append((d, t)),
    )
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "energyopt-shadow"
    assert doc["version"] == 1
    assert doc["currency"] == "CNY"
    assert doc["timezone"] == "Asia/Shanghai"
    assert doc["period"] == {"start_ms": START_MS, "end_ms": START_MS + 3 * STEP_MS}
    assert len(doc["intervals"]) == 3
    assert done[-1] == (3, 3)
    total = sum(i["missed_saving"] for i in doc["intervals"])
    assert_allclose(sum(h["missed"] for h in doc["missed_savings_per_hour"]), total, rtol=1e-12)
    assert_allclose(sum(doc["missed_by_cause"].values()), total, rtol=1e-12)
    savings = [r["predicted_saving"] for r in doc["top_recommendations"]]
    assert savings == sorted(savings, reverse=True)
    assert len(savings) <= 20
    assert set(doc["top_recommendations"][0]) >= {"time_ms", "mvs", "expected_saving"}


def test_cancel_leaves_no_file(advise_demo, tmp_path):
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        run_shadow(
            advise_demo / "plant.toml",
            advise_demo / "history.h5",
            tmp_path,
            start_ms=START_MS,
            end_ms=START_MS + STEP_MS,
            cancel=token,
        )
    assert list(tmp_path.iterdir()) == []
