"""Gas mixing station blending a lean and a rich gas to a target heating value: parameters.

The rich-gas share of the volume that meets a heating value ``H`` is
``x = (H - H_lean) / (H_rich - H_lean)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import zeros
from plant_models.core.smooth import clip
from plant_models.parameters import PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = ["PARAMETERS", "GasMixerParams", "f", "g", "model", "rich_share"]


@register_unit("gas_mixer")
@dataclass(frozen=True)
class GasMixerParams(UnitParams):
    """Mixing station (for example BFG + COG for hot-strip-mill reheating furnaces).

    Defaults: 100,000 Nm3/h of mixed gas at 7.5 MJ/Nm3, booster fan raising
    10 kPa at 75 % efficiency -> 10e3 / 0.75 = 13.3 kJ per Nm3.
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec("lean_in", "fuel_gas", "in", "Lean gas network (BFG)"),
        PortSpec("rich_in", "fuel_gas", "in", "Rich gas network (COG or natural gas)"),
        PortSpec("mixed_out", "fuel_gas", "out", "Mixed-gas network supplied"),
        PortSpec("power_in", "electricity", "in", "Booster fan power", optional=True),
    )

    capacity_m3_s: float = param(
        27.8, unit="m^3/s", low=0.0, high=1.0e4, description="Maximum mixed flow [Nm3/s]"
    )
    lhv_target_j_m3: float = param(
        7.5e6, unit="J/m^3", low=1.0e6, high=50.0e6, description="Target heating value [J/Nm3]"
    )
    lhv_tolerance_j_m3: float = param(
        0.3e6,
        unit="J/m^3",
        low=0.0,
        high=10.0e6,
        description="Allowed deviation from the target heating value",
    )
    booster_energy_j_m3: float = param(
        1.33e4,
        unit="J/m^3",
        low=0.0,
        high=1.0e6,
        description="Booster fan electricity per Nm3 mixed",
    )
    time_constant_s: float = param(
        30.0,
        unit="s",
        low=0.1,
        high=3600.0,
        description="Mixing-volume lag of the heating value",
    )


# ---------------------------------------------------------------- equations

#: Order of the parameter vector ``p``.
PARAMETERS: tuple[str, ...] = ("lhv_target_j_m3", "booster_energy_j_m3", "time_constant_s")
_H_TARGET, _BOOST, _TAU = range(3)


@equation
def rich_share(d: Any, p: Any) -> Any:
    """Return the rich-gas volume share meeting the target, limited to [0, 1] [1]."""
    return clip((p[_H_TARGET] - d[0]) / (d[1] - d[0]), 0.0, 1.0)


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Mixed-gas heating value lags the blend through the mixing volume."""
    dxdt = zeros(1)
    share = rich_share(d, p)
    blend = (1.0 - share) * d[0] + share * d[1]
    dxdt[0] = (blend - x[0]) / p[_TAU]
    return dxdt


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Lean and rich gas drawn, mixed flow, heating value and booster power."""
    y = zeros(5)
    share = rich_share(d, p)
    y[0] = (1.0 - share) * u[0]
    y[1] = share * u[0]
    y[2] = u[0]
    y[3] = x[0]
    y[4] = p[_BOOST] * u[0]
    return y


def model(params: GasMixerParams | None = None) -> EquationModel:
    """Return the mixing station's equation model.

    State ``lhv_mixed_j_m3``; input the mixed flow demanded; disturbances the
    heating values of the lean and the rich gas.
    """
    params = params if params is not None else GasMixerParams()
    return EquationModel(
        name="gas_mixer",
        f=f,
        g=g,
        states=(
            Variable("lhv_mixed_j_m3", "J/m^3", "Mixed-gas heating value [J/Nm3]", 1.0e6, 50.0e6),
        ),
        inputs=(
            Variable("flow_mixed_m3_s", "m^3/s", "Mixed flow [Nm3/s]", 0.0, params.capacity_m3_s),
        ),
        disturbances=(
            Variable("lhv_lean_j_m3", "J/m^3", "Lean-gas heating value", 2.8e6, 4.0e6),
            Variable("lhv_rich_j_m3", "J/m^3", "Rich-gas heating value", 15.0e6, 38.0e6),
        ),
        outputs=(
            Variable("flow_lean_m3_s", "m^3/s", "Lean gas drawn [Nm3/s]"),
            Variable("flow_rich_m3_s", "m^3/s", "Rich gas drawn [Nm3/s]"),
            Variable("flow_mixed_m3_s", "m^3/s", "Mixed gas supplied [Nm3/s]"),
            Variable("lhv_mixed_j_m3", "J/m^3", "Mixed-gas heating value [J/Nm3]"),
            Variable("power_w", "W", "Booster fan power"),
        ),
        parameters=parameter_variables(GasMixerParams, PARAMETERS),
    )
