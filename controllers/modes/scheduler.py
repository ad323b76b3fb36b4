"""Bumpless switching of controller tuning and model parameters between modes.

Each mode has its own set of named float vectors (MPC weights, move
penalties, model parameter vectors, ...).  When the confirmed mode changes,
:class:`ModeScheduler` moves every vector from the values in force at that
moment to the new mode's values over a ramp, so the controller never sees a
step:

- ``"linear"``: ``v = v_start + p (v_target - v_start)`` with
  ``p = min(1, elapsed / ramp_s)``; the largest change per interval is
  ``|v_target - v_start| * interval_s / ramp_s`` and the target is reached
  exactly after ``ceil(ramp_s / interval_s)`` intervals.
- ``"first_order"``: ``v <- v + (1 - exp(-interval_s / ramp_s)) (v_target - v)``
  (``ramp_s`` is the time constant); the largest change is the first one,
  ``|v_target - v_start| (1 - exp(-interval_s / ramp_s))``, and the remainder
  decays by ``exp(-elapsed / ramp_s)``.

A new switch during a ramp starts a new ramp from the values in force, so
there is never a step.  ``"transition"`` (no mode confirmed) keeps the
current target.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from controllers.errors import ModeError
from controllers.modes.classifier import ModeState
from controllers.modes.model import TRANSITION

__all__ = ["ModeScheduler", "ScheduleState", "SchedulerSettings"]

_SETTLED_TIME_CONSTANTS = 5.0  # a first-order ramp counts as settled after 5 tau (0.7 % left)


@dataclass(frozen=True)
class SchedulerSettings:
    """How values move between modes.

    Parameters
    ----------
    interval_s : float
        Interval between calls of :meth:`ModeScheduler.step`. [s]
    ramp_s : float
        Ramp duration (``"linear"``) or time constant (``"first_order"``);
        0 switches at once (a step: only for tests and offline studies). [s]
    shape : {"linear", "first_order"}
        Shape of the ramp.
    """

    interval_s: float
    ramp_s: float = 600.0
    shape: Literal["linear", "first_order"] = "linear"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.interval_s) and self.interval_s > 0.0):
            raise ModeError(f"interval_s must be positive and finite; got {self.interval_s}")
        if not (math.isfinite(self.ramp_s) and self.ramp_s >= 0.0):
            raise ModeError(f"ramp_s must be non-negative and finite; got {self.ramp_s}")
        if self.shape not in ("linear", "first_order"):
            raise ModeError(f"shape must be 'linear' or 'first_order'; got {self.shape!r}")


@dataclass(frozen=True)
class ScheduleState:
    """Values in force for one interval.

    Parameters
    ----------
    values : mapping of str to numpy.ndarray
        Current value of every named vector (read-only arrays). [their units]
    mode : str
        Mode whose values are the target.
    progress : float
        Fraction of the current ramp done, 0 to 1. [-]
    ramping : bool
        True while the values are still moving towards the target (a
        first-order ramp counts as settled after five time constants).
    """

    values: Mapping[str, np.ndarray]
    mode: str
    progress: float
    ramping: bool


class ModeScheduler:
    """Hold each mode's tuning and parameter vectors and ramp between them.

    Parameters
    ----------
    values : mapping of str to mapping of str to array_like
        ``values[mode][name]``: the vector ``name`` in mode ``mode``.  Every
        mode must give the same names with the same shapes, all finite.
        [their units]
    settings : SchedulerSettings
        Interval and ramp.
    initial_mode : str
        Mode whose values are in force at start.

    Raises
    ------
    ModeError
        If modes give different names or shapes, a value is not finite, or
        ``initial_mode`` is unknown.
    """

    def __init__(
        self,
        values: Mapping[str, Mapping[str, npt.ArrayLike]],
        settings: SchedulerSettings,
        initial_mode: str,
    ) -> None:
        if not values:
            raise ModeError("the scheduler needs the values of at least one mode")
        self._settings = settings
        self._table: dict[str, dict[str, np.ndarray]] = {}
        reference: dict[str, tuple[int, ...]] | None = None
        for mode, vectors in values.items():
            if mode == TRANSITION:
                raise ModeError(f"{TRANSITION!r} is reserved and cannot have values")
            table = {}
            for name, vec in vectors.items():
                arr = np.array(vec, dtype=np.float64)
                if not np.isfinite(arr).all():
                    raise ModeError(f"values[{mode!r}][{name!r}] must be finite")
                arr.flags.writeable = False
                table[name] = arr
            shapes = {name: arr.shape for name, arr in table.items()}
            if reference is None:
                reference = shapes
            elif shapes != reference:
                raise ModeError(
                    f"mode {mode!r} gives {shapes}; every mode must give the same names "
                    f"and shapes as {reference}"
                )
            self._table[str(mode)] = table
        self._target = ""
        self._start: dict[str, np.ndarray] = {}
        self._current: dict[str, np.ndarray] = {}
        self._steps: int | None = None
        factor = _SETTLED_TIME_CONSTANTS if settings.shape == "first_order" else 1.0
        self._settle_s = settings.ramp_s * factor
        self.reset(initial_mode)

    @property
    def modes(self) -> tuple[str, ...]:
        """Modes the scheduler knows."""
        return tuple(self._table)

    @property
    def settings(self) -> SchedulerSettings:
        """Interval and ramp."""
        return self._settings

    def values_of(self, mode: str) -> Mapping[str, np.ndarray]:
        """Return the (read-only) target values of ``mode``."""
        return dict(self._table[self._known(mode)])

    def reset(self, mode: str) -> None:
        """Put ``mode``'s values in force at once (start-up only: this is a step)."""
        self._target = self._known(mode)
        self._current = {k: v.copy() for k, v in self._table[self._target].items()}
        self._start = {k: v.copy() for k, v in self._current.items()}
        self._steps = None

    def step(self, mode: str | ModeState) -> ScheduleState:
        """Advance one interval towards ``mode``'s values and return those in force.

        Parameters
        ----------
        mode : str or ModeState
            Confirmed mode (a :class:`ModeState` gives its ``mode``);
            ``"transition"`` keeps the current target.

        Returns
        -------
        ScheduleState
            Values for this interval.

        Raises
        ------
        ModeError
            If the mode is unknown to the scheduler.
        """
        name = mode.mode if isinstance(mode, ModeState) else str(mode)
        if name != TRANSITION and self._known(name) != self._target:
            self._target = name
            self._start = {k: v.copy() for k, v in self._current.items()}
            self._steps = 0
        cfg = self._settings
        target = self._table[self._target]
        progress = 1.0
        if self._steps is not None:
            self._steps += 1
            elapsed_s = self._steps * cfg.interval_s
            if cfg.ramp_s == 0.0:
                fraction = 1.0
            elif cfg.shape == "linear":
                fraction = min(1.0, elapsed_s / cfg.ramp_s)
            else:
                fraction = -math.expm1(-elapsed_s / cfg.ramp_s)
            if fraction >= 1.0:
                self._current = {k: v.copy() for k, v in target.items()}
                self._steps = None
            else:
                # Start-to-target form (not a recursive update): no accumulated rounding.
                self._current = {
                    k: self._start[k] + fraction * (target[k] - self._start[k]) for k in target
                }
            progress = fraction
        ramping = self._steps is not None and self._steps * cfg.interval_s < self._settle_s
        values = {}
        for k, v in self._current.items():
            out = v.copy()
            out.flags.writeable = False
            values[k] = out
        return ScheduleState(values=values, mode=self._target, progress=progress, ramping=ramping)

    def _known(self, mode: str) -> str:
        if mode not in self._table:
            raise ModeError(f"no scheduled values for mode {mode!r}; modes are {self.modes}")
        return mode
