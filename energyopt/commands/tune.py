"""``energyopt tune``: search controller settings on recorded data, write the best project."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

__all__ = ["register", "run"]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0.0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``tune`` sub-command.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The CLI's sub-parser collection.
    """
    parser = subparsers.add_parser(
        "tune",
        help="search controller settings on recorded data and write the best project",
        description=(
            "Replay several windows of the recorded data with the economic MPC under "
            "settings chosen by optuna's TPE sampler (controller weights, horizon, forecast "
            "settings, soft-constraint priorities; see the [tune] project section) to "
            "optimise a KPI under KPI constraints (default: lowest energy cost with no "
            "gas-holder minute outside the hard limits and a stability rate of at least "
            "99 %% in every window). Each finished trial is stored in the tune folder; "
            "running the command again on the same folder resumes. The best settings are "
            "written to PROJECT.tuned.toml with the evidence PROJECT.tuned.tune.json, never "
            "over the input."
        ),
    )
    parser.add_argument("project", type=Path, help="project file (plant.toml)")
    parser.add_argument(
        "--data", type=Path, required=True, metavar="FILE", help="recorded historian file (.h5)"
    )
    parser.add_argument(
        "--budget", type=_positive_int, metavar="N", help="trials in total ([tune] budget, 32)"
    )
    parser.add_argument(
        "--windows", type=_positive_int, metavar="N", help="replay windows ([tune] windows, 3)"
    )
    parser.add_argument(
        "--window-days",
        type=_positive_float,
        metavar="D",
        help="length of a window in days ([tune] window_s, 1)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        metavar="N",
        help="parallel local worker processes (default: one per CPU)",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run trials on a dask.distributed cluster (tcp://host:8786)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="tune folder with the trial journal (default PROJECT.tune next to the project)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="tuned project file (default PROJECT.tuned.toml next to the project)",
    )
    parser.add_argument(
        "--evaluate",
        default=None,
        metavar="MODULE:FUNCTION",
        help=argparse.SUPPRESS,  # for tests and studies: another evaluate function
    )
    parser.add_argument("--json", action="store_true", help="print the evidence as JSON on stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the tune and print its result; return the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of the ``tune`` sub-command.
    """
    import json
    import sys

    from energyopt.progress import cli_progress
    from energyopt.tune.evaluate import DEFAULT_EVALUATE
    from energyopt.tune.report import result_table
    from energyopt.tune.workflow import tune_project

    workers = args.workers if args.workers is not None else max(1, os.cpu_count() or 1)
    with cli_progress("tune", enabled=not args.json and sys.stderr.isatty()) as progress:
        outcome = tune_project(
            args.project,
            args.data,
            folder=args.out,
            output=args.output,
            budget=args.budget,
            windows=args.windows,
            window_s=None if args.window_days is None else args.window_days * 86_400.0,
            workers=workers,
            scheduler=args.scheduler,
            evaluate=args.evaluate or DEFAULT_EVALUATE,
            progress=progress,
        )
    if args.json:
        print(json.dumps(outcome.evidence, indent=1, ensure_ascii=False))
        return 0
    from energyopt.project import load_project

    timezone = load_project(outcome.tuned_path).project.timezone
    print(result_table(outcome.result, timezone=timezone))
    print(f"wrote {outcome.tuned_path}")
    print(f"wrote {outcome.evidence_path}")
    return 0
