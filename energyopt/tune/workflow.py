"""``energyopt tune`` as a function: project file in, tuned project file and evidence out.

:func:`tune_project` reads the project (and its ``[tune]`` section), runs
:func:`energyopt.tune.run_tune` in the tune folder, then writes, next to the
input and never over it, the tuned project ``<name>.tuned.toml`` (the input
with the best settings) and its evidence ``<name>.tuned.tune.json``, each
atomically.  Nothing is written when the tune is cancelled.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from energyopt.errors import OutputError
from energyopt.progress import CancelToken, ProgressCallback, null_progress
from energyopt.tune.evaluate import DEFAULT_EVALUATE

if TYPE_CHECKING:
    from energyopt.project import Project
    from energyopt.tune.engine import TuneResult
    from energyopt.tune.schema import TuneSettings
    from energyopt.tune.store import TrialRecord

__all__ = ["TuneOutcome", "default_paths", "load_tune_project", "tune_project"]


@dataclass(frozen=True)
class TuneOutcome:
    """The files a tune wrote and its result.

    Attributes
    ----------
    result : TuneResult
        The tune.
    tuned_path : pathlib.Path
        The tuned project file.
    evidence_path : pathlib.Path
        Its evidence (JSON).
    evidence : dict
        The evidence's content.
    """

    result: TuneResult
    tuned_path: Path
    evidence_path: Path
    evidence: dict[str, Any]


def default_paths(project_path: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """Return the default tune folder, tuned project and evidence paths of a project file.

    ``plant.toml`` -> ``plant.tune/``, ``plant.tuned.toml``, ``plant.tuned.tune.json``.
    """
    path = Path(project_path)
    stem = path.stem if path.suffix == ".toml" else path.name
    return (
        path.with_name(f"{stem}.tune"),
        path.with_name(f"{stem}.tuned.toml"),
        path.with_name(f"{stem}.tuned.tune.json"),
    )


def load_tune_project(path: str | os.PathLike[str]) -> tuple[Project, TuneSettings]:
    """Read a project file and its optional ``[tune]`` section.

    Parameters
    ----------
    path : str or path-like
        The project file.

    Returns
    -------
    project : Project
        The validated project.
    settings : TuneSettings
        Its ``[tune]`` section (defaults if absent).

    Raises
    ------
    ProjectError
        If the file cannot be read or fails validation (``[tune]`` included),
        one line per problem with its key path.
    """
    from energyopt.project import load_project
    from energyopt.tune.schema import TuneSettings

    project = load_project(path)
    return project, project.tune if project.tune is not None else TuneSettings()


def _check_outputs(paths: list[Path], inputs: list[Path]) -> None:
    from energyopt.fileio import check_destination

    for out in paths:
        for known in inputs:
            if out.resolve() == known.resolve():
                raise OutputError(f"refusing to write '{out}': it is an input of the tune")
        check_destination(out, overwrite=True)


def tune_project(
    project_path: str | os.PathLike[str],
    data_path: str | os.PathLike[str],
    *,
    folder: str | os.PathLike[str] | None = None,
    output: str | os.PathLike[str] | None = None,
    budget: int | None = None,
    windows: int | None = None,
    window_s: float | None = None,
    history_s: float | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    evaluate: str = DEFAULT_EVALUATE,
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
    on_trial: Callable[[TrialRecord], None] | None = None,
) -> TuneOutcome:
    """Tune a project file's controller settings on a data file and write the result.

    Parameters
    ----------
    project_path : str or path-like
        The project (``[tune]`` section optional).
    data_path : str or path-like
        The recorded historian file.
    folder : str or path-like, optional
        Tune folder (trial journal, resumed when it exists); default
        ``<name>.tune`` next to the project.
    output : str or path-like, optional
        Tuned project file; default ``<name>.tuned.toml`` next to the
        project.  Its evidence is the same path with ``.toml`` replaced by
        ``.tune.json``.  Existing outputs of an earlier tune are replaced.
    budget, windows : int, optional
        Trials in total and replay windows; default from ``[tune]``.
    window_s : float, optional
        Window length [s]; default from ``[tune]``.
    history_s : float, optional
        Recorded history before the first window [s]; default from ``[tune]``.
    workers : int
        Local worker processes.
    scheduler : str, optional
        dask.distributed scheduler address (instead of local workers).
    evaluate : str
        Evaluate function reference (:mod:`energyopt.tune.evaluate`).
    progress : ProgressCallback
        (trials finished, budget, message).
    cancel : CancelToken, optional
        Cancels the tune; no output file is written then.
    on_trial : callable, optional
        Receives each trial record as it finishes (:func:`energyopt.tune.run_tune`).

    Returns
    -------
    TuneOutcome

    Raises
    ------
    ProjectError, DataError, OutputError
        For an unusable project, ``[tune]`` section, data file or output path.
    CancelledError
        If cancelled (finished trials stay in the folder for a resume).
    """
    from energyopt.project import save_project
    from energyopt.project.overrides import apply_overrides
    from energyopt.tune.engine import run_tune
    from energyopt.tune.report import evidence, input_identity

    source = Path(project_path)
    # Identified before reading, so an edit during the tune shows as a change.
    inputs = input_identity(source, data_path)
    project, settings = load_tune_project(source)
    changes: dict[str, Any] = {}
    if budget is not None:
        changes["budget"] = budget
    if windows is not None:
        changes["windows"] = windows
    if window_s is not None:
        changes["window_s"] = window_s
    if history_s is not None:
        changes["history_s"] = history_s
    if changes:
        settings = settings.model_validate({**settings.model_dump(), **changes})
    default_folder, default_output, _ = default_paths(source)
    tuned = Path(output) if output is not None else default_output
    stem = tuned.name.removesuffix(".toml")
    evidence_path = tuned.with_name(f"{stem}.tune.json")
    _check_outputs([tuned, evidence_path], [source, Path(data_path)])
    result = run_tune(
        project,
        data_path,
        default_folder if folder is None else folder,
        settings=settings,
        workers=workers,
        scheduler=scheduler,
        evaluate=evaluate,
        progress=progress,
        cancel=cancel,
        on_trial=on_trial,
    )
    best = apply_overrides(project, result.best.params) if result.improved else project
    content = evidence(
        result,
        project_path=str(source.resolve()),
        data_path=str(Path(data_path).resolve()),
        tuned_path=str(tuned.resolve()),
        budget=settings.budget,
        inputs=inputs,
    )
    if cancel is not None:
        cancel.raise_if_cancelled()
    save_project(best.with_source(str(tuned)), tuned, overwrite=True)
    from energyopt.fileio import atomic_output

    with atomic_output(evidence_path, overwrite=True) as tmp:
        tmp.write_text(json.dumps(content, indent=1, ensure_ascii=False), encoding="utf-8")
    return TuneOutcome(result, tuned, evidence_path, content)
