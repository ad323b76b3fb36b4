"""``energyopt report DIR [--lang en|zh] [--out FILE] [--json]``: rebuild a replay's HTML report.

Reads the files ``energyopt replay`` wrote into DIR (results.h5,
compare_baseline.h5, compare_recorded.h5, kpis.json, shadow.json) and the fit
report beside the source project, whichever exist, and writes a
self-contained report.html (no network needed: charts are inline SVG) into
DIR, or to FILE with --out.  An earlier report is replaced; a failure or
Ctrl-C leaves it as it was.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``report`` sub-command to the CLI's sub-parsers.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The CLI's sub-parser collection.
    """
    parser = subparsers.add_parser(
        "report",
        help="rebuild the self-contained HTML report of a replay output folder",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument("dir", type=Path, metavar="DIR", help="replay output folder")
    parser.add_argument(
        "--lang", choices=("en", "zh"), default="en", help="language of the report (en)"
    )
    parser.add_argument(
        "--out", type=Path, metavar="FILE", help="write the report here (default DIR/report.html)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the written path as JSON on stdout"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the report; return the exit status (0).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of the ``report`` sub-command.
    """
    from energyopt.progress import cli_progress
    from energyopt.report import write_report

    show_bar = not args.json and sys.stderr.isatty()
    with cli_progress("writing report", enabled=show_bar) as progress:
        path = write_report(args.dir, lang=args.lang, out_path=args.out, progress=progress)
    if args.json:
        json.dump({"report": str(path), "lang": args.lang}, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(f"wrote {path}")
    return 0
