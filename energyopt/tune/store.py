"""The trial store of a tune: an optuna journal (JSON Lines, fsynced) in the tune folder.

``DIR/trials.journal`` is optuna's :class:`~optuna.storages.JournalStorage`
file: one JSON object per line, appended and flushed to disk (``fsync``)
as each trial starts and finishes -- never pickle.  Each finished trial
carries its parameters and, as its user attribute ``result``, its
per-window KPIs, the wall time of each window, its score, constraint
values, status (``complete`` or ``failed``, with the error) and timing.  The study's user
attributes hold the tune's *setup* (project text, data file, windows,
search space, objective, evaluate function) and the evaluation of the
project's current settings.

Running ``energyopt tune`` again on the same folder resumes: finished
trials count towards the budget and are not rerun; a trial left running by
an interrupted run (or a killed process) is marked failed without a
``result`` and its parameters are queued again, so it is rerun first.
Run one tune at a time on a folder: a second one would take the first
one's running trials for interrupted ones.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from energyopt.errors import OutputError
from energyopt.tune.objective import Objective, Score

if TYPE_CHECKING:
    import optuna

__all__ = [
    "JOURNAL_NAME",
    "RESULT_ATTR",
    "STUDY_NAME",
    "TrialRecord",
    "finished_records",
    "open_study",
    "requeue_interrupted",
]

JOURNAL_NAME = "trials.journal"
#: User attribute of a finished trial holding its result (:func:`record_attrs`).
RESULT_ATTR = "result"
STUDY_NAME = "energyopt-tune"


@dataclass(frozen=True)
class TrialRecord:
    """One evaluated set of settings.

    Attributes
    ----------
    number : int or None
        optuna trial number; ``None`` for the project's current settings.
    status : {"complete", "failed"}
        ``failed``: a window raised a user-facing error or the objective KPI
        was not computed (see ``error``).
    params : mapping
        Dotted project key -> value (the current values for ``number=None``).
    windows : tuple of mapping
        Per window: KPI key -> value (None: not computed).
    seconds : tuple of float
        Wall time of each window. [s]
    cpu_seconds : tuple of float
        CPU time of the worker process in each window (below ``seconds``
        when the machine is shared). [s]
    score : Score
        Objective and constraint violations.
    error : str
        Why the trial failed ("" if it did not).
    """

    number: int | None
    status: str
    params: Mapping[str, Any]
    windows: tuple[Mapping[str, float | None], ...]
    seconds: tuple[float, ...]
    score: Score
    error: str = ""
    cpu_seconds: tuple[float, ...] = ()

    @property
    def label(self) -> str:
        """``"current"`` or ``"trial <n>"``."""
        return "current" if self.number is None else f"trial {self.number}"

    def to_dict(self, objective: Objective) -> dict[str, Any]:
        """Return a JSON-ready dict (NaN as None)."""
        return {
            "trial": self.number,
            "status": self.status,
            "params": dict(self.params),
            "score": _json(self.score.value),
            "feasible": self.score.feasible,
            "violations": {
                key: _json(v)
                for key, v in zip(objective.constraints, self.score.violations, strict=True)
            },
            "windows": [dict(w) for w in self.windows],
            "seconds": list(self.seconds),
            "cpu_seconds": list(self.cpu_seconds),
            "error": self.error,
        }


def _json(value: float) -> float | None:
    return value if math.isfinite(value) else None


def fingerprint(setup: Mapping[str, Any]) -> str:
    """Return the SHA-256 of the setup's canonical JSON."""
    text = json.dumps(setup, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def open_study(
    folder: Path,
    setup: Mapping[str, Any],
    direction: Literal["minimize", "maximize"],
    sampler: optuna.samplers.BaseSampler,
) -> optuna.Study:
    """Create the study in ``folder``, or load it if it holds the same setup.

    Parameters
    ----------
    folder : pathlib.Path
        The tune folder (created if missing; its parent must exist).
    setup : mapping
        JSON-ready description of everything that defines the tune.
    direction : {"minimize", "maximize"}
        Of the objective KPI.
    sampler : optuna.samplers.BaseSampler
        The sampler.

    Returns
    -------
    optuna.Study

    Raises
    ------
    OutputError
        If the folder cannot be created or holds a tune of another setup.
    """
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    if not folder.parent.is_dir():
        raise OutputError(f"cannot create tune folder '{folder}': '{folder.parent}' does not exist")
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create tune folder '{folder}': {exc.strerror or exc}") from None
    if not folder.is_dir():
        raise OutputError(f"tune folder '{folder}' is not a folder")
    journal = folder / JOURNAL_NAME
    # The open-based lock works on every platform (the default symlink lock
    # needs privileges on Windows).
    backend = JournalFileBackend(str(journal), lock_obj=JournalFileOpenLock(str(journal)))
    storage = JournalStorage(backend)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        storage=storage,
        study_name=STUDY_NAME,
        direction=direction,
        sampler=sampler,
        load_if_exists=True,
    )
    digest = fingerprint(setup)
    known = study.user_attrs.get("fingerprint")
    if known is None:
        study.set_user_attr("setup", dict(setup))
        study.set_user_attr("fingerprint", digest)
    elif known != digest:
        old = study.user_attrs.get("setup", {})
        changed = sorted(k for k in {*old, *setup} if old.get(k) != setup.get(k))
        raise OutputError(
            f"tune folder '{folder}' holds a tune with other settings (changed: "
            f"{', '.join(changed) or 'unknown'}); use another folder or delete it to start over"
        )
    return study


