"""``energyopt replay``: a controller on the project's plant over a recorded period."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from energyopt.kpis import KpiReport

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``replay`` sub-command.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The CLI's sub-parser collection.
    """
    parser = subparsers.add_parser(
        "replay",
        help="simulate a controller on the plant model over a recorded period",
        description=(
            "Closed-loop simulation over the recorded period, driven by the recorded "
            "disturbances and prices, with the project's plant model (a fitted project "
            "carries the calibrated parameters) as the plant. Writes DIR/results.h5 "
            "(historian format), DIR/compare_recorded.h5 and DIR/compare_baseline.h5 "
            "(unless --no-compare), DIR/kpis.json and, when available, DIR/report.html."
        ),
    )
    parser.add_argument("project", type=Path, help="project file (.toml)")
    parser.add_argument("--data", type=Path, required=True, metavar="FILE.h5", help="historian")
    parser.add_argument(
        "--controller",
        choices=("mpc", "baseline", "recorded"),
        required=True,
        help="mpc: the economic MPC ([controller.economic]) or, on a process flowsheet "
        "without one, the NMPC; baseline: the rule-based baseline (dispatch, or hold: "
        "PID-only); recorded: the operators' recorded setpoints",
    )
    parser.add_argument(
        "--from",
        dest="start",
        metavar="T",
        help="start: ISO 8601 or YYYY-MM-DD[THH:MM], plant time zone",
    )
    parser.add_argument("--to", dest="end", metavar="T", help="end (exclusive), same forms")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="new folder")
    parser.add_argument("--shadow", action="store_true", help="also run the advisor shadow")
    parser.add_argument(
        "--no-compare", dest="compare", action="store_false", help="skip comparison runs"
    )
    parser.add_argument("--lang", choices=("en", "zh"), default="en", help="report language")
    parser.add_argument("--json", action="store_true", help="print kpis.json on stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the replay and write the output folder; return the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of the ``replay`` sub-command.
    """
    from energyopt.data.format import to_epoch_ms
    from energyopt.progress import cli_progress
    from energyopt.project import load_project
    from energyopt.replay import replay_to_dir

    project = load_project(args.project)
    zone = project.project.timezone
    start = None if args.start is None else to_epoch_ms(args.start, zone)
    end = None if args.end is None else to_epoch_ms(args.end, zone)
    show_bar = not args.json and sys.stderr.isatty()
    with cli_progress(f"replay {args.controller}", enabled=show_bar) as progress:
        out = replay_to_dir(
            args.project,
            args.data,
            args.controller,
            args.out,
            start_ms=start,
            end_ms=end,
            compare=args.compare,
            shadow=args.shadow,
            lang=args.lang,
            progress=progress,
        )
    document = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    if args.json:
        json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    report = _report(document)
    print(report.to_text(args.lang) if report is not None else "")
    print(f"wrote {out}")
    return 0


def _report(document: dict[str, object]) -> KpiReport | None:
    from energyopt.kpis import KpiReport, KpiResult

    data = document.get("report")
    if not isinstance(data, dict):
        return None
    runs = {
        run: [KpiResult.from_dict(r) for r in results.values()]
        for run, results in data["runs"].items()
    }
    return KpiReport.from_results(runs, reference=data["reference"])
