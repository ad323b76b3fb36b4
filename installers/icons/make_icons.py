"""Render energyopt.svg to the PNG (Linux) and ICO (Windows) icons.

    python installers/icons/make_icons.py

Qt's SVG renderer (QtSvg, already a dependency) draws each size; the ICO
holds PNG images, which Windows reads since Vista.  The ICO container is
written here by hand (a 6-byte header and a 16-byte entry per image) because
Qt writes ICO files only through an optional image-format plugin that
pyside6-essentials does not ship.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

HERE = Path(__file__).resolve().parent
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
PNG_SIZE = 256


def render_png(renderer: QSvgRenderer, size: int) -> bytes:
    """Return the PNG bytes of the icon drawn at ``size`` x ``size`` pixels."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """Pack PNG images into an ICO file (sizes up to 256; 0 in the entry means 256)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries, blobs = b"", b""
    for size, png in sorted(pngs.items()):
        side = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset)
        blobs += png
        offset += len(png)
    return header + entries + blobs


def main() -> int:
    """Write energyopt.png and energyopt.ico beside the SVG."""
    _app = QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(HERE / "energyopt.svg"))
    if not renderer.isValid():
        print("energyopt.svg is not a valid SVG", file=sys.stderr)
        return 1
    pngs = {size: render_png(renderer, size) for size in ICO_SIZES}
    (HERE / "energyopt.png").write_bytes(pngs[PNG_SIZE])
    (HERE / "energyopt.ico").write_bytes(ico_bytes(pngs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
