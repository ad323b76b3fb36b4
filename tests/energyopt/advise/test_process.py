"""The advisor around a process plant's NMPC (the chemical demo, 6 h of history)."""

from __future__ import annotations

import argparse
import json

import h5py
import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.advisor import FallbackLevel
from energyopt.advise import AdvisorSession, advise, recommendation_to_dict, run_shadow
from energyopt.advise.process import ProcessAdvisorSession
from energyopt.commands import recommend
from energyopt.demos.history import DEMO_START_MS
from energyopt.errors import DataError, ProjectError, TagNotFoundError
from energyopt.project import load_project

#: 1.5 h into the demo history (on the 30-s control grid). [ms since epoch]
AT_MS = DEMO_START_MS + 90 * 60_000

pytestmark = pytest.mark.slow  # the NLP build and the flowsheet's steady state: ~10 s


@pytest.fixture(scope="module")
def chemical(chemical_demo):
    """An open process advisor session, its recommendation at AT_MS and its record."""
    with AdvisorSession.open(
        chemical_demo / "plant.toml", chemical_demo / "history.h5", mode="ADVISE"
    ) as session:
        rec, record = advise(session, AT_MS)
        yield session, rec, record


def test_open_gives_the_nmpc_session_with_the_pid_setpoints(chemical):
    session, rec, record = chemical
    assert isinstance(session, ProcessAdvisorSession)
    assert [mv["mv"] for mv in record["mvs"]] == [
        "feed_flow_sp",
        "reactor_temperature_sp",
        "preheat_temperature_sp",
        "flash_level_sp",
        "flash_steam_sp",
    ]
    assert [mv["unit"] for mv in record["mvs"]] == ["m3/h", "degC", "degC", "%", "t/h"]
    assert rec.fallback is FallbackLevel.NONE
    assert record["status"] == "optimal"
    assert record["time"] == "2026-01-05T02:30:00+01:00"  # Europe/Berlin
    # Not in money: said so, never a number in the project's currency.
    assert record["expected_saving"] is None
    assert "not priced in EUR" in record["expected_saving_reason"]
    json.dumps(record)  # JSON-ready


def test_setpoints_within_limits_and_rate_limits(chemical, chemical_demo):
    session, rec, record = chemical
    bindings = load_project(chemical_demo / "plant.toml").bindings
    with h5py.File(chemical_demo / "history.h5", "r") as f:
        i = int(np.searchsorted(f["time"][:], AT_MS))
        recorded = {mv["tag"]: float(f["tags"][mv["tag"]][i]) for mv in record["mvs"]}
    interval_min = session.interval_s / 60.0
    for mv in record["mvs"]:
        spec = bindings[mv["mv"]]
        low, high = (float(v) for v in spec.limits)
        rate = float(spec.rate_limit_per_min) * interval_min
        # The current value is the recorded setpoint at AT_MS (unit arithmetic only).
        assert_allclose(mv["current"], recorded[mv["tag"]], rtol=1e-12)
        # Limits from the project file, not from the session: a tiny slack for
        # the SI round trip (t/h <-> kg/s, degC <-> K) of the recommended value.
        assert low - 1e-9 <= mv["recommended"] <= high + 1e-9
        assert abs(mv["recommended"] - mv["current"]) <= rate * (1.0 + 1e-9)
        assert_allclose(mv["rate_per_interval"], rate, rtol=1e-12)
        assert (mv["low"], mv["high"]) == (low, high)
    assert any(abs(mv["recommended"] - mv["current"]) > 0.0 for mv in record["mvs"])
    # The same in SI on the recommendation itself (what the GUI applies).
    for mv, spec in zip(rec.mvs, session.advisor.settings.mvs, strict=True):
        assert spec.lower <= mv.setpoint <= spec.upper
        assert abs(mv.setpoint - mv.current) <= spec.rate_per_interval * (1.0 + 1e-12)


