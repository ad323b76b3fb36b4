"""PID-only operation of the chemical plant: the operating mode's nominal loop setpoints.

How the plant runs without APC: the operator puts the DCS loops (FIC-101
feed, TIC-102 reactor temperature, TIC-110 preheat, LIC-201 flash level,
FIC-203 flash steam) on the setpoints of the operating mode the production
plan asks for, and the PID loops in the flowsheet model do the regulation.
Nothing reacts to product composition, feed strength or energy use.

:class:`ChemicalPidBaseline` implements the advisor's
:class:`~controllers.advisor.contract.Controller` protocol, so the
closed-loop harness (and the advisor) drive it exactly like the NMPC: its
plan moves each setpoint from its current value to the mode's at the
request's rate limit (a DCS setpoint ramp) within the request's limits.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

import numpy as np

from controllers.advisor.contract import ControlRequest, ControlSolution, SolveStatus
from controllers.baselines.base import BaselineError

__all__ = ["ChemicalPidBaseline"]


class ChemicalPidBaseline:
    """The operating mode's nominal setpoints, behind the controller contract.

    Parameters
    ----------
    mode_setpoints : mapping of str to mapping of str to float
        Mode name -> MV name -> nominal setpoint. [SI]  Every mode gives
        every MV of ``mv_names``.
    mv_names : sequence of str
        MV names (model inputs such as ``"tic_102.setpoint"``) in plan
        column order.
    default_mode : str
        Mode used while a request names no known mode (the last known one is
        kept once one was named).
    horizon : int
        Rows of the returned plan (enough to finish a ramp).

    Raises
    ------
    BaselineError
        If no mode is given, a mode misses an MV or has a non-finite value,
        the default mode is unknown or the horizon is below 1.
    """

    def __init__(
        self,
        mode_setpoints: Mapping[str, Mapping[str, float]],
        mv_names: Sequence[str],
        default_mode: str,
        horizon: int = 30,
    ) -> None:
        names = tuple(mv_names)
        if not mode_setpoints or not names:
            raise BaselineError("the PID-only baseline needs at least one mode and one MV")
        table: dict[str, np.ndarray] = {}
        for mode, values in mode_setpoints.items():
            missing = [n for n in names if n not in values]
            if missing:
                raise BaselineError(f"mode {mode!r} gives no setpoint for {', '.join(missing)}")
            row = np.array([float(values[n]) for n in names])
            if not np.all(np.isfinite(row)):
                raise BaselineError(f"mode {mode!r} has a non-finite setpoint")
            table[mode] = row
        if default_mode not in table:
            raise BaselineError(f"default mode {default_mode!r} is not one of {', '.join(table)}")
        if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
            raise BaselineError(f"horizon must be an integer >= 1, got {horizon!r}")
        self._names = names
        self._table = table
        self._default = default_mode
        self._mode = default_mode
        self._horizon = horizon

    @property
    def mv_names(self) -> tuple[str, ...]:
        """Names of the manipulated variables, in plan column order."""
        return self._names

    @property
    def mode(self) -> str:
        """The mode whose setpoints the last plan went to."""
        return self._mode

    def setpoints(self, mode: str) -> np.ndarray:
        """Return the nominal setpoints of ``mode``, in MV order. [SI].

        Raises
        ------
        BaselineError
            For an unknown mode.
        """
        if mode not in self._table:
            raise BaselineError(f"unknown mode {mode!r}; known: {', '.join(self._table)}")
        return self._table[mode].copy()

    def reset(self) -> None:
        """Return to the default mode."""
        self._mode = self._default

    def solve(self, request: ControlRequest) -> ControlSolution:
        """Return the ramp to the requested mode's setpoints (never raises).

        Parameters
        ----------
        request : ControlRequest
            ``plant_mode`` selects the mode; ``mv_current``, limits and rate
            limits shape the ramp.  Measurements are not used.

        Returns
        -------
        ControlSolution
            ``OPTIMAL`` with a plan of ``horizon`` rows, or ``FAILED`` when
            the current MVs or the limits are unusable.
        """
        start = time.perf_counter()
        n = len(self._names)
        if request.plant_mode in self._table:
            self._mode = str(request.plant_mode)
        current = np.asarray(request.mv_current, dtype=np.float64).reshape(-1)
        low = np.asarray(request.mv_lower, dtype=np.float64).reshape(-1)
        high = np.asarray(request.mv_upper, dtype=np.float64).reshape(-1)
        rate = np.asarray(request.mv_rate, dtype=np.float64).reshape(-1)
        shapes_ok = all(a.shape == (n,) for a in (current, low, high, rate))
        if not (shapes_ok and np.all(np.isfinite(current)) and np.all(low <= high)):
            return ControlSolution(
                SolveStatus.FAILED,
                np.zeros((0, n)),
                solve_time_s=time.perf_counter() - start,
                message="current MVs or limits unusable",
            )
        target = np.clip(self._table[self._mode], low, high)
        steps = np.arange(1, self._horizon + 1, dtype=np.float64)[:, None]
        reach = np.where(np.isfinite(rate), rate, math.inf) * steps
        plan = np.clip(target, current - reach, current + reach)
        plan = np.clip(plan, low, high)
        return ControlSolution(
            status=SolveStatus.OPTIMAL,
            mv_plan=plan,
            objective=0.0,
            objective_hold=0.0,
            solve_time_s=time.perf_counter() - start,
            message=f"mode {self._mode}",
        )
