"""How the recommendations panel shows a recommendation: one row per manipulated variable.

:func:`view_from_recommendation` (a :class:`~controllers.advisor.recommendation.Recommendation`,
model names in SI) and :func:`view_from_dict` (a ``recommendation_to_dict``
record: tags and engineering units) build a :class:`RecommendationView` of
plain data, one :class:`MVRow` per manipulated variable.  Sources are in
:mod:`energyopt.appstate.advice` (which re-exports these names).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from controllers.advisor.recommendation import FallbackLevel, Prediction, Recommendation
from energyopt.errors import ProjectError

__all__ = ["MVRow", "RecommendationView", "view_from_dict", "view_from_recommendation"]


@dataclass(frozen=True)
class MVRow:
    """One manipulated variable of a recommendation, in engineering units.

    Attributes
    ----------
    mv : str
        Name of the manipulated variable.
    tag : str
        Historian tag (the name if unbound).
    unit : str
        Engineering unit of the values (``""``: SI of the model).
    current : float or None
        Setpoint now. [unit]
    recommended : float or None
        Recommended setpoint, ``None`` without one. [unit]
    predicted : float or None
        First move of the predicted plan (shown in PREDICT mode). [unit]
    low, high : float or None
        Limits of the setpoint, ``None`` if unknown. [unit]
    reason : str
        Why, in words.
    """

    mv: str
    tag: str
    unit: str
    current: float | None
    recommended: float | None
    predicted: float | None
    low: float | None
    high: float | None
    reason: str

    @property
    def move(self) -> float | None:
        """Recommended change, ``None`` without both values. [unit]."""
        if self.current is None or self.recommended is None:
            return None
        return self.recommended - self.current

    @property
    def predicted_move(self) -> float | None:
        """Predicted change, ``None`` without both values. [unit]."""
        if self.current is None or self.predicted is None:
            return None
        return self.predicted - self.current


@dataclass(frozen=True)
class RecommendationView:
    """A recommendation as the panel shows it.

    Attributes
    ----------
    time_ms : int
        Start of the control interval it is for. [ms since epoch]
    mode : str
        Advisor mode it was made in (``"off"``, ``"predict"``, ``"advise"``).
    rows : tuple of MVRow
        One per manipulated variable.
    expected_saving : float or None
        Expected saving over the horizon, ``None`` if unknown. [saving_unit]
    saving_unit : str
        Currency of the saving (``""`` if unknown).
    active_constraints : tuple of str
        Binding constraints by name.
    fallback : str
        Where the plan came from (``"controller plan"``, ...).
    fallback_reason : str
        Why the controller's plan was not used (empty if it was).
    status : str
        Solver status (empty if the controller was not called).
    prediction : Prediction or None
        Predicted trajectories, if known.
    """

    time_ms: int
    mode: str
    rows: tuple[MVRow, ...]
    expected_saving: float | None
    saving_unit: str
    active_constraints: tuple[str, ...]
    fallback: str
    fallback_reason: str
    status: str
    prediction: Prediction | None = None

    def row(self, mv: str) -> MVRow:
        """Return the row of a manipulated variable.

        Parameters
        ----------
        mv : str
            Name of the manipulated variable.

        Raises
        ------
        KeyError
            If the recommendation has no such MV.
        """
        return {row.mv: row for row in self.rows}[mv]


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _first_planned(prediction: Prediction | None) -> dict[str, float]:
    """First row of the predicted MV plan by MV name (empty without a prediction)."""
    if prediction is None or prediction.mv_plan.shape[0] == 0:
        return {}
    first = prediction.mv_plan[0]
    return {name: float(first[j]) for j, name in enumerate(prediction.mv_names)}


def view_from_recommendation(
    rec: Recommendation, at_ms: int, *, currency: str = ""
) -> RecommendationView:
    """Build the view of a :class:`Recommendation` (model names and SI units).

    Parameters
    ----------
    rec : Recommendation
        The advisor's output.
    at_ms : int
        Time it was asked for. [ms since epoch]
    currency : str
        Currency of the expected saving.
    """
    planned = _first_planned(rec.prediction)
    rows = tuple(
        MVRow(
            mv=mv.name,
            tag=mv.name,
            unit="",
            current=_number(mv.current),
            recommended=_number(mv.setpoint),
            predicted=planned.get(mv.name, _number(mv.setpoint)),
            low=None,
            high=None,
            reason=mv.reason,
        )
        for mv in rec.mvs
    )
    return RecommendationView(
        time_ms=int(at_ms),
        mode=rec.mode.value,
        rows=rows,
        expected_saving=_number(rec.expected_saving),
        saving_unit=currency,
        active_constraints=tuple(rec.active_constraints),
        fallback=rec.fallback.value,
        fallback_reason=rec.fallback_reason,
        status="" if rec.solve_status is None else rec.solve_status.value,
        prediction=rec.prediction,
    )


def view_from_dict(
    record: Mapping[str, Any],
    at_ms: int,
    *,
    currency: str = "",
    prediction: Prediction | None = None,
) -> RecommendationView:
    """Build the view of a ``recommendation_to_dict`` record (tags and engineering units).

    Parameters
    ----------
    record : mapping
        ``{"time_ms", "mode", "mvs": [{"mv", "tag", "unit", "current",
        "recommended", "low", "high", "reason"}], "expected_saving",
        "active_constraints", "fallback", "status"}``; the saving may be a
        number (with ``"currency"`` or ``"expected_saving_unit"``) or
        ``{"value", "unit"}``.  Missing items are shown as unknown.
    at_ms : int
        Time it was asked for; it is the view's time (the record's
        ``time_ms`` is not used). [ms since epoch]
    currency : str
        Currency of the saving if the record names none.
    prediction : Prediction, optional
        Predicted trajectories (their first MV moves fill ``predicted``; they
        are in the model's SI units, so only used where the record has no unit).

    Raises
    ------
    ProjectError
        If ``mvs`` is not a list of objects with an ``mv`` or ``tag`` name.
    """
    saving = record.get("expected_saving")
    unit = str(record.get("expected_saving_unit") or record.get("currency") or currency)
    if isinstance(saving, Mapping):
        unit = str(saving.get("unit") or unit)
        saving = saving.get("value")
    raw_rows = record.get("mvs", [])
    if not isinstance(raw_rows, Sequence) or isinstance(raw_rows, str):
        raise ProjectError("recommendation record: 'mvs' must be a list")
    planned = _first_planned(prediction)
    rows = []
    for item in raw_rows:
        if not isinstance(item, Mapping) or not (item.get("mv") or item.get("tag")):
            raise ProjectError("recommendation record: each MV needs a name ('mv' or 'tag')")
        name = str(item.get("mv") or item.get("tag"))
        recommended = _number(item.get("recommended"))
        predicted = _number(item.get("predicted"))
        if predicted is None and not item.get("unit"):
            predicted = planned.get(name)
        rows.append(
            MVRow(
                mv=name,
                tag=str(item.get("tag") or name),
                unit=str(item.get("unit") or ""),
                current=_number(item.get("current")),
                recommended=recommended,
                predicted=recommended if predicted is None else predicted,
                low=_number(item.get("low")),
                high=_number(item.get("high")),
                reason=str(item.get("reason") or ""),
            )
        )
    fallback = str(record.get("fallback") or "")
    if fallback in FallbackLevel.__members__:  # the record names the level: show its words
        fallback = FallbackLevel[fallback].value
    return RecommendationView(
        time_ms=int(at_ms),
        mode=str(record.get("mode") or ""),
        rows=tuple(rows),
        expected_saving=_number(saving),
        saving_unit=unit,
        active_constraints=tuple(str(c) for c in record.get("active_constraints", ()) or ()),
        fallback=fallback,
        fallback_reason=str(record.get("fallback_reason") or ""),
        status=str(record.get("status") or ""),
        prediction=prediction,
    )
