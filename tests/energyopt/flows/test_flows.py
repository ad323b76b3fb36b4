"""Energy-flow model on the demo steelworks: balances, values against the model outputs."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.demos import demo_project_file
from energyopt.demos.steelworks_truth import run_truth
from energyopt.errors import DataError
from energyopt.flows import FlowModel, FlowTrajectory, balance_residuals, build_flow_network
from energyopt.plantbuild import build_plant
from energyopt.project.loader import load_project

START_MS = 1_700_000_000_000


@pytest.fixture(scope="module")
def built():
    return build_plant(load_project(demo_project_file("steelworks")))


@pytest.fixture(scope="module")
def run(built):
    # Two hours at one minute, after a 30 min warm-up: converter blows and holder
    # swings (filling and emptying) occur, so reversed links are exercised.
    return run_truth(built, days=2 / 24, step_s=60.0, seed=3, start_ms=START_MS, warmup_s=1800.0)


@pytest.fixture(scope="module")
def trajectory(run):
    time_ms = (START_MS + run.time_s * 1000.0).astype(np.int64)
    return FlowTrajectory(
        time_ms, run.states, run.inputs, run.disturbances, run.outputs, run.parameters
    )


@pytest.fixture
def model(built, trajectory):
    return FlowModel(build_flow_network(built), trajectory)


def _y(built, run, name):
    return run.outputs[:, built.index("y", name)]


def _signed(graph, key):
    link = graph.link(key)
    return -link.value_si if link.reversed else link.value_si


def test_every_view_balances_at_several_times(model):
    for k in (0, 17, 60, 119):
        for view in model.network.views:
            graph = model.graph(view.name, k)
            residuals = balance_residuals(graph)
            assert residuals, view.name
            scale = max(link.value_si for link in graph.links)
            # Sums of ~60 float64 terms up to ~1e9 W: rounding is ~1e-7 of the
            # largest term; the model's own balance is exact (slack = net supply).
            assert_allclose(list(residuals.values()), 0.0, atol=1e-9 * scale + 1e-12)


def test_site_view_has_converters_losses_and_all_energy_media(model):
    graph = model.graph("site", 30)
    roles = {node.key: node.role for node in graph.nodes}
    assert roles["unit:boiler_1"] == "converter"
    assert roles["unit:tg_1"] == "converter"
    assert roles["unit:bfg_holder"] == "holder"
    assert roles["unit:bfg_flare"] == "flare"
    assert roles["unit:grid"] == "grid"
    assert roles["losses"] == "loss"
    assert roles["boundary:ng"] == "boundary"
    assert "net:plant_air" not in roles  # compressed air counted as its electricity
    assert any("plant_air" in reason for reason in model.network.excluded)
    # A turbine's losses (condenser) are large and positive.
    assert graph.link("tg_1.losses").value_si > 10e6


def test_site_values_equal_model_outputs(built, run, model):
    lhv_bfg = run.disturbances[:, built.index("d", "bfg.lhv_j_m3")]
    fuel = run.inputs[:, built.index("u", "boiler_1.fuel_0_m3_s")]
    heat_loss = _y(built, run, "boiler_1.heat_loss_w") + _y(built, run, "boiler_1.aux_power_w")
    flare = _y(built, run, "bfg_flare.energy_lost_w")
    grid = _y(built, run, "grid.power_import_w")
    tg_power = _y(built, run, "tg_1.power_w")
    for k in (5, 45, 100):
        graph = model.graph("site", k)
        # Same products in a different order: agreement to float64 rounding.
        assert_allclose(graph.link("boiler_1.fuel:bfg").value_si, fuel[k] * lhv_bfg[k], rtol=1e-12)
        assert_allclose(graph.link("boiler_1.losses").value_si, heat_loss[k], rtol=1e-9)
        assert_allclose(graph.link("bfg_flare.gas:bfg").value_si, flare[k], rtol=1e-12, atol=1e-6)
        assert_allclose(_signed(graph, "grid.power:el_bus"), grid[k], rtol=1e-12)
        assert_allclose(graph.link("tg_1.power_out:el_bus").value_si, tg_power[k], rtol=1e-12)
        # Display unit MW: 1 MW = 1e6 W exactly.
        link = graph.link("tg_1.power_out:el_bus")
        assert_allclose(link.value_display, link.value_si / 1e6, rtol=1e-15)


def test_node_view_values_equal_model_outputs(built, run, model):
    holder = _y(built, run, "bfg_holder.flow_in_m3_s")
    ng_purchase = _y(built, run, "ng.demand")
    assert (holder > 0).any() or (holder < 0).any()
    for k in range(0, 120, 7):
        graph = model.graph("bfg", k)
        # The holder's link is the storage change, signed: filling > 0.
        assert_allclose(_signed(graph, "bfg_holder.gas:bfg"), holder[k], rtol=1e-12, atol=1e-12)
        link = graph.link("bfg_holder.gas:bfg")
        assert link.reversed == (holder[k] < 0)
        if link.reversed:
            assert (link.source, link.target) == ("unit:bfg_holder", "net:bfg")
        # 1 Nm3/s = 3600 Nm3/h exactly.
        assert_allclose(link.value_display, 3600.0 * link.value_si, rtol=1e-15)
        ng = model.graph("ng", k).link("boundary:ng")
        assert_allclose(ng.value_si, ng_purchase[k], rtol=1e-12, atol=1e-12)


def test_time_signal_and_lookup(model, trajectory):
    seen: list[int] = []
    model.time_changed.connect(seen.append)
    model.set_index(3)
    model.set_index(3)  # no move, no signal
    model.set_time_ms(int(trajectory.time_ms[10]) + 30_000)  # between samples 10 and 11
    model.set_time_ms(0)  # before the start: the first sample
    assert seen == [3, 10, 0]
    assert model.current_time_ms == int(trajectory.time_ms[0])
    assert model.graph("site").time_ms == int(trajectory.time_ms[0])


def test_single_sample(built, run):
    sample = FlowTrajectory(
        np.array([START_MS]), run.states[4], run.inputs[4], run.disturbances[4], run.outputs[4]
    )
    model = FlowModel.from_built(built, sample)
    graph = model.graph("site")
    # Nominal parameters here, truth parameters above: a grid link is a model
    # output either way and matches it to rounding.
    grid = run.outputs[4, built.index("y", "grid.power_import_w")]
    assert_allclose(_signed(graph, "grid.power:el_bus"), grid, rtol=1e-12)


def test_errors(built, trajectory, model):
    with pytest.raises(DataError, match="no energy-flow view 'steam'"):
        model.graph("steam")
    with pytest.raises(DataError, match="sample index 500 outside"):
        model.set_index(500)
    with pytest.raises(DataError, match="sample index -1 outside"):
        model.graph("site", -1)
    bad = FlowTrajectory(
        trajectory.time_ms,
        trajectory.states,
        trajectory.inputs,
        trajectory.disturbances,
        trajectory.outputs[:, :-1],
    )
    with pytest.raises(DataError, match="outputs has shape"):
        FlowModel.from_built(built, bad)
    backwards = FlowTrajectory(
        trajectory.time_ms[::-1].copy(),
        trajectory.states[:-1],
        trajectory.inputs,
        trajectory.disturbances,
        trajectory.outputs,
    )
    with pytest.raises(DataError, match="strictly increasing"):
        FlowModel.from_built(built, backwards)
    with pytest.raises(DataError, match="parameters has shape"):
        FlowModel.from_built(
            built,
            FlowTrajectory(
                trajectory.time_ms,
                trajectory.states,
                trajectory.inputs,
                trajectory.disturbances,
                trajectory.outputs,
                np.zeros(3),
            ),
        )


def test_set_trajectory_emits_and_resets(model, trajectory):
    events: list[str] = []
    model.values_changed.connect(lambda: events.append("values"))
    model.time_changed.connect(lambda k: events.append(f"time {k}"))
    model.set_index(5)
    model.set_trajectory(trajectory)
    assert events == ["time 5", "values", "time 0"]


def test_snapshot_arrays_equal_graph_records(model):
    # The per-frame array path against the record path (independent Python sums per node).
    for k in (0, 33, 77, 119):
        for view in model.network.views:
            graph = model.graph(view.name, k)
            snap = model.snapshot(view.name, k)
            keys = [node.key for node in graph.nodes]
            assert snap.time_ms == graph.time_ms
            assert snap.view == graph.view
            assert [keys[i] for i in snap.source] == [link.source for link in graph.links]
            assert [keys[i] for i in snap.target] == [link.target for link in graph.links]
            assert snap.reversed.tolist() == [link.reversed for link in graph.links]
            assert_allclose(snap.value_si, [link.value_si for link in graph.links], rtol=0)
            scale = max(1.0, float(snap.value_si.max()))
            # Same terms summed in another order (BLAS vs Python): ~1e-15 of the sum.
            assert_allclose(
                snap.inflow_si,
                [graph.inflow_si(key) for key in keys],
                rtol=1e-12,
                atol=1e-12 * scale,
            )
            assert_allclose(
                snap.outflow_si,
                [graph.outflow_si(key) for key in keys],
                rtol=1e-12,
                atol=1e-12 * scale,
            )


def test_snapshot_defaults_to_displayed_time_and_checks_input(model):
    model.set_index(12)
    assert model.snapshot("bfg").time_ms == model.graph("bfg", 12).time_ms
    with pytest.raises(DataError, match=r"sample index 120 outside 0\.\.119"):
        model.snapshot("site", 120)
    with pytest.raises(DataError, match="no energy-flow view 'steam'"):
        model.snapshot("steam")
    with pytest.raises(DataError, match="no energy-flow view 'steam'"):
        model.incidence("steam")
