"""The GUI's start-up warm-up and demo smoke, wired to fast stand-ins of the real work.

The real work (the advisor's first recommendation on a 3-day demo history,
the numba compilation) is exercised by ``tests/energyopt/test_runtime_warm.py``
and, in the installed copy, by ``make installer-test``; here the functions are
replaced so that only the wiring (workers, status bar, the history opened in
the window, timings line, screenshot, exit status) is tested.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.errors import SolverError
from energyopt.runtime import DemoRecommendation
from gui.app import main, start_warmup
from gui.main_window import MainWindow
from gui.settings import AppSettings

pytestmark = pytest.mark.gui


def _fake_recommendation(progress, cancel, *, folder, project_path):
    """A made-up recommendation on a history file that is not written."""
    from energyopt.demos.history import DEMO_START_MS

    assert project_path.parent == folder  # the smoke's demo project, in its folder
    history = folder / "history.h5"
    progress(3, 3, "recommendation ready")
    return DemoRecommendation(
        status="optimal",
        fallback="controller plan",
        time_ms=DEMO_START_MS + 3 * 86_400_000,
        timezone="Asia/Shanghai",
        mv_names=("a", "b", "c"),
        setpoints=np.zeros(3),
        history_path=history,
        history_s=0.2,
        open_s=0.3,
        recommend_s=0.4,
    )


def _fake_warmup(progress, cancel):
    progress(2, 2, "model kernels ready")
    return {"steelworks": 0.5, "chemical": 0.25}


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """Logs, caches and settings under tmp_path."""
    from plant_models.core.codegen import KERNEL_DIR_ENV

    monkeypatch.setattr("gui.errors.default_log_dir", lambda: tmp_path / "log")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    monkeypatch.setenv(KERNEL_DIR_ENV, str(tmp_path / "kernels"))
    return tmp_path


def test_demo_smoke_prints_timings_and_saves_a_screenshot(isolated, monkeypatch, capsys):
    monkeypatch.setattr("gui.app.demo_recommendation", _fake_recommendation)
    monkeypatch.setattr("gui.app.warm_numba_cache", _fake_warmup)
    opened = []  # the history is opened in the window (not written by the stand-in)
    monkeypatch.setattr(MainWindow, "open_historian", lambda self, path: opened.append(path))
    shot = isolated / "shot.png"
    before = time.time()
    status = main(["--smoke", "--settings", str(isolated / "s.ini"), "--screenshot", str(shot)])
    after = time.time()
    out, err = capsys.readouterr()
    assert status == 0, err
    lines = [ln for ln in out.splitlines() if ln.startswith("energyopt-gui-smoke ")]
    assert len(lines) == 1
    figures = json.loads(lines[0].split(" ", 1)[1])
    # Sums of the stand-in's times (history 0.2, session 0.3, recommendation 0.4)
    # in floating point: exact to rounding.
    assert_allclose(figures["recommendation_s"], 0.3 + 0.4, rtol=1e-12)
    assert_allclose(figures["first_recommendation_s"], 0.3 + 0.4, rtol=1e-12)
    assert_allclose(figures["total_s"], 0.9, rtol=1e-12)
    # The installer test's names: demo data, advisor session, its solve.
    assert (figures["simulation_s"], figures["controller_s"], figures["solve_s"]) == (
        0.2,
        0.3,
        0.4,
    )
    assert (figures["status"], figures["fallback"], figures["n_mv"]) == (
        "optimal",
        "controller plan",
        3,
    )
    # 2026-01-08T00:00Z in the plant's zone.
    assert figures["recommended_at"] == "2026-01-08T08:00:00+08:00"
    assert "first recommendation: 0.7 s (3 setpoints for 2026-01-08T08:00:00+08:00" in out
    assert [path.name for path in opened] == ["history.h5"]
    assert figures["warmup_s"] >= 0.0
    assert before <= figures["first_paint_epoch_s"] <= after
    assert figures["screenshot"] == str(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_smoke_fails_when_the_recommendation_fails(isolated, monkeypatch, capsys):
    def failing(progress, cancel, **_paths):
        raise SolverError("the economic MPC returned infeasible")

    monkeypatch.setattr("gui.app.demo_recommendation", failing)
    monkeypatch.setattr("gui.app.warm_numba_cache", _fake_warmup)
    assert main(["--smoke", "--settings", str(isolated / "s.ini")]) == 1
    err = capsys.readouterr().err
    assert "demo recommendation: SolverError: the economic MPC returned infeasible" in err


def test_start_warmup_reports_in_the_status_bar(isolated, monkeypatch, qtbot):
    settings = AppSettings.from_ini(isolated / "s.ini")
    window = MainWindow(settings.new_session(), settings, restore_session=False)
    qtbot.addWidget(window)
    monkeypatch.setattr("gui.app.warm_numba_cache", _fake_warmup)
    worker = start_warmup(window)
    with qtbot.waitSignal(worker.done, timeout=10_000):
        pass
    assert window.statusBar().currentMessage() == "Model kernels ready"

    def failing(progress, cancel):
        raise OSError("disk full")

    monkeypatch.setattr("gui.app.warm_numba_cache", failing)
    worker = start_warmup(window)
    with qtbot.waitSignal(worker.done, timeout=10_000):
        pass
    assert window.statusBar().currentMessage() == "Model kernels not prepared: disk full"
    window.close()
