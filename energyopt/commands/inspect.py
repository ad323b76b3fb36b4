"""``energyopt inspect FILE.h5``: describe a historian file and its data-quality problems."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from energyopt.data.inspect import InspectReport

__all__ = ["register", "run"]

#: Findings listed in the human-readable output before "... and N more".
MAX_FINDINGS_SHOWN = 200


def register(subparsers: Any) -> None:
    """Add the ``inspect`` sub-command to the CLI parser."""
    parser = subparsers.add_parser(
        "inspect",
        help="show tags, time span, sampling and data-quality findings of a historian file",
        description=(
            "Describe a historian file (format v1): its tags with units, kinds and "
            "descriptions, time span in the plant's time zone, sampling, and the "
            "data-quality findings (gaps, NaN runs, frozen sensors, spikes, duplicated or "
            "non-monotonic timestamps, bad quality codes).  Each tag is checked with the "
            "policy of its kind (no frozen check for setpoints, states, counters...).  With "
            "--project, the project's [data_quality] policy applies and its bindings add the "
            "tags' kinds, expected units and ranges.  The file is only read."
        ),
    )
    parser.add_argument("file", type=Path, metavar="FILE.h5", help="historian file to inspect")
    parser.add_argument(
        "--json", action="store_true", help="print the report as JSON (no progress bar)"
    )
    parser.add_argument(
        "--project",
        type=Path,
        metavar="PLANT.toml",
        help="use this project's [data_quality] policy and its bindings' kinds, units, ranges",
    )
    parser.add_argument(
        "--tags",
        type=_tag_list,
        metavar="T1,T2",
        help="inspect only these tags (comma-separated)",
    )
    parser.set_defaults(func=run)


def _tag_list(text: str) -> list[str]:
    tags = [name.strip() for name in text.split(",") if name.strip()]
    if not tags:
        raise argparse.ArgumentTypeError("expected tag names separated by commas")
    return tags


def run(args: argparse.Namespace) -> int:
    """Run ``energyopt inspect``; return the exit status."""
    from energyopt.data.inspect import inspect_file
    from energyopt.progress import cli_progress

    policy, expectations = None, None
    if args.project is not None:
        from energyopt.project import load_project, tag_expectations

        project = load_project(args.project)
        policy, expectations = project.data_quality, tag_expectations(project)
    # A bar only on a terminal: piped or captured stderr stays clean.
    show_bar = not args.json and sys.stderr.isatty()
    with cli_progress(f"inspecting {args.file.name}", enabled=show_bar) as progress:
        report = inspect_file(
            args.file,
            tags=args.tags,
            policy=policy,
            expectations=expectations,
            progress=progress,
        )
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        _print_report(report)
    return 0


def _print_report(report: InspectReport) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False)
    first, last = report.time_span_ms
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    summary.add_row("file", f"{report.path} ({report.size_bytes / 1e6:.1f} MB)")
    summary.add_row("plant", report.plant or "-")
    summary.add_row("time zone", report.timezone)
    summary.add_row("from", report.format_time(first))
    summary.add_row("to", report.format_time(last))
    summary.add_row("samples", f"{report.n_samples:,}")
    sampling = "-" if report.sampling_ms is None else _duration(report.sampling_ms)
    summary.add_row("sampling", sampling)
    console.print(summary)

    tags = Table(title=f"{len(report.tags)} tags", title_justify="left")
    for column in ("tag", "unit", "kind", "medium", "description", "findings"):
        tags.add_column(column, overflow="fold")
    for info in report.tags:
        count = len(report.findings_of(info.name))
        tags.add_row(
            *map(
                escape,
                (
                    info.name,
                    info.unit,
                    report.kinds.get(info.name) or "-",
                    info.medium or "-",
                    info.description or "-",
                    str(count) if count else "ok",
                ),
            )
        )
    console.print(tags)

    for note in report.file_findings:
        where = f" [{note.tag}]" if note.tag else ""
        console.print(f"[yellow]note[/yellow]{escape(f'{where} {note.issue}: {note.detail}')}")
    if report.missing_tags:
        listing = ", ".join(report.missing_tags)
        console.print(f"[yellow]note[/yellow]{escape(f' bound tags not in the file: {listing}')}")
    if not report.findings:
        console.print("no data-quality findings")
        return
    findings = Table(title=f"{len(report.findings)} findings", title_justify="left")
    for column in ("tag", "issue", "from", "to", "count", "detail"):
        findings.add_column(column, overflow="fold")
    for finding in report.findings[:MAX_FINDINGS_SHOWN]:
        findings.add_row(
            *map(
                escape,
                (
                    finding.tag,
                    finding.issue,
                    report.format_time(finding.start_ms),
                    report.format_time(finding.end_ms),
                    str(finding.count),
                    finding.detail,
                ),
            )
        )
    console.print(findings)
    hidden = len(report.findings) - MAX_FINDINGS_SHOWN
    if hidden > 0:
        console.print(f"... and {hidden} more findings (use --json for all)")


def _duration(ms: float) -> str:
    for unit, size in (("d", 86_400_000.0), ("h", 3_600_000.0), ("min", 60_000.0), ("s", 1000.0)):
        if ms >= size:
            return f"{ms / size:g} {unit}"
    return f"{ms:g} ms"
