"""Preloaded snapshots: the same numbers as reading the file, without touching it."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from energyopt.demos.history import DEMO_START_MS

DAY_MS = 86_400_000


class _CountingReader:
    """Counts the session reader's data reads (metadata stays free)."""

    def __init__(self, monkeypatch, reader):
        self.calls: list[str] = []
        for name in ("read", "read_resampled", "dataset"):
            original = getattr(reader, name)

            def counted(*args, _name=name, _original=original, **kwargs):
                self.calls.append(_name)
                return _original(*args, **kwargs)

            monkeypatch.setattr(reader, name, counted)


@pytest.mark.slow  # two sessions (economic MPC builds): ~15 s
def test_preloaded_snapshots_equal_file_reads_and_read_no_file(advise_demo, session, monkeypatch):
    from energyopt.advise import AdvisorSession

    start = DEMO_START_MS + 3 * DAY_MS + 2 * 3_600_000
    fast = session
    with AdvisorSession.open(advise_demo / "plant.toml", advise_demo / "history.h5") as plain:
        times = fast.decision_times(start, start + 4 * 3_600_000)[::4]
        assert times.size == 4
        fast.preload(int(times[0]), int(times[-1]))
        # The same disturbance record (so the same forecast) in both; only the
        # plain session's tag windows are read from the file.
        plain._read_record(int(times[0]), int(times[-1]))
        for t in times:  # the forecasts' fits happen here, not under the counter
            fast._forecast(int(t))
            plain._forecast(int(t))
        counter = _CountingReader(monkeypatch, fast.reader)
        file_counter = _CountingReader(monkeypatch, plain.reader)
        for t in times:
            a, b = plain.snapshot(int(t)), fast.snapshot(int(t))
            # Same samples, same cleaning: bit-for-bit equal (NaN in the same places).
            assert_array_equal(a.time_ms, b.time_ms)
            assert_array_equal(a.states, b.states)
            assert_array_equal(a.inputs, b.inputs)
            assert np.isfinite(b.states).any()  # (the last time is in a demo outage)
        assert counter.calls == []
        # The comparison is not vacuous: the plain session did read the file.
        assert "read_resampled" in file_counter.calls


@pytest.mark.slow  # a forecast refit for the later time: ~5 s
def test_time_off_the_preloaded_span_or_grid_reads_the_file(session, monkeypatch):
    t0 = DEMO_START_MS + 3 * DAY_MS + 10 * 3_600_000
    s = session
    s.preload(t0, t0 + 3_600_000)
    late, off_grid = t0 + 4 * 3_600_000, t0 + 30_000  # 30 s: between two samples
    for t in (late, off_grid):
        s._forecast(t)  # the forecast's record read is not what is counted
    counter = _CountingReader(monkeypatch, s.reader)
    s.snapshot(late)
    assert counter.calls.count("read_resampled") == 1
    s.snapshot(off_grid)
    assert counter.calls.count("read_resampled") == 2
    s.snapshot(t0 + 60_000)  # inside and on the grid: from memory
    assert counter.calls.count("read_resampled") == 2
