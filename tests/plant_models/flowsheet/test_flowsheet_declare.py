"""Failure paths of flowsheet declaration and composition."""

from __future__ import annotations

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plant_models.core.errors import EquationError
from plant_models.flowsheet import (
    Block,
    FlowsheetNode,
    FlowsheetUnit,
    LoopSpec,
    Wire,
    build_flowsheet,
    compose_blocks,
)
from plant_models.flowsheet.declare import WiringError
from plant_models.flowsheet.reactor import ReactorJacketSettings
from plant_models.flowsheet.separation import FlashDrumSettings
from plant_models.units import pid
from plant_models.units.cstr_vdv import CstrVdvParams


def _pid_block(name):
    params = pid.PidParams()
    model = pid.model(params)
    return Block(name, model, model.pack_parameters(params))


def test_algebraic_loop_is_refused_with_the_outputs_named():
    blocks = [_pid_block("a"), _pid_block("b")]
    # Each PI output depends directly on its measurement: a -> b -> a is algebraic.
    wires = [Wire("a.output", "b.measurement"), Wire("b.output", "a.measurement")]
    with pytest.raises(EquationError, match=r"algebraic loop: .*a\.output.*b\.output"):
        compose_blocks("bad", blocks, wires)


def test_a_chain_through_states_is_ordered_not_refused():
    blocks = [_pid_block("a"), _pid_block("b")]
    fs = compose_blocks("ok", blocks, [Wire("a.output", "b.measurement")])
    # b needs a's output first: two layers.
    assert fs.schedule == (("a",), ("b",))
    assert [v.name for v in fs.model.disturbances] == ["a.measurement"]


@pytest.mark.parametrize(
    ("wires", "message"),
    [
        ([Wire("a.output", "b.measurement"), Wire("a.error", "b.measurement")], "wired twice"),
        ([Wire("a.nothing", "b.measurement")], "has no variable 'nothing'"),
        ([Wire("a.output", "b.output")], "is an output"),
        ([Wire("c.output", "b.measurement")], "no block 'c'"),
    ],
)
def test_bad_wires_are_refused(wires, message):
    with pytest.raises(EquationError, match=message):
        compose_blocks("bad", [_pid_block("a"), _pid_block("b")], wires)


def test_block_parameter_count_is_checked():
    model = pid.model(pid.PidParams())
    with pytest.raises(EquationError, match="parameters given"):
        Block("a", model, np.zeros(2))


def _units():
    """A reactor between a bought feed and a product node, jacket on cooling water."""
    return [
        FlowsheetUnit(
            "reactor",
            CstrVdvParams(volume_m3=1.0, area_m2=21.5, jacket_mass_kg=500.0),
            {"feed_in": ("feed",), "product_out": ("product",), "cooling_water": ("cw",)},
            ReactorJacketSettings(cooling_water_max_kg_s=3.0),
        )
    ]


def _nodes():
    return [
        FlowsheetNode("feed", "process"),
        FlowsheetNode("product", "process"),
        FlowsheetNode("cw", "cooling_water"),
    ]


def _loops():
    return [
        LoopSpec("fic", pid.PidParams(gain=40.0), "feed.supply", "feed.valve"),
        LoopSpec("tic", pid.PidParams(gain=-0.15), "reactor.t_reactor_k", "reactor.valve_cooling"),
    ]


def test_declared_settings_reach_the_parameters():
    fs = build_flowsheet("ok", _units(), _nodes(), _loops())
    p = fs.parameter_vector()
    assert p[fs.model.index("p", "reactor.cooling_water_max_kg_s")] == 3.0
    assert [v.name for v in fs.model.inputs] == ["fic.setpoint", "tic.setpoint"]


def test_settings_of_another_type_are_refused():
    units = _units()
    units[0] = FlowsheetUnit(
        units[0].name, units[0].params, units[0].connections, FlashDrumSettings()
    )
    with pytest.raises(
        EquationError, match="settings FlashDrumSettings do not belong to type 'cstr_vdv'"
    ):
        build_flowsheet("bad", units, _nodes(), _loops())


