"""The advisor on the demo steelworks history: limits, names, units, savings, errors."""

from __future__ import annotations

import dataclasses
import json
import math

import h5py
import numpy as np
import pytest
import tomli_w
from numpy.testing import assert_allclose

from controllers.advisor import FallbackLevel
from energyopt.advise import (
    AdvisorSession,
    advise,
    compare_first_interval,
    recommendation_table,
    recommendation_to_dict,
)
from energyopt.demos.history import DEMO_START_MS
from energyopt.errors import DataError, HistorianFormatError, ProjectError, TagNotFoundError
from energyopt.project import load_project

DAY_MS = 86_400_000
#: A decision time with three days of history behind it (the forecast needs them).
AT_MS = DEMO_START_MS + 3 * DAY_MS + 10 * 3_600_000


@pytest.fixture(scope="module")
def advised(session):
    """The recommendation at AT_MS and its record."""
    return advise(session, AT_MS)


def test_setpoints_inside_limits_and_rate_limits(session, advised):
    rec, _ = advised
    assert rec.fallback is FallbackLevel.NONE
    for mv, spec in zip(rec.mvs, session.advisor.settings.mvs, strict=True):
        assert mv.setpoint is not None
        assert np.isfinite(mv.setpoint)
        # Exact: the advisor's projection clips onto these bounds.
        assert spec.lower <= mv.setpoint <= spec.upper
        assert abs(mv.setpoint - mv.current) <= spec.rate_per_interval


def test_record_names_units_and_round_trip(advise_demo, advised):
    _, record = advised
    by_mv = {m["mv"]: m for m in record["mvs"]}
    b1 = by_mv["boiler_1_bfg"]
    assert (b1["tag"], b1["unit"], b1["variable"]) == (
        "PP.B1.BFG.FLOW.SP",
        "Nm3/h",
        "boiler_1.fuel_0_m3_s",
    )
    # limits = [0, 210000] and rate 5000 Nm3/h per min x 15 min in the project file.
    assert (b1["low"], b1["high"]) == (0.0, 210000.0)
    assert_allclose(b1["rate_per_interval"], 75000.0, rtol=1e-12)  # unit conversion only
    # The current value is the recorded setpoint at AT_MS, in the tag's unit.
    with h5py.File(advise_demo / "history.h5", "r") as f:
        i = int(np.searchsorted(f["time"][:], AT_MS))
        recorded = float(f["tags/PP.B1.BFG.FLOW.SP"][i])
    assert_allclose(b1["current"], recorded, rtol=1e-12)  # Nm3/h -> m3/s -> Nm3/h
    assert by_mv["prds_hp_mp.flow_in_command_kg_s"]["tag"] is None
    assert record["currency"] == "CNY"
    assert record["mode"] == "ADVISE"
    assert record["time_ms"] == AT_MS
    assert record["time"].endswith("+08:00")
    assert json.loads(json.dumps(record)) == record
    assert record["interval_saving"] is not None
    assert record["driver"] is not None


