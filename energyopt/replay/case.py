"""The replay case: a project's plant driven by a historian's record over a period.

:func:`build_case` reads the bound tags a replay needs (read-only, by time
range) and turns them into what the closed-loop harness
(:mod:`energyopt.closedloop`) simulates:

Fine grid
    The plant step is the historian's sampling, but at least
    :data:`MIN_STEP_S` (60 s): a one-second historian would multiply the
    cost sixty-fold for dynamics (holder levels, header pressures) that the
    RK4 sub-steps resolve anyway (at most
    :data:`~energyopt.replay.stepsize.SUBSTEP_S`, and inside RK4's stability
    limit for the plant: :func:`~energyopt.replay.stepsize.replay_substeps`).
    The step is lowered to a divisor of the control interval, and the period
    is cut to whole control intervals.
Disturbances
    Every plant disturbance reconstructed from its bound tags by
    :meth:`energyopt.controlbuild.DisturbancePlan.reconstruct` on the fine
    grid, the electricity price from the tariff; an unbound load of a unit
    with no tag of its own read back from a metered balance of its node
    (the chemical plant's motors from the bus, ``el_bus.demand``:
    :func:`energyopt.replay.readback.read_back_loads`); the rest nominal.
Recorded inputs
    Inputs bound to tags (the operators' setpoints), converted to SI; inputs
    without a tag but seen in a measured output of their unit (a
    compressor's flow in its power) read back by
    :mod:`energyopt.replay.readback`; the rest are set by the baseline.
Initial state
    Read off the recorded outputs at the first step
    (:class:`~energyopt.replay.readback.StateReader`); states that cannot be
    read start mid-envelope (listed in :attr:`ReplayCase.notes`).

Gaps: each tag is cleaned by its binding's data-quality policy
(:func:`energyopt.tagdata.read_clean_tags`); every series the case uses --
driving tags, the operating points of the rebuilt disturbances (a mixed gas's
heating value), the outputs read-backs use -- is then filled over its runs of
unusable samples by :mod:`energyopt.replay.gaps`: a measured signal by a
straight line across a run of at most ``interpolate_max_gap_s`` (default 15
min), else held at its mean over the hour before, never extrapolated; a
recorded setpoint ramped across the run.  The plant disturbances are rebuilt
from the unfilled driving tags and filled the same way afterwards (a lagged
flow's rate is never differenced across the end of a held run).  A run of a
driving tag longer than ``max_gap_s`` (default :data:`MAX_GAP_S`, 3 h) is a
:class:`~energyopt.errors.DataError` naming the tag and the time range.  For
every outage (a held run of a driving tag) :attr:`ReplayCase.resync` gives
the state read off the record after it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import DataError, TagNotFoundError
from energyopt.replay.gaps import (
    HOLD_MEAN_S,
    INTERPOLATE_MAX_GAP_S,
    MAX_GAP_S,
    check_gap,
    describe_runs,
    fill_gaps,
    gap_runs,
    rebuild_disturbances,
)
from energyopt.replay.stepsize import SUBSTEP_S, replay_substeps

if TYPE_CHECKING:
    from energyopt.data.reader import HistorianReader
    from energyopt.plantbuild import BuiltPlant
    from energyopt.progress import CancelToken
    from energyopt.replay.readback import StateReader

__all__ = [
    "INTERPOLATE_MAX_GAP_S",
    "MAX_GAP_S",
    "MIN_STEP_S",
    "SUBSTEP_S",
    "ReplayCase",
    "build_case",
    "replay_step_s",
]

#: Smallest plant step of a replay. [s]
MIN_STEP_S = 60.0


@dataclass(frozen=True, eq=False)
class ReplayCase:
    """A plant driven by a recorded period, on the fine grid.

    Attributes
    ----------
    built : BuiltPlant
        The project's plant.
    parameters : numpy.ndarray
        Plant parameters of the simulated plant. [SI]
    time_ms : numpy.ndarray of int64, shape (N,)
        Start of each fine step. [ms since epoch]
    step_s : float
        Fine step. [s]
    substeps : int
        RK4 sub-steps per fine step.
    x0 : numpy.ndarray, shape (nx,)
        State at the start. [SI]
    disturbances : numpy.ndarray, shape (N, nd)
        Plant disturbances per step. [SI]
    inputs : numpy.ndarray, shape (N, nu)
        Recorded inputs per step, NaN for inputs not recorded. [SI]
    operator_inputs : tuple of int
        Inputs bound to a manipulated tag (the operators' decisions).
    exogenous_inputs : tuple of int
        Other recorded inputs (bound non-manipulated, or read back): they
        follow the record under every controller.
    price_per_j : numpy.ndarray, shape (N,)
        Electricity price per step. [currency/J]
    tags : dict of str to numpy.ndarray
        Recorded tag -> values per step in the tag's unit, NaN where unusable. [tag unit]
    driving_tags : tuple of str
        Tags the simulation is driven by (their gaps were bridged).
    notes : tuple of str
        What was bridged or assumed.
    resync : tuple of (int, numpy.ndarray)
        One ``(row, x)`` per outage (a run of a driving tag held, see
        :mod:`energyopt.replay.gaps`): the first row after it and the state
        read off the record there, NaN for states not readable at that row
        (a plant simulation may restart from it). [SI]
    """

    built: BuiltPlant
    parameters: npt.NDArray[np.float64]
    time_ms: npt.NDArray[np.int64]
    step_s: float
    substeps: int
    x0: npt.NDArray[np.float64]
    disturbances: npt.NDArray[np.float64]
    inputs: npt.NDArray[np.float64]
    operator_inputs: tuple[int, ...]
    exogenous_inputs: tuple[int, ...]
    price_per_j: npt.NDArray[np.float64]
    tags: dict[str, npt.NDArray[np.float64]]
    driving_tags: tuple[str, ...]
    notes: tuple[str, ...]
    resync: tuple[tuple[int, npt.NDArray[np.float64]], ...] = ()

    @property
    def n_steps(self) -> int:
        """Number of fine steps."""
        return int(self.time_ms.size)

    def u0(self, baseline_u: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Inputs in force at the start: recorded where known, else ``baseline_u``. [SI]."""
        u = np.array(baseline_u, dtype=np.float64)
        known = np.isfinite(self.inputs[0])
        u[known] = self.inputs[0, known]
        return u


def replay_step_s(sampling_ms: float | None, interval_s: float) -> float:
    """Fine step of a replay (see the module docstring). [s].

    Parameters
    ----------
    sampling_ms : float or None
        Historian's median sampling. [ms]
    interval_s : float
        Control interval the step must divide. [s]
    """
    wanted = max(MIN_STEP_S, math.ceil((sampling_ms or 0.0) / 1000.0))
    if wanted >= interval_s:
        return float(interval_s)
    count = math.ceil(interval_s / wanted)
    while count > 1 and abs(interval_s / count - round(interval_s / count)) > 1e-9:
        count += 1
        if interval_s / count < 1.0:
            break
    return float(interval_s / count)


def _describe(built: BuiltPlant, tag: str) -> str:
    entry = built.bindings.by_tag(tag)
    return f"tag '{tag}' (bindings.{entry.binding})"


def _check_period(
    reader: HistorianReader, start_ms: int | None, end_ms: int | None, step_ms: int
) -> tuple[int, int]:
    first, last = reader.time_span_ms
    span = f"{reader.format_time(first)} .. {reader.format_time(last)}"
    start = first if start_ms is None else int(start_ms)
    end = last + step_ms if end_ms is None else int(end_ms)
    if start < first or end > last + step_ms or start >= last:
        raise DataError(
            f"replay: period {reader.format_time(start)} .. {reader.format_time(end)} is not "
            f"inside '{reader.path}', which covers {span}"
        )
    start = -(-start // step_ms) * step_ms
    if end <= start:
        raise DataError(
            f"replay: the period ends ({reader.format_time(end)}) before it starts "
            f"({reader.format_time(start)})"
        )
    return start, end


def build_case(
    built: BuiltPlant,
    reader: HistorianReader,
    *,
    interval_s: float,
    start_ms: int | None = None,
    end_ms: int | None = None,
    parameters: npt.ArrayLike | None = None,
    max_gap_s: float = MAX_GAP_S,
    interpolate_max_gap_s: float = INTERPOLATE_MAX_GAP_S,
    cancel: CancelToken | None = None,
) -> ReplayCase:
    """Read a recorded period and build the replay case (see the module docstring).

    Parameters
    ----------
    built : BuiltPlant
        The project's plant.
    reader : HistorianReader
        The open historian file (read-only).
    interval_s : float
        Control interval of the replay; the fine step divides it and the
        period is whole intervals. [s]
    start_ms, end_ms : int, optional
        Period ``[start, end)``; default the whole file. [ms since epoch]
    parameters : array_like, optional
        Parameters of the simulated plant; default the project's (calibrated
        in a fitted project). [SI]
    max_gap_s : float
        Longest run of unusable samples of a driving tag that is filled. [s]
    interpolate_max_gap_s : float
        Longest run bridged by a straight line; longer runs are held at the
        last usable value (:func:`energyopt.replay.gaps.fill_gaps`). [s]
    cancel : CancelToken, optional
        Checked between reads.

    Returns
    -------
    ReplayCase

    Raises
    ------
    TagNotFoundError
        If a tag the replay is driven by is not in the file (message names
        the binding).
    DataError
        If the period is not inside the file, is shorter than one control
        interval, or a driving tag has a gap longer than ``max_gap_s``.
    """
    from energyopt.controlbuild import plan_disturbances
    from energyopt.controlbuild.record import forecast_bindings
    from energyopt.replay.readback import StateReader, find_readback, read_back_loads
    from energyopt.tagdata import read_clean_tags

    model = built.model
    project = built.project
    p = built.parameters() if parameters is None else np.asarray(parameters, dtype=np.float64)
    if p.shape != (model.sizes["p"],) or not np.all(np.isfinite(p)):
        raise DataError(f"replay: parameters must be {model.sizes['p']} finite values")
    step_s = replay_step_s(reader.sampling_ms, interval_s)
    step_ms = round(step_s * 1000.0)
    start, end = _check_period(reader, start_ms, end_ms, step_ms)
    per = round(interval_s / step_s)
    n = ((end - start) // step_ms) // per * per
    if n < per:
        raise DataError(
            f"replay: the period {reader.format_time(start)} .. {reader.format_time(end)} is "
            f"shorter than one control interval ({interval_s:g} s)"
        )
    end = start + n * step_ms
    entries = built.bindings.entries
    output_names = {v.name for v in model.outputs}
    bound_inputs = {e.index for e in entries if e.vector == "u"}
    measured = {e.name for e in entries if e.vector in ("y", "x") and e.name in output_names}
    unbound_inputs = [i for i in range(model.sizes["u"]) if i not in bound_inputs]
    plan = plan_disturbances(built, (), p)
    # Inputs are read back from measurements only: a disturbance tag (a user's
    # gas flow) is already spent on its demand and cannot tell its curtailment.
    sources = {built.bindings[b].name for b in plan.sources if b is not None}
    sensed = {
        e.name
        for e in entries
        if e.name in measured and e.role in ("measurement", "controlled") and e.name not in sources
    }
    readbacks = [
        rb
        for i in unbound_inputs
        if (rb := find_readback(built, "u", i, sensed, exclude_inputs=unbound_inputs)) is not None
    ]
    reader_out = StateReader(built, p, measured | _state_outputs(built), strict=False)
    driving = {s for s in plan.sources if s is not None}
    driving |= {e.binding for e in entries if e.vector == "u"}
    readback_outputs = {rb.output for rb in readbacks}
    driving |= {e.binding for e in entries if e.name in readback_outputs and e.vector in "yx"}
    state_bindings = set(forecast_bindings(built)) | {
        e.binding for e in entries if e.name in reader_out.outputs_used and e.vector in "yx"
    }
    missing = sorted(
        e.binding
        for e in entries
        if e.binding in driving | state_bindings and e.tag not in reader.tags
    )
    if missing:
        detail = ", ".join(f"bindings.{b} (tag '{built.bindings[b].tag}')" for b in missing)
        raise TagNotFoundError(
            f"replay: '{reader.path}' lacks the tag(s) the replay is driven by: {detail}"
        )
    tags = [e.tag for e in entries if e.tag in reader.tags]
    if cancel is not None:
        cancel.raise_if_cancelled()
    clean = read_clean_tags(
        project,
        reader,
        tags,
        (start, end),
        step_ms,
        owner="replay",
        describe=lambda tag: _describe(built, tag),
        cancel=cancel,
    )
    time_ms = np.asarray(clean.time_ms[:n], dtype=np.int64)
    if time_ms.size < n or time_ms[0] != start:
        raise DataError(f"replay: '{reader.path}' has no regular data from {start} ms")
    values = {tag: np.asarray(v[:n], dtype=np.float64) for tag, v in clean.values.items()}
    notes = list(clean.notes)
    # Each bound series in SI, as recorded (NaN where unusable) and filled over
    # its gaps (energyopt.replay.gaps); only driving tags are refused for a long gap.
    raw: dict[str, npt.NDArray[np.float64]] = {}
    si: dict[str, npt.NDArray[np.float64]] = {}
    held = np.zeros(n, dtype=bool)
    for e in entries:
        if e.tag not in values:
            continue
        raw[e.binding] = e.to_model(values[e.tag])
        if e.binding in driving:
            check_gap(raw[e.binding], time_ms, step_ms, max_gap_s, _describe(built, e.tag), reader)
        # A recorded input (setpoint) is ramped across the whole gap: held, then
        # stepped at its end, it puts a step on the 3.6e-4 kg/Pa HP header that
        # the boilers' 180-s lag cannot follow (the demo's HP dipped to 6 MPa).
        # A measured signal is held at its recent mean (energyopt.replay.gaps).
        si[e.binding], runs = fill_gaps(
            raw[e.binding],
            step_s,
            interpolate_max_s=max_gap_s if e.vector == "u" else interpolate_max_gap_s,
            hold_mean_s=HOLD_MEAN_S,
        )
        if runs and e.binding in driving:
            notes.append(describe_runs(_describe(built, e.tag), runs))
            for run in runs:
                if run.how == "held" and run.start > 0:
                    held[run.start : run.stop] = True
    # Recorded inputs (operator decisions and other bound inputs).
    u_low, u_high = model.bounds("u")
    inputs = np.full((n, model.sizes["u"]), np.nan)
    operator: list[int] = []
    exogenous: list[int] = []
    for e in entries:
        if e.vector == "u":
            # As recorded, not clipped to the model's envelope: the plant did it.
            inputs[:, e.index] = si[e.binding]
            (operator if e.role == "manipulated" else exogenous).append(e.index)
    # Plant disturbances read back from their tags, the price from the tariff.
    u_base = np.where(np.isfinite(inputs[0]), inputs[0], 0.0)
    d = rebuild_disturbances(plan, raw, si, u_base, step_s, interpolate_max_gap_s)
    price = np.asarray(built.electricity_price_per_j(time_ms), dtype=np.float64)
    for j in plan.indices("price"):
        d[:, j] = price
    # Not clipped to the model's envelope (a design range, e.g. a heating value
    # at or above its nominal): the record is what drove the plant.
    # Outputs as recorded (and filled), for the read-backs.
    y_raw = np.full((n, model.sizes["y"]), np.nan)
    y = y_raw.copy()
    y_names = [v.name for v in model.outputs]
    for e in entries:
        if e.name in output_names and e.vector in ("y", "x") and e.binding in si:
            y_raw[:, y_names.index(e.name)] = raw[e.binding]
            y[:, y_names.index(e.name)] = si[e.binding]
    u_work = np.where(np.isfinite(inputs), inputs, 0.0)
    x_rows = reader_out.states(y, u_work, d)
    for rb in readbacks:
        value = rb.invert(y[:, rb.output_index], x_rows, u_work, d, p)
        inputs[:, rb.index] = np.clip(value, u_low[rb.index], u_high[rb.index])
        exogenous.append(rb.index)
        notes.append(f"input {model.inputs[rb.index].name} read back from {rb.output}")
    u_work = np.where(np.isfinite(inputs), inputs, 0.0)
    loads = (plan.indices("nominal"), sensed, readback_outputs)
    read_back_loads(built, *loads, y, x_rows, u_work, d, p, notes)
    x_fill = _process_steady_state(built, u_work[0], d[0], p)
    x0 = _initial_state(reader_out, y_raw, u_work, d, time_ms, max_gap_s, notes, x_fill)
    resync = _resync_states(reader_out, held, y_raw, u_work, d, time_ms, reader, notes)
    return ReplayCase(
        built=built,
        parameters=p,
        time_ms=time_ms,
        step_s=step_s,
        substeps=replay_substeps(model, step_s, x_rows, u_work, d, p, x0),
        x0=x0,
        disturbances=np.ascontiguousarray(d),
        inputs=inputs,
        operator_inputs=tuple(sorted(operator)),
        exogenous_inputs=tuple(sorted(exogenous)),
        price_per_j=price,
        tags=values,
        driving_tags=tuple(sorted(built.bindings[b].tag for b in driving)),
        notes=tuple(notes),
        resync=resync,
    )


def _resync_states(
    reader_out: StateReader,
    held: npt.NDArray[np.bool_],
    y: npt.NDArray[np.float64],
    u: npt.NDArray[np.float64],
    d: npt.NDArray[np.float64],
    time_ms: npt.NDArray[np.int64],
    reader: HistorianReader,
    notes: list[str],
) -> tuple[tuple[int, npt.NDArray[np.float64]], ...]:
    """The state read off the record at the first row after each outage (a held run)."""
    out = []
    for start, stop in gap_runs(np.where(held, np.nan, 0.0)):
        if stop >= held.size:
            continue
        x = reader_out.states(y[stop : stop + 1], u[stop : stop + 1], d[stop : stop + 1])[0]
        out.append((stop, x))
        notes.append(
            f"outage {reader.format_time(int(time_ms[start]))} .. "
            f"{reader.format_time(int(time_ms[stop]))}: driving tags held at their last "
            f"usable values"
        )
    return tuple(out)


def _initial_state(
    reader_out: StateReader,
    y: npt.NDArray[np.float64],
    u: npt.NDArray[np.float64],
    d: npt.NDArray[np.float64],
    time_ms: npt.NDArray[np.int64],
    max_gap_s: float,
    notes: list[str],
    x_fill: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float64]:
    """State at the first step, read off the recorded outputs.

    An output missing at the first step is taken at its first usable sample
    within ``max_gap_s``; a state still unknown starts at ``x_fill`` (the
    model's steady state at the first inputs, for a process plant) or
    mid-envelope (noted).
    """
    row = y[0].copy()
    late = (time_ms - time_ms[0]) <= max_gap_s * 1000.0
    for k in np.flatnonzero(~np.isfinite(row)):
        finite = np.flatnonzero(np.isfinite(y[:, k]) & late)
        if finite.size:
            row[k] = y[finite[0], k]
    x0 = reader_out.states(row[None, :], u[:1], d[:1])[0]
    names = reader_out.state_names
    where = "at the model's steady state" if x_fill is not None else "mid-envelope"
    notes.extend(
        f"state {names[i]} starts {where} (no usable measurement at the start)"
        for i in np.flatnonzero(~np.isfinite(x0))
    )
    notes.extend(f"state {n} starts {where} (not measured)" for n in reader_out.unread)
    low, high = reader_out.bounds
    fill = reader_out.x_ref if x_fill is None else x_fill
    if x_fill is not None:
        unread = [names.index(n) for n in reader_out.unread]
        x0[unread] = np.nan
    return np.clip(np.where(np.isfinite(x0), x0, fill), low, high)


def _process_steady_state(
    built: BuiltPlant,
    u: npt.NDArray[np.float64],
    d: npt.NDArray[np.float64],
    p: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64] | None:
    """Steady state of a process flowsheet at the first inputs, ``None`` for other plants.

    A flowsheet's unmeasured states (PID integrals, drum compositions, valve
    lags) have no sensible mid-envelope value: a loop integral at mid-range
    kicks its valve at the start.  The plant at hand-over is taken as settled
    at the recorded inputs and disturbances
    (:func:`plant_models.flowsheet.chemical.steady_state`); the measured
    states then overwrite their entries.  Returns ``None`` (mid-envelope
    fill) if no steady state is found there.
    """
    if built.flowsheet is None:
        return None
    from plant_models.flowsheet.chemical import steady_state

    try:
        return steady_state(built.flowsheet, u, d, p=p, settle_s=4 * 3600.0, tol=1e-6)
    except (ValueError, ArithmeticError):
        return None


def _state_outputs(built: BuiltPlant) -> set[str]:
    """Outputs named like a state bound to a tag in vector ``x``."""
    outputs = {v.name for v in built.model.outputs}
    return {e.name for e in built.bindings.entries if e.vector == "x" and e.name in outputs}
