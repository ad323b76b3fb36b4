"""Issue 3 acceptance: calibration recovers the chemical reactor's truth perturbations.

The reactor's component balances need the reactor feed's composition, which
the recycle changes and no analyser measures; its two energy balances need
only measured signals (reactor and jacket temperatures, A and B
concentrations, feed flow and temperature, cooling water flow and supply
temperature).  So the fit uses those two state equations
(:func:`energyopt.fitting.equation_subset`), which carry k10 (through the
heat of reaction A -> B) and the jacket heat-transfer coefficient.
Criterion as in ``test_calibrate_steelworks``: truth within 3 standard
errors, nominal beyond 3.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from energyopt.data.reader import HistorianReader
from energyopt.demos.chemical_history import TRUTH_FACTORS
from energyopt.fitting import UnitFitSpec, calibrate_units, equation_subset, unused_signals
from energyopt.project.loader import load_project
from plant_models.core.equations import to_casadi
from plant_models.flowsheet import reactor
from plant_models.units.cstr_vdv import CstrVdvParams

TRUTH_SE = 3.0
NOMINAL_SE = 3.0
SPEC = UnitFitSpec(
    "reactor",
    ("k10_1_s", "heat_transfer_coefficient_w_m2_k"),
    states=("t_reactor_k", "t_jacket_k"),
)


@pytest.fixture(scope="module")
def report(chemical_demo: Path):
    project = load_project(chemical_demo / "plant.toml")
    with HistorianReader(chemical_demo / "history.h5") as reader:
        return calibrate_units(project, reader, [SPEC])


def test_truth_within_standard_errors_and_nominal_outside(report):
    cal = report.units["reactor"]
    for row in cal.rows():
        truth = row["nominal"] * TRUTH_FACTORS[f"reactor.{row['parameter']}"]
        se = row["standard_error"]
        detail = f"{row['parameter']}: estimate {row['value']:.6g} +- {se:.3g}, truth {truth:.6g}"
        assert se > 0.0, detail
        assert abs(row["value"] - truth) <= TRUTH_SE * se, detail
        assert abs(row["value"] - row["nominal"]) > NOMINAL_SE * se, detail
    nominal, calibrated = cal.nominal_validation, cal.result.validation_metrics
    assert nominal is not None
    assert calibrated is not None
    assert calibrated.nrmse[0] < nominal.nrmse[0], f"{calibrated.nrmse} vs {nominal.nrmse}"


def test_unread_signals_need_no_tag(report):
    sources = report.units["reactor"].data.grid.sources
    # The valve drives only the dropped cooling-water lag; C, D and the feed
    # composition enter only the component balances.
    for name in ("valve_cooling", "c_c_mol_m3", "feed_in_c_a_mol_m3"):
        assert sources[name].tag is None, name
    assert sources["t_jacket_k"].tag is not None


def test_equation_subset_evaluates_the_unit_equations():
    model = reactor.model(CstrVdvParams())
    subset = equation_subset(model, ("t_reactor_k", "t_jacket_k"))
    assert [v.name for v in subset.states] == ["t_reactor_k", "t_jacket_k"]
    rng = np.random.default_rng(3)
    full, part = to_casadi(model), to_casadi(subset)
    p = np.asarray(reactor.parameter_vector(CstrVdvParams(), reactor.ReactorJacketSettings()))
    for _ in range(5):
        x = np.array([v.low + rng.random() * (v.high - v.low) for v in model.states])
        u = np.array([rng.random()])
        d = np.array([v.low + rng.random() * (v.high - v.low) for v in model.disturbances])
        moved = x[[0, 1, 4, 5, 6]]
        expected = np.asarray(full.f(x, u, d, p)).ravel()[[2, 3]]
        got = np.asarray(part.f(x[[2, 3]], u, np.concatenate([d, moved]), p)).ravel()
        # The same arithmetic in the same order: equal to round-off.
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    unused = unused_signals(subset)
    assert "valve_cooling" in unused
    assert "c_d_mol_m3" in unused
    assert "t_cooling_water_k" not in unused
    assert "c_a_mol_m3" not in unused
