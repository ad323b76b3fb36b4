"""Allow ``python -m energyopt``."""

from energyopt.cli import console_main

console_main()