def test_first_interval_saving_matches_an_independent_simulation(session, advised):
    from plant_models.core.simulate import simulate

    rec, record = advised
    built, mpc = session.built, session.mpc
    horizon = session.last_horizon()
    x0 = session.state(AT_MS)
    hold = np.array([mv.current for mv in rec.mvs])
    comparison = compare_first_interval(session, rec, x0, hold)
    assert_allclose(comparison.saving, record["interval_saving"], rtol=1e-12)
    tagged = np.array([info.tag is not None for info in session.mvs])
    first_rec = rec.prediction.mv_plan[0]
    first_hold = np.where(tagged, hold, first_rec)
    project = built.project
    ng_price = float(project.tariffs.prices["ng"].price_per_m3)
    holders = [b for b in mpc.settings.soft_bands if "holder" in b.variable]

    def cost(first):
        u = horizon.u_base.copy()
        u[[built.index("u", n) for n in mpc.mv_names]] = first
        # One implicit-Euler step of 900 s is the 1-stage Radau collocation the
        # controller uses (collocation_degree = 1): same discretisation, numba code.
        # Outputs are reported at interval starts: a second, identical interval
        # gives them at the first one's end state.
        sim = simulate(
            built.model,
            x0,
            np.tile(u, (2, 1)),
            np.tile(horizon.d[0], (2, 1)),
            session.parameters,
            900.0,
            method="implicit_euler",
        )
        y = sim.outputs[1]
        out = {v.name: y[k] for k, v in enumerate(built.model.outputs)}
        total = 900.0 * horizon.price_per_j[0] * out["grid.power_purchased_w"]
        total += 900.0 * ng_price * out["ng.demand"]
        total += 900.0 * 8.0e-3 * out["demin_water.demand"]  # 8 CNY/t of water
        for flare in ("bfg_flare", "cog_flare"):
            total += 900.0 * 0.05 * out[f"{flare}.flow_m3_s"]  # penalty per Nm3
            total += 900.0 * 0.08 * out[f"{flare}.co2_kg_s"]  # 80 CNY/t CO2
        for b in holders:
            v = out[b.variable]
            total += b.weight_linear * (max(b.low - v, 0.0) + max(v - b.high, 0.0))
        return total

    # Same equations, same discretisation; the Newton tolerance (1e-10) of both
    # implicit solves and the bill's size (~3e4 CNY per interval) allow 1e-6 relative.
    assert_allclose(cost(first_hold) - cost(first_rec), comparison.saving, rtol=1e-6, atol=1e-3)
    # Replacing the first move by the recommendation itself costs nothing.
    same = compare_first_interval(session, rec, x0, first_rec)
    assert same.saving == 0.0


def test_expected_saving_against_operators_changing_nothing(session, advised):
    rec, record = advised
    base = rec.baseline
    assert base is not None
    assert base.comparable, base.reason
    # 18:00 local, peak tariff: a typical time.  The plan is optimal over a
    # superset of the baseline's plans, so the saving is >= 0 up to ipopt's
    # tolerance (1e-7 on the objective scaled by 1e-6: ~0.1 CNY on ~1e6 CNY).
    assert math.isfinite(rec.expected_saving)
    assert rec.expected_saving >= -1.0
    # Independent check: both plans simulated again (EconomicMPC.evaluate, the
    # rollout, not the NLP's collocation variables) from the same state on the
    # same forecast; ipopt meets the collocation rows to ~1e-8 relative, so the
    # two objectives (~9e5 CNY) agree to ~1e-2 CNY.
    x0 = session.state(AT_MS)
    horizon = session.last_horizon()
    current = np.array([mv.current for mv in rec.mvs])
    plan = session.mpc.evaluate(x0, rec.prediction.mv_plan, current, horizon)
    hold = session.mpc.evaluate(x0, base.mv_plan, current, horizon)
    assert_allclose(hold.objective - plan.objective, rec.expected_saving, atol=1.0)
    assert hold.hard_violation <= 1e-6  # the baseline keeps every hard limit
    # What the baseline holds: the tagged setpoints, within 5 % of their range,
    # for the first hour (4 intervals); the untagged balancing MVs are free.
    tagged = np.array([info.tag is not None for info in session.mvs])
    specs = session.advisor.settings.mvs
    span = np.array([mv.upper - mv.lower for mv in specs])
    assert base.held_mvs == tuple(info.variable for info in session.mvs if info.tag is not None)
    assert base.hold_intervals == 4
    drift = np.abs(base.mv_plan[:4] - current)[:, tagged]
    assert np.all(drift <= 0.05 * span[tagged] * (1 + 1e-6))  # ipopt's bound tolerance
    # The record carries it with its currency, horizon and basis.
    assert record["expected_saving"] == rec.expected_saving
    assert record["currency"] == "CNY"
    assert record["expected_saving_horizon_s"] == 6 * 3600.0
    assert record["expected_saving_reason"] is None
    assert "12 operator setpoint(s) held" in record["expected_saving_basis"]
    assert record["baseline"]["held"][0] == "boiler_1_bfg"  # binding names
    assert record["baseline"]["hold_s"] == 3600.0
    assert record["baseline"]["status"] == "optimal"
    # Purchases only (no band penalties, no move suppression), same simulations.
    assert_allclose(record["expected_saving_purchases"], hold.cost - plan.cost, rtol=1e-12)


