"""The advisor on a process plant: the project's NMPC with its EKF on recorded data.

For a process flowsheet without ``[controller.economic]`` (the chemical
demo), :class:`ProcessAdvisorSession` wraps the project's offset-free NMPC
(:mod:`energyopt.controlbuild.nmpc`: MVs are the DCS loops' setpoints -- feed
flow, reactor temperature, preheat, flash level and steam -- with their
limits and rate limits; CVs are the controlled bindings' normal bands) in
the :class:`controllers.advisor.Advisor`.  At a time ``t``:

1. the recorded period ``[t - ESTIMATION_WINDOW_MS, t]`` is read as a replay
   reads it (:func:`energyopt.replay.case.build_case`: the bound tags cleaned
   and bridged, unbound inputs read back from their measurements, the
   initial state off the recorded outputs and the flowsheet's steady state);
2. the EKF starts at that initial state and runs over the window one
   control interval at a time, with the recorded inputs and measurements;
3. the advisor asks the NMPC, whose MV targets are the operators' recorded
   setpoints at ``t`` (:class:`~energyopt.controlbuild.nmpc.PlanTrackingNmpc`:
   the throughput is the plan's, the other setpoints move when the bands
   need it), checks its plan and projects it onto the limits and rate limits.

The NMPC's objective (band violations, plan tracking, move suppression) is
not in money: the record's expected saving is ``None`` with the reason
(:attr:`ProcessAdvisorSession.prices_saving` is ``False``).  Inputs that are
not MVs (cooling-water pump and fan speeds) are fixed in the NMPC's problem
at their values of the first asked time; it is rebuilt when they move by
more than :data:`FIXED_INPUT_TOLERANCE` of their envelope.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.advise.base import SessionBase
from energyopt.advise.mvinfo import advisor_mode
from energyopt.errors import DataError

if TYPE_CHECKING:
    from controllers.advisor import Advisor, AdvisorMode, ControlRequest, Recommendation
    from energyopt.closedloop.chemical_control import EkfMeasurements
    from energyopt.controlbuild.nmpc import NmpcBuild
    from energyopt.data.reader import HistorianReader
    from energyopt.plantbuild import BuiltPlant
    from energyopt.project import Project

__all__ = ["ESTIMATION_WINDOW_MS", "FIXED_INPUT_TOLERANCE", "ProcessAdvisorSession"]

#: Recorded history the EKF runs over before the asked time (a few residence
#: times of the reactor and flash: the unmeasured concentrations settle). [ms]
ESTIMATION_WINDOW_MS = 30 * 60_000
#: A non-MV input moving by more than this share of its envelope (or of 1
#: for an unbounded one) since the NMPC was built rebuilds it. [-]
FIXED_INPUT_TOLERANCE = 0.02


@dataclass(frozen=True)
class _Estimate:
    """The EKF's result at one time."""

    measurements: npt.NDArray[np.float64]  # packed (x_hat, w_hat, d) for the NMPC
    history: npt.NDArray[np.float64]  # earlier packed vectors, oldest first
    inputs: npt.NDArray[np.float64]  # plant inputs in force at the time [SI]


