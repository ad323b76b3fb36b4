"""The recommendations section shows the saving the advisor records actually carry.

Engineer A's shadow records (:mod:`energyopt.advise.shadow`) hold
``expected_saving = null`` on the steelworks most of the time; the section
shows ``predicted_saving``, else ``interval_saving``, says which one, and
shows each record's top-level ``reason``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from energyopt.report.evidence import recommendations_section
from energyopt.report.inputs import ReportInputs

T0_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def _inputs(tmp_path: Path, top: list[dict[str, Any]]) -> ReportInputs:
    shadow = {
        "format": "energyopt-shadow",
        "version": 1,
        "currency": "CNY",
        "missed_savings_per_hour": [],
        "missed_by_cause": {},
        "top_recommendations": top,
    }
    return ReportInputs(
        out_dir=tmp_path,
        kpis=None,
        runs=(),
        primary=None,
        shadow=shadow,
        fit=None,
        fit_path=None,
        project=None,
        project_path=None,
        project_problem="",
    )


def _record(k: int, **savings: float | None) -> dict[str, Any]:
    """A record shaped like :func:`energyopt.advise.records.recommendation_to_dict` output."""
    return {
        "time_ms": T0_MS + k * 900_000,
        "mode": "ADVISE",
        "mvs": [
            {
                "mv": "boiler_1_bfg",
                "tag": "B1.BFG.FLOW",
                "unit": "Nm3/h",
                "current": 60_000.0,
                "recommended": 72_000.0,
                "reason": "raise from 60,000 to 72,000 Nm3/h; at its upper limit",
            }
        ],
        "expected_saving": None,
        "interval_saving": None,
        "reason": f"plan driven by electricity price {k}",
        "fallback_reason": "",
        "currency": "CNY",
        "active_constraints": ["bfg_holder.level_fraction high"],
        "fallback": "NONE",
        "status": "optimal",
        **savings,
    }


def _html(tmp_path: Path, top: list[dict[str, Any]], lang: str = "en") -> str:
    return "".join(recommendations_section(_inputs(tmp_path, top), lang).body)


def test_predicted_saving_shown_when_expected_is_null(tmp_path: Path) -> None:
    top = [
        _record(0, predicted_saving=1234.5, interval_saving=1234.5),
        _record(1, predicted_saving=87.25, interval_saving=87.25),
    ]
    html = _html(tmp_path, top)
    # fmt_value: 1234.5 -> "1,234" (thousands, no decimals; banker's rounding of .5),
    # 87.25 -> "87.25" (two decimals below 100).
    assert '<td class="num">1,234</td>' in html
    assert '<td class="num">87.25</td>' in html
    assert "Saving shown: predicted saving of acting now" in html
    assert "(predicted_saving)" in html
    # One basis for all rows: no basis column.
    assert "<th>Saving shown</th>" not in html
    assert "plan driven by electricity price 0" in html
    assert "plan driven by electricity price 1" in html
    assert "B1.BFG.FLOW: 60,000 → 72,000 Nm3/h (raise from 60,000" in html


def test_interval_saving_when_no_predicted_saving_and_basis_per_row(tmp_path: Path) -> None:
    top = [
        _record(0, predicted_saving=500.0, interval_saving=500.0),
        _record(1, interval_saving=42.0),  # an advisor record without the shadow field
        _record(2),  # nothing known: the row says so instead of inventing a number
        _record(3, expected_saving=9876.0),  # an older record with the horizon saving
    ]
    html = _html(tmp_path, top)
    assert "<th>Saving shown</th>" in html
    expected_rows = [
        ("500.0", "(predicted_saving)"),
        ("42.00", "(interval_saving)"),
        ("–", "infeasible on the model"),
        ("9,876", "(expected_saving)"),
    ]
    body_rows = html.split("<tr>")[2:]  # header row first
    assert len(body_rows) == len(expected_rows)
    for row, (value, basis) in zip(body_rows, expected_rows, strict=True):
        assert f'<td class="num">{value}</td>' in row
        assert basis in row
    assert "Saving shown:" not in html  # the column replaces the note


def test_fallback_reason_when_no_plan_reason(tmp_path: Path) -> None:
    rec = _record(0, interval_saving=3.0, reason=None, fallback_reason="solver failed: held")
    html = _html(tmp_path, [rec])
    assert "solver failed: held" in html


def test_chinese_basis_note(tmp_path: Path) -> None:
    html = _html(tmp_path, [_record(0, interval_saving=3.0)], lang="zh")
    assert "所示节约：立即调整在首个控制周期内的节约（interval_saving）。" in html
    assert "<th>节约 [CNY]</th>" in html


@pytest.mark.parametrize("bad", [float("nan"), "12", True])
def test_non_numbers_are_not_shown_as_savings(tmp_path: Path, bad: object) -> None:
    html = _html(tmp_path, [_record(0, predicted_saving=bad, interval_saving=11.0)])  # type: ignore[arg-type]
    assert '<td class="num">11.00</td>' in html
    assert "(interval_saving)" in html
