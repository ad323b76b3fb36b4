"""Van de Vusse CSTR with a cooling jacket: parameters.

Reactions A -> B -> C and 2 A -> D with Arrhenius rates; states c_A, c_B, the
reactor temperature and the jacket temperature; inputs the specific feed flow
F/V and the jacket heat flow.  Parameters from Klatt and Engell (1998), "Gain
scheduling trajectory control of a continuous stirred tank reactor", Computers
& Chemical Engineering 22(4-5), 491-502 (also the do-mpc CSTR example),
converted to SI: 1/h -> 1/s (divide by 3600), L -> m3, kJ -> J.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import exp, zeros
from plant_models.parameters import PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = ["PARAMETERS", "CstrVdvParams", "f", "g", "model", "rates"]

_PER_HOUR = 1.0 / 3600.0


@register_unit("cstr_vdv")
@dataclass(frozen=True)
class CstrVdvParams(UnitParams):
    """Van de Vusse reactor (Klatt and Engell 1998 benchmark), SI units.

    Heats of reaction use the usual sign: negative is exothermic.
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec("feed_in", "process", "in", "Feed (pure A)"),
        PortSpec("product_out", "process", "out", "Reactor effluent"),
        PortSpec("cooling_water", "cooling_water", "in", "Jacket heat removed", optional=True),
    )

    k10_1_s: float = param(
        1.287e12 * _PER_HOUR, unit="1/s", low=0.0, high=1.0e20, description="A->B pre-factor"
    )
    k20_1_s: float = param(
        1.287e12 * _PER_HOUR, unit="1/s", low=0.0, high=1.0e20, description="B->C pre-factor"
    )
    k30_m3_mol_s: float = param(
        9.043e9 * 1.0e-3 * _PER_HOUR,
        unit="m^3/(mol*s)",
        low=0.0,
        high=1.0e20,
        description="2A->D pre-factor",
    )
    activation_temperature1_k: float = param(
        9758.3, unit="K", low=0.0, high=1.0e5, description="E1/R of A->B"
    )
    activation_temperature2_k: float = param(
        9758.3, unit="K", low=0.0, high=1.0e5, description="E2/R of B->C"
    )
    activation_temperature3_k: float = param(
        8560.0, unit="K", low=0.0, high=1.0e5, description="E3/R of 2A->D"
    )
    reaction_enthalpy1_j_mol: float = param(
        4.2e3, unit="J/mol", low=-1.0e6, high=1.0e6, description="Heat of reaction A->B"
    )
    reaction_enthalpy2_j_mol: float = param(
        -11.0e3, unit="J/mol", low=-1.0e6, high=1.0e6, description="Heat of reaction B->C"
    )
    reaction_enthalpy3_j_mol: float = param(
        -41.85e3, unit="J/mol", low=-1.0e6, high=1.0e6, description="Heat of reaction 2A->D"
    )
    density_kg_m3: float = param(
        934.2, unit="kg/m^3", low=1.0, high=5000.0, description="Reacting mixture density"
    )
    heat_capacity_j_kg_k: float = param(
        3010.0, unit="J/(kg*K)", low=1.0, high=1.0e5, description="Reacting mixture cp"
    )
    heat_transfer_coefficient_w_m2_k: float = param(
        4032.0e3 * _PER_HOUR,
        unit="W/(m^2*K)",
        low=0.0,
        high=1.0e5,
        description="Jacket wall heat-transfer coefficient",
    )
    area_m2: float = param(
        0.215, unit="m^2", low=1.0e-4, high=1.0e4, description="Jacket heat-transfer area"
    )
    volume_m3: float = param(
        0.01, unit="m^3", low=1.0e-5, high=1.0e3, description="Reactor volume (10 L)"
    )
    jacket_mass_kg: float = param(
        5.0, unit="kg", low=1.0e-3, high=1.0e6, description="Coolant mass in the jacket"
    )
    jacket_heat_capacity_j_kg_k: float = param(
        2000.0, unit="J/(kg*K)", low=1.0, high=1.0e5, description="Coolant cp"
    )
    feed_concentration_a_mol_m3: float = param(
        5100.0, unit="mol/m^3", low=0.0, high=1.0e5, description="c_A in the feed"
    )
    feed_temperature_k: float = param(
        403.15, unit="K", low=200.0, high=700.0, description="Nominal feed temperature (130 degC)"
    )


# ---------------------------------------------------------------- equations

#: Order of the parameter vector ``p``.
PARAMETERS: tuple[str, ...] = (
    "k10_1_s",
    "k20_1_s",
    "k30_m3_mol_s",
    "activation_temperature1_k",
    "activation_temperature2_k",
    "activation_temperature3_k",
    "reaction_enthalpy1_j_mol",
    "reaction_enthalpy2_j_mol",
    "reaction_enthalpy3_j_mol",
    "density_kg_m3",
    "heat_capacity_j_kg_k",
    "heat_transfer_coefficient_w_m2_k",
    "area_m2",
    "volume_m3",
    "jacket_mass_kg",
    "jacket_heat_capacity_j_kg_k",
    "feed_concentration_a_mol_m3",
)
(
    _K10,
    _K20,
    _K30,
    _E1,
    _E2,
    _E3,
    _DH1,
    _DH2,
    _DH3,
    _RHO,
    _CP,
    _KW,
    _AREA,
    _VOL,
    _M_K,
    _CP_K,
    _C_A0,
) = range(17)


