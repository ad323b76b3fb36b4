"""The application icons: the ICO container and the shipped files."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

INSTALLERS = Path(__file__).resolve().parents[2] / "installers"


@pytest.fixture(scope="module")
def make_icons(load_installer):
    return load_installer("icons/make_icons.py")


def _ico_entries(data: bytes) -> list[tuple[int, int, int]]:
    """(side, size, offset) of each image, read independently of ico_bytes."""
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1)
    entries = []
    for i in range(count):
        width, _h, _c, _r, _planes, _bits, size, offset = struct.unpack_from(
            "<BBBBHHII", data, 6 + 16 * i
        )
        entries.append((width or 256, size, offset))
    return entries


def test_ico_container_points_at_each_png(make_icons):
    pngs = {16: b"\x89PNG-small", 256: b"\x89PNG-large-image"}
    data = make_icons.ico_bytes(pngs)
    entries = _ico_entries(data)
    assert [side for side, _, _ in entries] == [16, 256]
    for (side, size, offset), png in zip(entries, (pngs[16], pngs[256]), strict=True):
        assert data[offset : offset + size] == png, side
    assert len(data) == 6 + 16 * 2 + sum(map(len, pngs.values()))


def test_shipped_icons_are_current_sizes():
    ico = (INSTALLERS / "icons" / "energyopt.ico").read_bytes()
    sides = [side for side, _, _ in _ico_entries(ico)]
    assert {16, 32, 48, 256} <= set(sides)
    png = (INSTALLERS / "icons" / "energyopt.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])  # IHDR
    assert (width, height) == (256, 256)
