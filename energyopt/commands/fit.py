"""``energyopt fit PROJECT --data FILE.h5``: fit a project's units to its history."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from energyopt.fitting.fit_report import FitReport

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``fit`` sub-command to the CLI parser.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The CLI's sub-parser collection.
    """
    parser = subparsers.add_parser(
        "fit",
        help="calibrate and identify a project's units from a historian file",
        description=(
            "Calibrate the physical parameters of the project's units that the history "
            "determines (boiler efficiency, turbine specific work, reactor kinetics and heat "
            "transfer), identify its data-driven units, validate every model by free-run "
            "simulation on a hold-out window, and write the fitted project next to the input "
            "(PROJECT.fitted.toml, never over it) with its evidence (PROJECT.fitted.fit.json) "
            "and identified models (PROJECT.fitted.models/). Prints the validation table: "
            "NRMSE, R2 and bias per signal, estimates with standard errors."
        ),
    )
    parser.add_argument("project", type=Path, metavar="PROJECT", help="plant project (.toml)")
    parser.add_argument(
        "--data", type=Path, required=True, metavar="FILE.h5", help="historian file to fit to"
    )
    parser.add_argument(
        "--train",
        type=_range_text,
        metavar="RANGE",
        help="training window START..END, ISO 8601 in the project's time zone, end exclusive "
        "(default: the whole file, or the longer part beside --validate)",
    )
    parser.add_argument(
        "--validate",
        type=_range_text,
        metavar="RANGE",
        help="hold-out window START..END (default: the last 20 %% of the training window, "
        "which is then not fitted)",
    )
    parser.add_argument(
        "--out", type=Path, metavar="PATH", help="fitted project file (PROJECT.fitted.toml)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the fit report as JSON (no progress bar)"
    )
    parser.add_argument("--force", action="store_true", help="replace existing output files")
    parser.set_defaults(func=run)


def _range_text(text: str) -> str:
    """Check the shape of a RANGE argument; times are read once the project's zone is known."""
    from energyopt.fitting.windows import RANGE_SEPARATOR

    start, sep, end = text.partition(RANGE_SEPARATOR)
    if not sep or not start.strip() or not end.strip():
        raise argparse.ArgumentTypeError(
            f"expected START..END such as 2026-01-05..2026-01-07T12:00, got {text!r}"
        )
    return text


def run(args: argparse.Namespace) -> int:
    """Run ``energyopt fit``; return the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of the ``fit`` sub-command.
    """
    from energyopt.fitting.project_fit import fit_project
    from energyopt.progress import cli_progress

    # A bar only on a terminal: piped or captured stderr stays clean.
    show_bar = not args.json and sys.stderr.isatty()
    with cli_progress(f"fitting {args.project.name}", enabled=show_bar) as progress:
        result = fit_project(
            args.project,
            args.data,
            train=args.train,
            validate=args.validate,
            out_path=args.out,
            overwrite=args.force,
            progress=progress,
        )
    if args.json:
        sys.stdout.write(result.report.to_json())
    else:
        _print_report(result.report, result.project_path, result.report_path)
    return 0


def _fmt(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else "-"  # NaN: a metric of a constant signal


def _print_report(report: FitReport, project_path: Path, report_path: Path) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from energyopt.data.format import format_time_ms
    from energyopt.project.loader import load_project

    zone = load_project(project_path).project.timezone
    console = Console(highlight=False)
    windows = Table.grid(padding=(0, 2))
    windows.add_column(style="bold")
    windows.add_column()
    for label, (start, end) in (("train", report.train), ("validate", report.validate)):
        windows.add_row(label, f"{format_time_ms(start, zone)} .. {format_time_ms(end, zone)}")
    console.print(windows)

    fits = Table(title="hold-out validation (free run)", title_justify="left")
    for column in ("unit", "kind", "signal", "NRMSE", "R2", "bias", "samples"):
        fits.add_column(column, justify="right" if column in ("NRMSE", "R2", "bias") else "left")
    for entry in report.units:
        for out in entry.outputs:
            fits.add_row(
                escape(entry.unit),
                entry.kind,
                escape(out.name),
                _fmt(out.nrmse),
                _fmt(out.r2),
                escape(f"{_fmt(out.bias)} {out.unit}"),
                f"{entry.samples_validate:,}",
            )
    console.print(fits)

    rows = [(e.unit, p) for e in report.units for p in e.parameters]
    if rows:
        params = Table(title="estimated parameters", title_justify="left")
        for column in ("unit", "parameter", "nominal", "estimate", "std. error", "unit (SI)"):
            params.add_column(
                column,
                justify="left" if column in ("unit", "parameter") else "right",
                overflow="fold",
            )
        for unit, p in rows:
            params.add_row(
                escape(unit),
                escape(p.name),
                _fmt(p.nominal),
                _fmt(p.value),
                _fmt(p.std_error),
                escape(p.unit),
            )
        console.print(params)
    for unit, reason in report.skipped:
        console.print(f"[yellow]skipped[/yellow] {escape(unit)}: {escape(reason)}")
    console.print(f"wrote {escape(str(project_path))}")
    console.print(f"wrote {escape(str(report_path))}")
