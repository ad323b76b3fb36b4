"""Online mode classification: hysteresis, dwell, NaN hold, transition."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.modes import (
    TRANSITION,
    ClassifierSettings,
    ModeClassifier,
    ModeError,
    ModeModel,
    ModeState,
)

HYSTERESIS = ClassifierSettings(interval_s=1.0, min_dwell_s=10.0, margin=1.0)
NO_HYSTERESIS = ClassifierSettings(
    interval_s=1.0, min_dwell_s=0.0, margin=0.0, transition_distance=np.inf
)


def run(model: ModeModel, settings: ClassifierSettings, x: np.ndarray) -> list[ModeState]:
    classifier = ModeClassifier(model, settings)
    return [classifier.step(row) for row in x]


def test_one_switch_per_true_switch_with_hysteresis(history, learned: ModeModel) -> None:
    states = run(learned, HYSTERESIS, history.x)
    switch_at = [i for i, s in enumerate(states) if s.switched]
    assert len(switch_at) == len(history.sequence) - 1
    for k, (at, start) in enumerate(zip(switch_at, history.switch_starts, strict=True)):
        # The switch lands after the ramp starts and at most a dwell (10
        # samples) plus a few samples of noise after it ends.
        assert start < at <= start + history.ramp_samples + 10 + 5
        assert states[at].mode == history.names[history.sequence[k + 1]]
    # Between switches the confirmed mode is the true one on every steady sample.
    truth_names = np.array([history.names[t] if t >= 0 else "" for t in history.truth])
    in_mode = history.truth >= 0
    modes = np.array([s.mode for s in states])
    assert (modes[in_mode] == truth_names[in_mode]).all()


def test_chatters_without_hysteresis(history, learned: ModeModel) -> None:
    switches = sum(s.switched for s in run(learned, NO_HYSTERESIS, history.x))
    # The plain nearest-mode rule flips back and forth on the noisy ramps.
    assert switches > len(history.sequence) - 1


def test_first_sample_confirms_at_once_without_switch(learned: ModeModel) -> None:
    classifier = ModeClassifier(learned, HYSTERESIS)
    assert classifier.mode == TRANSITION
    state = classifier.step(learned.centres[1])
    assert state.mode == learned.names[1]
    assert not state.switched
    assert state.confidence > 0.99
    assert_allclose(state.distance, 0.0, atol=1e-12)  # the centre itself: exact zero


def test_dwell_counts_consecutive_samples_and_nan_holds(learned: ModeModel) -> None:
    a, b = learned.centres[0], learned.centres[1]
    settings = ClassifierSettings(interval_s=2.0, min_dwell_s=10.0, margin=1.0)
    classifier = ModeClassifier(learned, settings, initial_mode=learned.names[0])
    nan = np.full(3, np.nan)
    # Five candidate samples of 2 s are needed; two NaN samples in between
    # neither count nor reset the dwell.
    feed = [b, b, b, nan, nan, b]
    states = [classifier.step(x) for x in feed]
    assert [s.mode for s in states] == [learned.names[0]] * 6
    assert [s.held for s in states] == [False, False, False, True, True, False]
    assert all(np.isnan(s.distance) for s in states[3:5])
    state = classifier.step(b)
    assert state.switched
    assert state.mode == learned.names[1]
    # One sample back in the old mode resets a dwell in progress.
    for x in (a, a, b, a, a, a, a):
        state = classifier.step(x)
        assert not state.switched


def test_nan_samples_hold_mode(history, learned: ModeModel) -> None:
    states = run(learned, HYSTERESIS, history.x)
    for i in history.nan_rows:
        assert states[i].held
        assert not states[i].switched
        if i > 0:
            assert states[i].mode == states[i - 1].mode
            assert states[i].confidence == states[i - 1].confidence


def test_margin_blocks_a_marginally_closer_mode(learned: ModeModel) -> None:
    # A point a hair nearer mode 2 than mode 1 on the segment between them.
    a, b = learned.centres[0], learned.centres[1]
    classifier = ModeClassifier(
        learned,
        ClassifierSettings(interval_s=1.0, min_dwell_s=0.0, margin=1.0, transition_distance=1e9),
        initial_mode=learned.names[0],
    )
    lo, hi = 0.0, 1.0
    for _ in range(60):  # bisect for the point of equal distance
        mid = 0.5 * (lo + hi)
        dist = learned.distances(a + mid * (b - a))
        lo, hi = (mid, hi) if dist[0] < dist[1] else (lo, mid)
    near_boundary = a + (hi + 1e-3) * (b - a)
    dist = learned.distances(near_boundary)
    assert 0.0 < dist[0] - dist[1] < 1.0
    state = classifier.step(near_boundary)
    assert not state.switched
    assert state.mode == learned.names[0]
    assert state.nearest == learned.names[1]
    state = classifier.step(b)
    assert state.switched


def test_far_sample_is_transition(learned: ModeModel) -> None:
    classifier = ModeClassifier(learned, HYSTERESIS, initial_mode=learned.names[2])
    far = learned.centres[2] + 50.0 * learned.scale
    state = classifier.step(far)
    assert state.in_transition
    assert state.label == TRANSITION
    assert state.nearest == TRANSITION
    assert state.mode == learned.names[2]
    assert state.confidence == 0.0
    assert classifier.step(learned.centres[2]).label == learned.names[2]


def test_reset_and_properties(learned: ModeModel) -> None:
    classifier = ModeClassifier(learned, HYSTERESIS, initial_mode=learned.names[1])
    assert classifier.mode == learned.names[1]
    assert classifier.model is learned
    assert classifier.settings is HYSTERESIS
    classifier.reset()
    assert classifier.mode == TRANSITION


def test_bad_samples(learned: ModeModel) -> None:
    classifier = ModeClassifier(learned, HYSTERESIS)
    with pytest.raises(ModeError, match=r"shape \(3,\)"):
        classifier.step([1.0, 2.0])
    with pytest.raises(ModeError, match="infinite"):
        classifier.step([1.0, np.inf, 2.0])
    with pytest.raises(ModeError, match="unknown mode 'nope'"):
        ModeClassifier(learned, HYSTERESIS, initial_mode="nope")


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"interval_s": 0.0}, "interval_s"),
        ({"interval_s": 1.0, "min_dwell_s": -1.0}, "min_dwell_s"),
        ({"interval_s": 1.0, "margin": np.nan}, "margin"),
        ({"interval_s": 1.0, "transition_distance": 0.0}, "transition_distance"),
        ({"interval_s": 1.0, "min_spread_rel": 0.0}, "min_spread_rel"),
    ],
)
def test_bad_classifier_settings(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ModeError, match=fragment):
        ClassifierSettings(**kwargs)


def test_margin_and_dwell_stop_chatter_between_close_modes() -> None:
    # Two modes only 4 spreads apart, no transition band: noise alone makes the
    # nearest mode flip; margin and dwell must absorb it.
    model = ModeModel(
        names=("a", "b"),
        variables=("x",),
        centres=np.array([[0.0], [1.0]]),
        spreads=np.array([[0.25], [0.25]]),
        shares=np.array([0.5, 0.5]),
        transition_share=0.0,
        offset=np.array([0.5]),
        scale=np.array([0.5]),
    )
    rng = np.random.default_rng(5)
    path = np.concatenate([np.zeros(300), np.linspace(0.0, 1.0, 30), np.ones(300)])
    x = (path + 0.25 * rng.standard_normal(path.size))[:, np.newaxis]
    with_hysteresis = ClassifierSettings(
        interval_s=1.0, min_dwell_s=10.0, margin=1.0, transition_distance=np.inf
    )
    states = run(model, with_hysteresis, x)
    switch_at = [i for i, s in enumerate(states) if s.switched]
    assert len(switch_at) == 1
    assert 300 < switch_at[0] < 360
    assert sum(s.switched for s in run(model, NO_HYSTERESIS, x)) > 10
