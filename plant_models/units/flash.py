"""Binary flash drum with constant relative volatility: parameters.

Vapour in equilibrium with the liquid: ``y = alpha x / (1 + (alpha - 1) x)``;
the vapour rate follows from the heat input over the latent heat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import fmax, zeros
from plant_models.parameters import PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = ["PARAMETERS", "FlashParams", "equilibrium", "f", "flows", "g", "model"]


@register_unit("flash")
@dataclass(frozen=True)
class FlashParams(UnitParams):
    """Heated flash drum separating a light key from a heavy key.

    Defaults: a 2 m3 drum holding about 10 kmol of liquid, relative volatility
    2.5 (e.g. benzene/toluene near 1 atm), latent heat 32 kJ/mol (benzene
    30.7, toluene 33.2 kJ/mol at their normal boiling points).
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec("feed_in", "process", "in", "Feed"),
        PortSpec("vapour_out", "process", "out", "Vapour product"),
        PortSpec("liquid_out", "process", "out", "Liquid product"),
        PortSpec("steam_in", "steam", "in", "Heating steam", optional=True),
    )

    relative_volatility: float = param(
        2.5, unit="dimensionless", low=1.0001, high=100.0, description="Light/heavy volatility"
    )
    latent_heat_j_mol: float = param(
        3.2e4, unit="J/mol", low=1.0e3, high=1.0e5, description="Molar heat of vaporisation"
    )
    holdup_nominal_mol: float = param(
        1.0e4, unit="mol", low=1.0, high=1.0e8, description="Nominal liquid hold-up"
    )
    holdup_max_mol: float = param(
        2.0e4, unit="mol", low=1.0, high=1.0e8, description="Liquid hold-up at the drum's top"
    )
    level_time_constant_s: float = param(
        120.0,
        unit="s",
        low=1.0,
        high=1.0e4,
        description="Closed level loop: liquid outflow relaxes hold-up to nominal",
    )


# ---------------------------------------------------------------- equations

#: Order of the parameter vector ``p``.
PARAMETERS: tuple[str, ...] = (
    "relative_volatility",
    "latent_heat_j_mol",
    "holdup_nominal_mol",
    "level_time_constant_s",
)
_ALPHA, _LATENT, _M_NOM, _TAU_LEVEL = range(4)


@equation
def equilibrium(x_light: Any, alpha: Any) -> Any:
    """Return the vapour mole fraction ``alpha x / (1 + (alpha - 1) x)`` [1]."""
    return alpha * x_light / (1.0 + (alpha - 1.0) * x_light)


@equation
def flows(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Return ``(vapour, liquid)`` molar flows [mol/s].

    Vapour = heat / latent heat (feed at its bubble point); the level loop
    sets the liquid outflow to the feed minus vapour plus a proportional
    correction of the hold-up towards nominal.
    """
    vapour = u[0] / p[_LATENT]
    liquid = fmax(d[0] - vapour + (x[0] - p[_M_NOM]) / p[_TAU_LEVEL], 0.0)
    return vapour, liquid


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Total and light-component balances of the liquid hold-up.

    ``x = (M, x_L)``, ``u = (Q,)``, ``d = (F, z)``::

        dM/dt   = F - V - L
        dx_L/dt = (F (z - x_L) - V (y - x_L)) / M
    """
    dxdt = zeros(2)
    vapour, liquid = flows(x, u, d, p)
    y_light = equilibrium(x[1], p[_ALPHA])
    dxdt[0] = d[0] - vapour - liquid
    dxdt[1] = (d[0] * (d[1] - x[1]) - vapour * (y_light - x[1])) / x[0]
    return dxdt


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Vapour and liquid flows and compositions, heat duty."""
    y = zeros(5)
    vapour, liquid = flows(x, u, d, p)
    y[0] = vapour
    y[1] = liquid
    y[2] = equilibrium(x[1], p[_ALPHA])
    y[3] = x[1]
    y[4] = u[0]
    return y


def model(params: FlashParams | None = None) -> EquationModel:
    """Return the flash drum's equation model.

    States liquid hold-up and its light mole fraction; input the heat duty;
    disturbances feed flow and feed light mole fraction.
    """
    params = params if params is not None else FlashParams()
    feed_max = params.holdup_nominal_mol / 100.0
    return EquationModel(
        name="flash",
        f=f,
        g=g,
        states=(
            Variable(
                "holdup_mol",
                "mol",
                "Liquid hold-up",
                0.2 * params.holdup_nominal_mol,
                params.holdup_max_mol,
            ),
            Variable("x_light", "dimensionless", "Liquid light mole fraction", 0.0, 1.0),
        ),
        inputs=(
            Variable("heat_w", "W", "Heat duty", 0.0, 0.8 * feed_max * params.latent_heat_j_mol),
        ),
        disturbances=(
            Variable("feed_mol_s", "mol/s", "Feed", 0.2 * feed_max, feed_max),
            Variable("z_light", "dimensionless", "Feed light mole fraction", 0.05, 0.95),
        ),
        outputs=(
            Variable("vapour_mol_s", "mol/s", "Vapour product"),
            Variable("liquid_mol_s", "mol/s", "Liquid product"),
            Variable("y_light", "dimensionless", "Vapour light mole fraction"),
            Variable("x_light", "dimensionless", "Liquid light mole fraction"),
            Variable("heat_w", "W", "Heat duty"),
        ),
        parameters=parameter_variables(FlashParams, PARAMETERS),
    )
