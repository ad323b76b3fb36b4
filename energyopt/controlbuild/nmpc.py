"""Project -> process NMPC: settings, offset-free EKF and the plan the NMPC keeps.

For a process plant (:func:`energyopt.plantbuild.is_process_project`) the
project file says everything the tracking/zone NMPC
(:class:`controllers.nmpc.NonlinearMPC`) needs:

MVs
    Every ``manipulated`` binding on a plant input (the DCS loops'
    setpoints), with its ``limits`` and ``rate_limit_per_min`` converted to
    SI and to the control interval.  Each MV has a *plan target*: the
    operators' (or the production plan's) setpoint, updated every decision
    (:class:`PlanTrackingNmpc`).  An MV whose loop measures a process node's
    ``supply`` sets the throughput, which is the plan's, not the
    controller's: it tracks its target with weight :data:`THROUGHPUT_WEIGHT`;
    the others rest near their target with :data:`PLAN_WEIGHT` and move when
    the bands need it.  Move weights: ``[controller.move_suppression]``
    relative to ``default_move_suppression`` (1 for the default).
CVs
    Every ``controlled`` binding with a ``normal`` band: zone control inside
    the band tightened by :data:`BAND_MARGIN` of its width on each side
    (sensor noise and model mismatch), ranked by its ``priority``
    (``priority_ratio``), scaled by a quarter of the band; a CV with a
    ``[controller.tracking_weights]`` entry is also pulled to the band's
    centre with that weight.
Offset-free estimation
    An EKF (:class:`energyopt.closedloop.chemical_control.EkfMeasurements`)
    on the nominal model reads every bound output (noise: :data:`SENSOR_SHARE`
    of the binding's ``range``, or of the model envelope without one).  A
    purchased process feed's A concentration without a tag is the
    unmeasured disturbance the filter estimates as a random walk (0.3 % of
    the design strength per interval, as the chemical closed loop); bound
    disturbances are measured, the rest nominal
    (:func:`energyopt.plantbuild.nominal_disturbances`).

The closed-loop comparison of :mod:`energyopt.closedloop.chemical_control`
is the hand-tuned instance of this on the demo (its scenario knows the
sensor noise and the economic targets); the replay uses this builder.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import ProjectError

if TYPE_CHECKING:
    from controllers.advisor.contract import Controller, ControlRequest, ControlSolution
    from controllers.estimation import DisturbanceState, Measurement
    from controllers.nmpc import CvSpec, MvSpec, NmpcSettings, NonlinearMPC
    from energyopt.closedloop.chemical_control import EkfMeasurements
    from energyopt.closedloop.policies import ControllerPolicy
    from energyopt.plantbuild import BuiltPlant
    from plant_models.core.equations import EquationModel

__all__ = [
    "BAND_MARGIN",
    "EKF_SUBSTEP_S",
    "MAX_HORIZON",
    "PLAN_WEIGHT",
    "SENSOR_SHARE",
    "THROUGHPUT_WEIGHT",
    "NmpcBuild",
    "PlanTrackingNmpc",
    "build_nmpc_policy",
    "nmpc_build",
    "nmpc_estimator",
    "nmpc_policy",
]

#: Band tightening on each side, as a share of the band width. [-]
BAND_MARGIN = 0.1
#: Longest NMPC horizon in intervals (solve time grows with it; the bands'
#: dynamics -- residence times of minutes -- settle well inside it).
MAX_HORIZON = 20
#: Target weight of a throughput MV (tracks the plan). [-]
THROUGHPUT_WEIGHT = 1.0
#: Target weight of the other MVs (rest near the plan, move for the bands). [-]
PLAN_WEIGHT = 0.05
#: Sensor noise assumed by the EKF, as a share of the binding's range. [-]
SENSOR_SHARE = 0.005
#: EKF RK4 sub-steps per second of interval: the flowsheet's fastest mode is
#: about -0.47 1/s (valve and flow-loop lags); RK4 is stable for |lambda h| <
#: 2.78, h <= 5.9 s; one sub-step per 3 s leaves a margin.
EKF_SUBSTEP_S = 3.0


@dataclass(frozen=True, eq=False)
class NmpcBuild:
    """What the process NMPC and its estimator are built from.

    Attributes
    ----------
    settings : NmpcSettings
        MVs, CVs, interval and horizon.
    mv_bindings : tuple of str
        Binding of each MV, in MV order.
    disturbance_states : tuple of DisturbanceState
        Unmeasured disturbances the EKF estimates (random walks).
    measurements : tuple of Measurement
        Outputs the EKF reads, with their noise.
    measured_index : numpy.ndarray of int
        Output-vector position of each measurement.
    measured_disturbances : numpy.ndarray of bool
        Disturbances the controller reads from the plant (bound to a tag).
    nominal_disturbances : numpy.ndarray
        Values assumed for the others. [SI]
    """

    settings: NmpcSettings
    mv_bindings: tuple[str, ...]
    disturbance_states: tuple[DisturbanceState, ...]
    measurements: tuple[Measurement, ...]
    measured_index: npt.NDArray[np.intp]
    measured_disturbances: npt.NDArray[np.bool_]
    nominal_disturbances: npt.NDArray[np.float64]


def _where(built: BuiltPlant) -> str:
    return built.project.source or "project"


def _throughput(built: BuiltPlant, mv_input: str) -> bool:
    """Whether the loop of ``mv_input`` measures a process node's supply (the throughput)."""
    loop = mv_input.partition(".")[0]
    spec = built.project.units.get(loop)
    measured = (spec.measurement or "") if spec is not None else ""
    node, _, prop = measured.partition(".")
    media = built.project.media
    return prop == "supply" and node in media and media[node].kind == "process"


