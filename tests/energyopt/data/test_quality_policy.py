"""Per-kind quality policy, check switches and the streaming time-axis scanner."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from energyopt.data.quality import (
    DEFAULT_KIND_POLICIES,
    QualityPolicy,
    TagExpectation,
    TimeAxisScanner,
    apply_policy,
    issues_of,
    scan_series,
    scan_time_axis,
    scanner_for_tag,
)
from energyopt.data.tag_kinds import TAG_KINDS, canonical_kind
from energyopt.errors import DataError

T0_MS = 1_700_000_000_000
MINUTE_MS = 60_000


def held_setpoint(n=1440, hold=300, seed=0):
    """A setpoint that steps every ``hold`` minutes and holds in between (one day)."""
    rng = np.random.default_rng(seed)
    t = T0_MS + MINUTE_MS * np.arange(n, dtype=np.int64)
    levels = rng.uniform(40.0, 60.0, n // hold + 1)
    return t, np.repeat(levels, hold)[:n]


# ------------------------------------------------------------------ kinds


def test_canonical_kind_spellings():
    assert canonical_kind(" SetPoint ") == "setpoint"
    assert canonical_kind("Totaliser") == "counter"
    assert canonical_kind("tariff") == "price"
    assert canonical_kind("flow_rate") is None
    assert canonical_kind("") is None
    assert canonical_kind(None) is None
    assert set(DEFAULT_KIND_POLICIES) <= set(TAG_KINDS)


def test_for_kind_layers_top_level_builtin_and_project():
    base = QualityPolicy(frozen_min_duration_s=900.0, spike_z=6.0)
    # No kind, an unknown kind, and a kind without defaults: the policy itself.
    assert base.for_kind(None) is base
    assert base.for_kind("flow_rate") is base
    assert base.for_kind("flow") is base
    setpoint = base.for_kind("setpoint")
    assert (setpoint.frozen, setpoint.spike) == (False, True)
    assert setpoint.frozen_min_duration_s == 900.0  # top-level value kept
    state = base.for_kind("STATE")
    assert (state.frozen, state.spike) == (False, False)
    assert base.for_kind("totalizer").frozen is False  # alias of counter
    # The project's table wins over the built-in default, key by key.
    project = QualityPolicy.model_validate(
        {
            "frozen": True,
            "kinds": {
                "setpoint": {"frozen": True, "frozen_min_duration_s": "4 h"},
                "flow": {"spike_z": 5},
            },
        }
    )
    resolved = project.for_kind("setpoint")
    assert (resolved.frozen, resolved.frozen_min_duration_s) == (True, 14_400.0)
    assert project.for_kind("flow").spike_z == 5.0
    assert project.for_kind("state").frozen is False  # other built-ins untouched
    # Resolving again changes nothing.
    assert resolved.for_kind("setpoint") == resolved
    assert project.for_kind("counter").for_kind("counter") == project.for_kind("counter")


def test_empty_kind_table_is_dropped():
    policy = QualityPolicy.model_validate({"kinds": {"flow": {}, "setpoint": {"spike": False}}})
    assert list(policy.kinds) == ["setpoint"]


def test_scanner_applies_the_policy_of_the_kind():
    t, sp = held_setpoint()  # five-hour holds: "frozen" for any sensor
    assert [f.issue for f in scan_series("FIC.SP", t, sp)] == ["frozen"] * 5
    assert scan_series("FIC.SP", t, sp, kind="setpoint") == []
    assert len(scan_series("FIC.SP", t, sp, kind="flow")) == 5
    strict = QualityPolicy.model_validate({"kinds": {"setpoint": {"frozen": True}}})
    assert len(scan_series("FIC.SP", t, sp, policy=strict, kind="setpoint")) == 5


def test_every_check_has_a_switch():
    t = T0_MS + MINUTE_MS * np.arange(3000, dtype=np.int64)
    t[2000:] += 60 * MINUTE_MS
    v = np.sin(np.arange(3000) / 50.0) + np.random.default_rng(1).normal(0.0, 0.01, 3000)
    v[500:700] = v[500]
    v[1500] += 5.0
    found = {f.issue for f in scan_series("x", t, v)}
    assert found == {"gap", "frozen", "spike"}
    off = QualityPolicy(gap=False, frozen=False, spike=False)
    assert scan_series("x", t, v, policy=off) == []


def test_apply_policy_uses_the_kind_actions():
    t = np.arange(5, dtype=np.int64) * 1000
    v = np.array([0.0, 1.0, np.nan, 3.0, 4.0])
    policy = QualityPolicy.model_validate({"kinds": {"level": {"on_nan": "interpolate"}}})
    got_v, got_q = apply_policy(t, v, None, policy, findings=[], kind="level")
    # Midpoint of 1 and 3: exact in floating point.
    assert_allclose(got_v, [0.0, 1.0, 2.0, 3.0, 4.0], rtol=0)
    assert_array_equal(got_q, [0, 0, 2, 0, 0])
    got_v, got_q = apply_policy(t, v, None, policy, findings=[], kind="flow")
    assert np.isnan(got_v[2])
    assert_array_equal(got_q, [0, 0, 1, 0, 0])  # the top-level "drop"


# ------------------------------------------------------------------ expectations


def test_expectation_range_converted_to_the_recorded_unit():
    expectation = TagExpectation(kind="flow", unit="t/h", range=(0.0, 250.0))
    # 250 t/h = 250000 kg / 3600 s (hand computation); one float division.
    assert_allclose(expectation.range_in("kg/s"), (0.0, 250_000 / 3600), rtol=1e-12)
    assert expectation.range_in(" t/h") == (0.0, 250.0)
    assert expectation.range_in("MW") is None  # reported as unit_mismatch instead
    # degC -> K is affine: 0 degC = 273.15 K exactly.
    assert_allclose(
        TagExpectation(unit="degC", range=(0.0, 100.0)).range_in("K"), (273.15, 373.15), rtol=1e-15
    )
    assert TagExpectation(range=(1.0, 2.0)).range_in("bar") == (1.0, 2.0)
    with pytest.raises(DataError, match="not \\(low, high\\)"):
        TagExpectation(range=(2.0, 1.0))


def test_scanner_for_tag_prefers_the_expectation():
    t, sp = held_setpoint()
    flow_kg_s = sp / 3.6  # the same numbers recorded in kg/s
    expectation = TagExpectation(kind="flow", unit="t/h", range=(0.0, 50.0))
    scanner = scanner_for_tag("F", unit="kg/s", kind="setpoint", expectation=expectation)
    scanner.feed(t, flow_kg_s)
    findings = scanner.finish()
    # Bound as a flow, the holds are frozen runs; values above 50 t/h are out of range.
    assert len(issues_of(findings, "frozen")) == 5
    out = issues_of(findings, "out_of_range")
    assert sum(f.count for f in out) == int(np.count_nonzero(sp > 50.0))
    mismatch = scanner_for_tag("F", unit="MW", expectation=expectation)
    mismatch.feed(t, sp)
    issues = {f.issue for f in mismatch.finish()}
    assert "unit_mismatch" in issues
    assert "out_of_range" not in issues  # no range in a unit it cannot convert to


# ------------------------------------------------------------------ time axis


@st.composite
def time_axes(draw):
    n = draw(st.integers(2, 400))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    step = rng.choice(
        [1000, 1000, 1000, 0, -700, 9000], size=n, p=[0.6, 0.2, 0.1, 0.04, 0.03, 0.03]
    )
    return T0_MS + np.cumsum(step).astype(np.int64)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    t=time_axes(),
    cuts=st.lists(st.integers(0, 400), max_size=6),
    sampling=st.sampled_from([None, 1000.0, 2500.0]),
    estimate=st.integers(1, 50),
)
def test_streaming_time_axis_scanner_matches_scan_time_axis(t, cuts, sampling, estimate):
    policy = QualityPolicy(sampling_estimate_intervals=estimate)
    whole = scan_time_axis(t, policy=policy, sampling_ms=sampling)
    scanner = TimeAxisScanner(policy=policy, sampling_ms=sampling)
    bounds = [0, *sorted(c for c in cuts if c <= t.size), t.size]
    for a, b in itertools.pairwise(bounds):
        scanner.feed(t[a:b])
    assert scanner.finish() == whole
    assert {f.issue for f in whole} <= {"gap", "duplicate_time", "non_monotonic_time"}


def test_time_axis_scanner_ignores_value_checks_and_kinds():
    # A regular axis is "frozen" in its steps and would have spikes if its
    # values were scanned; the time scanner checks times only.
    t = T0_MS + 1000 * np.arange(5000, dtype=np.int64)
    policy = QualityPolicy.model_validate(
        {"frozen_min_duration_s": 1, "kinds": {"flow": {"frozen": True}}}
    )
    scanner = TimeAxisScanner(policy=policy)
    scanner.feed(t[:10])
    assert scanner.sampling_ms is None  # still estimating
    scanner.feed(t[10:])
    assert scanner.finish() == []
    assert scanner.sampling_ms == 1000.0
    assert scan_time_axis(t, policy=QualityPolicy(gap=False, max_gap_s=0.5)) == []
    with pytest.raises(DataError, match="sampling_ms must be positive"):
        TimeAxisScanner(sampling_ms=-1.0)
