"""The whole report on a hand-built replay folder: sections, numbers, languages, isolation."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from report_case import KPI_VALUES, Truth

from energyopt.errors import CancelledError, DataError, OutputError
from energyopt.progress import CancelToken
from energyopt.report import render_report, write_report

SECTIONS = ("kpis", "flows", "trends", "holders", "cost", "recommendations", "fit")
SVG_NS = "http://www.w3.org/2000/svg"


@pytest.fixture(scope="module")
def html_en(replay_template: Path) -> str:
    return render_report(replay_template, lang="en")


@pytest.fixture(scope="module")
def html_zh(replay_template: Path) -> str:
    return render_report(replay_template, lang="zh")


def section_of(html: str, key: str) -> str:
    match = re.search(rf'<section id="{key}">(.*?)</section>', html, flags=re.DOTALL)
    assert match is not None, f"section {key} missing"
    return match.group(1)


def kpi_row(html: str, name: str) -> list[tuple[str, str]]:
    """Cells (class, text) of the KPI table row whose first cell is ``name``."""
    table = section_of(html, "kpis")
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.DOTALL):
        cells = re.findall(r'<td(?: class="([^"]*)")?>(.*?)</td>', row)
        if cells and cells[0][1] == name:
            return cells
    raise AssertionError(f"no KPI row {name!r}")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_every_section_present_with_its_data_source(html_en: str, replay_template: Path) -> None:
    for key in SECTIONS:
        body = section_of(html_en, key)
        assert "Data source:" in body, key
        assert 'class="note"' not in body, f"{key}: unexpected note with every input present"
    assert "Steelworks energy system (demo)" in html_en
    assert "2026-01-05T08:00:00+08:00 to 2026-01-05T14:00:00+08:00" in html_en
    assert "Asia/Shanghai" in html_en
    # The folder's files by their name in it (the folder may be renamed), others absolute.
    assert "Data source: kpis.json</p>" in section_of(html_en, "kpis")
    project = str((replay_template.parent / "plant.toml").resolve())
    assert f"results.h5 (MPC, model.*); {project}</p>" in section_of(html_en, "flows")
    assert "Data source: shadow.json</p>" in section_of(html_en, "recommendations")


def test_kpi_table_values_differences_and_colours(html_en: str) -> None:
    # Columns: name, unit, recorded, baseline, d, d%, mpc, d, d%.
    cost = kpi_row(html_en, "Energy cost")
    texts = [text for _, text in cost]
    assert texts[1] == "CNY"  # the project's currency replaces "currency"
    assert texts[2] == "2,834,567"
    assert texts[3:6] == ["2,790,000", "-44,567", "-1.6 %"]
    # (2,700,000 - 2,834,567) / 2,834,567 = -4.747 %
    assert texts[6:9] == ["2,700,000", "-134,567", "-4.7 %"]
    assert cost[7][0] == "num better"  # lower cost is better
    flared = kpi_row(html_en, "Flared gas")
    assert [t for _, t in flared][4:6] == ["+2,654", "+21.5 %"]  # 15,000 vs 12,345.6
    assert flared[4][0] == "num worse"
    stability = kpi_row(html_en, "Stability rate")
    assert stability[7][0] == "num worse"  # 96 % < 97.5 %: higher is better
    assert stability[4][0] == "num better"
    assert len(re.findall(r"<tr>", section_of(html_en, "kpis"))) == 1 + len(KPI_VALUES["mpc"])


def test_no_network_reference_and_standalone(html_en: str, tmp_path: Path) -> None:
    assert set(re.findall(r"https?://[^\"'\s)<>]+", html_en)) == {SVG_NS}
    assert "<script" not in html_en
    assert "<link" not in html_en
    assert "@import" not in html_en
    # Every url(...) and href points inside the page.
    assert all(ref.startswith("#") for ref in re.findall(r"url\(([^)]*)\)", html_en))
    collector = _Collector()
    collector.feed(html_en)
    for tag, attrs in collector.tags:
        assert "src" not in attrs, tag
        href = attrs.get("href")
        assert href is None or href.startswith("#"), (tag, href)
    # Copied alone into an empty folder it has everything: each SVG is well-formed XML.
    alone = tmp_path / "alone.html"
    alone.write_text(html_en, encoding="utf-8")
    svgs = re.findall(r"<svg.*?</svg>", alone.read_text(encoding="utf-8"), flags=re.DOTALL)
    counts = {key: section_of(html_en, key).count("<svg") for key in SECTIONS}
    # site + 11 media views, 12 key variables (MAX_TRENDS), 3 holders, cost, one fit output
    assert counts == {"kpis": 0, "flows": 12, "trends": 12, "holders": 3, "cost": 1,
                      "recommendations": 0, "fit": 1}  # fmt: skip
    assert len(svgs) == sum(counts.values())
    for svg in svgs:
        ET.fromstring(svg)  # raises on malformed markup
    ids = re.findall(r'\sid="([^"]+)"', html_en)
    assert len(ids) == len(set(ids)), "element ids repeat between charts"


def test_chinese_labels(html_zh: str, html_en: str) -> None:
    assert '<html lang="zh-CN">' in html_zh
    for text in (
        "关键绩效指标",
        "能流图",
        "煤气柜柜位",
        "累计成本",
        "主要操作建议",
        "模型拟合质量",
    ):
        assert text in html_zh
    assert "能源成本" in html_zh
    assert "放散量" in html_zh
    assert "Key performance indicators" not in html_zh
    assert "Energy cost" not in html_zh
    assert "能源成本" not in html_en
    assert "Noto Sans CJK SC" in html_zh  # CJK fonts first in the font lists
    assert "时间（Asia/Shanghai）" in section_of(html_zh, "holders")  # chart text stays text
    assert "燃气" in section_of(html_zh, "flows")  # medium kinds translated
    kpi_row(html_zh, "能源成本")


def _expected_mean_flows(truth: Truth, view: str) -> dict[str, float]:
    """Mean signed flow of each link over the day, by the flow network directly. [display unit]"""
    from energyopt.data.units import conversion_affine
    from energyopt.flows import FlowTrajectory, build_flow_network

    network = build_flow_network(truth.built)
    v = truth.vectors
    values = network.evaluate(FlowTrajectory(truth.time_ms, v["x"], v["u"], v["d"], v["y"]))[view]
    info = network.view(view)
    scale = conversion_affine(info.unit_si, info.unit_display)[0]
    means = np.abs(values.mean(axis=1)) * scale
    return {spec.key: float(m) for spec, m in zip(network.links[view], means, strict=True)}


@pytest.mark.parametrize("view", ["bfg", "hp_steam", "site"])
def test_sankey_widths_proportional_to_flows(html_en: str, truth: Truth, view: str) -> None:
    match = re.search(rf'<svg[^>]*class="sankey"[^>]*data-view="{view}".*?</svg>', html_en, re.S)
    assert match is not None
    svg = ET.fromstring(match.group(0))
    scale = float(svg.attrib["data-scale"])
    expected = _expected_mean_flows(truth, view)
    bands = svg.findall(f"{{{SVG_NS}}}path")
    assert len(bands) >= 3
    widths = np.array([float(b.attrib["stroke-width"]) for b in bands])
    flows = np.array([expected[b.attrib["data-link"]] for b in bands])
    # Widths are printed with 4 decimals: at most 5e-5 px of rounding.
    assert_allclose(widths, flows * scale, rtol=0, atol=5.1e-5)
    # The flows themselves survive the HDF5 round trip (float64) up to summation order.
    assert_allclose([float(b.attrib["data-value"]) for b in bands], flows, rtol=1e-8)
    # Tooltips carry label, value and unit.
    titles = [b.find(f"{{{SVG_NS}}}title").text for b in bands]
    assert all(t.endswith(("Nm3/h", "t/h", "MW")) for t in titles)


def test_recommendations_and_fit(html_en: str) -> None:
    recs = section_of(html_en, "recommendations")
    assert "5,432" in recs
    assert "321.0" in recs
    assert "B3.NG.FLOW: 4,200 → 1,500 Nm3/h" in recs
    assert "burn surplus BFG instead of purchased natural gas" in recs
    assert "<td>optimal</td>" in recs  # fallback NONE: the plan itself, not flagged
    assert "Missed savings over the period: 1,234 CNY" in recs  # 1000 + 234.5
    assert recs.index("natural gas instead of BFG") < recs.index("holder high")
    fit = section_of(html_en, "fit")
    assert "0.0321" in fit
    assert "0.988" in fit
    assert "-0.0456" in fit
    assert "efficiency_nominal" in fit
    assert "0.0034" in fit
    assert "700 / 740" in fit
    assert "Units not fitted: tg_2 (no data in the training period)" in fit
    assert fit.count("<svg") == 1


def test_missing_optional_files_leave_notes(replay_dir: Path) -> None:
    for name in ("shadow.json", "compare_baseline.h5", "compare_recorded.h5"):
        (replay_dir / name).unlink()
    (replay_dir.parent / "plant.fit.json").unlink()
    html = render_report(replay_dir)
    assert "no recommendations were computed" in section_of(html, "recommendations")
    assert "model-fit quality is left out" in section_of(html, "fit")
    assert "plant.fit.json" in section_of(html, "fit")
    trends = section_of(html, "trends")
    assert "Baseline" not in trends
    assert "compare_recorded" not in trends
    assert "<svg" in section_of(html, "flows")
    assert "2,834,567" in section_of(html, "kpis")


def test_empty_folder_gives_notes_everywhere(tmp_path: Path) -> None:
    html = render_report(tmp_path)
    for key in SECTIONS:
        assert 'class="note"' in section_of(html, key), key
    assert "<svg" not in html


def test_broken_kpis_json_names_the_file(replay_dir: Path) -> None:
    kpis = replay_dir / "kpis.json"
    kpis.write_text('{"format": "energyopt-kpis", "version": 1, "report": ', encoding="utf-8")
    with pytest.raises(DataError, match=r"kpis\.json: not valid JSON"):
        write_report(replay_dir)
    assert not (replay_dir / "report.html").exists()


def test_kpis_json_with_unknown_kpi(replay_dir: Path) -> None:
    kpis = replay_dir / "kpis.json"
    doc = json.loads(kpis.read_text(encoding="utf-8"))
    doc["report"]["runs"]["mpc"]["energy_cost"]["key"] = "energy_kost"
    kpis.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(DataError, match=r"kpis\.json: unknown KPI 'energy_kost'"):
        render_report(replay_dir)


def test_failed_rendering_writes_nothing(replay_dir: Path, monkeypatch) -> None:
    import energyopt.report.sections as sections

    def broken(*args, **kwargs):
        raise RuntimeError("drawing failed")

    old = replay_dir / "report.html"
    old.write_text("earlier report", encoding="utf-8")
    monkeypatch.setattr(sections, "flows_section", broken)
    with pytest.raises(RuntimeError, match="drawing failed"):
        write_report(replay_dir)
    assert old.read_text(encoding="utf-8") == "earlier report"
    assert sorted(p.name for p in replay_dir.iterdir() if p.name.startswith(".")) == []


def test_cancel_writes_nothing(replay_dir: Path) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError, match="cancelled"):
        write_report(replay_dir, cancel=token)
    assert not (replay_dir / "report.html").exists()


def test_unknown_language_and_bad_destination(replay_dir: Path) -> None:
    with pytest.raises(OutputError, match="report language must be one of en, zh"):
        write_report(replay_dir, lang="fr")
    with pytest.raises(OutputError, match="does not exist"):
        write_report(replay_dir, out_path=replay_dir / "no" / "r.html")
    with pytest.raises(DataError, match="no such folder"):
        write_report(replay_dir / "missing", out_path=replay_dir / "r.html")


def test_write_report_default_path_and_progress(replay_dir: Path) -> None:
    for name in ("compare_baseline.h5", "compare_recorded.h5", "results.h5"):
        (replay_dir / name).unlink()  # a quick report: no charts
    calls: list[tuple[float, float | None, str]] = []
    path = write_report(replay_dir, lang="zh", progress=lambda d, t, m: calls.append((d, t, m)))
    assert path == replay_dir / "report.html"
    text = path.read_text(encoding="utf-8")
    assert "回放分析报告" in text
    assert "2,834,567" in text
    done = [d for d, _, _ in calls]
    assert done == sorted(done)
    assert done[-1] == calls[-1][1]


@pytest.mark.slow
def test_thirty_days_at_one_minute_stay_small(tmp_path: Path, truth: Truth) -> None:
    """30 days at 1 min (43,200 rows, three runs): decimated charts keep the page small."""
    import time

    from report_case import build_replay_dir

    reps = int(np.ceil(30 * 1440 / truth.time_ms.size))
    n = truth.time_ms.size
    step = int(truth.time_ms[1] - truth.time_ms[0])
    time_ms = truth.time_ms[0] + np.arange(n * reps, dtype=np.int64) * step
    long = Truth(truth.built, time_ms, {k: np.tile(v, (reps, 1)) for k, v in truth.vectors.items()})
    out = build_replay_dir(tmp_path / "long", long)
    start = time.perf_counter()
    path = write_report(out)
    elapsed = time.perf_counter() - start
    size_mb = path.stat().st_size / 1e6
    print(f"30-day report: {size_mb:.2f} MB in {elapsed:.1f} s")
    assert size_mb < 3.0
    assert section_of(path.read_text(encoding="utf-8"), "trends").count("<svg") == 12


def test_project_that_cannot_compose_a_plant(replay_dir: Path) -> None:
    """The chemical demo is a process flowsheet: no Sankey, a note saying why."""
    from energyopt.demos import demo_project_text

    (replay_dir.parent / "plant.toml").write_text(demo_project_text("chemical"), encoding="utf-8")
    html = render_report(replay_dir)
    assert "process flowsheets are not available" in section_of(html, "flows")
    # The cost terms price the purchased feed on its supply flow, which this
    # steelworks-layout results file does not have: the section says so.
    cost = section_of(html, "cost")
    assert "could not be computed" in cost
    assert "fresh_feed.supply" in cost
    assert "No bound tag with a normal band" in section_of(html, "trends")
    assert "no gas holder" in section_of(html, "holders")
    assert "2,834,567" in section_of(html, "kpis")
