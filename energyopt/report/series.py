"""Time series the report plots: key variables with their bands, holder levels, cost.

Values are read from the runs' result files only for the tags a chart needs,
in each binding's engineering unit; decimation for drawing happens in
:mod:`energyopt.report.charts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import EnergyoptError
from energyopt.report.flows import MODEL_PREFIX

if TYPE_CHECKING:
    from energyopt.plantbuild import BuiltPlant
    from energyopt.project import Project, TagBinding
    from energyopt.report.inputs import RunFile

__all__ = ["MAX_TRENDS", "BoundSeries", "bound_series", "cumulative_cost", "holder_bindings"]

#: Most key-variable charts in a report (controlled variables first). [-]
MAX_TRENDS = 12


@dataclass(frozen=True)
class BoundSeries:
    """One bound tag over every run that has it.

    Attributes
    ----------
    name : str
        Binding name.
    binding : TagBinding
        The binding (tag, unit, bands).
    runs : dict of str to (time_ms, values)
        Run name -> times [ms since epoch] and values [binding unit].
    """

    name: str
    binding: TagBinding
    runs: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]


def holder_bindings(project: Project) -> list[str]:
    """Return the bindings of gas-holder levels (level tags of in-service gas holders).

    Parameters
    ----------
    project : Project
        The source project.
    """
    holders = {
        name
        for name, spec in project.units.items()
        if spec.in_service and spec.type == "gas_holder"
    }
    return [
        name
        for name, binding in project.bindings.items()
        if binding.kind == "level" and binding.variable.split(".")[0] in holders
    ]


def key_bindings(project: Project) -> list[str]:
    """Return the bindings with bands worth a trend: controlled CVs, then MVs with limits.

    Controlled variables come by priority (1 first), then manipulated
    variables; gas-holder levels are left out (they have their own section).

    Parameters
    ----------
    project : Project
        The source project.
    """
    holders = set(holder_bindings(project))
    controlled = [
        (b.priority_rank, name)
        for name, b in project.bindings.items()
        if b.role == "controlled" and (b.normal or b.hard) and name not in holders
    ]
    manipulated = [
        name for name, b in project.bindings.items() if b.role == "manipulated" and b.limits
    ]
    return [name for _, name in sorted(controlled)] + manipulated


def bound_series(
    project: Project, runs: tuple[RunFile, ...], names: list[str]
) -> list[BoundSeries]:
    """Read bound tags from each run's result file, in the bindings' units.

    Parameters
    ----------
    project : Project
        The source project (bindings).
    runs : tuple of RunFile
        Result files.
    names : list of str
        Binding names.

    Returns
    -------
    list of BoundSeries
        One per binding found in at least one run, in the order of ``names``.

    Raises
    ------
    DataError
        If a file cannot be read or a unit not converted.
    """
    from energyopt.data import HistorianReader
    from energyopt.data.units import convert

    found: dict[str, dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]] = {
        name: {} for name in names
    }
    for run in runs:
        with HistorianReader(run.path) as reader:
            present = {
                n: project.bindings[n] for n in names if project.bindings[n].tag in reader.tags
            }
            if not present:
                continue
            data = reader.read([b.tag for b in present.values()])
        for name, binding in present.items():
            values = convert(data.values[binding.tag], data.units[binding.tag], binding.unit)
            found[name][run.run] = (data.time_ms, np.asarray(values, dtype=np.float64))
    return [BoundSeries(n, project.bindings[n], found[n]) for n in names if found[n]]


def _cost_rates(built: BuiltPlant) -> tuple[str | None, list[tuple[str, float]]]:
    """The electricity variable and the priced flows of the project's tariffs.

    The economic MPC's own cost terms (:func:`energyopt.controlbuild.economic.cost_terms`):
    purchases of ``[tariffs.prices]`` (a utility's demand, a bought process
    feed's flow) and the credit of ``[tariffs.sales]`` (negative), without
    the flare and CO2 penalties.
    """
    from energyopt.controlbuild.economic import cost_terms, electricity_variable

    project = built.project
    terms = [(t.variable, float(t.price)) for t in cost_terms(project, built, penalties=False)]
    return electricity_variable(project, built), terms


def cumulative_cost(
    built: BuiltPlant, run: RunFile
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Return the cumulative net cost of a run over its period.

    Cost rate = purchased electric power x electricity price (the recorded
    ``<grid>.price_per_j`` disturbance, else the project's time-of-use tariff)
    + each priced flow x its price (a utility's ``<node>.demand``, a bought
    process feed's ``<node>.supply``) - each sold product's flow x its price
    (:func:`energyopt.controlbuild.economic.cost_terms`).  Each sample is the
    mean over its step (the KPI convention), so a step's cost is rate x step;
    the last step repeats the one before.  Missing samples add nothing.

    Parameters
    ----------
    built : BuiltPlant
        The plant of the run's project.
    run : RunFile
        The result file (model variables as ``model.<name>`` in SI).

    Returns
    -------
    time_ms : numpy.ndarray
        End of each step. [ms since epoch]
    cost : numpy.ndarray
        Net cost from the start of the period to that time (negative when sales
        outweigh purchases). [currency]

    Raises
    ------
    EnergyoptError
        If the project has no tariff to price with or the file lacks a variable.
    """
    from energyopt.data import HistorianReader
    from energyopt.errors import DataError

    electricity, terms = _cost_rates(built)
    needed = [v for v, _ in terms]
    price_tag = None
    if electricity is not None:
        needed.append(electricity)
        price_tag = f"{electricity.split('.')[0]}.price_per_j"
    with HistorianReader(run.path) as reader:
        missing = [v for v in needed if MODEL_PREFIX + v not in reader.tags]
        if missing:
            raise DataError(f"{run.path}: no model variable {', '.join(missing)} to price")
        if price_tag is not None and MODEL_PREFIX + price_tag not in reader.tags:
            price_tag = None
        tags = [MODEL_PREFIX + v for v in needed + ([price_tag] if price_tag else [])]
        data = reader.read(tags, si=True)
    t = data.time_ms
    if t.size < 2:
        raise DataError(f"{run.path}: needs at least two samples for a cost over time")
    rate = np.zeros(t.size)
    for variable, price in terms:
        rate += np.nan_to_num(data.values[MODEL_PREFIX + variable] * price)
    if electricity is not None:
        if price_tag is not None:
            price_per_j = data.values[MODEL_PREFIX + price_tag]
        else:
            price_per_j = built.electricity_price_per_j(t)
        rate += np.nan_to_num(data.values[MODEL_PREFIX + electricity] * price_per_j)
    step_s = np.diff(t) / 1000.0
    step_s = np.append(step_s, step_s[-1])
    return t + (step_s * 1000.0).astype(np.int64), np.cumsum(rate * step_s)


def cost_series(
    built: BuiltPlant, runs: tuple[RunFile, ...]
) -> tuple[dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]], str]:
    """Return each run's cumulative cost, or why it cannot be computed.

    Parameters
    ----------
    built : BuiltPlant
        The plant of the runs' project.
    runs : tuple of RunFile
        Result files.

    Returns
    -------
    series : dict of str to (time_ms, cost)
        Run name -> :func:`cumulative_cost`.
    problem : str
        ``""``, or the reason no cost could be computed.
    """
    series = {}
    try:
        for run in runs:
            series[run.run] = cumulative_cost(built, run)
    except EnergyoptError as exc:
        return {}, str(exc)
    return series, ""
