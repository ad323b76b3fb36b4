"""Fuel-gas holder (gasometer) buffering one gas network: parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import fmax, zeros
from plant_models.parameters import ParameterError, PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = ["PARAMETERS", "GasHolderParams", "f", "g", "model"]


@register_unit("gas_holder")
@dataclass(frozen=True)
class GasHolderParams(UnitParams):
    """Dry (piston) gas holder on a BFG, COG or LDG network.

    The state is the stored gas volume; its rate is the net inflow decided by
    the balance of the network node the holder sits on.  Defaults: a 200,000 m3
    BFG holder operated in a 30-70 % normal band with hard limits at 10 and
    90 % (guide section 4: BFG holders 150,000-300,000 m3).  Volumes are
    normal cubic metres (0 degC, 101.325 kPa); a low-pressure holder stores
    within a few kPa of atmospheric, so geometric and normal volume differ by a
    few per cent, which the holder's level sensor calibration absorbs.
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec(
            "gas",
            "fuel_gas",
            "in",
            "Gas network node; positive flow fills the holder, negative empties it",
        ),
    )

    volume_m3: float = param(
        200000.0, unit="m^3", low=100.0, high=1.0e6, description="Working volume [Nm3]"
    )
    level_hard_low_fraction: float = param(
        0.10, unit="dimensionless", low=0.0, high=1.0, description="Hard low limit (trip)"
    )
    level_normal_low_fraction: float = param(
        0.30, unit="dimensionless", low=0.0, high=1.0, description="Bottom of the normal band"
    )
    level_normal_high_fraction: float = param(
        0.70, unit="dimensionless", low=0.0, high=1.0, description="Top of the normal band"
    )
    level_hard_high_fraction: float = param(
        0.90,
        unit="dimensionless",
        low=0.0,
        high=1.0,
        description="Hard high limit (gas is flared above it)",
    )
    max_fill_rate_m3_s: float = param(
        55.6,
        unit="m^3/s",
        low=0.0,
        high=1.0e4,
        description="Maximum piston rise expressed as inflow (200,000 Nm3/h) [Nm3/s]",
    )
    max_empty_rate_m3_s: float = param(
        55.6,
        unit="m^3/s",
        low=0.0,
        high=1.0e4,
        description="Maximum piston fall expressed as outflow [Nm3/s]",
    )

    def validate(self) -> None:
        """Check ranges, then that the level limits are ordered."""
        super().validate()
        levels = (
            self.level_hard_low_fraction,
            self.level_normal_low_fraction,
            self.level_normal_high_fraction,
            self.level_hard_high_fraction,
        )
        if not levels[0] < levels[1] < levels[2] < levels[3]:
            raise ParameterError(
                "level_normal_low_fraction",
                "level limits must increase: hard low < normal low < normal high < hard high, "
                f"got {', '.join(f'{v:g}' for v in levels)}",
            )


# ---------------------------------------------------------------- equations

#: Order of the parameter vector ``p``.
PARAMETERS: tuple[str, ...] = (
    "volume_m3",
    "level_hard_low_fraction",
    "level_normal_low_fraction",
    "level_normal_high_fraction",
    "level_hard_high_fraction",
)
_VOL, _HARD_LOW, _NORM_LOW, _NORM_HIGH, _HARD_HIGH = range(5)


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Stored volume integrates the net inflow: ``dV/dt = q_in``."""
    dxdt = zeros(1)
    dxdt[0] = d[0]
    return dxdt


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Level, net inflow, excursions beyond the normal band and the hard limits."""
    y = zeros(4)
    level = x[0] / p[_VOL]
    y[0] = level
    y[1] = d[0]
    y[2] = fmax(level - p[_NORM_HIGH], 0.0) + fmax(p[_NORM_LOW] - level, 0.0)
    y[3] = fmax(level - p[_HARD_HIGH], 0.0) + fmax(p[_HARD_LOW] - level, 0.0)
    return y


def model(params: GasHolderParams | None = None) -> EquationModel:
    """Return the gas holder's equation model.

    State ``volume_m3``; disturbance ``flow_in_m3_s``, the net inflow (in a
    plant it is fixed by the balance of the holder's network node).
    """
    params = params if params is not None else GasHolderParams()
    vol = params.volume_m3
    return EquationModel(
        name="gas_holder",
        f=f,
        g=g,
        states=(Variable("volume_m3", "m^3", "Stored gas [Nm3]", 0.0, vol),),
        inputs=(),
        disturbances=(
            Variable(
                "flow_in_m3_s",
                "m^3/s",
                "Net inflow (negative when emptying) [Nm3/s]",
                -params.max_empty_rate_m3_s,
                params.max_fill_rate_m3_s,
            ),
        ),
        outputs=(
            Variable("level_fraction", "dimensionless", "Stored volume over working volume"),
            Variable("flow_in_m3_s", "m^3/s", "Net inflow [Nm3/s]"),
            Variable("band_excess_fraction", "dimensionless", "Level outside the normal band"),
            Variable("limit_excess_fraction", "dimensionless", "Level beyond the hard limits"),
        ),
        parameters=parameter_variables(GasHolderParams, PARAMETERS),
    )