@equation
def rates(x: Any, p: Any) -> Any:
    """Return the reaction rates ``(r1, r2, r3)`` [mol/(m^3*s)].

    ``r1 = k1 c_A`` (A -> B), ``r2 = k2 c_B`` (B -> C) and ``r3 = k3 c_A**2``
    (A consumed by 2 A -> D), with Arrhenius ``k_i = k_i0 exp(-E_i/(R T))``.

    Parameters
    ----------
    x : array
        States ``(c_A, c_B, T, ...)``: concentrations [mol/m^3] and reactor
        temperature [K]; further entries are ignored.
    p : array
        Parameters in the order of :data:`PARAMETERS`.
    """
    temp = x[2]
    k1 = p[_K10] * exp(-p[_E1] / temp)
    k2 = p[_K20] * exp(-p[_E2] / temp)
    k3 = p[_K30] * exp(-p[_E3] / temp)
    return k1 * x[0], k2 * x[1], k3 * x[0] * x[0]


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Component balances of A and B, reactor and jacket energy balances.

    ``x = (c_A, c_B, T, T_K)``, ``u = (F/V, Q_K)``, ``d = (T_in,)``::

        dc_A/dt = F/V (c_A0 - c_A) - k1 c_A - k3 c_A**2
        dc_B/dt = -F/V c_B + k1 c_A - k2 c_B
        dT/dt   = F/V (T_in - T) - (k1 c_A dH1 + k2 c_B dH2 + k3 c_A**2 dH3) / (rho cp)
                  + kw A (T_K - T) / (rho cp V)
        dT_K/dt = (Q_K + kw A (T - T_K)) / (m_K cp_K)
    """
    dxdt = zeros(4)
    c_a = x[0]
    c_b = x[1]
    temp = x[2]
    temp_jacket = x[3]
    dilution = u[0]
    r1, r2, r3 = rates(x, p)
    rho_cp = p[_RHO] * p[_CP]
    wall = p[_KW] * p[_AREA] * (temp_jacket - temp)
    dxdt[0] = dilution * (p[_C_A0] - c_a) - r1 - r3
    dxdt[1] = -dilution * c_b + r1 - r2
    dxdt[2] = (
        dilution * (d[0] - temp)
        - (r1 * p[_DH1] + r2 * p[_DH2] + r3 * p[_DH3]) / rho_cp
        + wall / (rho_cp * p[_VOL])
    )
    dxdt[3] = (u[1] - wall) / (p[_M_K] * p[_CP_K])
    return dxdt


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Concentrations, temperatures, B production and jacket heat removed."""
    y = zeros(6)
    y[0] = x[0]
    y[1] = x[1]
    y[2] = x[2]
    y[3] = x[3]
    y[4] = u[0] * p[_VOL] * x[1]
    y[5] = -u[1]
    return y


def model(params: CstrVdvParams | None = None) -> EquationModel:
    """Return the Van de Vusse reactor's equation model.

    Envelope from the benchmark's operating limits (do-mpc CSTR example):
    F/V 5-100 1/h, Q_K -8500-0 kJ/h, temperatures 50-140 degC.
    """
    params = params if params is not None else CstrVdvParams()
    c_a0 = params.feed_concentration_a_mol_m3
    return EquationModel(
        name="cstr_vdv",
        f=f,
        g=g,
        states=(
            Variable("c_a_mol_m3", "mol/m^3", "Concentration of A", 0.0, c_a0),
            Variable("c_b_mol_m3", "mol/m^3", "Concentration of B", 0.0, c_a0),
            Variable("t_reactor_k", "K", "Reactor temperature", 323.15, 413.15),
            Variable("t_jacket_k", "K", "Jacket temperature", 323.15, 413.15),
        ),
        inputs=(
            Variable(
                "dilution_1_s", "1/s", "Specific feed flow F/V", 5.0 * _PER_HOUR, 100.0 * _PER_HOUR
            ),
            Variable("q_jacket_w", "W", "Heat added to the jacket", -8500.0e3 * _PER_HOUR, 0.0),
        ),
        disturbances=(Variable("t_feed_k", "K", "Feed temperature", 383.15, 413.15),),
        outputs=(
            Variable("c_a_mol_m3", "mol/m^3", "Concentration of A"),
            Variable("c_b_mol_m3", "mol/m^3", "Concentration of B"),
            Variable("t_reactor_k", "K", "Reactor temperature"),
            Variable("t_jacket_k", "K", "Jacket temperature"),
            Variable("production_b_mol_s", "mol/s", "B leaving with the product"),
            Variable("heat_removed_w", "W", "Heat removed through the jacket"),
        ),
        parameters=parameter_variables(CstrVdvParams, PARAMETERS),
    )
