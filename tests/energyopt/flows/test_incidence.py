"""Incidence matrices of a Sankey view: node totals and link directions on a hand-made view."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.errors import DataError
from energyopt.flows import LinkSpec, SankeyNode, ViewIncidence, ViewInfo

INFO = ViewInfo("gas", "gas (fuel_gas)", "fuel_gas", "m**3/s", "Nm3/h")
NODES = (
    SankeyNode("unit:maker", "maker", "producer"),
    SankeyNode("net:gas", "gas", "network"),
    SankeyNode("unit:holder", "holder", "holder"),
    SankeyNode("unit:user", "user", "user"),
)
LINKS = (
    LinkSpec("maker.out:gas", "unit:maker", "net:gas", "maker to gas"),
    LinkSpec("holder.gas:gas", "net:gas", "unit:holder", "holder from gas"),
    LinkSpec("user.in:gas", "net:gas", "unit:user", "user from gas"),
)


def test_totals_and_directions_by_hand():
    incidence = ViewIncidence.from_view(NODES, LINKS)
    # The maker supplies 10, the holder empties 3 (signed -3), the user takes 13.
    snap = incidence.snapshot(INFO, 1000, np.array([10.0, -3.0, 13.0]))
    assert snap.reversed.tolist() == [False, True, False]
    assert snap.source.tolist() == [0, 2, 1]  # the holder link now runs holder -> gas
    assert snap.target.tolist() == [1, 1, 3]
    # Small integers: exact in float64.
    assert_allclose(snap.value_si, [10.0, 3.0, 13.0], rtol=0)
    assert_allclose(snap.inflow_si, [0.0, 13.0, 0.0, 13.0], rtol=0)
    assert_allclose(snap.outflow_si, [10.0, 13.0, 3.0, 0.0], rtol=0)


def test_totals_over_time_match_per_sample_snapshots():
    incidence = ViewIncidence.from_view(NODES, LINKS)
    rng = np.random.default_rng(7)
    values = rng.normal(size=(3, 50))
    inflow, outflow = incidence.node_totals(values)
    assert inflow.shape == outflow.shape == (4, 50)
    for k in range(50):
        snap = incidence.snapshot(INFO, k, values[:, k])
        # Each node has at most two links: sums of two floats, order-independent, exact.
        assert_allclose(inflow[:, k], snap.inflow_si, rtol=0)
        assert_allclose(outflow[:, k], snap.outflow_si, rtol=0)
    # Independent check: the gas node balances when the holder takes the net supply.
    balanced = values.copy()
    balanced[1] = values[0] - values[2]
    inflow, outflow = incidence.node_totals(balanced)
    # Differences of three O(1) numbers: rounding ~1e-16.
    assert_allclose(inflow[1], outflow[1], rtol=0, atol=1e-14)


def test_unknown_node_raises():
    bad = (*LINKS, LinkSpec("x", "net:gas", "unit:nowhere", "x"))
    with pytest.raises(DataError, match="unknown node 'unit:nowhere'"):
        ViewIncidence.from_view(NODES, bad)
