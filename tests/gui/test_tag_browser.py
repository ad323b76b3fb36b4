"""Tag browser: the demo history's tags, search filters, quality flags from the scan."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from energyopt.appstate import SessionState
from energyopt.data.inspect import inspect_file
from energyopt.data.reader import HistorianReader
from gui.tag_browser import COLUMNS, TagBrowser

pytestmark = pytest.mark.gui


@pytest.fixture
def browser(qtbot, demo_files):
    session = SessionState()
    widget = TagBrowser(session)
    qtbot.addWidget(widget)
    session.open_project(demo_files[0])
    session.open_historian(demo_files[1])
    return session, widget


def cell(widget, tag, column):
    model = widget.model
    for row in range(model.rowCount()):
        if model.row_at(row).tag == tag:
            return model.index(row, COLUMNS.index(column)).data()
    raise KeyError(tag)


def test_all_tags_with_unit_kind_and_sampling(browser, demo_files):
    _, widget = browser
    with HistorianReader(demo_files[1]) as reader:
        infos = reader.tags
    assert widget.visible_tags() == list(infos)
    info = infos["BFG.HOLDER.LEVEL"]
    assert cell(widget, "BFG.HOLDER.LEVEL", "unit") == info.unit
    assert cell(widget, "BFG.HOLDER.LEVEL", "kind") == info.kind
    assert cell(widget, "BFG.HOLDER.LEVEL", "description") == info.description
    assert cell(widget, "BFG.HOLDER.LEVEL", "sampling") == "60 s"
    assert cell(widget, "BFG.HOLDER.LEVEL", "quality") == "scanning..."
    headers = [widget.model.headerData(i, Qt.Orientation.Horizontal) for i in range(len(COLUMNS))]
    assert headers == ["Tag", "Unit", "Kind", "Description", "Sampling", "Quality"]


def test_search_filters_by_tag_description_and_unit(browser, demo_files, qtbot):
    _, widget = browser
    with HistorianReader(demo_files[1]) as reader:
        infos = list(reader.tags.values())

    def expected(*words):
        return [
            i.name
            for i in infos
            if all(w.casefold() in f"{i.name}\n{i.unit}\n{i.description}".casefold() for w in words)
        ]

    qtbot.keyClicks(widget.search, "bfg")  # lower case finds BFG.*
    assert widget.visible_tags() == expected("bfg")
    assert "BFG.HOLDER.LEVEL" in widget.visible_tags()
    assert all("bfg" in t.lower() or "bfg" in d.lower() for t, d in _shown(widget))
    widget.search.setText("MW")  # a unit
    assert widget.visible_tags() == expected("mw")
    assert widget.visible_tags()
    word = next(i.description.split()[0] for i in infos if i.description)
    widget.search.setText(word.upper())  # a description word, any case
    assert widget.visible_tags() == expected(word)
    widget.search.setText("bfg holder")  # every word must match
    assert widget.visible_tags() == expected("bfg", "holder")
    widget.search.setText("no such tag anywhere")
    assert widget.visible_tags() == []
    widget.search.clear()
    assert len(widget.visible_tags()) == len(infos)


def _shown(widget):
    proxy = widget.proxy
    return [
        (
            str(proxy.index(r, COLUMNS.index("tag")).data()),
            str(proxy.index(r, COLUMNS.index("description")).data()),
        )
        for r in range(proxy.rowCount())
    ]


def test_quality_flags_fill_in_from_the_scan(browser, demo_files):
    session, widget = browser
    report = inspect_file(demo_files[1])
    assert session.set_quality_findings(demo_files[1], report.findings)
    flagged = {f.tag for f in report.findings if f.tag != "time"}
    assert flagged  # the demo history has injected defects
    for tag in widget.visible_tags():
        text = cell(widget, tag, "quality")
        issues = sorted({f.issue for f in report.findings_of(tag)})
        if issues:
            assert [part.split(" (")[0] for part in text.split(", ")] == issues
        else:
            assert text == "ok"
    # Sorting by the quality column puts the most findings first (descending).
    widget.view.sortByColumn(COLUMNS.index("quality"), Qt.SortOrder.DescendingOrder)
    top = widget.visible_tags()[0]
    most = max(flagged, key=lambda t: len(report.findings_of(t)))
    assert len(report.findings_of(top)) == len(report.findings_of(most))
    # A tooltip lists each finding.
    model = widget.model
    row = next(r for r in range(model.rowCount()) if model.row_at(r).tag == most)
    tooltip = model.index(row, COLUMNS.index("quality")).data(Qt.ItemDataRole.ToolTipRole)
    assert len(tooltip.splitlines()) == len(report.findings_of(most))


def test_closing_the_historian_empties_the_table(browser):
    session, widget = browser
    session.close_historian()
    assert widget.visible_tags() == []
