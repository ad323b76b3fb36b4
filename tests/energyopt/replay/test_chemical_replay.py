"""The chemical demo (a process flowsheet) through the replay: recorded, hold and NMPC."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.errors import ProjectError
from energyopt.project import load_project
from energyopt.replay import ReplayRun, prepare_replay, run_prepared, run_replay
from energyopt.replay.run import PreparedReplay, recorded_series

#: Replay window. [h]
HOURS = 2.0


@pytest.fixture(scope="module")
def prepared(chemical_demo: tuple[Path, Path]) -> PreparedReplay:
    from energyopt.data.reader import HistorianReader

    project_path, history = chemical_demo
    with HistorianReader(history) as reader:
        start = reader.time_span_ms[0]
    return prepare_replay(load_project(project_path), history, end_ms=start + round(HOURS * 3.6e6))


@pytest.fixture(scope="module")
def recorded(prepared: PreparedReplay) -> ReplayRun:
    return run_prepared(prepared, "recorded")


def test_case_on_the_flowsheet(prepared: PreparedReplay) -> None:
    case = prepared.case
    # [controller] interval_s = 30 s divides the 60 s historian step: the fine step is 30 s.
    assert (prepared.interval_s, case.step_s, case.n_steps) == (30.0, 30.0, 240)
    assert case.built.flowsheet is not None
    names = [v.name for v in case.built.model.inputs]
    assert {names[i] for i in case.operator_inputs} == {
        "fic_101.setpoint",
        "tic_102.setpoint",
        "tic_110.setpoint",
        "lic_201.setpoint",
        "fic_203.setpoint",
    }
    assert any("integral starts at the model's steady state" in n for n in case.notes)


def test_recorded_replay_reproduces_the_record(recorded: ReplayRun) -> None:
    rec = recorded_series(recorded.case)
    for name in ("reactor.c_b_mol_m3", "reactor.t_reactor_k", "flash.level_fraction"):
        sim, meas = recorded.result.series(name), rec[name]
        ok = np.isfinite(meas)
        # The demo's truth differs from the project's model (A -> B 3 % slower, jacket UA
        # 8 % and preheater UA 10 % lower; energyopt.demos.chemical_history.TRUTH_FACTORS):
        # c_B settles about 1.6 % higher, temperatures within 0.5 K; 3 % covers it.
        assert_allclose(sim[ok], meas[ok], rtol=0.03)
    for key in ("stability_rate", "constraint_violation"):
        # Every CV stays inside its band in both (the window has no excursion): equal.
        assert_allclose(
            recorded.kpis[key].value, recorded.recorded_kpis[key].value, rtol=0.0, atol=1e-9
        )
        assert recorded.kpis[key].n_samples == recorded.recorded_kpis[key].n_samples


@pytest.mark.slow
def test_hold_and_nmpc_keep_c_b_in_band(prepared: PreparedReplay, recorded: ReplayRun) -> None:
    hold = run_prepared(prepared, "baseline")
    assert hold.controller == "baseline"
    mpc = run_prepared(prepared, "mpc")
    stability = {
        run.controller: run.kpis["stability_rate"].detail["reactor.c_b_mol_m3"]
        for run in (hold, mpc)
    }
    assert stability["mpc"] >= stability["baseline"]
    # The NMPC decides every 30 s within the interval: compute-time KPIs present.
    assert mpc.kpis["compute_time_ratio"].value < 1.0
    # Hold keeps the setpoints in force at the start; the NMPC moves them.
    u_hold = hold.result.series("tic_102.setpoint")
    assert np.ptp(u_hold) == 0.0
    c_b = mpc.result.series("reactor.c_b_mol_m3")
    # Band 1000-1300 mol/m3 tightened by 30 each side: inside the plain band throughout.
    assert np.all((c_b > 1000.0) & (c_b < 1300.0))


def test_project_without_any_mpc_is_rejected(
    tmp_path: Path, steelworks_demo: tuple[Path, Path]
) -> None:
    """A media-network project without [controller.economic] has no MPC to replay."""
    from energyopt.data.reader import HistorianReader

    project_path, history = steelworks_demo
    text = project_path.read_text(encoding="utf-8")
    lines, skip = [], False
    for line in text.splitlines():
        if line.startswith("["):
            skip = line.startswith("[controller.economic")
        if not skip:
            lines.append(line)
    path = tmp_path / "plant.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with HistorianReader(history) as reader:
        start = reader.time_span_ms[0]
    with pytest.raises(ProjectError, match="declares neither"):
        run_replay(load_project(path), history, "mpc", end_ms=start + 6 * 3_600_000)


def test_recorded_purchase_is_the_bus_demand(recorded: ReplayRun) -> None:
    """No generation on site and no tag on the grid: the record's purchase is the bus demand."""
    assert recorded.spec.power_demand == ("el_bus.demand",)
    demand = recorded_series(recorded.case)["el_bus.demand"]
    ok = np.isfinite(demand)
    expected_mwh = float(np.sum(demand[ok]) * recorded.case.step_s / 3.6e9)
    # Same samples, rectangle rule both sides: equal to rounding.
    assert_allclose(recorded.recorded_kpis["purchased_electricity"].value, expected_mwh, rtol=1e-9)
    assert recorded.recorded_kpis["purchased_electricity"].n_missing == int((~ok).sum())
