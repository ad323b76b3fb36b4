"""Variable-speed centrifugal pump (affinity laws): parameters.

Head curve at relative speed ``n``:
``H = shutoff_head_m * n**2 - (shutoff_head_m - head_rated_m) * (Q / flow_rated_m3_s)**2``
(affinity laws: Q ~ n, H ~ n**2, P ~ n**3 at similar operating points);
hydraulic efficiency is a parabola in ``Q / n`` peaking at the rated flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import fmax, sqrt, zeros
from plant_models.parameters import ParameterError, PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = ["G_STANDARD", "PARAMETERS", "PumpParams", "f", "g", "model"]


@register_unit("pump")
@dataclass(frozen=True)
class PumpParams(UnitParams):
    """Cooling-water circulation pump with a variable-speed drive.

    Defaults: 0.5 m3/s (1,800 m3/h) at 40 m, shut-off head 1.25 x rated (a
    typical radial-flow curve), best efficiency 0.85, motor plus drive 0.94.
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec("power_in", "electricity", "in", "Motor power"),
        PortSpec("water_out", "cooling_water", "out", "Circulation supplied", optional=True),
    )

    flow_rated_m3_s: float = param(
        0.5, unit="m^3/s", low=1.0e-5, high=100.0, description="Flow at the best efficiency point"
    )
    head_rated_m: float = param(
        40.0, unit="m", low=0.1, high=3000.0, description="Head at the best efficiency point"
    )
    shutoff_head_m: float = param(
        50.0, unit="m", low=0.1, high=4000.0, description="Head at zero flow and rated speed"
    )
    efficiency_best: float = param(
        0.85, unit="dimensionless", low=0.1, high=1.0, description="Best hydraulic efficiency"
    )
    drive_efficiency: float = param(
        0.94, unit="dimensionless", low=0.1, high=1.0, description="Motor and drive efficiency"
    )
    density_kg_m3: float = param(
        996.0, unit="kg/m^3", low=500.0, high=2000.0, description="Liquid density (water 30 degC)"
    )
    speed_min_fraction: float = param(
        0.3, unit="dimensionless", low=0.0, high=1.0, description="Minimum relative speed"
    )

    def validate(self) -> None:
        """Check ranges, then that the shut-off head exceeds the rated head."""
        super().validate()
        if self.shutoff_head_m <= self.head_rated_m:
            raise ParameterError(
                "shutoff_head_m",
                f"must exceed head_rated_m ({self.head_rated_m:g}), got {self.shutoff_head_m:g}",
            )


# ---------------------------------------------------------------- equations

#: Order of the parameter vector ``p``.
PARAMETERS: tuple[str, ...] = (
    "flow_rated_m3_s",
    "head_rated_m",
    "shutoff_head_m",
    "efficiency_best",
    "drive_efficiency",
    "density_kg_m3",
)
_Q_R, _H_R, _H_0, _ETA, _ETA_DRIVE, _RHO = range(6)
#: Standard gravity. [m/s2]
G_STANDARD = 9.80665
#: Floor of the relative speed in the efficiency map (avoids 0/0 at standstill). [1]
_SPEED_FLOOR = 1.0e-3


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """No states."""
    return zeros(0)


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Operating point on the system curve ``H = H_static + k Q**2``; head, power, efficiency.

    The pump curve ``H = H0 n**2 - a Q**2`` with ``a = (H0 - H_rated) / Q_rated**2``
    meets the system curve at ``Q = sqrt(max(H0 n**2 - H_static, 0) / (a + k))``.
    """
    y = zeros(4)
    speed = u[0]
    a = (p[_H_0] - p[_H_R]) / (p[_Q_R] * p[_Q_R])
    flow = sqrt(fmax(p[_H_0] * speed * speed - d[0], 0.0) / (a + d[1]))
    head = p[_H_0] * speed * speed - a * flow * flow
    # Efficiency depends on the flow at rated speed equivalent (affinity: Q/n).
    deviation = flow / (fmax(speed, _SPEED_FLOOR) * p[_Q_R]) - 1.0
    eta = fmax(p[_ETA] * (1.0 - deviation * deviation), 0.05)
    y[0] = flow
    y[1] = head
    y[2] = p[_RHO] * G_STANDARD * flow * head / (eta * p[_ETA_DRIVE])
    y[3] = eta
    return y


def model(params: PumpParams | None = None) -> EquationModel:
    """Return the pump's equation model.

    Input ``speed_fraction``; disturbances the system curve's static head and
    resistance coefficient.
    """
    params = params if params is not None else PumpParams()
    k_rated = params.head_rated_m / params.flow_rated_m3_s**2
    return EquationModel(
        name="pump",
        f=f,
        g=g,
        states=(),
        inputs=(
            Variable(
                "speed_fraction",
                "dimensionless",
                "Speed over rated",
                params.speed_min_fraction,
                1.0,
            ),
        ),
        disturbances=(
            Variable("static_head_m", "m", "System static head", 0.0, 0.3 * params.head_rated_m),
            Variable(
                "resistance_s2_m5",
                "s^2/m^5",
                "System friction coefficient k in k Q^2",
                0.5 * k_rated,
                1.5 * k_rated,
            ),
        ),
        outputs=(
            Variable("flow_m3_s", "m^3/s", "Flow"),
            Variable("head_m", "m", "Head"),
            Variable("power_w", "W", "Electric input"),
            Variable("efficiency", "dimensionless", "Hydraulic efficiency"),
        ),
        parameters=parameter_variables(PumpParams, PARAMETERS),
    )
