"""Tests of the data-quality scanner and policy (energyopt.data.quality)."""

from __future__ import annotations

import itertools
import json
import math
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from pydantic import ValidationError
from scipy.signal import lfilter

from energyopt.data.quality import (
    ISSUES,
    QualityFinding,
    QualityPolicy,
    QualityScanner,
    apply_policy,
    issues_of,
    median_sampling_ms,
    scan_series,
    scan_time_axis,
)
from energyopt.data.quality_spikes import MAD_TO_SIGMA, HampelStream
from energyopt.errors import DataError

T0_MS = 1_700_000_000_000  # 2023-11-14T22:13:20Z
MINUTE_MS = 60_000


def clean_series(n, *, seed=0, step_ms=MINUTE_MS):
    """AR(1) noise (phi 0.9, innovation sd 0.5) around a daily sine of amplitude 20 about 100."""
    rng = np.random.default_rng(seed)
    t = T0_MS + np.arange(n, dtype=np.int64) * step_ms
    noise = lfilter([1.0], [1.0, -0.9], rng.normal(0.0, 0.5, n))
    return t, 100.0 + 20.0 * np.sin(2 * np.pi * (t - T0_MS) / 86_400_000) + noise


def summary(findings):
    return sorted((f.issue, f.start_ms, f.end_ms, f.count) for f in findings)


# ------------------------------------------------------------------ detection


def test_clean_noisy_year_has_no_findings_and_is_fast():
    t, v = clean_series(525_600, seed=1)
    q = np.zeros(t.size, dtype=np.uint8)
    best = math.inf
    for _ in range(3):  # best of three: robust to a busy machine
        tic = time.perf_counter()
        findings = scan_series(
            "FI101", t, v, q, expected_range=(0.0, 200.0), unit="t/h", expected_unit="kg/s"
        )
        best = min(best, time.perf_counter() - tic)
    assert findings == []
    assert best < 0.5, f"scanner took {best:.3f} s for 525,600 rows"


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_clean_noisy_data_other_seeds_and_sampling(seed):
    t, v = clean_series(50_000, seed=seed, step_ms=1_000)
    assert scan_series("TI", t, v) == []


def test_injected_defects_are_found_exactly():
    n = 20_000
    t, v = clean_series(n, seed=7)
    q = np.zeros(n, dtype=np.uint8)
    v[5000:5020] = np.nan  # NaN run: 20 samples
    v[8000:8090] = v[8000]  # frozen 90 samples = 89 min (>= 1 h)
    v[11000] += 40.0  # single spike (noise sd about 1.15)
    v[12000:12002] = v[12000] + 40.0  # two-sample held spike
    v[15000:15060] = 250.0 + (v[15000:15060] - 100.0)  # out of range, still noisy, 60 samples
    q[17000:17005] = 1  # bad quality flags
    q[17100] = 2  # substituted is not bad
    keep = np.ones(n, dtype=bool)
    keep[3000:3100] = False  # gap: 100 missing samples
    findings = scan_series(
        "FI101", t[keep], v[keep], q[keep], expected_range=(0.0, 200.0), sampling_ms=MINUTE_MS
    )
    assert summary(findings) == sorted(
        [
            ("gap", t[2999], t[3100], 100),
            ("nan", t[5000], t[5019], 20),
            ("frozen", t[8000], t[8089], 90),
            ("spike", t[11000], t[11000], 1),
            ("spike", t[12000], t[12001], 2),
            ("out_of_range", t[15000], t[15059], 60),
            ("bad_quality_flag", t[17000], t[17004], 5),
        ]
    )
    by_issue = {f.issue: f for f in findings}
    assert by_issue["frozen"].detail == f"frozen at {v[8000]:.6g} for 89 min (90 samples)"
    assert by_issue["gap"].detail == "no sample for 101 min (threshold 5 min)"
    assert by_issue["nan"].detail == "20 non-finite samples over 19 min"
    spike = next(f for f in findings if f.issue == "spike" and f.count == 1)
    # The default 31-sample window centred on the spike (no NaN or repeats there).
    local_median = np.median(v[11000 - 15 : 11000 + 16])
    assert spike.detail.startswith(f"spike {v[11000]:.3g} vs local median {local_median:.3g} (z=")
    assert "outside [0, 200]" in by_issue["out_of_range"].detail


