"""Frozen entry point of the ``energyopt`` command-line interface.

Sets the per-user numba and kernel caches before anything imports numba, and
keeps Python from writing ``__pycache__`` into the read-only install folder
(see ``entry_gui.py``).
"""

import multiprocessing
import sys

sys.dont_write_bytecode = True
# Worker processes of the parallel tuner re-run this executable (spawn).
multiprocessing.freeze_support()

from energyopt.runtime import configure_caches  # noqa: E402 - after the flag above

configure_caches()

from energyopt.cli import main  # noqa: E402 - after configure_caches

sys.exit(main())
