"""``energyopt check PROJECT.toml [--data FILE.h5] [--json]``: validate a plant project.

Prints a summary of the project (media, units, bindings, tariffs, controller)
or every problem found, one per line with the file and key path.  With
``--data`` the tag bindings are also checked against a historian file: every
bound tag must exist there with a unit convertible to the binding's unit.
Exit status 0 when the project is valid, 2 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import TYPE_CHECKING, Any

from energyopt.errors import EnergyoptError

if TYPE_CHECKING:
    from energyopt.project import Project

__all__ = ["register", "run"]

EXIT_OK = 0
EXIT_INVALID = 2


def register(subparsers: Any) -> None:
    """Add the ``check`` sub-command to the CLI's sub-parsers."""
    parser = subparsers.add_parser(
        "check",
        help="validate a plant project file (and its tag bindings against a historian file)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument("project", metavar="PROJECT.toml", help="plant project file")
    parser.add_argument(
        "--data",
        metavar="FILE.h5",
        help="historian file whose tags the bindings must match",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate the project; print its summary or its problems; return the exit status."""
    from energyopt.project import load_project

    result: dict[str, Any] = {"file": args.project, "valid": False, "errors": [], "warnings": []}
    try:
        project = load_project(args.project)
        result["summary"] = summarise(project)
        result["warnings"] = list(project.warnings)
        if args.data is not None:
            result["warnings"] += _check_historian(project, args.data)
            result["summary"]["historian"] = {
                "file": args.data,
                "bound_tags_found": len(project.bindings),
            }
    except EnergyoptError as exc:
        if not args.json:
            raise
        result["errors"] = str(exc).splitlines()
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return EXIT_INVALID
    result["valid"] = True
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        _print_summary(args.project, result)
    return EXIT_OK


def _check_historian(project: Project, path: str) -> list[str]:
    """Check the bindings against a historian file; return warnings, raise on errors."""
    from energyopt.data.reader import HistorianReader
    from energyopt.project import check_bindings

    with HistorianReader(path) as reader:
        return check_bindings(project, reader)


def summarise(project: Project) -> dict[str, Any]:
    """Return counts and key settings of a project (the ``summary`` of ``--json``)."""
    info = project.project
    tariffs = project.tariffs
    tariff_summary: dict[str, Any] | None = None
    if tariffs is not None:
        tariff_summary = {
            "periods": dict(tariffs.electricity.periods) if tariffs.electricity else {},
            "schedules": list(tariffs.electricity.schedules) if tariffs.electricity else [],
            "export_price_per_kwh": tariffs.export_price_per_kwh,
            "co2_price_per_t": tariffs.co2_price_per_t,
            "flare_penalty_per_m3": tariffs.flare_penalty_per_m3,
            "prices": {n: {p.basis: p.price} for n, p in tariffs.prices.items()},
            "sales": {n: {p.basis: p.price} for n, p in tariffs.sales.items()},
        }
    controller = project.controller
    return {
        "name": info.name,
        "timezone": info.timezone,
        "currency": info.currency,
        "format_version": info.format_version,
        "media": dict(Counter(node.kind for node in project.media.values())),
        "units": dict(Counter(unit.type for unit in project.units.values())),
        "units_out_of_service": [n for n, u in project.units.items() if not u.in_service],
        "bindings": dict(Counter(b.role for b in project.bindings.values())),
        "tariffs": tariff_summary,
        "controller": {
            "mode": controller.mode,
            "interval_s": controller.interval_s,
            "horizon_s": controller.horizon_s,
            "horizon_steps": controller.horizon_steps,
            "solver": controller.solver,
        },
    }


def _counts(counter: dict[str, int]) -> str:
    total = sum(counter.values())
    parts = ", ".join(f"{n} {k}" for k, n in sorted(counter.items(), key=lambda kv: -kv[1]))
    return f"{total}" + (f" ({parts})" if parts else "")


def _print_summary(file: str, result: dict[str, Any]) -> None:
    s = result["summary"]
    out = sys.stdout
    print(f"{file}: valid energyopt project (format {s['format_version']})", file=out)
    rows = [
        ("plant", f"{s['name']} (time zone {s['timezone']}, currency {s['currency']})"),
        ("media nodes", _counts(s["media"])),
        ("units", _counts(s["units"])),
        ("bindings", _counts(s["bindings"])),
    ]
    if s["units_out_of_service"]:
        rows.append(("out of service", ", ".join(s["units_out_of_service"])))
    tariffs = s["tariffs"]
    if tariffs is None:
        rows.append(("tariffs", "none"))
    else:
        periods = ", ".join(f"{k} {v:g}" for k, v in tariffs["periods"].items())
        text = (
            f"time-of-use {periods} {s['currency']}/kWh in {len(tariffs['schedules'])} schedule(s)"
            if periods
            else "no electricity tariff"
        )
        if tariffs["prices"]:
            text += f"; purchase prices for {', '.join(tariffs['prices'])}"
        if tariffs["sales"]:
            text += f"; sales prices for {', '.join(tariffs['sales'])}"
        rows.append(("tariffs", text))
    c = s["controller"]
    rows.append(
        (
            "controller",
            (
                f"{c['mode']}, every {c['interval_s']:g} s, horizon {c['horizon_steps']} "
                f"intervals ({c['horizon_s'] / 60:g} min), solver {c['solver']}"
            ),
        )
    )
    if "historian" in s:
        h = s["historian"]
        rows.append(
            (
                "historian",
                f"{h['file']}: all {h['bound_tags_found']} bound tags found, units compatible",
            )
        )
    width = max(len(label) for label, _ in rows)
    for label, text in rows:
        print(f"  {label:<{width}}  {text}", file=out)
    for line in result["warnings"]:
        print(f"warning: {line}", file=out)