def _mvs(
    built: BuiltPlant, interval_s: float, u_plan: npt.NDArray[np.float64]
) -> tuple[list[MvSpec], list[str]]:
    from controllers.nmpc import MvSpec

    ctl = built.project.controller
    default_ms = float(ctl.default_move_suppression) or 1.0
    mvs: list[MvSpec] = []
    names: list[str] = []
    for e in built.bindings.entries:
        if e.role != "manipulated" or e.vector != "u":
            continue
        binding = built.project.bindings[e.binding]
        if binding.limits is None:
            raise ProjectError(
                f"{_where(built)}: bindings.{e.binding}: the NMPC needs the MV's limits"
            )
        low, high = sorted(float(v) for v in e.to_model(list(binding.limits)))
        per_min = binding.rate_limit_per_min
        rate = math.inf
        if per_min is not None:
            rate = abs(float(per_min) / e.scale) * interval_s / 60.0
        weight = float(ctl.move_suppression.get(e.binding, default_ms)) / default_ms
        target_weight = THROUGHPUT_WEIGHT if _throughput(built, e.name) else PLAN_WEIGHT
        mvs.append(
            MvSpec(
                e.name,
                scale=high - low,
                move_weight=weight,
                low=low,
                high=high,
                rate=rate,
                target=float(np.clip(u_plan[e.index], low, high)),
                target_weight=target_weight,
            )
        )
        names.append(e.binding)
    if not mvs:
        raise ProjectError(f"{_where(built)}: bindings: the NMPC needs a manipulated binding")
    return mvs, names


