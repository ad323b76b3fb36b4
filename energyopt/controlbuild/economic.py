"""Project file -> :class:`~controllers.economic.EconomicMPCSettings`.

The engineer configures the plant in the project file, in each tag's
engineering unit; the economic MPC takes frozen dataclasses in SI.  This
module is the one mapping between them:

================================ ================================================
settings field                   from
================================ ================================================
``mvs``                          ``role = "manipulated"`` bindings on a plant
                                 input: ``limits`` (else ``range``, else the
                                 model envelope), ``rate_limit_per_min`` times the
                                 interval; plus ``[controller.economic]
                                 manipulated`` (inputs without a tag, at their
                                 envelope); ``move_weight`` / ``move_weights``
``soft_bands``                   ``normal`` of controlled bindings;
                                 ``[controller.band_weights] <binding>``, else
                                 ``band_weight / priority_ratio**(priority - 1)``,
                                 per tag unit and interval, converted to SI
``hard_limits``                  ``hard`` of controlled bindings, plus
                                 ``[controller.economic.hard_limits]``
``cost_terms``                   ``[tariffs.prices.<node>]`` on ``<node>.demand``
                                 (``<node>.supply`` of a bought process feed,
                                 per tonne by its density); ``[tariffs.sales]``
                                 credited the same way (:func:`cost_terms`);
                                 ``flare_penalty_per_m3`` on every flare's flow;
                                 ``co2_price_per_t`` on every ``<unit>.co2_kg_s``
``electricity_variable``         ``<grid>.power_purchased_w`` of the grid unit
``balances``                     ``<node>.net_supply`` of fuel-gas nodes with
                                 neither a gas holder nor a purchase price
                                 (or ``[controller.economic] balances``)
``interval_s``, ``horizon``...   ``[controller.economic]`` (interval and horizon
                                 default to ``[controller]``'s)
================================ ================================================

Every conversion goes through the shared pint registry
(:mod:`energyopt.data.units`), never a hand-coded factor.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from energyopt.errors import ProjectError, UnitConversionError

if TYPE_CHECKING:
    from controllers.economic import (
        CostTerm,
        EconomicMPCSettings,
        HardLimit,
        ManipulatedVariable,
        SoftBand,
    )
    from energyopt.plantbuild import BoundVariable, BuiltPlant
    from energyopt.project import Project

__all__ = ["cost_terms", "economic_settings", "electricity_variable", "node_density_kg_m3"]

#: Price basis of ``[tariffs.prices]`` -> the unit the price is per.
_BASIS_UNIT: dict[str, str] = {
    "price_per_m3": "m^3",
    "price_per_t": "t",
    "price_per_kwh": "kWh",
}


def _where(project: Project) -> str:
    return project.source or "project"


def _per_si(price: float, per_unit: str, variable_unit: str, key: str) -> float:
    """Price per ``per_unit`` -> per (``variable_unit`` x s), by pint. [currency / (SI s)]."""
    from energyopt.data.units import convert

    try:
        amount = float(convert(1.0, f"({variable_unit})*s", per_unit))
    except UnitConversionError as exc:
        raise ProjectError(f"{key}: cannot price a variable in {variable_unit}: {exc}") from None
    return price * amount


def _delta_to_model(bound: BoundVariable, value: float) -> float:
    """A difference in the tag's unit (a rate, a weight's denominator) -> model SI. [SI]."""
    return value / bound.scale


def _mvs(project: Project, built: BuiltPlant, interval_s: float) -> list[ManipulatedVariable]:
    from controllers.economic import ManipulatedVariable

    eco = project.controller.economic
    where = _where(project)
    model = built.model
    inputs = {v.name: v for v in model.inputs}
    for name in eco.move_weights:
        binding = project.bindings.get(name)
        if binding is None or binding.role != "manipulated":
            raise ProjectError(
                f"{where}: controller.economic.move_weights.{name}: not a manipulated binding"
            )
    out: list[ManipulatedVariable] = []
    for name, binding in project.bindings.items():
        if binding.role != "manipulated":
            continue
        bound = built.bindings[name]
        if bound.vector != "u":
            raise ProjectError(
                f"{where}: bindings.{name}.variable: '{binding.variable}' is not a plant input "
                f"(it is in vector {bound.vector}); a manipulated binding must name an input "
                f"such as {next(iter(inputs), '<unit>.<input>')}"
            )
        var = inputs[bound.name]
        band = binding.limits or binding.range
        if band is not None:
            ends = sorted(float(v) for v in bound.to_model(band))
            low, high = ends[0], ends[1]
        else:
            low, high = var.low, var.high
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ProjectError(
                f"{where}: bindings.{name}.limits: required (the model gives {var.name} no "
                "finite envelope)"
            )
        rate = (
            math.inf
            if binding.rate_limit_per_min is None
            else _delta_to_model(bound, binding.rate_limit_per_min) * interval_s / 60.0
        )
        weight = eco.move_weights.get(name, eco.move_weight)
        out.append(ManipulatedVariable(bound.name, low, high, rate, weight))
    taken = {mv.name for mv in out}
    for i, name in enumerate(eco.manipulated):
        key = f"{where}: controller.economic.manipulated[{i}]"
        if name not in inputs:
            raise ProjectError(f"{key}: '{name}' is not a plant input")
        if name in taken:
            raise ProjectError(f"{key}: '{name}' is already a manipulated binding")
        var = inputs[name]
        if not (math.isfinite(var.low) and math.isfinite(var.high)):
            raise ProjectError(f"{key}: '{name}' has no finite envelope; bind it with limits")
        out.append(ManipulatedVariable(name, var.low, var.high, math.inf, eco.move_weight))
        taken.add(name)
    if not out:
        raise ProjectError(f"{where}: bindings: the economic MPC needs a manipulated binding")
    return out


def _bands_and_limits(
    project: Project, built: BuiltPlant
) -> tuple[list[SoftBand], list[HardLimit]]:
    from controllers.economic import HardLimit, SoftBand

    ctl = project.controller
    where = _where(project)
    bands: list[SoftBand] = []
    limits: list[HardLimit] = []
    for name, binding in project.bindings.items():
        if binding.role != "controlled":
            continue
        bound = built.bindings[name]
        if bound.vector not in ("y", "x"):
            raise ProjectError(
                f"{where}: bindings.{name}.variable: '{binding.variable}' is a plant "
                f"{'input' if bound.vector == 'u' else 'disturbance'}, not an output or state"
            )
        if binding.normal is not None:
            low, high = sorted(float(v) for v in bound.to_model(binding.normal))
            # band_weight is per tag unit and interval: per SI unit it is
            # band_weight * (tag units per SI unit) = band_weight * scale.
            weight = ctl.band_weights.get(
                name, ctl.band_weight / ctl.priority_ratio ** (binding.priority_rank - 1)
            )
            bands.append(SoftBand(bound.name, low, high, weight * abs(bound.scale)))
        if binding.hard is not None:
            low, high = sorted(float(v) for v in bound.to_model(binding.hard))
            limits.append(HardLimit(bound.name, low, high))
    known = {v.name: v.unit for kind in ("y", "x") for v in built.model.variables(kind)}
    for variable, limit in ctl.economic.hard_limits.items():
        key = f"{where}: controller.economic.hard_limits.{variable}"
        if variable not in known:
            raise ProjectError(f"{key}: the plant has no output or state '{variable}'")
        ends = [
            _quantity(value, known[variable], f"{key}.{side}")
            for side, value in (("low", limit.low), ("high", limit.high))
        ]
        low = -math.inf if ends[0] is None else ends[0]
        high = math.inf if ends[1] is None else ends[1]
        if not low <= high:
            raise ProjectError(f"{key}: low {low:g} is above high {high:g} [{known[variable]}]")
        limits.append(HardLimit(variable, low, high))
    return bands, limits


def _quantity(value: float | str | None, unit: str, key: str) -> float | None:
    """A number in SI or a quantity string, in the model variable's ``unit``. [SI]."""
    if value is None:
        return None
    if isinstance(value, str):
        from energyopt.data.quantity import parse_quantity

        try:
            return parse_quantity(value, unit)
        except UnitConversionError as exc:
            raise ProjectError(f"{key}: {exc}") from None
    return float(value)


