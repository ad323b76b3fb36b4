"""Self-contained HTML reports of replay output folders.

:func:`write_report` builds ``report.html`` from the files of an
``energyopt replay`` output folder that exist (``results.h5``,
``compare_*.h5``, ``kpis.json``, ``shadow.json``) and the fit report beside
the source project: KPI table, energy-flow Sankey diagrams, key variables
with their bands, gas-holder levels, cost over time, top recommendations and
model-fit quality, in English or Chinese.  The page needs no network: charts
are inline SVG, the stylesheet is inline, there is no script.

Modules
    :mod:`~energyopt.report.inputs` (find and check the files),
    :mod:`~energyopt.report.flows` (mean flows per Sankey view),
    :mod:`~energyopt.report.sankey` (Sankey SVG),
    :mod:`~energyopt.report.charts` (matplotlib SVG charts),
    :mod:`~energyopt.report.decimate` (min/max decimation),
    :mod:`~energyopt.report.series` (plotted series, cumulative cost),
    :mod:`~energyopt.report.intensity` (rolling energy intensity),
    :mod:`~energyopt.report.sections`, :mod:`~energyopt.report.evidence`
    (sections), :mod:`~energyopt.report.page` (HTML),
    :mod:`~energyopt.report.strings` (bilingual texts),
    :mod:`~energyopt.report.build` (:func:`write_report`).
"""

from __future__ import annotations

from energyopt.report.build import REPORT_FILE, render_report, write_report
from energyopt.report.strings import LANGUAGES

__all__ = ["LANGUAGES", "REPORT_FILE", "render_report", "write_report"]
