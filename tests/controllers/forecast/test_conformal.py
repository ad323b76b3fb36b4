"""Split-conformal quantiles: ranks by hand, coverage on i.i.d. scores and on forecaster errors."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.errors import ForecastError
from controllers.forecast.conformal import (
    conformal_quantile,
    conformal_rank,
    empirical_coverage,
)
from tests.controllers.forecast.conftest import PER_DAY


def test_rank_is_ceil_of_n_plus_one_times_q():
    # (n + 1) q = 100 * 0.9 = 90 exactly: rank 90, not 91 (Lei et al. 2018, eq. 4).
    assert conformal_rank(99, 0.9) == 90
    assert conformal_rank(100, 0.9) == 91  # 101 * 0.9 = 90.9 -> 91
    assert conformal_rank(999, 0.999) == 999  # the largest of 999 scores
    assert conformal_rank(1, 0.4) == 1


def test_quantile_is_the_ranked_score_per_column():
    scores = np.column_stack([np.arange(1.0, 100.0), 2.0 * np.arange(99.0, 0.0, -1.0)])
    # Rank 90 of 1..99 is 90; of 2, 4, ..., 198 it is 180.  Exact order statistics.
    assert_allclose(conformal_quantile(scores, 0.9), [90.0, 180.0], rtol=0, atol=0)
    # NaN scores drop out of their column: 98 finite left, rank ceil(99 * 0.9) = 90.
    with_nan = scores[:, 0].copy()
    with_nan[0] = np.nan
    assert conformal_quantile(with_nan, 0.9) == 91.0


def test_too_few_scores_for_the_quantile_raise():
    with pytest.raises(ForecastError, match="need at least 999"):
        conformal_quantile(np.arange(500.0), 0.999)
    with pytest.raises(ForecastError, match=r"must be in \(0, 1\)"):
        conformal_rank(10, 1.0)
    with pytest.raises(ForecastError, match="1-D or 2-D"):
        conformal_quantile(np.zeros((2, 2, 2)), 0.5)


def test_marginal_coverage_of_iid_heavy_tailed_scores():
    # Split-conformal guarantee: E[coverage] in [q, q + 1 / (n + 1)] for any
    # exchangeable continuous scores.  Pareto (tail index 1.5, infinite
    # variance) scores, n = 199, q = 0.95: expected coverage in [0.95, 0.955].
    rng = np.random.default_rng(3)
    n, q, trials = 199, 0.95, 400
    cover = np.empty(trials)
    for i in range(trials):
        bound = conformal_quantile(rng.pareto(1.5, n), q)
        cover[i] = empirical_coverage(rng.pareto(1.5, 2000), bound)
    # Mean of 400 coverages, each Beta-distributed with sd ~0.015 plus the
    # test-set binomial sd 0.005: standard error ~0.0008; 0.004 is 5 of them.
    assert_allclose(cover.mean(), 0.9525, atol=0.004)


def test_coverage_counts_per_column_and_skips_nan():
    scores = np.array([[1.0, 5.0], [2.0, np.nan], [3.0, 7.0]])
    # Column 0: 2 of 3 at or below 2; column 1: 1 of 2 finite at or below 6.
    assert_allclose(empirical_coverage(scores, [2.0, 6.0]), [2 / 3, 0.5], rtol=1e-15)
    assert np.isnan(empirical_coverage(np.full((2, 1), np.nan), [1.0])[0])


def test_per_lead_conformal_bound_covers_held_out_forecast_errors(fitted, history):
    # The forecaster fitted on the first 60 days; origins of the last 14 split
    # in a calibration half and a test half.  Scores: |error| per lead.
    horizon, stride = 8, 1
    errors = []
    for o in range(history.n_train, history.y.size - horizon, stride):
        sl = slice(o, o + horizon)
        fc = fitted.forecast(history.y[o - 48 : o], history.tod[sl], history.dow[sl])
        errors.append(history.y[sl] - fc.mean)
    scores = np.abs(np.array(errors))
    half = 7 * PER_DAY
    bound = conformal_quantile(scores[:half], 0.95)
    cover = empirical_coverage(scores[half:], bound)
    # 665 test origins, overlapping by up to 8 steps (AR(1) phi 0.8 errors):
    # effective sample ~150, binomial sd ~0.018 at 0.95; 0.05 is about 3 sd
    # of that plus the calibration half's own sampling error.
    assert_allclose(cover, 0.95, atol=0.05)
    # The bound widens with the lead (AR(1): sd grows from 2 to 2 / 0.6 = 3.3).
    assert bound[-1] > 1.3 * bound[0]
