"""``energyopt import-csv FILE.csv --out FILE.h5``: convert a wide CSV export to format v1."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``import-csv`` sub-command to the CLI parser."""
    parser = subparsers.add_parser(
        "import-csv",
        help="convert a wide CSV historian export into an energyopt historian file",
        description=(
            "Convert a wide CSV (a time column and one column per tag) into a historian "
            "file (format v1).  Units come from a unit row after the header (its time cell "
            "reads 'unit') and/or a units file.  Times are ISO 8601 or seconds/milliseconds "
            "since 1970; naive times are in --timezone.  Rows out of order are sorted and "
            "duplicated timestamps keep the last row; both are reported.  The output is "
            "written atomically and never replaces an existing file without --force."
        ),
    )
    parser.add_argument("csv", type=Path, metavar="FILE.csv", help="CSV file to import")
    parser.add_argument(
        "--out", type=Path, required=True, metavar="FILE.h5", help="historian file to write"
    )
    parser.add_argument(
        "--units",
        type=Path,
        metavar="UNITS",
        help="units file: .csv with columns tag,unit[,kind,description,medium] or .toml",
    )
    parser.add_argument(
        "--timezone",
        default="UTC",
        metavar="ZONE",
        help="IANA time zone of naive timestamps, stored in the file (default: UTC)",
    )
    parser.add_argument(
        "--time-column", metavar="NAME", help="name of the time column (default: the first)"
    )
    parser.add_argument("--delimiter", metavar="CHAR", help="field delimiter (default: detected)")
    parser.add_argument(
        "--decimal", default=".", metavar="CHAR", help="decimal mark of the values (default: .)"
    )
    parser.add_argument(
        "--encoding", default="utf-8-sig", help="text encoding (default: UTF-8; e.g. gbk)"
    )
    parser.add_argument("--plant", help="plant name stored in the file")
    parser.add_argument(
        "--lenient",
        action="store_true",
        help="import unreadable values as bad NaNs and skip malformed rows, with findings",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing output file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``energyopt import-csv``; return the exit status."""
    from rich.console import Console

    from energyopt.data.csv_import import import_csv
    from energyopt.data.format import format_time_ms
    from energyopt.progress import cli_progress

    # A bar only on a terminal: piped or captured stderr stays clean.
    with cli_progress(f"importing {args.csv.name}", enabled=sys.stderr.isatty()) as progress:
        result = import_csv(
            args.csv,
            args.out,
            units=args.units,
            timezone=args.timezone,
            time_column=args.time_column,
            delimiter=args.delimiter,
            decimal=args.decimal,
            encoding=args.encoding,
            lenient=args.lenient,
            plant=args.plant,
            overwrite=args.force,
            progress=progress,
        )
    console = Console(highlight=False)
    first, last = result.time_span_ms
    console.print(
        f"wrote {result.path}: {result.n_rows:,} rows x {len(result.tags)} tags, "
        f"{format_time_ms(first, args.timezone)} .. {format_time_ms(last, args.timezone)}",
        markup=False,
        soft_wrap=True,
    )
    for finding in result.findings:
        where = f" [{finding.tag}]" if finding.tag else ""
        console.print(
            f"note{where} {finding.issue}: {finding.detail}", markup=False, soft_wrap=True
        )
    return 0
