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
half of the run is below :data:`RSS_SLOPE_LIMIT` per decision.  Target: 30
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
from pathlib import Path
from typing import Any

import numpy as np

#: Target wall time of a 30-day replay. [s]
TARGET_30_DAYS_S = 600.0
#: Largest RSS growth per decision over the second half that counts as flat
#: (a 30-day run would grow by under 60 MB). [B]
RSS_SLOPE_LIMIT = 20_000.0
#: History before the replay, for the forecast's first fit. [d]
HISTORY_DAYS = 3.5


def _rss_bytes() -> int:
    """Resident set size of this process now (Linux ``/proc``). [B]"""
    pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
    return pages * resource.getpagesize()


def run(days: float = 30.0) -> dict[str, Any]:
    """Replay ``days`` of the steelworks with the economic MPC; return the figures.

    Parameters
    ----------
    days : float
        Length of the replayed period. [d]

    Returns
    -------
    dict
        Figures (wall, CPU, decisions, solves/s, peak and sampled RSS,
        30-day extrapolation) and ``checks`` (name -> passed).
    """
    from energyopt.closedloop import STATUS_CODES
    from energyopt.demos import demo_project_text
    from energyopt.demos.history import DEMO_START_MS, write_demo_history
    from energyopt.project import load_project
    from energyopt.replay import prepare_replay, run_prepared

    with tempfile.TemporaryDirectory(prefix="wf_replay_") as tmp:
        folder = Path(tmp)
        project_path = folder / "plant.toml"
        project_path.write_text(demo_project_text("steelworks"), encoding="utf-8")
        project = load_project(project_path)
        history = folder / "history.h5"
        t0 = time.perf_counter()
        write_demo_history(project, "steelworks", history, days=days + HISTORY_DAYS + 0.1)
        history_s = time.perf_counter() - t0
        start = DEMO_START_MS + round(HISTORY_DAYS * 86_400_000)
        end = start + round(days * 86_400_000)
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
        "extrapolated_30_days_s": extrapolated,
        "energy_cost": run_.kpis["energy_cost"].value,
    }
    out["checks"] = {
        f"30 days extrapolated {extrapolated:.0f} s < {TARGET_30_DAYS_S:.0f} s": extrapolated
        < TARGET_30_DAYS_S,
        f"memory flat: {slope:.0f} B/decision < {RSS_SLOPE_LIMIT:.0f}": bool(
            slope < RSS_SLOPE_LIMIT
        ),
        f"every decision usable ({usable}/{solves})": usable == solves,
    }
    print(f"replay {days:g} d of the steelworks, economic MPC at 15 min ({solves} decisions)")
    rows_out = (
        ("read period + forecast record", f"{read_s:.1f} s"),
        ("wall / CPU", f"{wall:.1f} s / {cpu:.1f} s"),
        ("solves per second", f"{out['solves_per_s']:.2f}"),
        ("solve median / p95", f"{out['solve_median_s']:.2f} s / {out['solve_p95_s']:.2f} s"),
        ("peak RSS", f"{peak_mb:.0f} MB"),
        ("RSS first / last", f"{out['rss_first_mb']:.0f} MB / {out['rss_last_mb']:.0f} MB"),
        ("RSS slope, second half", f"{slope:.0f} B/decision"),
        ("30 days, extrapolated", f"{extrapolated:.0f} s (target {TARGET_30_DAYS_S:.0f} s)"),
    )
    for name, value in rows_out:
        print(f"  {name:32s} {value}")
    return out


def main() -> int:
    """Command-line entry: run the benchmark and print its figures and checks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=30.0)
    args = parser.parse_args()
    result = run(args.days)
    for key, ok in result["checks"].items():
        print(f"{'PASS' if ok else 'FAIL'}  {key}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
