"""The DCS holder protection of ``[controller.dcs.protection]`` in replays.

Under ``baseline`` and ``mpc`` it acts every fine step after the DCS loops
(:class:`~energyopt.replay.policies.RecordOverlay` carries it); under
``recorded`` it does not (the record already holds what the works' DCS did).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.closedloop.policies import Decision
from energyopt.closedloop.protection import HolderGuard, HolderProtection, holder_protection
from energyopt.demos.history import DEMO_START_MS
from energyopt.project import Project, load_project
from energyopt.replay import PreparedReplay, prepare_replay, run_prepared
from energyopt.replay.output import kpis_document
from energyopt.replay.policies import HoldPolicy, RecordOverlay, build_policy

HOUR_MS = 3_600_000


def _without_protection(project: Project) -> Project:
    data = project.model_dump(mode="json", exclude_none=True)
    data["controller"]["dcs"]["protection"] = {}
    return Project.model_validate(data).with_source(project.source)


@pytest.fixture(scope="module")
def two_hours(steelworks_demo: tuple[Path, Path]) -> PreparedReplay:
    """Two recorded hours from 02:00 of the first day (the LDG holder runs low under hold)."""
    project, data = steelworks_demo
    start = DEMO_START_MS + 2 * HOUR_MS
    return prepare_replay(load_project(project), data, start_ms=start, end_ms=start + 2 * HOUR_MS)


def _ramp(level: np.ndarray, start: float, stop: float) -> np.ndarray:
    """The guard's proportional factor, written out again: 1 above start, 0 at stop."""
    return np.clip((level - stop) / (start - stop), 0.0, 1.0)


def test_hold_baseline_is_cut_back_by_the_protection(two_hours: PreparedReplay) -> None:
    """Under the hold baseline the LDG holder falls into its cut-back zone: firing cut, KPI."""
    case = two_hours.case
    run = run_prepared(two_hours, "baseline", baseline="hold")
    inputs = [v.name for v in case.built.model.inputs]
    firing = inputs.index("boiler_3.fuel_2_m3_s")  # the only LDG burner
    shed = inputs.index("steelshop_users.curtail_fraction")  # the ladle preheaters
    level = run.result.series("ldg_holder.level_fraction")
    # LDG hard low 15 % + the demo's margins 10 % and 1 % (exact in binary
    # up to one rounding: compared with a relative 1e-12 below).
    factor = _ramp(level, 0.15 + 0.10, 0.15 + 0.01)
    assert factor.min() < 0.5  # the case: the holder does run low
    held = case.u0(np.zeros(len(inputs)))
    assert held[firing] > 0.0
    # The held firing scaled by the ramp, step by step; the shed raised to
    # 1 - factor (the hold policy never sheds by itself).  Round-off only.
    assert_allclose(run.result.inputs[:, firing], held[firing] * factor, rtol=1e-12, atol=0.0)
    assert_allclose(
        run.result.inputs[:, shed], np.maximum(held[shed], 1.0 - factor), rtol=1e-12, atol=1e-15
    )
    kpi = run.kpis["holder_protection_time"]
    # One minute per 60-s step in which the firing was cut (the held firing is
    # positive, so every step below the start level is an action).
    assert kpi.detail["ldg_holder.cutback"] == float(np.count_nonzero(factor < 1.0))
    assert set(kpi.detail) == {
        f"{h}.{side}"
        for h in ("bfg_holder", "cog_holder", "ldg_holder")
        for side in ("cutback", "high_override")
    }
    assert kpi.value == sum(kpi.detail.values())
    assert (kpi.n_samples, kpi.n_missing) == (case.n_steps, 0)
    # The BFG holder sits at its high-level zone (from 87 %): the flare is
    # opened at least in proportion there.
    bfg = run.result.series("bfg_holder.level_fraction")
    share = np.clip((bfg - 0.87) / 0.03, 0.0, 1.0)
    flare = run.result.series("bfg_flare.flow_command_m3_s")
    capacity = 300_000.0 / 3600.0  # the flare's 300,000 Nm3/h
    assert np.count_nonzero(share > 0.0) > 10
    assert np.all(flare >= share * capacity * (1.0 - 1e-12))  # round-off only
    assert kpi.detail["bfg_holder.high_override"] > 0.0


