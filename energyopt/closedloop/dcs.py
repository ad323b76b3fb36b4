"""The DCS layer under the controller: PI loops emulated every plant step.

A real plant's MPC sits above the DCS: the boiler-master and let-down
pressure controllers hold the steam headers between the MPC's decisions,
and the MPC writes their base loads.  A replay or closed-loop run decides
on the controller's grid (15 min for the economic MPC) and holds the inputs
in between; :class:`DcsLayer` adds the fast loops every fine step (through
:class:`~energyopt.closedloop.policies.EveryStepOverlay`):

* the controller's decision (or the recorded / baseline input) is the
  manipulated variables' *base* (feed-forward);
* each loop adds a PI correction in velocity form,
  ``dc = Kp (e_k - e_{k-1}) + Kp dt / Ti e_k`` with ``e = setpoint -
  measurement`` (reverse acting; its negative for direct acting), shared
  over its actuators by ``split``, each share limited to the actuator's rate
  limit, and the total base + correction clamped to the MV limits (a base
  already outside them is not moved further out); the
  correction is then re-read from the clamped value (external reset), so the
  integral cannot wind up beyond what the MV can do (Astrom and Hagglund,
  Advanced PID Control, ISA 2006, section 3.5, the incremental form);
* when the controller reads the applied (trimmed) inputs at its next
  decision (:meth:`~energyopt.closedloop.policies.ControllerPolicy.observe_applied`),
  its new decision takes the trim over and the correction restarts from
  zero without a bump (the error history is kept); a controller that does
  not read them (the recorded inputs, a rule-based baseline) keeps the
  correction on top of its base.

The loops are hand-written rather than the model's ``pid`` unit
(:mod:`plant_models.units.pid`) because they act on the discrete plant step
outside the model: the MPC's model stays the plant without them.

:func:`build_dcs_loops` resolves ``[controller.dcs.loops]`` on a built plant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import ModelError, ProjectError, UnitConversionError

if TYPE_CHECKING:
    from energyopt.plantbuild import BuiltPlant
    from energyopt.project.controller import DcsLoopSettings

__all__ = ["DcsLayer", "PiLoop", "build_dcs_layer", "build_dcs_loops"]


@dataclass(frozen=True)
class PiLoop:
    """One PI loop resolved on the plant's vectors.

    Attributes
    ----------
    name : str
        Loop name.
    measurement : int
        Index of the controlled variable in the output vector.
    measurement_name : str
        Its model variable name (the key of a controller's predictions).
    actuators : tuple of int
        Indices of the manipulated inputs in the input vector.
    split : tuple of float
        Share of the correction of each actuator (sums to 1).
    gain : float
        Proportional gain, positive. [MV SI unit / measurement SI unit]
    integral_time_s : float
        Integral time. [s]
    reverse : bool
        True: the MV rises when the measurement is below the setpoint.
    low, high : tuple of float
        MV limits of each actuator. [MV SI unit]
    rate_per_s : tuple of float
        Largest move of each actuator's correction per second (``inf``: none). [MV SI unit/s]
    setpoint : float or numpy.ndarray or None
        Fixed setpoint, or one per fine step (NaN: the loop freezes its
        output), or None for the controller's prediction. [measurement SI unit]
    """

    name: str
    measurement: int
    measurement_name: str
    actuators: tuple[int, ...]
    split: tuple[float, ...]
    gain: float
    integral_time_s: float
    reverse: bool
    low: tuple[float, ...]
    high: tuple[float, ...]
    rate_per_s: tuple[float, ...]
    setpoint: float | npt.NDArray[np.float64] | None

    def __post_init__(self) -> None:
        """Check sizes and ranges."""
        n = len(self.actuators)
        if n == 0 or any(len(v) != n for v in (self.split, self.low, self.high, self.rate_per_s)):
            raise ModelError(f"DCS loop {self.name}: one split, limit and rate per actuator")
        if not (self.gain > 0.0 and math.isfinite(self.gain)):
            raise ModelError(f"DCS loop {self.name}: gain must be positive, got {self.gain}")
        if not (self.integral_time_s > 0.0 and math.isfinite(self.integral_time_s)):
            raise ModelError(
                f"DCS loop {self.name}: integral_time_s must be positive, "
                f"got {self.integral_time_s}"
            )
        if any(not lo <= hi for lo, hi in zip(self.low, self.high, strict=True)):
            raise ModelError(f"DCS loop {self.name}: MV low limit above high limit")


class DcsLayer:
    """The PI loops of the DCS, stepped on the plant's fine grid.

    Parameters
    ----------
    loops : sequence of PiLoop
        The loops (no input driven by two of them).
    step_s : float
        Fine step, the loops' sample time. [s]

    Raises
    ------
    ModelError
        If an input is driven by two loops or the step is not positive.
    """

    def __init__(self, loops: Sequence[PiLoop], step_s: float) -> None:
        if not (step_s > 0.0 and math.isfinite(step_s)):
            raise ModelError(f"DCS: step_s must be positive, got {step_s}")
        seen: dict[int, str] = {}
        for loop in loops:
            for i in loop.actuators:
                if i in seen:
                    raise ModelError(
                        f"DCS loop {loop.name}: input {i} is already driven by loop {seen[i]}"
                    )
                seen[i] = loop.name
        self._loops = tuple(loops)
        self._step_s = float(step_s)
        self._corr = [np.zeros(len(lp.actuators)) for lp in self._loops]
        self._total = np.zeros(len(self._loops))
        self._e_prev = np.full(len(self._loops), np.nan)
        self._held = np.full(len(self._loops), np.nan)

    @property
    def loops(self) -> tuple[PiLoop, ...]:
        """The loops."""
        return self._loops

    def reset(self) -> None:
        """Start a run: no correction, no error history, no held setpoint."""
        for c in self._corr:
            c[:] = 0.0
        self._total[:] = 0.0
        self._e_prev[:] = np.nan
        self._held[:] = np.nan

    def corrections(self) -> tuple[npt.NDArray[np.float64], ...]:
        """Return each loop's correction per actuator now. [MV SI unit]."""
        return tuple(c.copy() for c in self._corr)

    def rebase(self, absorbed: bool, cv_targets: Mapping[str, float] | None = None) -> None:
        """Note a controller decision: a new base and, maybe, new setpoints.

        Parameters
        ----------
        absorbed : bool
            The controller read the applied (trimmed) inputs, so its decision
            takes the corrections over: they restart from zero.
        cv_targets : mapping of str to float, optional
            The controller's predicted controlled variables at the end of its
            interval (model variable name -> value): the setpoints of the
            loops whose setpoint is the controller's. [SI]
        """
        for i, loop in enumerate(self._loops):
            if absorbed:
                self._corr[i][:] = 0.0
                self._total[i] = 0.0
            if loop.setpoint is None and cv_targets:
                value = cv_targets.get(loop.measurement_name)
                if value is not None and math.isfinite(value):
                    self._held[i] = float(value)

    def _setpoint(self, i: int, loop: PiLoop, k: int, measured: float) -> float:
        """The loop's setpoint at step ``k``; NaN where a recorded setpoint is missing."""
        sp = loop.setpoint
        if isinstance(sp, np.ndarray):
            return float(sp[min(k, sp.size - 1)])
        if sp is not None:
            self._held[i] = sp
        if not math.isfinite(self._held[i]):
            # Controller's setpoint not yet known (or the record starts with
            # a gap): hold the measurement where it is.
            self._held[i] = measured
        return float(self._held[i])

    def apply(self, u: npt.NDArray[np.float64], y_meas: npt.NDArray[np.float64], k: int) -> None:
        """Trim the loops' inputs of fine step ``k`` in ``u`` (in place).

        Parameters
        ----------
        u : numpy.ndarray, shape (nu,)
            Input vector with the base values; the loops' actuators are
            overwritten with base + correction. [SI]
        y_meas : numpy.ndarray, shape (ny,)
            Measured outputs at the start of the step. [SI]
        k : int
            Fine-step index (for setpoints per step).
        """
        dt = self._step_s
        for i, loop in enumerate(self._loops):
            idx = np.asarray(loop.actuators, dtype=np.intp)
            base = u[idx].copy()
            corr = self._corr[i]
            measured = float(y_meas[loop.measurement])
            sp = self._setpoint(i, loop, k, measured) if math.isfinite(measured) else math.nan
            if not math.isfinite(sp):
                # A bad measurement or a gap in a recorded setpoint: the DCS
                # freezes the output (manual) and restarts bumplessly after.
                self._e_prev[i] = np.nan
            else:
                error = (sp - measured) if loop.reverse else (measured - sp)
                prev = self._e_prev[i]
                delta_e = error - prev if math.isfinite(prev) else 0.0
                move = loop.gain * (delta_e + dt / loop.integral_time_s * error)
                self._e_prev[i] = error
                self._total[i] += move
            # The correction keeps each MV within its limits but never moves a
            # base that is already outside them (a recorded value) further out.
            rate = np.asarray(loop.rate_per_s) * dt
            lo = np.maximum(np.minimum(loop.low, base) - base, corr - rate)
            hi = np.minimum(np.maximum(loop.high, base) - base, corr + rate)
            corr[:] = _allocate(self._total[i], np.asarray(loop.split), lo, hi)
            # External reset: the loop's total is what its actuators achieved.
            self._total[i] = float(corr.sum())
            u[idx] = base + corr


def _allocate(
    total: float,
    split: npt.NDArray[np.float64],
    lo: npt.NDArray[np.float64],
    hi: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Share ``total`` over actuators by ``split`` within ``[lo, hi]`` each.

    What a saturated actuator cannot take goes to the others in proportion
    to their shares (split-range without a dead zone), so the loop's gain
    does not drop when one actuator reaches a limit.  A few lines of
    water-filling; no library routine does this bounded proportional split.
    """
    lo = np.minimum(lo, hi)
    out = np.clip(total * split / split.sum(), lo, hi)
    for _ in range(split.size):
        left = total - float(out.sum())
        room = (out < hi) if left > 0.0 else (out > lo)
        share = np.where(room, split, 0.0)
        if abs(left) <= 1e-12 * max(abs(total), 1.0) or share.sum() <= 0.0:
            break
        out = np.clip(out + left * share / share.sum(), lo, hi)
    return out


def _gain_si(value: float | str, mv_unit: str, cv_unit: str, key: str) -> float:
    if not isinstance(value, str):
        return float(value)
    from energyopt.data.quantity import parse_quantity

    try:
        return parse_quantity(value, f"({mv_unit})/({cv_unit})")
    except UnitConversionError as exc:
        raise ProjectError(f"{key}: {exc}") from None


def _measurement(built: BuiltPlant, value: str, key: str) -> tuple[int, str]:
    """Output index and name of a loop's measurement (binding or output path)."""
    name = built.project.bindings[value].variable if value in built.project.bindings else value
    outputs = {v.name: i for i, v in enumerate(built.model.outputs)}
    if name not in outputs:
        raise ProjectError(
            f"{key}: '{name}' is not a plant output (a DCS loop measures an output, such as "
            f"{next(iter(outputs), '<unit>.<output>')})"
        )
    return outputs[name], name


def _actuator(built: BuiltPlant, value: str, key: str) -> tuple[int, float, float, float, str]:
    """Input index, limits, rate [SI/s] and unit of a loop's actuator (binding or input path)."""
    project = built.project
    inputs = {v.name: (i, v) for i, v in enumerate(built.model.inputs)}
    binding = project.bindings.get(value)
    name = binding.variable if binding is not None else value
    if name not in inputs:
        raise ProjectError(
            f"{key}: '{name}' is not a plant input (a DCS loop drives an input, such as "
            f"{next(iter(inputs), '<unit>.<input>')})"
        )
    index, var = inputs[name]
    low, high, rate = var.low, var.high, math.inf
    if binding is not None:
        bound = built.bindings[value]
        band = binding.limits or binding.range
        if band is not None:
            low, high = sorted(float(v) for v in bound.to_model(band))
        if binding.rate_limit_per_min is not None:
            rate = abs(binding.rate_limit_per_min / bound.scale) / 60.0
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ProjectError(f"{key}: '{name}' has no finite limits; bind it with limits")
    return index, float(low), float(high), rate, var.unit


def _setpoint(
    built: BuiltPlant,
    spec: DcsLoopSettings,
    cv_name: str,
    cv_unit: str,
    record_tags: Mapping[str, npt.NDArray[np.float64]] | None,
    key: str,
) -> float | npt.NDArray[np.float64] | None:
    value = spec.setpoint
    if value == "controller":
        return None
    if value == "record":
        for bound in built.bindings.entries:
            if bound.name == cv_name and record_tags is not None and bound.tag in record_tags:
                return np.asarray(bound.to_model(record_tags[bound.tag]), dtype=np.float64)
        raise ProjectError(
            f"{key}: 'record' needs the recorded tag of '{cv_name}' (a replay of a record "
            "that has it)"
        )
    if isinstance(value, str):
        from energyopt.data.quantity import parse_quantity

        try:
            return parse_quantity(value, cv_unit)
        except UnitConversionError as exc:
            raise ProjectError(f"{key}: {exc}") from None
    return float(value)


def build_dcs_loops(
    built: BuiltPlant,
    controller: str | None = None,
    *,
    record_tags: Mapping[str, npt.NDArray[np.float64]] | None = None,
) -> tuple[PiLoop, ...]:
    """Resolve the project's ``[controller.dcs.loops]`` on its plant.

    Parameters
    ----------
    built : BuiltPlant
        The project's plant.
    controller : str, optional
        Replay controller (``"mpc"``, ``"baseline"``, ``"recorded"``): only
        the loops that list it; every loop if omitted.
    record_tags : mapping of str to numpy.ndarray, optional
        Recorded tag -> values per fine step in the tag's unit (a replay's
        :attr:`~energyopt.replay.case.ReplayCase.tags`), for ``setpoint = "record"``.

    Returns
    -------
    tuple of PiLoop
        Empty when ``[controller.dcs] enabled = false``.

    Raises
    ------
    ProjectError
        If a measurement is not a plant output, an actuator not a plant input
        (or without finite limits), actuators of one loop differ in unit, a
        quantity has the wrong dimension, or a ``record`` setpoint has no
        recorded tag.
    """
    project = built.project
    dcs = project.controller.dcs
    if not dcs.enabled:
        return ()
    where = project.source or "project"
    loops: list[PiLoop] = []
    for name, spec in dcs.loops.items():
        if controller is not None and controller not in spec.controllers:
            continue
        key = f"{where}: controller.dcs.loops.{name}"
        cv_index, cv_name = _measurement(built, spec.measurement, f"{key}.measurement")
        cv_unit = built.model.outputs[cv_index].unit
        acts = [_actuator(built, a, f"{key}.actuators[{i}]") for i, a in enumerate(spec.actuators)]
        units = {a[4] for a in acts}
        if len(units) > 1:
            raise ProjectError(
                f"{key}.actuators: the actuators of one loop share a unit, got {sorted(units)}"
            )
        split = np.asarray(spec.split or [1.0] * len(acts), dtype=np.float64)
        rates = spec.rate_limit_per_s or [a[3] for a in acts]
        loops.append(
            PiLoop(
                name=name,
                measurement=cv_index,
                measurement_name=cv_name,
                actuators=tuple(a[0] for a in acts),
                split=tuple(float(s) for s in split / split.sum()),
                gain=_gain_si(spec.gain, acts[0][4], cv_unit, f"{key}.gain"),
                integral_time_s=float(spec.integral_time_s),
                reverse=spec.action == "reverse",
                low=tuple(a[1] for a in acts),
                high=tuple(a[2] for a in acts),
                rate_per_s=tuple(float(r) for r in rates),
                setpoint=_setpoint(built, spec, cv_name, cv_unit, record_tags, f"{key}.setpoint"),
            )
        )
    return tuple(loops)


def build_dcs_layer(
    built: BuiltPlant,
    step_s: float,
    controller: str | None = None,
    *,
    record_tags: Mapping[str, npt.NDArray[np.float64]] | None = None,
) -> DcsLayer | None:
    """Return the project's DCS layer, or None when it declares no (active) loop.

    Parameters
    ----------
    built : BuiltPlant
        The project's plant.
    step_s : float
        Fine step of the run. [s]
    controller : str, optional
        Replay controller the loops act under (see :func:`build_dcs_loops`).
    record_tags : mapping of str to numpy.ndarray, optional
        Recorded tags per fine step, for ``setpoint = "record"``. [tag unit]

    Raises
    ------
    ProjectError
        See :func:`build_dcs_loops`.
    """
    loops = build_dcs_loops(built, controller, record_tags=record_tags)
    return DcsLayer(loops, step_s) if loops else None
