"""A binding's own data-quality settings: the engineer knows which tags are intermittent."""

from __future__ import annotations

import numpy as np
import pytest

from energyopt.data.quality import (
    KindPolicy,
    QualityPolicy,
    TagExpectation,
    apply_policy,
    scanner_for_tag,
)
from energyopt.errors import ProjectError
from energyopt.project import load_project, save_project, tag_expectations
from energyopt.project.bindings import tag_policy

MINUTE_MS = 60_000


def _flare_flow(n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """A flare that reads ~0 and opens for 2-minute bursts every 100 minutes."""
    rng = np.random.default_rng(0)
    time_ms = np.arange(n, dtype=np.int64) * MINUTE_MS
    values = np.abs(rng.normal(0.0, 5.0, n))
    for start in range(50, n, 100):
        values[start : start + 2] = 20_000.0
    return time_ms, values


def test_tag_settings_override_those_of_its_kind():
    policy = QualityPolicy()
    # Built-in kind default: setpoints do not report frozen runs ...
    assert not policy.for_kind("setpoint").frozen
    # ... but a tag may ask for it, and the kind default does not come back.
    resolved = policy.for_tag("setpoint", KindPolicy(frozen=True, frozen_min_duration_s=600))
    assert resolved.frozen
    assert resolved.frozen_min_duration_s == 600
    assert policy.for_tag("setpoint", None) == policy.for_kind("setpoint")


def test_intermittent_flow_is_not_reported_as_spikes_when_the_binding_says_so():
    time_ms, values = _flare_flow()
    plain = scanner_for_tag("FLARE", unit="Nm3/h", expectation=TagExpectation(kind="flow"))
    plain.feed(time_ms, values)
    # Without the tag's settings every burst is a spike (6 bursts of 2 samples).
    assert sum(f.count for f in plain.finish() if f.issue == "spike") == 12

    quiet = scanner_for_tag(
        "FLARE",
        unit="Nm3/h",
        expectation=TagExpectation(kind="flow", quality=KindPolicy(spike=False)),
    )
    quiet.feed(time_ms, values)
    assert not [f for f in quiet.finish() if f.issue == "spike"]


def test_binding_quality_table_loads_round_trips_and_reaches_the_scanner(doc, write_project):
    doc["bindings"]["boiler_1_steam"]["quality"] = {"spike": False, "frozen": False}
    path = write_project(doc)
    project = load_project(path)
    expectation = tag_expectations(project)["PP.B1.STEAM.FLOW"]
    assert expectation.quality == KindPolicy(spike=False, frozen=False)
    policy = tag_policy(project, "PP.B1.STEAM.FLOW")
    assert (policy.spike, policy.frozen) == (False, False)
    # A tag without settings keeps its kind's policy; an unbound tag the file's kind.
    assert tag_policy(project, "STM.HP.PRESS") == project.data_quality.for_kind("pressure")
    assert tag_policy(project, "OTHER", "setpoint") == project.data_quality.for_kind("setpoint")

    copy_path = path.with_name("copy.toml")
    save_project(project, copy_path)
    assert load_project(copy_path) == project

    # apply_policy with the resolved policy leaves the intermittent bursts alone.
    time_ms, values = _flare_flow()
    cleaned, quality = apply_policy(time_ms, values, None, policy, kind=None)
    np.testing.assert_array_equal(cleaned, values)
    assert not quality.any()


def test_unknown_key_in_a_binding_quality_table_names_the_key_path(doc, write_project):
    doc["bindings"]["boiler_1_steam"]["quality"] = {"spikes": False}
    with pytest.raises(ProjectError, match=r"bindings\.boiler_1_steam\.quality\.spikes"):
        load_project(write_project(doc))
