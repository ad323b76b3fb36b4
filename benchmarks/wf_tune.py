"""Tune benchmark: a 32-trial tune of real steelworks MPC replays with 1 and 2 workers.

Every trial is a replay (:func:`energyopt.replay.run_replay`, economic MPC
with its causal forecast) of a one-hour window of the demo steelworks'
recorded history, after three days left for the forecasters, with the
economic horizon cut to 6 h so a trial takes seconds.  The search space
(band weight, move weight, priority ratio) does not change the size of the
MPC's problem, so every trial costs about the same and the two runs do the
same amount of work.  The speed-up target is 1.7x with 2 workers (issue 5);
on a machine shared with other jobs the ratio is lower.

A second section measures the reuse of a prepared window
(:func:`energyopt.tune.evaluate.replay_kpis`: the historian read, the replay
case and the forecast record once per window and process, only the
controller rebuilt per trial): the same trials replayed in one process with
and without the reuse, after one warm-up replay.

Run: ``python benchmarks/wf_tune.py [--trials 32] [--reuse-only] [--reuse-trials 6]``.
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


def reuse(trials: int = 6) -> dict[str, Any]:
    """Per-trial wall time of window replays with and without a reused prepared window.

    Parameters
    ----------
    trials : int
        Trials replayed each way (band and move weights spread over their
        ranges; the same settings both ways).

    Returns
    -------
    dict
        ``trials``, ``without_s`` and ``with_s`` (mean wall time of a trial
        [s]), ``ratio`` (with / without), ``same`` (whether every trial's
        energy cost agreed to 1e-9).
    """
    from energyopt.data import HistorianReader
    from energyopt.project import load_project
    from energyopt.project.overrides import apply_overrides
    from energyopt.tune.evaluate import clear_prepared_cache, replay_kpis

    settings = [
        {
            "controller.band_weight": 100.0 * 100.0 ** (k / max(trials - 1, 1)),
            "controller.economic.move_weight": 1e5 / 100.0 ** (k / max(trials - 1, 1)),
        }
        for k in range(trials)
    ]
    out: dict[str, Any] = {"trials": trials}
    costs: dict[bool, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="wf_tune_reuse_") as tmp:
        path, data = _case(Path(tmp), trials)
        base = load_project(path)
        with HistorianReader(data) as reader:
            first, _ = reader.time_span_ms
        start = int(first) + 3 * 86_400_000
        end = start + 3_600_000
        replay_kpis(base, str(data), start, end, reuse=False)  # warm-up: imports, numba, casadi
        for use in (False, True):
            clear_prepared_cache()
            seconds, costs[use] = [], []
            for overrides in settings:
                project = apply_overrides(base, overrides)
                started = time.perf_counter()
                kpis = replay_kpis(project, str(data), start, end, reuse=use)
                seconds.append(time.perf_counter() - started)
                costs[use].append(kpis["energy_cost"])
            out["with_s" if use else "without_s"] = sum(seconds) / len(seconds)
        clear_prepared_cache()
    out["ratio"] = out["with_s"] / out["without_s"]
    out["same"] = all(
        abs(a - b) <= 1e-9 * abs(a) for a, b in zip(costs[False], costs[True], strict=True)
    )
    return out


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
        best energy cost), ``failed`` (failed trials) and ``checks`` (target ->
        met); the table is printed.
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
    most = max(out["wall_s"])
    out["checks"] = {
        f"speed-up with {most} workers {out['speedup'][most]:.2f}x >= {TARGET_SPEEDUP}x": out[
            "speedup"
        ][most]
        >= TARGET_SPEEDUP,
        f"no failed trials ({out['failed']})": out["failed"] == 0,
    }
    _print(out)
    return out


def _print(result: dict[str, Any]) -> None:
    """Print the tune comparison table of :func:`run`."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=32)
    parser.add_argument("--reuse-trials", type=int, default=6)
    parser.add_argument("--reuse-only", action="store_true", help="only the reuse section")
    args = parser.parse_args()
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    same = reuse(args.reuse_trials)
    print(
        f"window reuse, {same['trials']} trials (1-h MPC replays, 6-h horizon, one process): "
        f"{same['without_s']:.2f} s per trial without, {same['with_s']:.2f} s with "
        f"(ratio {same['ratio']:.2f}; same KPIs: {same['same']})"
    )
    if args.reuse_only:
        return
    for key, ok in run(args.trials)["checks"].items():
        print(f"{'PASS' if ok else 'FAIL'}  {key}")


if __name__ == "__main__":
    main()
