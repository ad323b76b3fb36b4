"""Shadow mode: the advisor along recorded data, against what the operators did.

At every control interval ``t`` of the period the advisor is asked
(:meth:`AdvisorSession.recommend`, measurements up to ``t``); the operators'
setpoints of the next interval are the tagged MV values in force at
``t + T`` (read by the same rules).  Per interval:

``predicted_saving``
    what acting on the recommendation now saves against waiting one
    interval (holding the current setpoints for it), over that interval
    (:func:`energyopt.advise.comparison.compare_first_interval`);
``followed``
    every tagged MV's recorded move is within :data:`FOLLOW_TOLERANCE` of
    the recommended move (10 % of it, at least :data:`FOLLOW_FLOOR` of the
    MV's span);
``missed_saving``
    zero when followed; else the cost over the first interval of the
    operators' setpoints minus the recommendation's, on the same model,
    state and forecast, counted when positive (a negative value -- the
    operators did better by the model -- is kept as ``difference`` but
    not counted as a missed saving), with its ``cause`` (the term that grew
    most).  ``None`` (not counted) when the advisor fell back to no plan.

Times at which the data cannot serve (a gap in a needed tag) are listed in
``skipped`` with the reason, not counted.  The advisor runs in mode ADVISE
whatever the project's mode (the shadow mode compares recommendations).

Hourly sums (by the hour the interval starts in) and sums per cause add up
to the total exactly (the same interval values).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from energyopt.errors import DataError, ProjectError
from energyopt.progress import null_progress

if TYPE_CHECKING:
    import os

    from controllers.advisor import Recommendation
    from energyopt.advise.process import ProcessAdvisorSession
    from energyopt.advise.session import AdvisorSession
    from energyopt.progress import CancelToken, ProgressCallback

__all__ = ["FOLLOW_FLOOR", "FOLLOW_TOLERANCE", "advise", "run_shadow", "shadow_records"]

#: A recorded move follows the recommended one within this share of it. [-]
FOLLOW_TOLERANCE = 0.10
#: ... or within this share of the MV's span, whichever is larger. [-]
FOLLOW_FLOOR = 0.01
#: Recommendations kept in ``top_recommendations``.
TOP_N = 20
_HOUR_MS = 3_600_000


def advise(
    session: AdvisorSession | ProcessAdvisorSession, at_ms: int
) -> tuple[Recommendation, dict[str, Any]]:
    """Recommend at ``at_ms`` and return the recommendation and its record.

    The record (:func:`~energyopt.advise.records.recommendation_to_dict`)
    carries the saving of acting now against waiting one interval, and its
    driver, and the part of the expected saving that is purchases (energy,
    fuel, flare and emission costs without band penalties and move
    suppression).  A process NMPC's objective is not in money: its record
    has neither (:class:`~energyopt.advise.process.ProcessAdvisorSession`).

    Raises
    ------
    DataError
        As :meth:`AdvisorSession.recommend`.
    """
    from energyopt.advise.comparison import compare_first_interval
    from energyopt.advise.process import ProcessAdvisorSession
    from energyopt.advise.records import recommendation_to_dict

    rec = session.recommend(at_ms)
    if isinstance(session, ProcessAdvisorSession):
        return rec, recommendation_to_dict(rec, session)
    x0 = session.state(at_ms)
    hold = np.array([np.nan if mv.current is None else mv.current for mv in rec.mvs])
    comparison = compare_first_interval(session, rec, x0, hold)
    record = recommendation_to_dict(
        rec,
        session,
        interval_saving=None if comparison is None else comparison.saving,
        driver=None if comparison is None else _driver(session, rec, comparison.cause),
        purchase_saving=_purchase_saving(session, rec, x0, hold),
    )
    return rec, record


def _purchase_saving(
    session: AdvisorSession, rec: Recommendation, x0: np.ndarray, current: np.ndarray
) -> float | None:
    """Purchases of the baseline minus the plan's, simulated on the last forecast. [currency]."""
    horizon = session.last_horizon()
    base = rec.baseline
    if (
        rec.expected_saving is None
        or base is None
        or rec.prediction is None
        or horizon is None
        or not (np.isfinite(x0).all() and np.isfinite(current).all())
    ):
        return None
    mpc = session.mpc
    plan = mpc.evaluate(x0, rec.prediction.mv_plan, current, horizon)
    baseline = mpc.evaluate(x0, base.mv_plan, current, horizon)
    return float(baseline.cost - plan.cost)


