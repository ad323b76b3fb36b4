"""Shared pytest configuration.

Qt must run offscreen in tests: the platform is chosen when Qt is first
imported, so the variable is set here, before any test module imports gui.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests run on 2 shared cores: multi-threaded BLAS on small matrices is slower
# than one thread and makes timings erratic (a 1458x126 QR took 5 ms with one
# thread and up to 1.9 s with two on a loaded machine).
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# Numba's on-disk cache goes to a per-run folder so tests never depend on a
# stale cache from another checkout.
os.environ.setdefault(
    "NUMBA_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".numba_cache")
)


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes (used to prove inputs stay unchanged)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@pytest.fixture
def checksum():
    """Fixture returning :func:`sha256_of`."""
    return sha256_of
