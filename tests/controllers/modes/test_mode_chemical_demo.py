"""Mode recognition on the chemical demo history (two modes: throughput vs selectivity).

The demo's truth simulator switches between the project's ``[modes]`` every
12-36 h; the feed-flow setpoint tells which mode the operator chose, so it
is the ground truth.  The chosen variables are the measured feed flow and
reactor temperature (with sensor noise and injected defects).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.modes import ClassifierSettings, ModeClassifier, learn_modes, steady_mask

DECLARED = {"high_throughput": [18.0, 118.0], "high_selectivity": [11.0, 110.0]}


@pytest.fixture(scope="module")
def demo() -> dict[str, np.ndarray]:
    from energyopt.demos import demo_project_file
    from energyopt.demos.history import demo_history
    from energyopt.project.loader import load_project

    project = load_project(demo_project_file("chemical"))
    _, values, _ = demo_history(project, "chemical", days=7.0, step_s=60.0, seed=0)
    return values


@pytest.mark.slow  # about 4 s, 20 s when numba compiles the demo simulator cold
def test_two_demo_modes_found_and_tracked(demo: dict[str, np.ndarray]) -> None:
    x = np.column_stack([demo["FIC-101.PV"], demo["TIC-102.PV"]])
    model = learn_modes(x, declared=DECLARED, variables=("feed_m3_h", "temperature_degc"))
    assert sorted(model.names) == sorted(DECLARED)
    for name, setpoint in DECLARED.items():
        # The operator moves setpoints "a little" inside a mode (every 2-6 h):
        # the learned centre lies within 0.5 m3/h and 1 K of the declared one.
        error = (model.centres[model.index(name)] - setpoint) / np.array([0.5, 1.0])
        assert_allclose(error, 0.0, atol=1.0)

    truth = np.where(
        demo["FIC-101.SP"] > 14.5, model.index("high_throughput"), model.index("high_selectivity")
    )
    steady = steady_mask(x, 31, 0.05)
    assert (model.classify(x)[steady] == truth[steady]).mean() >= 0.95

    classifier = ModeClassifier(model, ClassifierSettings(interval_s=60.0, min_dwell_s=600.0))
    switches = sum(classifier.step(row).switched for row in x)
    assert switches == np.count_nonzero(np.diff(truth))
