"""Protective holder-level overrides of the DCS layer: low-level cut-back and high-level flare.

Under any supervisory controller (the rule-based dispatch, an MPC) a works'
DCS protects each gas holder by itself, every few seconds, whatever the
supervisor wrote:

* **low-level cut-back**: below a start level the setpoints of the holder's
  gas consumers that may be cut (the boilers' firing of that gas; never the
  process users) are scaled down in proportion to the level's distance to
  the hard low limit, to zero at ``low_stop`` (a little above the limit): the
  boiler's other fuels and the steam-header loops take over; process users
  that may shed part of their demand (``curtail_fraction`` inputs, up to
  their curtailable share) are shed in the same proportion, as the
  rule-based dispatch sheds them below the normal band;
* **high-level override**: above a start level the holder's flare is opened
  in proportion to the level's distance to the hard high limit, fully at it
  (the flare command is raised, never lowered); a holder without a flare
  (converter gas) has its boiler firing raised the same way towards the
  consumers' largest flows.

:class:`HolderProtection` applies these every plant step after the DCS PI
loops (:class:`~energyopt.closedloop.dcs.DcsLayer`), to every controller
alike, and counts the steps in which it changed an input -- the minutes the
override acted are reported apart from the controller's own
(:meth:`HolderProtection.acted_minutes`), so the protection does not hide what
the controller does.  It is stateless (a proportional clamp on the
supervisor's setpoints): the setpoints come back as the level recovers.

:func:`holder_protection` builds it from the project's
``[controller.dcs.protection]`` (the holders and the three margins), with
the hard limits of each holder's level binding and the plant's gas users
(:func:`protection_guards`); :func:`steelworks_protection` builds the demo
steelworks' with the margins as arguments (the closed-loop benchmark).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import ModelError, ProjectError

if TYPE_CHECKING:
    from energyopt.plantbuild import BuiltPlant

__all__ = [
    "HolderGuard",
    "HolderProtection",
    "holder_protection",
    "protection_guards",
    "steelworks_protection",
]

#: A change of an input smaller than this (relative to its scale) is not counted
#: as an override action. [-]
_ACT_TOL = 1e-9


@dataclass(frozen=True)
class HolderGuard:
    """The protection of one holder, resolved on the plant's vectors.

    Attributes
    ----------
    holder : str
        Holder unit.
    level : int
        Index of its level fraction in the output vector.
    consumers : tuple of int
        Inputs cut back at low level (the boilers' firing of the gas).
    shed : tuple of int
        Curtailment commands (share shed, 0-1) of the gas users raised at low level.
    low_start, low_stop : float
        Cut-back starts below ``low_start`` and is complete at ``low_stop``
        (``None``: no low-level protection). [fraction]
    flare : int or None
        Input of the holder's flare command, if any.
    flare_capacity : float
        Flare command when fully open. [m3/s]
    consumer_max : tuple of float
        Largest flow of each consumer, for the high-level raise of a holder
        without a flare (empty: no raise). [m3/s]
    high_start, high_full : float
        The flare opens (or the consumers are raised) from ``high_start`` to
        fully at ``high_full`` (``None``: no high-level protection). [fraction]
    """

    holder: str
    level: int
    consumers: tuple[int, ...] = ()
    shed: tuple[int, ...] = ()
    low_start: float | None = None
    low_stop: float | None = None
    flare: int | None = None
    flare_capacity: float = 0.0
    consumer_max: tuple[float, ...] = ()
    high_start: float | None = None
    high_full: float | None = None

    def __post_init__(self) -> None:
        """Check that each side's levels are ordered."""
        if (self.low_start is None) != (self.low_stop is None):
            raise ModelError(f"holder protection {self.holder}: give low_start and low_stop")
        if self.low_start is not None and not self.low_stop < self.low_start:  # type: ignore[operator]
            raise ModelError(
                f"holder protection {self.holder}: low_stop {self.low_stop:g} must be below "
                f"low_start {self.low_start:g}"
            )
        if (self.high_start is None) != (self.high_full is None):
            raise ModelError(f"holder protection {self.holder}: give high_start and high_full")
        if self.high_start is not None:
            if not self.high_start < self.high_full:  # type: ignore[operator]
                raise ModelError(
                    f"holder protection {self.holder}: high_start {self.high_start:g} must be "
                    f"below high_full {self.high_full:g}"
                )
            has_flare = self.flare is not None and (
                math.isfinite(self.flare_capacity) and self.flare_capacity > 0.0
            )
            raises = bool(self.consumer_max) and len(self.consumer_max) == len(self.consumers)
            if not (has_flare or raises):
                raise ModelError(
                    f"holder protection {self.holder}: high-level protection needs a flare "
                    "input with a positive capacity or one largest flow per consumer"
                )


class HolderProtection:
    """Holder-level overrides applied every plant step, with a count of their actions.

    Parameters
    ----------
    guards : sequence of HolderGuard
        One per protected holder.
    step_s : float
        Plant step. [s]

    Raises
    ------
    ModelError
        If the step is not positive.
    """

    def __init__(self, guards: tuple[HolderGuard, ...], step_s: float) -> None:
        if not (math.isfinite(step_s) and step_s > 0.0):
            raise ModelError(f"holder protection: step_s must be positive, got {step_s}")
        self._guards = tuple(guards)
        self._step_s = float(step_s)
        self._low_steps = np.zeros(len(self._guards), dtype=np.int64)
        self._high_steps = np.zeros(len(self._guards), dtype=np.int64)

    @property
    def guards(self) -> tuple[HolderGuard, ...]:
        """The protected holders."""
        return self._guards

    def reset(self) -> None:
        """Start a run: forget the action counts."""
        self._low_steps[:] = 0
        self._high_steps[:] = 0

    def apply(self, u: npt.NDArray[np.float64], y_meas: npt.NDArray[np.float64]) -> None:
        """Override the inputs of this plant step in ``u`` (in place).

        Parameters
        ----------
        u : numpy.ndarray, shape (nu,)
            Inputs after the controller and the DCS loops. [SI]
        y_meas : numpy.ndarray, shape (ny,)
            Measured outputs at the start of the step. [SI]
        """
        for i, g in enumerate(self._guards):
            level = float(y_meas[g.level])
            if not math.isfinite(level):
                continue  # a bad level reading: the interlock holds off (no trip on NaN)
            if g.low_start is not None and g.low_stop is not None:
                factor = min(max((level - g.low_stop) / (g.low_start - g.low_stop), 0.0), 1.0)
                if factor < 1.0:
                    idx = np.asarray(g.consumers + g.shed, dtype=np.intp)
                    before = u[idx].copy()
                    n = len(g.consumers)
                    u[idx[:n]] = np.maximum(before[:n], 0.0) * factor + np.minimum(before[:n], 0.0)
                    u[idx[n:]] = np.maximum(before[n:], 1.0 - factor)
                    if np.any(np.abs(u[idx] - before) > _ACT_TOL * np.maximum(np.abs(before), 1.0)):
                        self._low_steps[i] += 1
            if g.high_start is None or g.high_full is None:
                continue
            share = min(max((level - g.high_start) / (g.high_full - g.high_start), 0.0), 1.0)
            if share <= 0.0:
                continue
            if g.flare is not None:
                command = share * g.flare_capacity
                if command > u[g.flare] + _ACT_TOL * g.flare_capacity:
                    u[g.flare] = command
                    self._high_steps[i] += 1
            elif g.consumer_max:
                idx = np.asarray(g.consumers, dtype=np.intp)
                floor = share * np.asarray(g.consumer_max)
                if np.any(floor > u[idx] + _ACT_TOL * np.maximum(floor, 1.0)):
                    u[idx] = np.maximum(u[idx], floor)
                    self._high_steps[i] += 1

    def acted_minutes(self) -> dict[str, float]:
        """Minutes in which each override changed an input since :meth:`reset`.

        Returns
        -------
        dict
            ``<holder>_cutback_min`` and ``<holder>_high_override_min``. [min]
        """
        out = {}
        for i, g in enumerate(self._guards):
            out[f"{g.holder}_cutback_min"] = float(self._low_steps[i]) * self._step_s / 60.0
            out[f"{g.holder}_high_override_min"] = float(self._high_steps[i]) * self._step_s / 60.0
        return out


def _largest(built: BuiltPlant, name: str) -> float:
    """Largest value of input ``name``: its binding's limits, else the model's bound. [SI]."""
    high = float(built.model.inputs[[v.name for v in built.model.inputs].index(name)].high)
    for key, binding in built.project.bindings.items():
        band = binding.limits or binding.range
        if binding.variable == name and band is not None:
            high = min(high, max(float(v) for v in built.bindings[key].to_model(band)))
    return high


def steelworks_protection(
    built: BuiltPlant,
    step_s: float,
    *,
    low_start_above_hard: float = 0.10,
    low_stop_above_hard: float = 0.01,
    high_start_below_hard: float = 0.03,
    holders: tuple[str, ...] = ("bfg_holder", "cog_holder", "ldg_holder"),
) -> HolderProtection:
    """The holder protection of the demo steelworks (every holder with a hard limit).

    The defaults are the margins the demo project declares in its
    ``[controller.dcs.protection]`` (:func:`holder_protection` builds the
    same guards from there); :func:`protection_guards` resolves them.

    Parameters
    ----------
    built : BuiltPlant
        The plant.
    step_s : float
        Plant step. [s]
    low_start_above_hard : float
        Cut-back starts this far above the hard low limit. [fraction]
    low_stop_above_hard : float
        Cut-back is complete this far above the hard low limit. [fraction]
    high_start_below_hard : float
        The high-level override starts this far below the hard high limit;
        it is complete at the limit. [fraction]
    holders : tuple of str
        Holder units to protect.

    Returns
    -------
    HolderProtection

    Raises
    ------
    ModelError
        If a holder has no level binding with hard limits.
    """
    guards = protection_guards(
        built,
        holders,
        low_start_above_hard=low_start_above_hard,
        low_stop_above_hard=low_stop_above_hard,
        high_start_below_hard=high_start_below_hard,
    )
    return HolderProtection(guards, step_s)


def holder_protection(built: BuiltPlant, step_s: float) -> HolderProtection | None:
    """The project's holder protection, ``[controller.dcs.protection]``.

    Parameters
    ----------
    built : BuiltPlant
        The project's plant.
    step_s : float
        Plant step. [s]

    Returns
    -------
    HolderProtection or None
        None when the section lists no holder or ``[controller.dcs] enabled``
        is false (the controller alone).

    Raises
    ------
    ProjectError
        If a listed holder does not resolve on the plant (its guard's levels
        out of order, say).
    """
    dcs = built.project.controller.dcs
    settings = dcs.protection
    if not dcs.enabled or not settings.holders:
        return None
    try:
        guards = protection_guards(
            built,
            tuple(settings.holders),
            low_start_above_hard=settings.low_start_above_hard,
            low_stop_above_hard=settings.low_stop_above_hard,
            high_start_below_hard=settings.high_start_below_hard,
        )
    except ModelError as exc:
        raise ProjectError(
            f"{built.project.source or 'project'}: controller.dcs.protection: {exc}"
        ) from None
    return HolderProtection(guards, step_s)


def protection_guards(
    built: BuiltPlant,
    holders: tuple[str, ...],
    *,
    low_start_above_hard: float,
    low_stop_above_hard: float,
    high_start_below_hard: float,
) -> tuple[HolderGuard, ...]:
    """Resolve the protection of each holder on the plant's vectors.

    The low-level cut-back acts on every boiler's firing of the holder's gas
    (``<boiler>.fuel_<i>_m3_s`` inputs connected to the gas node) and sheds
    the node's curtailable users (``<user>.curtail_fraction``, where the
    user's ``curtailable_fraction`` is positive); the high-level override on
    the holder's flare (``<gas>_flare``), if any, else on the boilers' firing
    (raised towards their largest flows).  Levels are the hard limits of the
    holder's level binding, converted to the model's fraction by the binding.

    Parameters
    ----------
    built : BuiltPlant
        The plant.
    holders : tuple of str
        Holder units to protect.
    low_start_above_hard : float
        Cut-back starts this far above the hard low limit. [fraction]
    low_stop_above_hard : float
        Cut-back is complete this far above the hard low limit. [fraction]
    high_start_below_hard : float
        The high-level override starts this far below the hard high limit;
        it is complete at the limit. [fraction]

    Returns
    -------
    tuple of HolderGuard
        One per holder, in order.

    Raises
    ------
    ModelError
        If a holder has no level binding with hard limits, or its levels are
        out of order.
    """
    project = built.project
    outputs = [v.name for v in built.model.outputs]
    inputs = [v.name for v in built.model.inputs]
    guards = []
    for holder in holders:
        variable = f"{holder}.level_fraction"
        bound = [(k, b.hard) for k, b in project.bindings.items() if b.variable == variable]
        key, hard = next(((k, h) for k, h in bound if h is not None), ("", None))
        if hard is None or variable not in outputs:
            raise ModelError(f"holder protection: {holder} needs a level binding with hard limits")
        hard_lo, hard_hi = (float(v) for v in built.bindings[key].to_model(hard))
        node = str(project.units[holder].connections["gas"])
        consumers, maxima, shed = _gas_users(built, node, inputs)
        flare_unit = f"{node}_flare"
        flare = (
            inputs.index(f"{flare_unit}.flow_command_m3_s") if flare_unit in project.units else None
        )
        # The flare command's upper bound is the flare's capacity.
        capacity = float(built.model.inputs[flare].high) if flare is not None else 0.0
        guards.append(
            HolderGuard(
                holder=holder,
                level=outputs.index(variable),
                consumers=consumers,
                shed=shed,
                low_start=hard_lo + low_start_above_hard,
                low_stop=hard_lo + low_stop_above_hard,
                flare=flare,
                flare_capacity=capacity,
                consumer_max=() if flare is not None else maxima,
                high_start=hard_hi - high_start_below_hard,
                high_full=hard_hi,
            )
        )
    return tuple(guards)


def _gas_users(
    built: BuiltPlant, node: str, inputs: list[str]
) -> tuple[tuple[int, ...], tuple[float, ...], tuple[int, ...]]:
    """Boiler firing inputs of gas ``node``, their largest flows, and its users' shed commands."""
    consumers: list[int] = []
    maxima: list[float] = []
    shed: list[int] = []
    for unit in built.plant.units:
        command = f"{unit.name}.curtail_fraction"
        share = f"{unit.name}.curtailable_fraction"
        gas_in = unit.connections.get("gas_in", ())
        gas_in = (gas_in,) if isinstance(gas_in, str) else tuple(gas_in)
        if (
            node in gas_in
            and command in inputs
            and float(built.parameters()[built.index("p", share)]) > 0.0
        ):
            shed.append(inputs.index(command))
        fuels = unit.connections.get("fuel", ())
        fuels = (fuels,) if isinstance(fuels, str) else tuple(fuels)
        if node in fuels:
            name = f"{unit.name}.fuel_{fuels.index(node)}_m3_s"
            if name in inputs:
                consumers.append(inputs.index(name))
                maxima.append(_largest(built, name))
    return tuple(consumers), tuple(maxima), tuple(shed)
