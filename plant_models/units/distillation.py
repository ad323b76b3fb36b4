"""Tray-wise binary distillation column with constant relative volatility: parameters.

The column model of Skogestad's "column A": equilibrium stages, constant molar
flows, linearised liquid flow dynamics, total condenser.  Skogestad (1997),
"Dynamics and control of distillation columns - a tutorial introduction",
Trans. IChemE 75A, 539-562; Skogestad & Postlethwaite, Multivariable Feedback
Control (2005), section 12.4.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import fabs, fmax, zeros
from plant_models.core.smooth import clip
from plant_models.parameters import ParameterError, PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = ["PARAMETERS", "DistillationParams", "f", "g", "model", "product_flows"]

_PER_MIN = 1.0 / 60.0


@register_unit("distillation")
@dataclass(frozen=True)
class DistillationParams(UnitParams):
    """Binary column, column A defaults scaled to F = 1 kmol/min.

    41 stages including the reboiler (stage 1) and the total condenser
    (stage 41), feed on stage 21, alpha = 1.5, hold-ups 0.5 kmol, liquid time
    constant 0.063 min; nominal reflux 2.706 and boil-up 3.206 kmol/min give
    x_D = 0.99, x_B = 0.01 for z_F = 0.5.
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec("feed_in", "process", "in", "Saturated-liquid feed"),
        PortSpec("distillate_out", "process", "out", "Top product"),
        PortSpec("bottoms_out", "process", "out", "Bottom product"),
        PortSpec("steam_in", "steam", "in", "Reboiler steam", optional=True),
        PortSpec("cooling_water", "cooling_water", "in", "Condenser duty", optional=True),
    )

    n_stages: int = param(
        41, unit="dimensionless", low=3, high=200, description="Stages incl. reboiler and condenser"
    )
    feed_stage: int = param(
        21, unit="dimensionless", low=2, high=199, description="Feed stage counted from the bottom"
    )
    relative_volatility: float = param(
        1.5, unit="dimensionless", low=1.0001, high=100.0, description="Constant volatility"
    )
    holdup_stage_mol: float = param(
        500.0, unit="mol", low=1.0e-3, high=1.0e8, description="Liquid hold-up per tray"
    )
    holdup_condenser_mol: float = param(
        500.0, unit="mol", low=1.0e-3, high=1.0e8, description="Condenser drum hold-up"
    )
    holdup_reboiler_mol: float = param(
        500.0, unit="mol", low=1.0e-3, high=1.0e8, description="Reboiler hold-up"
    )
    liquid_time_constant_s: float = param(
        0.063 * 60.0,
        unit="s",
        low=1.0e-3,
        high=3600.0,
        description="Tray hydraulic time constant",
    )
    level_gain_1_s: float = param(
        10.0 * _PER_MIN,
        unit="1/s",
        low=0.0,
        high=100.0,
        description="Proportional gain of the condenser and reboiler level loops (LV scheme)",
    )
    feed_nominal_mol_s: float = param(
        1000.0 * _PER_MIN, unit="mol/s", low=0.0, high=1.0e6, description="Nominal feed"
    )
    latent_heat_j_mol: float = param(
        3.2e4,
        unit="J/mol",
        low=1.0e3,
        high=1.0e5,
        description="Heat of vaporisation (reboiler duty = boil-up x this)",
    )

    def validate(self) -> None:
        """Check ranges, integrality of the stage counts, and the feed position."""
        super().validate()
        for name in ("n_stages", "feed_stage"):
            if not float(getattr(self, name)).is_integer():
                raise ParameterError(name, f"must be a whole number, got {getattr(self, name)}")
        if not 2 <= self.feed_stage <= self.n_stages - 1:
            raise ParameterError(
                "feed_stage",
                f"must lie between 2 and n_stages - 1 ({int(self.n_stages) - 1}), "
                f"got {self.feed_stage}",
            )


# ---------------------------------------------------------------- equations

#: Order of the parameter vector ``p`` (the stage count is the state length / 2).
PARAMETERS: tuple[str, ...] = (
    "relative_volatility",
    "holdup_stage_mol",
    "holdup_condenser_mol",
    "holdup_reboiler_mol",
    "liquid_time_constant_s",
    "level_gain_1_s",
    "feed_stage",
    "latent_heat_j_mol",
)
_ALPHA, _M_TRAY, _M_COND, _M_REB, _TAU_L, _K_LEVEL, _NF, _LATENT = range(8)


