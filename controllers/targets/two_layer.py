"""Two-layer control: steady-state economic targets above a dynamic tracking controller."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

from controllers.advisor.contract import ControlRequest, ControlSolution
from controllers.errors import ControllerError, TargetError
from controllers.targets.layer import SteadyStateTargets
from controllers.targets.result import TargetResult

__all__ = ["TARGET_PREFIX", "TrackingController", "TwoLayerController"]

#: Prefix of the target layer's constraint names in a solution's active list.
TARGET_PREFIX = "targets."


class TrackingController(Protocol):
    """The dynamic layer: a controller whose CV setpoints can be changed.

    :class:`~controllers.nmpc.NonlinearMPC` is one; its request measurements
    are laid out as ``(x_hat, w_hat, d)``.
    """

    @property
    def mv_names(self) -> tuple[str, ...]:
        """Names of the MVs, in plan column order."""
        ...

    @property
    def cv_names(self) -> tuple[str, ...]:
        """Names of the CVs, in prediction column order."""
        ...

    @property
    def n_measurements(self) -> int:
        """Length of a request's measurement vector ``(x_hat, w_hat, d)``."""
        ...

    def set_setpoints(self, setpoints: Mapping[str, float]) -> None:
        """Change the setpoints of tracked CVs."""
        ...

    def solve(self, request: ControlRequest) -> ControlSolution:
        """Compute a plan for the request."""
        ...


def _tracked_by_default(dynamic: TrackingController, targets: SteadyStateTargets) -> list[str]:
    """CVs of both layers; those the dynamic layer only zone-controls are left out."""
    settings = getattr(dynamic, "settings", None)
    zone_only = {
        c.name for c in getattr(settings, "cvs", ()) if getattr(c, "setpoint", 0.0) is None
    }
    return [n for n in targets.cv_names if n in dynamic.cv_names and n not in zone_only]


class TwoLayerController:
    """Steady-state targets written as setpoints into a dynamic controller, each solve.

    Implements the advisor's :class:`~controllers.advisor.contract.Controller`
    protocol.  Each :meth:`solve` computes the targets from the request's
    state estimate, disturbance states and measured disturbances (and its MV
    limits), writes the CV targets of the tracked CVs into the dynamic layer
    with ``set_setpoints`` and returns the dynamic layer's solution with the
    target layer's active and given-up limits added to its active
    constraints, prefixed ``"targets."``.  When the target computation fails
    the dynamic layer keeps its previous setpoints and the message says so.

    The dynamic layer tracks CV setpoints only: the MV targets are reported
    (:attr:`last_targets`) but steer the plant through the CV targets, so
    track as many independent CVs as there are MVs (for example a product
    flow and a temperature), preferring CVs monotonic in the MVs: a CV with
    an extremum (a concentration against throughput) can be reached from two
    sides and the dynamic layer may settle on the wrong one.

    Parameters
    ----------
    targets : SteadyStateTargets
        The target layer; its MVs must be the dynamic layer's, in order, and
        its model and disturbance states those the dynamic layer predicts with.
    dynamic : TrackingController
        The dynamic layer (e.g. :class:`~controllers.nmpc.NonlinearMPC`).
    tracked : sequence of str, optional
        CVs whose targets become the dynamic layer's setpoints; default:
        every target CV the dynamic layer tracks with a setpoint.

    Raises
    ------
    TargetError
        If the MVs differ, a tracked CV is not a CV of both layers, or the
        measurement lengths differ.
    """

    def __init__(
        self,
        targets: SteadyStateTargets,
        dynamic: TrackingController,
        tracked: Sequence[str] | None = None,
    ) -> None:
        if tuple(targets.mv_names) != tuple(dynamic.mv_names):
            raise TargetError(
                f"target MVs {', '.join(targets.mv_names)} differ from the dynamic layer's "
                f"{', '.join(dynamic.mv_names)} (same names, same order needed)"
            )
        names = list(tracked) if tracked is not None else _tracked_by_default(dynamic, targets)
        for name in names:
            if name not in targets.cv_names or name not in dynamic.cv_names:
                raise TargetError(f"tracked CV {name!r} must be a CV of both layers")
        sizes = targets.model.sizes
        self._nx, self._nd = sizes["x"], sizes["d"]
        self._nw = len(targets.disturbance_states)
        if dynamic.n_measurements != self._nx + self._nw + self._nd:
            raise TargetError(
                f"the dynamic layer expects {dynamic.n_measurements} measurements, the target "
                f"layer {self._nx + self._nw + self._nd} (x_hat, w_hat, d): different models "
                "or disturbance states"
            )
        self.targets = targets
        self.dynamic = dynamic
        self.tracked: tuple[str, ...] = tuple(names)
        self._last: TargetResult | None = None

    @property
    def mv_names(self) -> tuple[str, ...]:
        """Names of the manipulated variables, in plan column order."""
        return tuple(self.dynamic.mv_names)

    @property
    def last_targets(self) -> TargetResult | None:
        """The target layer's result of the last solve (``None`` before the first)."""
        return self._last

    def _compute_targets(self, request: ControlRequest) -> TargetResult | str:
        meas = np.asarray(request.measurements, dtype=np.float64).ravel()
        valid = np.asarray(request.measurement_valid, dtype=bool).ravel()
        n = self._nx + self._nw + self._nd
        if meas.shape != (n,) or valid.shape != (n,):
            return f"measurements must have length {n} (x_hat, w_hat, d)"
        if not (valid.all() and np.all(np.isfinite(meas))):
            return "state estimate or disturbance invalid"
        nx, nw = self._nx, self._nw
        try:
            return self.targets.compute(
                meas[:nx],
                request.mv_current,
                meas[nx + nw :],
                meas[nx : nx + nw],
                mv_lower=request.mv_lower,
                mv_upper=request.mv_upper,
            )
        except TargetError as exc:
            return str(exc)

    def solve(self, request: ControlRequest) -> ControlSolution:
        """Compute targets, set them into the dynamic layer and solve it (never raises).

        Parameters
        ----------
        request : ControlRequest
            As for the dynamic layer: ``measurements`` laid out as
            ``(x_hat, w_hat, d)``.

        Returns
        -------
        ControlSolution
            The dynamic layer's solution; its active constraints include the
            target layer's (prefixed ``"targets."``), its message the target
            layer's status, its solve time both layers'.
        """
        start = time.perf_counter()
        outcome = self._compute_targets(request)
        note: str
        target_names: tuple[str, ...] = ()
        if isinstance(outcome, TargetResult):
            self._last = outcome
            if outcome.status.usable:
                try:
                    self.dynamic.set_setpoints(
                        {name: outcome.cv_target(name) for name in self.tracked}
                    )
                    note = f"targets {outcome.status.value} ({outcome.method})"
                except ControllerError as exc:
                    note = f"targets not applied: {exc}"
                target_names = outcome.active_constraints
                if outcome.relaxed_constraints:
                    note += "; limits given up: " + ", ".join(outcome.relaxed_constraints)
            else:
                note = f"targets {outcome.status.value}: {outcome.message}; previous setpoints kept"
        else:
            note = f"targets not computed: {outcome}; previous setpoints kept"
        solution = self.dynamic.solve(request)
        message = f"{solution.message}; {note}" if solution.message else note
        return dataclasses.replace(
            solution,
            active_constraints=tuple(solution.active_constraints)
            + tuple(TARGET_PREFIX + name for name in target_names),
            solve_time_s=time.perf_counter() - start,
            message=message,
        )