def test_recorded_replay_is_untouched(two_hours: PreparedReplay) -> None:
    """``recorded`` runs without the protection: identical to a project without the section."""
    project = two_hours.case.built.project
    with_section = run_prepared(two_hours, "recorded")
    without = run_prepared(two_hours.for_project(_without_protection(project)), "recorded")
    assert "holder_protection_time" not in with_section.kpis
    assert_allclose(with_section.result.inputs, without.result.inputs, rtol=0.0, atol=0.0)
    assert_allclose(with_section.result.outputs, without.result.outputs, rtol=0.0, atol=0.0)


def test_project_without_the_section_is_not_protected(two_hours: PreparedReplay) -> None:
    project = _without_protection(two_hours.case.built.project)
    run = run_prepared(two_hours.for_project(project), "baseline", baseline="hold")
    assert "holder_protection_time" not in run.kpis


def test_policies_carry_the_protection(
    two_hours: PreparedReplay, monkeypatch: pytest.MonkeyPatch
) -> None:
    """baseline and mpc carry the project's guards; recorded and dcs=False carry none."""
    import energyopt.replay.policies as policies

    case = two_hours.case
    expected = holder_protection(case.built, case.step_s)
    assert expected is not None
    baseline = build_policy(case, "baseline")
    assert isinstance(baseline, RecordOverlay)
    assert baseline.protection is not None
    assert baseline.protection.guards == expected.guards
    # The MPC itself is not needed to see what wraps it.
    monkeypatch.setattr(
        policies, "_mpc_policy", lambda case, record, refit_every_s: HoldPolicy(900.0)
    )
    mpc = build_policy(case, "mpc")
    assert isinstance(mpc, RecordOverlay)
    assert mpc.protection is not None
    assert mpc.protection.guards == expected.guards
    assert build_policy(case, "recorded").protection is None  # type: ignore[attr-defined]
    alone = build_policy(case, "baseline", dcs=False)
    assert alone.protection is None  # type: ignore[attr-defined]


class _Controller(HoldPolicy):
    """A hold policy that remembers the inputs it is told were applied."""

    def __init__(self) -> None:
        super().__init__(120.0)
        self.told: list[np.ndarray] = []

    def observe_applied(self, u: np.ndarray) -> None:
        self.told.append(np.array(u))


def test_controller_is_told_its_own_setpoints_not_the_clamp() -> None:
    """As in the closed loop (the stop-13 fix): the clamp is released, never taken over."""
    guard = HolderGuard(
        holder="h",
        level=0,
        consumers=(0,),
        shed=(1,),
        low_start=0.25,
        low_stop=0.16,
        flare=2,
        flare_capacity=10.0,
        high_start=0.87,
        high_full=0.90,
    )
    inner = _Controller()
    record = np.zeros((4, 3))
    policy = RecordOverlay(
        inner, record, (), 60.0, protection=HolderProtection((guard,), step_s=60.0)
    )
    policy.reset(np.array([8.0, 0.0, 0.0]), np.zeros(1))
    steps = [
        policy.decide(60.0 * k, np.array([lvl]), np.zeros(0), None)
        for k, lvl in enumerate((0.50, 0.205, 0.50))
    ]
    # Step 1 is half-way down the ramp: firing halved, half the users' share shed.
    assert_allclose(steps[1].u, [4.0, 0.5, 0.0], rtol=1e-12)
    assert_allclose(steps[2].u, [8.0, 0.0, 0.0], rtol=1e-12)
    # At the decision of step 2 the controller is told step 1's own setpoints.
    assert_allclose(inner.told[-1], [8.0, 0.0, 0.0], rtol=0.0, atol=0.0)
    assert isinstance(steps[0], Decision)


def test_kpis_json_carries_the_acted_minutes(two_hours: PreparedReplay, tmp_path: Path) -> None:
    runs = {
        "recorded": run_prepared(two_hours, "recorded", recorded_kpis=True),
        "baseline": run_prepared(two_hours, "baseline"),
    }
    doc = kpis_document(runs, "baseline", source_project=tmp_path, source_data=tmp_path)
    table = doc["report"]["runs"]
    entry = table["baseline"]["holder_protection_time"]
    assert (entry["unit"], entry["name_en"]) == ("min", "DCS holder protection time")
    assert entry["direction"] == "lower_is_better"
    assert entry["value"] == sum(entry["detail"].values())
    assert entry["detail"]["bfg_holder.high_override"] > 0.0  # the dispatch too meets it
    # The record's KPIs have none: what the DCS did is in the record itself.
    assert "holder_protection_time" not in table["recorded"]
