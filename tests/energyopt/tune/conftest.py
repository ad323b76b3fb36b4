"""Fixtures of the tune tests (shared helpers are in ``tune_helpers``).

The tune's worker processes import the test evaluate functions as
``tests.energyopt.tune.tune_helpers``; spawned workers inherit ``sys.path``,
so the repository root is put on it here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tune_helpers import write_case  # noqa: E402 - needs the path above


@pytest.fixture
def case(tmp_path):
    """(project path, data path) of a fresh tune case."""
    return write_case(tmp_path / "case")