#: Unit parameters giving the density of the stream on a unit's ports.
_DENSITY_PARAMETERS = ("density_kg_m3", "density_water_kg_m3")


def node_density_kg_m3(project: Project, built: BuiltPlant, node: str) -> float:
    """Density of the medium at a node, to price a flow by volume or by mass. [kg/m3].

    The ``density_kg_m3`` (``density_water_kg_m3``) parameter of the units
    connected to ``node`` (a cooling tower's make-up water, a heat exchanger's
    process stream).  A process stream without one there takes the one value
    every unit on the process streams declares: the flowsheet models a
    constant-density liquid (the flash's product has the reactor's density).

    Parameters
    ----------
    project : Project
        The validated project.
    built : BuiltPlant
        Its plant (nominal parameters).
    node : str
        A media node.

    Raises
    ------
    ProjectError
        If no unit declares a density, or the units disagree.
    """
    names = (v.name for v in built.model.variables("p"))
    values = dict(zip(names, built.parameters(), strict=True))

    def densities(nodes: set[str]) -> set[float]:
        return {
            float(values[f"{name}.{param}"])
            for name, spec in project.units.items()
            if spec.in_service
            and any(n in nodes for port in spec.connections for n in spec.nodes(port))
            for param in _DENSITY_PARAMETERS
            if f"{name}.{param}" in values
        }

    found = densities({node})
    if not found and project.media[node].kind == "process":
        found = densities({n for n, m in project.media.items() if m.kind == "process"})
    if len(found) != 1:
        got = "none" if not found else ", ".join(f"{v:g}" for v in sorted(found))
        raise ProjectError(
            f"{_where(project)}: media.{node}: its price needs one density of the medium from "
            f"its units' density_kg_m3 (found {got}) [kg/m3]"
        )
    return found.pop()


