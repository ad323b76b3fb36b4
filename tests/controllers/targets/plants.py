"""Small plants of the target-layer tests: a 2x2 linear gain plant and the Van de Vusse CSTR.

The linear plant has first-order lags to steady-state gains ``K`` (the model
parameters) plus a unit disturbance gain on ``y1``::

    tau1 dx1/dt = K11 u1 + K12 u2 + d1 - x1,    tau2 dx2/dt = K21 u1 + K22 u2 - x2

so its steady-state gain matrix is exactly ``K`` and its disturbance gain ``(1, 0)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.mathfuncs import zeros
from plant_models.units import cstr_vdv

TAU1_S = 60.0
TAU2_S = 120.0


@equation
def _f_lin(x: Any, u: Any, d: Any, p: Any) -> Any:
    dxdt = zeros(2)
    dxdt[0] = (p[0] * u[0] + p[1] * u[1] + d[0] - x[0]) / TAU1_S
    dxdt[1] = (p[2] * u[0] + p[3] * u[1] - x[1]) / TAU2_S
    return dxdt


@equation
def _g_lin(x: Any, u: Any, d: Any, p: Any) -> Any:
    y = zeros(2)
    y[0] = x[0]
    y[1] = x[1]
    return y


@equation
def _f_integrating(x: Any, u: Any, d: Any, p: Any) -> Any:
    dxdt = zeros(1)
    dxdt[0] = u[0] - u[1]  # a storage level: no steady-state gain
    return dxdt


@equation
def _g_integrating(x: Any, u: Any, d: Any, p: Any) -> Any:
    y = zeros(1)
    y[0] = x[0]
    return y


def _vars(prefix: str, n: int) -> tuple[Variable, ...]:
    return tuple(
        Variable(f"{prefix}{i + 1}", "dimensionless", f"{prefix}{i + 1}") for i in range(n)
    )


LINEAR = EquationModel(
    name="lin2x2",
    f=_f_lin,
    g=_g_lin,
    states=_vars("x", 2),
    inputs=_vars("u", 2),
    disturbances=_vars("d", 1),
    outputs=_vars("y", 2),
    parameters=_vars("k", 4),
)
#: Steady-state gains ``K`` of the linear plant, row-major.
K = np.array([[1.0, 0.5], [0.25, 1.0]])
P_LINEAR = K.ravel()

INTEGRATING = EquationModel(
    name="storage",
    f=_f_integrating,
    g=_g_integrating,
    states=_vars("x", 1),
    inputs=_vars("u", 2),
    disturbances=(),
    outputs=_vars("y", 1),
    parameters=(),
)

PER_H = 1.0 / 3600.0
CSTR = cstr_vdv.model()
CSTR_PARAMS = cstr_vdv.CstrVdvParams()
P_CSTR = CSTR.pack_parameters(CSTR_PARAMS)
#: Klatt and Engell (1998) feed temperature 104.9 degC. [K]
D_CSTR = np.array([378.05])
#: Klatt and Engell operating point: F/V = 14.19 1/h, Q_K = -1113.5 kJ/h.
U_OP = np.array([14.19 * PER_H, -1113.5e3 * PER_H])
#: Steady state there (c_A = 2.14, c_B = 1.09 mol/L, T = 114.2 degC).
X_OP = np.array([2140.2105, 1090.3044, 387.3411, 386.0566])
#: Economics of the tests: B is worth 1 per mol, feed costs 600 per m3
#: (6 per unit of F/V in 1/s for the 10 L reactor), heat removal 2e-5 per J.
VALUE_B_PER_MOL = 1.0
COST_FEED_PER_M3 = 600.0
COST_HEAT_PER_J = 2.0e-5


def cstr_steady_state(dilution_1_s: float, t_reactor_k: float) -> tuple[float, float, float]:
    """Closed-form steady state of the CSTR at given F/V and reactor temperature.

    Independent of casadi and of ``f = 0``: the A balance is a quadratic in
    ``c_A``, the B balance linear in ``c_B``, and the two energy balances give
    the jacket heat ``Q_K`` that holds ``T``.

    Returns
    -------
    tuple of float
        ``(c_A [mol/m3], c_B [mol/m3], Q_K [W])``.
    """
    prm = CSTR_PARAMS
    dil, temp = dilution_1_s, t_reactor_k
    k1 = prm.k10_1_s * np.exp(-prm.activation_temperature1_k / temp)
    k2 = prm.k20_1_s * np.exp(-prm.activation_temperature2_k / temp)
    k3 = prm.k30_m3_mol_s * np.exp(-prm.activation_temperature3_k / temp)
    c_a0 = prm.feed_concentration_a_mol_m3
    c_a = (-(dil + k1) + np.sqrt((dil + k1) ** 2 + 4.0 * k3 * dil * c_a0)) / (2.0 * k3)
    c_b = k1 * c_a / (dil + k2)
    heat_released = -(
        k1 * c_a * prm.reaction_enthalpy1_j_mol
        + k2 * c_b * prm.reaction_enthalpy2_j_mol
        + k3 * c_a**2 * prm.reaction_enthalpy3_j_mol
    )  # [W/m3]
    rho_cp = prm.density_kg_m3 * prm.heat_capacity_j_kg_k
    # Reactor: 0 = D (T_in - T) + released / rho_cp + wall / (rho_cp V); jacket: Q_K = wall.
    wall_w = -(dil * (D_CSTR[0] - temp) * rho_cp + heat_released) * prm.volume_m3
    return float(c_a), float(c_b), float(wall_w)


def cstr_profit(dilution_1_s: float, c_b: float, q_jacket_w: float) -> float:
    """Profit rate of the test economics. [currency/s]"""
    volume = CSTR_PARAMS.volume_m3
    return (
        VALUE_B_PER_MOL * dilution_1_s * volume * c_b
        - COST_FEED_PER_M3 * volume * dilution_1_s
        - COST_HEAT_PER_J * (-q_jacket_w)
    )
