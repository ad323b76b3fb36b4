"""Parts of a tune: [tune] section, search space, windows, score, evaluate references."""

from __future__ import annotations

import math

import pytest
from numpy.testing import assert_allclose
from tune_helpers import BOWL, DAY_MS, PICKY, START_MS, write_case

from energyopt.demos import demo_project_file, demo_project_text
from energyopt.errors import DataError, ProjectError
from energyopt.project import load_project
from energyopt.tune import (
    Objective,
    TuneSettings,
    data_windows,
    load_tune_project,
    resolve_evaluate,
    search_space,
    spread_windows,
)
from energyopt.tune.evaluate import run_window
from energyopt.tune.workflow import default_paths


@pytest.fixture(scope="module")
def steelworks():
    return load_project(demo_project_file("steelworks"))


# ---------------------------------------------------------------- search space


def test_default_space_from_the_steelworks(steelworks):
    space = {s.key: s for s in search_space(steelworks, TuneSettings())}
    assert list(space) == [
        "controller.band_weight",
        "controller.priority_ratio",
        "controller.economic.move_weight",
        "controller.economic.horizon_s",
        "controller.forecast.training_s",
        "controller.forecast.level",
        "controller.forecast.scenarios",
    ]
    band = space["controller.band_weight"]
    # A decade either side of the project's 1000 CNY, on a log scale.
    assert (band.low, band.high, band.log, band.current) == (100.0, 10_000.0, True, 1000.0)
    horizon = space["controller.economic.horizon_s"]
    # 24 h at 15 min: 6 h .. 24 h on the 900-s grid of the economic interval.
    assert (horizon.low, horizon.high, horizon.step) == (21_600.0, 86_400.0, 900.0)
    training = space["controller.forecast.training_s"]
    assert (training.low, training.high, training.step, training.current) == (
        86_400.0,
        28 * 86_400.0,
        86_400.0,
        14 * 86_400.0,
    )
    assert space["controller.forecast.scenarios"].choices == ("interval", "quadrature", "sampled")
    for spec in space.values():
        if spec.kind != "categorical" and spec.current is not None:
            assert spec.low <= spec.current <= spec.high, spec.key


def test_declared_params_replace_defaults_and_exclude_drops(steelworks):
    settings = TuneSettings.model_validate(
        {
            "exclude": ["controller.forecast.scenarios", "controller.forecast.level"],
            "params": {
                "controller.band_weight": {"low": 50, "high": 500, "scale": "log"},
                "controller.forecast.n_scenarios": {"low": 2, "high": 6, "integer": True},
                "controller.economic.interval_s": {"choices": [600.0, 900.0]},
            },
        }
    )
    space = {s.key: s for s in search_space(steelworks, settings)}
    assert "controller.forecast.scenarios" not in space
    assert "controller.forecast.level" not in space
    assert (space["controller.band_weight"].low, space["controller.band_weight"].high) == (50, 500)
    n_scen = space["controller.forecast.n_scenarios"]
    assert (n_scen.kind, n_scen.current) == ("int", 3)
    assert n_scen.distribution().high == 6
    assert space["controller.economic.interval_s"].choices == (600.0, 900.0)


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ({"exclude": ["controller.band"]}, "tune.exclude[0]: 'controller.band' is not a default"),
        (
            {"params": {"controller.bandweight": {"low": 1, "high": 2}}},
            "unknown project key 'controller.bandweight' (did you mean 'band_weight'?)",
        ),
        (
            {"params": {"controller.band_weight": {"low": -5, "high": 2}}},
            "the value -5.0 is not usable",
        ),
        ({"defaults": False}, "nothing to tune"),
    ],
)
def test_space_errors(steelworks, section, fragment):
    with pytest.raises(ProjectError) as info:
        search_space(steelworks, TuneSettings.model_validate(section))
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ('[tune.params."controller.band_weight"]\nlow = 0\nhigh = 5\nscale = "log"\n', "positive"),
        ('[tune.params."controller.band_weight"]\nlow = 5\nhigh = 1\n', "must be above low"),
        ('[tune.params."controller.band_weight"]\nlow = 5\n', "give low and high, or choices"),
        ("[tune]\nobjective = 'energy_cots'\n", "did you mean 'energy_cost'"),
        ("[tune.constraints]\nstability_rate = {}\n", "give min, max or both"),
        ("[tune]\nbudget = 0\n", "tune.budget: must be at least 1"),
    ],
)
def test_tune_section_errors_name_the_key(tmp_path, section, fragment):
    project, _ = write_case(tmp_path, section)
    with pytest.raises(ProjectError) as info:
        load_tune_project(project)
    assert fragment in str(info.value)
    assert str(project) in str(info.value)


