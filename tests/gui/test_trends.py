"""Trend panel: curves, limits and bands, crosshair readout, linked axes, 10 M points."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

pytest.importorskip("PySide6")

pytestmark = pytest.mark.gui


@pytest.fixture
def panel(qtbot):
    from gui.trends import TrendPanel

    widget = TrendPanel()
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    return widget


def _series(name, n=1000, unit="MW", **kwargs):
    from gui.trends import TrendSeries

    time_s = 1.7e9 + 60.0 * np.arange(n)
    values = np.sin(np.arange(n) / 50.0) * 10.0 + (len(name) % 3)
    return TrendSeries(name, unit, time_s, values, **kwargs)


def test_curves_limits_and_bands(panel):
    panel.add_plot([_series("a", limits=(9.0, -9.0), band=(-5.0, 5.0)), _series("bb")])
    panel.add_plot([_series("ccc", unit="t/h")])
    assert set(panel.curves) == {"a", "bb", "ccc"}
    assert len(panel.plots) == 2
    assert [line.value() for line in panel.limit_lines["a"]] == [9.0, -9.0]
    assert panel.bands["a"].getRegion() == (-5.0, 5.0)
    assert "bb" not in panel.bands
    _, y = panel.curves["bb"].getOriginalDataset()
    assert_allclose(y, panel.series["bb"].values, rtol=0)  # the data as given


def test_crosshair_readout_equals_data(panel):
    panel.add_plot([_series("a"), _series("bb")])
    panel.add_plot([_series("ccc", unit="t/h")])
    s = panel.series["a"]
    x = s.time_s[123] + 30.0  # between samples 123 and 124: the value held is 123's
    readout = panel.set_cursor(x)
    for name, series in panel.series.items():
        assert readout[name] == series.values[123]
    assert "a = " in panel.readout_label.text()
    assert "t/h" in panel.readout_label.text()
    assert np.isnan(panel.set_cursor(s.time_s[0] - 1.0)["a"])


def test_linked_time_axes(panel, qtbot):
    panel.add_plot([_series("a")])
    panel.add_plot([_series("bb")])
    panel.show()
    t = panel.series["a"].time_s
    panel.plots[1].vb.setXRange(t[100], t[200], padding=0)
    qtbot.waitUntil(lambda: abs(panel.plots[0].vb.viewRange()[0][0] - t[100]) < 1.0)
    assert_allclose(panel.plots[0].vb.viewRange()[0], [t[100], t[200]], rtol=1e-9)


def test_duplicate_and_bad_series(panel):
    from gui.trends import TrendSeries

    panel.add_plot([_series("a")])
    with pytest.raises(ValueError, match="trend a is already shown"):
        panel.add_plot([_series("a")])
    with pytest.raises(ValueError, match="one length"):
        TrendSeries("x", "MW", np.arange(3.0), np.arange(4.0))


def test_ten_million_points_render_downsampled(panel, qtbot):
    from gui.trends import TrendSeries

    n = 10_000_000
    time_s = 1.7e9 + np.arange(n, dtype=np.float64)
    values = np.cumsum(np.random.default_rng(0).standard_normal(n))
    panel.add_plot([TrendSeries("big", "MW", time_s, values)])
    panel.show()
    panel.layout_widget.grab()
    drawn = panel.drawn_points("big")
    assert 0 < drawn < n // 100
    panel.plots[0].vb.setXRange(time_s[1_000_000], time_s[1_000_500], padding=0)
    panel.layout_widget.grab()
    # Zoomed in to 500 samples: clip-to-view keeps about those.
    assert panel.drawn_points("big") <= 1000
