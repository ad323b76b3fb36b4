"""The advisor on recorded data: a project, its historian file and the economic MPC.

:class:`AdvisorSession` builds, from a project and a historian file, the
:class:`controllers.advisor.Advisor` around the project's economic MPC
(``[controller.economic]``) with a causal profile+ARX forecast fitted on the
history before the asked time.  At a time ``t`` it reads the bound tags of
a short window before ``t`` (read-only, only the tags it needs), maps them
to the plant state and inputs (:mod:`energyopt.advise.snapshot`), and asks
the advisor.  Projects without ``[controller.economic]`` (process NMPC) are
refused with a :class:`~energyopt.errors.ProjectError` for now.

The expected saving's baseline holds the tagged MVs (:data:`BASELINE_HOLD_S`,
:data:`BASELINE_TRIM`; :mod:`controllers.advisor.baseline`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

import numpy as np
import numpy.typing as npt

from energyopt.errors import DataError, ModelError, ProjectError

if TYPE_CHECKING:
    import os
    from types import TracebackType

    from controllers.advisor import Advisor, AdvisorMode, Recommendation
    from controllers.economic import EconomicMPC, HorizonInputs
    from energyopt.advise.snapshot import PlantSnapshot, SnapshotMap
    from energyopt.controlbuild import DisturbanceRecord, EconomicHorizon
    from energyopt.controlbuild.causal import CausalForecastSource
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


@dataclass(frozen=True)
class MVInfo:
    """A manipulated variable as the operator knows it.

    Attributes
    ----------
    variable : str
        Plant input name.
    binding : str or None
        Project binding name (``None`` for an MV without a tag).
    tag : str or None
        Historian tag of its setpoint.
    unit : str
        Engineering unit of the tag (the model's SI unit without a tag).
    scale, offset : float
        ``tag value = SI value * scale + offset``.
    """

    variable: str
    binding: str | None
    tag: str | None
    unit: str
    scale: float
    offset: float

    def to_tag(self, value: float | None) -> float | None:
        """SI value -> engineering unit (``None`` stays ``None``). [tag unit]."""
        return None if value is None else float(value) * self.scale + self.offset

    @property
    def name(self) -> str:
        """Binding name if bound, else the plant input name."""
        return self.binding or self.variable


class _CachedSource:
    """The forecast source of the MPC, remembering the last horizon it gave."""

    def __init__(self) -> None:
        self.forecast: CausalForecastSource | None = None
        self.last: tuple[float, HorizonInputs] | None = None
        self.u_base: npt.NDArray[np.float64] | None = None

    def __call__(self, time_s: float) -> HorizonInputs:
        from controllers.economic import HorizonInputs

        if self.forecast is None:  # pragma: no cover - set before any solve
            raise ModelError("advisor: no forecast fitted")
        inputs = self.forecast(time_s)
        if self.u_base is not None:
            inputs = HorizonInputs(inputs.d, inputs.price_per_j, self.u_base.copy())
        self.last = (time_s, inputs)
        return inputs


class AdvisorSession:
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

        self.project = project
        self.built = built
        self.reader = reader
        self.parameters = parameters
        self.currency = project.project.currency
        settings = economic_settings(project, built)
        self._source = _CachedSource()
        self.mpc: EconomicMPC = build_economic_controller(
            project, built, self._source, parameters=parameters
        )
        self.map: SnapshotMap = SnapshotMap(built, parameters, self.mpc.mv_names, settings.balances)
        self._check_tags()
        self._mv_index = np.array(
            [built.index("u", name) for name in self.mpc.mv_names], dtype=np.intp
        )
        self.mvs = tuple(self._mv_info(mv.name) for mv in settings.mvs)
        self._interval_ms = round(settings.interval_s * 1000.0)
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
                mode=_mode(project.controller.mode if mode is None else mode),
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

    # ------------------------------------------------------------ construction

    @classmethod
    def open(
        cls,
        project_path: str | os.PathLike[str],
        data_path: str | os.PathLike[str],
        *,
        parameters: npt.ArrayLike | None = None,
        mode: AdvisorMode | str | None = None,
    ) -> AdvisorSession:
        """Load the project, build its plant and controller, open the historian read-only.

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
        AdvisorSession

        Raises
        ------
        ProjectError
            If the project is invalid, has no ``[controller.economic]``, or a
            state or MV cannot be read from its bindings.
        DataError
            If the file cannot be read or lacks a bound tag the advisor needs.
        """
        from energyopt.data.reader import HistorianReader
        from energyopt.plantbuild import build_plant
        from energyopt.project import load_project

        project = load_project(project_path)
        if "economic" not in project.controller.model_fields_set:
            raise ProjectError(
                f"{project_path}: controller: the advisor needs [controller.economic] (an "
                "economic MPC); the process NMPC is not available to the advisor yet"
            )
        built = build_plant(project, project_path=project_path)
        p = built.parameters() if parameters is None else np.asarray(parameters, dtype=float)
        if p.shape != built.parameters().shape:
            raise ModelError(
                f"parameters must have shape {built.parameters().shape}, got {p.shape}"
            )
        reader = HistorianReader(data_path)
        try:
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

    def _mv_info(self, variable: str) -> MVInfo:
        for e in self.built.bindings.entries:
            if e.vector == "u" and e.name == variable:
                return MVInfo(variable, e.binding, e.tag, e.tag_unit, e.scale, e.offset)
        unit = next(v.unit for v in self.built.model.inputs if v.name == variable)
        return MVInfo(variable, None, None, unit, 1.0, 0.0)

    def _sampling_ms(self) -> int:
        step = self.reader.sampling_ms
        if step is None or not step > 0:
            raise DataError(f"{self.reader.path}: needs at least two samples")
        return max(1, round(step))

    def close(self) -> None:
        """Close the historian file."""
        self.reader.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------ properties

    @property
    def interval_s(self) -> float:
        """Control interval of the advisor. [s]."""
        return self._interval_ms / 1000.0

    @property
    def timezone(self) -> str:
        """The plant's IANA time zone (the project's)."""
        return str(self.project.project.timezone)

    @property
    def mode(self) -> AdvisorMode:
        """The advisor's mode (settable)."""
        return self.advisor.mode

    @mode.setter
    def mode(self, mode: AdvisorMode | str) -> None:
        self.advisor.mode = _mode(mode)

    def earliest_ms(self) -> int:
        """First time with enough history before it for the forecast. [ms since epoch]."""
        first, _ = self.reader.time_span_ms
        return first + round(MIN_HISTORY_DAYS * 86_400_000)

    def decision_times(self, start_ms: int | None = None, end_ms: int | None = None) -> np.ndarray:
        """Control-interval starts in ``[start_ms, end_ms)`` the advisor can be asked at.

        Intervals are aligned to whole multiples of the interval since the
        epoch (as the forecasts are); only times with enough history before
        them and with data at or after them are returned.

        Parameters
        ----------
        start_ms, end_ms : int or None
            Range; default the file's usable span. [ms since epoch]

        Returns
        -------
        numpy.ndarray of int64
            [ms since epoch]
        """
        _, last = self.reader.time_span_ms
        lo = self.earliest_ms() if start_ms is None else max(self.earliest_ms(), int(start_ms))
        hi = last + 1 if end_ms is None else min(int(end_ms), last + 1)
        t = self._interval_ms
        first = -(-lo // t)
        count = max(0, -(-hi // t) - first)
        return (first + np.arange(count, dtype=np.int64)) * t

    def default_time_ms(self) -> int:
        """Start of the last complete control interval in the file. [ms since epoch]."""
        _, last = self.reader.time_span_ms
        return (last // self._interval_ms) * self._interval_ms

    # ------------------------------------------------------------ data

    def check_time(self, at_ms: int) -> None:
        """Raise :class:`DataError` if ``at_ms`` is outside the file or has too little history."""
        first, last = self.reader.time_span_ms
        if not first <= at_ms <= last:
            raise DataError(
                f"{self.reader.path}: time {self.reader.format_time(at_ms)} is outside the "
                f"file ({self.reader.format_time(first)} .. {self.reader.format_time(last)})"
            )
        if at_ms < self.earliest_ms():
            raise DataError(
                f"{self.reader.path}: time {self.reader.format_time(at_ms)} has not enough "
                f"history before it: the forecast needs {MIN_HISTORY_DAYS:g} days, the file "
                f"starts {self.reader.format_time(first)} (earliest "
                f"{self.reader.format_time(self.earliest_ms())})"
            )

    def preload(self, start_ms: int, end_ms: int) -> None:
        """Read the disturbance record the forecasts need for asked times in ``[start_ms, end_ms]``.

        Only samples before each asked time are ever used (causal); reading
        a longer span once saves re-reading it at every interval.
        """
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

        self.preload(at_ms, at_ms)
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
        from energyopt.tagdata import read_clean_tags

        cached = self._snapshots.get(at_ms)
        if cached is not None:
            return cached
        self.check_time(at_ms)
        horizon = self._forecast(at_ms)
        names = self.map.bindings_needed()
        tags = {self.built.bindings[n].tag: n for n in names}
        window = (at_ms - WINDOW_MS, at_ms + 1)
        clean = read_clean_tags(
            self.project,
            self.reader,
            list(tags),
            window,
            self._step_ms,
            owner="advisor",
            describe=lambda tag: f"bindings.{tags[tag]} (tag '{tag}')",
        )
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


def _mode(mode: object) -> AdvisorMode:
    from controllers.advisor import AdvisorMode

    if isinstance(mode, AdvisorMode):
        return mode
    text = str(mode).strip().upper()
    try:
        return AdvisorMode[text]
    except KeyError:
        raise ProjectError(f"advisor mode must be OFF, PREDICT or ADVISE, got {mode!r}") from None