def test_gap_threshold_estimated_from_first_intervals():
    t = T0_MS + np.arange(3000, dtype=np.int64) * 10_000
    t[2000:] += 45_000  # one step of 55 s, above the 5 x 10 s threshold
    scanner = QualityScanner("x", policy=QualityPolicy(sampling_estimate_intervals=100))
    scanner.feed(t[:50], np.arange(50.0))
    scanner.feed(t[50:], np.arange(50.0, 3000.0))
    findings = scanner.finish()
    assert scanner.sampling_ms == 10_000
    assert scanner.max_gap_ms == 50_000
    assert summary(findings) == [("gap", t[1999], t[2000], max(1, round(55_000 / 10_000) - 1))]
    # An explicit max_gap_s overrides the estimate.
    assert scan_series("x", t, np.arange(3000.0), policy=QualityPolicy(max_gap_s=60)) == []


def test_frozen_thresholds_and_tolerance():
    t, v = clean_series(2_000, seed=11)
    v[500:550] = v[500]  # 49 min: shorter than the default 1 h
    assert issues_of(scan_series("x", t, v), "frozen") == []
    short = QualityPolicy(frozen_min_duration_s=1800)
    assert summary(issues_of(scan_series("x", t, v, policy=short), "frozen")) == [
        ("frozen", t[500], t[549], 50)
    ]
    disabled = QualityPolicy(frozen_min_duration_s=1800, frozen=False)
    assert issues_of(scan_series("x", t, v, policy=disabled), "frozen") == []
    # A slow creep of 1e-4 per sample is frozen within an absolute tolerance of 1e-3 ...
    creep = v.copy()
    creep[500:550] = v[500] + 1e-4 * np.arange(50)
    assert issues_of(scan_series("x", t, creep, policy=short), "frozen") == []
    tolerant = short.model_copy(update={"frozen_tolerance_abs": 1e-3})
    assert summary(issues_of(scan_series("x", t, creep, policy=tolerant), "frozen")) == [
        ("frozen", t[500], t[549], 50)
    ]
    # ... and within a relative tolerance of 2e-6 (1e-4 / ~80 = 1.25e-6 of the value).
    relative = short.model_copy(update={"frozen_tolerance_rel": 2e-6})
    assert len(issues_of(scan_series("x", t, creep, policy=relative), "frozen")) == 1


def test_all_nan_replaces_nan_runs():
    t = T0_MS + np.arange(10, dtype=np.int64) * 1000
    findings = scan_series("x", t, np.full(10, np.nan))
    assert summary(findings) == [("all_nan", t[0], t[-1], 10)]
    assert findings[0].detail == "no finite value in 10 samples"


def test_spike_near_frozen_run_is_not_reported():
    # Without skipping repeats, windows half-filled by the frozen value would
    # collapse the MAD and flag ordinary neighbours as spikes.
    t, v = clean_series(3_000, seed=5)
    v[1000:1100] = v[1000]
    assert [f.issue for f in scan_series("x", t, v)] == ["frozen"]


def test_unit_mismatch():
    t, v = clean_series(100)
    assert scan_series("F", t, v, unit="t/h", expected_unit="kg/s") == []
    (finding,) = scan_series("F", t, v, unit="t/h", expected_unit="MW")
    assert (finding.issue, finding.start_ms, finding.end_ms, finding.count) == (
        "unit_mismatch",
        t[0],
        t[-1],
        100,
    )
    assert "not compatible" in finding.detail
    (missing,) = scan_series("F", t, v, unit=None, expected_unit="MW")
    assert missing.detail.startswith("no unit given")
    (unknown,) = scan_series("F", t, v, unit="furlongs per fortnightz", expected_unit="MW")
    assert unknown.issue == "unit_mismatch"


def test_scan_time_axis():
    t = np.array([0, 1000, 2000, 2000, 2000, 3000, 2500, 4000, 20_000, 21_000]) + T0_MS
    findings = scan_time_axis(t)
    # Positive steps 1000, 1000, 1000, 1500, 16000, 1000: median 1000 ms, threshold 5 s.
    assert summary(findings) == sorted(
        [
            ("duplicate_time", T0_MS + 2000, T0_MS + 2000, 2),
            ("non_monotonic_time", T0_MS + 2500, T0_MS + 3000, 1),
            ("gap", T0_MS + 4000, T0_MS + 20_000, 15),
        ]
    )
    assert median_sampling_ms(t) == 1000.0
    assert median_sampling_ms([5]) is None


