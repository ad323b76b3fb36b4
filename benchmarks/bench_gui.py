"""GUI benchmarks: trend pan/zoom frame rate on 10 M points, Sankey update rate.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui.py``.
Each section prints its figure beside its target.  Frames are counted as
actually rendered: every step forces a synchronous paint (``QWidget.grab``).
Later sections (longest event-loop stall during a 1-day MPC replay, start to
first paint) add a function to ``SECTIONS``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np

TREND_POINTS = 10_000_000
TREND_FPS_TARGET = 30.0
SANKEY_UPDATES_TARGET = 30.0


def bench_trend_fps(app) -> None:
    from gui.trends import TrendPanel, TrendSeries

    rng = np.random.default_rng(0)
    time_s = 1.7e9 + np.arange(TREND_POINTS, dtype=np.float64)
    values = np.cumsum(rng.standard_normal(TREND_POINTS))
    panel = TrendPanel()
    panel.resize(1280, 720)
    t0 = time.perf_counter()
    panel.add_plot([TrendSeries("walk", "MW", time_s, values, limits=(0.0,), band=(-500, 500))])
    panel.show()
    panel.layout_widget.grab()
    app.processEvents()
    load_s = time.perf_counter() - t0
    view = panel.plots[0].vb
    steps = 60
    t0 = time.perf_counter()
    for i in range(steps):
        span = TREND_POINTS * (0.55 + 0.45 * np.cos(i / 9.0)) + 1000.0
        x0 = time_s[0] + (TREND_POINTS - span) * 0.5 * (1.0 + np.sin(i / 7.0))
        view.setXRange(x0, x0 + span, padding=0)
        panel.layout_widget.grab()
        app.processEvents()
    fps = steps / (time.perf_counter() - t0)
    print(f"trend 10 M points: load {load_s:.2f} s, drawn {panel.drawn_points('walk')} points")
    print(f"trend pan/zoom: {fps:.1f} frames/s (target >= {TREND_FPS_TARGET:.0f})")
    panel.close()


def bench_sankey_rate(app) -> None:
    from energyopt.demos import demo_project_file
    from energyopt.demos.steelworks_truth import run_truth
    from energyopt.flows import FlowModel, FlowTrajectory
    from energyopt.plantbuild import build_plant
    from energyopt.project.loader import load_project
    from gui.flows_view import FlowsView

    built = build_plant(load_project(demo_project_file("steelworks")))
    start_ms = 1_700_000_000_000
    run = run_truth(built, days=0.25, step_s=60.0, start_ms=start_ms, warmup_s=1800.0)
    time_ms = (start_ms + run.time_s * 1000.0).astype(np.int64)
    model = FlowModel.from_built(
        built,
        FlowTrajectory(time_ms, run.states, run.inputs, run.disturbances, run.outputs),
    )
    view = FlowsView(model)
    view.resize(1280, 720)
    view.show()
    view.graphics.viewport().grab()
    n = min(200, time_ms.size)
    t0 = time.perf_counter()
    for k in range(n):
        model.set_index(k)
        view.graphics.viewport().grab()
        app.processEvents()
    rate = n / (time.perf_counter() - t0)
    print(
        f"Sankey (site, steelworks): {rate:.1f} updates/s (target >= {SANKEY_UPDATES_TARGET:.0f})"
    )
    view.close()


SECTIONS: dict[str, Callable[..., None]] = {
    "trend_fps": bench_trend_fps,
    "sankey_rate": bench_sankey_rate,
}


def main() -> None:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    wanted = sys.argv[1:] or list(SECTIONS)
    for name in wanted:
        SECTIONS[name](app)


if __name__ == "__main__":
    main()