def _cvs(built: BuiltPlant) -> list[CvSpec]:
    from controllers.nmpc import CvSpec

    tracking = built.project.controller.tracking_weights
    cvs: list[CvSpec] = []
    for e in built.bindings.entries:
        binding = built.project.bindings[e.binding]
        if e.role != "controlled" or binding.normal is None or e.vector not in ("x", "y"):
            continue
        low, high = sorted(float(v) for v in e.to_model(list(binding.normal)))
        margin = BAND_MARGIN * (high - low)
        weight = float(tracking.get(e.binding, 0.0))
        cvs.append(
            CvSpec(
                e.name,
                kind=e.vector,
                scale=0.25 * (high - low),
                setpoint=0.5 * (low + high) if weight > 0.0 else None,
                weight=weight,
                low=low + margin,
                high=high - margin,
                priority=int(binding.priority or 1),
            )
        )
    if not cvs:
        raise ProjectError(
            f"{_where(built)}: bindings: the NMPC needs a controlled binding with a normal band"
        )
    return cvs


def _estimation(
    built: BuiltPlant,
) -> tuple[
    tuple[Measurement, ...],
    tuple[DisturbanceState, ...],
    npt.NDArray[np.intp],
    npt.NDArray[np.bool_],
]:
    from controllers.estimation import DisturbanceState, Measurement
    from energyopt.plantbuild import nominal_disturbances

    model = built.model
    y_names = [v.name for v in model.outputs]
    low_y, high_y = model.bounds("y")
    measurements: list[Measurement] = []
    index: list[int] = []
    for e in built.bindings.entries:
        if e.vector != "y" or e.role not in ("measurement", "controlled"):
            continue
        k = y_names.index(e.name)
        if k in index:
            continue
        binding = built.project.bindings[e.binding]
        if binding.range is not None:
            span = float(np.ptp(e.to_model(list(binding.range))))
        else:
            span = float(high_y[k] - low_y[k]) if np.isfinite(high_y[k] - low_y[k]) else 1.0
        measurements.append(Measurement(e.name, std=max(SENSOR_SHARE * span, 1e-9)))
        index.append(k)
    measured = np.zeros(model.sizes["d"], dtype=bool)
    for e in built.bindings.entries:
        if e.vector == "d":
            measured[e.index] = True
    nominal = nominal_disturbances(built)
    states: list[DisturbanceState] = []
    for j, var in enumerate(model.disturbances):
        node, _, tail = var.name.partition(".")
        if measured[j] or tail != "in_c_a_mol_m3" or node not in built.project.media:
            continue
        strength = float(nominal[j])
        if strength <= 0.0:
            continue
        states.append(
            DisturbanceState(
                f"{node}_strength",
                kind="disturbance",
                target=var.name,
                std_per_step=0.003 * strength,
                initial_std=0.06 * strength,
                low=-0.4 * strength,
                high=0.6 * strength,
            )
        )
    return tuple(measurements), tuple(states), np.array(index, dtype=np.intp), measured


def nmpc_build(
    built: BuiltPlant,
    u_plan: npt.ArrayLike,
    *,
    interval_s: float | None = None,
) -> NmpcBuild:
    """Return the process NMPC's settings and estimator layout from the project.

    Parameters
    ----------
    built : BuiltPlant
        The project's plant.
    u_plan : array_like, shape (nu,)
        Plant inputs at the start: the MVs' first plan targets and the values
        of the inputs that are not MVs. [SI]
    interval_s : float, optional
        Control interval; default ``[controller] interval_s``. [s]

    Returns
    -------
    NmpcBuild

    Raises
    ------
    ProjectError
        If the project has no manipulated binding, an MV without limits, or
        no controlled binding with a normal band.
    """
    from controllers.nmpc import NmpcSettings

    ctl = built.project.controller
    dt = float(ctl.interval_s if interval_s is None else interval_s)
    u = np.asarray(u_plan, dtype=np.float64)
    mvs, mv_bindings = _mvs(built, dt, u)
    cvs = _cvs(built)
    horizon = max(1, min(MAX_HORIZON, round(float(ctl.horizon_s) / dt)))
    mv_names = {m.name for m in mvs}
    fixed = {
        v.name: float(u[i]) for i, v in enumerate(built.model.inputs) if v.name not in mv_names
    }
    settings = NmpcSettings(
        mvs=tuple(mvs),
        cvs=tuple(cvs),
        dt_s=dt,
        horizon=horizon,
        fixed_inputs=fixed,
        priority_ratio=float(ctl.priority_ratio),
        tolerance=1e-6,
        max_wall_time_s=float(ctl.max_solve_time_s or dt),
    )
    measurements, states, index, measured = _estimation(built)
    from energyopt.plantbuild import nominal_disturbances

    return NmpcBuild(
        settings=settings,
        mv_bindings=tuple(mv_bindings),
        disturbance_states=states,
        measurements=measurements,
        measured_index=index,
        measured_disturbances=measured,
        nominal_disturbances=nominal_disturbances(built),
    )


