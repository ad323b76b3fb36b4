"""The steelworks closed loop runs the project's DCS header loops under the controller."""

from __future__ import annotations

import numpy as np
import pytest

from energyopt.closedloop.steelworks import build_steelworks_scenario, run_steelworks

DAYS = 0.5


@pytest.fixture(scope="module")
def scenario():
    return build_steelworks_scenario(days=DAYS, seed=0)


def _hp_deviation_kpa(result) -> float:
    """Mean distance of the HP header from its loop's setpoint (9.8 MPa in the demo). [kPa]"""
    return float(np.mean(np.abs(result.series("hp_header.pressure_pa") - 9.8e6))) / 1e3


def test_dcs_loops_trim_the_rule_based_dispatch(scenario):
    plain = run_steelworks(scenario, "rule_based", days=DAYS, dcs=False)
    with_dcs = run_steelworks(scenario, "rule_based", days=DAYS)
    # The HP loop trims the turbine inlets and the HP->MP let-down on top of the
    # dispatch: the header sits closer to its 9.8 MPa setpoint (measured 34.5 ->
    # 28.0 kPa mean deviation over 12 h, seed 0); a layer that did nothing would
    # leave the two runs identical.
    assert _hp_deviation_kpa(with_dcs) < 0.9 * _hp_deviation_kpa(plain)
    inlet = scenario.built.index("u", "tg_1.flow_in_kg_s")
    assert not np.array_equal(plain.inputs[:, inlet], with_dcs.inputs[:, inlet])


def test_kpis_add_the_cost_of_shed_gas_to_the_total(scenario):
    import dataclasses

    from energyopt.closedloop.steelworks import steelworks_kpis

    result = run_steelworks(scenario, "rule_based", days=0.1)
    base = steelworks_kpis(scenario, result)
    # The rule-based dispatch never sheds the steelshop users: no shed cost.
    assert base["curtailment_cost_cny"] == 0.0
    # Put a known shed on the steelshop users: 10 MW for every step at the
    # project's natural-gas backup price 9.44e-8 CNY/J -> 0.944 CNY/s.
    outputs = result.outputs.copy()
    column = scenario.built.index("y", "steelshop_users.curtailment_cost_per_s")
    outputs[:, column] = 10.0e6 * 9.44e-8
    shed = dataclasses.replace(result, outputs=outputs)
    kpis = steelworks_kpis(scenario, shed)
    expected = 0.944 * result.time_s.size * scenario.step_s
    # Sums of equal terms: round-off only.
    np.testing.assert_allclose(kpis["curtailment_cost_cny"], expected, rtol=1e-12)
    np.testing.assert_allclose(
        kpis["total_cost_cny"], base["total_cost_cny"] + expected, rtol=1e-12
    )