def _priced_variable(project: Project, node: str, key: str, units: dict[str, str]) -> str:
    """The variable a node's price applies to.

    A utility node is priced on what the units draw from it (``<node>.demand``);
    a process stream on its flow (``<node>.supply``: the purchased feed
    entering through its valve, or the product leaving the plant).
    """
    if project.media[node].kind == "process":
        variable = f"{node}.supply"
        if variable not in units:
            raise ProjectError(f"{key}: the plant has no flow of stream {node} to price")
        return variable
    variable = f"{node}.demand"
    if variable not in units:
        raise ProjectError(f"{key}: the plant has no demand of node {node} to price")
    return variable


def _node_price(
    project: Project, built: BuiltPlant, node: str, table: str, units: dict[str, str]
) -> tuple[str, float]:
    """A ``[tariffs.<table>.<node>]`` price on its variable. [currency / (SI s)]."""
    from energyopt.data.units import convert

    tariffs = project.tariffs
    if tariffs is None:  # pragma: no cover - callers check
        raise ProjectError(f"{_where(project)}: no [tariffs]")
    price = getattr(tariffs, table)[node]
    key = f"{_where(project)}: tariffs.{table}.{node}.{price.basis}"
    if table == "sales" and project.media[node].kind != "process":
        # What the units draw from a utility node is used on site, not delivered.
        raise ProjectError(
            f"{key}: the plant has no delivery of {node} to credit; sales are credited "
            "on process streams (a product's flow)"
        )
    variable = _priced_variable(project, node, key, units)
    if price.basis == "price_per_gj":
        lhv = project.media[node].lhv_j_m3
        if lhv is None:
            raise ProjectError(f"{key}: priced per GJ, so media.{node}.lhv_j_m3 is needed")
        value, per = price.price * float(convert(lhv, "J", "GJ")), "m^3"
    else:
        value, per = price.price, _BASIS_UNIT[price.basis]
    flow = f"({units[variable]})*s"
    if not _is_kind(flow, per) and {_is_kind(flow, "kg"), _is_kind(per, "kg")} == {True, False}:
        # A mass price on a volume flow, or the reverse: through the medium's density.
        density = node_density_kg_m3(project, built, node)
        if _is_kind(per, "kg"):
            value, per = value * density * float(convert(1.0, "kg", per)), "m^3"
        else:
            value, per = value / (density * float(convert(1.0, per, "m^3"))), "kg"
    return variable, _per_si(value, per, units[variable], key)


