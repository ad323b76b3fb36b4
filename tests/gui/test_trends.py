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
    assert panel.curves["bb"].series is panel.series["bb"]
    # 1000 samples over the whole (auto-ranged) view, fewer than two per pixel: drawn raw.
    _, y = panel.curves["bb"].getData()
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


@pytest.fixture(scope="module")
def walk_10m():
    n = 10_000_000
    time_s = 1.7e9 + np.arange(n, dtype=np.float64)
    values = np.cumsum(np.random.default_rng(0).standard_normal(n))
    return time_s, values


def _visible(time_s, values, x0, x1):
    inside = (time_s >= x0) & (time_s <= x1)
    return time_s[inside], values[inside]


def test_ten_million_points_envelope_is_exact_and_bounded(panel, walk_10m):
    from gui.trends import TrendSeries

    time_s, values = walk_10m
    panel.add_plot([TrendSeries("big", "MW", time_s, values)])
    panel.show()
    panel.layout_widget.grab()
    view = panel.plots[0].vb
    width_px = view.width()
    assert width_px > 500
    assert 0 < panel.drawn_points("big") <= 4 * width_px  # whole series, auto-ranged
    rng = np.random.default_rng(1)
    for _ in range(8):
        a, b = np.sort(rng.uniform(time_s[0] - 1e5, time_s[-1] + 1e5, 2))
        view.setXRange(a, b, padding=0)
        x, y = panel.curves["big"].getData()
        assert x.size <= 4 * width_px
        x0, x1 = view.viewRange()[0]
        _, raw = _visible(time_s, values, x0, x1)
        _, drawn = _visible(x, y, x0, x1)
        # Extremes of the drawn envelope inside the view are the data's, exactly.
        assert drawn.min() == raw.min()
        assert drawn.max() == raw.max()
        assert np.all(np.diff(x) >= 0)  # drawn left to right


def test_full_zoom_draws_raw_samples(panel, walk_10m):
    from gui.trends import TrendSeries

    time_s, values = walk_10m
    panel.add_plot([TrendSeries("big", "MW", time_s, values)])
    panel.show()
    panel.layout_widget.grab()
    panel.plots[0].vb.setXRange(time_s[1_000_000], time_s[1_000_500], padding=0)
    x, y = panel.curves["big"].getData()
    # The 501 samples in view and one beyond each edge, as given.
    assert_allclose(x, time_s[999_999:1_000_502], rtol=0)
    assert_allclose(y, values[999_999:1_000_502], rtol=0)
    assert panel.curves["big"].drawn_range() == (1_000_000, 1_000_501)


def test_gaps_and_bounds(panel):
    from gui.trends import TrendSeries

    n = 50_000
    time_s = 1.7e9 + np.arange(n, dtype=np.float64)
    values = np.sin(np.arange(n) / 700.0)
    values[10_000:20_000] = np.nan
    panel.add_plot([TrendSeries("gappy", "MW", time_s, values)])
    panel.show()
    panel.layout_widget.grab()
    curve = panel.curves["gappy"]
    assert curve.opts["connect"] == "finite"
    x, y = curve.getData()
    in_gap = (x > time_s[10_100]) & (x < time_s[19_900])
    assert in_gap.any()
    assert np.isnan(y[in_gap]).all()  # buckets of NaN only stay gaps
    assert curve.dataBounds(0) == (time_s[0], time_s[-1])
    assert curve.dataBounds(1) == (np.nanmin(values), np.nanmax(values))
    lo, hi = curve.dataBounds(1, orthoRange=(time_s[5_000], time_s[12_000]))
    assert (lo, hi) == (np.nanmin(values[5_000:12_001]), np.nanmax(values[5_000:12_001]))
    assert curve.dataBounds(1, orthoRange=(time_s[10_500], time_s[11_000])) == (None, None)


def test_resize_redraws_for_the_new_width(panel, walk_10m, qtbot):
    from gui.trends import TrendSeries

    time_s, values = walk_10m
    panel.add_plot([TrendSeries("big", "MW", time_s[:1_000_000], values[:1_000_000])])
    panel.show()
    panel.layout_widget.grab()
    wide = panel.drawn_points("big")
    panel.resize(450, 600)
    qtbot.waitUntil(lambda: panel.plots[0].vb.width() < 400)
    panel.layout_widget.grab()
    assert panel.drawn_points("big") < 0.6 * wide


def test_grid_is_opaque_and_blended_with_background(panel):
    import pyqtgraph as pg
    from PySide6.QtGui import QImage, QPainter

    panel.add_plot([_series("a")])
    panel.show()
    panel.layout_widget.grab()
    axis = panel.plots[0].getAxis("left")
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _, ticks, _ = axis.generateDrawSpecs(painter)
        _, stock_ticks, _ = pg.AxisItem.generateDrawSpecs(axis, painter)
    finally:
        painter.end()
    assert len(ticks) == len(stock_ticks) > 3
    background = pg.mkColor(pg.getConfigOption("background"))
    for (pen, *_), (stock, *_) in zip(ticks, stock_ticks, strict=True):
        alpha = stock.color().alphaF()
        assert alpha < 1.0  # pyqtgraph's grid is translucent ...
        assert pen.color().alpha() == 255  # ... ours is opaque, of the colour it would show
        expected = alpha * stock.color().redF() + (1 - alpha) * background.redF()
        # QColor stores 16 bits a channel: 1/65535 rounding.
        assert_allclose(pen.color().redF(), expected, atol=2 / 65535)
    # Drawn behind the curves: below them in the scene's stacking order (topmost first).
    stacked = panel.layout_widget.scene().items()
    assert stacked.index(panel.curves["a"]) < stacked.index(axis)