def test_tune_section_is_read_and_the_project_still_loads(case):
    project, settings = load_tune_project(case[0])
    assert (settings.budget, settings.windows, settings.window_s) == (12, 2, 86_400.0)
    assert settings.constraint_bounds["stability_rate"].min == 99.0
    assert project.project.name


def test_default_paths(tmp_path):
    folder, tuned, evidence = default_paths(tmp_path / "plant.toml")
    assert (folder.name, tuned.name, evidence.name) == (
        "plant.tune",
        "plant.tuned.toml",
        "plant.tuned.tune.json",
    )


# ---------------------------------------------------------------- windows


def test_windows_centred_in_equal_parts():
    # Three one-day windows over three days are the three days.
    assert spread_windows(START_MS, START_MS + 3 * DAY_MS, 3, DAY_MS) == [
        (START_MS + k * DAY_MS, START_MS + (k + 1) * DAY_MS) for k in range(3)
    ]
    # Two 6-h windows over two days: centred in each day (starting 09:00).
    hour = 3_600_000
    assert spread_windows(START_MS, START_MS + 2 * DAY_MS, 2, 6 * hour) == [
        (START_MS + 9 * hour, START_MS + 15 * hour),
        (START_MS + DAY_MS + 9 * hour, START_MS + DAY_MS + 15 * hour),
    ]