def _is_kind(unit: str, reference: str) -> bool:
    """Whether ``unit`` has the dimension of ``reference``."""
    from energyopt.data.units import convert

    try:
        convert(1.0, unit, reference)
    except UnitConversionError:
        return False
    return True


def cost_terms(project: Project, built: BuiltPlant, *, penalties: bool = True) -> list[CostTerm]:
    """Return the priced flows of a project's ``[tariffs]`` (electricity apart).

    ``[tariffs.prices.<node>]`` on ``<node>.demand`` (a utility) or
    ``<node>.supply`` (a purchased process feed), by the medium's density
    where a volume price meets a mass flow or the reverse
    (:func:`node_density_kg_m3`); ``[tariffs.sales.<node>]`` on a process
    stream's ``<node>.supply`` with a negative price (a credit, labelled
    ``"<node> sales"``); with ``penalties``, also
    ``flare_penalty_per_m3`` on every flare's flow and ``co2_price_per_t`` on
    every ``<unit>.co2_kg_s``.  The economic MPC minimises the sum of these;
    the report's cost over time adds the same terms
    (:func:`energyopt.report.series.cumulative_cost`).

    Parameters
    ----------
    project : Project
        The validated project.
    built : BuiltPlant
        Its plant.
    penalties : bool
        Include the flare and CO2 penalties.

    Returns
    -------
    list of CostTerm
        Prices per SI unit of the variable and second. [currency / (SI s)]

    Raises
    ------
    ProjectError
        Naming the price that has no variable or cannot be converted.
    """
    from controllers.economic import CostTerm

    tariffs = project.tariffs
    if tariffs is None:
        return []
    where = _where(project)
    units = {v.name: v.unit for kind in ("y", "x") for v in built.model.variables(kind)}
    terms: list[CostTerm] = []
    for node in tariffs.prices:
        variable, value = _node_price(project, built, node, "prices", units)
        terms.append(CostTerm(variable, value, node))
    for node in tariffs.sales:
        variable, value = _node_price(project, built, node, "sales", units)
        terms.append(CostTerm(variable, -value, f"{node} sales"))
    if not penalties:
        return terms
    flares = [
        name
        for name, spec in project.units.items()
        if spec.in_service and spec.type == "flare" and f"{name}.flow_m3_s" in units
    ]
    if tariffs.flare_penalty_per_m3 > 0.0:
        for name in flares:
            variable = f"{name}.flow_m3_s"
            value = _per_si(tariffs.flare_penalty_per_m3, "m^3", units[variable], where)
            terms.append(CostTerm(variable, value, f"{name} flare"))
    if tariffs.co2_price_per_t > 0.0:
        for variable in (v for v in units if v.endswith(".co2_kg_s")):
            value = _per_si(tariffs.co2_price_per_t, "t", units[variable], where)
            terms.append(CostTerm(variable, value, "CO2"))
    return terms