class ProcessAdvisorSession(SessionBase):
    """The advisor around a process plant's NMPC on a historian file (module docstring).

    Use :meth:`energyopt.advise.AdvisorSession.open`, which returns this
    session for a process flowsheet without ``[controller.economic]``.

    Parameters
    ----------
    project : Project
        The validated project (a process flowsheet).
    built : BuiltPlant
        Its plant (``built.flowsheet`` set).
    reader : HistorianReader
        The open historian file (the session closes it).
    parameters : numpy.ndarray
        Plant parameters of the controller and the estimator. [SI]
    mode : AdvisorMode or str, optional
        Advisor mode; default ``[controller] mode``.

    Raises
    ------
    ProjectError
        If the project has no manipulated binding, an MV without limits, or
        no controlled binding with a normal band.
    """

    prices_saving = False

    def __init__(
        self,
        project: Project,
        built: BuiltPlant,
        reader: HistorianReader,
        parameters: npt.NDArray[np.float64],
        mode: AdvisorMode | str | None = None,
    ) -> None:
        from energyopt.controlbuild.nmpc import nmpc_build

        interval_s = float(project.controller.interval_s)
        super().__init__(project, built, reader, parameters, round(interval_s * 1000.0))
        self._history_ms = self._interval_ms
        self._history_why = "the state estimator needs at least one control interval"
        self._mode = advisor_mode(project.controller.mode if mode is None else mode)
        # The MVs and their limits do not depend on the inputs the NMPC is built at.
        layout = nmpc_build(built, np.zeros(built.model.sizes["u"]), interval_s=interval_s)
        self.mvs = tuple(self._mv_info(mv.name) for mv in layout.settings.mvs)
        self._mv_index = np.array(
            [built.index("u", mv.name) for mv in layout.settings.mvs], dtype=np.intp
        )
        self._check_tags()
        self._built_at: npt.NDArray[np.float64] | None = None
        self._build: NmpcBuild | None = None
        self._targets: dict[str, float] = {}
        self._estimates: dict[int, _Estimate] = {}

    def _check_tags(self) -> None:
        """Raise :class:`TagNotFoundError` for a tag the NMPC or its EKF reads that the file lacks.

        The MV setpoints, the bound outputs the EKF reads and the bound
        disturbances; all other bindings are optional.
        """
        from energyopt.errors import TagNotFoundError

        mv_names = {info.variable for info in self.mvs}
        missing = [
            f"{e.tag} (bindings.{e.binding})"
            for e in self.built.bindings.entries
            if (
                e.vector == "d"
                or (e.vector == "u" and e.name in mv_names)
                or (e.vector == "y" and e.role in ("measurement", "controlled"))
            )
            and e.tag not in self.reader.tags
        ]
        if missing:
            raise TagNotFoundError(
                f"{self.reader.path}: the advisor needs tag(s) missing from the file: "
                + ", ".join(dict.fromkeys(missing))
            )

    # ------------------------------------------------------------ mode

    @property
    def mode(self) -> AdvisorMode:
        """The advisor's mode (settable)."""
        return self._mode

    @mode.setter
    def mode(self, mode: AdvisorMode | str) -> None:
        self._mode = advisor_mode(mode)
        if self._build is not None:
            self.advisor.mode = self._mode

    def preload(self, start_ms: int, end_ms: int) -> None:
        """Nothing to preload: each time reads its own estimation window (kept for the API)."""

    # ------------------------------------------------------------ controller

    def _ensure_controller(self, u_now: npt.NDArray[np.float64]) -> None:
        """Build (or rebuild, when the fixed inputs moved) the NMPC and its advisor at ``u_now``."""
        from controllers.advisor import Advisor, AdvisorSettings, ManipulatedVariable
        from controllers.nmpc import NonlinearMPC
        from energyopt.controlbuild.nmpc import PlanTrackingNmpc, nmpc_build

        model = self.built.model
        fixed = np.ones(model.sizes["u"], dtype=bool)
        fixed[self._mv_index] = False
        if self._built_at is not None:
            low, high = model.bounds("u")
            span = np.where(np.isfinite(high - low), high - low, 1.0)
            moved = np.abs(u_now - self._built_at)[fixed] > FIXED_INPUT_TOLERANCE * span[fixed]
            if not moved.any():
                return
        build = nmpc_build(self.built, u_now, interval_s=self.interval_s)
        nmpc = NonlinearMPC(model, self.parameters, build.settings, build.disturbance_states)
        controller = PlanTrackingNmpc(nmpc, self._plan)
        names = (
            *(v.name for v in model.states),
            *(w.name for w in build.disturbance_states),
            *(v.name for v in model.disturbances),
        )
        settings = build.settings
        self.advisor: Advisor = Advisor(
            controller,
            AdvisorSettings(
                mvs=tuple(ManipulatedVariable(m.name, m.low, m.high, m.rate) for m in settings.mvs),
                measurement_names=names,
                interval_s=settings.dt_s,
                # Offline: the controller's own wall-time limit plus the plan checks.
                time_budget_s=2.0 * settings.max_wall_time_s,
                mode=self._mode,
            ),
        )
        self._nmpc = nmpc
        self._build = build
        self._built_at = u_now.copy()

    def _plan(self, request: ControlRequest) -> dict[str, float]:
        """The NMPC's MV targets: the operators' recorded setpoints at the asked time."""
        return dict(self._targets)

    def _estimator(self, x0: npt.NDArray[np.float64]) -> EkfMeasurements:
        """The EKF of the NMPC, started at ``x0`` (one assembly: ``nmpc_estimator``)."""
        from energyopt.controlbuild.nmpc import nmpc_estimator

        build = self._build
        if build is None:  # pragma: no cover - built before any estimate
            raise RuntimeError("the NMPC is built before the estimator")
        return nmpc_estimator(self.built.model, self.parameters, build, x0, self._nmpc)

    # ------------------------------------------------------------ estimation

    def _estimate(self, at_ms: int) -> _Estimate:
        """Run the EKF over the recorded window before ``at_ms`` (module docstring)."""
        from energyopt.replay.case import build_case, replay_step_s

        cached = self._estimates.get(at_ms)
        if cached is not None:
            return cached
        self.check_time(at_ms)
        first, _ = self.reader.time_span_ms
        # The replay's fine grid: rows of the file's sampling step (dividing the
        # interval); the window ends one row after the last row at or before
        # at_ms and spans whole intervals, so that row is in it.
        step_ms = round(replay_step_s(self.reader.sampling_ms, self.interval_s) * 1000.0)
        end = (at_ms // step_ms + 1) * step_ms
        first_row = -(-first // step_ms) * step_ms
        count = (end - max(first_row, end - step_ms - ESTIMATION_WINDOW_MS)) // self._interval_ms
        if count < 1:
            raise DataError(
                f"{self.reader.path}: time {self.reader.format_time(at_ms)} has not enough "
                f"history before it: {self._history_why}"
            )
        case = build_case(
            self.built,
            self.reader,
            interval_s=self.interval_s,
            start_ms=end - count * self._interval_ms,
            end_ms=end,
            parameters=self.parameters,
        )
        # EKF steps: one per control interval, ending at the last row at or before at_ms.
        last = int(np.flatnonzero(case.time_ms <= at_ms)[-1])
        per = max(1, round(self._interval_ms / step_ms))
        rows = np.arange(last % per, last + 1, per)
        model = self.built.model
        low, high = model.bounds("u")
        # Inputs neither recorded nor read back (load shedding) are off, as the
        # snapshot's "zero" rule, inside the model's envelope.
        inputs = np.where(np.isfinite(case.inputs), case.inputs, np.clip(0.0, low, high))
        u_now = inputs[rows[-1]]
        self._ensure_controller(u_now)
        builder = self._estimator(case.x0)
        builder.reset(inputs[rows[0]], case.x0)
        y = np.full((case.n_steps, model.sizes["y"]), np.nan)
        for e in self.built.bindings.entries:
            if e.vector == "y" and e.tag in case.tags:
                y[:, e.index] = e.to_model(case.tags[e.tag])
        packed = []
        previous = rows[0]
        for k in rows:
            # The inputs held over the interval that ends at row k (zero-order hold).
            meas, _ = builder.build(
                float(case.time_ms[k]) / 1000.0, y[k], inputs[previous], case.disturbances[k]
            )
            packed.append(meas)
            previous = k
        rows_packed = np.array(packed)
        estimate = _Estimate(rows_packed[-1], rows_packed[:-1], u_now)
        self._estimates = {**dict(list(self._estimates.items())[-1:]), at_ms: estimate}
        return estimate

    def state(self, at_ms: int) -> npt.NDArray[np.float64]:
        """The EKF's state estimate at ``at_ms`` (NaN if the filter failed). [SI]."""
        return self._estimate(at_ms).measurements[: self.built.model.sizes["x"]].copy()

    def current_mvs(self, at_ms: int) -> npt.NDArray[np.float64]:
        """The operators' setpoints in force at ``at_ms``, MV order. [SI]."""
        return self._estimate(at_ms).inputs[self._mv_index].copy()

    # ------------------------------------------------------------ advice

    def recommend(self, at_ms: int) -> Recommendation:
        """The advisor's recommendation for the control interval starting at ``at_ms``.

        Parameters
        ----------
        at_ms : int
            Now: measurements are read up to and including this time. [ms since epoch]

        Returns
        -------
        Recommendation
            See :class:`controllers.advisor.Recommendation` (SI values); its
            prediction holds the NMPC's CVs (``reactor.c_b_mol_m3``, ...).

        Raises
        ------
        DataError
            If ``at_ms`` is outside the file, has too little history before
            it, or a tag has no usable sample in the estimation window.
        """
        at_ms = int(at_ms)
        est = self._estimate(at_ms)
        mv_now = est.inputs[self._mv_index]
        names = [mv.variable for mv in self.mvs]
        self._targets = {
            n: float(v) for n, v in zip(names, mv_now, strict=True) if math.isfinite(v)
        }
        return self.advisor.recommend(at_ms / 1000.0, mv_now, est.measurements, est.history)
