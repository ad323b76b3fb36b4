"""Helpers writing a replay-like output folder by hand (no replay engine) for the report tests.

The steelworks demo plant is simulated for some hours by its truth model
(:func:`energyopt.demos.steelworks_truth.run_truth`); its vectors are written
in the file contracts of issue 5: ``results.h5`` (MPC), ``compare_baseline.h5``
and ``compare_recorded.h5`` with every bound tag in its engineering unit and
every model variable as ``model.<name>`` in SI, plus ``kpis.json``,
``shadow.json`` and the fit report beside the project.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from energyopt.data import write_historian
from energyopt.kpis import KpiReport, KpiResult

KIND_NAMES = {"y": "output", "x": "state", "u": "input", "d": "disturbance"}

#: KPI values written into kpis.json: run -> key -> value.
KPI_VALUES: dict[str, dict[str, float]] = {
    "recorded": {"energy_cost": 2_834_567.0, "flared_gas": 12_345.6, "stability_rate": 97.5},
    "baseline": {"energy_cost": 2_790_000.0, "flared_gas": 15_000.0, "stability_rate": 98.0},
    "mpc": {"energy_cost": 2_700_000.0, "flared_gas": 8_000.0, "stability_rate": 96.0},
}


@dataclass(frozen=True)
class Truth:
    """The simulated day and the plant it ran on."""

    built: Any
    time_ms: np.ndarray
    vectors: dict[str, np.ndarray]  # kind -> (N, n) array


def model_columns(
    built: Any, vectors: dict[str, np.ndarray]
) -> dict[str, tuple[np.ndarray, str, str]]:
    """Tag ``model.<name>`` -> (values, SI unit, kind); a name in two vectors is written once."""
    out: dict[str, tuple[np.ndarray, str, str]] = {}
    for kind in ("y", "x", "u", "d"):
        for i, var in enumerate(built.model.variables(kind)):
            out.setdefault(f"model.{var.name}", (vectors[kind][:, i], var.unit, KIND_NAMES[kind]))
    return out


def write_run(
    path: Path,
    built: Any,
    time_ms: np.ndarray,
    vectors: dict[str, np.ndarray],
    *,
    run: str,
    project_path: Path,
    data_path: Path,
) -> None:
    """Write one run in the results.h5 contract layout."""
    values: dict[str, np.ndarray] = {}
    units: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for bound in built.bindings.values():
        vector = vectors[bound.vector]
        values[bound.tag] = bound.to_tag(vector[:, bound.index])
        units[bound.tag] = bound.tag_unit
    for tag, (column, unit, kind) in model_columns(built, vectors).items():
        values[tag], units[tag], kinds[tag] = column, unit, kind
    write_historian(
        path,
        time_ms,
        values,
        units,
        kinds=kinds,
        plant=built.project.project.name,
        timezone=built.project.project.timezone,
    )
    with h5py.File(path, "a") as h5:
        h5.attrs["energyopt_run"] = run
        h5.attrs["source_project"] = str(project_path.resolve())
        h5.attrs["source_data"] = str(data_path.resolve())
        decisions = h5.create_group("decisions")
        decisions["time"] = time_ms[::15]
        decisions["compute_time_s"] = np.full(time_ms[::15].size, 0.5)
        status = decisions.create_dataset("status", data=np.ones(time_ms[::15].size, np.int8))
        status.attrs["codes"] = "failed,optimal"


def kpi_document(project_path: Path, data_path: Path, start_ms: int, end_ms: int) -> dict:
    runs = {
        run: [KpiResult(key, value, n_samples=1440) for key, value in values.items()]
        for run, values in KPI_VALUES.items()
    }
    report = KpiReport.from_results(runs, reference="recorded")
    return {
        "format": "energyopt-kpis",
        "version": 1,
        "plant": "Steelworks energy system (demo)",
        "timezone": "Asia/Shanghai",
        "period": {"start_ms": start_ms, "end_ms": end_ms},
        "controller": "mpc",
        "source_project": str(project_path.resolve()),
        "source_data": str(data_path.resolve()),
        "report": report.to_dict(),
    }


def shadow_document(time_ms: np.ndarray) -> dict:
    rec = {
        "time_ms": int(time_ms[120]),
        "mode": "ADVISE",
        "mvs": [
            {
                "mv": "boiler_3_ng",
                "tag": "B3.NG.FLOW",
                "unit": "Nm3/h",
                "current": 4200.0,
                "recommended": 1500.0,
                "low": 0.0,
                "high": 20000.0,
                "reason": "burn surplus BFG instead of purchased natural gas",
            }
        ],
        "expected_saving": 5432.1,
        "currency": "CNY",
        "active_constraints": ["bfg_holder_level high"],
        "fallback": "NONE",
        "status": "optimal",
    }
    second = dict(rec, time_ms=int(time_ms[300]), expected_saving=321.0)
    return {
        "format": "energyopt-shadow",
        "version": 1,
        "plant": "Steelworks energy system (demo)",
        "timezone": "Asia/Shanghai",
        "period": {"start_ms": int(time_ms[0]), "end_ms": int(time_ms[-1])},
        "currency": "CNY",
        "intervals": [],
        "missed_savings_per_hour": [
            {"hour_start_ms": int(time_ms[0]), "missed": 1000.0},
            {"hour_start_ms": int(time_ms[60]), "missed": 234.5},
        ],
        "missed_by_cause": {"natural gas instead of BFG": 1100.0, "holder high": 134.5},
        "top_recommendations": [rec, second],
    }


def fit_document(time_ms: np.ndarray) -> dict:
    t = time_ms[:200]
    measured = 50.0 + 10.0 * np.sin(np.arange(t.size) / 30.0)
    return {
        "format": "energyopt-fit",
        "version": 1,
        "project": "plant.toml",
        "data": "history.h5",
        "train": {"start_ms": int(time_ms[0]), "end_ms": int(time_ms[160])},
        "validate": {"start_ms": int(time_ms[160]), "end_ms": int(time_ms[-1])},
        "units": [
            {
                "unit": "boiler_1",
                "kind": "calibrated",
                "outputs": [
                    {"name": "steam_kg_s", "unit": "kg/s", "nrmse": 0.0321, "r2": 0.9876,
                     "bias": -0.0456},
                ],
                "parameters": [
                    {"name": "efficiency_nominal", "value": 0.9012, "std_error": 0.0034,
                     "unit": "1"},
                ],
                "samples": {"train": 700, "validate": 740},
                "series": {
                    "steam_kg_s": {
                        "time_ms": t.tolist(),
                        "measured": measured.tolist(),
                        "predicted": (measured * 1.01).tolist(),
                    }
                },
            }
        ],
        "skipped": [{"unit": "tg_2", "reason": "no data in the training period"}],
    }  # fmt: skip


def build_replay_dir(root: Path, truth: Truth) -> Path:
    """Write a complete replay-like folder under ``root``; return the output folder."""
    from energyopt.demos import demo_project_text

    root.mkdir(parents=True, exist_ok=True)
    project_path = root / "plant.toml"
    project_path.write_text(demo_project_text("steelworks"), encoding="utf-8")
    data_path = root / "history.h5"
    data_path.write_bytes(b"")  # only its path is recorded
    out = root / "replay"
    out.mkdir()
    built, t, vectors = truth.built, truth.time_ms, truth.vectors
    write_run(out / "results.h5", built, t, vectors, run="mpc", project_path=project_path,
              data_path=data_path)  # fmt: skip
    baseline = {k: v.copy() for k, v in vectors.items()}
    baseline["y"][:, built.index("y", "bfg_holder.level_fraction")] += 0.05
    write_run(out / "compare_baseline.h5", built, t, baseline, run="baseline",
              project_path=project_path, data_path=data_path)  # fmt: skip
    write_run(out / "compare_recorded.h5", built, t, vectors, run="recorded",
              project_path=project_path, data_path=data_path)  # fmt: skip
    doc = kpi_document(project_path, data_path, int(t[0]), int(t[-1]) + 60_000)
    (out / "kpis.json").write_text(json.dumps(doc), encoding="utf-8")
    (out / "shadow.json").write_text(json.dumps(shadow_document(t)), encoding="utf-8")
    (root / "plant.fit.json").write_text(json.dumps(fit_document(t)), encoding="utf-8")
    return out


def simulate_truth(days: float = 1.0) -> Truth:
    """Simulate the steelworks demo for ``days`` at 1 min with its truth model."""
    from energyopt.demos import demo_project_file
    from energyopt.demos.history import DEMO_START_MS
    from energyopt.demos.steelworks_truth import run_truth
    from energyopt.plantbuild import build_plant
    from energyopt.project import load_project

    built = build_plant(load_project(demo_project_file("steelworks")))
    run = run_truth(built, days=days, step_s=60.0, seed=3, start_ms=DEMO_START_MS)
    n = run.time_s.size
    vectors = {"x": run.states[:n], "u": run.inputs, "d": run.disturbances, "y": run.outputs}
    time_ms = DEMO_START_MS + (run.time_s * 1000.0).astype(np.int64)
    return Truth(built, time_ms, vectors)