def _driver(session: AdvisorSession, rec: Recommendation, cause: str) -> str:
    """The cause in words: the price now for the tariff, the active holder bands."""
    if cause == "tariff":
        horizon = session.last_horizon()
        if horizon is not None:
            per_kwh = float(horizon.price_per_j[0]) * 3.6e6  # J per kWh
            return f"tariff ({per_kwh:.3g} {session.currency}/kWh now)"
    if cause == "holder band":
        holders = {
            name for name, spec in session.project.units.items() if spec.type == "gas_holder"
        }
        bands = [
            c for c in rec.active_constraints if ".band_" in c and c.split(".", 1)[0] in holders
        ]
        if bands:
            return f"holder band ({', '.join(bands)})"
    return cause


def _followed(session: AdvisorSession, rec: Recommendation, operators: np.ndarray) -> bool:
    for i, (mv, info, spec) in enumerate(
        zip(rec.mvs, session.mvs, session.advisor.settings.mvs, strict=True)
    ):
        if info.tag is None or mv.setpoint is None or mv.current is None:
            continue
        if not math.isfinite(operators[i]):
            return False
        wanted = mv.setpoint - mv.current
        done = operators[i] - mv.current
        tolerance = max(FOLLOW_TOLERANCE * abs(wanted), FOLLOW_FLOOR * (spec.upper - spec.lower))
        if abs(done - wanted) > tolerance:
            return False
    return True


