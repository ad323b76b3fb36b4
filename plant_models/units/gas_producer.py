"""By-product gas producer (blast furnace, coke ovens, converter): parameters.

Gas made is ``specific_yield_m3_kg * production_rate_kg_s``, the production rate
being a disturbance input (the production schedule, converter blowing pulses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import zeros
from plant_models.parameters import PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = ["PARAMETERS", "GasProducerParams", "f", "g", "model"]


@register_unit("gas_producer")
@dataclass(frozen=True)
class GasProducerParams(UnitParams):
    """Producer of blast-furnace, coke-oven or converter gas.

    Defaults: a blast furnace of a 5 Mt/yr works: hot metal 4.8 Mt/yr ->
    152 kg/s, BFG 1,500 Nm3 per t hot metal -> 230 Nm3/s (820,000 Nm3/h),
    LHV 3.2 MJ/Nm3 (guide section 4).  Coke ovens: 0.42 Nm3/kg coke,
    17.6 MJ/Nm3; converter gas: 0.1 Nm3/kg steel, 7.5 MJ/Nm3, only while
    blowing.
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec("gas_out", "fuel_gas", "out", "Gas network supplied"),
    )

    lhv_j_m3: float = param(
        3.2e6, unit="J/m^3", low=1.0e6, high=50.0e6, description="Gas heating value [J/Nm3]"
    )
    specific_yield_m3_kg: float = param(
        1.5,
        unit="m^3/kg",
        low=0.0,
        high=10.0,
        description="Gas made per kg of product (hot metal, coke, steel) [Nm3/kg]",
    )
    production_nominal_kg_s: float = param(
        152.0, unit="kg/s", low=0.0, high=1.0e4, description="Nominal production rate"
    )
    recovery_fraction: float = param(
        1.0,
        unit="dimensionless",
        low=0.0,
        high=1.0,
        description="Share of gas made that is recovered into the network",
    )
    time_constant_s: float = param(
        60.0, unit="s", low=0.1, high=3600.0, description="Lag of gas flow behind production"
    )


# ---------------------------------------------------------------- equations

#: Order of the parameter vector ``p``.
PARAMETERS: tuple[str, ...] = (
    "lhv_j_m3",
    "specific_yield_m3_kg",
    "recovery_fraction",
    "time_constant_s",
)
_LHV, _YIELD, _RECOVERY, _TAU = range(4)


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Recovered gas flow lags the production rate times the specific yield."""
    dxdt = zeros(1)
    dxdt[0] = (p[_RECOVERY] * p[_YIELD] * d[0] - x[0]) / p[_TAU]
    return dxdt


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Gas supplied and its heating power."""
    y = zeros(2)
    y[0] = x[0]
    y[1] = x[0] * p[_LHV]
    return y


def model(params: GasProducerParams | None = None) -> EquationModel:
    """Return the producer's equation model.

    State ``flow_m3_s``; disturbance ``production_kg_s``, the generation
    profile (production schedule, converter blowing pulses).
    """
    params = params if params is not None else GasProducerParams()
    prod_max = 1.5 * params.production_nominal_kg_s
    flow_max = params.specific_yield_m3_kg * prod_max
    return EquationModel(
        name="gas_producer",
        f=f,
        g=g,
        states=(Variable("flow_m3_s", "m^3/s", "Gas supplied [Nm3/s]", 0.0, flow_max),),
        inputs=(),
        disturbances=(Variable("production_kg_s", "kg/s", "Product output rate", 0.0, prod_max),),
        outputs=(
            Variable("flow_m3_s", "m^3/s", "Gas supplied [Nm3/s]"),
            Variable("power_w", "W", "Heating value supplied"),
        ),
        parameters=parameter_variables(GasProducerParams, PARAMETERS),
    )