@equation
def product_flows(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Return ``(D, B)`` set by the condenser and reboiler level loops [mol/s].

    Each loop adds a proportional correction to the flow that balances the
    drum at nominal hold-up (LV configuration, Skogestad's ``cola_lv``).
    """
    n = x.shape[0] // 2
    distillate = fmax(u[1] - u[0] + p[_K_LEVEL] * (x[2 * n - 1] - p[_M_COND]), 0.0)
    bottoms = fmax(u[0] + d[0] - u[1] + p[_K_LEVEL] * (x[n] - p[_M_REB]), 0.0)
    return distillate, bottoms


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Tray-wise total and light-component balances (constant molar flows).

    ``x = (x_1 .. x_n, M_1 .. M_n)`` from the reboiler (stage 1) to the
    condenser (stage n); ``u = (L_T, V_B)`` reflux and boil-up;
    ``d = (F, z_F)`` saturated-liquid feed.  Tray liquid flows follow
    ``L_i = L0_i + (M_i - M0) / tau_L``.
    """
    n = x.shape[0] // 2
    alpha = p[_ALPHA]
    reflux = u[0]
    boilup = u[1]
    feed = d[0]
    vap = zeros(n)
    liq = zeros(n)
    for i in range(n):
        vap[i] = alpha * x[i] / (1.0 + (alpha - 1.0) * x[i])
    for i in range(1, n - 1):
        # Feed liquid runs down from the feed stage: stages 2..NF carry L_T + F.
        below_feed = clip(p[_NF] - (i + 1) + 1.0, 0.0, 1.0)
        liq[i] = reflux + feed * below_feed + (x[n + i] - p[_M_TRAY]) / p[_TAU_L]
    liq[n - 1] = reflux
    distillate, bottoms = product_flows(x, u, d, p)
    dxdt = zeros(2 * n)
    for i in range(n):
        if i == 0:
            dm = liq[1] - boilup - bottoms
            dmx = liq[1] * x[1] - boilup * vap[0] - bottoms * x[0]
        elif i == n - 1:
            dm = boilup - reflux - distillate
            dmx = boilup * vap[n - 2] - (reflux + distillate) * x[n - 1]
        else:
            at_feed = fmax(1.0 - fabs(p[_NF] - (i + 1)), 0.0)
            dm = liq[i + 1] - liq[i] + feed * at_feed
            dmx = (
                liq[i + 1] * x[i + 1]
                - liq[i] * x[i]
                + boilup * (vap[i - 1] - vap[i])
                + feed * d[1] * at_feed
            )
        dxdt[n + i] = dm
        dxdt[i] = (dmx - x[i] * dm) / x[n + i]
    return dxdt


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Product compositions and flows, reboiler duty."""
    n = x.shape[0] // 2
    y = zeros(5)
    distillate, bottoms = product_flows(x, u, d, p)
    y[0] = x[n - 1]
    y[1] = x[0]
    y[2] = distillate
    y[3] = bottoms
    y[4] = u[1] * p[_LATENT]
    return y


def model(params: DistillationParams | None = None) -> EquationModel:
    """Return the column's equation model (stiff: use an implicit method).

    Envelope: reflux 2-3.5 and boil-up 2.5-4 times the nominal feed, feed
    0.5-1.5 of nominal, hold-ups 0.5-1.5 of nominal.
    """
    params = params if params is not None else DistillationParams()
    n = int(params.n_stages)
    f_nom = params.feed_nominal_mol_s
    holdups = [params.holdup_reboiler_mol] + [params.holdup_stage_mol] * (n - 2)
    holdups.append(params.holdup_condenser_mol)
    states = tuple(
        Variable(f"x_{i + 1}", "dimensionless", f"Light mole fraction, stage {i + 1}", 0.0, 1.0)
        for i in range(n)
    ) + tuple(
        Variable(f"holdup_{i + 1}_mol", "mol", f"Liquid hold-up, stage {i + 1}", 0.5 * m, 1.5 * m)
        for i, m in enumerate(holdups)
    )
    return EquationModel(
        name="distillation",
        f=f,
        g=g,
        states=states,
        inputs=(
            Variable("reflux_mol_s", "mol/s", "Reflux L_T", 2.0 * f_nom, 3.5 * f_nom),
            Variable("boilup_mol_s", "mol/s", "Boil-up V_B", 2.5 * f_nom, 4.0 * f_nom),
        ),
        disturbances=(
            Variable("feed_mol_s", "mol/s", "Feed", 0.5 * f_nom, 1.5 * f_nom),
            Variable("z_feed", "dimensionless", "Feed light mole fraction", 0.3, 0.7),
        ),
        outputs=(
            Variable("x_distillate", "dimensionless", "Top product light mole fraction"),
            Variable("x_bottoms", "dimensionless", "Bottom product light mole fraction"),
            Variable("distillate_mol_s", "mol/s", "Top product"),
            Variable("bottoms_mol_s", "mol/s", "Bottom product"),
            Variable("reboiler_duty_w", "W", "Reboiler heat duty"),
        ),
        parameters=parameter_variables(DistillationParams, PARAMETERS),
        stiff=True,
    )
