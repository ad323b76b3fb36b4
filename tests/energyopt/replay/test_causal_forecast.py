"""The replay's causal forecast source never reads the record after the decision time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from energyopt.controlbuild import DisturbanceRecord, read_disturbance_record
from energyopt.controlbuild.causal import causal_forecast_source
from energyopt.data.reader import HistorianReader
from energyopt.demos.history import DEMO_START_MS
from energyopt.errors import ModelError
from energyopt.plantbuild import build_plant
from energyopt.project import load_project

HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def record(steelworks_demo: tuple[Path, Path]):
    project, data = steelworks_demo
    built = build_plant(load_project(project))
    with HistorianReader(data) as reader:
        rec = read_disturbance_record(built, reader, (None, None), 60_000)
    return built, rec


def _scrambled_after(rec: DisturbanceRecord, cut_ms: int) -> DisturbanceRecord:
    """The same record with every sample at or after ``cut_ms`` replaced by garbage."""
    late = rec.time_ms >= cut_ms
    rng = np.random.default_rng(7)
    values = {}
    for name, v in rec.values.items():
        w = v.copy()
        w[late] = rng.uniform(0.0, 10.0, int(late.sum())) * np.nanmax(np.abs(v))
        values[name] = w
    return DisturbanceRecord(rec.time_ms, values)


def test_forecast_ignores_the_future(record) -> None:
    """Fit and forecast at t are identical whatever the record holds from t on."""
    built, rec = record
    first = DEMO_START_MS + 3 * 24 * HOUR_MS + 3 * HOUR_MS
    for t in (first + 5 * HOUR_MS // 4,):
        clean = causal_forecast_source(built, rec, start_ms=int(t))
        dirty = causal_forecast_source(built, _scrambled_after(rec, int(t)), start_ms=int(t))
        ha, hb = clean.horizon(int(t)), dirty.horizon(int(t))
        # Bit-identical: the same samples in the same arithmetic.
        assert_array_equal(ha.inputs.d, hb.inputs.d)
        assert_array_equal(ha.inputs.price_per_j, hb.inputs.price_per_j)
        # The forecaster is handed only the samples before the decision time.
        assert int(clean.forecast.record.time_ms[-1]) < int(t)


def test_rolling_refit_ignores_the_future(record) -> None:
    """A source rolling hour by hour (refitting hourly) never sees the later samples."""
    built, rec = record
    start = DEMO_START_MS + 3 * 24 * HOUR_MS
    end = start + 3 * HOUR_MS
    clean = causal_forecast_source(built, rec, start_ms=start, refit_every_s=3600.0)
    dirty = causal_forecast_source(
        built, _scrambled_after(rec, end), start_ms=start, refit_every_s=3600.0
    )
    for t in range(start, end + 1, 30 * 60_000):
        assert_array_equal(clean.horizon(t).inputs.d, dirty.horizon(t).inputs.d)
    assert clean.refits == 4  # the first fit, then one an hour


def test_refits_at_most_once_per_interval(record) -> None:
    built, rec = record
    start = DEMO_START_MS + 3 * 24 * HOUR_MS
    source = causal_forecast_source(built, rec, start_ms=start)
    for t in start + np.arange(0, 12 * HOUR_MS, HOUR_MS):
        source(float(t) / 1000.0)
    assert source.refits == 1  # one day between refits, 12 h replayed


def test_no_history_before_start(record) -> None:
    built, rec = record
    with pytest.raises(ModelError, match="no history before the replay start"):
        causal_forecast_source(built, rec, start_ms=int(rec.time_ms[0]))
    with pytest.raises(ModelError, match="refit_every_s must be positive"):
        causal_forecast_source(built, rec, start_ms=int(rec.time_ms[-1]), refit_every_s=0.0)