# ------------------------------------------------------------------ chunk invariance


@st.composite
def messy_series(draw):
    n = draw(st.integers(20, 300))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    step = np.full(n, 1000, dtype=np.int64)
    v = rng.normal(0.0, 1.0, n)
    q = np.where(rng.random(n) < 0.03, rng.integers(0, 3, n), 0).astype(np.uint8)
    for kind, pos, length in draw(
        st.lists(
            st.tuples(
                st.sampled_from(["gap", "nan", "frozen", "spike", "range", "dup", "back"]),
                st.integers(0, n - 1),
                st.integers(1, 25),
            ),
            max_size=8,
        )
    ):
        end = min(n, pos + length)
        if kind == "gap":
            step[pos] = 1000 * (6 + length)
        elif kind == "nan":
            v[pos:end] = np.nan
        elif kind == "frozen":
            v[pos:end] = v[pos]
        elif kind == "spike":
            v[pos] += 30.0
        elif kind == "range":
            v[pos:end] = 10.0 + rng.normal(0.0, 1.0, end - pos)
        elif kind == "dup":
            step[pos:end] = 0
        else:
            step[pos] = -1500
    t = T0_MS + np.cumsum(step)
    return t, v, q


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    series=messy_series(),
    cuts=st.lists(st.integers(0, 300), max_size=8),
    estimate=st.integers(1, 40),
)
def test_any_chunking_gives_the_same_findings(series, cuts, estimate):
    t, v, q = series
    policy = QualityPolicy(
        spike_window=7,
        frozen_min_duration_s=4.0,
        sampling_estimate_intervals=estimate,
    )
    kw = {"policy": policy, "expected_range": (-5.0, 5.0)}
    whole = scan_series("x", t, v, q, **kw)
    scanner = QualityScanner("x", **kw)
    bounds = [0, *sorted(c for c in cuts if c <= t.size), t.size]
    for a, b in itertools.pairwise(bounds):
        scanner.feed(t[a:b], v[a:b], q[a:b])
    assert scanner.finish() == whole


def naive_hampel(values, window):
    """Score every sample with an explicit truncated window (plain loop, np.median)."""
    h = window // 2
    med, z = [], []
    for i, x in enumerate(values):
        w = values[max(0, i - h) : i + h + 1]
        m = np.median(w)
        scale = MAD_TO_SIGMA * np.median(np.abs(w - m))
        med.append(m)
        z.append(abs(x - m) / scale if scale > 0 else 0.0)
    return np.array(med), np.array(z)


@pytest.mark.parametrize("chunks", [[400], [1, 2, 3, 100, 294], [7] * 57 + [1]])
def test_hampel_stream_matches_naive_windows(chunks):
    rng = np.random.default_rng(9)
    values = rng.standard_t(3, size=sum(chunks))
    stream = HampelStream(window=9)
    out, start = [], 0
    for size in chunks:
        idx = np.arange(start, start + size)
        out.append(stream.feed(idx, idx * 1000, values[start : start + size]))
        start += size
    out.append(stream.finish())
    got_idx = np.concatenate([o[0] for o in out])
    assert_array_equal(got_idx, np.arange(values.size))
    med, z = naive_hampel(values, 9)
    # Same window contents and the same median/division operations: bit-identical.
    assert_array_equal(np.concatenate([o[3] for o in out]), med)
    assert_array_equal(np.concatenate([o[4] for o in out]), z)


# ------------------------------------------------------------------ policy


