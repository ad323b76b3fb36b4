"""The Qt binding in use keeps Python's reference counts intact.

PySide6 6.12.0 drops one reference to ``None`` on every wrapped call that
returns nothing; on CPython 3.11 (no immortal objects) the interpreter aborts
with "deallocating None" after a few thousand calls.  pyproject.toml excludes
it; this test fails if such a build is installed again.
"""

from __future__ import annotations

import sys

import pytest

pytest.importorskip("PySide6")

pytestmark = pytest.mark.gui


def test_void_calls_do_not_steal_references_to_none(qtbot) -> None:
    from PySide6.QtCore import QRectF
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    qtbot.addWidget(label)
    rect = QRectF(0.0, 0.0, 1.0, 1.0)
    before = sys.getrefcount(None)
    for _ in range(1000):
        label.setText("x")
        rect.setWidth(2.0)
    # 2000 calls: a leaking build loses 2000 references; unrelated interpreter
    # activity moves the count by a few at most.
    assert abs(sys.getrefcount(None) - before) < 100
