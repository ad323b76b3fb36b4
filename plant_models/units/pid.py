"""PID controller with derivative filter and back-calculation anti-windup: parameters.

Parallel ISA form ``u = Kp (e + I/Ti + Td de_f/dt)`` with filtered
derivative (filter time ``Td / N``) and back-calculation anti-windup with
tracking time ``Tt``: ``dI/dt = e + (u_sat - u) / (Kp Tt) * Ti`` (Astrom &
Hagglund, Advanced PID Control, ISA 2006, section 3.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import zeros
from plant_models.core.smooth import clip
from plant_models.parameters import ParameterError, PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = ["PARAMETERS", "PidParams", "f", "g", "model", "pi_law"]


@register_unit("pid")
@dataclass(frozen=True)
class PidParams(UnitParams):
    """A DCS PID loop; measurement, setpoint and output in their SI units.

    The gain is in output units per measurement unit (SI).  Defaults: a
    temperature loop with Kp = 1, Ti = 120 s, no derivative, N = 10, output
    0-1 (valve fraction), Tt = Ti (a common choice, Astrom & Hagglund).
    """

    ports: ClassVar[tuple[PortSpec, ...]] = ()

    gain: float = param(
        1.0,
        unit="dimensionless",
        low=-1.0e9,
        high=1.0e9,
        description="Proportional gain [output SI unit / measurement SI unit]; sign = action",
    )
    integral_time_s: float = param(
        120.0, unit="s", low=1.0e-3, high=1.0e7, description="Integral (reset) time"
    )
    derivative_time_s: float = param(
        0.0, unit="s", low=0.0, high=1.0e5, description="Derivative time (0: PI)"
    )
    derivative_filter_ratio: float = param(
        10.0, unit="dimensionless", low=1.0, high=100.0, description="N: filter time is Td/N"
    )
    tracking_time_s: float = param(
        120.0, unit="s", low=1.0e-3, high=1.0e7, description="Anti-windup tracking time"
    )
    output_low: float = param(
        0.0, unit="dimensionless", low=-1.0e12, high=1.0e12, description="Output lower limit"
    )
    output_high: float = param(
        1.0, unit="dimensionless", low=-1.0e12, high=1.0e12, description="Output upper limit"
    )

    def validate(self) -> None:
        """Check ranges, a nonzero gain and ordered output limits."""
        super().validate()
        if self.gain == 0.0:
            raise ParameterError("gain", "must be nonzero")
        if self.output_low >= self.output_high:
            raise ParameterError(
                "output_high",
                f"must exceed output_low ({self.output_low:g}), got {self.output_high:g}",
            )


# ---------------------------------------------------------------- equations
# Two structures: a PI law (one state) when derivative_time_s is 0 and a PID
# law with a derivative filter state otherwise.  The choice is structural
# (made when the model is built), so that a PI loop carries no fast filter
# state that would make the simulation stiff.

#: Order of the parameter vector ``p``.
PARAMETERS: tuple[str, ...] = (
    "gain",
    "integral_time_s",
    "derivative_time_s",
    "derivative_filter_ratio",
    "tracking_time_s",
    "output_low",
    "output_high",
)
_KP, _TI, _TD, _N, _TT, _LOW, _HIGH = range(7)


@equation
def pi_law(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Return ``(error, unsaturated, saturated)`` output of the PI(D) law.

    Derivative acts on the filtered measurement (no set-point kick):
    ``D = -Kp N (y - y_f)``; for the PI structure it is zero.
    """
    error = u[0] - d[0]
    derivative = 0.0
    if x.shape[0] == 2:
        derivative = -p[_KP] * p[_N] * (d[0] - x[1])
    unsaturated = p[_KP] * error + x[0] + derivative
    return error, unsaturated, clip(unsaturated, p[_LOW], p[_HIGH])


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Integral with back-calculation anti-windup; measurement filter if PID.

    ``dI/dt = Kp e / Ti + (u_sat - u) / Tt``; ``dy_f/dt = (y - y_f) N / Td``.
    """
    dxdt = zeros(x.shape[0])
    error, unsaturated, saturated = pi_law(x, u, d, p)
    dxdt[0] = p[_KP] * error / p[_TI] + (saturated - unsaturated) / p[_TT]
    if x.shape[0] == 2:
        dxdt[1] = (d[0] - x[1]) * p[_N] / p[_TD]
    return dxdt


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Saturated output, control error and unsaturated output."""
    y = zeros(3)
    error, unsaturated, saturated = pi_law(x, u, d, p)
    y[0] = saturated
    y[1] = error
    y[2] = unsaturated
    return y


def model(params: PidParams | None = None) -> EquationModel:
    """Return the loop's equation model.

    States the integral part (output units) and, with derivative action, the
    filtered measurement; input the set point; disturbance the measurement.
    The envelope spans the output range and a measurement range of the same
    width over the gain.
    """
    params = params if params is not None else PidParams()
    span = (params.output_high - params.output_low) / abs(params.gain)
    states = [
        Variable(
            "integral", "dimensionless", "Integral part", params.output_low, params.output_high
        )
    ]
    if params.derivative_time_s > 0.0:
        states.append(Variable("measurement_filtered", "dimensionless", "Filtered y", 0.0, span))
    return EquationModel(
        name="pid",
        f=f,
        g=g,
        states=tuple(states),
        inputs=(Variable("setpoint", "dimensionless", "Set point (SI)", 0.0, span),),
        disturbances=(Variable("measurement", "dimensionless", "Measurement (SI)", 0.0, span),),
        outputs=(
            Variable("output", "dimensionless", "Controller output (limited)"),
            Variable("error", "dimensionless", "Set point minus measurement"),
            Variable("output_unsaturated", "dimensionless", "Output before the limits"),
        ),
        parameters=parameter_variables(PidParams, PARAMETERS),
    )
