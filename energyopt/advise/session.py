"""The advisor on recorded data: a project, its historian file and the economic MPC.

:class:`AdvisorSession` builds, from a project and a historian file, the
:class:`controllers.advisor.Advisor` around the project's economic MPC
(``[controller.economic]``) with a causal profile+ARX forecast fitted on the
history before the asked time.  At a time ``t`` it reads the bound tags of
a short window before ``t`` (read-only, only the tags it needs), maps them
to the plant state and inputs (:mod:`energyopt.advise.snapshot`), and asks
the advisor.  A process flowsheet without ``[controller.economic]`` gets
the advisor around its NMPC instead (:mod:`energyopt.advise.process`).

The expected saving's baseline holds the tagged MVs (:data:`BASELINE_HOLD_S`,
:data:`BASELINE_TRIM`; :mod:`controllers.advisor.baseline`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from energyopt.advise.base import SessionBase
from energyopt.advise.mvinfo import CachedSource, MVInfo, advisor_mode
from energyopt.advise.tagwindow import TagWindows
from energyopt.errors import DataError, ModelError, ProjectError

if TYPE_CHECKING:
    import os

    from controllers.advisor import Advisor, AdvisorMode, Recommendation
    from controllers.economic import EconomicMPC, HorizonInputs
    from energyopt.advise.process import ProcessAdvisorSession
    from energyopt.advise.snapshot import PlantSnapshot, SnapshotMap
    from energyopt.controlbuild import DisturbanceRecord, EconomicHorizon
    from energyopt.data.reader import HistorianReader
    from energyopt.plantbuild import BuiltPlant
    from energyopt.project import Project

__all__ = ["AdvisorSession", "MVInfo"]

#: Measurements read before ``t`` for the state and the advisor's history. [ms]
WINDOW_MS = 30 * 60_000
#: The forecasters are refitted when the asked time moves this far past the last fit. [s]
REFIT_EVERY_S = 86_400.0
#: Fewest days of history before ``t`` the forecasters are fitted on. [d]
MIN_HISTORY_DAYS = 3.0
#: Hold windows of the expected saving's baseline, tried in order. [s]
BASELINE_HOLD_S: tuple[float, ...] = (3600.0, 900.0)
#: Share of a held setpoint's range the plant's automatic loops may still move
#: it by during the hold (on the demo steelworks a turbine's extraction closes the
#: medium-pressure header: held exactly, a 0.2 kg/s imbalance crosses its
#: pressure limits within 15 min). [-]
BASELINE_TRIM = 0.05


class AdvisorSession(SessionBase):
    """A project's advisor on a historian file (see the module docstring).

    Use :meth:`open`; close it (or use it as a context manager) to release the file.

    Parameters
    ----------
    project : Project
        The validated project (with ``[controller.economic]``).
    built : BuiltPlant
        Its plant.
    reader : HistorianReader
        The open historian file (the session closes it).
    parameters : numpy.ndarray
        Plant parameters of the controller and the readings. [SI]
    mode : AdvisorMode or str, optional
        Advisor mode; default ``[controller] mode``.

    Attributes
    ----------
    project : Project
        The project.
    built : BuiltPlant
        Its plant.
    mpc : EconomicMPC
        The controller.
    advisor : Advisor
        The advisor driving it.
    mvs : tuple of MVInfo
        The MVs, in the controller's order.
    currency : str
        The project's currency.
    """

    def __init__(
        self,
        project: Project,
        built: BuiltPlant,
        reader: HistorianReader,
        parameters: npt.NDArray[np.float64],
        mode: AdvisorMode | str | None = None,
    ) -> None:
        from controllers.advisor import Advisor, AdvisorSettings, ManipulatedVariable
        from energyopt.advise.snapshot import SnapshotMap
        from energyopt.controlbuild import build_economic_controller, economic_settings

        settings = economic_settings(project, built)
        super().__init__(project, built, reader, parameters, round(settings.interval_s * 1000.0))
        self._history_ms = round(MIN_HISTORY_DAYS * 86_400_000)
        self._history_why = f"the forecast needs {MIN_HISTORY_DAYS:g} days"
        self._source = CachedSource()
        self.mpc: EconomicMPC = build_economic_controller(
            project, built, self._source, parameters=parameters
        )
        self.map: SnapshotMap = SnapshotMap(built, parameters, self.mpc.mv_names, settings.balances)
        self._check_tags()
        self._mv_index = np.array(
            [built.index("u", name) for name in self.mpc.mv_names], dtype=np.intp
        )
        self.mvs = tuple(self._mv_info(mv.name) for mv in settings.mvs)
        self._step_ms = self._sampling_ms()
        mvs = tuple(ManipulatedVariable(mv.name, mv.low, mv.high, mv.rate) for mv in settings.mvs)
        # The expected saving's baseline: the operators' (tagged) setpoints held,
        # the untagged balancing MVs re-optimised (controllers.advisor.baseline).
        held = tuple(info.variable for info in self.mvs if info.tag is not None)
        windows = tuple(
            dict.fromkeys(max(1, round(s / settings.interval_s)) for s in BASELINE_HOLD_S)
        )
        state_names = tuple(v.name for v in built.model.states)
        self.advisor: Advisor = Advisor(
            self.mpc,
            AdvisorSettings(
                mvs=mvs,
                measurement_names=state_names,
                interval_s=settings.interval_s,
                # Offline: the controller's own wall-time limit plus the plan checks.
                time_budget_s=2.0 * settings.max_wall_time_s,
                mode=advisor_mode(project.controller.mode if mode is None else mode),
                baseline_held=held,
                baseline_hold_intervals=windows,
                baseline_trim=BASELINE_TRIM,
            ),
        )
        self._record: DisturbanceRecord | None = None
        self._record_span: tuple[int, int] = (0, 0)
        self._start_ms: int | None = None
        self.comparison_terms: Any = None
        self._snapshots: dict[int, PlantSnapshot] = {}
        self._windows = TagWindows(
            project,
            reader,
            {built.bindings[n].tag: n for n in self.map.bindings_needed()},
            self._step_ms,
            WINDOW_MS,
        )

    # ------------------------------------------------------------ construction

    @classmethod
    def open(
        cls,
        project_path: str | os.PathLike[str],
        data_path: str | os.PathLike[str],
        *,
        parameters: npt.ArrayLike | None = None,
        mode: AdvisorMode | str | None = None,
    ) -> AdvisorSession | ProcessAdvisorSession:
        """Load the project, build its plant and controller, open the historian read-only.

        A process flowsheet without ``[controller.economic]`` gets the advisor
        around its NMPC (:class:`~energyopt.advise.process.ProcessAdvisorSession`).

        Parameters
        ----------
        project_path : str or path-like
            Project file (a fitted project works the same).
        data_path : str or path-like
            Historian file (format v1).
        parameters : array_like, optional
            Plant parameters (calibrated); default the project's. [SI]
        mode : AdvisorMode or str, optional
            ``"OFF"``, ``"PREDICT"`` or ``"ADVISE"``; default ``[controller] mode``.

        Returns
        -------
        AdvisorSession or ProcessAdvisorSession

        Raises
        ------
        ProjectError
            If the project is invalid, has neither ``[controller.economic]``
            nor a process flowsheet, or a state or MV cannot be read from its
            bindings (a process NMPC: no MV or no CV band).
        DataError
            If the file cannot be read or lacks a bound tag the advisor needs.
        """
        from energyopt.advise.process import ProcessAdvisorSession
        from energyopt.data.reader import HistorianReader
        from energyopt.plantbuild import build_plant
        from energyopt.project import load_project

        project = load_project(project_path)
        built = build_plant(project, project_path=project_path)
        economic = "economic" in project.controller.model_fields_set
        if not economic and built.flowsheet is None:
            raise ProjectError(
                f"{project_path}: controller: the advisor needs [controller.economic] (an "
                "economic MPC) or a process flowsheet (its NMPC); this project has neither"
            )
        p = built.parameters() if parameters is None else np.asarray(parameters, dtype=float)
        if p.shape != built.parameters().shape:
            raise ModelError(
                f"parameters must have shape {built.parameters().shape}, got {p.shape}"
            )
        reader = HistorianReader(data_path)
        try:
            if not economic:
                return ProcessAdvisorSession(project, built, reader, p, mode)
            return cls(project, built, reader, p, mode)
        except BaseException:
            reader.close()
            raise

    def _check_tags(self) -> None:
        from energyopt.controlbuild.record import forecast_bindings
        from energyopt.errors import TagNotFoundError

        needed = dict.fromkeys([*self.map.bindings_needed(), *forecast_bindings(self.built)])
        missing = [
            f"{self.built.bindings[b].tag} (bindings.{b})"
            for b in needed
            if self.built.bindings[b].tag not in self.reader.tags
        ]
        if missing:
            raise TagNotFoundError(
                f"{self.reader.path}: the advisor needs tag(s) missing from the file: "
                + ", ".join(missing)
            )

    def preload(self, start_ms: int, end_ms: int) -> None:
        """Read what asked times in ``[start_ms, end_ms]`` need, once.

        The disturbance record the forecasts need and the bound tags of the
        snapshots' windows (:class:`~energyopt.advise.tagwindow.TagWindows`):
        after it, :meth:`snapshot` at a decision time in the span reads no
        file (h5py holds the GIL; a GUI worker would stall the event loop).
        Only samples before each asked time are ever used (causal); reading
        a longer span once saves re-reading it at every interval.
        """
        self._windows.preload(start_ms, end_ms)
        self._read_record(start_ms, end_ms)

    def _read_record(self, start_ms: int, end_ms: int) -> None:
        """Read the disturbance record for asked times in ``[start_ms, end_ms]`` if not held."""
        from energyopt.controlbuild import read_disturbance_record

        training = self.project.controller.forecast.training_s
        first, last = self.reader.time_span_ms
        lo = first if training is None else max(first, start_ms - round(training * 1000.0))
        hi = min(last + 1, end_ms + 1)
        if self._record is not None and self._record_span[0] <= lo and hi <= self._record_span[1]:
            return
        self._record = read_disturbance_record(self.built, self.reader, (lo, hi), self._interval_ms)
        self._record_span = (lo, hi)
        self._source.forecast = None

    def _forecast(self, at_ms: int) -> EconomicHorizon:
        """The causal forecast at ``at_ms`` (:mod:`energyopt.controlbuild.causal`)."""
        from energyopt.controlbuild.causal import causal_forecast_source

        self._read_record(at_ms, at_ms)
        record = self._record
        if record is None:  # pragma: no cover - set by preload
            raise DataError("no disturbance record")
        try:
            source = self._source.forecast
            # The source only moves forward in time: an earlier time gets a new one
            # (fitted on the record before it), so the forecast stays causal.
            if source is None or self._start_ms is None or at_ms < self._start_ms:
                source = causal_forecast_source(
                    self.built,
                    record,
                    start_ms=at_ms,
                    refit_every_s=REFIT_EVERY_S,
                    parameters=self.parameters,
                )
                self._source.forecast, self._start_ms = source, at_ms
            return source.horizon(at_ms)
        except ModelError as exc:
            raise DataError(
                f"{self.reader.path}: not enough usable history before "
                f"{self.reader.format_time(at_ms)} to forecast: {exc}"
            ) from None

    def snapshot(self, at_ms: int) -> PlantSnapshot:
        """Plant states over the window before ``at_ms`` and the inputs in force at ``at_ms``.

        Raises
        ------
        DataError
            If ``at_ms`` is outside the file or too early, or a tag has no
            usable sample in the window.
        """
        cached = self._snapshots.get(at_ms)
        if cached is not None:
            return cached
        self.check_time(at_ms)
        horizon = self._forecast(at_ms)
        clean = self._windows.read(at_ms)
        tags = self._windows.tags
        keep = clean.time_ms <= at_ms
        values = {
            tags[tag]: self.built.bindings[tags[tag]].to_model(v[keep])
            for tag, v in clean.values.items()
        }
        d_now = horizon.inputs.d[0]
        snap = self.map.snapshot(clean.time_ms[keep], values, d_now)
        # The shadow mode asks each time twice (decision, then operators' moves).
        self._snapshots = {**dict(list(self._snapshots.items())[-2:]), at_ms: snap}
        return snap

    def state(self, at_ms: int) -> npt.NDArray[np.float64]:
        """The state at ``at_ms`` after the advisor's sanitising (NaN where invalid). [SI]."""
        from controllers.advisor import sanitise_measurements

        snap = self.snapshot(at_ms)
        cfg = self.advisor.settings
        meas = sanitise_measurements(
            snap.states[-1],
            snap.states[:-1],
            cfg.measurement_names,
            max_stale_samples=cfg.max_stale_samples,
        )
        return np.where(meas.valid, meas.values, np.nan)

    def current_mvs(self, at_ms: int) -> npt.NDArray[np.float64]:
        """MV values in force at ``at_ms`` (the recorded setpoints), controller order. [SI]."""
        return self.snapshot(at_ms).inputs[self._mv_index]

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
            See :class:`controllers.advisor.Recommendation` (SI values).

        Raises
        ------
        DataError
            If ``at_ms`` is outside the file, has too little history before
            it, or a needed tag has no usable sample before it.
        """
        at_ms = int(at_ms)
        snap = self.snapshot(at_ms)
        u = snap.inputs
        self._source.u_base = np.where(np.isfinite(u), u, 0.0)
        mv_now = u[self._mv_index]
        return self.advisor.recommend(at_ms / 1000.0, mv_now, snap.states[-1], snap.states[:-1])

    def last_horizon(self) -> HorizonInputs | None:
        """The horizon inputs (forecast) of the last controller solve, ``None`` before one."""
        return None if self._source.last is None else self._source.last[1]