def electricity_variable(project: Project, built: BuiltPlant) -> str | None:
    """Return ``<grid>.power_purchased_w`` of the project's grid unit, if the model has it.

    Raises
    ------
    ProjectError
        If more than one grid unit is in service.
    """
    grids = [
        name for name, spec in project.units.items() if spec.in_service and spec.type == "grid"
    ]
    if len(grids) > 1:
        raise ProjectError(
            f"{_where(project)}: units: the economic MPC prices one grid connection, found "
            f"{', '.join(grids)}"
        )
    if not grids:
        return None
    variable = f"{grids[0]}.power_purchased_w"
    return variable if any(v.name == variable for v in built.model.outputs) else None


def _balances(project: Project, built: BuiltPlant) -> list[str]:
    eco = project.controller.economic
    outputs = {v.name for v in built.model.outputs}
    if eco.balances is not None:
        for i, name in enumerate(eco.balances):
            if name not in outputs:
                raise ProjectError(
                    f"{_where(project)}: controller.economic.balances[{i}]: the plant has no "
                    f"output '{name}'"
                )
        return list(eco.balances)
    stored = {
        node
        for spec in project.units.values()
        if spec.in_service and spec.type == "gas_holder"
        for node in spec.nodes("gas")
    }
    bought = set(project.tariffs.prices) if project.tariffs is not None else set()
    return [
        f"{name}.net_supply"
        for name, node in project.media.items()
        if node.kind == "fuel_gas"
        and name not in stored
        and name not in bought
        and f"{name}.net_supply" in outputs
    ]


def _grid(project: Project) -> tuple[int, ...]:
    """NLP interval lengths from ``fine_horizon_s`` and ``coarse_interval_s`` (``()``: uniform)."""
    from controllers.economic.grid import coarse_grid

    ctl = project.controller
    eco = ctl.economic
    if eco.fine_horizon_s is None or eco.coarse_interval_s is None:
        return ()
    interval_s = ctl.economic_interval_s
    grid = coarse_grid(
        ctl.economic_horizon_steps,
        round(eco.fine_horizon_s / interval_s),
        round(eco.coarse_interval_s / interval_s),
    )
    return () if all(m == 1 for m in grid) else grid


def economic_settings(project: Project, built: BuiltPlant) -> EconomicMPCSettings:
    """Return the economic MPC settings a project declares (see the module docstring).

    Parameters
    ----------
    project : Project
        The validated project (its bindings, ``[tariffs]``, ``[controller]``).
    built : BuiltPlant
        Its plant (:func:`energyopt.plantbuild.build_plant`).

    Returns
    -------
    EconomicMPCSettings
        In SI, on the plant's variable names.

    Raises
    ------
    ProjectError
        Naming the key that cannot be mapped: a manipulated binding that is not
        a plant input, a controlled binding on an input, an unknown variable in
        ``[controller.economic]``, a price that cannot be converted.
    """
    from controllers.economic import EconomicMPCSettings
    from controllers.errors import EconomicMPCError

    ctl = project.controller
    eco = ctl.economic
    interval_s = ctl.economic_interval_s
    bands, limits = _bands_and_limits(project, built)
    try:
        return EconomicMPCSettings(
            mvs=tuple(_mvs(project, built, interval_s)),
            interval_s=interval_s,
            horizon=ctl.economic_horizon_steps,
            electricity_variable=electricity_variable(project, built),
            cost_terms=tuple(cost_terms(project, built)),
            soft_bands=tuple(bands),
            hard_limits=tuple(limits),
            balances=tuple(_balances(project, built)),
            discretisation=eco.discretisation,
            collocation_degree=eco.collocation_degree,
            max_iter=eco.max_iter,
            max_wall_time_s=ctl.max_solve_time_s or interval_s / 2.0,
            tolerance=eco.tolerance,
            hard_limit_weight=eco.hard_limit_weight,
            grid=_grid(project),
        )
    except EconomicMPCError as exc:
        raise ProjectError(f"{_where(project)}: controller.economic: {exc}") from None
