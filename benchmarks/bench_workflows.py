"""Workflow benchmarks of issue 5, in one run, each figure beside its target.

Sections (each a module beside this file with ``run(...) -> dict``):

* ``replay`` -- :mod:`wf_replay`: replay N days (30) of the demo steelworks at
  15-min control steps with the economic MPC; wall and CPU time, peak memory
  and memory over the run; targets: 30 days in under 10 minutes on this
  2-core machine, memory flat (no growth per step).
* ``fit`` -- :mod:`wf_fit`: ``energyopt fit`` on one year of one-minute demo
  data; wall and CPU time, peak memory.
* ``tune`` -- :mod:`wf_tune`: a 32-trial tune with 1 and 2 workers; target
  speed-up >= 1.7x with 2 workers.

Run: ``python benchmarks/bench_workflows.py [--only replay,tune] [--days 2]``;
``make bench`` runs every section with its defaults.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sections import main as run_sections

SECTIONS: dict[str, tuple[str, str]] = {
    "replay": ("wf_replay", "run"),
    "fit": ("wf_fit", "run"),
    "tune": ("wf_tune", "run"),
}


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=float, default=None, help="replay / fit length [d]")
    parser.add_argument("--trials", type=int, default=None, help="tune trials (32)")
    parser.add_argument(
        "--tolerance", type=float, default=None, help="replay: ipopt tol (the project's 1e-7)"
    )


def _kwargs(name: str, args: argparse.Namespace) -> dict[str, Any]:
    if name == "replay":
        out: dict[str, Any] = {} if args.days is None else {"days": args.days}
        if args.tolerance is not None:
            out["tolerance"] = args.tolerance
        return out
    if name == "fit" and args.days is not None:
        return {"days": args.days}
    if name == "tune" and args.trials is not None:
        return {"trials": args.trials}
    return {}


def main(argv: list[str] | None = None) -> int:
    """Run the selected sections, print each report and the target checks."""
    return run_sections(
        __doc__.splitlines()[0],
        SECTIONS,
        argv,
        add_arguments=_add_arguments,
        section_kwargs=_kwargs,
    )


if __name__ == "__main__":
    raise SystemExit(main())
