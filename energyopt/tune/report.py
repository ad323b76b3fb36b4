"""The evidence of a tune: ``<project>.tuned.tune.json`` and the table printed by the CLI."""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from energyopt.kpis.registry import kpi_info

if TYPE_CHECKING:
    from energyopt.tune.engine import TuneResult
    from energyopt.tune.store import TrialRecord

__all__ = ["EVIDENCE_FORMAT", "EVIDENCE_VERSION", "evidence", "input_identity", "result_table"]

EVIDENCE_FORMAT = "energyopt-tune"
EVIDENCE_VERSION = 1
_TOP_ROWS = 10


def _changes(result: TuneResult) -> dict[str, dict[str, Any]]:
    return {
        key: {"from": result.current.params.get(key), "to": value}
        for key, value in result.best.params.items()
        if value != result.current.params.get(key)
    }


def evidence(
    result: TuneResult,
    *,
    project_path: str,
    data_path: str,
    tuned_path: str,
    budget: int,
    inputs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the JSON-ready evidence of a tune.

    Parameters
    ----------
    result : TuneResult
        From :func:`energyopt.tune.run_tune`.
    project_path, data_path, tuned_path : str
        The input project, the data file and the tuned project written.
    budget : int
        The trial budget of the run.
    inputs : dict, optional
        What identifies the input files' contents as the tune read them
        (:func:`input_identity`): recorded as ``inputs``.

    Returns
    -------
    dict
        ``format``, ``version``, ``project``, ``data``, ``tuned_project``,
        ``folder``, ``budget``, ``objective`` (KPI, name, unit, direction,
        aggregation), ``constraints``, ``windows``, ``space``, ``current``,
        ``best`` (with ``improved`` and ``changes``), ``trials`` and, when
        given, ``inputs``.
    """
    objective = result.objective
    info = kpi_info(objective.kpi)
    best = result.best.to_dict(objective)
    best["improved"] = result.improved
    best["changes"] = _changes(result)
    return {
        "format": EVIDENCE_FORMAT,
        "version": EVIDENCE_VERSION,
        "project": project_path,
        "data": data_path,
        "tuned_project": tuned_path,
        "folder": str(result.folder),
        "budget": budget,
        "objective": {
            "kpi": objective.kpi,
            "name_en": info.name_en,
            "name_zh": info.name_zh,
            "unit": info.unit,
            "direction": objective.direction,
            "aggregate": "sum over the windows",
        },
        "constraints": {
            key: {"min": low, "max": high, "unit": kpi_info(key).unit}
            for key, (low, high) in objective.constraints.items()
        },
        "windows": [{"start_ms": a, "end_ms": b} for a, b in result.windows],
        "space": [spec.to_dict() for spec in result.space],
        "current": result.current.to_dict(objective),
        "best": best,
        "trials": [t.to_dict(objective) for t in result.trials],
        **({} if inputs is None else {"inputs": dict(inputs)}),
    }


def input_identity(
    project_path: str | os.PathLike[str], data_path: str | os.PathLike[str]
) -> dict[str, Any]:
    """Identify the contents of a tune's input files, to tell later whether they changed.

    The project file by the SHA-256 of its bytes (small; a save without
    changes keeps it); the historian file by its size and modification time
    in nanoseconds, as ``make`` and ``rsync`` do (hashing gigabytes of history
    at every reopen would take seconds, and a file rewritten in place keeps
    neither).

    Parameters
    ----------
    project_path, data_path : str or path-like
        The project file and the historian file of the tune.

    Returns
    -------
    dict
        ``project_sha256``, ``data_size_bytes``, ``data_mtime_ns``; an
        unreadable file leaves its entries out.
    """
    out: dict[str, Any] = {}
    with contextlib.suppress(OSError):
        out["project_sha256"] = hashlib.sha256(Path(project_path).read_bytes()).hexdigest()
    with contextlib.suppress(OSError):
        stat = Path(data_path).stat()
        out["data_size_bytes"] = stat.st_size
        out["data_mtime_ns"] = stat.st_mtime_ns
    return out


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if not math.isfinite(value):
        return "-"
    return f"{value:.6g}"


def _time(ms: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(ms / 1000.0, tz=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _window_value(record: TrialRecord, index: int, key: str) -> Any:
    if index >= len(record.windows):
        return None
    return record.windows[index].get(key)


def result_table(result: TuneResult, *, timezone: str = "UTC") -> str:
    """Return the tune's result as plain-text tables (settings, windows, best trials).

    Parameters
    ----------
    result : TuneResult
        The tune.
    timezone : str
        IANA zone the window times are shown in (the project's).

    Returns
    -------
    str
    """
    objective = result.objective
    info = kpi_info(objective.kpi)
    zone = ZoneInfo(timezone)
    best, current = result.best, result.current
    lines = [
        (
            f"Tune: {len(result.trials)} trials ({result.computed} computed now); objective "
            f"{info.name_en} [{info.unit}], {objective.direction}d over "
            f"{len(result.windows)} window(s)"
        ),
        f"Best: {best.label} ({'feasible' if best.score.feasible else 'INFEASIBLE'})"
        + ("" if result.improved else " -- no trial beats the current settings"),
        "",
    ]
    width = max((len(s.key) for s in result.space), default=10)
    lines.append(f"{'setting':<{width}}  {'current':>14}  {'best':>14}")
    lines.extend(
        f"{s.key:<{width}}  {_num(current.params.get(s.key)):>14}  "
        f"{_num(best.params.get(s.key)):>14}"
        for s in result.space
    )
    keys = [objective.kpi, *[k for k in objective.constraints if k != objective.kpi]]
    kpi_width = max(len(k) for k in keys) + 6
    lines += ["", f"{'window':<16}  {'KPI':<{kpi_width}}  {'current':>14}  {'best':>14}"]
    for i, (start, _) in enumerate(result.windows):
        for key in keys:
            unit = kpi_info(key).unit
            lines.append(
                f"{_time(start, zone):<16}  {f'{key} [{unit}]':<{kpi_width}}  "
                f"{_num(_window_value(current, i, key)):>14}  "
                f"{_num(_window_value(best, i, key)):>14}"
            )
    lines.append(
        f"{'total':<16}  {f'{objective.kpi} [{info.unit}]':<{kpi_width}}  "
        f"{_num(current.score.value):>14}  {_num(best.score.value):>14}"
    )
    ranked = sorted(result.trials, key=lambda r: (objective.rank_key(r.score), r.number or 0))
    lines += ["", f"{'trial':>6}  {'status':<8}  {'score':>14}  {'feasible':<8}  {'time s':>8}"]
    for record in ranked[:_TOP_ROWS]:
        lines.append(
            f"{record.number:>6}  {record.status:<8}  {_num(record.score.value):>14}  "
            f"{'yes' if record.score.feasible else 'no':<8}  {_num(sum(record.seconds)):>8}"
        )
    if len(ranked) > _TOP_ROWS:
        lines.append(f"... {len(ranked) - _TOP_ROWS} more trials in the evidence file")
    return "\n".join(lines)
