"""Run one replay: a controller on the project's plant over a recorded period.

:func:`run_replay` builds the case (:mod:`energyopt.replay.case`), the
controller (:mod:`energyopt.replay.policies`), simulates the closed loop
(:func:`energyopt.closedloop.run_closed_loop`, sensors without noise: the
record's own noise is already in the driving signals) and computes the KPI
set of the run -- and, for ``recorded``, also of the recorded tags
themselves (:mod:`energyopt.replay.kpispec`).  Steps where a recorded tag a
KPI uses is missing are left out of *every* run's KPIs, so runs compare
over the same steps.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.progress import CancelToken, ProgressCallback, null_progress

if TYPE_CHECKING:
    from energyopt.closedloop import ClosedLoopResult
    from energyopt.controlbuild.record import DisturbanceRecord
    from energyopt.data.reader import HistorianReader
    from energyopt.kpis import KpiResult
    from energyopt.project import Project
    from energyopt.replay.case import ReplayCase
    from energyopt.replay.kpispec import ReplayKpiSpec

__all__ = [
    "PreparedReplay",
    "ReplayRun",
    "plant_fingerprint",
    "prepare_replay",
    "recorded_series",
    "run_prepared",
    "run_replay",
]

_J_PER_KWH = 3.6e6
#: Forecast history read when ``[controller.forecast] training_s`` is not set. [s]
DEFAULT_TRAINING_S = 14 * 86_400.0


@dataclass(frozen=True, eq=False)
class ReplayRun:
    """One replay run.

    Attributes
    ----------
    controller : str
        ``"mpc"``, ``"baseline"`` or ``"recorded"``.
    case : ReplayCase
        The recorded period the run was driven by.
    result : ClosedLoopResult
        The simulated run on the fine grid.
    kpis : dict of str to KpiResult
        KPI set of the simulated run, with ``holder_protection_time`` when
        the project's holder protection acted in it (``mpc``, ``baseline``).
    recorded_kpis : dict of str to KpiResult
        KPI set of the recorded tags over the same steps (empty unless
        requested).
    spec : ReplayKpiSpec
        The KPI spec used.
    decision_every : int
        Fine steps per controller decision.
    """

    controller: str
    case: ReplayCase
    result: ClosedLoopResult
    kpis: dict[str, KpiResult]
    recorded_kpis: dict[str, KpiResult]
    spec: ReplayKpiSpec
    decision_every: int

    @property
    def time_ms(self) -> npt.NDArray[np.int64]:
        """Start of each fine step. [ms since epoch]."""
        return self.case.time_ms

    @property
    def decision_rows(self) -> npt.NDArray[np.intp]:
        """Fine-step indices of the controller's decisions."""
        return np.arange(0, self.case.n_steps, self.decision_every, dtype=np.intp)


def recorded_series(case: ReplayCase) -> dict[str, npt.NDArray[np.float64]]:
    """Recorded tags as model variables in SI (variable name -> series, NaN where missing)."""
    out: dict[str, npt.NDArray[np.float64]] = {}
    for e in case.built.bindings.entries:
        if e.tag in case.tags:
            out[e.name] = e.to_model(case.tags[e.tag])
    return out


def _kpi_missing(
    spec: ReplayKpiSpec, recorded: dict[str, npt.NDArray[np.float64]], n: int
) -> npt.NDArray[np.bool_]:
    """Steps where a recorded series any KPI uses is missing."""
    names = set(spec.power_purchased) | set(spec.power_import) | set(spec.power_generated)
    names |= set(spec.power_demand)
    names |= {v[0] for v in spec.fuels.values()} | {v[0] for v in spec.holders.values()}
    for group in (spec.gas_made, spec.gas_flared):
        for vs in group.values():
            names |= set(vs)
    names |= set(spec.cv_bands) | set(spec.mv_limits)
    missing = np.zeros(n, dtype=bool)
    for name in names:
        if name in recorded:
            missing |= ~np.isfinite(recorded[name])
    return missing


