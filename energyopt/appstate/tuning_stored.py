"""The result of an earlier tune, read back when its project is opened again.

A finished tune leaves beside the project ``<name>.tuned.toml`` and its
evidence ``<name>.tuned.tune.json`` (:func:`energyopt.tune.report.evidence`:
the windows, the search space, the objective and constraints, the
project's current settings and every trial with its KPIs per window).
:func:`read_stored_tune` rebuilds the :class:`~energyopt.tune.TuneOutcome`
from the evidence alone (no optuna, no replay), so the tuning panel shows it
as it showed the tune when it finished, and lists with
:func:`stored_changes` what is no longer as the evidence records: another
project or historian file, a searched setting whose project value changed
(the tuned settings applied, for example), another search space, objective
or constraints, a project or historian file saved after the result was
written, a tuned project file that is gone.  No change: the result still
holds for the project.

The evidence records what identifies its input files' contents
(:func:`energyopt.tune.report.input_identity`: the project file's SHA-256,
the historian file's size and modification time): the project counts as
modified when its bytes differ (a save without changes does not count, an
edit that changes nothing tunable does), the historian file when its size or
time differ.  Evidence written before it recorded them (no ``inputs``) falls
back to modification times: a file saved after the evidence file was written.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from energyopt.appstate.tuning_parts import format_value
from energyopt.errors import ProjectError

if TYPE_CHECKING:
    from energyopt.project import Project
    from energyopt.tune import ParamSpec, TrialRecord, TuneOutcome
    from energyopt.tune.objective import Objective

__all__ = ["CHANGE_CODES", "StoredChange", "StoredTune", "read_stored_tune", "stored_changes"]

CHANGE_CODES: tuple[str, ...] = (
    "project_path",
    "data_path",
    "settings",
    "space",
    "project_modified",
    "data_modified",
    "tuned_missing",
)
"""Kinds of :class:`StoredChange`, in the order they are listed."""


@dataclass(frozen=True)
class StoredChange:
    """One way the project or its files differ from what a stored tune result records.

    Attributes
    ----------
    code : str
        One of :data:`CHANGE_CODES`: ``project_path`` (the result was made
        for another project file, ``detail``), ``data_path`` (on another
        historian file), ``settings`` (a searched setting's project value
        changed: ``"key: before -> now"``), ``space`` (the searched
        parameters, objective or constraints changed: what), ``project_modified``
        and ``data_modified`` (the file was saved after the result:
        ``at_ms``), ``tuned_missing`` (the tuned project file is gone).
    detail : str
        The path, key or item concerned.
    at_ms : int or None
        When the file was modified (``*_modified``). [ms since epoch]
    """

    code: str
    detail: str = ""
    at_ms: int | None = None


@dataclass(frozen=True)
class StoredTune:
    """A tune result found beside the project, and whether it still holds.

    Attributes
    ----------
    outcome : TuneOutcome
        The result rebuilt from the evidence (``computed`` is 0), the tuned
        project path and the evidence.
    made_ms : int
        When the result was written (the evidence file's modification time). [ms since epoch]
    changes : tuple of StoredChange
        What differs from what the result records; empty if nothing does.
    """

    outcome: TuneOutcome
    made_ms: int
    changes: tuple[StoredChange, ...] = ()

    @property
    def valid(self) -> bool:
        """Whether the result still holds for the project (no change found)."""
        return not self.changes


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _spec(item: Mapping[str, Any]) -> ParamSpec:
    from energyopt.tune.space import ParamSpec

    if "choices" in item:
        return ParamSpec(
            str(item["key"]), "categorical", choices=tuple(item["choices"]), current=item["current"]
        )
    step = item.get("step")
    return ParamSpec(
        str(item["key"]),
        item["kind"],
        float(item["low"]),
        float(item["high"]),
        log=item.get("scale") == "log",
        step=None if step is None else float(step),
        current=item.get("current"),
    )


def _record(item: Mapping[str, Any], objective: Objective) -> TrialRecord:
    from energyopt.tune.objective import Score
    from energyopt.tune.store import TrialRecord

    violations = item.get("violations") or {}
    number = item.get("trial")
    return TrialRecord(
        number=None if number is None else int(number),
        status=str(item.get("status", "failed")),
        params=dict(item.get("params") or {}),
        windows=tuple(
            {k: None if v is None else float(v) for k, v in w.items()}
            for w in item.get("windows") or ()
        ),
        seconds=tuple(float(s) for s in item.get("seconds") or ()),
        score=Score(
            _float(item.get("score")),
            tuple(_float(violations.get(key)) for key in objective.constraints),
        ),
        error=str(item.get("error", "")),
        cpu_seconds=tuple(float(s) for s in item.get("cpu_seconds") or ()),
    )


def _outcome(content: Any, evidence_path: Path) -> TuneOutcome:
    """Rebuild the outcome of a tune from its evidence (KeyError, TypeError, ValueError)."""
    from energyopt.tune.engine import TuneResult
    from energyopt.tune.objective import Objective
    from energyopt.tune.report import EVIDENCE_FORMAT, EVIDENCE_VERSION
    from energyopt.tune.workflow import TuneOutcome

    if not isinstance(content, dict) or content.get("format") != EVIDENCE_FORMAT:
        raise ValueError("not the evidence of an energyopt tune")
    if not 1 <= int(content.get("version", 0)) <= EVIDENCE_VERSION:
        raise ValueError(
            f"evidence version {content.get('version')} (this energyopt reads "
            f"1 to {EVIDENCE_VERSION})"
        )
    objective = Objective(
        str(content["objective"]["kpi"]),
        {
            key: (bounds.get("min"), bounds.get("max"))
            for key, bounds in (content.get("constraints") or {}).items()
        },
    )
    current = _record(content["current"], objective)
    trials = tuple(_record(item, objective) for item in content.get("trials") or ())
    best_number = content["best"].get("trial")
    best = current
    if best_number is not None:
        best = next(t for t in trials if t.number == best_number)
    result = TuneResult(
        folder=Path(content.get("folder", "")),
        space=tuple(_spec(item) for item in content.get("space") or ()),
        objective=objective,
        windows=tuple((int(w["start_ms"]), int(w["end_ms"])) for w in content["windows"]),
        current=current,
        trials=trials,
        best=best,
        computed=0,
    )
    return TuneOutcome(result, Path(content["tuned_project"]), evidence_path, dict(content))


def _mtime_ms(path: Path) -> int | None:
    try:
        return int(path.stat().st_mtime * 1000.0)
    except OSError:
        return None


def read_stored_tune(
    project_path: str | Path,
    project: Project,
    data_path: str | Path | None = None,
    space: Sequence[ParamSpec] | None = None,
) -> StoredTune | None:
    """Read the result a finished tune left beside a project file, and check it against it.

    Parameters
    ----------
    project_path : str or path-like
        The project file (its evidence is ``<name>.tuned.tune.json`` beside it).
    project : Project
        The project loaded from it.
    data_path : str or path-like, optional
        The historian file open now (not compared if omitted).
    space : sequence of ParamSpec, optional
        The project's search space now (not compared if omitted: unusable).

    Returns
    -------
    StoredTune or None
        ``None`` if there is no evidence file.

    Raises
    ------
    ProjectError
        If the evidence file cannot be read or is not the evidence of a tune
        this energyopt reads.
    """
    from energyopt.tune.workflow import default_paths

    evidence_path = default_paths(project_path)[2]
    try:
        text = evidence_path.read_text(encoding="utf-8")
        made_ms = int(evidence_path.stat().st_mtime * 1000.0)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"cannot read the stored tune result '{evidence_path}': {exc}") from None
    try:
        outcome = _outcome(json.loads(text), evidence_path)
    except (KeyError, TypeError, ValueError, StopIteration, AttributeError) as exc:
        reason = f"missing {exc}" if isinstance(exc, KeyError) else str(exc) or type(exc).__name__
        raise ProjectError(
            f"the stored tune result '{evidence_path}' cannot be read: {reason}"
        ) from None
    changes = stored_changes(outcome, made_ms, project_path, project, data_path, space)
    return StoredTune(outcome, made_ms, changes)


def _without_current(specs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in spec.items() if k != "current"} for spec in specs]


def _space_changes(
    outcome: TuneOutcome, project: Project, space: Sequence[ParamSpec]
) -> list[StoredChange]:
    from energyopt.tune.schema import TuneSettings

    result = outcome.result
    settings = project.tune if project.tune is not None else TuneSettings()
    out: list[StoredChange] = []
    old = {spec["key"]: spec for spec in _without_current([s.to_dict() for s in result.space])}
    new = {spec["key"]: spec for spec in _without_current([s.to_dict() for s in space])}
    keys = [k for k in (*old, *(k for k in new if k not in old)) if old.get(k) != new.get(k)]
    out.extend(StoredChange("space", key) for key in keys)
    if settings.objective != result.objective.kpi:
        out.append(StoredChange("space", "objective"))
    bounds = {k: (c.min, c.max) for k, c in settings.constraint_bounds.items()}
    if bounds != dict(result.objective.constraints):
        out.append(StoredChange("space", "constraints"))
    return out


def stored_changes(
    outcome: TuneOutcome,
    made_ms: int,
    project_path: str | Path,
    project: Project,
    data_path: str | Path | None = None,
    space: Sequence[ParamSpec] | None = None,
) -> tuple[StoredChange, ...]:
    """List what differs between a stored tune result and the project and files open now.

    Parameters
    ----------
    outcome : TuneOutcome
        The stored result (its ``evidence`` records the tune's inputs).
    made_ms : int
        When the result was written. [ms since epoch]
    project_path : str or path-like
        The project file open now.
    project : Project
        The project loaded from it.
    data_path : str or path-like, optional
        The historian file open now (not compared if omitted).
    space : sequence of ParamSpec, optional
        The project's search space now (not compared if omitted).

    Returns
    -------
    tuple of StoredChange
        In the order of :data:`CHANGE_CODES`; empty if nothing differs.
    """
    from energyopt.project.overrides import project_value
    from energyopt.tune.report import input_identity

    evidence = outcome.evidence
    project_file = Path(project_path).resolve()
    recorded_project = Path(str(evidence.get("project", "")))
    out: list[StoredChange] = []
    if recorded_project != project_file:
        out.append(StoredChange("project_path", str(recorded_project)))
    data_file = None if data_path is None else Path(data_path).resolve()
    recorded_data = Path(str(evidence.get("data", "")))
    if data_file is not None and recorded_data != data_file:
        out.append(StoredChange("data_path", str(recorded_data)))
    for key, before in outcome.result.current.params.items():
        try:
            now = project_value(project, key)
        except ProjectError:
            now = None
        if now != before:
            text = f"{key}: {format_value(before)} -> {format_value(now)}"
            out.append(StoredChange("settings", text))
    if space is not None:
        out.extend(_space_changes(outcome, project, space))
    # Only the files the tune read can have been modified since.  The inputs'
    # identity (content hash of the project, size and mtime of the history)
    # when the evidence records it; older evidence: saved after the result.
    inputs = evidence.get("inputs")
    recorded = inputs if isinstance(inputs, dict) else {}
    now = input_identity(project_file, recorded_data)
    if recorded_project == project_file:
        modified = _mtime_ms(project_file)
        if "project_sha256" in recorded:
            changed = now.get("project_sha256") not in (None, recorded["project_sha256"])
        else:
            changed = modified is not None and modified > made_ms
        if changed:
            out.append(StoredChange("project_modified", str(project_file), modified))
    if recorded_data == data_file:
        modified = _mtime_ms(recorded_data)
        keys = ("data_size_bytes", "data_mtime_ns")
        if all(key in recorded for key in keys):
            changed = "data_size_bytes" in now and any(now[k] != recorded[k] for k in keys)
        else:
            changed = modified is not None and modified > made_ms
        if changed:
            out.append(StoredChange("data_modified", str(recorded_data), modified))
    if not outcome.tuned_path.is_file():
        out.append(StoredChange("tuned_missing", str(outcome.tuned_path)))
    return tuple(out)
