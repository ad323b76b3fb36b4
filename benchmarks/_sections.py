"""Shared driver of the sectioned benchmarks (``bench_controllers.py``, ``bench_workflows.py``).

A section is a module beside the driver with a function returning a dict of
figures; its ``"checks"`` entry maps each target to whether it was met.  The
driver runs the selected sections in one process (so every comparison is made
within one run on this shared machine), prints a PASS/FAIL line per target and
optionally writes all figures to a JSON file.
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

#: Section name -> (module beside the driver, function name).
Sections = Mapping[str, tuple[str, str]]


def run_section(module_name: str, func_name: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Import a section module, call its function and time it.

    A module with a ``section_report(result)`` function prints its figures with it
    (the same table its own command line prints), so one run of a driver
    shows every section's figures beside the PASS/FAIL lines.
    """
    module = importlib.import_module(module_name)
    func = getattr(module, func_name)
    start = time.perf_counter()
    result = func(**kwargs)
    result = dict(result) if isinstance(result, dict) else {"result": result}
    result.setdefault("section_wall_s", time.perf_counter() - start)
    report = getattr(module, "section_report", None)
    if callable(report):
        report(result)
    return result


def main(
    description: str,
    sections: Sections,
    argv: Sequence[str] | None = None,
    *,
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
    section_kwargs: Callable[[str, argparse.Namespace], dict[str, Any]] | None = None,
) -> int:
    """Parse ``--only``/``--json`` (plus the driver's own options), run the sections, report.

    Parameters
    ----------
    description : str
        The driver's one-line description (``--help``).
    sections : mapping
        Section name -> (module, function).
    argv : sequence of str, optional
        Command line (default ``sys.argv[1:]``).
    add_arguments : callable, optional
        Adds the driver's own options to the parser.
    section_kwargs : callable, optional
        ``(section, args) -> kwargs`` of that section's function.

    Returns
    -------
    int
        0: a missed target is a finding to report, not a crash, so ``make
        bench`` runs every benchmark; the PASS/FAIL lines carry the verdict.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--only", default=",".join(sections), help="comma-separated sections")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in sections]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {list(sections)}")
    results: dict[str, Any] = {}
    summary: list[tuple[str, str, bool]] = []
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        kwargs = section_kwargs(name, args) if section_kwargs is not None else {}
        results[name] = run_section(*sections[name], kwargs)
        checks = results[name].get("checks", {})
        summary += [(name, str(check), bool(ok)) for check, ok in checks.items()]
    print("\n=== targets ===")
    for section, check, ok in summary:
        print(f"{'PASS' if ok else 'FAIL'}  {section}: {check}")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    return 0