def test_apply_policy_actions_hand_computed():
    t = np.arange(10, dtype=np.int64) * 1000
    v = np.array([1.0, 2.0, np.nan, 4.0, 50.0, 6.0, 300.0, 310.0, 9.0, 9.0])
    findings = [
        QualityFinding("x", "spike", 4000, 4000, 1, "spike"),
        QualityFinding("x", "out_of_range", 6000, 7000, 2, "high"),
        QualityFinding("x", "frozen", 8000, 9000, 2, "frozen"),
        QualityFinding("other", "spike", 0, 0, 1, "another tag"),
    ]
    policy = QualityPolicy(
        on_nan="interpolate",
        on_spike="interpolate",
        on_out_of_range="drop",
        on_frozen="mark_bad",
        interpolate_max_gap_s=3.0,
    )
    got_v, got_q = apply_policy(t, v, None, policy, findings=findings, tag="x")
    # NaN at 2 s between 2 (1 s) and 4 (3 s): 3; spike at 4 s between 4 and 6: 5.
    # Linear interpolation of small integers is exact up to one rounding.
    assert_allclose(got_v, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, np.nan, np.nan, 9.0, 9.0], rtol=1e-15)
    assert_array_equal(got_q, [0, 0, 2, 0, 2, 0, 1, 1, 1, 1])
    assert got_q.dtype == np.uint8


def test_apply_policy_interpolation_limits_and_anchors():
    t = np.arange(5, dtype=np.int64) * 1000
    v = np.array([0.0, np.nan, np.nan, np.nan, 8.0])
    too_far = QualityPolicy(on_nan="interpolate", interpolate_max_gap_s=3.0)
    got_v, got_q = apply_policy(t, v, None, too_far, findings=[])
    assert np.isnan(got_v[1:4]).all()  # neighbours 4 s apart > 3 s: left NaN, bad
    assert_array_equal(got_q, [0, 1, 1, 1, 0])
    enough = too_far.model_copy(update={"interpolate_max_gap_s": 4.0})
    got_v, got_q = apply_policy(t, v, None, enough, findings=[])
    assert_allclose(got_v, [0.0, 2.0, 4.0, 6.0, 8.0], rtol=1e-15)  # exact straight line
    assert_array_equal(got_q, [0, 2, 2, 2, 0])
    # A sample with a bad input code is not a neighbour: interpolate from 1 s to 4 s.
    v2 = np.array([0.0, 2.0, np.nan, 100.0, 8.0])
    q2 = np.array([0, 0, 0, 1, 0])
    got_v, got_q = apply_policy(t, v2, q2, enough, findings=[])
    assert_allclose(got_v, [0.0, 2.0, 4.0, 100.0, 8.0], rtol=1e-15)  # 2 + 6/3
    assert_array_equal(got_q, [0, 0, 2, 1, 0])
    # No neighbour on one side: no extrapolation.
    leading_nan = np.array([np.nan, 1.0, 1.0, 1.0, 1.0])
    got_v, got_q = apply_policy(t, leading_nan, None, enough, findings=[])
    assert np.isnan(got_v[0])
    assert got_q[0] == 1


def test_apply_policy_precedence_keep_and_scan():
    t = np.arange(4, dtype=np.int64) * 1000
    v = np.array([1.0, np.nan, 3.0, 4.0])
    out_of_range = [QualityFinding("x", "out_of_range", 1000, 2000, 2, "")]
    policy = QualityPolicy(on_nan="interpolate", on_out_of_range="drop")
    got_v, got_q = apply_policy(t, v, None, policy, findings=out_of_range)
    assert_array_equal(got_q, [0, 1, 1, 0])  # drop beats interpolate
    assert np.isnan(got_v[1:3]).all()
    keep = QualityPolicy(on_nan="keep")
    got_v, got_q = apply_policy(t, v, None, keep, findings=[])
    assert np.isnan(got_v[1])
    assert_array_equal(got_q, [0, 0, 0, 0])
    # Without findings the series is scanned with the policy and expected range.
    got_v, got_q = apply_policy(t, v, None, None, expected_range=(0.0, 3.5))
    assert_array_equal(got_q, [0, 1, 0, 1])  # NaN dropped, 4.0 out of range marked bad
    assert got_v[3] == 4.0


def test_apply_policy_rejects_bad_input():
    with pytest.raises(DataError, match="non-decreasing time axis; row 2"):
        apply_policy([0, 2000, 1000], [1.0, 2.0, 3.0], None, None, findings=[])
    with pytest.raises(DataError, match="values shape"):
        apply_policy([0, 1000], [1.0], None, None, findings=[])
    with pytest.raises(DataError, match="quality shape"):
        apply_policy([0, 1000], [1.0, 2.0], [0], None, findings=[])


# ------------------------------------------------------------------ value types