def test_split_stream_and_unknown_node_are_refused():
    units = _units()
    nodes = _nodes()
    second = FlowsheetUnit(
        "reactor_2",
        CstrVdvParams(),
        {"feed_in": ("feed",), "product_out": ("product",)},
    )
    with pytest.raises(EquationError, match="splitters are not modelled"):
        build_flowsheet("bad", [*units, second], nodes, _loops())
    lost = FlowsheetUnit("reactor_3", CstrVdvParams(), {"feed_in": ("nowhere",)})
    with pytest.raises(EquationError, match="unknown node 'nowhere'"):
        build_flowsheet("bad", [*units, lost], nodes)
    with pytest.raises(EquationError, match="carries process"):
        build_flowsheet(
            "bad",
            [FlowsheetUnit("r", CstrVdvParams(), {"feed_in": ("steam",)})],
            [FlowsheetNode("steam", "steam")],
        )


@pytest.mark.parametrize(
    ("loop", "key", "message"),
    [
        (
            LoopSpec("x", pid.PidParams(), "reactor.t_reactor_k", "reactor.nope"),
            "actuator",
            "'nope' is not an input of 'reactor'",
        ),
        (
            LoopSpec("x", pid.PidParams(), "reactr.t_reactor_k", "reactor.valve_cooling"),
            "measurement",
            "no unit, node or loop 'reactr' (did you mean 'reactor'?)",
        ),
        (
            LoopSpec("x", pid.PidParams(), "reactor", "reactor.valve_cooling"),
            "measurement",
            "expected '<block>.<variable>', got 'reactor'",
        ),
        (
            LoopSpec("x", pid.PidParams(), "feed.supply", "reactor.feed_in_t_k"),
            "actuator",
            "'reactor.feed_in_t_k' is already driven by a stream or utility connection",
        ),
        (
            LoopSpec("x", pid.PidParams(), "feed.supply", "fic.setpoint", "reactor.nope"),
            "setpoint",
            "'nope' is not an output of 'reactor'",
        ),
    ],
)
def test_bad_loop_paths_name_the_loop_and_key(loop, key, message):
    with pytest.raises(WiringError, match=re.escape(message)) as info:
        build_flowsheet("bad", _units(), _nodes(), [*_loops(), loop])
    assert (info.value.owner, info.value.key) == ("x", key)


def test_cascade_drives_the_inner_setpoint():
    # The outer loop drives FIC's setpoint: it is no longer a plant input.
    outer = LoopSpec("outer", pid.PidParams(gain=1e-4), "reactor.c_b_mol_m3", "fic.setpoint")
    fs = build_flowsheet("ok", _units(), _nodes(), [*_loops(), outer])
    assert [v.name for v in fs.model.inputs] == ["tic.setpoint", "outer.setpoint"]
    second = LoopSpec("again", pid.PidParams(), "reactor.c_a_mol_m3", "fic.setpoint")
    with pytest.raises(WiringError, match="already driven by loop 'outer'"):
        build_flowsheet("bad", _units(), _nodes(), [*_loops(), outer, second])


def test_bad_draws_are_refused():
    with pytest.raises(WiringError, match="'nope' is not an output of 'reactor'") as info:
        build_flowsheet("bad", _units(), _nodes(), extra_draws={"cw": ("reactor.nope",)})
    assert (info.value.owner, info.value.key) == ("cw", "draws")
    with pytest.raises(WiringError, match="not a utility node"):
        build_flowsheet("bad", _units(), _nodes(), extra_draws={"feed": ("reactor.nope",)})


def test_vdv_rates_follow_arrhenius():
    from plant_models.units import cstr_vdv

    params = CstrVdvParams()
    p = np.array([getattr(params, n) for n in cstr_vdv.PARAMETERS])
    x = np.array([2140.0, 1090.0, 387.35, 386.05])
    # Independent evaluation from the published constants (Klatt and Engell 1998,
    # guide section 4) converted to SI; same formula, so agreement to rounding.
    k1 = 1.287e12 / 3600.0 * np.exp(-9758.3 / 387.35)
    k3 = 9.043e9 * 1e-3 / 3600.0 * np.exp(-8560.0 / 387.35)
    assert_allclose(cstr_vdv.rates(x, p), (k1 * 2140.0, k1 * 1090.0, k3 * 2140.0**2), rtol=1e-12)
    # And f uses them: with no flow, dc_A/dt = -r1 - r3.
    dxdt = cstr_vdv.f(x, np.zeros(2), np.array([387.35]), p)
    assert_allclose(dxdt[0], -k1 * 2140.0 - k3 * 2140.0**2, rtol=1e-12)