# ------------------------------------------------------------ the pyramid alone


@pytest.mark.parametrize("factor", [2, 3, 8])
def test_pyramid_range_extremes_are_exact(factor):
    from gui.trends import MinMaxPyramid

    rng = np.random.default_rng(factor)
    values = rng.standard_normal(10_007)  # not a power of any factor: partial last blocks
    values[rng.integers(0, values.size, 300)] = np.nan
    values[4_000:4_100] = np.nan
    pyramid = MinMaxPyramid(values, factor)
    assert pyramid.levels > 3
    ranges = [(0, values.size), (4_000, 4_100), (4_010, 4_011), (values.size - 1, values.size)]
    ranges += [tuple(sorted(rng.choice(values.size + 1, 2, replace=False))) for _ in range(300)]
    for start, stop in ranges:
        lo, hi = pyramid.range_minmax(start, stop)
        window = values[start:stop]
        if np.isnan(window).all():
            assert np.isnan(lo)
            assert np.isnan(hi)
        else:
            # Minimum and maximum select one of the samples: exact equality.
            assert (lo, hi) == (np.nanmin(window), np.nanmax(window)), (start, stop)


def test_pyramid_envelope_buckets_are_exact_and_counted():
    from gui.trends import MinMaxPyramid

    rng = np.random.default_rng(5)
    values = np.cumsum(rng.standard_normal(200_003))
    pyramid = MinMaxPyramid(values)
    for _ in range(40):
        start, stop = sorted(rng.choice(values.size + 1, 2, replace=False))
        columns = int(rng.integers(1, 1500))
        first, low, high = pyramid.envelope(int(start), int(stop), columns)
        assert first[0] == start
        assert np.all(np.diff(first) > 0)
        assert first.size <= 1.5 * columns + 3
        assert first.size >= min(stop - start, 2 * columns // 3)
        edges = [*first.tolist(), stop]
        for b in range(first.size):
            window = values[edges[b] : edges[b + 1]]
            assert low[b] == window.min()
            assert high[b] == window.max()


def test_pyramid_errors():
    from gui.trends import MinMaxPyramid

    with pytest.raises(ValueError, match="factor must be at least 2, got 1"):
        MinMaxPyramid(np.arange(10.0), 1)
    with pytest.raises(ValueError, match=r"values must be 1-D, got shape \(2, 5\)"):
        MinMaxPyramid(np.zeros((2, 5)))
    pyramid = MinMaxPyramid(np.arange(10.0))
    with pytest.raises(ValueError, match="range 5:5 is empty or outside 0:10"):
        pyramid.range_minmax(5, 5)
    with pytest.raises(ValueError, match="range 0:11 is empty or outside 0:10"):
        pyramid.envelope(0, 11, 4)
    with pytest.raises(ValueError, match="columns must be at least 1, got 0"):
        pyramid.envelope(0, 10, 0)


def test_envelope_machinery_is_re_exported_from_gui_trends():
    import gui.trend_envelope as envelope
    import gui.trends as trends

    # The downsampling lives in gui.trend_envelope; old imports from gui.trends still work.
    for name in envelope.__all__:
        assert getattr(trends, name) is getattr(envelope, name), name
        assert name in trends.__all__, name
    assert envelope.__all__ == ["PYRAMID_FACTOR", "EnvelopeCurve", "MinMaxPyramid"]


def test_plots_added_while_shown_are_painted_once_and_auto_ranged(panel, qtbot):
    """Painting is held while plots are added one per turn, then released: ranges follow the data.

    (An earlier attempt to hold painting back left the views' auto-range
    unrun, every range stuck at pyqtgraph's initial [0, 1].)
    """
    panel.show()
    qtbot.waitExposed(panel)
    for i in range(3):
        panel.add_plot([_series(f"tag{i}", unit=f"u{i}")])
        assert panel.painting_held
    qtbot.waitUntil(lambda: not panel.painting_held, timeout=5_000)
    qtbot.waitUntil(lambda: panel.plots[2].vb.viewRange()[1] != [0.0, 1.0], timeout=5_000)
    for i, plot in enumerate(panel.plots):
        s = panel.series[f"tag{i}"]
        x_low, x_high = plot.vb.viewRange()[0]
        y_low, y_high = plot.vb.viewRange()[1]
        # auto-range pads the data bounds by a few per cent: the views hold the data
        assert x_low <= s.time_s[0]
        assert x_high >= s.time_s[-1]
        assert y_low <= np.nanmin(s.values)
        assert y_high >= np.nanmax(s.values)
        assert x_high - x_low < 1.2 * (s.time_s[-1] - s.time_s[0])


def test_release_painting_at_once(panel, qtbot):
    panel.show()
    qtbot.waitExposed(panel)
    panel.add_plot([_series("a")])
    assert panel.painting_held
    panel.release_painting()
    assert not panel.painting_held
    panel.release_painting()  # nothing held: no-op
    assert not panel.painting_held
