"""Economic MPC solve time on the demo steelworks, 24 h horizon at 15 min.

Rolling horizon as in operation: the settings come from the demo project
(:func:`energyopt.controlbuild.economic_settings`, the project's
``[controller.economic]``), the plant is the nominal model simulated between
decisions (RK4, 5 s steps) under the recorded disturbances of a truth run,
the horizon inputs are perfect-foresight interval means, and every solve is
warm-started from the previous one.  The first (cold) solve is reported
apart; the target (median < 0.5 s) is on the warm rolling solves.

Run alone: ``python benchmarks/ctl_empc.py [--steps 24]``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

MEDIAN_TARGET_S = 0.5


def run_empc_benchmark(n_steps: int = 24, seed: int = 3) -> dict[str, Any]:
    """Solve ``n_steps`` rolling economic MPC steps; return the figures.

    Parameters
    ----------
    n_steps : int
        Rolling solves after the first (cold) one.
    seed : int
        Seed of the truth run that supplies states and disturbances.

    Returns
    -------
    dict
        Solve times [s] (wall and CPU), iterations, statuses, objectives
        [CNY] and ``checks`` (target -> bool).
    """
    from controllers.economic import EconomicMPC, RecordedHorizon
    from energyopt.controlbuild import economic_settings
    from energyopt.demos import demo_project_file
    from energyopt.demos.history import DEMO_START_MS
    from energyopt.demos.steelworks_truth import run_truth
    from energyopt.plantbuild import build_plant
    from energyopt.project import load_project
    from plant_models.core.simulate import simulate

    project = load_project(demo_project_file("steelworks"))
    built = build_plant(project)
    settings = economic_settings(project, built)
    interval_s, horizon = settings.interval_s, settings.horizon
    days = (n_steps + 1 + horizon) * interval_s / 86_400.0 + 0.1
    run = run_truth(built, days=days, seed=seed, start_ms=DEMO_START_MS)
    t_ms = DEMO_START_MS + (run.time_s * 1000.0).astype(np.int64)
    price = built.electricity_price_per_j(t_ms)
    u0 = run.inputs[0]
    source = RecordedHorizon.from_fine_record(
        run.time_s, run.disturbances, price, interval_s, horizon, u0
    )
    start = time.perf_counter()
    mpc = EconomicMPC(built.model, built.parameters(), settings)
    build_s = time.perf_counter() - start
    p = built.parameters()
    mv_index = [built.index("u", name) for name in mpc.mv_names]
    low = np.array([m.low for m in settings.mvs])
    high = np.array([m.high for m in settings.mvs])
    x, mv = run.states[0].copy(), np.clip(u0[mv_index], low, high)
    record_step_s = float(run.time_s[1] - run.time_s[0])
    per_interval = round(interval_s / record_step_s)
    wall, cpu, iters, statuses, objectives = [], [], [], [], []
    for k in range(n_steps + 1):
        t_s = k * interval_s
        c0 = time.process_time()
        sol = mpc.plan(x, mv, source(t_s))
        cpu.append(time.process_time() - c0)
        wall.append(sol.solve_time_s)
        iters.append(int(mpc.last_stats.get("iterations", -1)))
        statuses.append(sol.status.name)
        objectives.append(float(sol.objective))
        print(f"  step {k:3d}: {sol.status.name:10s} {sol.message}", flush=True)
        if sol.status.usable:
            mv = sol.mv_plan[0]
        u = u0.copy()
        u[mv_index] = mv
        i0 = k * per_interval
        for j in range(per_interval):
            res = simulate(
                built.model,
                x,
                u[None, :],
                run.disturbances[i0 + j][None, :],
                p,
                record_step_s,
                substeps=max(1, round(record_step_s / 5.0)),
                method="rk4",
            )
            x = res.states[-1]
    warm_wall = np.array(wall[1:])
    warm_cpu = np.array(cpu[1:])
    usable = sum(s in ("OPTIMAL", "SUBOPTIMAL") for s in statuses[1:])
    out: dict[str, Any] = {
        "horizon": f"{horizon} x {interval_s / 60:g} min",
        "build_s": build_s,
        "cold_solve_s": wall[0],
        "warm_median_s": float(np.median(warm_wall)),
        "warm_p95_s": float(np.percentile(warm_wall, 95)),
        "warm_cpu_median_s": float(np.median(warm_cpu)),
        "warm_iterations_median": float(np.median(iters[1:])),
        "usable_solves": f"{usable}/{n_steps}",
        "statuses": statuses,
    }
    out["checks"] = {
        f"median warm solve {out['warm_median_s']:.3f} s < {MEDIAN_TARGET_S} s": out[
            "warm_median_s"
        ]
        < MEDIAN_TARGET_S,
        f"every rolling solve usable ({out['usable_solves']})": usable == n_steps,
    }
    print(
        f"economic MPC {out['horizon']}: build {build_s:.2f} s, cold {wall[0]:.3f} s; "
        f"warm median {out['warm_median_s']:.3f} s (CPU {out['warm_cpu_median_s']:.3f} s), "
        f"p95 {out['warm_p95_s']:.3f} s, median {out['warm_iterations_median']:.0f} "
        f"iterations; target median < {MEDIAN_TARGET_S} s"
    )
    return out


def main() -> int:
    """Command-line entry: run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=24)
    args = parser.parse_args()
    result = run_empc_benchmark(args.steps)
    for key, ok in result["checks"].items():
        print(f"{'PASS' if ok else 'FAIL'}  {key}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
