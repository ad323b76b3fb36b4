"""Steam header (distribution main) with pressure dynamics: parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import fmax, zeros
from plant_models.parameters import ParameterError, PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = ["PARAMETERS", "SteamHeaderParams", "f", "g", "model"]


@register_unit("steam_header")
@dataclass(frozen=True)
class SteamHeaderParams(UnitParams):
    """Steam header: its stored mass makes the node pressure a state.

    ``dp/dt = (m_in - m_out) / (volume_m3 * density_pressure_derivative_s2_m2)``.
    Defaults: a 1.0 MPa / 250 degC process-steam header of 60 m3 (pipework
    and receivers); density 4.297 kg/m3 there (IAPWS-IF97), and near-ideal gas
    behaviour gives d(rho)/dp ~ rho/p = 4.3e-6 s2/m2.
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec(
            "steam",
            "steam",
            "in",
            "Header node; positive net flow raises the pressure",
        ),
    )

    volume_m3: float = param(
        60.0, unit="m^3", low=0.01, high=1.0e5, description="Steam volume of header and pipework"
    )
    density_pressure_derivative_s2_m2: float = param(
        4.3e-6,
        unit="s^2/m^2",
        low=1.0e-9,
        high=1.0e-3,
        description="d(density)/d(pressure) of the steam",
    )
    pressure_nominal_pa: float = param(
        1.0e6, unit="Pa", low=1.0e4, high=3.0e7, description="Nominal pressure"
    )
    pressure_min_pa: float = param(
        0.9e6, unit="Pa", low=1.0e4, high=3.0e7, description="Lowest allowed pressure"
    )
    pressure_max_pa: float = param(
        1.1e6, unit="Pa", low=1.0e4, high=3.0e7, description="Highest allowed pressure (relief)"
    )
    enthalpy_j_kg: float = param(
        2.943e6,
        unit="J/kg",
        low=2.0e6,
        high=4.0e6,
        description="Steam enthalpy at nominal conditions (1.0 MPa, 250 degC)",
    )

    def validate(self) -> None:
        """Check ranges, then that min < nominal < max."""
        super().validate()
        if not self.pressure_min_pa < self.pressure_nominal_pa < self.pressure_max_pa:
            raise ParameterError(
                "pressure_nominal_pa",
                "must satisfy pressure_min_pa < pressure_nominal_pa < pressure_max_pa, got "
                f"{self.pressure_min_pa:g}, {self.pressure_nominal_pa:g}, "
                f"{self.pressure_max_pa:g}",
            )


# ---------------------------------------------------------------- equations

#: Order of the parameter vector ``p``.
PARAMETERS: tuple[str, ...] = (
    "volume_m3",
    "density_pressure_derivative_s2_m2",
    "pressure_min_pa",
    "pressure_max_pa",
)
_VOL, _DRHO_DP, _P_MIN, _P_MAX = range(4)


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Pressure rises with the stored mass: ``dp/dt = q / (V drho/dp)``."""
    dxdt = zeros(1)
    dxdt[0] = d[0] / (p[_VOL] * p[_DRHO_DP])
    return dxdt


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Pressure, net inflow and excursion beyond the pressure limits."""
    y = zeros(3)
    y[0] = x[0]
    y[1] = d[0]
    y[2] = fmax(x[0] - p[_P_MAX], 0.0) + fmax(p[_P_MIN] - x[0], 0.0)
    return y


def model(params: SteamHeaderParams | None = None) -> EquationModel:
    """Return the header's equation model: state ``pressure_pa``, disturbance the net inflow."""
    params = params if params is not None else SteamHeaderParams()
    span = params.pressure_max_pa - params.pressure_min_pa
    return EquationModel(
        name="steam_header",
        f=f,
        g=g,
        states=(
            Variable(
                "pressure_pa",
                "Pa",
                "Header pressure",
                params.pressure_min_pa - span,
                params.pressure_max_pa + span,
            ),
        ),
        inputs=(),
        disturbances=(Variable("flow_in_kg_s", "kg/s", "Net steam inflow", -100.0, 100.0),),
        outputs=(
            Variable("pressure_pa", "Pa", "Header pressure"),
            Variable("flow_in_kg_s", "kg/s", "Net steam inflow"),
            Variable("limit_excess_pa", "Pa", "Pressure beyond the allowed range"),
        ),
        parameters=parameter_variables(SteamHeaderParams, PARAMETERS),
    )
