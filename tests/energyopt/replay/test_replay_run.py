"""Replay runs on the steelworks demo: recorded round trip, baseline, outputs, cancel, bad input."""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.closedloop.dcs import build_dcs_loops
from energyopt.closedloop.protection import holder_protection
from energyopt.data.reader import HistorianReader
from energyopt.demos.history import DEMO_START_MS
from energyopt.errors import (
    CancelledError,
    DataError,
    HistorianFormatError,
    ProjectError,
    TagNotFoundError,
)
from energyopt.progress import CancelToken
from energyopt.project import load_project
from energyopt.replay import PreparedReplay, prepare_replay, run_prepared, run_replay
from energyopt.replay.run import recorded_series

HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def nominal_6h(steelworks_demo: tuple[Path, Path]) -> PreparedReplay:
    """Six recorded hours from 02:00 of the first day, nominal project parameters."""
    project, data = steelworks_demo
    start = DEMO_START_MS + 2 * HOUR_MS
    return prepare_replay(load_project(project), data, start_ms=start, end_ms=start + 6 * HOUR_MS)


def test_recorded_replay_reproduces_recorded_kpis(steelworks_demo: tuple[Path, Path]) -> None:
    """With the truth parameters, the recorded inputs reproduce the recorded KPIs."""
    from energyopt.demos.steelworks_truth import truth_parameters
    from energyopt.plantbuild import build_plant

    project, data = steelworks_demo
    loaded = load_project(project)
    start = DEMO_START_MS + 2 * HOUR_MS
    run = run_replay(
        loaded,
        data,
        "recorded",
        start_ms=start,
        end_ms=start + 12 * HOUR_MS,
        parameters=truth_parameters(build_plant(loaded)),
    )
    sim, rec = run.kpis, run.recorded_kpis
    # Electricity: turbines and loads are algebraic in the recorded inputs; what
    # is left is the demo's sensor noise (0.1-0.2 % of span) on the read-back
    # disturbances and the lagged states: 1 %.
    assert_allclose(
        sim["purchased_electricity"].value, rec["purchased_electricity"].value, rtol=0.01
    )
    # The cost adds the natural gas the simulated dispatch makes up: 2 %.
    assert_allclose(sim["energy_cost"].value, rec["energy_cost"].value, rtol=0.02)
    # Flaring and holder minutes integrate the holder balance: the noise of the
    # four read-back gas flows accumulates over hours and the flare opens on the
    # simulated (not the recorded) level: 40 %, and 5 min per replayed hour.
    assert_allclose(sim["flared_gas"].value, rec["flared_gas"].value, rtol=0.4)
    outside = sim["holder_time_outside_hard"].value - rec["holder_time_outside_hard"].value
    assert abs(outside) <= 12 * 5.0
    # Both runs leave out the same steps (the record's own gaps).
    assert sim["purchased_electricity"].n_missing == rec["purchased_electricity"].n_missing


def test_recorded_replay_with_nominal_model_is_close(nominal_6h: PreparedReplay) -> None:
    """The nominal (uncalibrated) model is a few percent off the truth."""
    run = run_prepared(nominal_6h, "recorded")
    # Turbine Willans slope 3 % and boiler efficiencies 1-1.5 points off in the
    # nominal model: the electricity bought moves by up to 5 %.
    assert_allclose(
        run.kpis["purchased_electricity"].value,
        run.recorded_kpis["purchased_electricity"].value,
        rtol=0.05,
    )
    # The operators' inputs are applied exactly as recorded, except those the
    # project's DCS header loops trim on top of the record ([controller.dcs]).
    policy_dcs = {
        i for loop in build_dcs_loops(nominal_6h.case.built, "recorded") for i in loop.actuators
    }
    assert policy_dcs  # the demo's turbine inlets and extractions
    for i in run.case.operator_inputs:
        if i not in policy_dcs:
            assert_allclose(run.result.inputs[:, i], run.case.inputs[:, i], rtol=0, atol=0)
    # Air-compressor flows (no tag) are read back from their power: the
    # simulated power reproduces the recorded one to the bisection's precision
    # wherever the record lies inside the machine's power range (noise pushes
    # some samples above full load or below the minimum-flow floor).
    power = run.result.series("air_compressor_1.power_w")
    recorded = recorded_series(run.case)["air_compressor_1.power_w"]
    inside = np.isfinite(recorded) & (recorded < power.max()) & (recorded > power.min())
    assert inside.sum() > 10
    assert_allclose(power[inside], recorded[inside], rtol=1e-9)


