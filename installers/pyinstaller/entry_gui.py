"""Frozen entry point of ``energyopt-gui``.

Order matters: the numba cache and the generated-kernel folder must point to
the per-user cache before anything imports numba (numba reads
``NUMBA_CACHE_DIR`` once, at import), and the installed copy is read-only, so
Python must not try to write ``__pycache__`` beside the ``.py`` modules the
bundle ships for numba.
"""

import multiprocessing
import sys

sys.dont_write_bytecode = True
# Worker processes of the parallel tuner re-run this executable (spawn).
multiprocessing.freeze_support()

from energyopt.runtime import configure_caches  # noqa: E402 - after the flag above

configure_caches()

from gui.app import main  # noqa: E402 - after configure_caches

sys.exit(main())