def requeue_interrupted(study: optuna.Study) -> int:
    """Mark trials left running by an interrupted run as failed and queue their params again.

    Returns
    -------
    int
        Trials queued again.
    """
    from optuna.trial import TrialState

    count = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
        study.enqueue_trial(dict(trial.params))
        count += 1
    return count


def _record(trial: optuna.trial.FrozenTrial, objective: Objective) -> TrialRecord:
    attrs = trial.user_attrs.get(RESULT_ATTR, {})
    windows = tuple(dict(w) for w in attrs.get("windows", ()))
    violations = tuple(math.nan if v is None else float(v) for v in attrs.get("violations", ()))
    value = attrs.get("score")
    return TrialRecord(
        number=trial.number,
        status=str(attrs.get("status", "failed")),
        params=dict(trial.params),
        windows=windows,
        seconds=tuple(float(s) for s in attrs.get("seconds", ())),
        score=Score(math.nan if value is None else float(value), violations),
        error=str(attrs.get("error", "")),
        cpu_seconds=tuple(float(s) for s in attrs.get("cpu_seconds", ())),
    )


def finished_records(study: optuna.Study, objective: Objective) -> list[TrialRecord]:
    """Return the finished trials (complete or failed by an error), by trial number."""
    from optuna.trial import TrialState

    return [
        _record(trial, objective)
        for trial in study.get_trials(deepcopy=False)
        if trial.state == TrialState.COMPLETE
        or (trial.state == TrialState.FAIL and RESULT_ATTR in trial.user_attrs)
    ]


def record_attrs(
    windows: Sequence[Mapping[str, float | None]],
    seconds: Sequence[float],
    cpu_seconds: Sequence[float],
    score: Score,
    status: str,
    error: str,
) -> dict[str, Any]:
    """Return the user attributes stored with a finished trial."""
    return {
        "windows": [dict(w) for w in windows],
        "seconds": [float(s) for s in seconds],
        "cpu_seconds": [float(s) for s in cpu_seconds],
        "score": _json(score.value),
        "violations": [_json(v) for v in score.violations],
        "status": status,
        "error": error,
    }


def record_from_attrs(
    number: int | None, params: Mapping[str, Any], attrs: Mapping[str, Any]
) -> TrialRecord:
    """Rebuild a record from :func:`record_attrs` output (the current-settings entry)."""
    value = attrs.get("score")
    return TrialRecord(
        number=number,
        status=str(attrs.get("status", "failed")),
        params=dict(params),
        windows=tuple(dict(w) for w in attrs.get("windows", ())),
        seconds=tuple(float(s) for s in attrs.get("seconds", ())),
        score=Score(
            math.nan if value is None else float(value),
            tuple(math.nan if v is None else float(v) for v in attrs.get("violations", ())),
        ),
        error=str(attrs.get("error", "")),
        cpu_seconds=tuple(float(s) for s in attrs.get("cpu_seconds", ())),
    )
