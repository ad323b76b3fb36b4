"""Recorded history of the chemical demo plant from a truth simulation under PID control.

The plant is built from the project (:func:`build_chemical_flowsheet`: units
with their flowsheet settings, streams, utility draws and the PID loops with
their declared measurement and actuator), its parameters perturbed to the
*truth* (:data:`TRUTH_FACTORS`: the plant differs from the project's nominal
model, so calibration has something to find), and simulated with the numba
integrator under its PID loops while

- the operator switches between the project's ``[modes]``
  (:func:`mode_setpoints`) every 12-36 h and moves the setpoints a little
  inside each mode every 2-6 h;
- the fresh-feed A concentration and temperature drift (AR(1) noise) and the
  feed is warmer by day; the cooling-water supply temperature follows a daily
  cycle (coolest at 05:00) plus drift; the motors' load wanders.

Signals are clean: sensor noise, gaps, a frozen sensor and a spike are added
by the common demo layer.  The same seed gives the same history.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import ModelError, ProjectError
from energyopt.project import Project

if TYPE_CHECKING:
    from plant_models.core.equations import EquationModel
    from plant_models.flowsheet import ComposedModel

__all__ = [
    "DEMO_START_MS",
    "TRUTH_FACTORS",
    "build_chemical_flowsheet",
    "mode_setpoints",
    "record_history",
]

#: Start of every demo history: 2026-01-05 00:00 (a Monday) in UTC. [ms]
DEMO_START_MS = 1_767_571_200_000
#: Truth parameters over the project's nominal ones: the A -> B pre-exponential
#: factor 3 % lower (catalyst/impurity effect), the jacket heat-transfer
#: coefficient 8 % lower (fouling) and the feed/effluent exchanger UA 10 %
#: lower (fouling).
TRUTH_FACTORS: dict[str, float] = {
    "reactor.k10_1_s": 0.97,
    "reactor.heat_transfer_coefficient_w_m2_k": 0.92,
    "feed_preheater.ua_w_k": 0.90,
}
#: Longest internal integration step [s].  SDIRK2 is L-stable, so a longer step
#: stays stable but damps the 5-10 s valve lags instead of resolving them: at
#: 20 s the cooling-water flow was off by 1.5 % of its span over 30 days, above
#: sensor noise (0.1-0.2 %); at 5 s the error is 0.16 % (benchmarks/bench_models.py).
_MAX_STEP_S = 5.0
_DAY_S = 86400.0
_FLOWSHEETS: dict[str, ComposedModel] = {}
_DEG_C = 273.15


def build_chemical_flowsheet(project: Project) -> ComposedModel:
    """Compose the project's process plant (units, streams, utilities, PID loops) into one model.

    Every in-service unit and media node of the project takes part: process
    units through their stream forms with the ``settings`` of their table,
    ``pid`` units as loops wired as their ``measurement``, ``actuator`` and
    ``setpoint`` keys say, bought feeds with their ``feed`` valve, utility
    nodes with their ``draws``.

    Returns
    -------
    plant_models.flowsheet.ComposedModel

    Raises
    ------
    ProjectError
        If a loop or draw path names no suitable model variable (the message
        gives its key, ``units.tic_102.actuator: ...``) or the flowsheet cannot
        be composed.
    """
    import json

    from plant_models.flowsheet import FlowsheetNode, FlowsheetUnit, LoopSpec, build_flowsheet
    from plant_models.flowsheet.declare import WiringError
    from plant_models.flowsheet.nodes import FeedSettings
    from plant_models.units.pid import PidParams

    key = json.dumps(project.model_dump(mode="json", include={"units", "media"}), sort_keys=True)
    cached = _FLOWSHEETS.get(key)
    if cached is not None:
        return cached
    source = project.source or "project"
    units = []
    loops = []
    for name, spec in project.units.items():
        if not spec.in_service:
            continue
        params = spec.unit_params
        if isinstance(params, PidParams):
            if spec.measurement is None or spec.actuator is None:  # pragma: no cover - schema
                raise ProjectError(f"{source}: units.{name}: a pid unit needs its wiring")
            loops.append(LoopSpec(name, params, spec.measurement, spec.actuator, spec.setpoint))
        else:
            connections = {port: spec.nodes(port) for port in spec.connections}
            units.append(FlowsheetUnit(name, params, connections, spec.flowsheet_settings))
    nodes = []
    for name, node in project.media.items():
        feed = node.feed_settings
        nodes.append(
            FlowsheetNode(name, node.kind, feed if isinstance(feed, FeedSettings) else None)
        )
    draws = {name: tuple(node.draws) for name, node in project.media.items() if node.draws}
    try:
        flowsheet = build_flowsheet("chemical", units, nodes, loops, extra_draws=draws)
    except WiringError as exc:
        table = "media" if exc.owner in project.media else "units"
        raise ProjectError(f"{source}: {table}.{exc.owner}.{exc.key}: {exc.reason}") from exc
    except ValueError as exc:
        raise ProjectError(f"{source}: cannot compose the chemical flowsheet: {exc}") from exc
    # Composed closures are compiled by numba once per object (about 15 s):
    # keep the few last ones so that repeated histories reuse the compiled code.
    if len(_FLOWSHEETS) >= 4:
        del _FLOWSHEETS[next(iter(_FLOWSHEETS))]
    _FLOWSHEETS[key] = flowsheet
    return flowsheet


def _measurement_unit(project: Project, model: EquationModel, loop: str) -> str:
    """SI unit of what loop ``loop`` measures (the unit of its setpoint)."""
    measurement = project.units[loop].measurement or ""
    return model.variables("y")[model.index("y", measurement)].unit


def mode_setpoints(project: Project, flowsheet: ComposedModel) -> dict[str, dict[str, float]]:
    """Return the project's operating modes as loop setpoints in SI units.

    Parameters
    ----------
    project : Project
        The project whose ``[modes]`` are read.
    flowsheet : ComposedModel
        Its flowsheet (:func:`build_chemical_flowsheet`): the unit of each
        loop's measurement comes from the model.

    Returns
    -------
    dict
        Mode name -> loop name -> setpoint in the SI unit of the loop's
        measurement, in the order of the project file. [SI]

    Raises
    ------
    ProjectError
        If a setpoint's unit does not convert to its measurement's unit (the
        message names ``modes.<mode>.setpoints.<loop>``).
    """
    from energyopt.data.quantity import parse_quantity
    from energyopt.errors import UnitConversionError

    source = project.source or "project"
    out: dict[str, dict[str, float]] = {}
    for mode_name, mode in project.modes.items():
        values: dict[str, float] = {}
        for loop, raw in mode.setpoints.items():
            if not isinstance(raw, str):
                values[loop] = float(raw)
                continue
            unit = _measurement_unit(project, flowsheet.model, loop)
            try:
                values[loop] = parse_quantity(raw, unit)
            except UnitConversionError as exc:
                raise ProjectError(
                    f"{source}: modes.{mode_name}.setpoints.{loop}: {exc} (the loop measures "
                    f"{project.units[loop].measurement} in {unit})"
                ) from None
        out[mode_name] = values
    return out


def _ar1(rng: np.random.Generator, n: int, step_s: float, tau_s: float) -> npt.NDArray[np.float64]:
    """Unit-variance AR(1) noise with correlation time ``tau_s``."""
    from scipy.signal import lfilter

    phi = math.exp(-step_s / tau_s)
    white = rng.standard_normal(n) * math.sqrt(1.0 - phi * phi)
    white[0] = rng.standard_normal()
    return np.asarray(lfilter([1.0], [1.0, -phi], white), dtype=np.float64)


#: Operator moves inside a mode, by the SI unit of the loop's measurement:
#: (additive half-range, relative half-range); other units move +-6 %.
_OPERATOR_MOVES: dict[str, tuple[float, float]] = {"K": (1.5, 0.0), "dimensionless": (0.08, 0.0)}


def setpoint_schedule(
    rng: np.random.Generator,
    n: int,
    step_s: float,
    modes: list[dict[str, float]],
    units: dict[str, str],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Draw the operators' loop setpoints: mode changes and moves inside each mode.

    The demo history's rule, shared with the chemical closed loop: a mode
    lasts 12-36 h (the modes in turn, the first drawn), and inside it the
    operator moves every loop's setpoint every 2-6 h by a small step around
    the mode's value.

    Parameters
    ----------
    rng : numpy.random.Generator
        The draws.
    n : int
        Number of samples.
    step_s : float
        Sample spacing. [s]
    modes : list of dict
        Per mode, the nominal setpoint of each loop (by loop name). [SI]
    units : dict
        Loop name -> unit of its measurement (chooses the size of the moves).

    Returns
    -------
    setpoints : numpy.ndarray
        Shape ``(n, len(units))``, one column per loop of ``units``. [SI]
    mode_index : numpy.ndarray
        The mode of each sample, shape ``(n,)``.
    """
    loops = list(units)
    sp = np.empty((n, len(loops)))
    mode_index = np.empty(n, dtype=np.int64)
    k = 0
    m = int(rng.integers(len(modes)))
    while k < n:
        mode = modes[m]
        end = min(n, k + int(rng.uniform(12.0, 36.0) * 3600.0 / step_s))
        j = k
        while j < end:
            # Operator moves inside the mode: small steps every 2-6 h.
            stop = min(end, j + max(int(rng.uniform(2.0, 6.0) * 3600.0 / step_s), 1))
            for col, loop in enumerate(loops):
                add, rel = _OPERATOR_MOVES.get(units[loop], (0.0, 0.06))
                sp[j:stop, col] = mode[loop] * (1.0 + rng.uniform(-rel, rel)) + rng.uniform(
                    -add, add
                )
            mode_index[j:stop] = m
            j = stop
        k = end
        m = (m + 1) % len(modes)
    return sp, mode_index