def test_windows_overlap_when_longer_than_a_part():
    windows = spread_windows(START_MS, START_MS + 2 * DAY_MS, 3, DAY_MS)
    assert windows[0] == (START_MS, START_MS + DAY_MS)
    assert windows[-1] == (START_MS + DAY_MS, START_MS + 2 * DAY_MS)
    assert windows[1] == (START_MS + DAY_MS // 2, START_MS + DAY_MS // 2 + DAY_MS)


@pytest.mark.parametrize(
    ("count", "length", "fragment"),
    [(0, DAY_MS, "at least 1"), (1, 0, "must be positive"), (1, 3 * DAY_MS, "longer than")],
)
def test_window_errors(count, length, fragment):
    with pytest.raises(DataError, match=fragment):
        spread_windows(START_MS, START_MS + 2 * DAY_MS, count, length)


# ---------------------------------------------------------------- objective


def test_score_sums_the_objective_and_takes_the_worst_window():
    objective = Objective(
        "energy_cost",
        {"stability_rate": (99.0, None), "holder_time_outside_hard": (None, 0.0)},
    )
    assert objective.direction == "minimize"
    windows = [
        {"energy_cost": 10.0, "stability_rate": 99.5, "holder_time_outside_hard": 0.0},
        {"energy_cost": 15.0, "stability_rate": 97.0, "holder_time_outside_hard": 3.0},
    ]
    score = objective.score(windows)
    # Sum of the windows; worst excess: 99 - 97 = 2 points, 3 - 0 = 3 minutes.
    assert_allclose(score.value, 25.0, rtol=0, atol=0)  # exact: sums of small floats
    assert_allclose(score.violations, (2.0, 3.0), rtol=0, atol=1e-12)  # 99 - 97 in binary
    assert not score.feasible
    assert_allclose(score.total_violation, 5.0, rtol=0, atol=1e-12)  # same subtraction


def test_nan_constraint_does_not_bind_and_nan_objective_is_not_feasible():
    objective = Objective("energy_cost", {"holder_time_outside_hard": (None, 0.0)})
    score = objective.score([{"energy_cost": 1.0, "holder_time_outside_hard": None}])
    assert score.violations == (0.0,)
    assert score.feasible
    missing = objective.score([{"energy_cost": float("nan")}, {"energy_cost": 2.0}])
    assert math.isnan(missing.value)
    assert not missing.feasible


def test_rank_feasible_first_then_by_violation():
    objective = Objective("stability_rate", {"energy_cost": (None, 100.0)})
    assert objective.direction == "maximize"
    good = objective.score([{"stability_rate": 99.0, "energy_cost": 50.0}])
    better = objective.score([{"stability_rate": 99.9, "energy_cost": 90.0}])
    bad = objective.score([{"stability_rate": 100.0, "energy_cost": 120.0}])
    worse = objective.score([{"stability_rate": 100.0, "energy_cost": 150.0}])
    ranked = sorted([worse, good, bad, better], key=objective.rank_key)
    assert ranked == [better, good, bad, worse]


def test_objective_rejects_unknown_kpi():
    with pytest.raises(DataError, match="unknown KPI 'cost'"):
        Objective("cost")


# ---------------------------------------------------------------- evaluate references


@pytest.mark.parametrize(
    ("reference", "fragment"),
    [
        ("os:system", "module must be inside"),
        ("builtins:eval", "module must be inside"),
        ("energyopt.tune.evaluate", "expected 'package.module:function'"),
        ("energyopt.tune.evaluate:replay_kpis; import os", "expected 'package.module:function'"),
        ("energyopt.no_such_module:f", "cannot import"),
        ("energyopt.tune.evaluate:nothing", "no function 'nothing'"),
        ("tests.energyopt.tune.tune_helpers:not_callable", "no function 'not_callable'"),
    ],
)
def test_resolve_evaluate_errors(reference, fragment):
    with pytest.raises(ProjectError, match=fragment):
        resolve_evaluate(reference)


def test_run_window_applies_overrides_and_reports_user_errors(case):
    project_path, data = case
    text = demo_project_text("steelworks")  # workers get the project without [tune]
    ok = run_window(
        BOWL,
        text,
        str(project_path),
        {"controller.band_weight": 10**2.5, "controller.economic.move_weight": 10**3.5},
        str(data),
        START_MS,
        START_MS + DAY_MS,
    )
    assert ok["error"] is None
    # At the bowl's optimum only the constant 100 remains (window at midnight: no offset).
    assert_allclose(ok["kpis"]["energy_cost"], 100.0, rtol=1e-12)  # round-off of log10
    assert ok["kpis"]["holder_time_outside_hard"] is None  # NaN stored as null
    failed = run_window(
        PICKY,
        text,
        str(project_path),
        {"controller.economic.move_weight": 1.0e6},
        str(data),
        START_MS,
        START_MS + DAY_MS,
    )
    assert failed["kpis"] == {}
    assert "infeasible at this move weight" in failed["error"]
    invalid = run_window(
        BOWL, text, None, {"controller.band_weight": -1.0}, str(data), START_MS, START_MS + 1
    )
    assert "controller.band_weight: must be at least 0" in invalid["error"]


def test_data_windows_leave_the_history_before_the_first(case):
    _, data = case
    # 3 days of data, 1 day of history: one 1-day window centred in days 2-3.
    assert data_windows(data, 1, 86_400.0, 86_400.0) == [
        (START_MS + DAY_MS + DAY_MS // 2, START_MS + 2 * DAY_MS + DAY_MS // 2)
    ]
    with pytest.raises(DataError, match="3 days of data do not hold 3 days of history"):
        data_windows(data, 1, 86_400.0, 3 * 86_400.0)


def test_missing_or_broken_project_file(tmp_path):
    with pytest.raises(ProjectError, match="project file not found"):
        load_tune_project(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[tune\nbudget = 1\n", encoding="utf-8")
    with pytest.raises(ProjectError, match="line 1, column 6: invalid TOML"):
        load_tune_project(broken)
