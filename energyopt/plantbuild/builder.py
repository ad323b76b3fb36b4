"""Turn a validated project into a composed plant model.

The plant is declared in the project file, never hand-coded: every in-service
unit becomes a :class:`~plant_models.plant.compose.UnitSpec` with the
parameters of :meth:`Project.unit_params` and the connections of its
``[units.<name>.connections]`` table, every media node a
:class:`~plant_models.plant.compose.NodeSpec`.

One place per number
--------------------
Some unit parameters repeat what a media node or ``[tariffs]`` already says.
The node and ``[tariffs]`` are authoritative; the builder derives the unit
parameter from them, and a project that sets it on the unit as well is
rejected (two values that can drift apart are worse than one):

=================== =============================== =========================================
unit type           parameter                       derived from
=================== =============================== =========================================
``gas_producer``    ``lhv_j_m3``                    ``media.<gas_out>.lhv_j_m3``
``boiler``          ``lhv_lean_j_m3``,              lowest and highest ``lhv_j_m3`` of the
                    ``lhv_rich_j_m3``               fuel nodes (when they differ)
``flare``           ``co2_kg_m3``                   ``media.<gas>.co2_kg_m3``
``flare``           ``penalty_per_m3``              ``tariffs.flare_penalty_per_m3``
``grid``            ``price_valley/flat/peak_per_j`` lowest, ``flat`` (or mean) and highest
                                                    period price of ``[tariffs.electricity]``
``grid``            ``price_export_per_j``          ``tariffs.export_price_per_kwh``
``grid``            ``demand_charge_per_w``         ``tariffs.demand_charge_per_kw_month``
=================== =============================== =========================================

Data-driven units
-----------------
A ``type = "data_driven"`` unit joins the plant with the model identified
from the history (:func:`energyopt.project.datadriven.load_identified_unit`,
or the ``identified`` mapping given to :func:`build_plant`) and the ports of
its ``connections`` tables.  A dynamic (discrete-time) model enters in its
continuous-time zero-order-hold equivalent
(:mod:`plant_models.datadriven.continuous`); its signals are bound to their
tags by the binding map like any binding.

The grid's own block times are not used: the electricity price disturbance
is :meth:`BuiltPlant.electricity_price_per_j` of the project's time-of-use
tariff.  The heating value of each fuel-gas node is one plant disturbance
``<node>.lhv_j_m3`` (:mod:`plant_models.plant.compose`), whose nominal value
is the node's ``lhv_j_m3``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from energyopt.errors import ModelError, ProjectError
from energyopt.plantbuild.binding_map import BindingMap, build_binding_map
from energyopt.project import Project
from plant_models.core.equations import EquationModel
from plant_models.core.errors import EquationError
from plant_models.parameters import ParameterError, UnitParams
from plant_models.plant.compose import NodeSpec, Plant, UnitSpec, compose_plant
from plant_models.plant.datadriven import DataDrivenParams, DataDrivenPort

if TYPE_CHECKING:
    import os

    from plant_models.datadriven import DataDrivenUnit
    from plant_models.flowsheet import ComposedModel

__all__ = [
    "DERIVED_PARAMETERS",
    "BuiltPlant",
    "build_plant",
    "is_process_project",
    "nominal_disturbances",
]

_KWH_J = 3.6e6
#: 30-day month for the demand charge per W. [s]
_MONTH_S = 30.0 * 86400.0

#: Unit type -> parameters the builder derives from nodes or tariffs.
DERIVED_PARAMETERS: dict[str, tuple[str, ...]] = {
    "gas_producer": ("lhv_j_m3",),
    "boiler": ("lhv_lean_j_m3", "lhv_rich_j_m3"),
    "flare": ("co2_kg_m3", "penalty_per_m3"),
    "grid": (
        "price_valley_per_j",
        "price_flat_per_j",
        "price_peak_per_j",
        "price_export_per_j",
        "demand_charge_per_w",
    ),
}


@dataclass(frozen=True)
class BuiltPlant:
    """A project's composed plant and the map of its historian tags.

    Attributes
    ----------
    project : Project
        The source project.
    plant : Plant
        The composed plant (units in project order).
    bindings : BindingMap
        Every tag binding resolved to a model variable with its conversion.
    flowsheet : ComposedModel or None
        For a process plant (:func:`is_process_project`), the composed
        flowsheet the model and parameters come from (``plant`` then wraps
        its model with no media-network units or nodes); ``None`` for a
        media-network plant.
    """

    project: Project
    plant: Plant
    bindings: BindingMap
    flowsheet: ComposedModel | None = None
    _price_cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def model(self) -> EquationModel:
        """The composed equation model."""
        return self.plant.model

    def parameters(self) -> npt.NDArray[np.float64]:
        """Return the nominal parameter vector ``p`` (the project's values). [SI]."""
        if self.flowsheet is not None:
            return np.array(self.flowsheet.parameters, dtype=np.float64)
        return self.plant.pack_parameters()

    def index(self, kind: str, name: str) -> int:
        """Return the position of variable ``name`` in vector ``kind`` (x, u, d, y, p).

        Raises
        ------
        ModelError
            If the model has no such variable.
        """
        try:
            return self.model.index(kind, name)
        except EquationError as exc:
            raise ModelError(f"{self._where()}: {exc}") from None

    def electricity_price_per_j(self, time_ms: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Return the grid purchase price at each time from ``[tariffs.electricity]``.

        Parameters
        ----------
        time_ms : array_like of int
            Timestamps. [ms since epoch]

        Returns
        -------
        numpy.ndarray
            Price. [currency/J]

        Raises
        ------
        ProjectError
            If the project has no time-of-use tariff.
        """
        return self.project.tou_tariff.price_at(time_ms) / _KWH_J

    def _where(self) -> str:
        return self.project.source or self.project.project.name


def build_plant(
    project: Project,
    *,
    identified: Mapping[str, DataDrivenUnit] | None = None,
    project_path: str | os.PathLike[str] | None = None,
) -> BuiltPlant:
    """Compose the plant a project declares and resolve its tag bindings.

    Parameters
    ----------
    project : Project
        A validated project.
    identified : mapping of str to DataDrivenUnit, optional
        Identified data-driven units by unit name (for example from
        :func:`energyopt.identify.identify_units` before saving); units not
        given are read from their model files.
    project_path : str or path-like, optional
        The project file, for the model files of data-driven units (default:
        the file the project was loaded from).

    Returns
    -------
    BuiltPlant

    Raises
    ------
    ProjectError
        If a unit sets a parameter that its node or ``[tariffs]`` owns, or a
        derived value is invalid for the unit.
    ModelError
        If the units cannot be composed (the message names the unit or node),
        a data-driven unit has not been identified yet or has no
        continuous-time equivalent, or a binding names no model variable or
        has an incompatible unit.
    """
    where = project.source or project.project.name
    if is_process_project(project):
        return _process_plant(project)
    nodes = [NodeSpec(name, node.kind) for name, node in project.media.items()]
    units: list[UnitSpec] = []
    for name, spec in project.units.items():
        if not spec.in_service:
            continue
        if spec.model is not None:
            given = None if identified is None else identified.get(name)
            units.append(_data_driven_unit(project, name, given, project_path))
            continue
        params = _derived_params(project, name)
        connections = {port: spec.nodes(port) for port in spec.connections}
        units.append(UnitSpec(name, params, connections))
    try:
        plant = compose_plant(_identifier(project.project.name), units, nodes)
    except EquationError as exc:
        raise ModelError(f"{where}: cannot compose the plant: {exc}") from None
    return BuiltPlant(project, plant, build_binding_map(project, plant))


def is_process_project(project: Project) -> bool:
    """Return whether ``project`` declares a process flowsheet.

    A project with a ``process`` media node (material streams) or a ``pid``
    unit (DCS loops) is composed as a flowsheet
    (:mod:`plant_models.flowsheet`); any other as a media network
    (:mod:`plant_models.plant.compose`).

    Parameters
    ----------
    project : Project
        A validated project.
    """
    if any(node.kind == "process" for node in project.media.values()):
        return True
    return any(spec.type == "pid" and spec.in_service for spec in project.units.values())


def _process_plant(project: Project) -> BuiltPlant:
    """The flowsheet of a process project, wrapped as a :class:`BuiltPlant`.

    The flowsheet is composed by the one path the chemical demo and its
    closed loop use (:func:`energyopt.demos.chemical_history.build_chemical_flowsheet`,
    which caches the numba-compiled result), so the replay, the advisor and
    the closed-loop comparison simulate the same equations.  The process
    plant has no media network of :mod:`plant_models.plant.compose` (its
    units, streams and loops are the flowsheet's ``blocks``), so
    ``plant.units`` and ``plant.nodes`` are empty: consumers of the media
    network (the energy-flow views of :mod:`energyopt.flows`) see none
    rather than units whose port flows they do not know.  The flowsheet has
    no per-unit models to pack: :meth:`BuiltPlant.parameters` reads its
    parameter vector.
    """
    from energyopt.demos.chemical_history import build_chemical_flowsheet

    where = project.source or project.project.name
    try:
        flowsheet = build_chemical_flowsheet(project)
    except EquationError as exc:
        raise ModelError(f"{where}: cannot compose the process flowsheet: {exc}") from None
    plant = Plant(_identifier(project.project.name), flowsheet.model, (), (), ())
    return BuiltPlant(project, plant, build_binding_map(project, plant), flowsheet)


def _data_driven_unit(
    project: Project,
    name: str,
    unit: DataDrivenUnit | None,
    project_path: str | os.PathLike[str] | None,
) -> UnitSpec:
    """The plant member of data-driven unit ``name``: identified model and declared ports."""
    from energyopt.project.datadriven import load_identified_unit
    from energyopt.project.datadriven_ports import PORT_SIGNAL_KEYS, PortTable

    where = f"{project.source or project.project.name}: units.{name}"
    if unit is None:
        try:
            unit = load_identified_unit(project, name, project_path)
        except ModelError as exc:
            raise ModelError(
                f"{where}: no usable identified model ({exc}); run identification first "
                "(energyopt.identify.identify_units, then save_identified)"
            ) from None
    kinds = {"outputs": "y", "inputs": "u", "disturbances": "d"}
    ports = []
    connections: dict[str, tuple[str, ...]] = {}
    for port, table in project.units[name].connections.items():
        if not isinstance(table, PortTable):  # pragma: no cover - rejected at load
            raise ProjectError(f"{where}.connections.{port}: expected a port table")
        group, signal = table.signal
        if group not in PORT_SIGNAL_KEYS.values():  # pragma: no cover - validated
            raise ProjectError(f"{where}.connections.{port}: unknown signal group {group}")
        medium = project.media[table.node].kind
        ports.append(DataDrivenPort(port, medium, table.direction, kinds[group], signal))
        connections[port] = (table.node,)
    try:
        params = DataDrivenParams(unit, tuple(ports))
        _ = params.model  # the continuous-time form: fails here, naming the unit
    except ValueError as exc:
        raise ModelError(f"{where}: cannot join the plant: {exc}") from None
    return UnitSpec(name, params, connections)


def nominal_disturbances(built: BuiltPlant) -> npt.NDArray[np.float64]:
    """Return a nominal disturbance vector: demands at 1, node heating values, mean price.

    Production rates are at their nominal values and every heating value at
    its node's ``lhv_j_m3``.  A purchased process feed (``<node>.in_*``)
    carries species A at the design feed strength of the plant's reactor
    (the largest ``feed_concentration_a_mol_m3`` of its units), no B, C or
    D, at the node's ``temperature_k`` when declared.  Other disturbances
    sit mid-envelope.

    Parameters
    ----------
    built : BuiltPlant
        The built plant.

    Returns
    -------
    numpy.ndarray
        Shape ``(nd,)``. [SI]
    """
    model = built.model
    d = np.empty(model.sizes["d"])
    params = {u.name: u.params for u in built.plant.units}
    strengths = [
        float(getattr(spec.unit_params, "feed_concentration_a_mol_m3", 0.0))
        for spec in built.project.units.values()
        if built.flowsheet is not None and spec.in_service and spec.model is None
    ]
    for i, var in enumerate(model.disturbances):
        head, _, tail = var.name.partition(".")
        if built.flowsheet is not None and head in built.project.media and tail.startswith("in_"):
            d[i] = _feed_nominal(built, head, tail, max(strengths, default=0.0), var)
        elif tail == "lhv_j_m3" and head in built.project.media:
            d[i] = float(built.project.media[head].lhv_j_m3 or 0.0)
        elif tail == "demand_fraction":
            d[i] = 1.0
        elif tail == "production_kg_s":
            d[i] = float(getattr(params[head], "production_nominal_kg_s"))  # noqa: B009
        elif tail == "price_per_j" and built.project.tariffs is not None:
            d[i] = float(np.mean(built.project.tou_tariff.period_prices)) / _KWH_J
        else:
            low, high = var.low, var.high
            d[i] = 0.5 * (low + high) if np.isfinite(low + high) else 0.0
    return d


def _feed_nominal(built: BuiltPlant, node: str, tail: str, strength: float, var: Any) -> float:
    """Nominal composition or temperature of purchased process feed ``node``. [SI]."""
    if tail == "in_c_a_mol_m3" and strength > 0.0:
        return strength
    if tail.startswith("in_c_"):
        return 0.0
    temperature = built.project.media[node].temperature_k
    if tail == "in_t_k" and temperature is not None:
        return float(temperature)
    low, high = var.low, var.high
    return 0.5 * (low + high) if np.isfinite(low + high) else 0.0


# ---------------------------------------------------------------- derived parameters


def _identifier(text: str) -> str:
    """Return a name casadi accepts: letters, digits, single underscores, a letter first."""
    words = "".join(c if c.isalnum() and c.isascii() else " " for c in text).split()
    cleaned = "_".join(words)
    return cleaned if cleaned and cleaned[0].isalpha() else f"plant_{cleaned}".rstrip("_")


def _node_value(project: Project, node: str, key: str) -> float:
    value = getattr(project.media[node], key)
    if value is None:  # pragma: no cover - the schema requires it for fuel_gas
        raise ProjectError(f"media.{node}.{key} is required")
    return float(value)


def _derive_gas_producer(project: Project, name: str) -> dict[str, float]:
    (node,) = project.units[name].nodes("gas_out")
    return {"lhv_j_m3": _node_value(project, node, "lhv_j_m3")}


def _derive_boiler(project: Project, name: str) -> dict[str, float]:
    lhvs = [_node_value(project, n, "lhv_j_m3") for n in project.units[name].nodes("fuel")]
    if len(set(lhvs)) < 2:
        return {}  # one fuel quality: lean/rich keep the unit's values
    return {"lhv_lean_j_m3": min(lhvs), "lhv_rich_j_m3": max(lhvs)}


def _derive_flare(project: Project, name: str) -> dict[str, float]:
    (node,) = project.units[name].nodes("gas")
    out = {"co2_kg_m3": _node_value(project, node, "co2_kg_m3")}
    if project.tariffs is not None:
        out["penalty_per_m3"] = float(project.tariffs.flare_penalty_per_m3)
    return out


def _derive_grid(project: Project, name: str) -> dict[str, float]:
    tariffs = project.tariffs
    if tariffs is None or tariffs.electricity is None:
        raise ProjectError(
            f"units.{name}: a grid connection needs [tariffs.electricity], the time-of-use "
            "tariff its purchase price comes from"
        )
    periods = {k: float(v) for k, v in tariffs.electricity.periods.items()}
    prices = sorted(periods.values())
    flat = periods.get("flat", float(np.mean(prices)))
    return {
        "price_valley_per_j": prices[0] / _KWH_J,
        "price_flat_per_j": min(max(flat, prices[0]), prices[-1]) / _KWH_J,
        "price_peak_per_j": prices[-1] / _KWH_J,
        "price_export_per_j": float(tariffs.export_price_per_kwh) / _KWH_J,
        "demand_charge_per_w": float(tariffs.demand_charge_per_kw_month) / 1000.0 / _MONTH_S,
    }


_DERIVERS: Mapping[str, Callable[[Project, str], dict[str, float]]] = {
    "gas_producer": _derive_gas_producer,
    "boiler": _derive_boiler,
    "flare": _derive_flare,
    "grid": _derive_grid,
}


def _derived_params(project: Project, name: str) -> UnitParams:
    spec = project.units[name]
    params = project.unit_params(name)
    owned = DERIVED_PARAMETERS.get(spec.type, ())
    duplicated = [key for key in spec.params if key in owned]
    if duplicated:
        key = duplicated[0]
        raise ProjectError(
            f"{project.source or 'project'}: units.{name}.params.{key}: set by the media node "
            "or [tariffs] (the one authoritative place); remove it from the unit"
        )
    deriver = _DERIVERS.get(spec.type)
    if deriver is None:
        return params
    values = deriver(project, name)
    try:
        return dataclasses.replace(params, **values)
    except ParameterError as exc:
        raise ProjectError(
            f"{project.source or 'project'}: units.{name}: value derived from its nodes or "
            f"[tariffs] is invalid: {exc}"
        ) from None
