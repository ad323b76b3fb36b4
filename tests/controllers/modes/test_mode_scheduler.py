"""Bumpless switching of tuning and parameter vectors between modes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from controllers.modes import (
    TRANSITION,
    ClassifierSettings,
    ModeClassifier,
    ModeError,
    ModeModel,
    ModeScheduler,
    ModeState,
    SchedulerSettings,
)

VALUES = {
    "low_rate": {"q_weights": [1.0, 10.0], "k_reaction": [1.287e12], "move_penalty": [0.1, 0.1]},
    "high_rate": {"q_weights": [5.0, 2.0], "k_reaction": [1.10e12], "move_penalty": [0.5, 0.2]},
    "high_selectivity": {
        "q_weights": [2.0, 20.0],
        "k_reaction": [1.40e12],
        "move_penalty": [0.05, 0.3],
    },
}


def trajectory(scheduler: ModeScheduler, modes: list[str], name: str) -> np.ndarray:
    return np.array([scheduler.step(m).values[name] for m in modes])


def test_linear_ramp_is_bounded_and_reaches_target() -> None:
    settings = SchedulerSettings(interval_s=60.0, ramp_s=600.0)
    scheduler = ModeScheduler(VALUES, settings, initial_mode="low_rate")
    start = np.array(VALUES["low_rate"]["q_weights"])
    target = np.array(VALUES["high_rate"]["q_weights"])
    path = trajectory(scheduler, ["high_rate"] * 15, "q_weights")
    steps = np.diff(np.vstack([start, path]), axis=0)
    bound = np.abs(target - start) * settings.interval_s / settings.ramp_s
    # Linear ramp: every step is exactly the bound (rounding only).
    assert_allclose(np.abs(steps[:10]), np.tile(bound, (10, 1)), rtol=1e-12)
    assert not np.any(np.all(path[:9] == target, axis=1))
    assert_array_equal(path[9:], np.tile(target, (6, 1)))  # exact after 600 s / 60 s = 10 steps


def test_first_order_ramp_matches_exponential() -> None:
    settings = SchedulerSettings(interval_s=10.0, ramp_s=100.0, shape="first_order")
    scheduler = ModeScheduler(VALUES, settings, initial_mode="low_rate")
    start = np.array(VALUES["low_rate"]["move_penalty"])
    target = np.array(VALUES["high_selectivity"]["move_penalty"])
    n = 80
    states = [scheduler.step("high_selectivity") for _ in range(n)]
    path = np.array([s.values["move_penalty"] for s in states])
    t = settings.interval_s * np.arange(1, n + 1)[:, np.newaxis]
    expected = target + (start - target) * np.exp(-t / settings.ramp_s)
    # Independent closed form of the first-order response: rounding only.
    assert_allclose(path, expected, rtol=1e-12, atol=1e-15)
    steps = np.abs(np.diff(np.vstack([start, path]), axis=0))
    bound = np.abs(target - start) * (1.0 - math.exp(-settings.interval_s / settings.ramp_s))
    assert np.all(steps <= bound * (1.0 + 1e-12))
    # Settled after five time constants (50 steps of 10 s).
    assert [s.ramping for s in states[:49]] == [True] * 49
    assert not states[49].ramping
    assert_allclose(path[-1], target, rtol=1e-3)  # exp(-8) = 3.4e-4 of the step is left


def test_switch_during_ramp_starts_from_values_in_force() -> None:
    settings = SchedulerSettings(interval_s=1.0, ramp_s=10.0)
    scheduler = ModeScheduler(VALUES, settings, initial_mode="low_rate")
    modes = ["high_rate"] * 4 + ["high_selectivity"] * 12
    path = trajectory(scheduler, modes, "q_weights")
    full = np.vstack([VALUES["low_rate"]["q_weights"], path])
    steps = np.abs(np.diff(full, axis=0))
    mid = full[4]  # values in force when the second switch arrives
    first_bound = np.abs(np.subtract(VALUES["high_rate"]["q_weights"], full[0])) / 10.0
    second_bound = np.abs(np.subtract(VALUES["high_selectivity"]["q_weights"], mid)) / 10.0
    tol = 1e-12  # rounding only
    assert np.all(steps[:4] <= first_bound + tol)
    assert np.all(steps[4:] <= second_bound + tol)
    assert_array_equal(path[-1], VALUES["high_selectivity"]["q_weights"])


def test_transition_keeps_target_and_mode_state_accepted() -> None:
    scheduler = ModeScheduler(VALUES, SchedulerSettings(interval_s=1.0, ramp_s=2.0), "low_rate")
    state = ModeState("high_rate", 0.9, True, False, "high_rate", 0.5)
    first = scheduler.step(state)
    assert first.mode == "high_rate"
    assert first.ramping
    assert_allclose(first.progress, 0.5, rtol=1e-15)  # 1 s of a 2 s ramp
    second = scheduler.step(TRANSITION)
    assert second.mode == "high_rate"
    assert not second.ramping
    assert_array_equal(second.values["k_reaction"], VALUES["high_rate"]["k_reaction"])
    with pytest.raises(ValueError, match="read-only"):
        second.values["k_reaction"][0] = 0.0


def test_zero_ramp_switches_at_once() -> None:
    scheduler = ModeScheduler(VALUES, SchedulerSettings(interval_s=1.0, ramp_s=0.0), "low_rate")
    state = scheduler.step("high_selectivity")
    assert_array_equal(state.values["q_weights"], VALUES["high_selectivity"]["q_weights"])
    assert scheduler.values_of("high_rate")["q_weights"].tolist() == [5.0, 2.0]
    assert scheduler.modes == tuple(VALUES)


def test_classifier_and_scheduler_in_closed_chain(history, learned: ModeModel) -> None:
    classifier = ModeClassifier(
        learned, ClassifierSettings(interval_s=1.0, min_dwell_s=10.0), initial_mode="low_rate"
    )
    settings = SchedulerSettings(interval_s=1.0, ramp_s=120.0)
    scheduler = ModeScheduler(VALUES, settings, initial_mode="low_rate")
    path = np.array([scheduler.step(classifier.step(x)).values["q_weights"] for x in history.x])
    # No step: each change is at most the largest mode-to-mode difference / 120 steps.
    table = np.array([v["q_weights"] for v in VALUES.values()])
    largest = table.max(axis=0) - table.min(axis=0)
    assert np.all(np.abs(np.diff(path, axis=0)) <= largest / 120.0 + 1e-12)
    last_mode = history.names[history.sequence[-1]]
    assert_array_equal(path[-1], VALUES[last_mode]["q_weights"])


def test_bad_scheduler_input() -> None:
    settings = SchedulerSettings(interval_s=1.0)
    with pytest.raises(ModeError, match="same names and shapes"):
        ModeScheduler({"a": {"w": [1.0]}, "b": {"w": [1.0, 2.0]}}, settings, "a")
    with pytest.raises(ModeError, match="same names and shapes"):
        ModeScheduler({"a": {"w": [1.0]}, "b": {"v": [1.0]}}, settings, "a")
    with pytest.raises(ModeError, match="finite"):
        ModeScheduler({"a": {"w": [np.nan]}}, settings, "a")
    with pytest.raises(ModeError, match="reserved"):
        ModeScheduler({TRANSITION: {"w": [1.0]}}, settings, TRANSITION)
    with pytest.raises(ModeError, match="at least one mode"):
        ModeScheduler({}, settings, "a")
    scheduler = ModeScheduler(VALUES, settings, "low_rate")
    with pytest.raises(ModeError, match="no scheduled values for mode 'nope'"):
        scheduler.step("nope")
    with pytest.raises(ModeError, match="no scheduled values"):
        ModeScheduler(VALUES, settings, "nope")


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"interval_s": -1.0}, "interval_s"),
        ({"interval_s": 1.0, "ramp_s": math.inf}, "ramp_s"),
        ({"interval_s": 1.0, "shape": "cubic"}, "shape"),
    ],
)
def test_bad_scheduler_settings(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ModeError, match=fragment):
        SchedulerSettings(**kwargs)
