"""Counter-current heat exchanger (effectiveness-NTU): parameters.

Duty ``Q = eps * C_min * (T_hot_in - T_cold_in)`` with the counter-flow
effectiveness ``eps = (1 - exp(-NTU (1 - Cr))) / (1 - Cr exp(-NTU (1 - Cr)))``,
``NTU = UA / C_min``, ``Cr = C_min / C_max`` (Incropera & DeWitt,
Fundamentals of Heat and Mass Transfer, table 11.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import exp, fmax, fmin, zeros
from plant_models.parameters import PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = ["PARAMETERS", "HeatExchangerParams", "duty", "effectiveness", "f", "g", "model"]


@register_unit("heat_exchanger")
@dataclass(frozen=True)
class HeatExchangerParams(UnitParams):
    """Counter-current shell-and-tube exchanger (feed preheat, product cooler).

    Defaults: UA 50 kW/K, hot side water-like (4.18 kJ/(kg K)), cold side an
    organic feed (3.01 kJ/(kg K), the Van de Vusse mixture); outlet
    temperatures lag the steady effectiveness-NTU values by 60 s (metal and
    fluid hold-up).
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec("hot_in", "process", "in", "Hot stream inlet"),
        PortSpec("hot_out", "process", "out", "Hot stream outlet"),
        PortSpec("cold_in", "process", "in", "Cold stream inlet"),
        PortSpec("cold_out", "process", "out", "Cold stream outlet"),
        PortSpec("steam_in", "steam", "in", "Heating steam (utility heater)", optional=True),
        PortSpec(
            "cooling_water", "cooling_water", "in", "Cooling water (utility cooler)", optional=True
        ),
    )

    ua_w_k: float = param(
        50.0e3, unit="W/K", low=1.0, high=1.0e9, description="Overall conductance U times A"
    )
    heat_capacity_hot_j_kg_k: float = param(
        4180.0, unit="J/(kg*K)", low=100.0, high=2.0e4, description="Hot-side cp"
    )
    heat_capacity_cold_j_kg_k: float = param(
        3010.0, unit="J/(kg*K)", low=100.0, high=2.0e4, description="Cold-side cp"
    )
    time_constant_s: float = param(
        60.0, unit="s", low=0.1, high=3600.0, description="Lag of outlet temperatures"
    )


# ---------------------------------------------------------------- equations

#: Order of the parameter vector ``p``.
PARAMETERS: tuple[str, ...] = (
    "ua_w_k",
    "heat_capacity_hot_j_kg_k",
    "heat_capacity_cold_j_kg_k",
    "time_constant_s",
)
_UA, _CP_HOT, _CP_COLD, _TAU = range(4)
#: Heat-capacity-rate ratio is capped just below 1, where the counter-flow
#: formula is 0/0; the capped value differs from the limit NTU / (1 + NTU)
#: by less than 1e-6 relative. [1]
_CR_MAX = 1.0 - 1.0e-6
#: Floor of a stream's heat-capacity rate (a stopped stream). [W/K]
_C_FLOOR = 1.0e-6


@equation
def effectiveness(ntu: Any, cr: Any) -> Any:
    """Return the counter-flow effectiveness [1].

    ``eps = (1 - e) / (1 - Cr e)`` with ``e = exp(-NTU (1 - Cr))``.
    """
    ratio = fmin(cr, _CR_MAX)
    e = exp(-ntu * (1.0 - ratio))
    return (1.0 - e) / (1.0 - ratio * e)


@equation
def duty(u: Any, d: Any, p: Any) -> Any:
    """Return the steady duty ``eps C_min (T_hot_in - T_cold_in)`` [W]."""
    c_hot = fmax(u[0] * p[_CP_HOT], _C_FLOOR)
    c_cold = fmax(d[1] * p[_CP_COLD], _C_FLOOR)
    c_min = fmin(c_hot, c_cold)
    c_max = fmax(c_hot, c_cold)
    return effectiveness(p[_UA] / c_min, c_min / c_max) * c_min * (d[0] - d[2])


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Outlet temperatures lag their steady effectiveness-NTU values."""
    dxdt = zeros(2)
    q = duty(u, d, p)
    t_hot_out = d[0] - q / fmax(u[0] * p[_CP_HOT], _C_FLOOR)
    t_cold_out = d[2] + q / fmax(d[1] * p[_CP_COLD], _C_FLOOR)
    dxdt[0] = (t_hot_out - x[0]) / p[_TAU]
    dxdt[1] = (t_cold_out - x[1]) / p[_TAU]
    return dxdt


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Outlet temperatures and the steady duty."""
    y = zeros(3)
    y[0] = x[0]
    y[1] = x[1]
    y[2] = duty(u, d, p)
    return y


def model(params: HeatExchangerParams | None = None) -> EquationModel:
    """Return the exchanger's equation model.

    States the outlet temperatures; input the hot-side flow (the utility or
    bypass valve); disturbances hot inlet temperature, cold flow and cold
    inlet temperature.
    """
    del params
    return EquationModel(
        name="heat_exchanger",
        f=f,
        g=g,
        states=(
            Variable("t_hot_out_k", "K", "Hot outlet temperature", 280.0, 480.0),
            Variable("t_cold_out_k", "K", "Cold outlet temperature", 280.0, 480.0),
        ),
        inputs=(Variable("flow_hot_kg_s", "kg/s", "Hot-side mass flow", 0.1, 10.0),),
        disturbances=(
            Variable("t_hot_in_k", "K", "Hot inlet temperature", 380.0, 480.0),
            Variable("flow_cold_kg_s", "kg/s", "Cold-side mass flow", 0.1, 10.0),
            Variable("t_cold_in_k", "K", "Cold inlet temperature", 280.0, 340.0),
        ),
        outputs=(
            Variable("t_hot_out_k", "K", "Hot outlet temperature"),
            Variable("t_cold_out_k", "K", "Cold outlet temperature"),
            Variable("duty_w", "W", "Heat transferred (steady)"),
        ),
        parameters=parameter_variables(HeatExchangerParams, PARAMETERS),
    )
