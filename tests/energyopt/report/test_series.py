"""Plotted series: bound tags in engineering units and the cumulative cost."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.testing import assert_allclose
from report_case import Truth

from energyopt.report.inputs import load_inputs
from energyopt.report.series import bound_series, cost_series, holder_bindings, key_bindings


def test_holder_and_key_bindings(replay_template: Path) -> None:
    project = load_inputs(replay_template).project
    assert project is not None
    assert holder_bindings(project) == ["bfg_holder_level", "cog_holder_level", "ldg_holder_level"]
    keys = key_bindings(project)
    assert not set(keys) & set(holder_bindings(project))
    roles = [project.bindings[k].role for k in keys]
    assert roles == sorted(roles)  # controlled before manipulated


def test_bound_series_in_binding_units(replay_template: Path, truth: Truth) -> None:
    inputs = load_inputs(replay_template)
    assert inputs.project is not None
    (series,) = bound_series(inputs.project, inputs.runs, ["bfg_holder_level"])
    assert list(series.runs) == ["mpc", "baseline", "recorded"]
    level = truth.vectors["y"][:, truth.built.index("y", "bfg_holder.level_fraction")]
    # % of a fraction: one pint conversion (factor 100) on float64.
    assert_allclose(series.runs["mpc"][1], 100.0 * level, rtol=1e-12)
    assert_allclose(series.runs["baseline"][1], 100.0 * (level + 0.05), rtol=1e-12)


def test_cumulative_cost_matches_the_kpi_function(replay_template: Path, truth: Truth) -> None:
    from energyopt.kpis import energy_cost

    inputs = load_inputs(replay_template)
    series, problem = cost_series(truth.built, inputs.runs)
    assert problem == ""
    t, cost = series["mpc"]
    y, d = truth.vectors["y"], truth.vectors["d"]
    built = truth.built

    def out(name: str) -> np.ndarray:
        return y[:, built.index("y", name)]

    # Independent reference: the KPI module's energy cost with the demo tariff
    # (steelworks.toml: natural gas 3.4 CNY/Nm3, demineralised water 8 CNY/t).
    price_kwh = d[:, built.index("d", "grid.price_per_j")] * 3.6e6
    expected = energy_cost(
        out("grid.power_purchased_w"),
        price_kwh,
        60.0,
        fuel_flows_nm3_s={"ng": out("ng.demand"), "demin": out("demin_water.demand") / 1000.0},
        fuel_prices_per_nm3={"ng": 3.4, "demin": 8.0},
    )
    # Same sums in a different order: float64 round-off only.
    assert_allclose(cost[-1], expected, rtol=1e-9)
    assert np.all(np.diff(cost) >= 0.0)
    assert t[0] == truth.time_ms[0] + 60_000  # end of the first step
