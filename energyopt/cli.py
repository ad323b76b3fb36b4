"""The ``energyopt`` command-line interface.

Each sub-command lives in its own module under :mod:`energyopt.commands` and
exposes ``register(subparsers)``, which adds its parser and sets
``func=run`` where ``run(args) -> int`` returns the exit status.  Command
modules import heavy dependencies (casadi, numba) inside ``run`` so that
``energyopt --help`` stays fast.

User-facing failures (:class:`~energyopt.errors.EnergyoptError`) are printed
as one clear message on stderr with exit status 2; ``--debug`` adds the
traceback.  Ctrl-C exits with status 130 after the operation has cleaned up.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence

from energyopt import __version__
from energyopt.errors import EnergyoptError
from energyopt.runtime import configure_caches

__all__ = ["COMMAND_MODULES", "build_parser", "main"]

#: Sub-command modules, in the order ``energyopt --help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "energyopt.commands.demo",
    "energyopt.commands.inspect",
    "energyopt.commands.import_csv",
    "energyopt.commands.check",
    "energyopt.commands.fit",
    "energyopt.commands.recommend",
    "energyopt.commands.replay",
    "energyopt.commands.report",
    "energyopt.commands.tune",
)

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level argument parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="energyopt",
        description=(
            "Multi-medium energy optimisation and process control for plants: "
            "inspect historian data, validate plant projects, fit models, replay "
            "history with a controller and get recommended setpoints."
        ),
        epilog="Run 'energyopt COMMAND --help' for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"energyopt {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback when a command fails"
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status (0 success, 2 user error, 130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_caches()
    if not hasattr(args, "func"):
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        status: int = args.func(args)
    except EnergyoptError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"energyopt: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("energyopt: interrupted; no partial output was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    return status


def console_main() -> None:  # pragma: no cover - thin wrapper for the console script
    """Entry point of the ``energyopt`` console script."""
    sys.exit(main())