def test_baseline_run(nominal_6h: PreparedReplay) -> None:
    """The dispatch runs the plant for six hours, finite, buying a works' share of power."""
    run = run_prepared(nominal_6h, "baseline")
    assert run.controller == "baseline"
    assert run.case.n_steps == 360  # 6 h at the 60-s plant step
    purchased = run.result.series("grid.power_purchased_w")
    assert np.all(np.isfinite(purchased))
    # A 5 Mt/yr works buys 100-250 MW (guide, section 4: own plants cover 40-80 %).
    assert 50e6 < float(np.mean(purchased)) < 300e6
    assert math.isfinite(run.kpis["energy_cost"].value)
    assert run.recorded_kpis == {}


def test_hold_baseline_keeps_setpoints(nominal_6h: PreparedReplay) -> None:
    """The PID-only baseline holds the manipulated setpoints at their start values."""
    run = run_prepared(nominal_6h, "baseline", baseline="hold")
    # The project's DCS header loops ([controller.dcs]) trim their actuators;
    # its holder protection ([controller.dcs.protection]) clamps the boilers'
    # firing and sheds gas users near a holder's hard limits.
    trimmed = {
        i for loop in build_dcs_loops(nominal_6h.case.built, "baseline") for i in loop.actuators
    }
    guard = holder_protection(nominal_6h.case.built, nominal_6h.case.step_s)
    assert guard is not None
    for g in guard.guards:
        trimmed |= set(g.consumers) | set(g.shed) | ({g.flare} if g.flare is not None else set())
    for i in run.case.operator_inputs:
        if i not in trimmed:
            assert_allclose(run.result.inputs[:, i], run.case.inputs[0, i], rtol=0, atol=0)


def test_unknown_baseline(nominal_6h: PreparedReplay) -> None:
    with pytest.raises(ProjectError, match="unknown baseline 'manual'; choose one of dispatch"):
        run_prepared(nominal_6h, "baseline", baseline="manual")


@pytest.mark.slow
def test_replay_to_dir_outputs(steelworks_demo: tuple[Path, Path], tmp_path: Path) -> None:
    """results.h5 reads back with HistorianReader in the bindings' units; kpis.json per contract."""
    from energyopt.replay import replay_to_dir

    project, data = steelworks_demo
    start = DEMO_START_MS + 2 * HOUR_MS
    out = replay_to_dir(
        project, data, "recorded", tmp_path / "out", start_ms=start, end_ms=start + 2 * HOUR_MS
    )
    names = {p.name for p in out.iterdir()}
    assert {"results.h5", "compare_baseline.h5", "kpis.json"} <= names
    if importlib.util.find_spec("energyopt.report") is not None:
        assert "report.html" in names
    assert not any(n.endswith(".partial") for n in (p.name for p in tmp_path.iterdir()))
    with HistorianReader(out / "results.h5") as reader:
        assert reader.tag("EL.GRID.IMPORT").unit == "MW"
        assert reader.tag("model.grid.power_purchased_w").unit == "W"
        assert reader.tag("model.grid.power_purchased_w").kind == "output"
        assert reader.tag("model.bfg_holder.volume_m3").kind == "state"
        series = reader.read(["EL.GRID.IMPORT", "model.grid.power_import_w"])
        # The tag is the model variable in MW: an exact unit conversion.
        assert_allclose(
            series.values["EL.GRID.IMPORT"] * 1e6,
            series.values["model.grid.power_import_w"],
            rtol=1e-12,
        )
        assert series.time_ms[0] == start
    with h5py.File(out / "results.h5", "r") as h5:
        assert h5.attrs["energyopt_run"] == "recorded"
        assert Path(h5.attrs["source_data"]) == data.resolve()
        assert h5["decisions/time"].dtype == np.int64
        assert "none" in h5["decisions/status"].attrs["codes"].split(",")
    doc = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    assert doc["format"] == "energyopt-kpis"
    assert doc["version"] == 1
    assert doc["controller"] == "recorded"
    assert doc["period"] == {"start_ms": start, "end_ms": start + 2 * HOUR_MS}
    assert doc["report"]["reference"] == "recorded"
    assert set(doc["report"]["runs"]) == {"recorded", "baseline"}