@dataclass(frozen=True, eq=False)
class PreparedReplay:
    """A replay case with what every controller's run needs, built once.

    Attributes
    ----------
    case : ReplayCase
        The recorded period on the fine grid.
    interval_s : float
        Control interval (the economic MPC's when declared). [s]
    record : DisturbanceRecord or None
        Disturbance tags from the forecast's training window before the
        period to its end (for ``mpc``; None when not read).
    """

    case: ReplayCase
    interval_s: float
    record: DisturbanceRecord | None

    def for_project(self, project: Project) -> PreparedReplay:
        """Return this prepared replay with another ``[controller]`` (a tune trial's).

        The plant, bindings, record and grid are reused; only the project the
        controller is built from changes, and the forecast record is cut to
        the new ``[controller.forecast] training_s`` as :func:`prepare_replay`
        would read it (the same samples, except that a fresh read leaves its
        first samples unusable where the data-quality filters need the
        samples before them).

        Parameters
        ----------
        project : Project
            The project with the trial's settings: equal to the prepared one
            outside ``[controller]`` and ``[tune]``, with the same control
            interval.

        Returns
        -------
        PreparedReplay

        Raises
        ------
        ProjectError
            If ``project`` differs elsewhere (the plant or record would
            differ) or changes the control interval (the fine grid would).
        """
        from energyopt.errors import ProjectError
        from energyopt.replay.policies import control_interval_s

        old = self.case.built
        if plant_fingerprint(project) != plant_fingerprint(old.project):
            raise ProjectError(
                f"{project.source or 'project'}: a prepared replay is reused only for a project "
                "that differs in [controller] and [tune] alone; prepare the replay again"
            )
        built = replace(old, project=project, _price_cache={})
        interval_s = control_interval_s(built)
        if interval_s != self.interval_s:
            raise ProjectError(
                f"{project.source or 'project'}: controller: the control interval "
                f"{interval_s:g} s differs from the prepared replay's {self.interval_s:g} s; "
                "prepare the replay again"
            )
        record = self.record
        if record is not None:
            from energyopt.controlbuild.record import DisturbanceRecord

            first = int(self.case.time_ms[0]) - round(_training_s(project) * 1000.0)
            keep = record.time_ms >= first
            record = DisturbanceRecord(
                record.time_ms[keep], {k: v[keep] for k, v in record.values.items()}
            )
        return PreparedReplay(replace(self.case, built=built), interval_s, record)