class PlanTrackingNmpc:
    """The NMPC with its MV targets following a plan, updated before each solve.

    Parameters
    ----------
    nmpc : NonlinearMPC
        The controller.
    plan : callable
        ``plan(request) -> {mv input: target}`` (SI) or ``None`` to keep the
        targets in force: the operators' recorded setpoints in a replay, the
        mode's setpoints in a closed loop.
    """

    def __init__(
        self,
        nmpc: NonlinearMPC,
        plan: Callable[[ControlRequest], Mapping[str, float] | None],
    ) -> None:
        self.nmpc = nmpc
        self._plan = plan

    @property
    def mv_names(self) -> tuple[str, ...]:
        """The NMPC's MVs."""
        return self.nmpc.mv_names

    def reset(self) -> None:
        """Forget the warm start."""
        self.nmpc.reset()

    def solve(self, request: ControlRequest) -> ControlSolution:
        """Set the plan's MV targets (clipped to the request's limits) and solve."""
        targets = self._plan(request)
        if targets:
            vector = np.array(self.nmpc.tuning.mv_target, dtype=np.float64)
            for i, name in enumerate(self.mv_names):
                value = targets.get(name)
                if value is not None and math.isfinite(value) and math.isfinite(vector[i]):
                    vector[i] = min(max(value, request.mv_lower[i]), request.mv_upper[i])
            self.nmpc.set_tuning({"mv_target": vector})
        return self.nmpc.solve(request)


def nmpc_estimator(
    model: EquationModel,
    parameters: npt.ArrayLike,
    build: NmpcBuild,
    x0: npt.ArrayLike,
    nmpc: NonlinearMPC,
) -> EkfMeasurements:
    """Return the offset-free EKF of a process NMPC as its measurement builder.

    The one assembly of the estimator: the augmented model (random-walk
    disturbance states, state noise 1e-3 and initial spread 1e-2 of each
    state's envelope, RK4 sub-steps of at most :data:`EKF_SUBSTEP_S`), the
    :class:`~controllers.estimation.ExtendedKalmanFilter` and the
    measurement builder feeding ``nmpc``; used by :func:`nmpc_policy` and the
    process advisor (:mod:`energyopt.advise.process`).

    Parameters
    ----------
    model : EquationModel
        The controller's plant model.
    parameters : array_like
        Its parameters. [SI]
    build : NmpcBuild
        Settings and estimator layout.
    x0 : array_like, shape (nx,)
        State the EKF starts from. [SI]
    nmpc : NonlinearMPC
        The controller whose disturbance estimates the builder updates.

    Returns
    -------
    EkfMeasurements
    """
    from controllers.estimation import ExtendedKalmanFilter, augment
    from energyopt.closedloop.chemical_control import EkfMeasurements

    p = np.asarray(parameters, dtype=np.float64)
    dt_s = build.settings.dt_s
    low, high = model.bounds("x")
    scale = np.maximum(np.abs(low), np.abs(high))
    scale = np.where(np.isfinite(scale) & (scale > 0.0), scale, 1.0)
    aug = augment(
        model,
        p,
        dt_s,
        measurements=build.measurements,
        state_std_per_step=1e-3 * scale,
        initial_state_std=1e-2 * scale,
        disturbance_states=build.disturbance_states,
        substeps=max(1, math.ceil(dt_s / EKF_SUBSTEP_S - 1e-9)),
    )
    ekf = ExtendedKalmanFilter(aug, np.asarray(x0, dtype=np.float64))
    return EkfMeasurements(
        ekf,
        nmpc,
        build.measured_index,
        build.measured_disturbances,
        build.nominal_disturbances,
    )


