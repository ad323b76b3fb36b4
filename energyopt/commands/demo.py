"""``energyopt demo``: write a built-in demo project and a recorded history."""

from __future__ import annotations

import argparse
from pathlib import Path

from energyopt.demos import DEMO_PLANTS

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` sub-command.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The CLI's sub-parser collection.
    """
    parser = subparsers.add_parser(
        "demo",
        help="write a built-in demo plant project and its recorded history",
        description=(
            "Write DIR/plant.toml (a built-in demo plant project) and DIR/history.h5 "
            "(a recorded history of every tag the project binds, sampled every minute, "
            "simulated by the plant's truth model -- parameters differing from the "
            "project's -- under today's rule-based operation, with sensor noise and "
            "deliberate gaps, a frozen sensor, a spike and NaN samples for the "
            "data-quality checks). The same seed gives the same files."
        ),
    )
    parser.add_argument("--plant", choices=DEMO_PLANTS, default="steelworks", help="demo plant")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    parser.add_argument("--days", type=float, default=7.0, help="length of history [d] (7)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--force", action="store_true", help="replace existing files in DIR")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the demo project and history; return the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of the ``demo`` sub-command.
    """
    from energyopt.demos import demo_project_text
    from energyopt.demos.history import write_demo_history
    from energyopt.errors import OutputError
    from energyopt.fileio import atomic_output
    from energyopt.project import load_project

    if args.days <= 0 or args.days > 3660:
        raise OutputError(f"--days must be between 0 and 3660, got {args.days:g}")
    out: Path = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create output folder: {exc.strerror}") from exc
    project_path = out / "plant.toml"
    with atomic_output(project_path, overwrite=args.force) as tmp:
        tmp.write_text(demo_project_text(args.plant), encoding="utf-8")
    project = load_project(project_path)
    history_path = out / "history.h5"
    if args.plant == "datadriven":
        from energyopt.demos.datadriven_history import write_datadriven_history

        n_samples = max(round(args.days * 1440.0), 2)
        write_datadriven_history(history_path, n_samples, seed=args.seed, overwrite=args.force)
        print(f"wrote {project_path}")
        print(
            f"wrote {history_path}: {len(project.bindings)} tags, {n_samples} samples at 1 min "
            "(identify its units with 'energyopt fit' before running a controller)"
        )
        return 0
    defects = write_demo_history(
        project, args.plant, history_path, days=args.days, seed=args.seed, overwrite=args.force
    )
    print(f"wrote {project_path}")
    print(
        f"wrote {history_path}: {len(project.bindings)} tags, {args.days:g} days at 1 min; "
        f"injected {len(defects.gaps_ms)} gaps, frozen {defects.frozen_tag}, "
        f"spike in {defects.spike_tag}, {defects.nan_count} NaN samples in {defects.nan_tag}"
    )
    return 0
