"""Energy carriers and product of a process replay, beyond electricity.

A process plant (:func:`energyopt.plantbuild.is_process_project`) buys heat
as well as electricity; its specific energy (kgce per tonne of product, the
comprehensive energy of :mod:`energyopt.kpis`) counts, as the chemical
closed loop does (:mod:`energyopt.closedloop.chemical`):

=========================== ===================================================
carrier                     from the project
=========================== ===================================================
bought steam                ``<node>.demand`` [kg/s] of every ``steam`` node
                            with a ``[tariffs.prices.<node>]`` price, at the
                            node's specific enthalpy (:func:`steam_enthalpy_j_kg`)
cooling duty                ``<node>.demand`` [W] of every ``cooling_water``
                            node, counted as heat (1 J per J)
product                     ``<node>.supply`` [m3/s] of every ``process`` node
                            in ``[tariffs.sales]``, by the stream's density
                            (:func:`energyopt.controlbuild.economic.node_density_kg_m3`)
=========================== ===================================================

A media-network plant (the steelworks) raises its steam from fuels already
counted, so it gets none of these.  :func:`energy_kpi_inputs` turns the
carriers and a run's series into the :class:`energyopt.kpis.KpiInputs`
fields ``steam_flows_kg_s``, ``steam_enthalpy_j_kg`` and ``output_t``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

import numpy as np
import numpy.typing as npt

from energyopt.errors import ProjectError

if TYPE_CHECKING:
    from energyopt.plantbuild import BuiltPlant
    from energyopt.project import Project

__all__ = [
    "STEAM_ENTHALPY_TABLE",
    "EnergyInputs",
    "ProcessEnergy",
    "energy_kpi_inputs",
    "process_energy",
    "steam_enthalpy_j_kg",
]

#: Specific enthalpy of superheated steam by (pressure [Pa], temperature [K]),
#: IAPWS-IF97 region 2 (as quoted in the repository: ``closedloop.chemical``
#: 0.5 MPa / 200 degC, ``plant_models`` steam header 1.0 MPa / 250 degC).  A
#: fixed table until a steam-property package (``iapws``) is a dependency:
#: evaluating IAPWS-IF97 is that package's job, not ours. [J/kg]
STEAM_ENTHALPY_TABLE: dict[tuple[float, float], float] = {
    (0.5e6, 473.15): 2.8558e6,
    (1.0e6, 523.15): 2.9426e6,
}
#: Matching tolerance of the table: relative on pressure, absolute on temperature.
_PRESSURE_RTOL = 0.005
_TEMPERATURE_ATOL_K = 0.5

SeriesGetter = Callable[[str], "npt.NDArray[np.float64] | None"]


class EnergyInputs(TypedDict):
    """The :class:`energyopt.kpis.KpiInputs` fields of the heat carriers and product."""

    steam_flows_kg_s: dict[str, npt.NDArray[np.float64]]
    steam_enthalpy_j_kg: dict[str, float]
    output_t: float | None


@dataclass(frozen=True)
class ProcessEnergy:
    """Heat carriers and product flows of a process plant.

    Attributes
    ----------
    heat : mapping of str to (str, float)
        Carrier (node name) -> (model variable, energy per unit of it): a
        steam demand [kg/s] with its enthalpy [J/kg], a cooling duty [W] with 1.
    product : mapping of str to (str, float)
        Sold stream -> (model variable [m3/s], density [kg/m3]).
    """

    heat: Mapping[str, tuple[str, float]] = field(default_factory=dict)
    product: Mapping[str, tuple[str, float]] = field(default_factory=dict)


def steam_enthalpy_j_kg(project: Project, built: BuiltPlant, node: str) -> float:
    """Specific enthalpy of the steam at a node. [J/kg].

    The ``enthalpy_j_kg`` parameter of a steam header on the node, else the
    node's declared ``pressure_pa`` and ``temperature_k`` looked up in
    :data:`STEAM_ENTHALPY_TABLE`.

    Raises
    ------
    ProjectError
        If the node declares no state, or one the table does not hold.
    """
    names = (v.name for v in built.model.variables("p"))
    values = dict(zip(names, built.parameters(), strict=True))
    for name, spec in project.units.items():
        header = f"{name}.enthalpy_j_kg"
        connected = {n for port in spec.connections for n in spec.nodes(port)}
        if spec.in_service and node in connected and header in values:
            return float(values[header])
    medium = project.media[node]
    where = f"{project.source or 'project'}: media.{node}"
    if medium.pressure_pa is None or medium.temperature_k is None:
        raise ProjectError(
            f"{where}: pressure_pa and temperature_k are needed for the steam's enthalpy"
        )
    p, t = float(medium.pressure_pa), float(medium.temperature_k)
    for (p_ref, t_ref), h in STEAM_ENTHALPY_TABLE.items():
        if math.isclose(p, p_ref, rel_tol=_PRESSURE_RTOL) and abs(t - t_ref) <= _TEMPERATURE_ATOL_K:
            return h
    known = ", ".join(f"{a / 1e6:g} MPa / {b - 273.15:g} degC" for a, b in STEAM_ENTHALPY_TABLE)
    raise ProjectError(
        f"{where}: no steam enthalpy for {p / 1e6:g} MPa / {t - 273.15:g} degC (the fixed "
        f"table holds {known})"
    )


def process_energy(built: BuiltPlant) -> ProcessEnergy:
    """Derive the heat carriers and the product of a project (module docstring).

    Parameters
    ----------
    built : BuiltPlant
        The project's plant.

    Returns
    -------
    ProcessEnergy
        Empty for a media-network plant.

    Raises
    ------
    ProjectError
        For a bought steam node without a known enthalpy, or a sold stream
        without a density.
    """
    from energyopt.controlbuild.economic import node_density_kg_m3
    from energyopt.plantbuild import is_process_project

    project = built.project
    if not is_process_project(project):
        return ProcessEnergy()
    names = {v.name for k in ("y", "x") for v in built.model.variables(k)}
    prices = project.tariffs.prices if project.tariffs is not None else {}
    sales = project.tariffs.sales if project.tariffs is not None else {}
    heat: dict[str, tuple[str, float]] = {}
    product: dict[str, tuple[str, float]] = {}
    for node, medium in project.media.items():
        demand, supply = f"{node}.demand", f"{node}.supply"
        if medium.kind == "steam" and node in prices and demand in names:
            heat[node] = (demand, steam_enthalpy_j_kg(project, built, node))
        elif medium.kind == "cooling_water" and demand in names:
            heat[node] = (demand, 1.0)
        elif medium.kind == "process" and node in sales and supply in names:
            product[node] = (supply, node_density_kg_m3(project, built, node))
    return ProcessEnergy(heat=heat, product=product)


def energy_kpi_inputs(
    energy: ProcessEnergy,
    series: SeriesGetter,
    step_s: float,
) -> EnergyInputs:
    """Return the :class:`energyopt.kpis.KpiInputs` fields of the heat carriers and product.

    Parameters
    ----------
    energy : ProcessEnergy
        From :func:`process_energy`.
    series : callable
        ``series(variable) -> array or None`` per step, in SI (None: not
        available, that carrier or the product is left out); steps to leave
        out already NaN.
    step_s : float
        Step of the series. [s]

    Returns
    -------
    EnergyInputs
        ``steam_flows_kg_s``, ``steam_enthalpy_j_kg`` (carrier -> series, energy
        per unit) and ``output_t`` (product made [t], or None).
    """
    from energyopt.kpis import total_mass_t

    flows: dict[str, npt.NDArray[np.float64]] = {}
    enthalpy: dict[str, float] = {}
    for carrier, (variable, per_unit) in energy.heat.items():
        value = series(variable)
        if value is not None:
            flows[carrier] = np.asarray(value, dtype=np.float64)
            enthalpy[carrier] = per_unit
    output_t: float | None = None
    masses = [series(variable) for variable, _ in energy.product.values()]
    if energy.product and all(m is not None for m in masses):
        kg_s = sum(
            np.asarray(m, dtype=np.float64) * density
            for m, (_, density) in zip(masses, energy.product.values(), strict=True)
        )
        output_t = total_mass_t(kg_s, step_s)
    return EnergyInputs(steam_flows_kg_s=flows, steam_enthalpy_j_kg=enthalpy, output_t=output_t)
