"""Controller benchmarks of issue 4, in one run, each figure beside its target.

Sections (each a module beside this file with a function returning a dict):

* ``nmpc`` -- :mod:`ctl_nmpc`: solve time per step (median, p95) of our
  process NMPC and of a do-mpc default formulation (ipopt/MUMPS, orthogonal
  collocation, same horizon) on the same chemical-plant closed loop; target
  ours >= 5x faster, median < 10 ms, compute < 1 % of the control interval.
* ``empc`` -- :mod:`ctl_empc`: economic MPC on the demo steelworks, 24 h at
  15 min, rolling warm-started solves; target median < 0.5 s.
* ``chemical`` -- :mod:`ctl_chemical`: 14-day closed loop on the chemical
  truth flowsheet with model mismatch, PID-only against the NMPC; targets
  stability rate >= 99 % and >= 5 points above PID-only, lower specific energy.
* ``steelworks`` -- :mod:`ctl_steelworks`: 14-day closed loop on the
  steelworks truth plant with model mismatch and forecast error, rule-based
  dispatch against the economic MPC with forecasts and with perfect
  foresight; targets cost >= 6 % below the rule-based baseline, >= 85 % of the
  perfect-foresight saving, flaring >= 50 % lower, zero minutes outside holder
  hard limits.

The machine is shared: wall times are medians, and every comparison is made
within one run.  Run: ``python benchmarks/bench_controllers.py [--only
nmpc,empc] [--days 14]``; ``make bench`` runs every section with defaults.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sections import main as run_sections

SECTIONS: dict[str, tuple[str, str]] = {
    "nmpc": ("ctl_nmpc", "run_nmpc_benchmark"),
    "empc": ("ctl_empc", "run_empc_benchmark"),
    "chemical": ("ctl_chemical", "run_chemical_closed_loop"),
    "steelworks": ("ctl_steelworks", "run_steelworks_closed_loop"),
}


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=float, default=None, help="closed-loop length [d]")


def _kwargs(name: str, args: argparse.Namespace) -> dict[str, Any]:
    if args.days is not None and name in ("chemical", "steelworks"):
        return {"days": args.days}
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
