"""Tune benchmark: a 32-trial tune of real steelworks MPC replays with 1 and 2 workers.

Every trial is a replay (:func:`energyopt.replay.run_replay`, economic MPC
with its causal forecast) of a one-hour window of the demo steelworks'
recorded history, after three days left for the forecasters, with the
economic horizon cut to 6 h so a trial takes seconds.  The search space
(band weight, move weight, priority ratio) does not change the size of the
MPC's problem, so every trial costs about the same and the two runs do the
same amount of work.  The speed-up target is 1.7x with 2 workers (issue 5);
on a machine shared with other jobs the ratio is lower.

Run: ``python benchmarks/wf_tune.py [--trials 32]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_SPEEDUP = 1.7

#: Evaluate function of the benchmark: the default replay, plus scheduler figures.
EVALUATE = "benchmarks.wf_tune:replay_with_timing"

#: The benchmark's [tune] section: one 1-h window after 3 d of history.
TUNE_SECTION = """
[tune]
budget = {trials}
seed = 0
windows = 1
window_s = "1 h"
history_s = "3 d"
defaults = false

[tune.constraints]
holder_time_outside_hard = {{ max = 0 }}

[tune.params."controller.band_weight"]
low = 100
high = 10000
scale = "log"

[tune.params."controller.economic.move_weight"]
low = 1000
high = 100000
scale = "log"

[tune.params."controller.priority_ratio"]
low = 2
high = 100
scale = "log"
"""


def _runqueue_wait_s() -> float:
    """Time this process has waited for a CPU (Linux ``/proc/self/schedstat``). [s]"""
    try:
        fields = Path("/proc/self/schedstat").read_text().split()
    except OSError:
        return float("nan")
    return int(fields[1]) / 1e9


def replay_with_timing(project: Any, data_path: str, start_ms: int, end_ms: int) -> dict[str, Any]:
    """:func:`energyopt.tune.evaluate.replay_kpis`, plus its CPU and CPU-wait time.

    The extra entries (``bench_cpu_s``, ``bench_wait_s``) are stored with the
    window's KPIs; the score ignores them.  Wall time = CPU time + time
    waiting for a CPU (other jobs on the machine) + time blocked (I/O, locks).
    """
    from energyopt.tune.evaluate import replay_kpis

    cpu, wait = time.process_time(), _runqueue_wait_s()
    kpis: dict[str, Any] = replay_kpis(project, data_path, start_ms, end_ms)
    kpis["bench_cpu_s"] = time.process_time() - cpu
    kpis["bench_wait_s"] = _runqueue_wait_s() - wait
    return kpis


def _case(folder: Path, trials: int) -> tuple[Path, Path]:
    """Write the steelworks demo project (6-h horizon, [tune]) and a 4-day history."""
    from energyopt.demos import demo_project_file
    from energyopt.demos.history import write_demo_history
    from energyopt.project import dumps_project, load_project
    from energyopt.project.overrides import apply_overrides

    project = load_project(demo_project_file("steelworks"))
    data = folder / "history.h5"
    write_demo_history(project, "steelworks", data, days=4.0, seed=0)
    short = apply_overrides(project, {"controller.economic.horizon_s": "6 h"})
    path = folder / "plant.toml"
    path.write_text(dumps_project(short) + TUNE_SECTION.format(trials=trials), encoding="utf-8")
    return path, data


def run(trials: int = 32, *, workers: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    """Tune the same case with each worker count and return the wall times.

    Parameters
    ----------
    trials : int
        Trials of each tune.
    workers : tuple of int
        Worker counts to compare (the first is the reference).

    Returns
    -------
    dict
        ``trials``, ``wall_s`` (workers -> seconds), ``speedup`` (workers ->
        reference time / time), ``trial_s``, ``cpu_s`` and ``wait_s``
        (workers -> mean wall time, CPU time and time waiting for a CPU of a
        window replay inside a worker), ``load``
        (workers -> 1-min load average before and after), ``best`` (workers ->
        best energy cost), ``failed`` (failed trials).
    """
    from energyopt.tune import tune_project

    # The workers import the evaluate function as benchmarks.wf_tune.
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    out: dict[str, Any] = {
        "trials": trials,
        "wall_s": {},
        "trial_s": {},
        "cpu_s": {},
        "wait_s": {},
        "load": {},
        "best": {},
        "failed": 0,
    }
    with tempfile.TemporaryDirectory(prefix="wf_tune_") as tmp:
        project, data = _case(Path(tmp), trials)
        for n in workers:
            load_before = os.getloadavg()[0]
            started = time.perf_counter()
            outcome = tune_project(
                project,
                data,
                folder=Path(tmp) / f"tune_{n}",
                output=Path(tmp) / f"plant.tuned_{n}.toml",
                workers=n,
                evaluate=EVALUATE,
            )
            out["wall_s"][n] = time.perf_counter() - started
            out["load"][n] = (load_before, os.getloadavg()[0])
            result = outcome.result
            seconds = [s for t in result.trials for s in t.seconds]
            cpu = [s for t in result.trials for s in t.cpu_seconds]
            wait = [w.get("bench_wait_s") or 0.0 for t in result.trials for w in t.windows]
            out["trial_s"][n] = sum(seconds) / max(len(seconds), 1)
            out["cpu_s"][n] = sum(cpu) / max(len(cpu), 1)
            out["wait_s"][n] = sum(wait) / max(len(wait), 1)
            out["best"][n] = result.best.score.value
            out["failed"] += sum(t.status == "failed" for t in result.trials)
    reference = out["wall_s"][workers[0]]
    out["speedup"] = {n: reference / t for n, t in out["wall_s"].items()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=32)
    args = parser.parse_args()
    result = run(args.trials)
    print(f"tune of {result['trials']} trials (1-h steelworks MPC replays, 6-h horizon)")
    print(
        f"{'workers':>8}  {'wall s':>8}  {'speed-up':>8}  {'replay s':>9}  {'cpu s':>6}  "
        f"{'cpu wait s':>10}  {'load avg':>11}  {'best cost':>12}"
    )
    for n, wall in result["wall_s"].items():
        before, after = result["load"][n]
        print(
            f"{n:>8}  {wall:8.1f}  {result['speedup'][n]:7.2f}x  {result['trial_s'][n]:9.2f}  "
            f"{result['cpu_s'][n]:6.2f}  {result['wait_s'][n]:10.2f}  {before:5.1f}-{after:<5.1f}  "
            f"{result['best'][n]:12.6g}"
        )
    ratio = result["speedup"][max(result["wall_s"])]
    print(f"speed-up with 2 workers: {ratio:.2f}x (target >= {TARGET_SPEEDUP}x)")
    print(
        f"(machine: {os.cpu_count()} CPUs; a load average above that means other jobs share them "
        "and the ratio is not the tune's)"
    )
    if result["failed"]:
        print(f"failed trials: {result['failed']}")


if __name__ == "__main__":
    main()
