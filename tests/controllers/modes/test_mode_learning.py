"""Learning operating modes: steady-sample rule, clustering, naming, serialisation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from controllers.modes import (
    LearningSettings,
    ModeError,
    ModeModel,
    learn_modes,
    mean_silhouette,
    partition_bic,
    steady_mask,
)

# ----------------------------------------------------------------- steady rule


def test_steady_mask_flags_ramp_edges_and_nan() -> None:
    rng = np.random.default_rng(0)
    flat = 5.0 + 0.01 * rng.standard_normal(200)
    ramp = np.linspace(5.0, 9.0, 100)
    x = np.concatenate([flat, ramp, 9.0 + 0.01 * rng.standard_normal(200)])
    x[50] = np.nan
    mask = steady_mask(x, window=21, rel_std=0.02)
    # Edges (half a window) cannot be checked; the NaN sample is never steady.
    assert not mask[:10].any()
    assert not mask[-10:].any()
    assert not mask[50]
    # Neighbours of the NaN are still judged on the rest of their window.
    assert mask[40:50].all()
    assert mask[51:60].all()
    # Ramp interior: std over 21 samples of a 0.04/sample slope is 0.24 > 0.02 * 4.
    assert not mask[210:290].any()
    assert mask[10:50].all()
    assert mask[51:190].all()
    assert mask[320:490].all()


def test_steady_mask_rejects_sparse_window() -> None:
    x = np.full((30, 2), 1.0)
    x[np.arange(30) % 3 != 0] = np.nan
    mask = steady_mask(x, window=5, rel_std=0.1)
    # A 5-row window centred on a valid row holds 1 valid row: fewer than half.
    assert not mask.any()
    # With every other row valid it holds 3 of 5, enough.
    x = np.full((30, 2), 1.0)
    x[1::2] = np.nan
    mask = steady_mask(x, window=5, rel_std=0.1)
    assert_array_equal(np.flatnonzero(mask), np.arange(2, 28, 2))


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [({"window": 2, "rel_std": 0.1}, "at least 3"), ({"window": 5, "rel_std": 0.0}, "positive")],
)
def test_steady_mask_bad_settings(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ModeError, match=fragment):
        steady_mask(np.zeros((10, 1)), **kwargs)


def test_steady_mask_rejects_inf() -> None:
    with pytest.raises(ModeError, match="infinite"):
        steady_mask(np.array([1.0, np.inf, 2.0]), window=3, rel_std=0.1)


# ----------------------------------------------------------------- criteria


def test_mean_silhouette_hand_computed() -> None:
    # Clusters {0, 1} and {10, 11}: for 0, a = 1 and b = (10 + 11) / 2 = 10.5;
    # for 1, a = 1 and b = (9 + 10) / 2 = 9.5; the other cluster mirrors it.
    z = np.array([[0.0], [1.0], [10.0], [11.0]])
    expected = 0.5 * ((10.5 - 1.0) / 10.5 + (9.5 - 1.0) / 9.5)
    # Same arithmetic, different summation order: rounding only.
    assert_allclose(mean_silhouette(z, [0, 0, 1, 1]), expected, rtol=1e-12)


def test_mean_silhouette_needs_two_clusters() -> None:
    with pytest.raises(ModeError, match="two clusters"):
        mean_silhouette(np.zeros((3, 1)), [0, 0, 0])


def test_partition_bic_single_cluster_matches_normal_log_likelihood() -> None:
    # Independent computation: -2 * sum of scipy's normal log-density at the
    # maximum-likelihood mean and variance, plus 2 parameters * ln n.
    from scipy.stats import norm

    rng = np.random.default_rng(3)
    z = rng.standard_normal((500, 1))
    log_like = norm.logpdf(z[:, 0], loc=z.mean(), scale=z.std()).sum()
    expected = -2.0 * log_like + 2.0 * np.log(500)
    # Closed form versus summed densities: rounding only.
    assert_allclose(partition_bic(z, np.zeros(500, dtype=int)), expected, rtol=1e-10)


# ----------------------------------------------------------------- learning


def test_learns_three_modes(history, learned: ModeModel) -> None:
    assert learned.n_modes == 3
    assert dict(learned.scores)[3] == max(s for _, s in learned.scores)
    # One mode was a candidate, and three modes beat it on BIC.
    assert learned.bic[0][0] == 1
    assert learned.bic[1][0] == 3
    assert learned.bic[1][1] < learned.bic[0][1]
    assert learned.variables == ("feed", "temperature", "sel")
    for i, name in enumerate(history.names):
        j = learned.index(name)
        # Centre = mean of >= 400 noisy samples: standard error <= 0.05 sigma;
        # 0.2 sigma is 4 standard errors.
        error_in_sigma = (learned.centres[j] - history.centres[i]) / history.noise_std
        assert_allclose(error_in_sigma, 0.0, atol=0.2)
        # Std estimate of >= 400 samples: relative standard error 1/sqrt(2n) < 0.036;
        # 12 % covers 3 of them plus a few ramp-edge samples kept as steady.
        assert_allclose(learned.spreads[j], history.noise_std, rtol=0.12)


def test_steady_samples_labelled_correctly(history, learned: ModeModel) -> None:
    labels = learned.classify(history.x)
    index_of_truth = np.array([learned.index(n) for n in history.names])
    in_mode = history.truth >= 0
    valid = np.isfinite(history.x).all(axis=1)
    check = in_mode & valid
    correct = labels[check] == index_of_truth[history.truth[check]]
    assert correct.mean() >= 0.95
    assert (labels[~valid] == -1).all()


def test_shares_account_for_every_valid_sample(history, learned: ModeModel) -> None:
    n_valid = int(np.isfinite(history.x).all(axis=1).sum())
    # Shares of modes plus transition partition the valid samples: rounding only.
    assert_allclose(learned.shares.sum() + learned.transition_share, 1.0, rtol=1e-12)
    for i, name in enumerate(history.names):
        true_share = np.count_nonzero(history.truth == i) / n_valid
        n_segments = history.sequence.count(i)
        # The steady rule drops at most half a window (15) at each end of each
        # segment and NaN rows; it may keep up to half a window of each ramp end.
        slack = (2 * 15 * n_segments + 50) / n_valid
        assert abs(learned.shares[learned.index(name)] - true_share) <= slack


def test_learning_is_repeatable(history, declared) -> None:
    again = learn_modes(history.x, declared=declared, variables=("feed", "temperature", "sel"))
    first = learn_modes(history.x, declared=declared, variables=("feed", "temperature", "sel"))
    assert again.names == first.names
    assert_array_equal(again.centres, first.centres)


def test_default_names_ordered_by_centre(history) -> None:
    model = learn_modes(history.x)
    assert model.names == ("mode_1", "mode_2", "mode_3")
    assert np.all(np.diff(model.centres[:, 0]) > 0)


def test_fewer_declared_names_than_modes(history, declared) -> None:
    partial = {"high_rate": declared["high_rate"]}
    model = learn_modes(history.x, declared=partial)
    assert "high_rate" in model.names
    assert_allclose(model.centres[model.index("high_rate")][0], 14.0, atol=0.1)  # 0.1 = 0.7 sigma
    assert sorted(n for n in model.names if n != "high_rate") == ["mode_1", "mode_2"]


def test_single_normal_cloud_is_one_mode() -> None:
    rng = np.random.default_rng(11)
    x = np.array([10.0, 110.0]) + np.array([0.15, 0.4]) * rng.standard_normal((1500, 2))
    model = learn_modes(x, steady=np.ones(1500, dtype=bool))
    assert model.n_modes == 1
    assert np.isnan(model.silhouette)
    # Silhouette alone would have split it: its best k >= 2 scores above 0.25.
    assert max(s for _, s in model.scores) > 0.25


def test_k_min_two_forces_clusters() -> None:
    rng = np.random.default_rng(11)
    x = rng.standard_normal((600, 2))
    model = learn_modes(x, LearningSettings(k_min=2, k_max=3), steady=np.ones(600, dtype=bool))
    assert model.n_modes >= 2
    # One mode was not a candidate: only the chosen partition's BIC is reported.
    assert [k for k, _ in model.bic] == [model.n_modes]


def test_round_trip_through_plain_json(learned: ModeModel) -> None:
    text = json.dumps(learned.to_dict(), allow_nan=False)
    back = ModeModel.from_dict(json.loads(text))
    assert back.names == learned.names
    assert back.scores == learned.scores
    assert back.bic == learned.bic
    assert back.method == learned.method
    for attr in ("centres", "spreads", "shares", "offset", "scale"):
        assert_array_equal(getattr(back, attr), getattr(learned, attr))


def test_model_arrays_are_read_only(learned: ModeModel) -> None:
    with pytest.raises(ValueError, match="read-only"):
        learned.centres[0, 0] = 0.0


# ----------------------------------------------------------------- failures


def test_too_few_steady_samples() -> None:
    # Oscillation with a 6-sample period: rolling std 0.7 of a range of 2.
    x = np.sin(np.arange(500.0))[:, np.newaxis]
    with pytest.raises(ModeError, match="steady samples"):
        learn_modes(x)


def test_wrong_label_count(history) -> None:
    with pytest.raises(ModeError, match="2 variable labels for 3 columns"):
        learn_modes(history.x, variables=("a", "b"))


def test_wrong_steady_mask_shape(history) -> None:
    with pytest.raises(ModeError, match="steady mask"):
        learn_modes(history.x, steady=np.ones(3, dtype=bool))


def test_declared_setpoints_wrong_length(history) -> None:
    with pytest.raises(ModeError, match="3 finite setpoints"):
        learn_modes(history.x, declared={"a": [1.0, 2.0]})


def test_declared_transition_name_reserved(history) -> None:
    with pytest.raises(ModeError, match="reserved"):
        learn_modes(history.x, declared={"transition": [10.0, 110.0, 60.0]})


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"k_min": 3, "k_max": 2}, "k_min <= k_max"),
        ({"n_init": 0}, "at least 1"),
        ({"silhouette_samples": 5}, "silhouette_samples"),
    ],
)
def test_bad_learning_settings(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ModeError, match=fragment):
        LearningSettings(**kwargs)


def test_from_dict_missing_key(learned: ModeModel) -> None:
    data = learned.to_dict()
    del data["scale"]
    with pytest.raises(ModeError, match="scale"):
        ModeModel.from_dict(data)


def test_model_validation(learned: ModeModel) -> None:
    data = learned.to_dict()
    data["names"] = ["a", "a", "b"]
    with pytest.raises(ModeError, match="unique"):
        ModeModel.from_dict(data)
    data = learned.to_dict()
    data["centres"] = data["centres"][:2]
    with pytest.raises(ModeError, match="centres must have shape"):
        ModeModel.from_dict(data)
    with pytest.raises(ModeError, match="unknown mode 'nope'"):
        learned.index("nope")
    with pytest.raises(ModeError, match="has 3"):
        learned.distances(np.zeros(2))
