"""Process set-up shared by every entry point (CLI, GUI, frozen app).

numba reads ``NUMBA_CACHE_DIR`` when it is first imported, and the generated
model kernels (:mod:`plant_models.core.codegen`) are written to
``ENERGYOPT_KERNEL_DIR``: both must point to a writable per-user folder before
any model is compiled, or a frozen app without a writable working directory
recompiles every time or fails.  :func:`configure_caches` sets them from
platformdirs unless the user (or a test) already did.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["APP_NAME", "configure_caches", "user_cache_dir"]

APP_NAME = "energyopt"


def user_cache_dir() -> Path:
    """Return the per-user cache folder of energyopt (platformdirs)."""
    from platformdirs import user_cache_path

    return user_cache_path(APP_NAME, appauthor=False)


def configure_caches() -> dict[str, str]:
    """Point numba's cache and the generated-kernel folder to the user cache.

    Variables already set are kept.  Returns the values in force.
    """
    from plant_models.core.codegen import KERNEL_DIR_ENV

    root = user_cache_dir()
    os.environ.setdefault("NUMBA_CACHE_DIR", str(root / "numba"))
    os.environ.setdefault(KERNEL_DIR_ENV, str(root / "kernels"))
    return {name: os.environ[name] for name in ("NUMBA_CACHE_DIR", KERNEL_DIR_ENV)}
