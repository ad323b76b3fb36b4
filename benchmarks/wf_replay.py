"""Replay workflow: N days of the demo steelworks under the economic MPC at 15 min.

The history is the steelworks demo (truth plant under today's dispatch, with
sensor noise and defects), ``days`` long plus 3.5 days before the replay for
the causal forecast's first fit; writing it is not timed.  The timed part is
:func:`energyopt.replay.prepare_replay` (reading the period and the forecast
record) and :func:`energyopt.replay.run_prepared` with ``"mpc"``: every 15 min
the economic MPC (24 h horizon) decides from the state read off the measured
outputs with a causal profile+ARX forecast refitted once a day.

Figures: wall and CPU time, solves per second, peak RSS, and RSS sampled at
every progress report; memory is flat when the slope of RSS over the second
half of the run, less the run's own record (states, inputs and outputs of
every fine step: preallocated, its pages committed as they are written, 23 kB
per decision on the demo), is below :data:`RSS_SLOPE_LIMIT` per decision.
Measured 2026-11-21 over 30 days: 19.6-21.3 kB per decision in all, so
-3.4 to -1.7 kB beyond the record.  Target: 30
days in under :data:`TARGET_30_DAYS_S` on the 2-core machine; a shorter run
is extrapolated linearly in the number of decisions (every decision costs
the same: a fixed-size NLP warm-started from the previous one).

Run alone: ``python benchmarks/wf_replay.py [--days 2]``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

#: Target wall time of a 30-day replay. [s]
TARGET_30_DAYS_S = 600.0
#: Largest RSS growth per decision over the second half, beyond the run's own
#: record, that counts as flat (a 30-day run would grow by under 15 MB). [B]
RSS_SLOPE_LIMIT = 5_000.0
#: History before the replay, for the forecast's first fit. [d]
HISTORY_DAYS = 3.5
#: Decision-quality KPIs printed (and compared between controller versions).
QUALITY_KPIS = (
    "energy_cost",
    "flared_gas",
    "holder_time_outside_band",
    "holder_time_outside_hard",
    "stability_rate",
)


def _rss_bytes() -> int:
    """Resident set size of this process now (Linux ``/proc``). [B]"""
    pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
    return pages * resource.getpagesize()


def _demo_history(
    folder: Path, days: float, tolerance: float | None = None
) -> tuple[Path, Path, int, int]:
    """Write the steelworks demo project and its history; return paths and the period.

    Returns ``(project_path, history_path, start_ms, end_ms)``: the period is
    ``days`` long after :data:`HISTORY_DAYS` of history.  ``tolerance``
    replaces the project's ``[controller.economic] tolerance`` (ipopt ``tol``).
    """
    from energyopt.demos import demo_project_text
    from energyopt.demos.history import DEMO_START_MS, write_demo_history
    from energyopt.project import load_project

    text = demo_project_text("steelworks")
    if tolerance is not None:
        line = "\ntolerance = 1.0e-7\n"
        if line not in text:
            raise ValueError("the demo project no longer sets tolerance = 1.0e-7")
        text = text.replace(line, f"\ntolerance = {tolerance!r}\n")
    project_path = folder / "plant.toml"
    project_path.write_text(text, encoding="utf-8")
    history = folder / "history.h5"
    write_demo_history(
        load_project(project_path), "steelworks", history, days=days + HISTORY_DAYS + 0.1
    )
    start = DEMO_START_MS + round(HISTORY_DAYS * 86_400_000)
    return project_path, history, start, start + round(days * 86_400_000)


def run(days: float = 30.0, tolerance: float | None = None) -> dict[str, Any]:
    """Replay ``days`` of the steelworks with the economic MPC; return the figures.

    Parameters
    ----------
    days : float
        Length of the replayed period. [d]
    tolerance : float, optional
        ipopt ``tol`` instead of the demo project's (1e-7). [-]

    Returns
    -------
    dict
        Figures (wall, CPU, decisions, solves/s, peak and sampled RSS,
        30-day extrapolation) and ``checks`` (name -> passed).
    """
    from energyopt.closedloop import STATUS_CODES
    from energyopt.project import load_project
    from energyopt.replay import prepare_replay, run_prepared

    with tempfile.TemporaryDirectory(prefix="wf_replay_") as tmp:
        t0 = time.perf_counter()
        project_path, history, start, end = _demo_history(Path(tmp), days, tolerance)
        history_s = time.perf_counter() - t0
        project = load_project(project_path)
        samples: list[tuple[float, int]] = []

        def progress(done: float, total: float | None, message: str) -> None:
            samples.append((done, _rss_bytes()))

        wall0, cpu0 = time.perf_counter(), time.process_time()
        prepared = prepare_replay(project, history, start_ms=start, end_ms=end, with_record=True)
        read_s = time.perf_counter() - wall0
        run_ = run_prepared(prepared, "mpc", progress=progress)
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
    rows = run_.decision_rows
    solves = int(rows.size)
    status = [STATUS_CODES[s] for s in run_.result.status[rows]]
    usable = sum(s in ("optimal", "suboptimal") for s in status)
    solve_s = run_.result.compute_time_s[rows]
    done = np.array([s[0] for s in samples])
    rss = np.array([s[1] for s in samples], dtype=np.float64)
    half = done >= 0.5 * done[-1] if done.size else np.zeros(0, dtype=bool)
    step_s = prepared.interval_s
    slope = (
        float(np.polyfit(done[half] / step_s, rss[half], 1)[0]) if half.sum() >= 3 else float("nan")
    )
    # The run's own record (states, inputs and outputs of every fine step,
    # preallocated with np.empty) is committed page by page as it is written:
    # RSS grows by that much per decision without any leak.
    sizes = prepared.case.built.model.sizes
    steps_per_decision = round(prepared.interval_s / prepared.case.step_s)
    record_b = 8.0 * (sizes["x"] + sizes["u"] + sizes["y"]) * steps_per_decision
    slope_net = slope - record_b
    per_decision = (wall - read_s) / max(solves, 1)
    extrapolated = read_s * 30.0 / days + per_decision * 30 * 96
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    out: dict[str, Any] = {
        "days": days,
        "history_write_s": history_s,
        "read_s": read_s,
        "wall_s": wall,
        "cpu_s": cpu,
        "decisions": solves,
        "usable_decisions": usable,
        "solves_per_s": solves / max(wall - read_s, 1e-9),
        "solve_median_s": float(np.median(solve_s)),
        "solve_p95_s": float(np.percentile(solve_s, 95)),
        "peak_rss_mb": peak_mb,
        "rss_first_mb": float(rss[0]) / 2**20 if rss.size else float("nan"),
        "rss_last_mb": float(rss[-1]) / 2**20 if rss.size else float("nan"),
        "rss_slope_b_per_decision": slope,
        "record_b_per_decision": record_b,
        "rss_slope_net_b_per_decision": slope_net,
        "extrapolated_30_days_s": extrapolated,
        "kpis": {name: float(run_.kpis[name].value) for name in QUALITY_KPIS},
    }
    out["checks"] = {
        f"30 days extrapolated {extrapolated:.0f} s < {TARGET_30_DAYS_S:.0f} s": extrapolated
        < TARGET_30_DAYS_S,
        f"memory flat: {slope_net:.0f} B/decision beyond the run's record "
        f"< {RSS_SLOPE_LIMIT:.0f}": bool(slope_net < RSS_SLOPE_LIMIT),
        f"every decision usable ({usable}/{solves})": usable == solves,
    }
    tol = "the project's tolerance" if tolerance is None else f"tolerance {tolerance:g}"
    print(
        f"replay {days:g} d of the steelworks, economic MPC at 15 min ({solves} decisions, {tol})"
    )
    rows_out = (
        ("read period + forecast record", f"{read_s:.1f} s"),
        ("wall / CPU", f"{wall:.1f} s / {cpu:.1f} s"),
        ("solves per second", f"{out['solves_per_s']:.2f}"),
        ("solve median / p95", f"{out['solve_median_s']:.2f} s / {out['solve_p95_s']:.2f} s"),
        ("peak RSS", f"{peak_mb:.0f} MB"),
        ("RSS first / last", f"{out['rss_first_mb']:.0f} MB / {out['rss_last_mb']:.0f} MB"),
        ("RSS slope, second half", f"{slope:.0f} B/decision"),
        ("  of it the run's record", f"{record_b:.0f} B/decision (filled as it runs)"),
        ("  beyond the record", f"{slope_net:.0f} B/decision"),
        ("30 days, extrapolated", f"{extrapolated:.0f} s (target {TARGET_30_DAYS_S:.0f} s)"),
    )
    for name, value in rows_out:
        print(f"  {name:32s} {value}")
    for name in QUALITY_KPIS:
        kpi = run_.kpis[name]
        print(f"  {name:32s} {kpi.value:.9g} {kpi.info.unit}")
    return out


class _Timers:
    """CPU and wall time accumulated per named part of the run (the profile's breakdown)."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.wall: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, owner: Any, attr: str, name: str) -> Callable[[], None]:
        """Time every call of ``owner.attr`` under ``name``; return the undo."""
        original = getattr(owner, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            c0, w0 = time.process_time(), time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - c0
                self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - w0
                self.calls[name] = self.calls.get(name, 0) + 1

        setattr(owner, attr, timed)
        return lambda: setattr(owner, attr, original)


def profile(days: float = 1.0) -> dict[str, Any]:
    """Replay ``days`` with the MPC and print where the time goes.

    Every part is timed by wrapping its function (CPU and wall): the
    forecast (causal profile+ARX, refits included), the state read-back,
    the economic MPC's ``plan`` split into ipopt (cold and warm solves
    apart), the initial guess and the plan/hold evaluations; the DCS loops;
    the plant simulation between decisions; the KPIs.  Also per solve:
    ipopt iterations and return status, and whether it was warm-started.

    Parameters
    ----------
    days : float
        Length of the replayed period. [d]

    Returns
    -------
    dict
        ``cpu_s``/``wall_s``/``calls`` per part, ``iterations``, ``warm`` and
        ``status`` per solve, and the run's KPIs.
    """
    import plant_models.core.simulate as simulate_module
    from controllers.economic import EconomicMPC
    from energyopt.closedloop.dcs import DcsLayer
    from energyopt.closedloop.policies import ControllerPolicy
    from energyopt.controlbuild.causal import CausalForecastSource
    from energyopt.project import load_project
    from energyopt.replay import kpispec, policies, prepare_replay, run_prepared
    from energyopt.replay.readback import OutputStateBuilder

    timers = _Timers()
    solves: list[dict[str, Any]] = []
    tmp = tempfile.TemporaryDirectory(prefix="wf_replay_")
    # Written before any timer is set (the demo history runs the truth plant).
    project_path, history, start, end = _demo_history(Path(tmp.name), days)
    undo = [
        timers.wrap(policies, "build_policy", "build policy (MPC NLP, forecast)"),
        timers.wrap(CausalForecastSource, "__call__", "forecast"),
        timers.wrap(OutputStateBuilder, "build", "state read-back"),
        timers.wrap(ControllerPolicy, "decide", "decision (total)"),
        timers.wrap(EconomicMPC, "plan", "mpc plan (total)"),
        timers.wrap(EconomicMPC, "_initial_guess", "mpc initial guess"),
        timers.wrap(EconomicMPC, "evaluate", "mpc plan/hold evaluation"),
        timers.wrap(DcsLayer, "apply", "DCS loops"),
        timers.wrap(simulate_module, "simulate", "plant simulation"),
        timers.wrap(kpispec, "compute_replay_kpis", "KPIs"),
    ]
    original_solve_nlp = EconomicMPC._solve_nlp

    def solve_nlp(mpc: Any, step: Any, bounds: Any, mv_guess: Any, start: float) -> Any:
        c0, w0 = time.process_time(), time.perf_counter()
        out = original_solve_nlp(mpc, step, bounds, mv_guess, start)
        stats = getattr(mpc, "last_stats", {})
        solves.append(
            {
                "warm_path": bool(stats.get("warm_start", False)),
                "cold_retry": bool(stats.get("cold_retry", False)),
                "cpu_s": time.process_time() - c0,
                "wall_s": time.perf_counter() - w0,
                "ipopt_wall_s": stats.get("ipopt_wall_s", float("nan")),
                "iterations": stats.get("iterations", -1),
                "status": stats.get("return_status", "?"),
                "message": out.solution.message,
            }
        )
        return out

    EconomicMPC._solve_nlp = solve_nlp  # type: ignore[method-assign]
    try:
        project = load_project(project_path)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        prepared = prepare_replay(project, history, start_ms=start, end_ms=end, with_record=True)
        read = (time.process_time() - cpu0, time.perf_counter() - wall0)
        run_ = run_prepared(prepared, "mpc")
        total = (time.process_time() - cpu0, time.perf_counter() - wall0)
    finally:
        tmp.cleanup()
        EconomicMPC._solve_nlp = original_solve_nlp  # type: ignore[method-assign]
        for u in undo:
            u()
    iters = np.array([s["iterations"] for s in solves])
    warm = np.array([s["warm_path"] for s in solves])
    cpu_solve = np.array([s["cpu_s"] for s in solves])
    print(f"profile: replay {days:g} d, economic MPC at 15 min ({len(solves)} NLP solves)")
    print(f"  {'part':34s} {'CPU [s]':>9s} {'wall [s]':>9s} {'calls':>7s}")
    print(f"  {'read period + forecast record':34s} {read[0]:9.2f} {read[1]:9.2f} {1:7d}")
    for name in timers.cpu:
        print(
            f"  {name:34s} {timers.cpu[name]:9.2f} {timers.wall[name]:9.2f} {timers.calls[name]:7d}"
        )
    ipopt_wall = float(sum(s["ipopt_wall_s"] for s in solves))
    nlp_cpu = float(cpu_solve.sum())
    print(f"  {'NLP solve (ipopt + guess + evals)':34s} {nlp_cpu:9.2f} {'':9s} {len(solves):7d}")
    print(f"  {'ipopt (wall, inside plan)':34s} {'':9s} {ipopt_wall:9.2f} {len(solves):7d}")
    print(f"  {'total':34s} {total[0]:9.2f} {total[1]:9.2f}")
    for label, mask in (("warm", warm), ("cold", ~warm)):
        if mask.any():
            print(
                f"  {label} solves: {int(mask.sum())}, iterations median "
                f"{np.median(iters[mask]):.0f} (min {iters[mask].min()}, max {iters[mask].max()}), "
                f"NLP CPU median {np.median(cpu_solve[mask]):.3f} s"
            )
    if iters.size:
        worst = np.argsort(iters)[::-1][:5]
        print(
            f"  iterations p90 {np.percentile(iters, 90):.0f}, mean {iters.mean():.1f}; "
            "most (decision: iterations, CPU s): "
            + ", ".join(f"{k}: {iters[k]}, {cpu_solve[k]:.2f}" for k in worst)
        )
    statuses: dict[str, int] = {}
    for s in solves:
        statuses[s["status"]] = statuses.get(s["status"], 0) + 1
    print(f"  ipopt return status: {statuses}")
    print(f"  failed warm starts re-solved cold: {sum(s['cold_retry'] for s in solves)}")
    kpis = {k: v.value for k, v in run_.kpis.items() if isinstance(v.value, float)}
    return {
        "cpu_s": dict(timers.cpu),
        "wall_s": dict(timers.wall),
        "calls": dict(timers.calls),
        "iterations": iters.tolist(),
        "warm": warm.tolist(),
        "status": [s["status"] for s in solves],
        "kpis": kpis,
    }


def main() -> int:
    """Command-line entry: run the benchmark and print its figures and checks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument(
        "--profile", action="store_true", help="print where the replay's time goes instead"
    )
    parser.add_argument("--tolerance", type=float, default=None, help="ipopt tol (1e-7)")
    args = parser.parse_args()
    if args.profile:
        profile(args.days)
        return 0
    result = run(args.days, args.tolerance)
    for key, ok in result["checks"].items():
        print(f"{'PASS' if ok else 'FAIL'}  {key}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
