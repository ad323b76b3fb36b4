"""The replay's controllers behind the closed-loop :class:`~energyopt.closedloop.Policy` interface.

``recorded``
    The operators' recorded inputs applied to the model; inputs without a
    tag are set by the baseline, as the plant's own rules set them.
``baseline``
    The project's rule-based baseline (``[controller] baseline``):
    ``"dispatch"`` -- :class:`controllers.baselines.SteelworksDispatch`, the
    holder-level-driven gas/steam/power dispatch, built from the project by
    :func:`energyopt.demos.steelworks_truth.steelworks_dispatch`;
    ``"hold"`` -- PID-only: the manipulated setpoints held at their values at
    the start of the period, the DCS loops of the model acting on them.
    Default: ``"dispatch"`` for a plant with gas holders and boilers, else
    ``"hold"``.
``mpc``
    For a process flowsheet without ``[controller.economic]``, the
    offset-free NMPC of :mod:`energyopt.controlbuild.nmpc` with an EKF,
    its MV targets the operators' recorded setpoints.  Otherwise the
    economic MPC of ``[controller.economic]``
    (:func:`energyopt.controlbuild.build_economic_controller`), deciding
    every economic interval from the state read off the measured outputs
    (:class:`~energyopt.replay.readback.OutputStateBuilder`) with a causal
    forecast (:func:`energyopt.controlbuild.causal.causal_forecast_source`).

Under every controller the DCS loops of ``[controller.dcs]``
(:mod:`energyopt.closedloop.dcs`) act every fine step on top of the
controller's (or the record's) inputs: the header pressure controllers that
hold the steam headers between the MPC's decisions; the MPC reads the
trimmed values at its next decision.  Under ``mpc`` and ``baseline`` the
DCS's holder protection of ``[controller.dcs.protection]``
(:func:`energyopt.closedloop.protection.holder_protection`: low-level
cut-back and shedding, high-level flare) then acts every fine step, as in the
closed loop; the controller is told its own setpoints (after the loops),
not the protection's clamp.  Not under ``recorded``: the record already
holds what the works' DCS did.

Under every controller the *exogenous* recorded inputs (bound inputs that
are not manipulated, and inputs read back from a measurement such as a
compressor's flow from its power) follow the record every fine step
(:class:`RecordOverlay`), like the compressed-air rule of
:class:`energyopt.closedloop.steelworks.AirCompressorRule` but for any plant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.closedloop.policies import Decision, EveryStepOverlay
from energyopt.errors import ModelError, ProjectError

if TYPE_CHECKING:
    from energyopt.closedloop import Policy
    from energyopt.closedloop.dcs import DcsLayer
    from energyopt.closedloop.protection import HolderProtection
    from energyopt.controlbuild.record import DisturbanceRecord
    from energyopt.plantbuild import BuiltPlant
    from energyopt.replay.case import ReplayCase

__all__ = [
    "BASELINES",
    "CONTROLLERS",
    "HoldPolicy",
    "RecordOverlay",
    "baseline_name",
    "build_policy",
]

#: Controllers of a replay.
CONTROLLERS: tuple[str, ...] = ("mpc", "baseline", "recorded")
#: Baselines a project can declare in ``[controller] baseline``.
BASELINES: tuple[str, ...] = ("dispatch", "hold")


class HoldPolicy:
    """Hold the inputs in force (PID-only operation: the setpoints never move).

    Parameters
    ----------
    interval_s : float
        Decision interval. [s]
    """

    def __init__(self, interval_s: float) -> None:
        self._interval_s = float(interval_s)
        self._u = np.zeros(0)

    @property
    def interval_s(self) -> float:
        """Decision interval. [s]."""
        return self._interval_s

    def reset(self, u0: npt.NDArray[np.float64], x0: npt.NDArray[np.float64]) -> None:
        """Remember the inputs to hold."""
        self._u = np.array(u0, dtype=np.float64)

    def decide(
        self,
        t_s: float,
        y_meas: npt.NDArray[np.float64],
        d_now: npt.NDArray[np.float64],
        plant_mode: str | None,
    ) -> Decision:
        """Return the held inputs."""
        return Decision(self._u.copy(), 0.0, "none")


class RecordOverlay(EveryStepOverlay):
    """Wrap a policy: every fine step, some inputs follow the record.

    Parameters
    ----------
    inner : Policy
        The controller; decides every ``inner.interval_s`` (a whole multiple
        of ``step_s``), its inputs held in between.
    record : numpy.ndarray, shape (N, nu)
        Recorded inputs per fine step. [SI]
    indices : sequence of int
        Inputs taken from ``record`` (finite there).
    step_s : float
        Fine step, the interval of this policy. [s]
    dcs : DcsLayer, optional
        DCS loops acting every step after the record
        (:class:`~energyopt.closedloop.policies.EveryStepOverlay`).
    protection : HolderProtection, optional
        Holder protection acting every step after the DCS loops (same class).

    Raises
    ------
    ModelError
        If the inner interval is not a whole multiple of the step.
    """

    def __init__(
        self,
        inner: Policy,
        record: npt.NDArray[np.float64],
        indices: Sequence[int],
        step_s: float,
        *,
        dcs: DcsLayer | None = None,
        protection: HolderProtection | None = None,
    ) -> None:
        super().__init__(inner, step_s, "replay", dcs=dcs, protection=protection)
        self._idx = np.asarray(indices, dtype=np.intp)
        self._record = record[:, self._idx]
        self._guard = protection

    @property
    def protection(self) -> HolderProtection | None:
        """The holder protection applied every step, if any (its action counts)."""
        return self._guard

    def overlay(self, u: npt.NDArray[np.float64], k: int) -> None:
        """Take the recorded inputs of fine step ``k``. [SI]."""
        if self._idx.size:
            u[self._idx] = self._record[min(k, self._record.shape[0] - 1)]


def baseline_name(built: BuiltPlant, name: str | None = None) -> str:
    """Return the baseline a project uses (see the module docstring).

    Parameters
    ----------
    built : BuiltPlant
        The project's plant.
    name : str, optional
        Override; default ``[controller] baseline`` when the project sets it,
        else by structure.

    Raises
    ------
    ProjectError
        For an unknown baseline name.
    """
    project = built.project
    chosen = name if name is not None else project.controller.baseline
    if chosen is None:
        types = {u.type for u in project.units.values()}
        return "dispatch" if {"gas_holder", "boiler"} <= types else "hold"
    if chosen not in BASELINES:
        raise ProjectError(
            f"{project.source or 'project'}: controller.baseline: unknown baseline {chosen!r}; "
            f"choose one of {', '.join(BASELINES)}"
        )
    return str(chosen)


def _baseline_policy(case: ReplayCase, name: str) -> Policy:
    from energyopt.closedloop import BaselinePolicy

    if name == "hold":
        return HoldPolicy(case.step_s)
    from energyopt.demos.steelworks_truth import steelworks_dispatch

    try:
        dispatch = steelworks_dispatch(case.built)
    except (KeyError, ValueError, IndexError) as exc:
        raise ProjectError(
            f"{case.built.project.source or 'project'}: controller.baseline: the 'dispatch' "
            f"baseline needs the gas-network units it dispatches ({exc}); use "
            'baseline = "hold"'
        ) from None
    return BaselinePolicy(dispatch)


def _mpc_policy(
    case: ReplayCase, record: DisturbanceRecord | None, *, refit_every_s: float
) -> Policy:
    from energyopt.closedloop import ControllerPolicy
    from energyopt.controlbuild import build_economic_controller, economic_settings
    from energyopt.controlbuild.causal import causal_forecast_source
    from energyopt.replay.readback import OutputStateBuilder, StateReader

    built = case.built
    project = built.project
    if "economic" not in project.controller.model_fields_set:
        if built.flowsheet is not None:
            return _nmpc_policy(case)
        raise ProjectError(
            f"{project.source or 'project'}: controller.economic: the replay's 'mpc' runs the "
            "economic MPC (or, for a process flowsheet, the NMPC), and this project declares "
            "neither (use --controller baseline or recorded)"
        )
    if record is None:
        raise ModelError("replay: the MPC needs the disturbance record for its forecast")
    settings = economic_settings(project, built)
    t0_ms = int(case.time_ms[0])
    u_base = case.u0(np.zeros(built.model.sizes["u"]))
    source = causal_forecast_source(
        built, record, start_ms=t0_ms, refit_every_s=refit_every_s, u_base=u_base
    )

    def forecast(time_s: float) -> object:
        # The harness counts seconds from the start of the replay.
        return source(t0_ms / 1000.0 + time_s)

    mpc = build_economic_controller(project, built, forecast)  # type: ignore[arg-type]
    return ControllerPolicy(
        mpc,
        built.model,
        mpc.mv_names,
        [m.low for m in settings.mvs],
        [m.high for m in settings.mvs],
        [m.rate for m in settings.mvs],
        interval_s=settings.interval_s,
        measurements=OutputStateBuilder(StateReader(built, built.parameters())),
        time_budget_s=settings.max_wall_time_s,
    )


def _nmpc_policy(case: ReplayCase) -> Policy:
    """The process NMPC (:mod:`energyopt.controlbuild.nmpc`) keeping the operators' plan.

    Its MV targets follow the operators' recorded setpoints at each decision
    (the production plan: throughput tracked, the rest moved only as the
    bands need); the EKF starts at the replay's initial state.
    """
    from energyopt.controlbuild.nmpc import build_nmpc_policy

    built = case.built
    names = [v.name for v in built.model.inputs]
    operator = {names[i]: i for i in case.operator_inputs}
    last = case.n_steps - 1

    def plan(request: object) -> dict[str, float]:
        k = min(max(round(float(getattr(request, "time_s", 0.0)) / case.step_s), 0), last)
        row = case.inputs[k]
        return {name: float(row[i]) for name, i in operator.items() if np.isfinite(row[i])}

    u0 = case.u0(np.zeros(built.model.sizes["u"]))
    return build_nmpc_policy(
        built,
        case.x0,
        u0,
        interval_s=control_interval_s(built),
        plan=plan,
        parameters=case.parameters,
    )


def control_interval_s(built: BuiltPlant) -> float:
    """Decision interval of a replay: the economic MPC's when declared, else ``[controller]``'s.

    Every controller of a replay runs over the same whole intervals (the
    baseline and the recorded inputs act every fine step within them). [s]
    """
    ctl = built.project.controller
    value = ctl.economic_interval_s if "economic" in ctl.model_fields_set else ctl.interval_s
    return float(value)


def build_policy(
    case: ReplayCase,
    controller: str,
    *,
    baseline: str | None = None,
    record: DisturbanceRecord | None = None,
    refit_every_s: float = 86_400.0,
    dcs: bool = True,
) -> Policy:
    """Return the closed-loop policy of one replay controller.

    Parameters
    ----------
    case : ReplayCase
        The replay case.
    controller : {"mpc", "baseline", "recorded"}
        Which controller.
    baseline : str, optional
        Baseline override (default the project's).
    record : DisturbanceRecord, optional
        Disturbance record with history before the period (for ``mpc``).
    refit_every_s : float
        Refit interval of the MPC's causal forecast. [s]
    dcs : bool
        Emulate the project's DCS loops (``[controller.dcs]``) every step,
        and under ``mpc`` and ``baseline`` its holder protection
        (``[controller.dcs.protection]``); False runs the controller alone.

    Raises
    ------
    ProjectError
        For an unknown controller or baseline, an ``mpc`` replay of a
        project without ``[controller.economic]``, or a DCS loop that does
        not resolve on the plant, or a protected holder that does not.
    """
    if controller not in CONTROLLERS:
        raise ProjectError(
            f"replay: unknown controller {controller!r}; choose one of {', '.join(CONTROLLERS)}"
        )
    layer = _dcs_layer(case, controller) if dcs else None
    guard = None
    if dcs and controller != "recorded":
        from energyopt.closedloop.protection import holder_protection

        guard = holder_protection(case.built, case.step_s)
    if controller == "mpc":
        inner = _mpc_policy(case, record, refit_every_s=refit_every_s)
        return RecordOverlay(
            inner, case.inputs, case.exogenous_inputs, case.step_s, dcs=layer, protection=guard
        )
    inner = _baseline_policy(case, baseline_name(case.built, baseline))
    overlay = case.exogenous_inputs
    if controller == "recorded":
        overlay = tuple(sorted(set(overlay) | set(case.operator_inputs)))
    return RecordOverlay(inner, case.inputs, overlay, case.step_s, dcs=layer, protection=guard)


def _dcs_layer(case: ReplayCase, controller: str) -> DcsLayer | None:
    """The project's DCS loops acting under ``controller`` (None if none)."""
    from energyopt.closedloop.dcs import build_dcs_layer

    layer = build_dcs_layer(case.built, case.step_s, controller, record_tags=case.tags)
    if layer is None:
        return None
    exogenous = set(case.exogenous_inputs)
    for loop in layer.loops:
        clash = exogenous.intersection(loop.actuators)
        if clash:
            names = [case.built.model.inputs[i].name for i in sorted(clash)]
            raise ProjectError(
                f"{case.built.project.source or 'project'}: controller.dcs.loops.{loop.name}: "
                f"{', '.join(names)} follow(s) the record in every replay (not a manipulated "
                "input); a DCS loop cannot drive it"
            )
    return layer