def shadow_records(
    session: AdvisorSession,
    times_ms: np.ndarray,
    *,
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Ask the advisor at each time and compare with the operators' next setpoints.

    Parameters
    ----------
    session : AdvisorSession
        The session.
    times_ms : numpy.ndarray
        Decision times; each ``t + T`` must be inside the file. [ms since epoch]
    progress : ProgressCallback
        Called after each interval.
    cancel : CancelToken, optional
        Checked before each interval.

    Returns
    -------
    intervals : list of dict
        One record per interval (see the module docstring and ``docs/workflows.md``).
    skipped : list of dict
        ``{"time_ms", "reason"}`` for each time the data could not serve (a gap
        in a needed tag at ``t`` or ``t + T``, too little history to forecast).
    """
    from energyopt.advise.comparison import compare_first_interval

    step = round(session.interval_s * 1000.0)
    intervals: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    total = len(times_ms)
    for k, t in enumerate(times_ms):
        if cancel is not None:
            cancel.raise_if_cancelled()
        at = int(t)
        try:
            rec, record = advise(session, at)
            operators = session.current_mvs(at + step)
        except DataError as exc:
            skipped.append({"time_ms": at, "reason": str(exc)})
            progress(k + 1, total, f"interval {k + 1} of {total} skipped")
            continue
        moves = {}
        for i, (mv, info) in enumerate(zip(rec.mvs, session.mvs, strict=True)):
            if info.tag is None or mv.current is None:
                continue
            moves[info.name] = {
                "tag": info.tag,
                "unit": info.unit,
                "before": info.to_tag(mv.current),
                "after": _finite(info.to_tag(float(operators[i]))),
            }
        followed = _followed(session, rec, operators)
        difference = None
        cause = None
        if not followed:
            comparison = compare_first_interval(session, rec, session.state(at), operators)
            if comparison is not None:
                difference, cause = comparison.saving, comparison.cause
        missed = 0.0 if followed or difference is None else max(difference, 0.0)
        intervals.append(
            {
                "time_ms": at,
                "predicted_saving": record["interval_saving"],
                "operator_moves": moves,
                "followed": followed,
                "difference": difference,
                "missed_saving": missed,
                "cause": cause if missed > 0.0 else None,
                "recommendation": record,
            }
        )
        progress(k + 1, total, f"interval {k + 1} of {total}")
    return intervals, skipped


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def summarise(intervals: list[dict[str, Any]]) -> dict[str, Any]:
    """Missed savings per hour and per cause, and the top recommendations.

    Parameters
    ----------
    intervals : list of dict
        From :func:`shadow_records`.

    Returns
    -------
    dict
        ``missed_savings_per_hour`` (``[{"hour_start_ms", "missed"}]``, every
        hour from the first interval's to the last one's, zero without
        intervals), ``missed_by_cause``, ``missed_total`` and
        ``top_recommendations`` (at most :data:`TOP_N`, biggest predicted
        saving first).
    """
    from energyopt.advise.comparison import CAUSES

    hours: dict[int, float] = {}
    if intervals:
        first = intervals[0]["time_ms"] // _HOUR_MS * _HOUR_MS
        last = intervals[-1]["time_ms"] // _HOUR_MS * _HOUR_MS
        hours = dict.fromkeys(range(first, last + 1, _HOUR_MS), 0.0)
    by_cause = dict.fromkeys(CAUSES, 0.0)
    for item in intervals:
        hour = item["time_ms"] // _HOUR_MS * _HOUR_MS
        hours[hour] = hours.get(hour, 0.0) + item["missed_saving"]
        if item["cause"] is not None:
            by_cause[item["cause"]] += item["missed_saving"]
    ranked = sorted(
        (i for i in intervals if i["predicted_saving"] is not None),
        key=lambda i: -i["predicted_saving"],
    )
    return {
        "missed_savings_per_hour": [
            {"hour_start_ms": h, "missed": v} for h, v in sorted(hours.items())
        ],
        "missed_by_cause": by_cause,
        "missed_total": float(sum(i["missed_saving"] for i in intervals)),
        "top_recommendations": [
            {**i["recommendation"], "predicted_saving": i["predicted_saving"]}
            for i in ranked[:TOP_N]
        ],
    }


def run_shadow(
    project_path: str | os.PathLike[str],
    data_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    parameters: Any = None,
    overwrite: bool = True,
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
) -> Path:
    """Run the shadow mode over ``[start_ms, end_ms)`` and write ``out_dir/shadow.json``.

    Parameters
    ----------
    project_path : str or path-like
        Project file (fitted or not).
    data_path : str or path-like
        Historian file, only read.
    out_dir : str or path-like
        Existing output folder.
    start_ms, end_ms : int, optional
        Period; default from the earliest time with enough history to the
        last interval whose next interval is in the file. [ms since epoch]
    parameters : array_like, optional
        Plant parameters (calibrated). [SI]
    overwrite : bool
        Replace an existing ``shadow.json``.
    progress : ProgressCallback
        ``progress(done, total, message)`` per interval.
    cancel : CancelToken, optional
        Cancels between intervals; nothing is written then.

    Returns
    -------
    pathlib.Path
        The written ``shadow.json``.

    Raises
    ------
    DataError
        If the period has no decision time with its next interval in the file.
    CancelledError
        If cancelled (no file written).
    """
    from energyopt.advise.session import AdvisorSession
    from energyopt.fileio import atomic_output, check_destination

    target = Path(out_dir) / "shadow.json"
    check_destination(target, overwrite=overwrite)
    with AdvisorSession.open(
        project_path, data_path, parameters=parameters, mode="ADVISE"
    ) as session:
        if not isinstance(session, AdvisorSession):
            raise ProjectError(
                f"{project_path}: the shadow mode prices missed savings with the economic "
                "MPC ([controller.economic]); a process NMPC's objective is not in money"
            )
        step = round(session.interval_s * 1000.0)
        _, last = session.reader.time_span_ms
        stop = last + 1 - step if end_ms is None else min(int(end_ms), last + 1 - step)
        times = session.decision_times(start_ms, stop)
        if times.size == 0:
            raise DataError(
                f"{data_path}: no control interval with enough history and a recorded next "
                "interval in the period"
            )
        session.preload(int(times[0]), int(times[-1]) + step)
        intervals, skipped = shadow_records(session, times, progress=progress, cancel=cancel)
        document = {
            "format": "energyopt-shadow",
            "version": 1,
            "plant": session.project.project.name,
            "timezone": session.timezone,
            "period": {"start_ms": int(times[0]), "end_ms": int(times[-1]) + step},
            "currency": session.currency,
            "source_project": str(Path(project_path).resolve()),
            "source_data": str(Path(data_path).resolve()),
            "follow_tolerance": {"relative": FOLLOW_TOLERANCE, "span_floor": FOLLOW_FLOOR},
            "intervals": intervals,
            "skipped": skipped,
            **summarise(intervals),
        }
    if cancel is not None:
        cancel.raise_if_cancelled()
    with atomic_output(target, overwrite=overwrite) as tmp:
        tmp.write_text(
            json.dumps(document, indent=1, ensure_ascii=False, allow_nan=False),
            encoding="utf-8",
        )
    return target
