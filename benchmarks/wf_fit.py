"""``energyopt fit`` on a long one-minute history of the demo steelworks: time and memory.

The history (every bound tag of the demo steelworks, one sample a minute,
from the truth simulator with noise and injected defects) is generated once
into a cache folder (``$ENERGYOPT_BENCH_CACHE`` or the system temp folder,
``energyopt-bench/wf_fit/steelworks_<days>d``) and reused; its generation
time is reported the run that makes it.  The fit -- default plan: three
boiler efficiencies and two turbine Willans slopes, the last 20 % held out --
then runs in a *fresh* Python process, so its wall time, CPU time and peak
resident memory are those of ``energyopt fit`` alone (start-up and imports
included), not of the generator.

Issue 5 asks for the figure on one year of one-minute data (525,600 rows);
there is no target beyond "reasonable on this 2-core machine".

Run alone: ``python benchmarks/wf_fit.py [days]`` (default 365).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DAYS = 365.0
SEED = 0


def cache_folder(days: float) -> Path:
    """Folder of the cached demo project and history of ``days`` days."""
    root = (
        os.environ.get("ENERGYOPT_BENCH_CACHE") or Path(tempfile.gettempdir()) / "energyopt-bench"
    )
    return Path(root) / "wf_fit" / f"steelworks_{days:g}d"


def ensure_history(days: float) -> tuple[Path, Path, float | None]:
    """Write the demo project and its history unless cached.

    Returns
    -------
    project, history : pathlib.Path
        The files.
    seconds : float or None
        Generation wall time, ``None`` when the cache was used. [s]
    """
    from energyopt.demos import demo_project_text
    from energyopt.demos.history import write_demo_history
    from energyopt.project.loader import load_project

    folder = cache_folder(days)
    project, history = folder / "plant.toml", folder / "history.h5"
    if project.is_file() and history.is_file():
        return project, history, None
    folder.mkdir(parents=True, exist_ok=True)
    project.write_text(demo_project_text("steelworks"), encoding="utf-8")
    start = time.perf_counter()
    write_demo_history(
        load_project(project), "steelworks", history, days=days, seed=SEED, overwrite=True
    )
    return project, history, time.perf_counter() - start


def _peak_rss_bytes() -> int:
    """High-water resident set size of this process.

    ``VmHWM`` where Linux has it: ``ru_maxrss`` survives ``exec`` and would
    report the parent's peak (the history generator's) for a fresh child.
    """
    try:
        with Path("/proc/self/status").open() as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # not Linux
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _child(project: str, history: str, out: str) -> None:
    """Fit in this process and print wall, CPU and peak RSS as JSON on stdout."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    from energyopt.fitting import fit_project

    result = fit_project(project, history, out_path=out, overwrite=True)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    peak_bytes = _peak_rss_bytes()
    units = [
        {
            "unit": u.unit,
            "nrmse": [o.nrmse for o in u.outputs],
            "parameters": {p.name: [p.nominal, p.value, p.std_error] for p in u.parameters},
            "samples": [u.samples_train, u.samples_validate],
        }
        for u in result.report.units
    ]
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "peak_rss_bytes": peak_bytes, "units": units}))


def run(days: float = DAYS) -> dict[str, Any]:
    """Generate (or reuse) ``days`` of history and time ``fit_project`` on it.

    Parameters
    ----------
    days : float
        History length. [d]

    Returns
    -------
    dict
        ``days``, ``rows``, ``generation_s`` (``None`` if cached), ``history_bytes``,
        ``wall_s``, ``cpu_s``, ``peak_rss_bytes`` of the fit, and per-unit results.
    """
    project, history, generation_s = ensure_history(days)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plant.fitted.toml"
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(project), str(history), str(out)],
            check=True,
            capture_output=True,
            text=True,
        )
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    figures.update(
        days=days,
        rows=round(days * 1440),
        generation_s=generation_s,
        history_bytes=history.stat().st_size,
    )
    return figures


def _print(figures: dict[str, Any]) -> None:
    gen = figures["generation_s"]
    print(
        f"energyopt fit, demo steelworks, {figures['days']:g} d at 1 min ({figures['rows']:,} rows)"
    )
    print(
        f"  history: {figures['history_bytes'] / 1e6:.1f} MB, "
        + ("cached" if gen is None else f"generated in {gen:.1f} s")
    )
    print(
        f"  fit: wall {figures['wall_s']:.1f} s, CPU {figures['cpu_s']:.1f} s, "
        f"peak RSS {figures['peak_rss_bytes'] / 2**20:.0f} MiB (fresh process, imports included)"
    )
    for unit in figures["units"]:
        params = ", ".join(
            f"{name} {nominal:.6g} -> {value:.6g} +- {se:.2g}"
            for name, (nominal, value, se) in unit["parameters"].items()
        )
        print(
            f"  {unit['unit']:<10} NRMSE {', '.join(f'{v:.4f}' for v in unit['nrmse'])}; "
            f"{params}; samples {unit['samples'][0]:,}/{unit['samples'][1]:,}"
        )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _child(*sys.argv[2:5])
    else:
        _print(run(float(sys.argv[1]) if len(sys.argv) > 1 else DAYS))
