"""Failure paths of flowsheet declaration and composition."""

from __future__ import annotations

import numpy as np
import pytest

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
from plant_models.flowsheet.chemical import default_loops, default_nodes, default_units
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


def test_split_stream_and_unknown_node_are_refused():
    units = list(default_units())
    nodes = default_nodes()
    second = FlowsheetUnit(
        "reactor_2",
        CstrVdvParams(),
        {"feed_in": ("feed_hot",), "product_out": ("product",)},
    )
    with pytest.raises(EquationError, match="splitters are not modelled"):
        build_flowsheet("bad", [*units, second], nodes, default_loops())
    lost = FlowsheetUnit("reactor_3", CstrVdvParams(), {"feed_in": ("nowhere",)})
    with pytest.raises(EquationError, match="unknown node 'nowhere'"):
        build_flowsheet("bad", [*units, lost], nodes)
    with pytest.raises(EquationError, match="carries process"):
        build_flowsheet(
            "bad",
            [FlowsheetUnit("r", CstrVdvParams(), {"feed_in": ("steam",)})],
            [FlowsheetNode("steam", "steam")],
        )


def test_loop_on_unknown_actuator_is_refused():
    loops = (
        *default_loops()[:-1],
        LoopSpec("x", pid.PidParams(), "flash.steam_kg_s", "flash.nope"),
    )
    with pytest.raises(EquationError, match="no variable 'nope'"):
        build_flowsheet("bad", default_units(), default_nodes(), loops)
