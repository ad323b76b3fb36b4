"""Electric vapour-compression chiller with a COP curve: parameters.

Electric power is ``P = Q / cop_nominal * eir_lift(dT_lift) * eir_plr(PLR)`` with
the DOE-2 part-load curve ``eir_plr = a + b PLR + c PLR**2`` and a linear lift
correction ``eir_lift = 1 + eir_lift_coefficient_1_k * (lift - lift_nominal)``,
``lift = T_condenser_in - T_chilled_out``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import fmax, zeros
from plant_models.parameters import ParameterError, PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = ["PARAMETERS", "ChillerParams", "electric_power", "f", "g", "model"]


@register_unit("chiller")
@dataclass(frozen=True)
class ChillerParams(UnitParams):
    """Centrifugal electric chiller.

    Defaults: EnergyPlus/DOE-2 reference chiller "DOE-2 Centrifugal/5.50COP":
    COP 5.5 at 6.67 degC leaving chilled water and 29.4 degC entering condenser
    water, EIR-f(PLR) coefficients 0.222903, 0.313387, 0.463710, minimum PLR
    0.1.  The lift coefficient 0.028 1/K is the mean magnitude of that set's
    EIR-f(T) slopes at the reference point (+0.023 1/K condenser,
    -0.034 1/K evaporator).  Capacity 3.5 MW (about 1,000 refrigeration tons).
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec("power_in", "electricity", "in", "Compressor power"),
        PortSpec(
            "cooling_water",
            "cooling_water",
            "in",
            "Condenser heat (cooling + power) rejected to cooling water",
        ),
    )

    capacity_cooling_w: float = param(
        3.5e6, unit="W", low=1.0e3, high=1.0e8, description="Rated cooling capacity"
    )
    cop_nominal: float = param(
        5.5, unit="dimensionless", low=1.0, high=15.0, description="COP at reference conditions"
    )
    chilled_water_temperature_nominal_k: float = param(
        279.82, unit="K", low=268.15, high=300.0, description="Reference leaving chilled water"
    )
    condenser_water_temperature_nominal_k: float = param(
        302.55, unit="K", low=280.0, high=330.0, description="Reference entering condenser water"
    )
    eir_plr_a: float = param(
        0.222903, unit="dimensionless", low=-2.0, high=2.0, description="EIR-f(PLR) constant"
    )
    eir_plr_b: float = param(
        0.313387, unit="dimensionless", low=-2.0, high=2.0, description="EIR-f(PLR) linear"
    )
    eir_plr_c: float = param(
        0.463710, unit="dimensionless", low=-2.0, high=2.0, description="EIR-f(PLR) quadratic"
    )
    eir_lift_coefficient_1_k: float = param(
        0.028,
        unit="1/K",
        low=0.0,
        high=0.2,
        description="Relative rise of electric input per K of extra lift",
    )
    min_part_load_fraction: float = param(
        0.1, unit="dimensionless", low=0.0, high=1.0, description="Minimum part-load ratio"
    )

    def validate(self) -> None:
        """Check ranges, then that the part-load curve is 1 at full load."""
        super().validate()
        total = self.eir_plr_a + self.eir_plr_b + self.eir_plr_c
        if abs(total - 1.0) > 0.02:
            raise ParameterError(
                "eir_plr_c",
                f"eir_plr_a + eir_plr_b + eir_plr_c must be 1 (within 0.02), got {total:g}",
            )
        if self.chilled_water_temperature_nominal_k >= self.condenser_water_temperature_nominal_k:
            raise ParameterError(
                "chilled_water_temperature_nominal_k",
                "must be below condenser_water_temperature_nominal_k",
            )


# ---------------------------------------------------------------- equations

#: Order of the parameter vector ``p``.
PARAMETERS: tuple[str, ...] = (
    "capacity_cooling_w",
    "cop_nominal",
    "chilled_water_temperature_nominal_k",
    "condenser_water_temperature_nominal_k",
    "eir_plr_a",
    "eir_plr_b",
    "eir_plr_c",
    "eir_lift_coefficient_1_k",
    "min_part_load_fraction",
)
_CAP, _COP, _T_CHW, _T_CW, _A, _B, _C, _K_LIFT, _PLR_MIN = range(9)


@equation
def electric_power(cooling_w: Any, d: Any, p: Any) -> Any:
    """Return the DOE-2 electric input ``cap / COP * EIR(T) * EIR(PLR)`` [W].

    Below the minimum part-load ratio the chiller false-loads: it draws the
    power of the minimum PLR (DOE-2 convention).
    """
    plr = fmax(cooling_w / p[_CAP], p[_PLR_MIN])
    lift = d[1] - d[0]
    lift_nominal = p[_T_CW] - p[_T_CHW]
    eir_t = 1.0 + p[_K_LIFT] * (lift - lift_nominal)
    eir_plr = p[_A] + p[_B] * plr + p[_C] * plr * plr
    return p[_CAP] / p[_COP] * eir_t * eir_plr


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """No states (the chiller is static at the time scales of interest)."""
    return zeros(0)


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Electric power, COP, heat rejected and part-load ratio."""
    y = zeros(4)
    power = electric_power(u[0], d, p)
    y[0] = power
    y[1] = u[0] / power
    y[2] = u[0] + power
    y[3] = u[0] / p[_CAP]
    return y


def model(params: ChillerParams | None = None) -> EquationModel:
    """Return the chiller's equation model.

    Input ``cooling_w`` (duty); disturbances the leaving chilled-water and
    entering condenser-water temperatures.
    """
    params = params if params is not None else ChillerParams()
    cap = params.capacity_cooling_w
    return EquationModel(
        name="chiller",
        f=f,
        g=g,
        states=(),
        inputs=(Variable("cooling_w", "W", "Cooling duty", 0.0, cap),),
        disturbances=(
            Variable("t_chilled_out_k", "K", "Leaving chilled water", 278.15, 283.15),
            Variable("t_condenser_in_k", "K", "Entering condenser water", 297.15, 308.15),
        ),
        outputs=(
            Variable("power_w", "W", "Electric input"),
            Variable("cop", "dimensionless", "Coefficient of performance"),
            Variable("heat_rejected_w", "W", "Condenser heat"),
            Variable("part_load_ratio", "dimensionless", "Duty over capacity"),
        ),
        parameters=parameter_variables(ChillerParams, PARAMETERS),
    )
