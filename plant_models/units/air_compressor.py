"""Electric air compressor: parameters.

Shaft power from the isothermal work of compression,
``P = p_suction * ln(p_discharge / p_suction) * V_fad / isothermal_efficiency``,
plus an unloaded (idle) share below the minimum load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import fmax, log, zeros
from plant_models.parameters import ParameterError, PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = ["PARAMETERS", "AirCompressorParams", "f", "full_load_power", "g", "model"]


@register_unit("air_compressor")
@dataclass(frozen=True)
class AirCompressorParams(UnitParams):
    """Centrifugal plant-air compressor.

    Defaults: 200 Nm3/min free-air delivery at 0.8 MPa absolute discharge;
    isothermal efficiency 0.62 gives 101325 ln(0.8e6/101325) / 0.62 = 338 kJ
    per m3, i.e. 5.6 kW per m3/min, inside the 5.5-7 kW/(m3/min) that
    ISO 1217 data sheets show for 7-8 bar(g) machines.
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec("power_in", "electricity", "in", "Motor power"),
        PortSpec("air_out", "compressed_air", "out", "Compressed-air network supplied"),
        PortSpec(
            "cooling_water", "cooling_water", "in", "Intercooler heat rejected", optional=True
        ),
    )

    capacity_m3_s: float = param(
        3.333, unit="m^3/s", low=1.0e-3, high=1.0e3, description="Free-air delivery (200 m3/min)"
    )
    pressure_suction_pa: float = param(
        101325.0, unit="Pa", low=5.0e4, high=2.0e5, description="Suction pressure"
    )
    pressure_discharge_pa: float = param(
        0.8e6, unit="Pa", low=1.5e5, high=5.0e6, description="Discharge pressure (absolute)"
    )
    isothermal_efficiency: float = param(
        0.62, unit="dimensionless", low=0.1, high=1.0, description="Isothermal efficiency"
    )
    min_load_fraction: float = param(
        0.7,
        unit="dimensionless",
        low=0.0,
        high=1.0,
        description="Lowest delivery before blow-off/unloading (surge limit)",
    )
    unloaded_power_fraction: float = param(
        0.25,
        unit="dimensionless",
        low=0.0,
        high=1.0,
        description="Power when unloaded, as a fraction of full-load power",
    )
    motor_efficiency: float = param(
        0.96, unit="dimensionless", low=0.5, high=1.0, description="Motor efficiency"
    )

    def validate(self) -> None:
        """Check ranges, then that the discharge pressure exceeds the suction pressure."""
        super().validate()
        if self.pressure_discharge_pa <= self.pressure_suction_pa:
            raise ParameterError(
                "pressure_discharge_pa",
                f"must exceed pressure_suction_pa ({self.pressure_suction_pa:g}), "
                f"got {self.pressure_discharge_pa:g}",
            )


# ---------------------------------------------------------------- equations

#: Order of the parameter vector ``p``.
PARAMETERS: tuple[str, ...] = (
    "capacity_m3_s",
    "pressure_suction_pa",
    "pressure_discharge_pa",
    "isothermal_efficiency",
    "min_load_fraction",
    "unloaded_power_fraction",
    "motor_efficiency",
)
_CAP, _P1, _P2, _ETA_ISO, _MIN_LOAD, _UNLOADED, _ETA_M = range(7)


@equation
def full_load_power(p: Any) -> Any:
    """Return the electric power at capacity: isothermal work over the efficiencies [W]."""
    return p[_P1] * log(p[_P2] / p[_P1]) * p[_CAP] / (p[_ETA_ISO] * p[_ETA_M])


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """No states."""
    return zeros(0)


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Electric power, delivered air and air blown off below the surge limit.

    Inlet-guide-vane control: power falls linearly with the machine flow from
    full-load power at capacity to ``unloaded_power_fraction`` of it at zero
    flow; below the minimum load the machine flow stays at the minimum and
    the surplus is blown off.
    """
    y = zeros(3)
    machine_flow = fmax(u[0], p[_MIN_LOAD] * p[_CAP])
    share = p[_UNLOADED] + (1.0 - p[_UNLOADED]) * machine_flow / p[_CAP]
    y[0] = full_load_power(p) * share
    y[1] = u[0]
    y[2] = machine_flow - u[0]
    return y


def model(params: AirCompressorParams | None = None) -> EquationModel:
    """Return the compressor's equation model: input the delivered free-air flow."""
    params = params if params is not None else AirCompressorParams()
    return EquationModel(
        name="air_compressor",
        f=f,
        g=g,
        states=(),
        inputs=(Variable("flow_m3_s", "m^3/s", "Free-air delivery", 0.0, params.capacity_m3_s),),
        disturbances=(),
        outputs=(
            Variable("power_w", "W", "Electric input"),
            Variable("flow_m3_s", "m^3/s", "Free-air delivery"),
            Variable("flow_blown_off_m3_s", "m^3/s", "Air blown off (surge protection)"),
        ),
        parameters=parameter_variables(AirCompressorParams, PARAMETERS),
    )
