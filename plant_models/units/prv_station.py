"""Pressure-reducing and desuperheating station between steam headers: parameters.

Spray water follows from the enthalpy balance
``m_water = m_in * (h_in - h_out) / (h_out - h_water)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import zeros
from plant_models.parameters import ParameterError, PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = ["PARAMETERS", "PrvStationParams", "f", "g", "model"]


@register_unit("prv_station")
@dataclass(frozen=True)
class PrvStationParams(UnitParams):
    """Pressure-reducing and desuperheating station (PRDS).

    Defaults: 3.8 MPa / 450 degC medium-pressure steam (h = 3331 kJ/kg) let
    down to 1.0 MPa / 250 degC (h = 2943 kJ/kg) with feedwater at 104 degC
    (h = 436 kJ/kg); enthalpies from IAPWS-IF97.
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec("steam_in", "steam", "in", "Higher-pressure header"),
        PortSpec("steam_out", "steam", "out", "Lower-pressure header"),
        PortSpec("water_in", "water", "in", "Spray (feed) water", optional=True),
    )

    capacity_kg_s: float = param(
        30.0, unit="kg/s", low=0.01, high=1000.0, description="Maximum inlet steam flow"
    )
    pressure_in_pa: float = param(
        3.8e6, unit="Pa", low=1.0e5, high=3.0e7, description="Inlet header pressure"
    )
    pressure_out_pa: float = param(
        1.0e6, unit="Pa", low=1.0e4, high=3.0e7, description="Outlet header pressure"
    )
    enthalpy_in_j_kg: float = param(
        3.331e6, unit="J/kg", low=2.0e6, high=4.0e6, description="Inlet steam enthalpy"
    )
    enthalpy_out_j_kg: float = param(
        2.943e6, unit="J/kg", low=2.0e6, high=4.0e6, description="Outlet steam enthalpy"
    )
    enthalpy_water_j_kg: float = param(
        4.36e5, unit="J/kg", low=0.0, high=1.5e6, description="Spray water enthalpy"
    )
    time_constant_s: float = param(
        5.0, unit="s", low=0.1, high=600.0, description="Valve and spray response lag"
    )

    def validate(self) -> None:
        """Check ranges, then that pressure and enthalpy fall across the station."""
        super().validate()
        if self.pressure_out_pa >= self.pressure_in_pa:
            raise ParameterError(
                "pressure_out_pa",
                f"must be below pressure_in_pa ({self.pressure_in_pa:g}), "
                f"got {self.pressure_out_pa:g}",
            )
        if not self.enthalpy_water_j_kg < self.enthalpy_out_j_kg <= self.enthalpy_in_j_kg:
            raise ParameterError(
                "enthalpy_out_j_kg",
                "must lie between enthalpy_water_j_kg and enthalpy_in_j_kg, "
                f"got {self.enthalpy_out_j_kg:g}",
            )


# ---------------------------------------------------------------- equations

#: Order of the parameter vector ``p``.
PARAMETERS: tuple[str, ...] = (
    "enthalpy_in_j_kg",
    "enthalpy_out_j_kg",
    "enthalpy_water_j_kg",
    "time_constant_s",
)
_H_IN, _H_OUT, _H_W, _TAU = range(4)


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Let-down flow follows its valve command with a first-order lag."""
    dxdt = zeros(1)
    dxdt[0] = (u[0] - x[0]) / p[_TAU]
    return dxdt


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Inlet steam, spray water and outlet steam from the enthalpy balance."""
    y = zeros(3)
    water = x[0] * (p[_H_IN] - p[_H_OUT]) / (p[_H_OUT] - p[_H_W])
    y[0] = x[0]
    y[1] = water
    y[2] = x[0] + water
    return y


def model(params: PrvStationParams | None = None) -> EquationModel:
    """Return the PRDS equation model: state and input the inlet steam flow."""
    params = params if params is not None else PrvStationParams()
    cap = params.capacity_kg_s
    return EquationModel(
        name="prv_station",
        f=f,
        g=g,
        states=(Variable("flow_in_kg_s", "kg/s", "Inlet (let-down) steam", 0.0, cap),),
        inputs=(Variable("flow_in_command_kg_s", "kg/s", "Let-down valve command", 0.0, cap),),
        disturbances=(),
        outputs=(
            Variable("flow_in_kg_s", "kg/s", "Inlet steam"),
            Variable("flow_water_kg_s", "kg/s", "Spray water"),
            Variable("flow_out_kg_s", "kg/s", "Outlet steam"),
        ),
        parameters=parameter_variables(PrvStationParams, PARAMETERS),
    )
