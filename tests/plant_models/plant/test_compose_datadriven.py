"""Data-driven units composed next to mechanistic ones: ports, balances, declaration errors."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plant_models.core.errors import EquationError
from plant_models.datadriven import DataDrivenSpec, DataDrivenUnit
from plant_models.plant.compose import NodeSpec, UnitSpec, compose_plant
from plant_models.plant.datadriven import DataDrivenParams, DataDrivenPort
from plant_models.units.consumers import PowerConsumerParams
from plant_models.units.grid import GridParams

DT_S = 30.0


def _identified(output_unit: str = "W", pole: float = 0.8) -> DataDrivenUnit:
    """A 1st-order ARX identified from noise-free data: y = pole y[-1] + 1e6 (1 - pole) u[-1]."""
    rng = np.random.default_rng(0)
    u = np.repeat(rng.uniform(0.2, 1.0, size=100), 4)
    y = np.zeros_like(u)
    for k in range(1, u.size):
        y[k] = pole * y[k - 1] + 1.0e6 * (1.0 - pole) * u[k - 1]
    spec = DataDrivenSpec(
        "arx",
        inputs=({"name": "speed", "unit": "dimensionless"},),
        outputs=({"name": "power", "unit": output_unit},),
        na=1,
        nb=1,
        nk=1,
    )
    return DataDrivenUnit.identify("blower", spec, u[:, None], y[:, None], DT_S)


def _plant(params: DataDrivenParams):
    units = [
        UnitSpec("grid", GridParams(), {"power": ("bus",)}),
        UnitSpec("mill", PowerConsumerParams(demand_nominal_w=5.0e6), {"power_in": ("bus",)}),
        UnitSpec("blower", params, {"power_in": ("bus",)}),
    ]
    return compose_plant("dd", units, [NodeSpec("bus", "electricity")])


PORT = DataDrivenPort("power_in", "electricity", "in", "y", "power")


def test_data_driven_unit_draws_from_the_bus() -> None:
    plant = _plant(DataDrivenParams(_identified(), (PORT,)))
    model = plant.model
    assert model.dt_s is None
    assert [v.name for v in model.states] == ["blower.obs0"]
    assert [v.name for v in model.inputs] == ["mill.shed_fraction", "blower.speed"]
    p = plant.pack_parameters()
    assert len(p) == model.sizes["p"]
    from plant_models.core.equations import to_casadi

    fns = to_casadi(model)
    # Steady state of the blower at speed 0.5: the continuous equilibrium.
    form = plant.units[2].params.form
    cont = form.continuous
    x_ss = -np.linalg.solve(cont.a, cont.b @ form.unit.model.input_scaling.apply([0.5]) + cont.e)
    d = np.zeros(model.sizes["d"])
    d[model.index("d", "mill.demand_fraction")] = 1.0
    y = fns.g(x_ss, [0.0, 0.5], d, p).full().ravel()
    names = [v.name for v in model.outputs]
    blower = y[names.index("blower.power")]
    # Noise-free 1st-order data: steady gain 1e6 W per unit speed, to fit precision.
    assert_allclose(blower, 0.5e6, rtol=1e-8)
    # The grid covers mill + blower: one sum in the composed equations.
    assert_allclose(y[names.index("grid.power_import_w")], 5.0e6 + blower, rtol=1e-12)
    assert_allclose(y[names.index("bus.demand")], 5.0e6 + blower, rtol=1e-12)


def test_port_signal_in_the_wrong_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="output power is in kg/s, not a flow of electricity"):
        DataDrivenParams(_identified("kg/s"), (PORT,))


def test_port_names_an_existing_signal() -> None:
    port = DataDrivenPort("power_in", "electricity", "in", "u", "power")
    with pytest.raises(ValueError, match="no input 'power'; inputs: speed"):
        DataDrivenParams(_identified(), (port,))


def test_negative_real_pole_cannot_compose() -> None:
    params = DataDrivenParams(_identified(pole=-0.5), (PORT,))
    with pytest.raises(EquationError, match=r"unit blower: discrete pole .* negative real axis"):
        _plant(params)