def test_c_b_prediction_inside_its_band_or_the_constraint_named(chemical, chemical_demo):
    session, rec, record = chemical
    band = load_project(chemical_demo / "plant.toml").bindings["reactor_conc_b"]
    entry = session.built.bindings["reactor_conc_b"]
    low, high = sorted(float(v) for v in entry.to_model(list(band.normal)))
    assert_allclose((low, high), (1000.0, 1300.0), rtol=1e-12)  # kmol/m3 -> mol/m3
    assert rec.prediction is not None
    c_b = rec.prediction.cv[:, rec.prediction.cv_names.index("reactor.c_b_mol_m3")]
    inside = bool(np.all((c_b >= low) & (c_b <= high)))
    named = any(c.startswith("reactor.c_b_mol_m3") for c in record["active_constraints"])
    assert inside or named
    assert np.all(np.isfinite(c_b))


def test_ekf_state_follows_the_measurements(chemical, chemical_demo):
    session, _, _ = chemical
    x = session.state(AT_MS)
    with h5py.File(chemical_demo / "history.h5", "r") as f:
        i = int(np.searchsorted(f["time"][:], AT_MS))
        c_b_kmol = float(f["tags/AI-103.CB"][i])
        t_reactor_c = float(f["tags/TIC-102.PV"][i])
    model = session.built.model
    # Reactor B concentration and temperature are states measured directly.
    # The estimate may differ from one noisy sample by the sensor noise and the
    # model mismatch of the demo (its truth reacts 3 % slower): 3 % of c_B,
    # 1 K of temperature (noise about 0.1 K).
    assert_allclose(x[model.index("x", "reactor.c_b_mol_m3")], c_b_kmol * 1000.0, rtol=0.03)
    assert_allclose(x[model.index("x", "reactor.t_reactor_k")], t_reactor_c + 273.15, atol=1.0)
    assert_allclose(session.current_mvs(AT_MS)[1], 383.46990732730154, rtol=1e-9)


def test_mode_off_recommends_nothing(chemical):
    session, _, _ = chemical
    session.mode = "OFF"
    try:
        rec = session.recommend(AT_MS)
    finally:
        session.mode = "ADVISE"
    assert rec.setpoints == {}
    assert recommendation_to_dict(rec, session)["mode"] == "OFF"


def test_time_outside_the_file_is_refused(chemical):
    session, _, _ = chemical
    with pytest.raises(DataError, match="outside the file"):
        session.recommend(DEMO_START_MS - 60_000)
    with pytest.raises(DataError, match="state estimator needs at least one control interval"):
        session.recommend(DEMO_START_MS)


def test_missing_tag_is_named_and_shadow_is_refused(chemical_demo, tmp_path):
    partial = tmp_path / "partial.h5"
    partial.write_bytes((chemical_demo / "history.h5").read_bytes())
    with h5py.File(partial, "a") as f:
        del f["tags/AI-103.CB"]
    with pytest.raises(TagNotFoundError, match=r"AI-103\.CB \(bindings\.reactor_conc_b\)"):
        AdvisorSession.open(chemical_demo / "plant.toml", partial)
    with pytest.raises(ProjectError, match="objective is not in money"):
        run_shadow(chemical_demo / "plant.toml", chemical_demo / "history.h5", tmp_path)
    assert not (tmp_path / "shadow.json").exists()


def test_recommend_command_on_the_chemical_demo(chemical_demo, capsys):
    parser = argparse.ArgumentParser()
    recommend.register(parser.add_subparsers())
    args = parser.parse_args(
        [
            "recommend",
            str(chemical_demo / "plant.toml"),
            "--data",
            str(chemical_demo / "history.h5"),
            "--at",
            "2026-01-05T02:30",
            "--json",
        ]
    )
    assert recommend.run(args) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["time_ms"] == AT_MS
    assert len(record["mvs"]) == 5


def test_time_between_rows_uses_the_last_row_before_it(chemical):
    session, _, _ = chemical
    # 10 s after AT_MS: the same rows (the file samples every 60 s), the same estimate.
    np.testing.assert_array_equal(session.state(AT_MS + 10_000), session.state(AT_MS))
    np.testing.assert_array_equal(session.current_mvs(AT_MS + 10_000), session.current_mvs(AT_MS))
