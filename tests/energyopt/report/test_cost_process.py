"""The report's cost over time on a process plant: bought feed, utilities, product sales."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.data import write_historian
from energyopt.demos import demo_project_file
from energyopt.errors import DataError
from energyopt.plantbuild import build_plant
from energyopt.project import load_project
from energyopt.report.inputs import RunFile
from energyopt.report.series import cost_series, cumulative_cost

T0_MS = 1_700_000_000_000
STEP_MS = 60_000
#: Short series of the chemical demo's priced variables, in SI.
SERIES = {
    "grid.power_purchased_w": ([420e3, 430e3, 410e3, 400e3], "W"),
    "grid.price_per_j": ([0.19 / 3.6e6, 0.19 / 3.6e6, 0.13 / 3.6e6, 0.13 / 3.6e6], "1/J"),
    "fresh_feed.supply": ([0.005, 0.0045, 0.004, 0.004], "m^3/s"),
    "lp_steam.demand": ([0.25, 0.26, 0.24, 0.2], "kg/s"),
    "makeup_water.demand": ([1.1, 1.2, 1.0, 0.9], "kg/s"),
    "product.supply": ([0.0048, 0.0046, 0.0041, 0.0039], "m^3/s"),
}


@pytest.fixture(scope="module")
def built():
    return build_plant(load_project(demo_project_file("chemical")))


def _run(path: Path, series: dict[str, tuple[list[float], str]]) -> RunFile:
    time_ms = T0_MS + STEP_MS * np.arange(4, dtype=np.int64)
    write_historian(
        path,
        time_ms,
        {f"model.{k}": np.asarray(v) for k, (v, _) in series.items()},
        {f"model.{k}": u for k, (_, u) in series.items()},
        plant="chemical",
    )
    return RunFile("mpc", path, "chemical", "Europe/Berlin", "", "", int(time_ms[0]), 0)


def test_net_cost_of_the_chemical_demo_by_hand(tmp_path: Path, built) -> None:
    t, cost = cumulative_cost(built, _run(tmp_path / "results.h5", SERIES))
    v = {k: np.asarray(vals) for k, (vals, _) in SERIES.items()}
    # By hand from chemical.toml's tariffs, per 60 s step (the last repeats):
    #   electricity W x EUR/J; fresh feed m3/s x 0.9342 t/m3 x 1100 EUR/t;
    #   LP steam kg/s x 0.038 EUR/kg; make-up kg/s / 996 kg/m3 x 1.2 EUR/m3;
    #   product m3/s x 0.9342 t/m3 x 2600 EUR/t credited.
    rate = (
        v["grid.power_purchased_w"] * v["grid.price_per_j"]
        + v["fresh_feed.supply"] * 0.9342 * 1100.0
        + v["lp_steam.demand"] * 0.038
        + v["makeup_water.demand"] / 996.0 * 1.2
        - v["product.supply"] * 0.9342 * 2600.0
    )
    # Same sums in another order: float64 round-off only.
    assert_allclose(cost, np.cumsum(rate * 60.0), rtol=1e-12)
    assert_allclose(t, T0_MS + STEP_MS * np.arange(1, 5), rtol=0.0, atol=0.0)
    # The sales outweigh the purchases on this series: the net cost falls.
    assert cost[-1] < 0.0


def test_missing_priced_flow_is_reported(tmp_path: Path, built) -> None:
    partial = {k: v for k, v in SERIES.items() if k != "product.supply"}
    run = _run(tmp_path / "results.h5", partial)
    with pytest.raises(DataError, match=r"no model variable product\.supply to price"):
        cumulative_cost(built, run)
    series, problem = cost_series(built, (run,))
    assert series == {}
    assert "product.supply" in problem
