"""Economic MPC solve time on the demo steelworks, 24 h horizon at 15 min.

Rolling horizon as in operation: the settings come from the demo project
(:func:`energyopt.controlbuild.economic_settings`, the project's
``[controller.economic]``), the plant is the nominal model simulated between
decisions (RK4, 5 s steps) under the recorded disturbances of a truth run,
the horizon inputs are perfect-foresight interval means, and every solve is
warm-started from the previous one.  The first (cold) solve is reported
apart; the target (median < 0.5 s) is on the warm rolling solves.

Variants of the solver settings are solved in the same run from the same
states (the project's settings, ``ipopt``, drive the plant in closed loop;
each variant keeps its own warm start), so their CPU and wall times and their
objectives are compared pairwise under the same machine load: ``former``
(the configuration before 2026-11-21: warm ``mu_init`` 1e-4 and an initial
guess whose band slacks start at zero and whose last interval is simulated
with the repeated last MVs, see :class:`FormerEconomicMPC`), ``ipopt`` (the
project's settings with the current defaults) and, with ``--blocked``,
``blocked`` (move blocking, :func:`controllers.economic.growing_move_blocks`
with 4 blocks of each length; the steam-side MVs and the mixed-gas make-up
flow are exempt: they close balances whose other terms change every
interval, and blocking them made every 24 h solve fail after 300 iterations).
Ratios are against ``former``.

Run alone: ``python benchmarks/ctl_empc.py [--steps 24] [--blocked]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from typing import Any

import numpy as np

MEDIAN_TARGET_S = 0.5
#: Prefixes of the demo's MVs exempt from move blocking: the pressure-reducing
#: stations and turbines close the steam headers' balances, the mixer the
#: mixed-gas balance, every interval.
BLOCKING_EXEMPT = ("prds_", "tg_", "gas_mixing.")


def _variants(settings: Any, blocked: bool) -> dict[str, Any]:
    """Solver-setting variants: ``(MPC class, settings)``; the first drives the plant."""
    from controllers.economic import EconomicMPC, growing_move_blocks

    out = {
        "ipopt": (EconomicMPC, settings),
        "former": (_former_class(), dataclasses.replace(settings, warm_start_mu_init=1.0e-4)),
    }
    if blocked:
        exempt = tuple(m.name for m in settings.mvs if m.name.startswith(BLOCKING_EXEMPT))
        out["blocked"] = (
            EconomicMPC,
            dataclasses.replace(
                settings,
                move_blocks=growing_move_blocks(settings.horizon, 4),
                move_blocks_exempt=exempt,
            ),
        )
    return out


def _former_class() -> type:
    """The economic MPC with the initial guess used before 2026-11-21 (for comparison)."""
    from controllers.economic import EconomicMPC

    class FormerEconomicMPC(EconomicMPC):
        """Former guess: band slacks at zero, the last interval simulated, not carried over."""

        def _initial_guess(  # type: ignore[no-untyped-def]
            self, x, mv, d, u_base, low, high, mv_guess, *, previous_tail=False
        ):
            z0 = super()._initial_guess(x, mv, d, u_base, low, high, mv_guess)
            s, N = self._layout.settings, self.settings.horizon
            start = (len(s.mvs) + self._n["x"] * self._n_nodes) * N
            z0[start : start + 2 * len(s.soft_bands) * N] = 0.0
            return z0

    return FormerEconomicMPC


def _figures(wall: list[float], cpu: list[float], iters: list[int]) -> dict[str, float]:
    """Median and p95 of the warm solves (all but the first). [s]"""
    w, c = np.array(wall[1:]), np.array(cpu[1:])
    return {
        "warm_median_s": float(np.median(w)),
        "warm_p95_s": float(np.percentile(w, 95)),
        "warm_cpu_median_s": float(np.median(c)),
        "warm_cpu_p95_s": float(np.percentile(c, 95)),
        "warm_iterations_median": float(np.median(iters[1:])),
    }


def run_empc_benchmark(n_steps: int = 24, seed: int = 3, blocked: bool = False) -> dict[str, Any]:
    """Solve ``n_steps`` rolling economic MPC steps; return the figures.

    Parameters
    ----------
    n_steps : int
        Rolling solves after the first (cold) one.
    seed : int
        Seed of the truth run that supplies states and disturbances.
    blocked : bool
        Also solve the move-blocked variant.

    Returns
    -------
    dict
        Baseline solve times [s] (wall and CPU), iterations, statuses,
        objectives [CNY], ``variants`` (the same figures per variant, with
        the median and largest objective relative to the baseline's at the
        same state, CPU and iteration ratios against ``former``)
        and ``checks`` (target -> bool).
    """
    from controllers.economic import RecordedHorizon
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
    mpcs, build_s = {}, {}
    for name, (cls, variant) in _variants(settings, blocked).items():
        start = time.perf_counter()
        mpcs[name] = cls(built.model, built.parameters(), variant)
        build_s[name] = time.perf_counter() - start
    mpc = mpcs["ipopt"]
    p = built.parameters()
    mv_index = [built.index("u", name) for name in mpc.mv_names]
    low = np.array([m.low for m in settings.mvs])
    high = np.array([m.high for m in settings.mvs])
    x, mv = run.states[0].copy(), np.clip(u0[mv_index], low, high)
    record_step_s = float(run.time_s[1] - run.time_s[0])
    per_interval = round(interval_s / record_step_s)
    rec: dict[str, dict[str, list[Any]]] = {
        name: {"wall": [], "cpu": [], "iters": [], "status": [], "objective": []} for name in mpcs
    }
    for k in range(n_steps + 1):
        t_s = k * interval_s
        inputs = source(t_s)
        solutions = {}
        for name, ctl in mpcs.items():
            c0 = time.process_time()
            sol = ctl.plan(x, mv, inputs)
            r = rec[name]
            r["cpu"].append(time.process_time() - c0)
            r["wall"].append(sol.solve_time_s)
            iterations = ctl.last_stats.get("iterations", -1)
            r["iters"].append(iterations if isinstance(iterations, int) else -1)
            r["status"].append(sol.status.name)
            r["objective"].append(float(sol.objective))
            solutions[name] = sol
            print(f"  step {k:3d} {name:8s}: {sol.status.name:10s} {sol.message}", flush=True)
        sol = solutions["ipopt"]
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
    base = rec["ipopt"]
    statuses = base["status"]
    usable = sum(s in ("OPTIMAL", "SUBOPTIMAL") for s in statuses[1:])
    out: dict[str, Any] = {
        "horizon": f"{horizon} x {interval_s / 60:g} min",
        "build_s": build_s["ipopt"],
        "cold_solve_s": base["wall"][0],
        **_figures(base["wall"], base["cpu"], base["iters"]),
        "usable_solves": f"{usable}/{n_steps}",
        "statuses": statuses,
        "variants": {},
    }
    base_obj = np.array(base["objective"])
    for name, r in rec.items():
        fig = _figures(r["wall"], r["cpu"], r["iters"])
        rel = (np.array(r["objective"]) - base_obj) / np.abs(base_obj)
        fig["objective_vs_ipopt_median"] = float(np.nanmedian(rel))
        fig["objective_vs_ipopt_max_abs"] = float(np.nanmax(np.abs(rel)))
        fig["usable_solves"] = sum(s in ("OPTIMAL", "SUBOPTIMAL") for s in r["status"][1:])
        fig["build_s"] = build_s[name]
        out["variants"][name] = fig
    former = out["variants"]["former"]
    for fig in out["variants"].values():
        fig["cpu_ratio_vs_former"] = fig["warm_cpu_median_s"] / former["warm_cpu_median_s"]
        fig["wall_ratio_vs_former"] = fig["warm_median_s"] / former["warm_median_s"]
        fig["iter_ratio_vs_former"] = (
            fig["warm_iterations_median"] / former["warm_iterations_median"]
        )
    out["checks"] = {
        f"median warm solve {out['warm_median_s']:.3f} s < {MEDIAN_TARGET_S} s": out[
            "warm_median_s"
        ]
        < MEDIAN_TARGET_S,
        f"every rolling solve usable ({out['usable_solves']})": usable == n_steps,
    }
    print(
        f"economic MPC {out['horizon']}: build {out['build_s']:.2f} s, "
        f"cold {out['cold_solve_s']:.3f} s; target median < {MEDIAN_TARGET_S} s"
    )
    print(
        f"  {'variant':8s} {'wall med':>9s} {'wall p95':>9s} {'CPU med':>8s} {'CPU p95':>8s} "
        f"{'iters':>5s} {'CPU/former':>10s} {'wall/former':>11s} {'it/former':>9s} "
        f"{'usable':>6s} {'obj vs ipopt med':>16s} {'max|.|':>8s}"
    )
    for name, fig in out["variants"].items():
        print(
            f"  {name:8s} {fig['warm_median_s']:9.3f} {fig['warm_p95_s']:9.3f} "
            f"{fig['warm_cpu_median_s']:8.3f} {fig['warm_cpu_p95_s']:8.3f} "
            f"{fig['warm_iterations_median']:5.0f} {fig['cpu_ratio_vs_former']:10.2f} "
            f"{fig['wall_ratio_vs_former']:11.2f} {fig['iter_ratio_vs_former']:9.2f} "
            f"{fig['usable_solves']:>3d}/{n_steps:<2d} "
            f"{fig['objective_vs_ipopt_median']:+16.2e} {fig['objective_vs_ipopt_max_abs']:8.1e}"
        )
    return out


def main() -> int:
    """Command-line entry: run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--blocked", action="store_true", help="also solve with move blocking")
    args = parser.parse_args()
    result = run_empc_benchmark(args.steps, blocked=args.blocked)
    for key, ok in result["checks"].items():
        print(f"{'PASS' if ok else 'FAIL'}  {key}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