def nmpc_policy(
    model: EquationModel,
    parameters: npt.ArrayLike,
    build: NmpcBuild,
    x0: npt.ArrayLike,
    wrap: Callable[[NonlinearMPC], Controller],
) -> ControllerPolicy:
    """Return an offset-free NMPC with its EKF as a closed-loop policy.

    The one assembly of :class:`~controllers.nmpc.NonlinearMPC`, the
    augmented model (random-walk disturbance states, state noise 1e-3 and
    initial spread 1e-2 of each state's envelope, RK4 sub-steps of at most
    :data:`EKF_SUBSTEP_S`), the
    :class:`~controllers.estimation.ExtendedKalmanFilter` and the
    measurement builder, shared by the replay (:func:`build_nmpc_policy`)
    and the chemical closed-loop comparison
    (:func:`energyopt.closedloop.chemical_control.chemical_nmpc_policy`).

    Parameters
    ----------
    model : EquationModel
        The controller's plant model.
    parameters : array_like
        Its parameters. [SI]
    build : NmpcBuild
        Settings and estimator layout.
    x0 : array_like, shape (nx,)
        State the EKF starts from. [SI]
    wrap : callable
        ``wrap(nmpc) -> controller`` (a plan or mode tracker around the NMPC).

    Returns
    -------
    ControllerPolicy
    """
    from controllers.nmpc import NonlinearMPC
    from energyopt.closedloop.policies import ControllerPolicy

    p = np.asarray(parameters, dtype=np.float64)
    settings = build.settings
    nmpc = NonlinearMPC(model, p, settings, build.disturbance_states)
    builder = nmpc_estimator(model, p, build, x0, nmpc)
    mvs = settings.mvs
    return ControllerPolicy(
        wrap(nmpc),
        model,
        [m.name for m in mvs],
        [m.low for m in mvs],
        [m.high for m in mvs],
        [m.rate for m in mvs],
        interval_s=settings.dt_s,
        measurements=builder,
        time_budget_s=settings.max_wall_time_s,
    )


def build_nmpc_policy(
    built: BuiltPlant,
    x0: npt.ArrayLike,
    u0: npt.ArrayLike,
    *,
    interval_s: float | None = None,
    plan: Callable[[ControlRequest], Mapping[str, float] | None] | None = None,
    parameters: npt.ArrayLike | None = None,
) -> ControllerPolicy:
    """Return the project's offset-free process NMPC with its EKF as a closed-loop policy.

    Parameters
    ----------
    built : BuiltPlant
        The project's plant (a process flowsheet).
    x0 : array_like, shape (nx,)
        State the EKF starts from. [SI]
    u0 : array_like, shape (nu,)
        Inputs at the start (first plan targets, fixed inputs). [SI]
    interval_s : float, optional
        Control interval; default ``[controller] interval_s``. [s]
    plan : callable, optional
        MV targets per request (:class:`PlanTrackingNmpc`); default: the
        targets at the start, held.
    parameters : array_like, optional
        Model parameters of the controller; default the project's. [SI]

    Returns
    -------
    ControllerPolicy

    Raises
    ------
    ProjectError
        See :func:`nmpc_build`.
    """
    build = nmpc_build(built, u0, interval_s=interval_s)
    p = built.parameters() if parameters is None else parameters
    planner = plan if plan is not None else (lambda request: None)
    return nmpc_policy(built.model, p, build, x0, lambda nmpc: PlanTrackingNmpc(nmpc, planner))
