"""The KPI dashboard's Qt-free state: loading a replay folder, tasks, requests, intensity.

The replay folder is written by hand with the report tests' helper
(``tests/energyopt/report/report_case.py``): six simulated hours of the
steelworks demo in the issue-5 file contracts and a kpis.json with known
values.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.appstate.kpi_dashboard import (
    DashboardData,
    KpiDashboard,
    ReplayRequest,
    default_out_dir,
    load_dashboard,
)
from energyopt.appstate.tasks import DeferredRunner, run_inline
from energyopt.errors import DataError, OutputError
from energyopt.report.intensity import product_variable, rolling_intensity_kgce_t

HOUR_MS = 3_600_000


def _report_case() -> ModuleType:
    """The report tests' folder builder (imported by path: tests are not a package)."""
    if "report_case" in sys.modules:
        return sys.modules["report_case"]
    path = Path(__file__).resolve().parents[1] / "report" / "report_case.py"
    spec = importlib.util.spec_from_file_location("report_case", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["report_case"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def truth() -> Any:
    """Six simulated hours of the steelworks demo (a few seconds)."""
    return _report_case().simulate_truth(days=0.25)


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory: pytest.TempPathFactory, truth: Any) -> Path:
    """A complete replay folder (results, comparisons, kpis.json), written once."""
    return _report_case().build_replay_dir(tmp_path_factory.mktemp("kpi") / "case", truth)


class NamedRunner(DeferredRunner):
    """Runs each task at once (as :func:`run_inline`), keeping it to show its name."""

    def __call__(self, fn: Any, callbacks: Any, *, name: str = "") -> Any:
        task = super().__call__(fn, callbacks, name=name)
        self.run_all()
        return task


def _events(model: KpiDashboard) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    model.data_changed.connect(lambda d: events.append(("data", d)))
    model.busy_changed.connect(lambda b: events.append(("busy", b)))
    model.failed.connect(lambda kind, exc: events.append(("failed", (kind, exc))))
    model.cancelled.connect(lambda kind: events.append(("cancelled", kind)))
    model.progress_changed.connect(lambda p: events.append(("progress", p)))
    model.replay_finished.connect(lambda p: events.append(("replay", p)))
    return events


def test_load_dashboard_kpi_table(case_dir: Path) -> None:
    values = _report_case().KPI_VALUES
    data = load_dashboard(case_dir)
    assert data.runs == ("recorded", "baseline", "mpc")
    assert data.reference == "recorded"
    assert data.currency == "CNY"
    assert data.kpis_problem == ""
    cost = data.row("energy_cost")
    assert cost.unit == "CNY"  # "currency" replaced by the project's
    assert cost.name("zh") == "能源成本"
    for run in data.runs:
        # Values pass through JSON and KpiReport unchanged (float64 round trip).
        assert_allclose(cost.values[run], values[run]["energy_cost"], rtol=1e-15)
    # Differences against recorded, improved by each KPI's direction.
    diff = cost.differences["mpc"]
    assert_allclose(diff.absolute, 2_700_000.0 - 2_834_567.0, rtol=1e-12)  # float subtraction
    assert diff.improved is True  # lower cost is better
    assert data.row("flared_gas").differences["baseline"].improved is False  # more flaring
    assert data.row("stability_rate").differences["mpc"].improved is False  # 96 < 97.5 %
    assert "recorded" not in cost.differences
    with pytest.raises(KeyError):
        data.row("no_such_kpi")


def test_load_dashboard_time_series(case_dir: Path, truth: Any) -> None:
    data = load_dashboard(case_dir, window_s=24 * 3600.0)
    assert data.cost_problem == ""
    assert data.intensity_problem == ""
    assert list(data.cost) == ["recorded", "baseline", "mpc"]
    assert list(data.intensity) == ["recorded", "baseline", "mpc"]
    t_cost, cost = data.cost["mpc"]
    assert t_cost.shape == cost.shape == truth.time_ms.shape
    assert np.all(np.diff(cost) >= 0.0)  # purchases only: the cumulative cost never falls
    # With a window longer than the period, the last intensity is the period's
    # comprehensive energy over its product, computed here by the KPI functions.
    from energyopt.kpis.energy import comprehensive_energy_kgce, total_mass_t

    built = truth.built
    y, d = truth.vectors["y"], truth.vectors["d"]
    step_s = 60.0
    energy = comprehensive_energy_kgce(
        step_s,
        power_purchased_w=y[:, built.index("y", "grid.power_purchased_w")],
        fuel_flows_nm3_s={"ng": y[:, built.index("y", "ng.demand")]},
        fuel_lhv_j_nm3={"ng": 36.0e6},  # the demo's natural gas, GUIDE section 4
    )
    made_t = total_mass_t(d[:, built.index("d", "converters.production_kg_s")], step_s)
    _, intensity = data.intensity["mpc"]
    # Same sums in a different order (cumulative sums vs np.sum): rounding only.
    assert_allclose(intensity[-1], energy / made_t, rtol=1e-9)
    assert 10.0 < intensity[-1] < 200.0  # electricity + NG per t steel: tens of kgce/t


def test_rolling_intensity_by_hand() -> None:
    t = np.arange(4) * HOUR_MS
    energy = np.array([1.0, 1.0, 2.0, 2.0])  # kgce/s
    product = np.array([1.0, 1.0, 1.0, 0.0])  # kg/s
    end, intensity = rolling_intensity_kgce_t(t, energy, product, window_s=7200.0)
    assert_allclose(end, t + HOUR_MS)
    # Step energies 3600, 3600, 7200, 7200 kgce; products 3.6, 3.6, 3.6, 0 t.
    # Windows (t-2h, t]: {0}, {0,1}, {1,2}, {2,3} -> 1000, 1000, 1500, 4000 kgce/t.
    assert_allclose(intensity, [1000.0, 1000.0, 1500.0, 4000.0], rtol=1e-12)  # exact sums
    _, none_made = rolling_intensity_kgce_t(t, energy, np.zeros(4), window_s=7200.0)
    assert np.all(np.isnan(none_made))


@pytest.mark.parametrize(
    ("t", "window_s", "fragment"),
    [
        (np.array([0, 1, 2]), 60.0, "equal length"),
        (np.array([0, 2, 1, 3]), 60.0, "increase strictly"),
        (np.array([0, 1, 2, 3]), 0.0, "window must be positive"),
    ],
)
def test_rolling_intensity_rejects(t: np.ndarray, window_s: float, fragment: str) -> None:
    with pytest.raises(DataError, match=fragment):
        rolling_intensity_kgce_t(t, np.ones(4), np.ones(4), window_s=window_s)


def test_product_variable_is_crude_steel(truth: Any) -> None:
    assert product_variable(truth.built) == "converters.production_kg_s"


def test_model_loads_and_signals(case_dir: Path) -> None:
    runner = NamedRunner()
    model = KpiDashboard(runner)
    events = _events(model)
    assert model.open_folder(case_dir, name="load it")
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "busy"
    assert events[0][1] is True
    assert "progress" in kinds
    assert kinds[-2:] == ["busy", "data"]  # idle before the data arrives
    assert isinstance(model.data, DashboardData)
    assert not model.busy
    assert model.task is None
    assert [task.name for task in runner.started] == ["load it"]
    project, data_path = model.replay_defaults()
    assert project == (case_dir.parent / "plant.toml").resolve()
    assert data_path == (case_dir.parent / "history.h5").resolve()


def test_broken_kpis_json_fails_naming_the_file(tmp_path: Path, case_dir: Path) -> None:
    folder = tmp_path / "broken"
    shutil.copytree(case_dir, folder)
    (folder / "kpis.json").write_text('{"format": "energyopt-kpis", "version": 1,', "utf-8")
    model = KpiDashboard(run_inline)
    events = _events(model)
    model.open_folder(folder)
    failures = [value for kind, value in events if kind == "failed"]
    assert len(failures) == 1
    kind, exc = failures[0]
    assert kind == "load"
    assert isinstance(exc, DataError)
    assert str(folder / "kpis.json") in str(exc)
    assert "not valid JSON" in str(exc)
    assert model.data is None
    assert not model.busy


def test_cancelled_load(case_dir: Path) -> None:
    runner = DeferredRunner()
    model = KpiDashboard(runner)
    events = _events(model)
    model.open_folder(case_dir)
    model.cancel()  # before the task reads anything
    runner.run_all()
    assert ("cancelled", "load") in events
    assert model.data is None
    assert not model.busy


def test_one_task_at_a_time_and_cancel(case_dir: Path) -> None:
    runner = DeferredRunner()
    model = KpiDashboard(runner)
    assert model.open_folder(case_dir)
    assert model.busy
    assert model.task == "load"
    assert not model.open_folder(case_dir)  # refused while busy
    model.cancel()
    assert runner.started[0].token.cancelled


def test_replay_then_load(tmp_path: Path, case_dir: Path) -> None:
    calls: list[tuple[Any, ...]] = []

    def fake_replay(project: Path, data: Path, controller: str, out_dir: Path, **kw: Any) -> Path:
        calls.append((project, data, controller, out_dir, kw["start_ms"], kw["compare"]))
        kw["progress"](1, 2, "half")
        shutil.copytree(case_dir, out_dir)
        return out_dir

    model = KpiDashboard(run_inline, replay=fake_replay)
    events = _events(model)
    request = ReplayRequest(
        project_path=tmp_path / "plant.toml",
        data_path=tmp_path / "history.h5",
        controller="baseline",
        out_dir=tmp_path / "out",
        start_ms=0,
        end_ms=HOUR_MS,
        compare=False,
    )
    assert model.run_replay(request)
    assert calls == [
        (tmp_path / "plant.toml", tmp_path / "history.h5", "baseline", tmp_path / "out", 0, False)
    ]
    assert ("replay", tmp_path / "out") in events
    progress = [p for kind, p in events if kind == "progress"]
    assert (progress[0].done, progress[0].total, progress[0].message) == (1, 2, "half")
    assert progress[0].fraction == 0.5
    assert model.data is not None
    assert model.data.folder == tmp_path / "out"


def test_export_needs_a_folder() -> None:
    model = KpiDashboard(run_inline)
    with pytest.raises(OutputError, match="open a replay folder"):
        model.export_report("en")


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"controller": "pid"}, "controller must be one of mpc, baseline, recorded"),
        ({"start_ms": 5, "end_ms": 5}, "period is empty"),
        ({"out_dir": None}, "exists; a replay writes a new folder"),
    ],
)
def test_replay_request_rejects(tmp_path: Path, changes: dict[str, Any], fragment: str) -> None:
    fields: dict[str, Any] = {
        "project_path": tmp_path / "plant.toml",
        "data_path": tmp_path / "history.h5",
        "controller": "mpc",
        "out_dir": tmp_path / "new",
    }
    fields.update(changes)
    if fields["out_dir"] is None:
        fields["out_dir"] = tmp_path  # exists
    with pytest.raises(OutputError, match=fragment):
        ReplayRequest(**fields)


