"""Replay outputs: ``results.h5`` (historian format v1), ``compare_*.h5``, ``kpis.json``.

:func:`replay_to_dir` runs the chosen controller (and the cheap comparison
runs), then writes everything into a temporary sibling of the output folder
and renames it into place at the end: a cancelled or failed replay leaves no
output folder behind.  File layouts are those of the issue-5 contracts
(``docs/workflows.md``, section "replay").
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from energyopt.errors import EnergyoptError, OutputError
from energyopt.progress import CancelToken, ProgressCallback, null_progress

if TYPE_CHECKING:
    from energyopt.replay.run import ReplayRun

__all__ = ["kpis_document", "replay_to_dir", "write_results"]

_KINDS = (("y", "output"), ("x", "state"), ("u", "input"), ("d", "disturbance"))


def write_results(run: ReplayRun, path: Path, *, source_project: Path, source_data: Path) -> Path:
    """Write one run as a historian file (format v1) with its decisions.

    Parameters
    ----------
    run : ReplayRun
        The run.
    path : Path
        Destination ``.h5`` (must not exist).
    source_project, source_data : Path
        Absolute paths recorded in the root attributes.

    Returns
    -------
    Path
    """
    import h5py

    from energyopt.closedloop import STATUS_CODES
    from energyopt.data.writer import write_historian

    case = run.case
    built = case.built
    project = built.project
    result = run.result
    n = case.n_steps
    values: dict[str, Any] = {}
    units: dict[str, str] = {}
    kinds: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    for e in built.bindings.entries:
        values[e.tag] = e.to_tag(result.series(e.name))
        units[e.tag] = e.tag_unit
        kinds[e.tag] = project.bindings[e.binding].kind
        descriptions[e.tag] = f"simulated {e.name} ({run.controller})"
    tables = {
        "y": result.outputs,
        "x": result.states[:n],
        "u": result.inputs,
        "d": result.disturbances,
    }
    model_kinds: dict[str, str] = {}
    for vector, kind in _KINDS:
        for i, var in enumerate(built.model.variables(vector)):
            tag = f"model.{var.name}"
            if tag in values:
                continue  # a state that is also an output: recorded once, as the output
            values[tag] = tables[vector][:, i]
            units[tag] = var.unit or "1"
            model_kinds[tag] = kind
            descriptions[tag] = var.description or var.name
    write_historian(
        path,
        case.time_ms,
        values,
        units,
        descriptions=descriptions,
        kinds=kinds,
        plant=project.project.name,
        timezone=project.project.timezone,
    )
    rows = run.decision_rows
    with h5py.File(path, "r+") as h5:
        h5.attrs["energyopt_run"] = run.controller
        h5.attrs["source_project"] = str(source_project)
        h5.attrs["source_data"] = str(source_data)
        for tag, kind in model_kinds.items():
            h5["tags"][tag].attrs["kind"] = kind
        group = h5.create_group("decisions")
        group.create_dataset("time", data=case.time_ms[rows].astype(np.int64))
        group.create_dataset("compute_time_s", data=result.compute_time_s[rows].astype(np.float64))
        status = group.create_dataset("status", data=result.status[rows].astype(np.int8))
        status.attrs["codes"] = ",".join(STATUS_CODES)
    return path


def kpis_document(
    runs: dict[str, ReplayRun],
    controller: str,
    *,
    source_project: Path,
    source_data: Path,
) -> dict[str, Any]:
    """The ``kpis.json`` document of a replay and its comparison runs.

    Parameters
    ----------
    runs : dict of str to ReplayRun
        Computed runs by controller name.
    controller : str
        The chosen controller.
    source_project, source_data : Path
        Absolute input paths.

    Returns
    -------
    dict
        JSON-ready, with runs ``recorded`` (the recorded tags' KPIs, the
        reference when present), ``baseline`` and ``mpc``.
    """
    from energyopt.kpis import KpiReport

    first = runs[controller]
    project = first.case.built.project
    table: dict[str, Any] = {}
    rec = runs.get("recorded")
    if rec is not None and rec.recorded_kpis:
        table["recorded"] = rec.recorded_kpis
    for name in ("baseline", "mpc"):
        if name in runs:
            table[name] = runs[name].kpis
    if not table:
        table["recorded"] = first.kpis
    report = KpiReport.from_results(table, reference="recorded" if "recorded" in table else None)
    step_ms = round(first.case.step_s * 1000.0)
    return {
        "format": "energyopt-kpis",
        "version": 1,
        "plant": project.project.name,
        "timezone": project.project.timezone,
        "period": {
            "start_ms": int(first.case.time_ms[0]),
            "end_ms": int(first.case.time_ms[-1]) + step_ms,
        },
        "controller": controller,
        "source_project": str(source_project),
        "source_data": str(source_data),
        "report": report.to_dict(),
    }


def _stage(out_dir: Path) -> Path:
    parent = out_dir.parent
    if not parent.is_dir():
        raise OutputError(f"{out_dir}: the parent folder does not exist")
    if out_dir.exists():
        raise OutputError(f"{out_dir}: already exists; choose a new output folder")
    return Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=parent))


def replay_to_dir(
    project_path: str | os.PathLike[str],
    data_path: str | os.PathLike[str],
    controller: str,
    out_dir: str | os.PathLike[str],
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    compare: bool = True,
    shadow: bool = False,
    lang: str = "en",
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
) -> Path:
    """Replay a period and write the output folder atomically.

    Parameters
    ----------
    project_path : path-like
        Project file.
    data_path : path-like
        Historian file (read-only).
    controller : {"mpc", "baseline", "recorded"}
        The controller of ``results.h5``.
    out_dir : path-like
        Output folder (must not exist; created at the end).
    start_ms, end_ms : int, optional
        Period. [ms since epoch]
    compare : bool
        Also run ``recorded`` and ``baseline`` (cheap) when not chosen, into
        ``compare_<name>.h5``.
    shadow : bool
        Also run the advisor's shadow mode (``energyopt.advise.run_shadow``).
    lang : {"en", "zh"}
        Report language.
    progress : ProgressCallback
        Progress of the runs.
    cancel : CancelToken, optional
        Cancels cleanly (no output folder).

    Returns
    -------
    Path
        The output folder.

    Raises
    ------
    OutputError
        If ``out_dir`` exists or would be inside an input.
    """
    from energyopt.fileio import check_not_input
    from energyopt.project import load_project
    from energyopt.replay.run import prepare_replay, run_prepared

    project_file = Path(project_path).resolve()
    data_file = Path(data_path).resolve()
    target = Path(out_dir).resolve()
    check_not_input(target)
    if target in (project_file, data_file):
        raise OutputError(f"{target}: the output folder cannot be an input file")
    project = load_project(project_file)
    names = [controller]
    if compare:
        names += [c for c in ("recorded", "baseline") if c != controller]
    runs: dict[str, ReplayRun] = {}
    stage = _stage(target)
    try:
        prepared = prepare_replay(
            project,
            data_file,
            start_ms=start_ms,
            end_ms=end_ms,
            with_record="mpc" in names,
            progress=progress,
            cancel=cancel,
        )
        for k, name in enumerate(names):

            def step(
                done: float, total: float | None, message: str, k: int = k, label: str = name
            ) -> None:
                share = done / total if total else 0.0
                progress(k + share, float(len(names)), f"{label}: {message}")

            runs[name] = run_prepared(
                prepared,
                name,
                recorded_kpis=name == "recorded",
                progress=step,
                cancel=cancel,
            )
        if cancel is not None:
            cancel.raise_if_cancelled()
        for name, run in runs.items():
            file = "results.h5" if name == controller else f"compare_{name}.h5"
            write_results(run, stage / file, source_project=project_file, source_data=data_file)
        document = kpis_document(
            runs, controller, source_project=project_file, source_data=data_file
        )
        (stage / "kpis.json").write_text(
            json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        if shadow:
            _shadow(project_file, data_file, stage, start_ms, end_ms, progress, cancel)
        _report(stage, lang)
        if cancel is not None:
            cancel.raise_if_cancelled()
        _commit(stage, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return target


def _commit(stage: Path, target: Path) -> None:
    """Rename the finished stage onto the output folder (never over an existing one)."""
    if target.exists():
        raise OutputError(f"{target}: appeared while the replay ran; not replaced")
    stage.rename(target)


def _shadow(
    project_file: Path,
    data_file: Path,
    stage: Path,
    start_ms: int | None,
    end_ms: int | None,
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> None:
    try:
        from energyopt.advise import run_shadow
    except ImportError:
        raise OutputError(
            "replay --shadow: the advisor's shadow mode (energyopt.advise) is not installed"
        ) from None
    run_shadow(
        project_file,
        data_file,
        stage,
        start_ms=start_ms,
        end_ms=end_ms,
        progress=progress,
        cancel=cancel,
    )


def _report(stage: Path, lang: str) -> None:
    """Write ``report.html`` when :mod:`energyopt.report` is available."""
    try:
        from energyopt.report import write_report
    except ImportError:
        return
    try:
        write_report(stage, lang=lang)
    except EnergyoptError as exc:
        raise OutputError(f"replay: the report could not be written: {exc}") from None