def test_unknown_saving_is_explained(session, advised):
    rec, _ = advised
    why = (
        "holding the operators' setpoints for 1 h breaks hard limits the plan keeps: "
        "mp_header.pressure_pa.high_violated"
    )
    base = dataclasses.replace(
        rec.baseline,
        objective=math.nan,
        reason=why,
        violated_constraints=("mp_header.pressure_pa.high_violated",),
    )
    record = recommendation_to_dict(
        dataclasses.replace(rec, expected_saving=None, baseline=base), session
    )
    assert record["expected_saving"] is None
    assert record["expected_saving_reason"] == why
    assert record["baseline"]["violated_constraints"] == ["mp_header.pressure_pa.high_violated"]
    from rich.console import Console

    for lang, words in (("en", "expected saving over 6 h: unknown (holding"), ("zh", "6 h内")):
        console = Console(record=True, width=400)
        console.print(recommendation_table(record, lang=lang))
        text = console.export_text()
        assert words in text
        assert "mp_header.pressure_pa.high_violated" in text


def test_mode_off_recommends_nothing(session):
    session.mode = "OFF"
    try:
        rec, record = advise(session, AT_MS)
    finally:
        session.mode = "ADVISE"
    assert rec.prediction is None
    assert all(m["recommended"] is None for m in record["mvs"])
    assert record["mode"] == "OFF"
    assert record["interval_saving"] is None
    assert record["expected_saving"] is None
    assert record["expected_saving_reason"] == "the advisor is OFF"
    assert record["baseline"] is None


def test_time_outside_the_file_and_too_early(session):
    first, last = session.reader.time_span_ms
    with pytest.raises(DataError, match="outside the file"):
        session.recommend(last + 15 * 60_000)
    with pytest.raises(DataError, match="not enough history"):
        session.recommend(first + DAY_MS)


def test_decision_times_are_on_the_interval_grid(session):
    times = session.decision_times()
    assert times.size > 0
    assert np.all(times % 900_000 == 0)
    assert times[0] >= session.earliest_ms()
    assert session.default_time_ms() % 900_000 == 0


def test_missing_tag_and_broken_file(advise_demo, tmp_path):
    broken = tmp_path / "broken.h5"
    broken.write_bytes((advise_demo / "history.h5").read_bytes()[:4096])
    with pytest.raises(HistorianFormatError):
        AdvisorSession.open(advise_demo / "plant.toml", broken)
    partial = tmp_path / "partial.h5"
    partial.write_bytes((advise_demo / "history.h5").read_bytes())
    with h5py.File(partial, "a") as f:
        del f["tags/PP.B1.BFG.FLOW.SP"]
    with pytest.raises(TagNotFoundError, match=r"PP\.B1\.BFG\.FLOW\.SP \(bindings\.boiler_1_bfg\)"):
        AdvisorSession.open(advise_demo / "plant.toml", partial)


def test_project_without_economic_controller_is_refused(advise_demo, tmp_path):
    # Neither [controller.economic] nor a process flowsheet: nothing to advise with.
    data = load_project(advise_demo / "plant.toml").to_toml_dict()
    del data["controller"]["economic"]
    project = tmp_path / "plant.toml"
    project.write_text(tomli_w.dumps(data), encoding="utf-8")
    with pytest.raises(ProjectError, match=r"needs \[controller\.economic\].*has neither"):
        AdvisorSession.open(project, advise_demo / "history.h5")