def plant_fingerprint(project: Project) -> str:
    """Return a hash of the project outside ``[controller]`` and ``[tune]`` (and its source).

    Two projects with the same fingerprint build the same plant and read the
    same replay case; only their controllers differ.
    """
    import hashlib
    import json

    data = project.model_dump(mode="json", exclude={"controller", "tune"})
    text = json.dumps([project.source, data], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _training_s(project: Project) -> float:
    """History the MPC's forecast fits on. [s]."""
    return float(project.controller.forecast.training_s or DEFAULT_TRAINING_S)


def prepare_replay(
    project: Project,
    data_path: str | os.PathLike[str],
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    parameters: npt.ArrayLike | None = None,
    with_record: bool = False,
    record_history_s: float | None = None,
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
) -> PreparedReplay:
    """Read the recorded period once for one or several replay runs.

    Parameters
    ----------
    project : Project
        The validated project (a fitted project carries the calibrated parameters).
    data_path : str or path-like
        The historian file (opened read-only).
    start_ms, end_ms : int, optional
        Replay period; default the whole file. [ms since epoch]
    parameters : array_like, optional
        Plant parameters of the simulated plant; default the project's. [SI]
    with_record : bool
        Also read the disturbance record the MPC's causal forecast needs.
    record_history_s : float, optional
        History of that record before the period; default the project's
        ``[controller.forecast] training_s`` (a longer one serves later
        :meth:`PreparedReplay.for_project` calls with longer training). [s]
    progress : ProgressCallback
        Called as ``progress(done, total, message)``.
    cancel : CancelToken, optional
        Checked between reading steps.

    Returns
    -------
    PreparedReplay
    """
    from energyopt.data.reader import HistorianReader
    from energyopt.plantbuild import build_plant
    from energyopt.replay.case import build_case
    from energyopt.replay.policies import control_interval_s

    built = build_plant(project)
    interval_s = control_interval_s(built)
    progress(0.0, None, "reading the record")
    record = None
    with HistorianReader(Path(data_path)) as reader:
        case = build_case(
            built,
            reader,
            interval_s=interval_s,
            start_ms=start_ms,
            end_ms=end_ms,
            parameters=parameters,
            cancel=cancel,
        )
        if with_record:
            history_s = _training_s(project) if record_history_s is None else record_history_s
            record = _forecast_record(case, reader, history_s)
    return PreparedReplay(case, interval_s, record)


def run_replay(
    project: Project,
    data_path: str | os.PathLike[str],
    controller: str,
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    parameters: npt.ArrayLike | None = None,
    baseline: str | None = None,
    recorded_kpis: bool | None = None,
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
) -> ReplayRun:
    """Replay a recorded period with one controller.

    Parameters
    ----------
    project : Project
        The validated project (a fitted project carries calibrated parameters).
    data_path : path-like
        Historian file (read-only).
    controller : {"mpc", "baseline", "recorded"}
        Which controller acts on the simulated plant.
    start_ms, end_ms : int, optional
        Period ``[start, end)``; default the whole file. [ms since epoch]
    parameters : array_like, optional
        Parameters of the simulated plant; default the project's. [SI]
    baseline : str, optional
        Baseline override (``"dispatch"`` or ``"hold"``).
    recorded_kpis : bool, optional
        Also compute the KPIs of the recorded tags (default: for ``recorded``).
    progress : ProgressCallback
        ``progress(done_s, total_s, message)`` in simulated seconds.
    cancel : CancelToken, optional
        Checked between reads and once per fine step.

    Returns
    -------
    ReplayRun

    Raises
    ------
    DataError
        If the file cannot drive the replay (missing tag, long gap, period
        outside the file).
    ProjectError
        For an unknown controller or baseline, or ``mpc`` without
        ``[controller.economic]``.
    ModelError
        If the simulation diverges or the forecast cannot be fitted.
    CancelledError
        If ``cancel`` is set.
    """
    _check_controller(controller)
    prepared = prepare_replay(
        project,
        data_path,
        start_ms=start_ms,
        end_ms=end_ms,
        parameters=parameters,
        with_record=controller == "mpc" and "economic" in project.controller.model_fields_set,
        progress=progress,
        cancel=cancel,
    )
    return run_prepared(
        prepared,
        controller,
        baseline=baseline,
        recorded_kpis=recorded_kpis,
        progress=progress,
        cancel=cancel,
    )


def _check_controller(controller: str) -> None:
    from energyopt.replay.policies import CONTROLLERS

    if controller not in CONTROLLERS:
        from energyopt.errors import ProjectError

        raise ProjectError(
            f"replay: unknown controller {controller!r}; choose one of {', '.join(CONTROLLERS)}"
        )


def run_prepared(
    prepared: PreparedReplay,
    controller: str,
    *,
    baseline: str | None = None,
    recorded_kpis: bool | None = None,
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
) -> ReplayRun:
    """Run one controller on a prepared replay (see :func:`run_replay`).

    Raises
    ------
    ProjectError
        For an unknown controller or baseline.
    ModelError
        If ``mpc`` is asked of a replay prepared without its record, or the
        simulation diverges.
    CancelledError
        If ``cancel`` is set.
    """
    from energyopt.closedloop import run_closed_loop
    from energyopt.closedloop.plant import TruthPlant
    from energyopt.replay.kpispec import compute_replay_kpis, kpi_spec, protection_kpi
    from energyopt.replay.policies import build_policy

    _check_controller(controller)
    case = prepared.case
    built = case.built
    interval_s = prepared.interval_s
    policy = build_policy(case, controller, baseline=baseline, record=prepared.record)
    plant = TruthPlant(
        built.model,
        case.parameters,
        case.x0,
        case.disturbances,
        case.step_s,
        substeps=case.substeps,
        method="rk4",
    )
    result = run_closed_loop(
        plant,
        policy,
        case.u0(np.zeros(built.model.sizes["u"])),
        n_steps=case.n_steps,
        progress=progress,
        cancel=cancel,
    )
    spec = kpi_spec(built)
    recorded = recorded_series(case)
    missing = _kpi_missing(spec, recorded, case.n_steps)
    price_kwh = case.price_per_j * _J_PER_KWH
    is_mpc = controller == "mpc"
    every = round(interval_s / case.step_s) if is_mpc else 1
    rows = np.arange(0, case.n_steps, every)
    names = {v.name for k in ("x", "u", "d", "y") for v in built.model.variables(k)}

    def simulated(name: str) -> npt.NDArray[np.float64] | None:
        return result.series(name) if name in names else None

    kpis = compute_replay_kpis(
        spec,
        simulated,
        case.step_s,
        price_kwh,
        solve_times_s=result.compute_time_s[rows] if is_mpc else None,
        control_interval_s=interval_s if is_mpc else None,
        missing=missing,
    )
    protection = getattr(policy, "protection", None)
    if protection is not None:
        kpis["holder_protection_time"] = protection_kpi(protection, case.n_steps)
    rec_kpis: dict[str, KpiResult] = {}
    if recorded_kpis or (recorded_kpis is None and controller == "recorded"):
        rec_kpis = compute_replay_kpis(spec, recorded.get, case.step_s, price_kwh, missing=missing)
    return ReplayRun(
        controller=controller,
        case=case,
        result=result,
        kpis=kpis,
        recorded_kpis=rec_kpis,
        spec=spec,
        decision_every=every,
    )


def _forecast_record(
    case: ReplayCase, reader: HistorianReader, history_s: float
) -> DisturbanceRecord:
    """The disturbance tags from ``history_s`` before the period to its end, in SI."""
    from energyopt.controlbuild import read_disturbance_record

    built = case.built
    first = max(reader.time_span_ms[0], int(case.time_ms[0]) - round(history_s * 1000.0))
    step_ms = round(case.step_s * 1000.0)
    end = int(case.time_ms[-1]) + step_ms
    return read_disturbance_record(built, reader, (first, end), step_ms)
