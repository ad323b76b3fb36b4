"""``energyopt recommend PROJECT --data FILE.h5``: the advisor's recommendation at one moment."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``recommend`` sub-command to the CLI parser."""
    parser = subparsers.add_parser(
        "recommend",
        help="the advisor's setpoint recommendation at one moment of a historian file",
        description=(
            "Build the project's economic MPC with a forecast fitted on the history before "
            "TIME, read the plant's state and setpoints at TIME from the file (read-only), "
            "and print the advisor's recommendation: each setpoint now -> recommended with "
            "its limits and the reason, the expected saving, the active constraints and "
            "the mode.  The file is only read."
        ),
    )
    parser.add_argument("project", type=Path, metavar="PROJECT", help="project file (.toml)")
    parser.add_argument(
        "--data", type=Path, required=True, metavar="FILE.h5", help="historian file"
    )
    parser.add_argument(
        "--at",
        metavar="TIME",
        help=(
            "ISO 8601 time in the plant's time zone, e.g. 2024-03-01T08:00 "
            "(default: the last complete control interval in the file)"
        ),
    )
    parser.add_argument(
        "--mode",
        choices=("OFF", "PREDICT", "ADVISE"),
        type=str.upper,
        help="advisor mode (default: the project's [controller] mode)",
    )
    parser.add_argument("--json", action="store_true", help="print the record as JSON")
    parser.add_argument("--lang", choices=("en", "zh"), default="en", help="table language")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``energyopt recommend``; return the exit status."""
    from energyopt.advise import AdvisorSession, advise, recommendation_table
    from energyopt.data.format import to_epoch_ms
    from energyopt.progress import cli_progress

    # A bar only on a terminal: piped or captured stderr stays clean.
    show_bar = not args.json and sys.stderr.isatty()
    with cli_progress("recommend", enabled=show_bar) as progress:
        progress(0, 2, "building the plant and its controller")
        with AdvisorSession.open(args.project, args.data, mode=args.mode) as session:
            if args.at is None:
                at_ms = session.default_time_ms()
            else:
                at_ms = to_epoch_ms(str(args.at), session.timezone)
            progress(1, 2, "fitting the forecast and solving")
            _, record = advise(session, at_ms)
        progress(2, 2, "done")
    if args.json:
        json.dump(record, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    from rich.console import Console

    Console(highlight=False).print(recommendation_table(record, lang=args.lang))
    return 0