def test_finding_serialisation_and_text():
    finding = QualityFinding("FI101", "frozen", T0_MS, T0_MS + 3_600_000, 61, "frozen at 42")
    data = json.loads(json.dumps(finding.to_dict()))
    assert data["start"] == "2023-11-14T22:13:20.000Z"
    assert data["end"] == "2023-11-14T23:13:20.000Z"
    assert QualityFinding.from_dict(data) == finding
    assert str(finding) == (
        "FI101: frozen 2023-11-14T22:13:20.000Z .. 2023-11-14T23:13:20.000Z (n=61): frozen at 42"
    )
    assert set(ISSUES) >= {"gap", "nan", "spike", "unit_mismatch", "all_nan"}


def test_value_types_reject_bad_input():
    with pytest.raises(DataError, match="unknown quality issue 'glitch'"):
        QualityFinding("x", "glitch", 0, 0, 1, "")
    with pytest.raises(DataError, match="malformed quality finding"):
        QualityFinding.from_dict({"tag": "x", "issue": "gap"})
    with pytest.raises(ValidationError, match="spike_window must be odd"):
        QualityPolicy(spike_window=30)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        QualityPolicy(max_gap=5)
    with pytest.raises(ValidationError, match="on_nan"):
        QualityPolicy(on_nan="ignore")
    with pytest.raises(ValidationError, match="greater than 0"):
        QualityPolicy(max_gap_s=0)


@pytest.mark.parametrize(
    ("settings", "error_type"),
    [
        ({"spike_z": "5"}, "float_type"),  # was silently parsed as 5.0
        ({"gap_factor": True}, "float_type"),
        ({"frozen_tolerance_abs": float("nan")}, "finite_number"),
        ({"spike_window": 31.0}, "int_type"),
        ({"frozen_min_samples": "3"}, "int_type"),
        ({"frozen": 1}, "bool_type"),
        ({"spike": "false"}, "bool_type"),
        ({"bad_quality_codes": [256]}, "less_than_equal"),
        ({"bad_quality_codes": ["1"]}, "int_type"),
        ({"frozen_min_duration_s": "5"}, "quantity"),  # a string needs a unit
        ({"interpolate_max_gap_s": True}, "quantity_type"),
        ({"frozen_min_duration_s": "5 kg"}, "quantity"),
        ({"kinds": {"setpiont": {"frozen": False}}}, "literal_error"),
        ({"kinds": {"setpoint": {"frozen": "no"}}}, "bool_type"),
    ],
)
def test_policy_values_are_strict(settings, error_type):
    with pytest.raises(ValidationError) as caught:
        QualityPolicy.model_validate(settings)
    assert caught.value.errors()[0]["type"] == error_type


def test_policy_durations_take_units():
    policy = QualityPolicy.model_validate(
        {"frozen_min_duration_s": "30 min", "max_gap_s": 90, "interpolate_max_gap_s": "0.5 h"}
    )
    # 30 min = 1800 s and 0.5 h = 1800 s exactly (pint's factors 60 and 3600).
    assert (policy.frozen_min_duration_s, policy.max_gap_s) == (1800.0, 90.0)
    assert policy.interpolate_max_gap_s == 1800.0
    with pytest.raises(ValidationError, match="a string needs a unit"):
        QualityPolicy.model_validate({"max_gap_s": "90"})


def test_scanner_rejects_bad_input():
    with pytest.raises(DataError, match="tag 'x': values shape"):
        scan_series("x", [0, 1000], [1.0])
    with pytest.raises(DataError, match="integer milliseconds"):
        scan_series("x", [0.0, 1000.0], [1.0, 2.0])
    with pytest.raises(DataError, match="quality shape"):
        scan_series("x", [0, 1000], [1.0, 2.0], [0])
    with pytest.raises(DataError, match="expected_range"):
        QualityScanner("x", expected_range=(5.0, 1.0))
    with pytest.raises(DataError, match="sampling_ms must be positive"):
        QualityScanner("x", sampling_ms=0)
    scanner = QualityScanner("x")
    scanner.feed([0, 1000], [1.0, 2.0])
    assert scanner.finish() == scanner.finish()
    with pytest.raises(RuntimeError, match="already finished"):
        scanner.feed([2000], [3.0])