def _set(
    values: npt.NDArray[np.float64],
    model: EquationModel,
    kind: str,
    name: str,
    series: npt.ArrayLike,
) -> None:
    """Fill column ``name`` of ``values`` (inputs or disturbances) if the model has it."""
    names = [v.name for v in model.variables(kind)]
    if name in names:
        values[:, names.index(name)] = series


def record_history(
    project: Project, *, days: float, step_s: float = 60.0, seed: int = 0
) -> tuple[npt.NDArray[np.int64], dict[str, npt.NDArray[np.float64]]]:
    """Simulate the truth plant and return the clean signal of every bound tag.

    Parameters
    ----------
    project : Project
        The chemical demo project (or one with the same loops).
    days : float
        Length of the history. [d]
    step_s : float
        Sample interval. [s]
    seed : int
        Random seed of the schedule and the disturbances.

    Returns
    -------
    time_ms : numpy.ndarray of int64
        Sample times, milliseconds since 1970-01-01 UTC. [ms]
    values : dict
        Tag -> values in the tag's unit (the binding's ``unit``).

    Raises
    ------
    ProjectError
        If a binding names no variable of the model, the project has no
        ``[modes]`` or its plant cannot be built (:func:`build_chemical_flowsheet`).
    ModelError
        If ``days`` or ``step_s`` is not positive or the simulation fails.
    """
    from energyopt.data.units import convert
    from plant_models.flowsheet.chemical import SIMULATION_OPTIONS, steady_state
    from plant_models.units.pump import PumpParams

    if not (days > 0.0 and step_s > 0.0 and math.isfinite(days * step_s)):
        raise ModelError(f"days and step_s must be positive, got {days:g} and {step_s:g}")
    source = project.source or "project"
    flowsheet = build_chemical_flowsheet(project)
    model = flowsheet.model
    modes = mode_setpoints(project, flowsheet)
    if not modes:
        raise ProjectError(f"{source}: modes: the history needs at least one operating mode")
    loop_units = {
        loop: _measurement_unit(project, model, loop) for loop in project.setpoint_loops()
    }
    n = max(round(days * _DAY_S / step_s), 1)
    rng = np.random.default_rng(seed)
    t_s = np.arange(n) * step_s
    hour = (t_s / 3600.0) % 24.0
    setpoints, _ = setpoint_schedule(rng, n, step_s, list(modes.values()), loop_units)

    u = np.zeros((n, len(model.inputs)))
    for col, loop in enumerate(loop_units):
        _set(u, model, "u", f"{loop}.setpoint", setpoints[:, col])
    _set(u, model, "u", "cw_pump.speed_fraction", 0.9)
    _set(u, model, "u", "cooling_tower.fan_speed_fraction", 0.8)

    d = np.zeros((n, len(model.disturbances)))
    daily = np.cos(2.0 * math.pi * (hour - 15.0) / 24.0)  # +1 at 15:00, -1 at 03:00
    _set(d, model, "d", "fresh_feed.in_c_a_mol_m3", 5100.0 + 60.0 * _ar1(rng, n, step_s, 8 * 3600))
    _set(
        d,
        model,
        "d",
        "fresh_feed.in_t_k",
        _DEG_C + 25.0 + 4.0 * daily + 1.5 * _ar1(rng, n, step_s, 6 * 3600),
    )
    _set(
        d,
        model,
        "d",
        "reactor.t_cooling_water_k",
        _DEG_C
        + 26.0
        + 3.0 * np.cos(2.0 * math.pi * (hour - 17.0) / 24.0)
        + 0.8 * _ar1(rng, n, step_s, 4 * 3600),
    )
    if "cw_pump" in project.units:
        pump = project.unit_params("cw_pump")
        if isinstance(pump, PumpParams):
            _set(d, model, "d", "cw_pump.static_head_m", 5.0)
            _set(
                d,
                model,
                "d",
                "cw_pump.resistance_s2_m5",
                pump.head_rated_m / pump.flow_rated_m3_s**2,
            )
    _set(
        d,
        model,
        "d",
        "plant_motors.demand_fraction",
        np.clip(0.8 + 0.05 * _ar1(rng, n, step_s, 3600.0), 0.5, 1.1),
    )
    _set(d, model, "d", "grid.price_per_j", 0.19 / 3.6e6)

    p = flowsheet.parameter_vector(
        {
            name: flowsheet.parameters[model.index("p", name)] * factor
            for name, factor in TRUTH_FACTORS.items()
            if any(v.name == name for v in model.parameters)
        }
    )
    from plant_models.core.simulate import simulate

    substeps = max(math.ceil(step_s / _MAX_STEP_S), 1)
    try:
        x0 = steady_state(flowsheet, u[0], d[0], p=p, settle_s=4 * 3600.0, dt_s=10.0, tol=1e-6)
        run = simulate(model, x0, u, d, p, step_s, substeps=substeps, **SIMULATION_OPTIONS)
    except ValueError as exc:
        raise ModelError(f"chemical truth simulation failed: {exc}") from exc

    values: dict[str, npt.NDArray[np.float64]] = {}
    for name, binding in project.bindings.items():
        series = None
        unit = ""
        for kind, table in (("y", run.outputs), ("u", u), ("d", d)):
            names = [v.name for v in model.variables(kind)]
            if binding.variable in names:
                i = names.index(binding.variable)
                series = table[:, i]
                unit = model.variables(kind)[i].unit
                break
        if series is None:
            raise ProjectError(
                f"{source}: bindings.{name}.variable: '{binding.variable}' is not a variable "
                "of the chemical flowsheet"
            )
        head, _, var = binding.variable.partition(".")
        if var == "setpoint" and head in loop_units:
            # A loop works in the SI unit of what it measures.
            unit = loop_units[head]
        values[binding.tag] = convert(np.array(series, dtype=np.float64), unit, binding.unit)
    time_ms = DEMO_START_MS + np.rint(t_s * 1000.0).astype(np.int64)
    return time_ms, values
