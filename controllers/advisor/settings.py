"""Advisor settings: operating mode, manipulated variables with their limits, policies."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from controllers.errors import AdvisorError

__all__ = ["AdvisorMode", "AdvisorSettings", "ManipulatedVariable"]


class AdvisorMode(enum.Enum):
    """What the advisor does each interval (as the modes of commercial APC)."""

    OFF = "off"
    """Nothing: the controller is not called and no setpoint is recommended."""
    PREDICT = "predict"
    """The controller runs and its predictions are shown; no setpoint is recommended."""
    ADVISE = "advise"
    """Predictions and checked setpoint recommendations."""


@dataclass(frozen=True)
class ManipulatedVariable:
    """One manipulated variable (a setpoint the advisor may recommend).

    Parameters
    ----------
    name : str
        Name shown to the operator and used in constraint names
        (``"<name>.lower"``, ``"<name>.upper"``, ``"<name>.rate"``).
    lower, upper : float
        Limits of the setpoint, finite, ``lower <= upper``. [SI]
    rate_per_interval : float
        Largest move per control interval, positive; ``inf`` for none. [SI]
    """

    name: str
    lower: float
    upper: float
    rate_per_interval: float = math.inf

    def __post_init__(self) -> None:
        if not self.name:
            raise AdvisorError("a manipulated variable needs a non-empty name")
        if not (math.isfinite(self.lower) and math.isfinite(self.upper)):
            raise AdvisorError(f"MV {self.name!r}: limits must be finite")
        if self.lower > self.upper:
            raise AdvisorError(
                f"MV {self.name!r}: lower limit {self.lower} above upper limit {self.upper}"
            )
        if math.isnan(self.rate_per_interval) or self.rate_per_interval <= 0.0:
            raise AdvisorError(f"MV {self.name!r}: rate limit must be > 0 (inf for none)")


@dataclass(frozen=True)
class AdvisorSettings:
    """Settings of an :class:`~controllers.advisor.advisor.Advisor`.

    Parameters
    ----------
    mvs : tuple of ManipulatedVariable
        The manipulated variables, in the controller's plan column order.
    measurement_names : tuple of str
        Names of the measurement vector's entries, in order.
    interval_s : float
        Control interval (one plan row). [s]
    time_budget_s : float
        Wall-clock time a solve may take; a later result is discarded. [s]
    mode : AdvisorMode
        Mode the advisor starts in.
    critical_measurements : tuple of str or None
        Measurements without which the controller is not called (the advisor
        falls back); ``None`` means all of them.
    frozen_samples : int
        A measurement whose last ``frozen_samples`` values (the current one
        and the most recent history rows) stay within ``frozen_tolerance`` is
        frozen (a stuck sensor) and invalid; 0 disables the check, else >= 2.
    frozen_tolerance : float
        Spread below which those values count as identical, >= 0. [SI]
    max_stale_samples : int
        A NaN measurement is replaced by its last finite value if that is at
        most this many history rows old (a short gap); older is invalid.
        Also the number of calls an unknown MV value is bridged by the last
        known one. >= 0.
    max_plan_age_intervals : int
        The previous plan may be used as a fallback for at most this many
        intervals after it was computed, >= 1.
    plan_tolerance : float
        Relative tolerance (of each MV's span, or 1 if the span is zero) by
        which a controller plan may exceed the limits and still be accepted
        (solver tolerances); beyond, the plan is rejected as faulty.
    diagnose_infeasibility : bool
        Whether to ask a :class:`DiagnosingController` which constraints
        conflict when it reports an infeasible problem.
    baseline_held : tuple of str or None
        MVs the expected saving's baseline holds at their current values:
        the setpoints the operators move (bound to a tag).  The other MVs
        (balancing loops) are re-optimised in the baseline; see
        :mod:`controllers.advisor.baseline`.  ``None`` (default): no
        baseline solve, the saving is the controller's own
        ``objective_hold`` (every MV held over the horizon).
    baseline_hold_intervals : tuple of int
        Hold windows of the baseline in intervals, each >= 1, tried in order
        until one gives a baseline that keeps every hard limit (a window at
        least as long as the horizon holds over the whole horizon); empty
        (default): the whole horizon only.
    baseline_trim : float
        Share of each held MV's span (``upper - lower``) it may still move by,
        either way, during the hold: the trim of the plant's automatic loops
        around an operator's setpoint (a steam header's pressure controller
        moving a turbine's extraction).  >= 0; 0 (default) holds exactly.
    """

    mvs: tuple[ManipulatedVariable, ...]
    measurement_names: tuple[str, ...]
    interval_s: float
    time_budget_s: float
    mode: AdvisorMode = AdvisorMode.ADVISE
    critical_measurements: tuple[str, ...] | None = None
    frozen_samples: int = 0
    frozen_tolerance: float = 0.0
    max_stale_samples: int = 3
    max_plan_age_intervals: int = 4
    plan_tolerance: float = 1e-6
    diagnose_infeasibility: bool = True
    baseline_held: tuple[str, ...] | None = None
    baseline_hold_intervals: tuple[int, ...] = ()
    baseline_trim: float = 0.0

    def __post_init__(self) -> None:
        if not self.mvs:
            raise AdvisorError("the advisor needs at least one manipulated variable")
        names = [mv.name for mv in self.mvs]
        if len(set(names)) != len(names):
            raise AdvisorError(f"MV names must be unique, got {names}")
        if len(set(self.measurement_names)) != len(self.measurement_names):
            raise AdvisorError("measurement names must be unique")
        if not (math.isfinite(self.interval_s) and self.interval_s > 0.0):
            raise AdvisorError("interval_s must be finite and > 0")
        if not (math.isfinite(self.time_budget_s) and self.time_budget_s > 0.0):
            raise AdvisorError("time_budget_s must be finite and > 0")
        if self.critical_measurements is not None:
            unknown = set(self.critical_measurements) - set(self.measurement_names)
            if unknown:
                raise AdvisorError(f"critical measurements not measured: {sorted(unknown)}")
        if self.frozen_samples == 1 or self.frozen_samples < 0:
            raise AdvisorError("frozen_samples must be 0 (off) or >= 2")
        if not (self.frozen_tolerance >= 0.0 and self.max_stale_samples >= 0):
            raise AdvisorError("frozen_tolerance and max_stale_samples must be >= 0")
        if self.max_plan_age_intervals < 1:
            raise AdvisorError("max_plan_age_intervals must be >= 1")
        if not (self.plan_tolerance >= 0.0):
            raise AdvisorError("plan_tolerance must be >= 0")
        if self.baseline_held is not None:
            strangers = sorted(set(self.baseline_held) - set(names))
            if strangers:
                raise AdvisorError(f"baseline_held names unknown MVs: {strangers}")
        if any(not isinstance(k, int) or isinstance(k, bool) or k < 1
               for k in self.baseline_hold_intervals):  # fmt: skip
            raise AdvisorError(
                f"baseline_hold_intervals must be integers >= 1, got {self.baseline_hold_intervals}"
            )
        if not (math.isfinite(self.baseline_trim) and self.baseline_trim >= 0.0):
            raise AdvisorError(f"baseline_trim must be finite and >= 0, got {self.baseline_trim}")

    @property
    def mv_names(self) -> tuple[str, ...]:
        """Names of the manipulated variables, in order."""
        return tuple(mv.name for mv in self.mvs)

    @property
    def critical_mask(self) -> tuple[bool, ...]:
        """Per measurement: whether it is critical."""
        if self.critical_measurements is None:
            return tuple(True for _ in self.measurement_names)
        critical = set(self.critical_measurements)
        return tuple(name in critical for name in self.measurement_names)