def test_default_out_dir(tmp_path: Path) -> None:
    data = tmp_path / "history.h5"
    now_s = 1_700_000_000.0  # 2023-11-14T22:13:20Z
    first = default_out_dir(data, "mpc", now_s)
    assert first == tmp_path / "history_replay_mpc_20231114-221320"
    first.mkdir()
    assert default_out_dir(data, "mpc", now_s) == tmp_path / "history_replay_mpc_20231114-221320-2"


def test_kpis_json_missing_leaves_a_reason(tmp_path: Path, case_dir: Path) -> None:
    folder = tmp_path / "nokpis"
    shutil.copytree(case_dir, folder)
    (folder / "kpis.json").unlink()
    data = load_dashboard(folder)
    assert data.rows == ()
    assert data.kpis_problem == "no kpis.json in this folder"
    assert list(data.cost) == ["recorded", "baseline", "mpc"]  # still drawn from results


def test_kpi_values_match_the_written_file(case_dir: Path) -> None:
    doc = json.loads((case_dir / "kpis.json").read_text("utf-8"))
    data = load_dashboard(case_dir)
    assert set(data.runs) == set(doc["report"]["runs"])


def test_period_text_in_plant_time() -> None:
    from energyopt.appstate.kpi_data import period_text

    start = 1_767_571_200_000  # 2026-01-05T00:00Z
    assert period_text((start, start + 6 * 3_600_000), "Asia/Shanghai") == (
        "2026-01-05 08:00 – 14:00 (UTC+08:00)"
    )
    # Across midnight in plant time: the end names its date.
    assert period_text((start, start + 20 * 3_600_000), "Asia/Shanghai") == (
        "2026-01-05 08:00 – 2026-01-06 04:00 (UTC+08:00)"
    )
    # Berlin on 2026-03-29: clocks go from 02:00 CET to 03:00 CEST at 01:00Z.
    dst = 1_774_742_400_000  # 2026-03-29T00:00Z = 01:00 CET
    assert period_text((dst, dst + 2 * 3_600_000), "Europe/Berlin") == (
        "2026-03-29 01:00 – 04:00 (UTC+01:00)"
    )
    assert period_text((None, start), "UTC") == "–"
    assert period_text((start, start), "Nowhere/Else").endswith("(UTC+00:00)")
