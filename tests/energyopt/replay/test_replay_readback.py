"""Read-backs by the plant's equations, the replay's fine step and gap bridging."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.demos import demo_project_file
from energyopt.errors import ModelError
from energyopt.plantbuild import build_plant, nominal_disturbances
from energyopt.project import load_project
from energyopt.replay.case import replay_step_s
from energyopt.replay.readback import StateReader, find_readback


@pytest.fixture(scope="module")
def built():
    return build_plant(load_project(demo_project_file("steelworks")))


def _point(built, seed: int = 0):
    """A random operating point inside the model's envelope."""
    rng = np.random.default_rng(seed)
    model = built.model
    points = []
    for kind in ("x", "u"):
        low, high = model.bounds(kind)
        points.append(low + rng.uniform(0.2, 0.8, low.size) * (high - low))
    return points[0], points[1], nominal_disturbances(built)


def test_state_from_every_output_is_exact(built) -> None:
    """Holder volumes come back from their levels; the rest are outputs of the same name."""
    from plant_models.core.equations import to_numba

    p = built.parameters()
    x, u, d = _point(built)
    y = np.asarray(to_numba(built.model).g(x, u, d, p))
    got = StateReader(built, p).states(y[None, :], u[None, :], d[None, :])[0]
    # Level = volume / design volume inverted: exact but for one rounding each way.
    assert_allclose(got, x, rtol=1e-12)


def test_input_read_back_by_bisection(built) -> None:
    """A compressor's flow from its power (not affine: a minimum-flow floor)."""
    from plant_models.core.equations import to_numba

    p = built.parameters()
    i = built.index("u", "air_compressor_1.flow_m3_s")
    rb = find_readback(built, "u", i, {"air_compressor_1.power_w"})
    assert rb is not None
    assert rb.coefficients is None  # piecewise: bisection
    x, u, d = _point(built)
    low, high = built.model.bounds("u")
    # Above the minimum-flow floor (70 % of capacity in the demo: power is flat below).
    flows = np.linspace(low[i] + 0.8 * (high[i] - low[i]), high[i], 5)
    us = np.tile(u, (flows.size, 1))
    us[:, i] = flows
    g = to_numba(built.model).g
    power = np.array([g(x, row, d, p)[rb.output_index] for row in us])
    got = rb.invert(power, np.tile(x, (5, 1)), us, np.tile(d, (5, 1)), p)
    # 48 halvings of the envelope: 2**-48 of the span.
    assert_allclose(got, flows, rtol=0, atol=(high[i] - low[i]) * 2.0**-47)


def test_unreadable_state_is_named(built) -> None:
    with pytest.raises(ModelError, match=r"state blast_furnaces\.flow_m3_s is neither measured"):
        StateReader(built, built.parameters(), outputs=())
    reader = StateReader(built, built.parameters(), outputs=(), strict=False)
    assert "bfg_holder.volume_m3" in reader.unread


@pytest.mark.parametrize(
    ("sampling_ms", "interval_s", "expected"),
    [
        (60_000.0, 900.0, 60.0),  # the demo: one-minute history, 15-min MPC
        (1_000.0, 900.0, 60.0),  # a one-second historian still steps by a minute
        (300_000.0, 900.0, 300.0),  # five-minute history
        (120_000.0, 900.0, 100.0),  # 120 s does not divide 900 s: the next divisor below
        (None, 30.0, 30.0),  # one sample, a 30-s controller
    ],
)
def test_replay_step(sampling_ms: float | None, interval_s: float, expected: float) -> None:
    assert replay_step_s(sampling_ms, interval_s) == expected


def test_read_back_through_the_floor_matches_the_output(built) -> None:
    """Many rows across the compressor's envelope, floor included: every read-back reproduces y."""
    from plant_models.core.equations import to_numba

    p = built.parameters()
    i = built.index("u", "air_compressor_1.flow_m3_s")
    rb = find_readback(built, "u", i, {"air_compressor_1.power_w"})
    assert rb is not None
    rng = np.random.default_rng(3)
    low, high = built.model.bounds("u")
    x, u, d = _point(built)
    n = 400
    us = np.tile(u, (n, 1))
    us[:, i] = low[i] + rng.uniform(0.0, 1.0, n) * (high[i] - low[i])
    g = to_numba(built.model).g
    power = np.array([g(x, row, d, p)[rb.output_index] for row in us])
    power[0], power[1], power[2] = np.nan, -1.0, 1e12  # missing, below and above the range
    got = rb.invert(power, np.tile(x, (n, 1)), us, np.tile(d, (n, 1)), p)
    assert np.isnan(got[0])
    assert got[1] == low[i]  # the nearer end of the envelope
    assert got[2] == high[i]
    back = us.copy()
    back[:, i] = got
    again = np.array([g(x, row, d, p)[rb.output_index] for row in back[3:]])
    # The independent forward evaluation (numba) of the read-back flow gives the
    # power back to round-off of the output (1e-14 of its scale is the stop rule).
    assert_allclose(again, power[3:], rtol=1e-13)
    # Above the floor the flow itself comes back at least as precisely as the
    # former 48 halvings gave it (2**-47 of the span; measured 2.7e-16 of it).
    above = power[3:] > power[3:].min() * (1 + 1e-9)
    assert above.sum() > 50  # both sides of the floor are exercised
    assert_allclose(got[3:][above], us[3:, i][above], rtol=0, atol=(high[i] - low[i]) * 2.0**-47)