@pytest.mark.usefixtures("without_report")
def test_cancel_leaves_no_output(steelworks_demo: tuple[Path, Path], tmp_path: Path) -> None:
    """A cancel from the progress callback mid-run leaves neither the folder nor a stage."""
    from energyopt.replay import replay_to_dir

    project, data = steelworks_demo
    token = CancelToken()
    seen: list[float] = []

    def progress(done: float, total: float | None, message: str) -> None:
        seen.append(done)
        if done > 0.3:
            token.cancel()

    with pytest.raises(CancelledError, match="cancelled"):
        replay_to_dir(
            project,
            data,
            "baseline",
            tmp_path / "out",
            start_ms=DEMO_START_MS,
            end_ms=DEMO_START_MS + 4 * HOUR_MS,
            progress=progress,
            cancel=token,
        )
    assert seen
    assert list(tmp_path.iterdir()) == []


def test_period_outside_file(steelworks_demo: tuple[Path, Path]) -> None:
    project, data = steelworks_demo
    with pytest.raises(DataError, match="is not inside"):
        run_replay(
            load_project(project),
            data,
            "recorded",
            start_ms=DEMO_START_MS - 86_400_000,
            end_ms=DEMO_START_MS + HOUR_MS,
        )


def test_unknown_controller(steelworks_demo: tuple[Path, Path]) -> None:
    project, data = steelworks_demo
    with pytest.raises(ProjectError, match="unknown controller 'pid'"):
        run_replay(load_project(project), data, "pid")


def test_broken_file(steelworks_demo: tuple[Path, Path], tmp_path: Path) -> None:
    project, _ = steelworks_demo
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not an hdf5 file")
    with pytest.raises(HistorianFormatError):
        run_replay(load_project(project), broken, "recorded")


def _copy_without(data: Path, dest: Path, drop: str, nan_tag: str | None = None) -> Path:
    from energyopt.data.writer import write_historian

    with HistorianReader(data) as reader:
        series = reader.read(None, DEMO_START_MS, DEMO_START_MS + 12 * HOUR_MS)
        units = {t: reader.tag(t).unit for t in series.values}
    values = {t: v.copy() for t, v in series.values.items() if t != drop}
    if nan_tag is not None:
        values[nan_tag][60 : 60 + 240] = np.nan  # 4 h from 01:00
    units = {t: u for t, u in units.items() if t in values}
    write_historian(dest, series.time_ms, values, units, timezone="Asia/Shanghai")
    return dest


def test_missing_driving_tag(steelworks_demo: tuple[Path, Path], tmp_path: Path) -> None:
    project, data = steelworks_demo
    copy = _copy_without(data, tmp_path / "h.h5", "PP.B1.BFG.FLOW.SP")
    with pytest.raises(
        TagNotFoundError, match=r"bindings\.boiler_1_bfg \(tag 'PP.B1.BFG.FLOW.SP'\)"
    ):
        run_replay(load_project(project), copy, "recorded")


def test_long_gap_in_driving_tag(steelworks_demo: tuple[Path, Path], tmp_path: Path) -> None:
    project, data = steelworks_demo
    copy = _copy_without(data, tmp_path / "h.h5", "", nan_tag="EL.WORKS.LOAD")
    with pytest.raises(DataError, match=r"tag 'EL.WORKS.LOAD' .* longer than the 3 h"):
        run_replay(load_project(project), copy, "recorded")


def test_output_folder_exists(steelworks_demo: tuple[Path, Path], tmp_path: Path) -> None:
    from energyopt.errors import OutputError
    from energyopt.replay import replay_to_dir

    project, data = steelworks_demo
    (tmp_path / "out").mkdir()
    with pytest.raises(OutputError, match="already exists"):
        replay_to_dir(project, data, "recorded", tmp_path / "out")
    shutil.rmtree(tmp_path / "out")
